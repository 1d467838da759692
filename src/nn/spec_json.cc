// ModelSpecFromJson / ModelSpecToJson (edgeloop/nn/spec_json.h).
#include "edgeloop/nn/spec_json.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace edgeloop::nn {
namespace {

using Json = nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  return s;
}

bool LayerTypeFromName(const std::string& raw, LayerType* t) {
  static const std::map<std::string, LayerType> kNames = {
      {"conv1d", LayerType::kConv1D},
      {"convolution1d", LayerType::kConv1D},
      {"maxpool1d", LayerType::kMaxPool1D},
      {"maxpooling1d", LayerType::kMaxPool1D},
      {"averagepool1d", LayerType::kAveragePool1D},
      {"averagepooling1d", LayerType::kAveragePool1D},
      {"avgpool1d", LayerType::kAveragePool1D},
      {"globalaveragepool1d", LayerType::kGlobalAveragePool1D},
      {"globalaveragepooling1d", LayerType::kGlobalAveragePool1D},
      {"dense", LayerType::kDense},
      {"dropout", LayerType::kDropout},
      {"flatten", LayerType::kFlatten},
      {"batchnorm", LayerType::kBatchNorm},
      {"batchnormalization", LayerType::kBatchNorm},
      {"relu", LayerType::kReLU},
      {"relu6", LayerType::kReLU6},
      {"softmax", LayerType::kSoftmax},
  };
  auto it = kNames.find(Lower(raw));
  if (it == kNames.end()) return false;
  *t = it->second;
  return true;
}

// Reads one layer object; `where` is "name: layers[i]".
Result<LayerSpec> ParseLayer(const Json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + ": must be an object");
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    return Status::InvalidArgument(where + ": needs \"type\" (conv1d, maxpool1d, dense, ...)");
  }
  LayerSpec l;
  if (!LayerTypeFromName(type_it->get<std::string>(), &l.type)) {
    return Status::InvalidArgument(where + ": type: unknown layer '" + type_it->get<std::string>() +
                                   "' (conv1d, maxpool1d, averagepool1d, globalaveragepool1d, dense, dropout, "
                                   "flatten, batchnorm, relu, relu6, softmax)");
  }
  const std::string at = where + " (" + LayerTypeName(l.type) + ")";
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::InvalidArgument(at + ": " + key + ": " + why);
  };
  auto get_int = [&](const std::string& key, const Json& v, int* out) -> Status {
    // Keras writes sizes as 1-element lists: [3].
    const Json& x = v.is_array() && v.size() == 1 ? v[0] : v;
    if (!x.is_number_integer()) return bad(key, "must be an integer, got " + v.dump());
    const int64_t n = x.get<int64_t>();
    if (n < -1'000'000 || n > 1'000'000) return bad(key, "out of range");
    *out = static_cast<int>(n);
    return Status::Ok();
  };
  auto get_float = [&](const std::string& key, const Json& v, float* out) -> Status {
    if (!v.is_number()) return bad(key, "must be a number, got " + v.dump());
    *out = v.get<float>();
    return Status::Ok();
  };
  const bool conv = l.type == LayerType::kConv1D, dense = l.type == LayerType::kDense;
  const bool pool = l.type == LayerType::kMaxPool1D || l.type == LayerType::kAveragePool1D;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "type" || key == "name") continue;
    if (conv && key == "filters") {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.filters));
    } else if (conv && (key == "kernel_size" || key == "kernel")) {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.kernel));
    } else if ((conv || pool) && (key == "strides" || key == "stride")) {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.stride));
    } else if (conv && (key == "dilation_rate" || key == "dilation")) {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.dilation));
    } else if (pool && (key == "pool_size" || key == "pool")) {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.pool));
    } else if ((conv || pool) && key == "padding") {
      const std::string p = v.is_string() ? Lower(v.get<std::string>()) : "";
      if (p == "same") {
        l.padding = Padding::kSame;
      } else if (p == "valid") {
        l.padding = Padding::kValid;
      } else {
        return bad(key, "must be \"same\" or \"valid\", got " + v.dump());
      }
    } else if (dense && key == "units") {
      EL_RETURN_IF_ERROR(get_int(key, v, &l.units));
      if (l.units < 1) return bad(key, "must be >= 1");
    } else if ((conv || dense) && key == "activation") {
      const std::string a = v.is_null() ? "none" : v.is_string() ? Lower(v.get<std::string>()) : "?";
      if (a == "none" || a == "linear") {
        l.activation = Activation::kNone;
      } else if (a == "relu") {
        l.activation = Activation::kReLU;
      } else if (a == "relu6") {
        l.activation = Activation::kReLU6;
      } else if (a == "softmax") {
        l.activation = Activation::kSoftmax;
      } else {
        return bad(key, "must be none, linear, relu, relu6 or softmax, got " + v.dump());
      }
    } else if ((conv || dense) && key == "use_bias") {
      if (!v.is_boolean()) return bad(key, "must be true or false");
      l.use_bias = v.get<bool>();
    } else if (l.type == LayerType::kDropout && key == "rate") {
      EL_RETURN_IF_ERROR(get_float(key, v, &l.rate));
    } else if (l.type == LayerType::kBatchNorm && key == "momentum") {
      EL_RETURN_IF_ERROR(get_float(key, v, &l.momentum));
    } else if (l.type == LayerType::kBatchNorm && key == "epsilon") {
      EL_RETURN_IF_ERROR(get_float(key, v, &l.epsilon));
    } else {
      return Status::InvalidArgument(at + ": unknown key '" + key + "'");
    }
  }
  if (conv && l.filters == 0) return bad("filters", "missing");
  if (conv && l.kernel == 0) return bad("kernel_size", "missing");
  if (l.type == LayerType::kDropout && !(l.rate >= 0 && l.rate < 1)) return bad("rate", "must be in [0, 1)");
  return l;
}

}  // namespace

Result<ModelSpec> ModelSpecFromJson(std::string_view text, const std::string& name) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(name + ": not valid JSON");
  ModelSpec spec;
  spec.length = 0;
  spec.channels = 0;
  const Json* layers = &j;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "input" && it.key() != "layers" && it.key() != "name") {
        return Status::InvalidArgument(name + ": unknown key '" + it.key() + "' (expected input, layers)");
      }
    }
    auto in = j.find("input");
    if (in != j.end()) {
      if (!in->is_object()) return Status::InvalidArgument(name + ": input: must be an object {length, channels}");
      for (auto it = in->begin(); it != in->end(); ++it) {
        if ((it.key() != "length" && it.key() != "channels") || !it.value().is_number_integer() ||
            it.value().get<int64_t>() < 1 || it.value().get<int64_t>() > 1'000'000) {
          return Status::InvalidArgument(name + ": input." + it.key() +
                                         ": expected length or channels as a positive integer");
        }
        (it.key() == "length" ? spec.length : spec.channels) = it.value().get<int>();
      }
    }
    auto l = j.find("layers");
    if (l == j.end()) return Status::InvalidArgument(name + ": needs \"layers\": [...]");
    layers = &*l;
  }
  if (!layers->is_array()) return Status::InvalidArgument(name + ": layers: must be a list");
  if (layers->empty()) return Status::InvalidArgument(name + ": layers: empty");
  for (size_t i = 0; i < layers->size(); ++i) {
    EL_ASSIGN_OR_RETURN(LayerSpec l, ParseLayer((*layers)[i], name + ": layers[" + std::to_string(i) + "]"));
    spec.layers.push_back(l);
  }
  return spec;
}

std::string ModelSpecToJson(const ModelSpec& spec) {
  Json layers = Json::array();
  for (const LayerSpec& l : spec.layers) {
    Json o;
    o["type"] = LayerTypeName(l.type);
    switch (l.type) {
      case LayerType::kConv1D:
        o["filters"] = l.filters;
        o["kernel_size"] = l.kernel;
        if (l.stride > 0) o["strides"] = l.stride;  // 0: not given (the default)
        o["dilation_rate"] = l.dilation;
        o["padding"] = l.padding == Padding::kSame ? "same" : "valid";
        o["activation"] = ActivationName(l.activation);
        o["use_bias"] = l.use_bias;
        break;
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D:
        o["pool_size"] = l.pool;
        if (l.stride > 0) o["strides"] = l.stride;  // 0: not given (= pool_size)
        o["padding"] = l.padding == Padding::kSame ? "same" : "valid";
        break;
      case LayerType::kDense:
        if (l.units > 0) o["units"] = l.units;  // 0: not given (the last dense: the class count)
        o["activation"] = ActivationName(l.activation);
        o["use_bias"] = l.use_bias;
        break;
      case LayerType::kDropout:
        o["rate"] = l.rate;
        break;
      case LayerType::kBatchNorm:
        o["momentum"] = l.momentum;
        o["epsilon"] = l.epsilon;
        break;
      default:
        break;
    }
    layers.push_back(std::move(o));
  }
  Json j;
  // 0: not given (the data supplies it), so it is left out rather than written as 0, which the
  // reader refuses; with neither given, the spec is the bare layer list's object form.
  Json input = Json::object();
  if (spec.length > 0) input["length"] = spec.length;
  if (spec.channels > 0) input["channels"] = spec.channels;
  if (!input.empty()) j["input"] = std::move(input);
  j["layers"] = std::move(layers);
  return j.dump();
}

}  // namespace edgeloop::nn
