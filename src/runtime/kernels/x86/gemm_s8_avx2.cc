// INT8 CONV_2D / FULLY_CONNECTED rows for AVX2: inputs and weights widened to int16 and multiplied
// in pairs by vpmaddwd into 8 int32 channels (no int16 saturation, unlike vpmaddubsw).
// Compiled for AVX2 by a target pragma; called only when the CPU has it.
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/gemm_s8.h"
#include "runtime/kernels/x86/x86_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2")

namespace edgeloop::runtime::x86 {
namespace {

using optimized::GemmS8Info;

// See gemm_s8_avx512vnni.cc: the reference's requantization on 8 lanes.
inline __m256i Requantize(__m256i acc, __m256i mult, __m256i lshift, __m256i rshift, __m256i offset, __m256i lo,
                          __m256i hi) {
  const __m256i x = _mm256_sllv_epi32(acc, lshift);
  const __m256i round = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, mult), round), 31);
  const __m256i odd = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)), round), 1);
  const __m256i high = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rshift), one);
  const __m256i remainder = _mm256_and_si256(high, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(high, 31));
  __m256i v = _mm256_srav_epi32(high, rshift);
  v = _mm256_sub_epi32(v, _mm256_cmpgt_epi32(remainder, threshold));
  v = _mm256_add_epi32(v, offset);
  return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
}

inline void Store8(int8_t* out, __m256i v, int count) {
  const __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i s8 = _mm_packs_epi16(s16, s16);
  if (count == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), s8);
  } else {
    alignas(16) int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), s8);
    std::memcpy(out, tmp, static_cast<size_t>(count));
  }
}

// MR rows x NB blocks of 8 channels starting at block j0.
template <int MR, int NB>
void Tile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int j0, int8_t* out) {
  const int kp = info.k_stride / 2;
  const auto* w = reinterpret_cast<const __m256i*>(info.weights(packed)) + static_cast<ptrdiff_t>(j0) * kp;
  __m256i acc[MR][NB];
  for (int j = 0; j < NB; ++j) {
    const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(info.bias(packed) + (j0 + j) * 8));
    for (int r = 0; r < MR; ++r) acc[r][j] = b;
  }
  for (int g = 0; g < kp; g += 2) {
    __m256i w01[NB], w23[NB];
    for (int j = 0; j < NB; ++j) {
      w01[j] = _mm256_load_si256(w + static_cast<ptrdiff_t>(j) * kp + g);
      w23[j] = _mm256_load_si256(w + static_cast<ptrdiff_t>(j) * kp + g + 1);
    }
    for (int r = 0; r < MR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * a_stride + 2 * g, 4);
      const __m128i x = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(v));
      const __m256i p01 = _mm256_broadcastd_epi32(x);
      const __m256i p23 = _mm256_broadcastd_epi32(_mm_srli_si128(x, 4));
      for (int j = 0; j < NB; ++j) {
        acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(p01, w01[j]));
        acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(p23, w23[j]));
      }
    }
  }
  const __m256i offset = _mm256_set1_epi32(info.output_offset);
  const __m256i lo = _mm256_set1_epi32(info.act_min), hi = _mm256_set1_epi32(info.act_max);
  for (int j = 0; j < NB; ++j) {
    const int c0 = (j0 + j) * 8;
    const int count = info.n - c0 < 8 ? info.n - c0 : 8;
    const auto load = [&](const int32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p + c0)); };
    const __m256i mult = load(info.multiplier(packed)), ls = load(info.left_shift(packed));
    const __m256i rs = load(info.right_shift(packed));
    for (int r = 0; r < MR; ++r) {
      Store8(out + static_cast<ptrdiff_t>(r) * info.n + c0, Requantize(acc[r][j], mult, ls, rs, offset, lo, hi), count);
    }
  }
}

void GemmRows(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info, const uint8_t* packed,
              int8_t* out) {
  const int nb = info.n_blocks;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n;
    const int8_t* ar = a + r * a_stride;
    int j = 0;
    for (; j + 2 <= nb; j += 2) Tile<4, 2>(ar, a_stride, info, packed, j, o);
    if (j < nb) Tile<4, 1>(ar, a_stride, info, packed, j, o);
  }
  for (; r < rows; ++r) {
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n;
    const int8_t* ar = a + r * a_stride;
    int j = 0;
    for (; j + 4 <= nb; j += 4) Tile<1, 4>(ar, a_stride, info, packed, j, o);
    for (; j < nb; ++j) Tile<1, 1>(ar, a_stride, info, packed, j, o);
  }
}

}  // namespace

void ConvS8Avx2(const Node& node) { optimized::RunConvS8(node, GemmRows); }
void FullyConnectedS8Avx2(const Node& node) { optimized::RunFullyConnectedS8(node, GemmRows); }

}  // namespace edgeloop::runtime::x86

#pragma GCC pop_options
