// Element-wise kernels (vec.h), compiled with -mavx512f -mavx512vl (-ffp-contract=off keeps the
// FMA unit out of them, so the results equal the portable ones).
#include <immintrin.h>

#include "nn/vec.h"

#define EL_VEC_TRANSPOSE_8X8 1
namespace edgeloop::nn::vec_avx512 {
#include "nn/vec_impl.inc"
}  // namespace edgeloop::nn::vec_avx512
