// AVX-512 GEMM (gemm.h): MR x (16 * NV) register tiles (6x64, 8x48, 12x32, 16x16: 24 or fewer
// accumulators of 32 zmm), B rows loaded as vectors, A elements broadcast, the last column
// vector masked. No packing: every operand of edgeloop's models fits in L2.
//
// This file is compiled with -mavx512f -mavx512vl; it must not instantiate standard-library
// templates or other inline functions shared with the rest of the program (a copy built with
// AVX-512 could be the one the linker keeps), hence only intrinsics and file-local code.
#include <immintrin.h>

#include "nn/gemm.h"

namespace edgeloop::nn {
namespace {

struct Args {
  int k;
  std::ptrdiff_t a_row, a_col, ldb, ldc;
  bool accumulate;
  __m512 lo, hi;
};

template <int MR, int NV>
void Tile(const Args& x, const float* a, const float* b, float* c, const float* bias, __mmask16 mask) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (x.accumulate) {
        acc[r][v] = v == NV - 1 ? _mm512_maskz_loadu_ps(mask, c + r * x.ldc + 16 * v)
                                : _mm512_loadu_ps(c + r * x.ldc + 16 * v);
      } else {
        acc[r][v] = _mm512_setzero_ps();
      }
    }
  }
  for (int p = 0; p < x.k; ++p) {
    const float* bp = b + p * x.ldb;
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(mask, bp + 16 * v) : _mm512_loadu_ps(bp + 16 * v);
    }
    const float* ap = a + p * x.a_col;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ap[r * x.a_row]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  __m512 bias_v[NV];
  if (bias != nullptr) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      bias_v[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(mask, bias + 16 * v) : _mm512_loadu_ps(bias + 16 * v);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 o = acc[r][v];
      if (bias != nullptr) o = _mm512_add_ps(o, bias_v[v]);
      // o > lo ? o : lo, then o < hi ? o : hi (compare + blend: _mm512_max_ps trips a GCC 12
      // -Wmaybe-uninitialized in its own header).
      o = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(o, x.lo, _CMP_GT_OQ), x.lo, o);
      o = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(o, x.hi, _CMP_LT_OQ), x.hi, o);
      if (v == NV - 1) {
        _mm512_mask_storeu_ps(c + r * x.ldc + 16 * v, mask, o);
      } else {
        _mm512_storeu_ps(c + r * x.ldc + 16 * v, o);
      }
    }
  }
}

using TileFn = void (*)(const Args&, const float*, const float*, float*, const float*, __mmask16);

constexpr int kMaxMr[5] = {0, 16, 12, 8, 6};  // rows per tile for NV = 1..4

// kTiles[nv - 1][mr - 1]: null where mr exceeds kMaxMr[nv].
#define EL_ROW(NV)                                                                                        \
  {Tile<1, NV>,  Tile<2, NV>,  Tile<3, NV>,  Tile<4, NV>,  Tile<5, NV>,                                   \
   Tile<6, NV>,  (NV <= 3 ? Tile<7, NV> : nullptr), (NV <= 3 ? Tile<8, NV> : nullptr),                    \
   (NV <= 2 ? Tile<9, NV> : nullptr), (NV <= 2 ? Tile<10, NV> : nullptr), (NV <= 2 ? Tile<11, NV> : nullptr), \
   (NV <= 2 ? Tile<12, NV> : nullptr), (NV <= 1 ? Tile<13, NV> : nullptr), (NV <= 1 ? Tile<14, NV> : nullptr), \
   (NV <= 1 ? Tile<15, NV> : nullptr), (NV <= 1 ? Tile<16, NV> : nullptr)}
const TileFn kTiles[4][16] = {EL_ROW(1), EL_ROW(2), EL_ROW(3), EL_ROW(4)};
#undef EL_ROW

}  // namespace

void GemmAvx512(const GemmParams& g) {
  Args x{g.k, g.a_row, g.a_col, g.ldb, g.ldc, g.accumulate, _mm512_set1_ps(g.lo), _mm512_set1_ps(g.hi)};
  for (int j = 0; j < g.n;) {
    const int rem = g.n - j;
    const int nv = rem >= 64 ? 4 : (rem + 15) / 16;
    const int cols = rem >= 64 ? 64 : rem;
    const int last_lanes = cols - 16 * (nv - 1);
    const __mmask16 mask = static_cast<__mmask16>(last_lanes == 16 ? 0xFFFF : (1u << last_lanes) - 1);
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
