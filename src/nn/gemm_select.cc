// The one place that picks the training GEMM by CPU features (see gemm.h).
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "nn/gemm.h"
#include "nn/vec.h"

namespace edgeloop::nn {
namespace {

GemmIsa BestAvailable() {
#if defined(EDGELOOP_NN_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return GemmIsa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::kAvx2;
#endif
  return GemmIsa::kPortable;
}

GemmIsa Select() {
  GemmIsa best = BestAvailable();
  const char* cap = std::getenv("EDGELOOP_NN_ISA");
  if (cap == nullptr) return best;
  GemmIsa want = best;
  if (std::strcmp(cap, "portable") == 0) want = GemmIsa::kPortable;
  if (std::strcmp(cap, "avx2") == 0) want = GemmIsa::kAvx2;
  if (std::strcmp(cap, "avx512") == 0) want = GemmIsa::kAvx512;
  return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

}  // namespace

const char* GemmIsaName(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kPortable: return "portable";
    case GemmIsa::kAvx2: return "avx2";
    case GemmIsa::kAvx512: return "avx512";
  }
  return "?";
}

bool GemmIsaAvailable(GemmIsa isa) { return static_cast<int>(isa) <= static_cast<int>(BestAvailable()); }

GemmFn GemmFor(GemmIsa isa) {
#if defined(EDGELOOP_NN_X86)
  if (isa == GemmIsa::kAvx512) return GemmAvx512;
  if (isa == GemmIsa::kAvx2) return GemmAvx2;
#endif
  (void)isa;
  return GemmPortable;
}

namespace {
std::atomic<int> g_selected{-1};  // a GemmIsa once chosen
}  // namespace

GemmIsa SelectedGemmIsa() {
  int v = g_selected.load(std::memory_order_relaxed);
  if (v < 0) {
    v = static_cast<int>(Select());
    g_selected.store(v, std::memory_order_relaxed);
  }
  return static_cast<GemmIsa>(v);
}

void SetGemmIsaForTesting(GemmIsa isa) {
  if (GemmIsaAvailable(isa)) g_selected.store(static_cast<int>(isa), std::memory_order_relaxed);
}

const VecKernels& VecKernelsFor(int isa) {
  static const VecKernels kPortable{vec_portable::Adam, vec_portable::Transpose};
#if defined(EDGELOOP_NN_X86)
  static const VecKernels kAvx2{vec_avx2::Adam, vec_avx2::Transpose};
  static const VecKernels kAvx512{vec_avx512::Adam, vec_avx512::Transpose};
  if (isa == static_cast<int>(GemmIsa::kAvx512)) return kAvx512;
  if (isa == static_cast<int>(GemmIsa::kAvx2)) return kAvx2;
#endif
  (void)isa;
  return kPortable;
}

const VecKernels& SelectedVecKernels() { return VecKernelsFor(static_cast<int>(SelectedGemmIsa())); }

void Gemm(const GemmParams& g) { GemmFor(SelectedGemmIsa())(g); }

void BiasGradient(const float* dy, int rows, int cols, float* db) {
  static const float kOne = 1.0f;
  GemmParams g;
  g.m = 1;
  g.n = cols;
  g.k = rows;
  g.a = &kOne;  // A(0, p) = 1 for every p
  g.a_row = 0;
  g.a_col = 0;
  g.b = dy;
  g.ldb = cols;
  g.c = db;
  g.ldc = cols;
  Gemm(g);
}

}  // namespace edgeloop::nn
