// AVX2 + FMA GEMM (gemm.h): MR x (8 * NV) register tiles (12x8, 6x16, 4x24: 12 accumulators of
// 16 ymm), the last column vector masked with vmaskmov. Same per-element FMA order as the
// portable kernel, so the same bits.
//
// Compiled with -mavx2 -mfma: no standard-library templates or shared inline functions here
// (see gemm_avx512.cc).
#include <immintrin.h>

#include "nn/gemm.h"

namespace edgeloop::nn {
namespace {

struct Args {
  int k;
  std::ptrdiff_t a_row, a_col, ldb, ldc;
  bool accumulate;
  __m256 lo, hi;
};

template <int MR, int NV>
void Tile(const Args& x, const float* a, const float* b, float* c, const float* bias, __m256i mask) {
  __m256 acc[MR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      if (x.accumulate) {
        acc[r][v] = v == NV - 1 ? _mm256_maskload_ps(c + r * x.ldc + 8 * v, mask)
                                : _mm256_loadu_ps(c + r * x.ldc + 8 * v);
      } else {
        acc[r][v] = _mm256_setzero_ps();
      }
    }
  }
  for (int p = 0; p < x.k; ++p) {
    const float* bp = b + p * x.ldb;
    __m256 bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      bv[v] = v == NV - 1 ? _mm256_maskload_ps(bp + 8 * v, mask) : _mm256_loadu_ps(bp + 8 * v);
    }
    const float* ap = a + p * x.a_col;
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(ap + r * x.a_row);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  __m256 bias_v[NV];
  if (bias != nullptr) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      bias_v[v] = v == NV - 1 ? _mm256_maskload_ps(bias + 8 * v, mask) : _mm256_loadu_ps(bias + 8 * v);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      __m256 o = acc[r][v];
      if (bias != nullptr) o = _mm256_add_ps(o, bias_v[v]);
      o = _mm256_max_ps(o, x.lo);
      o = _mm256_min_ps(o, x.hi);
      if (v == NV - 1) {
        _mm256_maskstore_ps(c + r * x.ldc + 8 * v, mask, o);
      } else {
        _mm256_storeu_ps(c + r * x.ldc + 8 * v, o);
      }
    }
  }
}

using TileFn = void (*)(const Args&, const float*, const float*, float*, const float*, __m256i);

constexpr int kMaxMr[4] = {0, 12, 6, 4};  // rows per tile for NV = 1..3

#define EL_ROW(NV)                                                                                           \
  {Tile<1, NV>, Tile<2, NV>, Tile<3, NV>, Tile<4, NV>, (NV <= 2 ? Tile<5, NV> : nullptr),                    \
   (NV <= 2 ? Tile<6, NV> : nullptr), (NV <= 1 ? Tile<7, NV> : nullptr), (NV <= 1 ? Tile<8, NV> : nullptr),  \
   (NV <= 1 ? Tile<9, NV> : nullptr), (NV <= 1 ? Tile<10, NV> : nullptr), (NV <= 1 ? Tile<11, NV> : nullptr), \
   (NV <= 1 ? Tile<12, NV> : nullptr)}
const TileFn kTiles[3][12] = {EL_ROW(1), EL_ROW(2), EL_ROW(3)};
#undef EL_ROW

}  // namespace

void GemmAvx2(const GemmParams& g) {
  Args x{g.k, g.a_row, g.a_col, g.ldb, g.ldc, g.accumulate, _mm256_set1_ps(g.lo), _mm256_set1_ps(g.hi)};
  for (int j = 0; j < g.n;) {
    const int rem = g.n - j;
    const int nv = rem >= 24 ? 3 : (rem + 7) / 8;
    const int cols = rem >= 24 ? 24 : rem;
    const int last_lanes = cols - 8 * (nv - 1);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(last_lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int max_mr = kMaxMr[nv];
    const float* bias = g.bias != nullptr ? g.bias + j : nullptr;
    for (int i = 0; i < g.m;) {
      const int mr = g.m - i < max_mr ? g.m - i : max_mr;
      kTiles[nv - 1][mr - 1](x, g.a + i * g.a_row, g.b + j, g.c + i * g.ldc + j, bias, mask);
      i += mr;
    }
    j += cols;
  }
}

}  // namespace edgeloop::nn
