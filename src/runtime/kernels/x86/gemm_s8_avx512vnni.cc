// INT8 CONV_2D / FULLY_CONNECTED rows for AVX-512 with VNNI: vpdpbusd multiplies the input bytes
// (flipped to uint8, hence a_bias -128 in the packed bias) by 16 channels x 4 weights at once.
// Compiled for those features by a target pragma; called only when the CPU has them.
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/gemm_s8.h"
#include "runtime/kernels/x86/x86_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")
// GCC 12 flags the deliberately undefined source operand of its own AVX-512 intrinsics
// (_mm512_undefined_epi32) as uninitialised once they are inlined under a target pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace edgeloop::runtime::x86 {
namespace {

using optimized::GemmS8Info;

// The reference's MultiplyByQuantizedMultiplier on 16 lanes, then offset and clamp:
//   SaturatingRoundingDoublingHighMul(x, q) == floor((x * q + 2^30) / 2^31) when q >= 0, and only
//   the low 32 bits of that are kept, so a logical 64-bit shift does.
inline __m512i Requantize(__m512i acc, __m512i mult, __m512i lshift, __m512i rshift, __m512i offset, __m512i lo,
                          __m512i hi) {
  const __m512i x = _mm512_sllv_epi32(acc, lshift);
  const __m512i round = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, mult), round), 31);
  const __m512i odd = _mm512_slli_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(mult, 32)), round), 1);
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  // RoundingDivideByPOT: ties away from zero.
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, rshift), one);
  const __m512i remainder = _mm512_and_si512(high, mask);
  const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(high, 31));
  __m512i v = _mm512_srav_epi32(high, rshift);
  v = _mm512_mask_add_epi32(v, _mm512_cmpgt_epi32_mask(remainder, threshold), v, one);
  v = _mm512_add_epi32(v, offset);
  return _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
}

// 4 input bytes as uint8 (x + 128), broadcast: already flipped in the patch (kFlipped), or flipped
// here.
template <bool kFlipped>
inline __m512i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(kFlipped ? v : static_cast<int32_t>(static_cast<uint32_t>(v) ^ 0x80808080u));
}

// MR rows x NB blocks of 16 channels starting at block j0. KS accumulator sets split the k loop
// (more independent dependency chains when there is a single row).
template <int MR, int NB, int KS, bool kFlipped>
void Tile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int j0, int8_t* out) {
  const int kg = info.k_stride / 4;
  const auto* w = reinterpret_cast<const __m512i*>(info.weights(packed)) + static_cast<ptrdiff_t>(j0) * kg;
  __m512i acc[KS][MR][NB];
  for (int j = 0; j < NB; ++j) {
    const __m512i b = _mm512_load_si512(info.bias(packed) + (j0 + j) * 16);
    for (int r = 0; r < MR; ++r) {
      acc[0][r][j] = b;
      for (int s = 1; s < KS; ++s) acc[s][r][j] = _mm512_setzero_si512();
    }
  }
  int g = 0;
  for (; g + KS <= kg; g += KS) {
    for (int s = 0; s < KS; ++s) {
      __m512i wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = _mm512_load_si512(w + static_cast<ptrdiff_t>(j) * kg + g + s);
      for (int r = 0; r < MR; ++r) {
        const __m512i av = Broadcast4<kFlipped>(a + r * a_stride + 4 * (g + s));
        for (int j = 0; j < NB; ++j) acc[s][r][j] = _mm512_dpbusd_epi32(acc[s][r][j], av, wv[j]);
      }
    }
  }
  for (; g < kg; ++g) {
    for (int r = 0; r < MR; ++r) {
      const __m512i av = Broadcast4<kFlipped>(a + r * a_stride + 4 * g);
      for (int j = 0; j < NB; ++j) {
        acc[0][r][j] = _mm512_dpbusd_epi32(acc[0][r][j], av, _mm512_load_si512(w + static_cast<ptrdiff_t>(j) * kg + g));
      }
    }
  }
  const __m512i offset = _mm512_set1_epi32(info.output_offset);
  const __m512i lo = _mm512_set1_epi32(info.act_min), hi = _mm512_set1_epi32(info.act_max);
  for (int j = 0; j < NB; ++j) {
    const int c0 = (j0 + j) * 16;
    const int count = info.n - c0 < 16 ? info.n - c0 : 16;
    const __mmask16 store = static_cast<__mmask16>((1u << count) - 1);
    const __m512i mult = _mm512_load_si512(info.multiplier(packed) + c0);
    const __m512i ls = _mm512_load_si512(info.left_shift(packed) + c0);
    const __m512i rs = _mm512_load_si512(info.right_shift(packed) + c0);
    for (int r = 0; r < MR; ++r) {
      __m512i sum = acc[0][r][j];
      for (int s = 1; s < KS; ++s) sum = _mm512_add_epi32(sum, acc[s][r][j]);
      const __m512i v = Requantize(sum, mult, ls, rs, offset, lo, hi);
      _mm_mask_storeu_epi8(out + static_cast<ptrdiff_t>(r) * info.n + c0, store, _mm512_cvtsepi32_epi8(v));
    }
  }
}

template <bool kFlipped>
void GemmRows(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info, const uint8_t* packed,
              int8_t* out) {
  const int nb = info.n_blocks;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n;
    const int8_t* ar = a + r * a_stride;
    int j = 0;
    for (; j + 2 <= nb; j += 2) Tile<4, 2, 1, kFlipped>(ar, a_stride, info, packed, j, o);
    if (j < nb) Tile<4, 1, 1, kFlipped>(ar, a_stride, info, packed, j, o);
  }
  for (; r < rows; ++r) {
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n;
    const int8_t* ar = a + r * a_stride;
    int j = 0;
    for (; j + 4 <= nb; j += 4) Tile<1, 4, 2, kFlipped>(ar, a_stride, info, packed, j, o);
    for (; j + 2 <= nb; j += 2) Tile<1, 2, 4, kFlipped>(ar, a_stride, info, packed, j, o);
    if (j < nb) Tile<1, 1, 4, kFlipped>(ar, a_stride, info, packed, j, o);
  }
}

}  // namespace

void ConvS8Avx512Vnni(const Node& node) { optimized::RunConvS8(node, GemmRows<true>, /*flip_input=*/true); }
void FullyConnectedS8Avx512Vnni(const Node& node) { optimized::RunFullyConnectedS8(node, GemmRows<false>); }

}  // namespace edgeloop::runtime::x86

#pragma GCC diagnostic pop
#pragma GCC pop_options
