// Prepare for MEAN (float32; Keras' global average pooling converts to it) and PAD (any fixed-size
// type; quantized tensors pad with their zero point, the quantized zero).
#include <string>
#include <variant>

#include "runtime/ops/ops.h"

namespace edgeloop::runtime {

using tflite::TensorType;

Status PrepareMean(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::ReducerOptions>(&node.op->options);
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectType(node, in, TensorType::kFloat32, "input"));
  EL_RETURN_IF_ERROR(ExpectType(node, node.out(0), TensorType::kFloat32, "output"));
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ConstIntValues(node, node.in_opt(1), "axes"));
  const int rank = static_cast<int>(in.shape.size());
  MeanParams p;
  p.in_dims = in.shape;
  p.reduced.assign(rank, false);
  for (int64_t a : axes) {
    const int64_t d = a < 0 ? a + rank : a;
    if (d < 0 || d >= rank) return OpError(node, "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    p.reduced[d] = true;
  }
  std::vector<int32_t> shape;
  for (int d = 0; d < rank; ++d) {
    if (p.reduced[d]) {
      p.count *= in.shape[d];
      if (o.keep_dims) shape.push_back(1);
    } else {
      shape.push_back(in.shape[d]);
    }
  }
  node.kernel_id = KernelId::kMeanF32;
  node.params = std::move(p);
  return SetOutputShape(node, 0, std::move(shape));
}

Status PreparePad(Node& node, const PrepareContext& /*ctx*/) {
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  if (in.type != out.type) return OpError(node, "input and output types differ");
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> paddings, ConstIntValues(node, node.in_opt(1), "paddings"));
  const size_t rank = in.shape.size();
  if (paddings.size() != rank * 2) {
    return OpError(node, "paddings hold " + std::to_string(paddings.size()) + " values; [" + std::to_string(rank) +
                             ", 2] expected");
  }
  PadParams p;
  p.in_dims = in.shape;
  std::vector<int32_t> shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t before = paddings[2 * d], after = paddings[2 * d + 1];
    if (before < 0 || after < 0 || before > INT32_MAX || after > INT32_MAX ||
        in.shape[d] + before + after > INT32_MAX) {
      return OpError(node, "padding (" + std::to_string(before) + ", " + std::to_string(after) + ") of dimension " +
                               std::to_string(d) + " is not valid");
    }
    p.before.push_back(static_cast<int32_t>(before));
    p.after.push_back(static_cast<int32_t>(after));
    shape[d] = static_cast<int32_t>(in.shape[d] + before + after);
  }
  if (in.type == TensorType::kInt8 || in.type == TensorType::kUInt8) {
    EL_RETURN_IF_ERROR(ExpectQuantized(node, out, "output"));
    p.pad_value = out.zero_point;
  } else if (tflite::TensorTypeSize(in.type) == 0) {
    return OpError(node, std::string("type ") + tflite::TensorTypeName(in.type) + " cannot be padded");
  }
  node.kernel_id = KernelId::kPad;
  node.params = std::move(p);
  return SetOutputShape(node, 0, std::move(shape));
}

}  // namespace edgeloop::runtime
