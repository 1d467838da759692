#include "edgeloop/nn/spec.h"

#include <algorithm>

namespace edgeloop::nn {

const char* LayerTypeName(LayerType t) {
  switch (t) {
    case LayerType::kConv1D: return "conv1d";
    case LayerType::kMaxPool1D: return "maxpool1d";
    case LayerType::kAveragePool1D: return "averagepool1d";
    case LayerType::kGlobalAveragePool1D: return "globalaveragepool1d";
    case LayerType::kDense: return "dense";
    case LayerType::kDropout: return "dropout";
    case LayerType::kFlatten: return "flatten";
    case LayerType::kBatchNorm: return "batchnorm";
    case LayerType::kReLU: return "relu";
    case LayerType::kReLU6: return "relu6";
    case LayerType::kSoftmax: return "softmax";
  }
  return "?";
}

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kReLU: return "relu";
    case Activation::kReLU6: return "relu6";
    case Activation::kSoftmax: return "softmax";
  }
  return "?";
}

std::string ShapeToString(const Shape& s) {
  std::string out(1, '[');
  if (!s.flat) out.append(std::to_string(s.length)).append(", ");
  out.append(std::to_string(s.channels)).append("]");
  return out;
}

int OutputLength(int length, int kernel, int stride, int dilation, Padding padding) {
  if (stride <= 0) return 0;
  if (padding == Padding::kSame) return (length + stride - 1) / stride;
  const int effective = (kernel - 1) * dilation + 1;
  if (length < effective) return 0;
  return (length - effective + stride) / stride;
}

int PadBefore(int length, int kernel, int stride, int dilation, Padding padding) {
  if (padding == Padding::kValid) return 0;
  const int out = OutputLength(length, kernel, stride, dilation, padding);
  const int total = std::max((out - 1) * stride + (kernel - 1) * dilation + 1 - length, 0);
  return total / 2;
}

Result<std::vector<Shape>> ResolveSpec(ModelSpec* spec, int num_classes) {
  if (spec->length <= 0 || spec->length > (1 << 20)) {
    return Status::InvalidArgument("model input: length " + std::to_string(spec->length) + " must be in [1, 1048576]");
  }
  if (spec->channels <= 0 || spec->channels > 4096) {
    return Status::InvalidArgument("model input: channels " + std::to_string(spec->channels) + " must be in [1, 4096]");
  }
  if (num_classes < 2) return Status::InvalidArgument("model: need at least 2 classes");
  if (spec->layers.empty()) return Status::InvalidArgument("model: no layers");
  // The last dense layer may leave `units` to the data.
  int last_dense = -1;
  for (size_t i = 0; i < spec->layers.size(); ++i) {
    if (spec->layers[i].type == LayerType::kDense) last_dense = static_cast<int>(i);
  }
  std::vector<Shape> shapes;
  Shape s{spec->length, spec->channels, false};
  constexpr int64_t kMaxSize = int64_t{1} << 26;
  for (size_t i = 0; i < spec->layers.size(); ++i) {
    LayerSpec& l = spec->layers[i];
    const std::string where = "layer " + std::to_string(i) + " (" + LayerTypeName(l.type) + "): ";
    auto bad = [&](const std::string& field, const std::string& why) {
      return Status::InvalidArgument(where + field + ": " + why);
    };
    auto need_sequence = [&]() -> Status {
      if (s.flat) {
        return Status::InvalidArgument(where + "needs a sequence input [length, channels], got " + ShapeToString(s));
      }
      return Status::Ok();
    };
    switch (l.type) {
      case LayerType::kConv1D: {
        EL_RETURN_IF_ERROR(need_sequence());
        if (l.filters < 1 || l.filters > 4096) return bad("filters", "must be in [1, 4096]");
        if (l.kernel < 1 || l.kernel > 1024) return bad("kernel", "must be in [1, 1024]");
        if (l.stride == 0) l.stride = 1;
        if (l.stride < 1 || l.stride > 1024) return bad("stride", "must be in [1, 1024]");
        if (l.dilation < 1 || l.dilation > 1024) return bad("dilation", "must be in [1, 1024]");
        if (l.stride > 1 && l.dilation > 1) return bad("dilation", "stride and dilation cannot both be > 1 (as Keras)");
        if (l.activation == Activation::kSoftmax && i + 1 != spec->layers.size()) {
          return bad("activation", "softmax is only allowed on the last layer");
        }
        const int out = OutputLength(s.length, l.kernel, l.stride, l.dilation, l.padding);
        if (out <= 0) {
          return Status::InvalidArgument(where + "input length " + std::to_string(s.length) +
                                         " is shorter than the dilated kernel");
        }
        s = Shape{out, l.filters, false};
        break;
      }
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D: {
        EL_RETURN_IF_ERROR(need_sequence());
        if (l.pool < 1 || l.pool > 1024) return bad("pool", "must be in [1, 1024]");
        if (l.stride == 0) l.stride = l.pool;
        if (l.stride < 1 || l.stride > 1024) return bad("stride", "must be in [1, 1024]");
        l.dilation = 1;
        const int out = OutputLength(s.length, l.pool, l.stride, 1, l.padding);
        if (out <= 0) {
          return Status::InvalidArgument(where + "input length " + std::to_string(s.length) +
                                         " is shorter than the pool");
        }
        s.length = out;
        break;
      }
      case LayerType::kGlobalAveragePool1D:
        EL_RETURN_IF_ERROR(need_sequence());
        s = Shape{1, s.channels, true};
        break;
      case LayerType::kFlatten:
        s = Shape{1, s.size(), true};
        break;
      case LayerType::kDense:
        if (!s.flat) {
          return Status::InvalidArgument(where + "needs a vector input; add flatten or globalaveragepool1d before it (input is " +
                                         ShapeToString(s) + ")");
        }
        if (l.units == 0 && static_cast<int>(i) == last_dense) l.units = num_classes;
        if (l.units < 1 || l.units > 65536) return bad("units", "must be in [1, 65536]");
        if (l.activation == Activation::kSoftmax && i + 1 != spec->layers.size()) {
          return bad("activation", "softmax is only allowed on the last layer");
        }
        s = Shape{1, l.units, true};
        break;
      case LayerType::kDropout:
        if (!(l.rate >= 0 && l.rate < 1)) return bad("rate", "must be in [0, 1)");
        break;
      case LayerType::kBatchNorm: {
        const LayerSpec* prev = i > 0 ? &spec->layers[i - 1] : nullptr;
        if (prev == nullptr || (prev->type != LayerType::kConv1D && prev->type != LayerType::kDense) ||
            prev->activation != Activation::kNone) {
          return Status::InvalidArgument(where +
                                         "must directly follow a conv1d or dense layer without activation (it is "
                                         "folded into that layer on export); put the activation after it as a "
                                         "relu layer");
        }
        if (!(l.momentum >= 0 && l.momentum < 1)) return bad("momentum", "must be in [0, 1)");
        if (!(l.epsilon > 0 && l.epsilon < 1)) return bad("epsilon", "must be in (0, 1)");
        break;
      }
      case LayerType::kReLU:
      case LayerType::kReLU6:
        break;
      case LayerType::kSoftmax:
        if (i + 1 != spec->layers.size()) {
          return Status::InvalidArgument(where + "softmax is only allowed as the last layer");
        }
        break;
    }
    if (static_cast<int64_t>(s.length) * s.channels > kMaxSize) {
      return Status::InvalidArgument(where + "output " + ShapeToString(s) + " is too large");
    }
    shapes.push_back(s);
  }
  const LayerSpec& last = spec->layers.back();
  const bool ends_softmax = last.type == LayerType::kSoftmax ||
                            ((last.type == LayerType::kDense || last.type == LayerType::kConv1D) &&
                             last.activation == Activation::kSoftmax);
  const std::string last_where =
      "layer " + std::to_string(spec->layers.size() - 1) + " (" + LayerTypeName(last.type) + "): ";
  if (!ends_softmax) {
    return Status::InvalidArgument(last_where +
                                   "the model must end with softmax (a softmax layer, or \"activation\": \"softmax\")");
  }
  if (!s.flat || s.channels != num_classes) {
    return Status::InvalidArgument(last_where + "the output is " + ShapeToString(s) + " but the data has " +
                                   std::to_string(num_classes) + " classes; the model must end with [" +
                                   std::to_string(num_classes) + "]");
  }
  return shapes;
}

ModelSpec DefaultModelSpec(int length, int channels) {
  ModelSpec m;
  m.length = length;
  m.channels = channels;
  LayerSpec conv1;
  conv1.type = LayerType::kConv1D;
  conv1.filters = 16;
  conv1.kernel = 3;
  conv1.activation = Activation::kReLU;
  conv1.padding = Padding::kSame;
  LayerSpec pool;
  pool.type = LayerType::kMaxPool1D;
  pool.pool = 2;
  LayerSpec conv2 = conv1;
  conv2.filters = 32;
  LayerSpec flatten;
  flatten.type = LayerType::kFlatten;
  LayerSpec dense1;
  dense1.type = LayerType::kDense;
  dense1.units = 64;
  dense1.activation = Activation::kReLU;
  LayerSpec dropout;
  dropout.type = LayerType::kDropout;
  dropout.rate = 0.3f;
  LayerSpec dense2;
  dense2.type = LayerType::kDense;
  dense2.units = 0;  // the number of classes
  dense2.activation = Activation::kSoftmax;
  m.layers = {conv1, pool, conv2, pool, flatten, dense1, dropout, dense2};
  return m;
}

}  // namespace edgeloop::nn
