// Prepare for QUANTIZE (float32 -> int8/uint8, and int8/uint8 -> int8/uint8 requantization as the
// converters emit at uint8 model interfaces) and DEQUANTIZE (int8/uint8 -> float32, and float16
// constants -> float32 as float16-weight models use).
#include <string>

#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

using tflite::TensorType;

bool IsInt8OrUInt8(TensorType t) { return t == TensorType::kInt8 || t == TensorType::kUInt8; }

}  // namespace

Status PrepareQuantize(Node& node, const PrepareContext& /*ctx*/) {
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  if (!IsInt8OrUInt8(out.type)) {
    return OpError(node, std::string("output ") + out.label() + " is " + tflite::TensorTypeName(out.type) +
                             "; INT8 or UINT8 expected");
  }
  EL_RETURN_IF_ERROR(ExpectQuantized(node, out, "output"));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, in.shape));
  QuantizeParams p;
  p.scale = out.scale;
  p.output_zero_point = out.zero_point;
  TypeRange(out.type, &p.qmin, &p.qmax);
  if (in.type == TensorType::kFloat32) {
    node.kernel_id = KernelId::kQuantizeF32;
  } else if (IsInt8OrUInt8(in.type)) {
    EL_RETURN_IF_ERROR(ExpectQuantized(node, in, "input"));
    p.input_zero_point = in.zero_point;
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, static_cast<double>(in.scale) / static_cast<double>(out.scale),
                                                 "requantization multiplier", &p.multiplier, &p.shift));
    node.kernel_id = KernelId::kRequantize;
  } else {
    return OpError(node, std::string("input ") + in.label() + " is " + tflite::TensorTypeName(in.type) +
                             "; FLOAT32, INT8 or UINT8 expected");
  }
  node.params = p;
  return Status::Ok();
}

Status PrepareDequantize(Node& node, const PrepareContext& /*ctx*/) {
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectType(node, node.out(0), TensorType::kFloat32, "output"));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, in.shape));
  QuantizeParams p;
  if (IsInt8OrUInt8(in.type) || in.type == TensorType::kInt16) {
    EL_RETURN_IF_ERROR(ExpectQuantized(node, in, "input"));
    p.dequant_scale = in.scale;
    p.input_zero_point = in.zero_point;
  } else if (in.type != TensorType::kFloat16) {
    return OpError(node, std::string("input ") + in.label() + " is " + tflite::TensorTypeName(in.type) +
                             "; INT8, UINT8, INT16 or FLOAT16 expected");
  }
  node.kernel_id = KernelId::kDequantize;
  node.params = p;
  return Status::Ok();
}

}  // namespace edgeloop::runtime
