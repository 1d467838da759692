// INT8 SOFTMAX through a table, bit-exact with reference::SoftmaxS8: that kernel's exp term depends
// only on input_diff = x - max(row), an integer in [-255, 0] for int8, so Prepare evaluates it once
// per possible difference (TFLite's fixed-point exp, the same code) and the kernel looks it up. The
// rest (sum, reciprocal, rounding) is the reference's own code (softmax_s8_row.h). Portable C++: every
// optimized level uses it. Thread-safety: Pack in Prepare; Run only reads packed data.
#ifndef EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_H_
#define EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_H_

#include "runtime/node.h"

namespace edgeloop::runtime::optimized {

bool PackSoftmaxS8Lut(Node& node);
void SoftmaxS8Lut(const Node& node);

}  // namespace edgeloop::runtime::optimized

#endif  // EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_H_
