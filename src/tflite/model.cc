// Name helpers and element arithmetic of the Graph IR (include/edgeloop/tflite/model.h).
#include <array>
#include <cstdio>
#include <limits>
#include <string>

#include "edgeloop/tflite/model.h"

namespace edgeloop::tflite {
namespace {

// "BUILTIN_OP_<n>" for every code edgeloop has no name for, built once (thread-safe static init)
// so the returned pointers stay valid for the life of the process.
constexpr int kNamedCodes = 256;
using UnknownNames = std::array<std::array<char, 24>, kNamedCodes>;

const UnknownNames& UnknownOpNames() {
  static const UnknownNames names = [] {
    UnknownNames n{};
    for (int i = 0; i < kNamedCodes; ++i) std::snprintf(n[i].data(), n[i].size(), "BUILTIN_OP_%d", i);
    return n;
  }();
  return names;
}

}  // namespace

const char* BuiltinOpName(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kAdd: return "ADD";
    case BuiltinOp::kAveragePool2D: return "AVERAGE_POOL_2D";
    case BuiltinOp::kConcatenation: return "CONCATENATION";
    case BuiltinOp::kConv2D: return "CONV_2D";
    case BuiltinOp::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case BuiltinOp::kDequantize: return "DEQUANTIZE";
    case BuiltinOp::kFullyConnected: return "FULLY_CONNECTED";
    case BuiltinOp::kLogistic: return "LOGISTIC";
    case BuiltinOp::kMaxPool2D: return "MAX_POOL_2D";
    case BuiltinOp::kMul: return "MUL";
    case BuiltinOp::kRelu: return "RELU";
    case BuiltinOp::kRelu6: return "RELU6";
    case BuiltinOp::kReshape: return "RESHAPE";
    case BuiltinOp::kSoftmax: return "SOFTMAX";
    case BuiltinOp::kTanh: return "TANH";
    case BuiltinOp::kPad: return "PAD";
    case BuiltinOp::kMean: return "MEAN";
    case BuiltinOp::kSub: return "SUB";
    case BuiltinOp::kSqueeze: return "SQUEEZE";
    case BuiltinOp::kStridedSlice: return "STRIDED_SLICE";
    case BuiltinOp::kExpandDims: return "EXPAND_DIMS";
    case BuiltinOp::kShape: return "SHAPE";
    case BuiltinOp::kPack: return "PACK";
    case BuiltinOp::kQuantize: return "QUANTIZE";
  }
  const int32_t code = static_cast<int32_t>(op);
  if (code >= 0 && code < kNamedCodes) return UnknownOpNames()[code].data();
  return "BUILTIN_OP_OUT_OF_RANGE";
}

const char* TensorTypeName(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: return "FLOAT32";
    case TensorType::kFloat16: return "FLOAT16";
    case TensorType::kInt32: return "INT32";
    case TensorType::kUInt8: return "UINT8";
    case TensorType::kInt64: return "INT64";
    case TensorType::kString: return "STRING";
    case TensorType::kBool: return "BOOL";
    case TensorType::kInt16: return "INT16";
    case TensorType::kComplex64: return "COMPLEX64";
    case TensorType::kInt8: return "INT8";
  }
  return "UNKNOWN_TYPE";
}

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
    case Activation::kTanh: return "TANH";
  }
  return "UNKNOWN_ACTIVATION";
}

const char* PaddingName(Padding p) {
  switch (p) {
    case Padding::kSame: return "SAME";
    case Padding::kValid: return "VALID";
  }
  return "UNKNOWN_PADDING";
}

int TensorTypeSize(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: return 4;
    case TensorType::kFloat16: return 2;
    case TensorType::kInt32: return 4;
    case TensorType::kUInt8: return 1;
    case TensorType::kInt64: return 8;
    case TensorType::kString: return 0;
    case TensorType::kBool: return 1;
    case TensorType::kInt16: return 2;
    case TensorType::kComplex64: return 8;
    case TensorType::kInt8: return 1;
  }
  return 0;
}

int64_t NumElements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) {
    if (d < 0) return -1;
    n *= d;
    if (n > std::numeric_limits<int32_t>::max()) return -1;
  }
  return n;
}

std::string ShapeToString(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string TensorLabel(const Graph& graph, int index) {
  std::string label = "tensor " + std::to_string(index);
  if (index >= 0 && static_cast<size_t>(index) < graph.tensors.size()) {
    label += " ('" + graph.tensors[index].name + "')";
  }
  return label;
}

std::string OperatorLabel(const Graph& graph, int index) {
  std::string label = "operator " + std::to_string(index);
  if (index >= 0 && static_cast<size_t>(index) < graph.operators.size()) {
    label += std::string(" (") + BuiltinOpName(graph.operators[index].op) + ")";
  }
  return label;
}

}  // namespace edgeloop::tflite
