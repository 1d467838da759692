// The one place that maps a prepared node's KernelId to the function that runs it: an optimized
// kernel (src/runtime/kernels/x86/, arm/) when the kernel level allows it, the CPU supports it and
// the kernel accepts the node's parameters (packing its weights then), else the reference kernel.
// Thread-safety: pure lookups over immutable tables; SelectKernel writes only the node it is given.
#ifndef EDGELOOP_RUNTIME_KERNEL_SELECT_H_
#define EDGELOOP_RUNTIME_KERNEL_SELECT_H_

#include "edgeloop/runtime/interpreter.h"
#include "runtime/node.h"

namespace edgeloop::runtime {

struct KernelChoice {
  KernelFn fn = nullptr;
  const char* name = "";  // XNNPACK-style: "conv_s8_ref", "conv_s8_k4n16_avx512vnni"
};

// Sets node.kernel / kernel_name for the node under `set` (a resolved level, never kAuto), and for
// an optimized kernel its packed data and scratch size. False only for KernelId::kNone / kCount.
bool SelectKernel(Node& node, KernelSet set);

// Fuses a MAX_POOL_2D into the CONV_2D whose output only it reads (through aliases at most), when
// the conv's kernel has a fused variant and optimized::FuseMaxPool proves the fusion bit-exact:
// sets conv's kernel, name and scratch and returns true; the caller then points conv's output at
// the pool's and skips the pool. False leaves both nodes unchanged.
bool FuseConvMaxPool(Node& conv, const Node& pool);

// The reference kernel for `id` (what optimized kernels are tested against).
KernelChoice ReferenceKernel(KernelId id);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_KERNEL_SELECT_H_
