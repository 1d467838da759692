// Prepare for the shape operators: RESHAPE, EXPAND_DIMS, SQUEEZE, SHAPE, STRIDED_SLICE, PACK.
// Their shape arguments must be constants or computable in Prepare (SHAPE of a tensor whose shape
// is known is; the interpreter folds such ops), so every output shape is fixed before Invoke.
//
// Batching: a RESHAPE whose target comes from the model file (option or constant tensor) and starts
// with 1 gets the interpreter's batch size there, so Conv1D's reshapes scale with the batch; a
// target computed from SHAPE already carries it.
#include <algorithm>
#include <string>
#include <variant>

#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

Status ExpectSameType(const Node& node, const RtTensor& in, const RtTensor& out) {
  if (in.type == out.type) return Status::Ok();
  return OpError(node, std::string("input is ") + tflite::TensorTypeName(in.type) + " but output " + out.label() +
                           " is " + tflite::TensorTypeName(out.type));
}

int64_t Product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

}  // namespace

Status PrepareReshape(Node& node, const PrepareContext& ctx) {
  const RtTensor& in = node.in(0);
  const RtTensor* shape_tensor = node.in_opt(1);
  EL_RETURN_IF_ERROR(ExpectSameType(node, in, node.out(0)));
  std::vector<int64_t> target;
  bool from_file = true;
  if (shape_tensor != nullptr && shape_tensor->shape.size() == 1) {
    EL_ASSIGN_OR_RETURN(target, ConstIntValues(node, shape_tensor, "shape"));
    from_file = shape_tensor->kind == RtTensor::Kind::kConstant;
  } else {
    const auto& o = *std::get_if<tflite::ReshapeOptions>(&node.op->options);
    target.assign(o.new_shape.begin(), o.new_shape.end());
  }
  if (ctx.batch > 1 && from_file && !in.is_constant() && !target.empty() && target[0] == 1) target[0] = ctx.batch;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && unknown < 0) {
      unknown = static_cast<int>(i);
    } else if (target[i] < 0 || target[i] > INT32_MAX) {
      return OpError(node, "target shape has an invalid dimension " + std::to_string(target[i]));
    } else {
      known *= target[i];
      if (known > INT32_MAX) return OpError(node, "target shape has too many elements");
    }
  }
  if (unknown >= 0) {
    if (known == 0 || in.elements % known != 0) {
      return OpError(node, "cannot reshape " + std::to_string(in.elements) + " elements into the target shape");
    }
    target[unknown] = in.elements / known;
  }
  if (Product(target) != in.elements) {
    return OpError(node, "input " + in.label() + " has " + std::to_string(in.elements) + " elements; the target " +
                             "shape has " + std::to_string(Product(target)));
  }
  node.kernel_id = KernelId::kCopy;
  return SetOutputShape(node, 0, std::vector<int32_t>(target.begin(), target.end()));
}

Status PrepareExpandDims(Node& node, const PrepareContext& /*ctx*/) {
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectSameType(node, in, node.out(0)));
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> axis, ConstIntValues(node, node.in_opt(1), "axis"));
  if (axis.size() != 1) return OpError(node, "axis must hold exactly one value");
  const int64_t rank = static_cast<int64_t>(in.shape.size());
  int64_t a = axis[0];
  if (a < -rank - 1 || a > rank) {
    return OpError(node, "axis " + std::to_string(a) + " is outside [" + std::to_string(-rank - 1) + ", " +
                             std::to_string(rank) + "]");
  }
  if (a < 0) a += rank + 1;
  std::vector<int32_t> shape = in.shape;
  shape.insert(shape.begin() + a, 1);
  node.kernel_id = KernelId::kCopy;
  return SetOutputShape(node, 0, std::move(shape));
}

Status PrepareSqueeze(Node& node, const PrepareContext& ctx) {
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectSameType(node, in, node.out(0)));
  const auto& o = *std::get_if<tflite::SqueezeOptions>(&node.op->options);
  const int rank = static_cast<int>(in.shape.size());
  std::vector<bool> squeeze(rank, false);
  if (o.squeeze_dims.empty()) {
    // Every dimension that is 1 in the model file and still 1 here: a batch made larger than 1
    // stays a dimension.
    for (int d = 0; d < rank; ++d) {
      squeeze[d] = in.shape[d] == 1 && static_cast<size_t>(d) < in.src->shape.size() && in.src->shape[d] == 1;
    }
  } else {
    for (int32_t dim : o.squeeze_dims) {
      const int d = dim < 0 ? dim + rank : dim;
      if (d < 0 || d >= rank) return OpError(node, "squeeze dimension " + std::to_string(dim) + " is out of range");
      if (in.shape[d] != 1) {
        return OpError(node, "dimension " + std::to_string(dim) + " of " + tflite::ShapeToString(in.shape) +
                                 (d == 0 && ctx.batch > 1 ? " is the batch; it cannot be squeezed"
                                                          : " is not 1 and cannot be squeezed"));
      }
      squeeze[d] = true;
    }
  }
  std::vector<int32_t> shape;
  for (int d = 0; d < rank; ++d) {
    if (!squeeze[d]) shape.push_back(in.shape[d]);
  }
  node.kernel_id = KernelId::kCopy;
  return SetOutputShape(node, 0, std::move(shape));
}

Status PrepareShape(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::ShapeOptions>(&node.op->options);
  const RtTensor& out = node.out(0);
  if (o.out_type != tflite::TensorType::kInt32 && o.out_type != tflite::TensorType::kInt64) {
    return OpError(node, std::string("out_type ") + tflite::TensorTypeName(o.out_type) + " is not INT32 or INT64");
  }
  EL_RETURN_IF_ERROR(ExpectType(node, out, o.out_type, "output"));
  node.kernel_id = KernelId::kShape;
  node.params = ShapeParams{o.out_type};
  return SetOutputShape(node, 0, {static_cast<int32_t>(node.in(0).shape.size())});
}

Status PrepareStridedSlice(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::StridedSliceOptions>(&node.op->options);
  const RtTensor& in = node.in(0);
  EL_RETURN_IF_ERROR(ExpectSameType(node, in, node.out(0)));
  const int rank = static_cast<int>(in.shape.size());
  if (rank > 5) return OpError(node, "input rank " + std::to_string(rank) + " is above 5");
  if (o.ellipsis_mask != 0 || o.new_axis_mask != 0) {
    return OpError(node, "ellipsis_mask and new_axis_mask are not supported");
  }
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ConstIntValues(node, node.in_opt(1), "begin"));
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> end, ConstIntValues(node, node.in_opt(2), "end"));
  EL_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ConstIntValues(node, node.in_opt(3), "strides"));
  if (begin.size() != static_cast<size_t>(rank) || end.size() != begin.size() || strides.size() != begin.size()) {
    return OpError(node, "begin, end and strides need " + std::to_string(rank) + " values each");
  }
  StridedSliceParams p;
  const int pad = 5 - rank;
  std::vector<int32_t> out_shape;
  for (int d = 0; d < 5; ++d) {
    if (d < pad) {
      p.in_dims[d] = 1, p.start[d] = 0, p.stop[d] = 1, p.stride[d] = 1;
      continue;
    }
    const int axis = d - pad;
    const int64_t size = in.shape[axis];
    const int64_t stride = strides[axis];
    if (stride == 0 || stride < INT32_MIN || stride > INT32_MAX) {
      return OpError(node, "stride " + std::to_string(stride) + " on axis " + std::to_string(axis));
    }
    // TFLite's StridedSliceStartForAxis / EndForAxis.
    int64_t start = begin[axis];
    if (start < 0) start += size;
    start = stride > 0 ? std::clamp<int64_t>(start, 0, size) : std::clamp<int64_t>(start, -1, size - 1);
    if (o.begin_mask & (1 << axis)) start = stride > 0 ? 0 : size - 1;
    int64_t stop = 0;
    const bool shrink = o.shrink_axis_mask & (1 << axis);
    if (shrink) {
      stop = start >= size ? start : start + 1;
    } else {
      stop = end[axis];
      if (stop < 0) stop += size;
      stop = stride > 0 ? std::clamp<int64_t>(stop, 0, size) : std::clamp<int64_t>(stop, -1, size - 1);
      if (o.end_mask & (1 << axis)) stop = stride > 0 ? size : -1;
    }
    const int64_t span = stride > 0 ? stop - start : start - stop;
    const int64_t abs_stride = stride > 0 ? stride : -stride;
    const int64_t count = span <= 0 ? 0 : (span + abs_stride - 1) / abs_stride;
    if (shrink && count != 1) return OpError(node, "shrinking axis " + std::to_string(axis) + " selects no element");
    p.in_dims[d] = static_cast<int32_t>(size);
    p.start[d] = static_cast<int32_t>(start);
    p.stop[d] = static_cast<int32_t>(stop);
    p.stride[d] = static_cast<int32_t>(stride);
    if (!shrink) out_shape.push_back(static_cast<int32_t>(count));
  }
  node.kernel_id = KernelId::kStridedSlice;
  node.params = p;
  return SetOutputShape(node, 0, std::move(out_shape));
}

Status PreparePack(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::PackOptions>(&node.op->options);
  const RtTensor& first = node.in(0);
  EL_RETURN_IF_ERROR(ExpectSameType(node, first, node.out(0)));
  if (o.values_count != static_cast<int32_t>(node.inputs.size())) {
    return OpError(node, "values_count " + std::to_string(o.values_count) + " but " +
                             std::to_string(node.inputs.size()) + " inputs");
  }
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const RtTensor& t = node.in(i);
    if (t.type != first.type || t.shape != first.shape) {
      return OpError(node, "input " + t.label() + " differs in type or shape from input 0");
    }
  }
  const int rank = static_cast<int>(first.shape.size());
  int axis = o.axis;
  if (axis < -(rank + 1) || axis > rank) return OpError(node, "axis " + std::to_string(axis) + " is out of range");
  if (axis < 0) axis += rank + 1;
  PackParams p;
  int64_t inner = 1;
  for (int d = 0; d < rank; ++d) (d < axis ? p.outer : inner) *= first.shape[d];
  p.inner_bytes = inner * tflite::TensorTypeSize(first.type);
  std::vector<int32_t> shape = first.shape;
  shape.insert(shape.begin() + axis, o.values_count);
  node.kernel_id = KernelId::kPack;
  node.params = p;
  return SetOutputShape(node, 0, std::move(shape));
}

}  // namespace edgeloop::runtime
