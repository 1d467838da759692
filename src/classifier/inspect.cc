#include "edgeloop/classifier/inspect.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>
#include <variant>

#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/tflite/io.h"

namespace edgeloop::classifier {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string Num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
std::string Ints(const std::vector<int32_t>& v) { return tflite::ShapeToString(v); }
std::string Bool(bool b) { return b ? "true" : "false"; }

Fields OptionFields(const tflite::OpOptions& options) {
  return std::visit(
      [](const auto& o) -> Fields {
        using T = std::decay_t<decltype(o)>;
        using namespace tflite;  // NOLINT: the option structs and name helpers
        if constexpr (std::is_same_v<T, Conv2DOptions>) {
          return {{"padding", PaddingName(o.padding)}, {"stride", Num(o.stride_h) + "x" + Num(o.stride_w)},
                  {"dilation", Num(o.dilation_h) + "x" + Num(o.dilation_w)}, {"activation", ActivationName(o.activation)}};
        } else if constexpr (std::is_same_v<T, DepthwiseConv2DOptions>) {
          return {{"padding", PaddingName(o.padding)}, {"stride", Num(o.stride_h) + "x" + Num(o.stride_w)},
                  {"depth_multiplier", Num(o.depth_multiplier)},
                  {"dilation", Num(o.dilation_h) + "x" + Num(o.dilation_w)}, {"activation", ActivationName(o.activation)}};
        } else if constexpr (std::is_same_v<T, Pool2DOptions>) {
          return {{"padding", PaddingName(o.padding)}, {"stride", Num(o.stride_h) + "x" + Num(o.stride_w)},
                  {"filter", Num(o.filter_h) + "x" + Num(o.filter_w)}, {"activation", ActivationName(o.activation)}};
        } else if constexpr (std::is_same_v<T, FullyConnectedOptions>) {
          return {{"activation", ActivationName(o.activation)}, {"keep_num_dims", Bool(o.keep_num_dims)},
                  {"asymmetric_quantize_inputs", Bool(o.asymmetric_quantize_inputs)}};
        } else if constexpr (std::is_same_v<T, SoftmaxOptions>) {
          return {{"beta", Num(o.beta)}};
        } else if constexpr (std::is_same_v<T, AddOptions>) {
          return {{"activation", ActivationName(o.activation)}};
        } else if constexpr (std::is_same_v<T, ReshapeOptions>) {
          return {{"new_shape", Ints(o.new_shape)}};
        } else if constexpr (std::is_same_v<T, SqueezeOptions>) {
          return {{"squeeze_dims", Ints(o.squeeze_dims)}};
        } else if constexpr (std::is_same_v<T, StridedSliceOptions>) {
          return {{"begin_mask", Num(o.begin_mask)}, {"end_mask", Num(o.end_mask)},
                  {"ellipsis_mask", Num(o.ellipsis_mask)}, {"new_axis_mask", Num(o.new_axis_mask)},
                  {"shrink_axis_mask", Num(o.shrink_axis_mask)}};
        } else if constexpr (std::is_same_v<T, PackOptions>) {
          return {{"values_count", Num(o.values_count)}, {"axis", Num(o.axis)}};
        } else if constexpr (std::is_same_v<T, ShapeOptions>) {
          return {{"out_type", TensorTypeName(o.out_type)}};
        } else if constexpr (std::is_same_v<T, ReducerOptions>) {
          return {{"keep_dims", Bool(o.keep_dims)}};
        } else if constexpr (std::is_same_v<T, ConcatenationOptions>) {
          return {{"axis", Num(o.axis)}, {"activation", ActivationName(o.activation)}};
        } else {
          return {};
        }
      },
      options);
}

bool Printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

Result<ModelReport> InspectModel(std::span<const uint8_t> model) {
  EL_ASSIGN_OR_RETURN(tflite::Graph g, tflite::ReadModel(model));
  ModelReport r;
  r.schema_version = g.schema_version;
  r.description = g.description;
  r.subgraph_name = g.subgraph_name;
  r.inputs = g.inputs;
  r.outputs = g.outputs;
  r.metadata = g.metadata;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const tflite::Tensor& t = g.tensors[i];
    TensorReport tr;
    tr.index = static_cast<int>(i);
    tr.name = t.name;
    tr.type = tflite::TensorTypeName(t.type);
    tr.shape = t.shape;
    tr.shape_signature = t.shape_signature;
    tr.bytes = static_cast<size_t>(tflite::NumElements(t.shape)) * tflite::TensorTypeSize(t.type);
    tr.constant = t.is_constant();
    tr.scale = t.quant.scale;
    tr.zero_point = t.quant.zero_point;
    tr.quantized_dimension = t.quant.quantized_dimension;
    if (t.is_constant()) r.parameter_bytes += t.data.size();
    r.tensors.push_back(std::move(tr));
  }
  // The kernels and arena of this machine's best level (EDGELOOP_KERNELS pins another): optimized
  // kernels add scratch (patch rows) to the arena, so this is what the runtime really allocates.
  auto interp = runtime::Interpreter::Create(g, runtime::InterpreterOptions{});
  if (interp.ok()) {
    r.arena_bytes = (*interp)->arena_bytes();
  } else {
    r.runtime_error = interp.status().ToString();
  }
  for (size_t i = 0; i < g.operators.size(); ++i) {
    const tflite::Operator& op = g.operators[i];
    OperatorReport o;
    o.index = static_cast<int>(i);
    o.opcode = tflite::BuiltinOpName(op.op);
    o.version = op.version;
    o.inputs = op.inputs;
    o.outputs = op.outputs;
    o.options = OptionFields(op.options);
    if (interp.ok()) o.kernel = (*interp)->kernel_name(i);
    r.operators.push_back(std::move(o));
  }
  return r;
}

std::string ModelReportText(const ModelReport& r) {
  std::ostringstream os;
  os << "schema version " << r.schema_version;
  if (!r.description.empty()) os << ", description '" << r.description << "'";
  os << "\n\noperators (" << r.operators.size() << "):\n";
  for (const OperatorReport& o : r.operators) {
    os << "  " << o.index << "  " << o.opcode << " v" << o.version << "  in " << Ints(o.inputs) << " out "
       << Ints(o.outputs);
    for (const auto& [k, v] : o.options) os << "  " << k << "=" << v;
    if (!o.kernel.empty()) os << "  [" << o.kernel << "]";
    os << "\n";
  }
  os << "\ntensors (" << r.tensors.size() << "):\n";
  for (const TensorReport& t : r.tensors) {
    os << "  " << t.index << "  " << t.name << "  " << t.type << " " << Ints(t.shape);
    if (!t.shape_signature.empty() && t.shape_signature != t.shape) os << " signature " << Ints(t.shape_signature);
    os << "  " << t.bytes << " bytes" << (t.constant ? " const" : "");
    if (t.scale.size() == 1) {
      os << "  scale " << t.scale[0] << " zero_point " << t.zero_point[0];
    } else if (!t.scale.empty()) {
      os << "  per-channel (" << t.scale.size() << " scales, dimension " << t.quantized_dimension << ")";
    }
    os << "\n";
  }
  os << "\ninputs " << Ints(r.inputs) << "  outputs " << Ints(r.outputs) << "\n";
  os << "parameters " << r.parameter_bytes << " bytes, arena " << r.arena_bytes << " bytes\n";
  if (!r.runtime_error.empty()) os << "runtime: cannot run this model: " << r.runtime_error << "\n";
  for (const auto& [name, value] : r.metadata) {
    os << "\nmetadata '" << name << "': ";
    if (Printable(value)) {
      os << value << "\n";
    } else {
      os << value.size() << " bytes (binary)\n";
    }
  }
  return os.str();
}

std::string ModelReportJson(const ModelReport& r) {
  using nlohmann::json;
  json j;
  j["schema_version"] = r.schema_version;
  j["description"] = r.description;
  j["operators"] = json::array();
  for (const OperatorReport& o : r.operators) {
    json options = json::object();
    for (const auto& [k, v] : o.options) options[k] = v;
    j["operators"].push_back({{"index", o.index}, {"opcode", o.opcode}, {"version", o.version}, {"inputs", o.inputs},
                              {"outputs", o.outputs}, {"options", options},
                              {"kernel", o.kernel.empty() ? json(nullptr) : json(o.kernel)}});
  }
  j["tensors"] = json::array();
  for (const TensorReport& t : r.tensors) {
    json q = nullptr;
    if (!t.scale.empty()) {
      q = {{"scale", t.scale}, {"zero_point", t.zero_point}, {"quantized_dimension", t.quantized_dimension}};
    }
    j["tensors"].push_back({{"index", t.index}, {"name", t.name}, {"type", t.type}, {"shape", t.shape},
                            {"shape_signature", t.shape_signature}, {"bytes", t.bytes}, {"constant", t.constant},
                            {"quantization", q}});
  }
  j["inputs"] = r.inputs;
  j["outputs"] = r.outputs;
  j["metadata"] = json::object();
  json edgeloop = nullptr;
  for (const auto& [name, value] : r.metadata) {
    j["metadata"][name] = Printable(value) ? json(value) : json("(" + std::to_string(value.size()) + " bytes)");
    if (name == "edgeloop") {
      json parsed = json::parse(value, nullptr, false);
      if (!parsed.is_discarded()) edgeloop = parsed;
    }
  }
  j["edgeloop_metadata"] = edgeloop;
  j["parameter_bytes"] = r.parameter_bytes;
  j["arena_bytes"] = r.arena_bytes;
  j["runtime_error"] = r.runtime_error.empty() ? json(nullptr) : json(r.runtime_error);
  // Names and metadata come from the file: replace invalid UTF-8 instead of failing.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace edgeloop::classifier
