// Prepare for ADD, SUB and MUL: float32 (all three) and INT8 (ADD, MUL), with numpy-style
// broadcasting up to rank 6.
#include <algorithm>
#include <string>
#include <variant>

#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

using tflite::TensorType;

// Output shape and per-input strides (0 along broadcast dimensions), right-aligned to rank 6.
Status Broadcast(const Node& node, ElementwiseParams& p, std::vector<int32_t>* out_shape) {
  const RtTensor& a = node.in(0);
  const RtTensor& b = node.in(1);
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  if (rank > static_cast<size_t>(kMaxBroadcastRank)) {
    return OpError(node, "inputs of rank " + std::to_string(rank) + " (at most " +
                             std::to_string(kMaxBroadcastRank) + " supported)");
  }
  std::array<int32_t, kMaxBroadcastRank> da{}, db{};
  da.fill(1);
  db.fill(1);
  for (size_t i = 0; i < a.shape.size(); ++i) da[kMaxBroadcastRank - a.shape.size() + i] = a.shape[i];
  for (size_t i = 0; i < b.shape.size(); ++i) db[kMaxBroadcastRank - b.shape.size() + i] = b.shape[i];
  out_shape->clear();
  for (int d = 0; d < kMaxBroadcastRank; ++d) {
    if (da[d] != db[d] && da[d] != 1 && db[d] != 1) {
      return OpError(node, "shapes " + tflite::ShapeToString(a.shape) + " and " + tflite::ShapeToString(b.shape) +
                               " do not broadcast");
    }
    p.out_dims[d] = (da[d] == 0 || db[d] == 0) ? 0 : std::max(da[d], db[d]);
    if (d >= kMaxBroadcastRank - static_cast<int>(rank)) out_shape->push_back(p.out_dims[d]);
  }
  int64_t sa = 1, sb = 1;
  for (int d = kMaxBroadcastRank - 1; d >= 0; --d) {
    p.in1_strides[d] = da[d] == 1 ? 0 : sa;
    p.in2_strides[d] = db[d] == 1 ? 0 : sb;
    sa *= da[d];
    sb *= db[d];
  }
  p.broadcast = a.shape != b.shape;
  return Status::Ok();
}

Status PrepareElementwise(Node& node, tflite::BuiltinOp kind) {
  const auto& o = *std::get_if<tflite::AddOptions>(&node.op->options);
  const RtTensor& a = node.in(0);
  const RtTensor& b = node.in(1);
  const RtTensor& out = node.out(0);
  ElementwiseParams p;
  std::vector<int32_t> out_shape;
  EL_RETURN_IF_ERROR(Broadcast(node, p, &out_shape));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, std::move(out_shape)));
  if (a.type == TensorType::kFloat32 && b.type == TensorType::kFloat32 && out.type == TensorType::kFloat32) {
    EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
    node.kernel_id = kind == tflite::BuiltinOp::kAdd   ? KernelId::kAddF32
                     : kind == tflite::BuiltinOp::kSub ? KernelId::kSubF32
                                                       : KernelId::kMulF32;
    node.params = p;
    return Status::Ok();
  }
  if (a.type != TensorType::kInt8 || b.type != TensorType::kInt8 || out.type != TensorType::kInt8 ||
      kind == tflite::BuiltinOp::kSub) {
    return OpError(node, std::string("types ") + tflite::TensorTypeName(a.type) + ", " +
                             tflite::TensorTypeName(b.type) + " -> " + tflite::TensorTypeName(out.type) +
                             " are not supported (float32, or int8 for ADD and MUL)");
  }
  EL_RETURN_IF_ERROR(ExpectQuantized(node, a, "input 0"));
  EL_RETURN_IF_ERROR(ExpectQuantized(node, b, "input 1"));
  EL_RETURN_IF_ERROR(ExpectQuantized(node, out, "output"));
  EL_RETURN_IF_ERROR(QuantizedActivationRange(node, o.activation, out, &p.q_act_min, &p.q_act_max));
  p.input1_offset = -a.zero_point;
  p.input2_offset = -b.zero_point;
  p.output_offset = out.zero_point;
  if (kind == tflite::BuiltinOp::kAdd) {
    // TFLite's general int8 add: both inputs rescaled to 2 x the larger input scale, with 20 bits
    // of headroom, summed, then rescaled to the output.
    p.left_shift = 20;
    const double twice_max_input_scale = 2 * static_cast<double>(std::max(a.scale, b.scale));
    const double real_input1 = static_cast<double>(a.scale) / twice_max_input_scale;
    const double real_input2 = static_cast<double>(b.scale) / twice_max_input_scale;
    const double real_output = twice_max_input_scale / ((1 << p.left_shift) * static_cast<double>(out.scale));
    if (!(real_output < 1.0)) {
      return OpError(node, "output scale " + std::to_string(out.scale) + " is too small for the input scales");
    }
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, real_input1, "input 0 multiplier", &p.input1_multiplier,
                                                 &p.input1_shift));
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, real_input2, "input 1 multiplier", &p.input2_multiplier,
                                                 &p.input2_shift));
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, real_output, "output multiplier", &p.output_multiplier,
                                                 &p.output_shift));
    node.kernel_id = KernelId::kAddS8;
  } else {
    const double real = static_cast<double>(a.scale) * static_cast<double>(b.scale) / static_cast<double>(out.scale);
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, real, "output multiplier", &p.output_multiplier, &p.output_shift));
    node.kernel_id = KernelId::kMulS8;
  }
  node.params = p;
  return Status::Ok();
}

}  // namespace

Status PrepareAdd(Node& node, const PrepareContext& /*ctx*/) { return PrepareElementwise(node, tflite::BuiltinOp::kAdd); }
Status PrepareSub(Node& node, const PrepareContext& /*ctx*/) { return PrepareElementwise(node, tflite::BuiltinOp::kSub); }
Status PrepareMul(Node& node, const PrepareContext& /*ctx*/) { return PrepareElementwise(node, tflite::BuiltinOp::kMul); }

}  // namespace edgeloop::runtime
