// What the CPU this process runs on can execute, detected once (CPUID and XGETBV on x86-64, the
// kernel's hardware capability bits on ARM64). Thread-safety: the first call initialises a static.
#ifndef EDGELOOP_RUNTIME_KERNELS_CPU_FEATURES_H_
#define EDGELOOP_RUNTIME_KERNELS_CPU_FEATURES_H_

namespace edgeloop::runtime {

struct CpuFeatures {
  bool avx2 = false;         // AVX2 with OS support for the YMM state
  bool avx512_vnni = false;  // AVX-512 F, BW, VL and VNNI with OS support for the ZMM state
  bool neon = false;         // ARM64 Advanced SIMD
  bool neon_dot = false;     // ARM64 SDOT/UDOT (ASIMDDP)
};

const CpuFeatures& GetCpuFeatures();

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_KERNELS_CPU_FEATURES_H_
