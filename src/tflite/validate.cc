#include "tflite/validate.h"

#include <string>

#include "edgeloop/tflite/io.h"
#include "tflite/op_spec.h"

namespace edgeloop::tflite {

Status MakeStatus(StatusCode code, std::string message) {
  switch (code) {
    case StatusCode::kOk: return Status::Ok();
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case StatusCode::kNotFound: return Status::NotFound(std::move(message));
    case StatusCode::kCorruption: return Status::Corruption(std::move(message));
    case StatusCode::kIOError: return Status::IOError(std::move(message));
    case StatusCode::kUnavailable: return Status::Unavailable(std::move(message));
    case StatusCode::kPermissionDenied: return Status::PermissionDenied(std::move(message));
  }
  return Status::Corruption(std::move(message));
}

namespace {

bool KnownType(TensorType t) {
  return static_cast<int>(t) >= static_cast<int>(TensorType::kFloat32) &&
         static_cast<int>(t) <= static_cast<int>(TensorType::kInt8);
}

Status CheckQuantization(const Graph& g, int index, StatusCode code) {
  const Tensor& t = g.tensors[index];
  const Quantization& q = t.quant;
  auto fail = [&](const std::string& why) { return MakeStatus(code, TensorLabel(g, index) + ": quantization: " + why); };
  if (q.min.size() != q.max.size()) {
    return fail("min has " + std::to_string(q.min.size()) + " values, max has " + std::to_string(q.max.size()));
  }
  if (q.scale.empty()) {
    if (!q.zero_point.empty()) return fail("zero_point without scale");
    return Status::Ok();
  }
  if (q.zero_point.size() != q.scale.size()) {
    return fail("scale has " + std::to_string(q.scale.size()) + " values, zero_point has " +
                std::to_string(q.zero_point.size()));
  }
  if (q.scale.size() > 1) {
    if (q.quantized_dimension < 0 || static_cast<size_t>(q.quantized_dimension) >= t.shape.size()) {
      return fail("quantized_dimension " + std::to_string(q.quantized_dimension) + " is outside shape " +
                  ShapeToString(t.shape));
    }
    if (static_cast<int64_t>(q.scale.size()) != t.shape[q.quantized_dimension]) {
      return fail(std::to_string(q.scale.size()) + " per-channel scales for dimension " +
                  std::to_string(q.quantized_dimension) + " of shape " + ShapeToString(t.shape));
    }
  }
  return Status::Ok();
}

Status CheckTensor(const Graph& g, int index, StatusCode code) {
  const Tensor& t = g.tensors[index];
  auto fail = [&](const std::string& why) { return MakeStatus(code, TensorLabel(g, index) + ": " + why); };
  if (!KnownType(t.type)) return fail("tensor type " + std::to_string(static_cast<int>(t.type)) + " is not supported");
  for (int32_t d : t.shape) {
    if (d < 0) return fail("shape " + ShapeToString(t.shape) + " has a negative dimension");
  }
  const int64_t elements = NumElements(t.shape);
  if (elements < 0) return fail("shape " + ShapeToString(t.shape) + " has too many elements");
  if (!t.shape_signature.empty()) {
    if (t.shape_signature.size() != t.shape.size()) {
      return fail("shape_signature " + ShapeToString(t.shape_signature) + " does not match shape " +
                  ShapeToString(t.shape));
    }
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape_signature[i] != t.shape[i] && t.shape_signature[i] != -1) {
        return fail("shape_signature " + ShapeToString(t.shape_signature) + " does not match shape " +
                    ShapeToString(t.shape));
      }
    }
  }
  if (t.is_constant()) {
    const int size = TensorTypeSize(t.type);
    if (size == 0) return fail(std::string("constant data of type ") + TensorTypeName(t.type) + " is not supported");
    const int64_t needed = elements * size;
    if (static_cast<int64_t>(t.data.size()) != needed) {
      return fail("buffer has " + std::to_string(t.data.size()) + " bytes, shape " + ShapeToString(t.shape) + " x " +
                  TensorTypeName(t.type) + " needs " + std::to_string(needed));
    }
  }
  return CheckQuantization(g, index, code);
}

Status CheckOperator(const Graph& g, int index, StatusCode code) {
  const Operator& op = g.operators[index];
  const int num_tensors = static_cast<int>(g.tensors.size());
  auto fail = [&](const std::string& why) { return MakeStatus(code, OperatorLabel(g, index) + ": " + why); };
  if (op.version < 1) return fail("version " + std::to_string(op.version) + " is not valid");
  const OpSpec* spec = FindOpSpec(op.op);
  if (spec != nullptr) {
    const int n = static_cast<int>(op.inputs.size());
    if (n < spec->min_inputs || (spec->max_inputs != kVariadic && n > spec->max_inputs)) {
      std::string expected = std::to_string(spec->min_inputs);
      if (spec->max_inputs == kVariadic) {
        expected += " or more";
      } else if (spec->max_inputs != spec->min_inputs) {
        expected += " to " + std::to_string(spec->max_inputs);
      }
      return fail("has " + std::to_string(n) + " inputs, expected " + expected);
    }
    if (static_cast<int>(op.outputs.size()) != spec->outputs) {
      return fail("has " + std::to_string(op.outputs.size()) + " outputs, expected " + std::to_string(spec->outputs));
    }
    if (op.options.index() != spec->options_index) {
      return fail(std::string("options are ") + OptionsName(op.options.index()) + ", expected " +
                  OptionsName(spec->options_index));
    }
  } else if (op.options.index() != 0) {
    return fail("options given for an operator edgeloop does not know");
  }
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    const int32_t t = op.inputs[i];
    const bool optional = spec != nullptr && static_cast<int>(i) >= spec->optional_from;
    if (t == -1 && optional) continue;
    if (t < 0 || t >= num_tensors) {
      return fail("input " + std::to_string(i) + " refers to tensor " + std::to_string(t) + " (the graph has " +
                  std::to_string(num_tensors) + ")");
    }
  }
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    const int32_t t = op.outputs[i];
    if (t < 0 || t >= num_tensors) {
      return fail("output " + std::to_string(i) + " refers to tensor " + std::to_string(t) + " (the graph has " +
                  std::to_string(num_tensors) + ")");
    }
  }
  return Status::Ok();
}

Status CheckIoList(const Graph& g, const std::vector<int32_t>& list, const char* what, StatusCode code) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] < 0 || static_cast<size_t>(list[i]) >= g.tensors.size()) {
      return MakeStatus(code, std::string("subgraph ") + what + "[" + std::to_string(i) + "] refers to tensor " +
                                  std::to_string(list[i]) + " (the graph has " + std::to_string(g.tensors.size()) +
                                  ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateGraph(const Graph& graph, StatusCode code) {
  for (size_t i = 0; i < graph.tensors.size(); ++i) EL_RETURN_IF_ERROR(CheckTensor(graph, static_cast<int>(i), code));
  for (size_t i = 0; i < graph.operators.size(); ++i) {
    EL_RETURN_IF_ERROR(CheckOperator(graph, static_cast<int>(i), code));
  }
  EL_RETURN_IF_ERROR(CheckIoList(graph, graph.inputs, "inputs", code));
  EL_RETURN_IF_ERROR(CheckIoList(graph, graph.outputs, "outputs", code));
  for (const auto& [name, bytes] : graph.metadata) {
    if (name.empty()) return MakeStatus(code, "metadata entry with an empty name");
  }
  return Status::Ok();
}

Status ValidateGraph(const Graph& graph) { return ValidateGraph(graph, StatusCode::kInvalidArgument); }

}  // namespace edgeloop::tflite
