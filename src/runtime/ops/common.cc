#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernels/quant_math.h"
#include "runtime/ops/ops.h"

namespace edgeloop::runtime {

using tflite::Activation;
using tflite::TensorType;

Status OpError(const Node& node, const std::string& message) {
  return Status::InvalidArgument(node.label + ": " + message);
}

Status ExpectType(const Node& node, const RtTensor& t, TensorType type, const char* role) {
  if (t.type == type) return Status::Ok();
  return OpError(node, std::string(role) + " " + t.label() + " is " + tflite::TensorTypeName(t.type) + ", expected " +
                           tflite::TensorTypeName(type));
}

Status ExpectRank(const Node& node, const RtTensor& t, size_t rank, const char* role) {
  if (t.shape.size() == rank) return Status::Ok();
  return OpError(node, std::string(role) + " " + t.label() + " has shape " + tflite::ShapeToString(t.shape) +
                           ", expected rank " + std::to_string(rank));
}

void TypeRange(TensorType type, int32_t* min, int32_t* max) {
  switch (type) {
    case TensorType::kInt8: *min = -128, *max = 127; return;
    case TensorType::kUInt8: *min = 0, *max = 255; return;
    case TensorType::kInt16: *min = -32768, *max = 32767; return;
    default: *min = std::numeric_limits<int32_t>::min(), *max = std::numeric_limits<int32_t>::max(); return;
  }
}

Status ExpectQuantized(const Node& node, const RtTensor& t, const char* role) {
  const tflite::Quantization& q = t.src->quant;
  if (q.scale.empty()) return OpError(node, std::string(role) + " " + t.label() + " is not quantized");
  if (q.scale.size() != 1) {
    return OpError(node, std::string(role) + " " + t.label() + " has per-channel quantization; per-tensor expected");
  }
  if (!std::isfinite(q.scale[0]) || !(q.scale[0] > 0)) {
    return OpError(node, std::string(role) + " " + t.label() + " has scale " + std::to_string(q.scale[0]) +
                             "; a finite scale > 0 is needed");
  }
  int32_t min = 0, max = 0;
  TypeRange(t.type, &min, &max);
  if (q.zero_point[0] < min || q.zero_point[0] > max) {
    return OpError(node, std::string(role) + " " + t.label() + " has zero point " + std::to_string(q.zero_point[0]) +
                             ", outside " + tflite::TensorTypeName(t.type));
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> ConstIntValues(const Node& node, const RtTensor* t, const char* role) {
  if (t == nullptr) return OpError(node, std::string(role) + " is missing");
  if (!t->is_constant()) {
    return OpError(node, std::string(role) + " " + t->label() +
                             " is computed at run time; edgeloop needs shape arguments it can resolve in Prepare");
  }
  std::vector<int64_t> values(static_cast<size_t>(t->elements));
  if (t->type == TensorType::kInt32) {
    for (size_t i = 0; i < values.size(); ++i) {
      int32_t v;
      std::memcpy(&v, t->data + i * 4, 4);
      values[i] = v;
    }
  } else if (t->type == TensorType::kInt64) {
    for (size_t i = 0; i < values.size(); ++i) std::memcpy(&values[i], t->data + i * 8, 8);
  } else {
    return OpError(node, std::string(role) + " " + t->label() + " is " + tflite::TensorTypeName(t->type) +
                             ", expected INT32 or INT64");
  }
  return values;
}

Status SetOutputShape(Node& node, size_t i, std::vector<int32_t> shape) {
  RtTensor& out = node.out(i);
  const int64_t elements = tflite::NumElements(shape);
  if (elements < 0) {
    return OpError(node, "output " + out.label() + " would have shape " + tflite::ShapeToString(shape) +
                             " (negative or too many elements)");
  }
  const int size = tflite::TensorTypeSize(out.type);
  if (size == 0) {
    return OpError(node, std::string("output ") + out.label() + " has type " + tflite::TensorTypeName(out.type) +
                             ", which the runtime cannot hold");
  }
  out.shape = std::move(shape);
  out.elements = elements;
  out.bytes = static_cast<size_t>(elements) * static_cast<size_t>(size);
  return Status::Ok();
}

Status ComputeWindow(const Node& node, tflite::Padding padding, int in, int filter, int stride, int dilation,
                     const char* axis, int* out, int* pad) {
  if (stride < 1 || dilation < 1 || filter < 1) {
    return OpError(node, std::string(axis) + ": stride " + std::to_string(stride) + ", dilation " +
                             std::to_string(dilation) + " and filter " + std::to_string(filter) + " must all be >= 1");
  }
  const int64_t effective_filter = (static_cast<int64_t>(filter) - 1) * dilation + 1;
  int64_t out_size = 0;
  if (padding == tflite::Padding::kSame) {
    out_size = (static_cast<int64_t>(in) + stride - 1) / stride;
  } else if (padding == tflite::Padding::kValid) {
    out_size = (static_cast<int64_t>(in) + stride - effective_filter) / stride;
  } else {
    return OpError(node, "padding " + std::to_string(static_cast<int>(padding)) + " is not SAME or VALID");
  }
  if (out_size < 1) {
    return OpError(node, std::string(axis) + ": a window of " + std::to_string(effective_filter) +
                             " does not fit an input of " + std::to_string(in));
  }
  const int64_t total = std::max<int64_t>(0, (out_size - 1) * stride + effective_filter - in);
  *out = static_cast<int>(out_size);
  *pad = static_cast<int>(total / 2);
  return Status::Ok();
}

Status FloatActivationRange(const Node& node, Activation a, float* min, float* max) {
  *min = std::numeric_limits<float>::lowest();
  *max = std::numeric_limits<float>::max();
  switch (a) {
    case Activation::kNone: return Status::Ok();
    case Activation::kRelu: *min = 0; return Status::Ok();
    case Activation::kRelu6: *min = 0, *max = 6; return Status::Ok();
    case Activation::kReluN1To1: *min = -1, *max = 1; return Status::Ok();
    default:
      return OpError(node, std::string("fused activation ") + tflite::ActivationName(a) + " is not supported");
  }
}

Status QuantizedActivationRange(const Node& node, Activation a, const RtTensor& output, int32_t* min, int32_t* max) {
  int32_t qmin = 0, qmax = 0;
  TypeRange(output.type, &qmin, &qmax);
  const float scale = output.scale;
  const int32_t zero_point = output.zero_point;
  // zero_point + round(f / scale), refusing values that do not fit int32 (as TFLite does).
  auto quantize = [&](float f, int32_t* q) -> Status {
    const float r = std::round(f / scale);
    if (!(r >= -2147483648.0f && r <= 2147483520.0f)) {
      return OpError(node, "activation bound " + std::to_string(f) + " does not fit the output scale");
    }
    *q = static_cast<int32_t>(std::clamp<int64_t>(zero_point + static_cast<int64_t>(r), INT32_MIN, INT32_MAX));
    return Status::Ok();
  };
  int32_t q = 0;
  *min = qmin;
  *max = qmax;
  switch (a) {
    case Activation::kNone: break;
    case Activation::kRelu:
      EL_RETURN_IF_ERROR(quantize(0.0f, &q));
      *min = std::max(qmin, q);
      break;
    case Activation::kRelu6:
      EL_RETURN_IF_ERROR(quantize(0.0f, &q));
      *min = std::max(qmin, q);
      EL_RETURN_IF_ERROR(quantize(6.0f, &q));
      *max = std::min(qmax, q);
      break;
    case Activation::kReluN1To1:
      EL_RETURN_IF_ERROR(quantize(-1.0f, &q));
      *min = std::max(qmin, q);
      EL_RETURN_IF_ERROR(quantize(1.0f, &q));
      *max = std::min(qmax, q);
      break;
    default:
      return OpError(node, std::string("fused activation ") + tflite::ActivationName(a) +
                               " is not supported on quantized outputs");
  }
  if (*min > *max) return OpError(node, "the fused activation leaves no representable output value");
  return Status::Ok();
}

Status QuantizeMultiplierOrError(const Node& node, double multiplier, const char* what, int32_t* q, int32_t* shift) {
  int s = 0;
  if (!QuantizeMultiplier(multiplier, q, &s)) {
    return OpError(node, std::string(what) + " " + std::to_string(multiplier) +
                             " cannot be represented as a fixed-point multiplier");
  }
  *shift = s;
  return Status::Ok();
}

}  // namespace edgeloop::runtime
