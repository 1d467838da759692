// The one place that maps a prepared node's KernelId to the function that runs it. Today every
// KernelId maps to its reference kernel; optimized kernels (x86 AVX2/AVX-512, ARM NEON, in
// src/runtime/kernels/x86/ and arm/) are registered in kernel_select.cc's optimized table, each
// guarded by the CPU features it needs, and fall back to the reference when absent.
// Thread-safety: pure lookups over immutable tables.
#ifndef EDGELOOP_RUNTIME_KERNEL_SELECT_H_
#define EDGELOOP_RUNTIME_KERNEL_SELECT_H_

#include "edgeloop/runtime/interpreter.h"
#include "runtime/node.h"

namespace edgeloop::runtime {

struct KernelChoice {
  KernelFn fn = nullptr;
  const char* name = "";  // XNNPACK-style: "conv_s8_ref", "fc_s8_4x16_avx2"
};

// The kernel for `id` under `set`: an optimized kernel the CPU supports when `set` is kAuto and one
// exists, else the reference kernel. fn is nullptr only for KernelId::kNone / kCount.
KernelChoice SelectKernel(KernelId id, KernelSet set);

// The reference kernel for `id` (what optimized kernels are tested against).
KernelChoice ReferenceKernel(KernelId id);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_KERNEL_SELECT_H_
