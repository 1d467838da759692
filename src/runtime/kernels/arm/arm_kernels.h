// ARM64 optimized kernels (Advanced SIMD is part of the base ARMv8-A ISA; the dot-product kernels
// are compiled for +dotprod and chosen only when the CPU reports it). Bit-exact with the reference.
// Thread-safety: as the reference kernels.
#ifndef EDGELOOP_RUNTIME_KERNELS_ARM_ARM_KERNELS_H_
#define EDGELOOP_RUNTIME_KERNELS_ARM_ARM_KERNELS_H_

#include "runtime/node.h"

namespace edgeloop::runtime::arm {

// gemm_s8_neon.cc (layout kK1N8S16, a_bias 0)
void ConvS8Neon(const Node& node);
void FullyConnectedS8Neon(const Node& node);
// gemm_s8_neondot.cc (layout kK4N16S8, a_bias 0)
void ConvS8NeonDot(const Node& node);
void FullyConnectedS8NeonDot(const Node& node);
// maxpool_s8_neon.cc
void MaxPoolS8Neon(const Node& node);

}  // namespace edgeloop::runtime::arm

#endif  // EDGELOOP_RUNTIME_KERNELS_ARM_ARM_KERNELS_H_
