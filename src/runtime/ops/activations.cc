// Prepare for the pooling ops and the activations: MAX_POOL_2D, AVERAGE_POOL_2D, SOFTMAX, LOGISTIC,
// TANH, RELU, RELU6.
#include <cmath>
#include <string>
#include <variant>

#include "runtime/kernels/quant_math.h"
#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

using tflite::TensorType;

// Float in and out, or INT8 in and out; `same_quantization` for ops that never requantize.
Status ExpectFloatOrInt8(const Node& node, bool same_quantization, bool* int8) {
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  if (in.type == TensorType::kFloat32 && out.type == TensorType::kFloat32) {
    *int8 = false;
    return Status::Ok();
  }
  if (in.type != TensorType::kInt8 || out.type != TensorType::kInt8) {
    return OpError(node, std::string("input ") + tflite::TensorTypeName(in.type) + " and output " +
                             tflite::TensorTypeName(out.type) + " must both be FLOAT32 or both INT8");
  }
  *int8 = true;
  EL_RETURN_IF_ERROR(ExpectQuantized(node, in, "input"));
  EL_RETURN_IF_ERROR(ExpectQuantized(node, out, "output"));
  if (same_quantization && (in.scale != out.scale || in.zero_point != out.zero_point)) {
    return OpError(node, "input and output quantization differ (scale " + std::to_string(in.scale) + " zp " +
                             std::to_string(in.zero_point) + " vs " + std::to_string(out.scale) + " zp " +
                             std::to_string(out.zero_point) + "); this op does not requantize");
  }
  return Status::Ok();
}

Status ExpectFloat(const Node& node) {
  EL_RETURN_IF_ERROR(ExpectType(node, node.in(0), TensorType::kFloat32, "input"));
  return ExpectType(node, node.out(0), TensorType::kFloat32, "output");
}

Status PreparePool(Node& node, KernelId float_kernel, KernelId int8_kernel) {
  const auto& o = *std::get_if<tflite::Pool2DOptions>(&node.op->options);
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectRank(node, in, 4, "input"));
  bool int8 = false;
  EL_RETURN_IF_ERROR(ExpectFloatOrInt8(node, true, &int8));
  PoolParams p;
  p.stride_w = o.stride_w;
  p.stride_h = o.stride_h;
  p.filter_w = o.filter_w;
  p.filter_h = o.filter_h;
  int out_h = 0, out_w = 0;
  EL_RETURN_IF_ERROR(ComputeWindow(node, o.padding, in.shape[1], o.filter_h, o.stride_h, 1, "height", &out_h, &p.pad_h));
  EL_RETURN_IF_ERROR(ComputeWindow(node, o.padding, in.shape[2], o.filter_w, o.stride_w, 1, "width", &out_w, &p.pad_w));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, {in.shape[0], out_h, out_w, in.shape[3]}));
  if (int8) {
    EL_RETURN_IF_ERROR(QuantizedActivationRange(node, o.activation, node.out(0), &p.q_act_min, &p.q_act_max));
  } else {
    EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
  }
  node.kernel_id = int8 ? int8_kernel : float_kernel;
  node.params = p;
  return Status::Ok();
}

}  // namespace

Status PrepareMaxPool2D(Node& node, const PrepareContext& /*ctx*/) {
  return PreparePool(node, KernelId::kMaxPoolF32, KernelId::kMaxPoolS8);
}

Status PrepareAveragePool2D(Node& node, const PrepareContext& /*ctx*/) {
  return PreparePool(node, KernelId::kAveragePoolF32, KernelId::kAveragePoolS8);
}

Status PrepareSoftmax(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::SoftmaxOptions>(&node.op->options);
  const RtTensor& in = node.in(0);
  if (in.shape.empty()) return OpError(node, "input " + in.label() + " is a scalar; softmax needs rank >= 1");
  bool int8 = false;
  EL_RETURN_IF_ERROR(ExpectFloatOrInt8(node, false, &int8));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, in.shape));
  SoftmaxParams p;
  p.beta = o.beta;
  if (int8) {
    const RtTensor& out = node.out(0);
    if (out.zero_point != -128 || out.scale != 1.0f / 256) {
      return OpError(node, "int8 softmax output " + out.label() + " must have scale 1/256 and zero point -128 (has " +
                               std::to_string(out.scale) + ", " + std::to_string(out.zero_point) + ")");
    }
    // TFLite's PreprocessSoftmaxScaling with 5 integer bits for the scaled input difference.
    constexpr int kScaledDiffIntegerBits = 5;
    const double real_multiplier =
        std::min<double>(static_cast<double>(o.beta) * static_cast<double>(in.scale) *
                             static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                         static_cast<double>((int64_t{1} << 31) - 1));
    if (!(real_multiplier > 1.0)) {
      return OpError(node, "beta x input scale (" + std::to_string(o.beta * in.scale) + ") is too small for int8");
    }
    EL_RETURN_IF_ERROR(
        QuantizeMultiplierOrError(node, real_multiplier, "softmax input multiplier", &p.input_multiplier, &p.input_left_shift));
    p.diff_min = -CalculateInputRadius(kScaledDiffIntegerBits, p.input_left_shift);
    node.kernel_id = KernelId::kSoftmaxS8;
  } else {
    node.kernel_id = KernelId::kSoftmaxF32;
  }
  node.params = p;
  return Status::Ok();
}

Status PrepareLogistic(Node& node, const PrepareContext& /*ctx*/) {
  bool int8 = false;
  EL_RETURN_IF_ERROR(ExpectFloatOrInt8(node, false, &int8));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, node.in(0).shape));
  if (!int8) {
    node.kernel_id = KernelId::kLogisticF32;
    return Status::Ok();
  }
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  if (out.zero_point != -128 || out.scale != 1.0f / 256) {
    return OpError(node, "int8 logistic output " + out.label() + " must have scale 1/256 and zero point -128 (has " +
                             std::to_string(out.scale) + ", " + std::to_string(out.zero_point) + ")");
  }
  // As TFLite: the input rescaled to Q4.27 (multiplier and left shift from frexp, which is what
  // QuantizeMultiplier computes for the shifts this kernel accepts).
  constexpr int kInputIntegerBits = 4;
  const double real_multiplier = static_cast<double>(in.scale) * static_cast<double>(1 << (31 - kInputIntegerBits));
  LogisticParams p;
  EL_RETURN_IF_ERROR(
      QuantizeMultiplierOrError(node, real_multiplier, "logistic input multiplier", &p.input_multiplier, &p.input_left_shift));
  if (p.input_left_shift < 0) {
    return OpError(node, "input scale " + std::to_string(in.scale) + " is too small for the int8 logistic");
  }
  p.input_zero_point = in.zero_point;
  p.input_range_radius = CalculateInputRadius(kInputIntegerBits, p.input_left_shift);
  node.kernel_id = KernelId::kLogisticS8;
  node.params = p;
  return Status::Ok();
}

Status PrepareTanh(Node& node, const PrepareContext& /*ctx*/) {
  EL_RETURN_IF_ERROR(ExpectFloat(node));
  node.kernel_id = KernelId::kTanhF32;
  return SetOutputShape(node, 0, node.in(0).shape);
}

Status PrepareRelu(Node& node, const PrepareContext& /*ctx*/) {
  EL_RETURN_IF_ERROR(ExpectFloat(node));
  node.kernel_id = KernelId::kReluF32;
  return SetOutputShape(node, 0, node.in(0).shape);
}

Status PrepareRelu6(Node& node, const PrepareContext& /*ctx*/) {
  EL_RETURN_IF_ERROR(ExpectFloat(node));
  node.kernel_id = KernelId::kRelu6F32;
  return SetOutputShape(node, 0, node.in(0).shape);
}

}  // namespace edgeloop::runtime
