// The operators the runtime runs, the highest operator-code version it accepts for each, and their
// Prepare. Versions above these may add semantics edgeloop does not implement, so they are refused.
#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

using tflite::BuiltinOp;

constexpr OpSupport kOps[] = {
    {BuiltinOp::kAdd, 5, PrepareAdd},
    {BuiltinOp::kAveragePool2D, 3, PrepareAveragePool2D},
    {BuiltinOp::kConv2D, 8, PrepareConv2D},
    {BuiltinOp::kDepthwiseConv2D, 7, PrepareDepthwiseConv2D},
    {BuiltinOp::kDequantize, 6, PrepareDequantize},
    {BuiltinOp::kFullyConnected, 12, PrepareFullyConnected},
    {BuiltinOp::kLogistic, 3, PrepareLogistic},
    {BuiltinOp::kMaxPool2D, 3, PrepareMaxPool2D},
    {BuiltinOp::kMul, 7, PrepareMul},
    {BuiltinOp::kRelu, 3, PrepareRelu},
    {BuiltinOp::kRelu6, 3, PrepareRelu6},
    {BuiltinOp::kReshape, 3, PrepareReshape},
    {BuiltinOp::kSoftmax, 3, PrepareSoftmax},
    {BuiltinOp::kTanh, 3, PrepareTanh},
    {BuiltinOp::kPad, 4, PreparePad},
    {BuiltinOp::kMean, 3, PrepareMean},
    {BuiltinOp::kSub, 5, PrepareSub},
    {BuiltinOp::kSqueeze, 2, PrepareSqueeze},
    {BuiltinOp::kStridedSlice, 8, PrepareStridedSlice},
    {BuiltinOp::kExpandDims, 3, PrepareExpandDims},
    {BuiltinOp::kShape, 1, PrepareShape},
    {BuiltinOp::kPack, 4, PreparePack},
    {BuiltinOp::kQuantize, 3, PrepareQuantize},
};

}  // namespace

const OpSupport* FindOpSupport(BuiltinOp op) {
  for (const OpSupport& s : kOps) {
    if (s.op == op) return &s;
  }
  return nullptr;
}

}  // namespace edgeloop::runtime
