// Brings a float graph into the form the quantizer works on (see quantize.h): constant weights in
// float32, constant RESHAPE targets, MEAN over spatial axes as AVERAGE_POOL_2D, standalone
// RELU/RELU6 fused into the op that produces their input, dilations along size-1 kernel axes made
// equal, dead operators and tensors removed, no shape_signature. Then checks that every operator
// left is one the quantizer handles. Internal to src/quant. Thread-safety: free functions on values.
#ifndef EDGELOOP_QUANT_NORMALIZE_H_
#define EDGELOOP_QUANT_NORMALIZE_H_

#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::quant {

// Rewrites `g` in place; appends one line per rewrite to `notes`. Errors: InvalidArgument naming the
// operator (index and opcode, in the graph as given) and why it cannot be quantized, or the tensor.
Status NormalizeFloatGraph(tflite::Graph* g, std::vector<std::string>* notes);

// True for the operators the quantizer turns into INT8 ones (after normalisation).
bool IsQuantizableOp(tflite::BuiltinOp op);

}  // namespace edgeloop::quant

#endif  // EDGELOOP_QUANT_NORMALIZE_H_
