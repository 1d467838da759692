// Internal to src/nn: the single-precision matrix product every trainable layer runs on.
//
//   C[i, j] = clamp(sum_p A(i, p) * B[p, j] (+ C[i, j] when accumulating) (+ bias[j]), lo, hi)
//
// A has arbitrary row and column strides, so the three products of training (forward X*W,
// weight gradient X^T*dY, input gradient dY*W^T with W^T stored) are one kernel; B and C are
// row-major. The contract that makes training reproducible across kernels: each C element is
// one fused multiply-add chain over p = 0..k-1 in order, starting from 0 (or C), then + bias, then
// the clamp (v = v > lo ? v : lo; v = v < hi ? v : hi). Every ISA variant therefore returns the
// same bits (tested at tolerance 0 against the portable kernel).
//
// Kernels: portable (std::fma, the specification), AVX2+FMA and AVX-512 (register-blocked
// micro-kernels, masked tails), chosen once by CPU features in gemm_select.cc.
// Thread-safety: pure functions; the selection is made once, thread-safely.
#ifndef EDGELOOP_SRC_NN_GEMM_H_
#define EDGELOOP_SRC_NN_GEMM_H_

#include <cstddef>
#include <limits>

namespace edgeloop::nn {

struct GemmParams {
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;
  std::ptrdiff_t a_row = 0, a_col = 1;  // A(i, p) = a[i * a_row + p * a_col]
  const float* b = nullptr;
  std::ptrdiff_t ldb = 0;               // B(p, j) = b[p * ldb + j]
  float* c = nullptr;
  std::ptrdiff_t ldc = 0;               // C(i, j) = c[i * ldc + j]
  const float* bias = nullptr;          // n values, or null
  bool accumulate = false;              // start from C instead of 0
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

enum class GemmIsa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

using GemmFn = void (*)(const GemmParams&);

void GemmPortable(const GemmParams& g);
#if defined(EDGELOOP_NN_X86)
void GemmAvx2(const GemmParams& g);    // needs AVX2 + FMA
void GemmAvx512(const GemmParams& g);  // needs AVX-512 F + VL
#endif

// The best ISA this CPU supports, capped by the environment variable EDGELOOP_NN_ISA
// (portable, avx2, avx512) so tests and benchmarks can compare kernels.
GemmIsa SelectedGemmIsa();
const char* GemmIsaName(GemmIsa isa);
// True if this build and CPU can run `isa`.
bool GemmIsaAvailable(GemmIsa isa);
GemmFn GemmFor(GemmIsa isa);  // isa must be available
// Makes every later Gemm / element-wise kernel use `isa` (ignored if unavailable). For tests
// and benchmarks comparing kernels; not while training runs.
void SetGemmIsaForTesting(GemmIsa isa);

// Runs the selected kernel.
void Gemm(const GemmParams& g);

// db[j] = sum over rows r (in order) of dy[r * cols + j]: a bias gradient, as the product of a
// row of ones with dy (fma(1, d, s) is exactly s + d, so this is the plain ordered sum).
void BiasGradient(const float* dy, int rows, int cols, float* db);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_GEMM_H_
