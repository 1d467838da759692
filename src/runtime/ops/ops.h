// Prepare for every operator the runtime runs: validate types, shapes and quantization (errors name
// the operator and tensor), compute output shapes, fill the node's parameters, pick its KernelId
// and request scratch memory. One file per op family in src/runtime/ops/; kernels are separate
// (src/runtime/kernels/), so optimized kernels share this validation.
// Thread-safety: free functions on one interpreter's nodes.
#ifndef EDGELOOP_RUNTIME_OPS_OPS_H_
#define EDGELOOP_RUNTIME_OPS_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"
#include "runtime/node.h"

namespace edgeloop::runtime {

struct PrepareContext {
  int batch = 1;  // windows per Invoke; a leading 1 / -1 dimension of the graph inputs becomes this
};

using PrepareFn = Status (*)(Node& node, const PrepareContext& ctx);

struct OpSupport {
  tflite::BuiltinOp op;
  int max_version;  // operator-code versions 1..max_version are accepted
  PrepareFn prepare;
};

// nullptr when the runtime has no kernels for `op`.
const OpSupport* FindOpSupport(tflite::BuiltinOp op);

// Per-family prepare functions (ops/*.cc).
Status PrepareConv2D(Node& node, const PrepareContext& ctx);
Status PrepareDepthwiseConv2D(Node& node, const PrepareContext& ctx);
Status PrepareFullyConnected(Node& node, const PrepareContext& ctx);
Status PrepareMaxPool2D(Node& node, const PrepareContext& ctx);
Status PrepareAveragePool2D(Node& node, const PrepareContext& ctx);
Status PrepareSoftmax(Node& node, const PrepareContext& ctx);
Status PrepareLogistic(Node& node, const PrepareContext& ctx);
Status PrepareTanh(Node& node, const PrepareContext& ctx);
Status PrepareRelu(Node& node, const PrepareContext& ctx);
Status PrepareRelu6(Node& node, const PrepareContext& ctx);
Status PrepareAdd(Node& node, const PrepareContext& ctx);
Status PrepareSub(Node& node, const PrepareContext& ctx);
Status PrepareMul(Node& node, const PrepareContext& ctx);
Status PrepareMean(Node& node, const PrepareContext& ctx);
Status PreparePad(Node& node, const PrepareContext& ctx);
Status PrepareReshape(Node& node, const PrepareContext& ctx);
Status PrepareExpandDims(Node& node, const PrepareContext& ctx);
Status PrepareSqueeze(Node& node, const PrepareContext& ctx);
Status PrepareShape(Node& node, const PrepareContext& ctx);
Status PrepareStridedSlice(Node& node, const PrepareContext& ctx);
Status PreparePack(Node& node, const PrepareContext& ctx);
Status PrepareQuantize(Node& node, const PrepareContext& ctx);
Status PrepareDequantize(Node& node, const PrepareContext& ctx);

// ---- helpers shared by the prepare functions (ops/common.cc) ----

// InvalidArgument "operator 3 (CONV_2D): <message>".
Status OpError(const Node& node, const std::string& message);
// "tensor 7 ('name') is INT8, expected FLOAT32" style checks; `role` names the operand ("input").
Status ExpectType(const Node& node, const RtTensor& t, tflite::TensorType type, const char* role);
Status ExpectRank(const Node& node, const RtTensor& t, size_t rank, const char* role);
// The tensor must carry per-tensor quantization with a finite scale > 0 and a zero point inside
// its type's range.
Status ExpectQuantized(const Node& node, const RtTensor& t, const char* role);
// The values of a constant INT32 or INT64 tensor (shape arguments), or an error if it is not one.
Result<std::vector<int64_t>> ConstIntValues(const Node& node, const RtTensor* t, const char* role);
// Sets output `i`'s shape, element count and byte size; errors on overflow or negative dims.
Status SetOutputShape(Node& node, size_t i, std::vector<int32_t> shape);
// Output dims for a spatial window (TFLite's ComputeOutSize / ComputePaddingHeightWidth).
Status ComputeWindow(const Node& node, tflite::Padding padding, int in, int filter, int stride, int dilation,
                     const char* axis, int* out, int* pad);
// Clamp bounds of a fused activation on a float output; errors for TANH / SIGN_BIT.
Status FloatActivationRange(const Node& node, tflite::Activation a, float* min, float* max);
// TFLite's CalculateActivationRangeQuantized for an int8/uint8 output.
Status QuantizedActivationRange(const Node& node, tflite::Activation a, const RtTensor& output, int32_t* min,
                                int32_t* max);
// Range of a quantized integer type ([-128,127] for INT8).
void TypeRange(tflite::TensorType type, int32_t* min, int32_t* max);
// Quantized multiplier and shift for `multiplier`, or an error naming `what`.
Status QuantizeMultiplierOrError(const Node& node, double multiplier, const char* what, int32_t* q, int32_t* shift);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_OPS_OPS_H_
