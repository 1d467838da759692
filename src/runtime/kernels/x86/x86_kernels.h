// x86-64 optimized kernels (one file per ISA level), chosen by kernel_select.cc only when the CPU
// has the features the file is compiled for. Each is bit-exact with its reference kernel.
// Thread-safety: as the reference kernels.
#ifndef EDGELOOP_RUNTIME_KERNELS_X86_X86_KERNELS_H_
#define EDGELOOP_RUNTIME_KERNELS_X86_X86_KERNELS_H_

#include "runtime/node.h"

namespace edgeloop::runtime::x86 {

// gemm_s8_avx2.cc (layout kK2N8S16, a_bias 0)
void ConvS8Avx2(const Node& node);
void FullyConnectedS8Avx2(const Node& node);
// maxpool_s8_avx2.cc (no packing)
void MaxPoolS8Avx2(const Node& node);
// gemm_s8_avx512vnni.cc (layout kK4N16S8, a_bias -128)
void ConvS8Avx512Vnni(const Node& node);
void FullyConnectedS8Avx512Vnni(const Node& node);
// CONV_2D with a MAX_POOL_2D fused in (optimized::FuseMaxPool; same packing as ConvS8Avx512Vnni)
void ConvMaxPoolS8Avx512Vnni(const Node& node);

}  // namespace edgeloop::runtime::x86

#endif  // EDGELOOP_RUNTIME_KERNELS_X86_X86_KERNELS_H_
