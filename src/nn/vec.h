// Internal to src/nn: element-wise training kernels (Adam, weight transposes, gradient sums),
// compiled once per ISA from one source (vec_impl.inc) so the compiler can vectorise them, and
// selected with the GEMM (gemm_select.cc). They use only exactly-rounded IEEE operations (add,
// mul, div, sqrt; no contraction: nn builds with -ffp-contract=off), so every ISA gives the same
// bits.
#ifndef EDGELOOP_SRC_NN_VEC_H_
#define EDGELOOP_SRC_NN_VEC_H_

#include <cstddef>

namespace edgeloop::nn {

struct AdamArgs {
  float lr_t;          // step size with the bias correction folded in (AdamStepSize)
  float one_minus_b1, one_minus_b2, epsilon;
  float* params;
  float* m;
  float* v;
  const float* const* grads;  // gradient buffers, summed in order; only read
  int num_grads;
};

struct VecKernels {
  // The Adam update (adam.h) of elements [begin, end).
  void (*adam)(const AdamArgs& a, size_t begin, size_t end);
  // dst[c * rows + r] = src[r * cols + c] for rows r in [r0, r1).
  void (*transpose)(const float* src, int rows, int cols, int r0, int r1, float* dst);
};

const VecKernels& VecKernelsFor(int isa);  // isa: static_cast<int>(GemmIsa)
const VecKernels& SelectedVecKernels();

namespace vec_portable {
void Adam(const AdamArgs& a, size_t begin, size_t end);
void Transpose(const float* src, int rows, int cols, int r0, int r1, float* dst);
}  // namespace vec_portable
namespace vec_avx2 {
void Adam(const AdamArgs& a, size_t begin, size_t end);
void Transpose(const float* src, int rows, int cols, int r0, int r1, float* dst);
}  // namespace vec_avx2
namespace vec_avx512 {
void Adam(const AdamArgs& a, size_t begin, size_t end);
void Transpose(const float* src, int rows, int cols, int r0, int r1, float* dst);
}  // namespace vec_avx512

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_VEC_H_
