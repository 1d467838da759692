// INT8 CONV_2D / FULLY_CONNECTED rows for AVX-512 with VNNI: vpdpbusd multiplies the input bytes
// (flipped to uint8, hence a_bias -128 in the packed bias) by 16 channels x 4 weights at once.
// Compiled for those features by a target pragma; called only when the CPU has them.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
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
// (more independent dependency chains when there is a single row). kAcc: store the int32
// accumulators to acc (row stride n_blocks * 16) instead of requantizing to out.
// kReverse: walk k from the end (same sums: int32 addition wraps and commutes).
template <int MR, int NB, int KS, bool kFlipped, bool kAcc = false, bool kReverse = false>
void Tile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int j0, int8_t* out,
          int32_t* acc_out = nullptr) {
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
  const auto at = [kg](int i) { return kReverse ? kg - 1 - i : i; };
  int g = 0;
  for (; g + KS <= kg; g += KS) {
    for (int s = 0; s < KS; ++s) {
      const int gs = at(g + s);
      __m512i wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = _mm512_load_si512(w + static_cast<ptrdiff_t>(j) * kg + gs);
      for (int r = 0; r < MR; ++r) {
        const __m512i av = Broadcast4<kFlipped>(a + r * a_stride + 4 * gs);
        for (int j = 0; j < NB; ++j) acc[s][r][j] = _mm512_dpbusd_epi32(acc[s][r][j], av, wv[j]);
      }
    }
  }
  for (; g < kg; ++g) {
    const int gs = at(g);
    for (int r = 0; r < MR; ++r) {
      const __m512i av = Broadcast4<kFlipped>(a + r * a_stride + 4 * gs);
      for (int j = 0; j < NB; ++j) {
        acc[0][r][j] = _mm512_dpbusd_epi32(acc[0][r][j], av, _mm512_load_si512(w + static_cast<ptrdiff_t>(j) * kg + gs));
      }
    }
  }
  if constexpr (kAcc) {
    const ptrdiff_t stride = static_cast<ptrdiff_t>(info.n_blocks) * 16;
    for (int j = 0; j < NB; ++j) {
      for (int r = 0; r < MR; ++r) {
        __m512i sum = acc[0][r][j];
        for (int s = 1; s < KS; ++s) sum = _mm512_add_epi32(sum, acc[s][r][j]);
        _mm512_storeu_si512(acc_out + r * stride + (j0 + j) * 16, sum);
      }
    }
    return;
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

// acc[r * NB + j] = bias of block j0 + j + the dot products of patch row r (MR rows of a, stride
// a_stride; patches flipped to uint8 when kFlipped) with that block's packed weights. acc is a flat
// array so the compiler keeps every accumulator in a register.
template <int MR, int NB, bool kFlipped>
inline __attribute__((always_inline)) void AccumulateTile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info,
                                                          const uint8_t* packed, int j0, __m512i* acc) {
  const int kg = info.k_stride / 4;
  const auto* w = reinterpret_cast<const __m512i*>(info.weights(packed)) + static_cast<ptrdiff_t>(j0) * kg;
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const __m512i b = _mm512_load_si512(info.bias(packed) + (j0 + j) * 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r * NB + j] = b;
  }
  for (int g = 0; g < kg; ++g) {
    __m512i wv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) wv[j] = _mm512_load_si512(w + static_cast<ptrdiff_t>(j) * kg + g);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512i av = Broadcast4<kFlipped>(a + r * a_stride + 4 * g);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r * NB + j] = _mm512_dpbusd_epi32(acc[r * NB + j], av, wv[j]);
    }
  }
}

// MR rows x NB blocks of 16 channels of int32 accumulators, blocks j0.. (AccumulateTile);
// kAcc false: requantize and store int8 to q_out (row stride n) instead.
template <int MR, int NB, bool kFlipped = true, bool kAcc = true>
inline __attribute__((always_inline)) void AccTile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info,
                                                   const uint8_t* packed, int j0, int32_t* out,
                                                   int8_t* q_out = nullptr) {
  const ptrdiff_t out_stride = static_cast<ptrdiff_t>(info.n_blocks) * 16;
  __m512i acc[MR * NB];
  AccumulateTile<MR, NB, kFlipped>(a, a_stride, info, packed, j0, acc);
  if constexpr (!kAcc) {
    const __m512i offset = _mm512_set1_epi32(info.output_offset);
    const __m512i lo = _mm512_set1_epi32(info.act_min), hi = _mm512_set1_epi32(info.act_max);
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const int c0 = (j0 + j) * 16;
      const int count = info.n - c0 < 16 ? info.n - c0 : 16;
      const __m512i mult = _mm512_load_si512(info.multiplier(packed) + c0);
      const __m512i ls = _mm512_load_si512(info.left_shift(packed) + c0);
      const __m512i rs = _mm512_load_si512(info.right_shift(packed) + c0);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m128i bytes = _mm512_cvtsepi32_epi8(Requantize(acc[r * NB + j], mult, ls, rs, offset, lo, hi));
        int8_t* o = q_out + static_cast<ptrdiff_t>(r) * info.n + c0;
        if (count == 16) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(o), bytes);
        } else {
          _mm_mask_storeu_epi8(o, static_cast<__mmask16>((1u << count) - 1), bytes);
        }
      }
    }
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(out + r * out_stride + (j0 + j) * 16, acc[r * NB + j]);
  }
}

template <bool kFlipped>
void GemmRows(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info, const uint8_t* packed,
              int8_t* out) {
  const int nb = info.n_blocks;
  int r = 0;
  // Eight rows share each weight load (batched FULLY_CONNECTED: half the weight traffic of four).
  for (; r + 8 <= rows; r += 8) {
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n;
    const int8_t* ar = a + r * a_stride;
    int j = 0;
    for (; j + 2 <= nb; j += 2) AccTile<8, 2, kFlipped, false>(ar, a_stride, info, packed, j, nullptr, o);
    if (j < nb) AccTile<8, 1, kFlipped, false>(ar, a_stride, info, packed, j, nullptr, o);
  }
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

// Rows of int32 accumulators (row stride n_blocks * 16), patches already flipped.
void GemmAccRows(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info, const uint8_t* packed,
                 int32_t* acc) {
  const int nb = info.n_blocks;
  const ptrdiff_t stride = static_cast<ptrdiff_t>(nb) * 16;
  int r = 0;
  for (; r + 8 <= rows; r += 8) {
    const int8_t* ar = a + r * a_stride;
    int32_t* o = acc + r * stride;
    int j = 0;
    for (; j + 2 <= nb; j += 2) AccTile<8, 2>(ar, a_stride, info, packed, j, o);
    if (j < nb) AccTile<8, 1>(ar, a_stride, info, packed, j, o);
  }
  for (; r < rows; ++r) {
    const int8_t* ar = a + r * a_stride;
    int32_t* o = acc + r * stride;
    int j = 0;
    for (; j + 2 <= nb; j += 2) AccTile<1, 2>(ar, a_stride, info, packed, j, o);
    if (j < nb) AccTile<1, 1>(ar, a_stride, info, packed, j, o);
  }
}

// Requantization of 16 pooled accumulators with the shortcuts FuseMaxPool proved exact: the
// output offset and the rounding half of RoundingDivideByPOT are one per-channel addend (no wrap),
// and the conv's and the pool's clamps are one clamp.
struct FusedConsts {
  __m512i mult, mult_odd, lshift, rshift, addend, sign_mask, lo, hi;
};

// The block's constants, precomputed by FuseMaxPool (loads only).
inline FusedConsts LoadFusedConsts(const GemmS8Info& info, const uint8_t* packed, int c0) {
  FusedConsts k;
  k.mult = _mm512_load_si512(info.multiplier(packed) + c0);
  k.mult_odd = _mm512_load_si512(info.mult_odd(packed) + c0);
  k.lshift = _mm512_load_si512(info.left_shift(packed) + c0);
  k.rshift = _mm512_load_si512(info.right_shift(packed) + c0);
  k.addend = _mm512_load_si512(info.addend(packed) + c0);
  k.sign_mask = _mm512_load_si512(info.sign_mask(packed) + c0);
  k.lo = _mm512_set1_epi32(info.pool_lo), k.hi = _mm512_set1_epi32(info.pool_hi);
  return k;
}

// RoundingDivideByPOT(h, e) + offset == (h + 2^(e-1) - (h < 0) + offset * 2^e) >> e for e > 0
// (ties away from zero), and h + offset for e == 0. kAllRound: e > 0 in every lane. Returns
// int8 values in the low bytes.
template <bool kShiftLeft, bool kAllRound, bool kClamp>
inline __m128i RequantizeFused(__m512i x, const FusedConsts& k) {
  if constexpr (kShiftLeft) x = _mm512_sllv_epi32(x, k.lshift);
  const __m512i round = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, k.mult), round), 31);
  const __m512i odd =
      _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), k.mult_odd), round), 1);
  // (mult_odd holds each odd lane's multiplier in the even lane below it.)
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  __m512i sign = _mm512_srai_epi32(high, 31);
  if constexpr (!kAllRound) sign = _mm512_and_si512(sign, k.sign_mask);
  __m512i v = _mm512_srav_epi32(_mm512_add_epi32(_mm512_add_epi32(high, k.addend), sign), k.rshift);
  if constexpr (kClamp) v = _mm512_min_epi32(_mm512_max_epi32(v, k.lo), k.hi);
  return _mm512_cvtsepi32_epi8(v);
}

// Stores 16 bytes whole (a masked narrowing store is microcoded on some cores), or a tail.
inline void Store16(int8_t* o, __m128i bytes, int count) {
  if (count >= 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), bytes);
  } else {
    _mm_mask_storeu_epi8(o, static_cast<__mmask16>((1u << count) - 1), bytes);
  }
}

template <bool kShiftLeft, bool kAllRound, bool kClamp>
void PoolBlock(const GemmS8Info& info, const FusedConsts& k, const int32_t* acc, int c0, int8_t* out) {
  const ptrdiff_t stride = static_cast<ptrdiff_t>(info.n_blocks) * 16;
  const int count = info.n - c0;
  const int fh = info.pool_filter_h, fw = info.pool_filter_w;
  // VALID windows never clip (nor are empty): no bounds to compute per window.
  if (info.pool_pad_h == 0 && info.pool_pad_w == 0 && (info.pool_out_h - 1) * info.pool_stride_h + fh <= info.pool_in_h &&
      (info.pool_out_w - 1) * info.pool_stride_w + fw <= info.pool_in_w) {
    const ptrdiff_t row = static_cast<ptrdiff_t>(info.pool_in_w) * stride;
    for (int oy = 0; oy < info.pool_out_h; ++oy) {
      const int32_t* a = acc + static_cast<ptrdiff_t>(oy) * info.pool_stride_h * row + c0;
      int8_t* o = out + static_cast<ptrdiff_t>(oy) * info.pool_out_w * info.n + c0;
      for (int ox = 0; ox < info.pool_out_w; ++ox, a += info.pool_stride_w * stride, o += info.n) {
        __m512i m = _mm512_loadu_si512(a);
        for (int y = 0; y < fh; ++y) {
          for (int x = 0; x < fw; ++x) m = _mm512_max_epi32(m, _mm512_loadu_si512(a + y * row + x * stride));
        }
        Store16(o, RequantizeFused<kShiftLeft, kAllRound, kClamp>(m, k), count);
      }
    }
    return;
  }
  const auto empty = static_cast<char>(std::clamp<int32_t>(-128, info.pool_act_min, info.pool_act_max));
  for (int oy = 0; oy < info.pool_out_h; ++oy) {
    const int in_y0 = oy * info.pool_stride_h - info.pool_pad_h;
    const int y0 = std::max(in_y0, 0), y1 = std::min(in_y0 + fh, info.pool_in_h);
    for (int ox = 0; ox < info.pool_out_w; ++ox) {
      const int in_x0 = ox * info.pool_stride_w - info.pool_pad_w;
      const int x0 = std::max(in_x0, 0), x1 = std::min(in_x0 + fw, info.pool_in_w);
      int8_t* o = out + (static_cast<ptrdiff_t>(oy) * info.pool_out_w + ox) * info.n + c0;
      if (y0 >= y1 || x0 >= x1) {
        Store16(o, _mm_set1_epi8(empty), count);  // the reference's max of nothing: -128, clamped by the pool
        continue;
      }
      __m512i m = _mm512_set1_epi32(INT32_MIN);
      for (int y = y0; y < y1; ++y) {
        const int32_t* r = acc + static_cast<ptrdiff_t>(y) * info.pool_in_w * stride + c0;
        for (int x = x0; x < x1; ++x) m = _mm512_max_epi32(m, _mm512_loadu_si512(r + x * stride));
      }
      Store16(o, RequantizeFused<kShiftLeft, kAllRound, kClamp>(m, k), count);
    }
  }
}

// The pooled windows of one image's accumulators, requantized once each (see FuseMaxPool).
void PoolRequantize(const GemmS8Info& info, const uint8_t* packed, const int32_t* acc, int8_t* out) {
  for (int j = 0; j < info.n_blocks; ++j) {
    const int c0 = j * 16;
    const FusedConsts k = LoadFusedConsts(info, packed, c0);
    if (!info.pool_shift_left && info.pool_all_round && !info.pool_clamps) {
      PoolBlock<false, true, false>(info, k, acc, c0, out);  // the usual case: ReLU with zero point -128
    } else if (!info.pool_shift_left && info.pool_all_round) {
      PoolBlock<false, true, true>(info, k, acc, c0, out);
    } else {
      PoolBlock<true, false, true>(info, k, acc, c0, out);
    }
  }
}

// MR patches (MR even) x NB blocks: accumulate, max-pool consecutive pairs in registers and
// requantize the MR / 2 pooled outputs to out (row stride n) (FuseMaxPool's pool_pairs).
template <int MR, int NB, bool kShiftLeft, bool kAllRound, bool kClamp>
inline __attribute__((always_inline)) void PairTile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info,
                                                    const uint8_t* packed, int j0, int8_t* out) {
  __m512i acc[MR * NB];
  AccumulateTile<MR, NB, true>(a, a_stride, info, packed, j0, acc);
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const int c0 = (j0 + j) * 16;
    const FusedConsts k = LoadFusedConsts(info, packed, c0);
#pragma GCC unroll 4
    for (int r = 0; r < MR / 2; ++r) {
      const __m512i m = _mm512_max_epi32(acc[2 * r * NB + j], acc[(2 * r + 1) * NB + j]);
      Store16(out + static_cast<ptrdiff_t>(r) * info.n + c0, RequantizeFused<kShiftLeft, kAllRound, kClamp>(m, k),
              info.n - c0);
    }
  }
}

// One conv output row of info.out_w patches, pooled in pairs (an odd last patch is dropped, as the
// VALID pool drops it).
template <bool kShiftLeft, bool kAllRound, bool kClamp>
void PairRows(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int8_t* out) {
  const int nb = info.n_blocks, pixels = info.out_w;
  int p = 0;
  for (; p + 8 <= pixels; p += 8) {
    int8_t* o = out + static_cast<ptrdiff_t>(p / 2) * info.n;
    int j = 0;
    for (; j + 2 <= nb; j += 2) PairTile<8, 2, kShiftLeft, kAllRound, kClamp>(a + p * a_stride, a_stride, info, packed, j, o);
    if (j < nb) PairTile<8, 1, kShiftLeft, kAllRound, kClamp>(a + p * a_stride, a_stride, info, packed, j, o);
  }
  for (; p + 2 <= pixels; p += 2) {
    int8_t* o = out + static_cast<ptrdiff_t>(p / 2) * info.n;
    int j = 0;
    for (; j + 2 <= nb; j += 2) PairTile<2, 2, kShiftLeft, kAllRound, kClamp>(a + p * a_stride, a_stride, info, packed, j, o);
    if (j < nb) PairTile<2, 1, kShiftLeft, kAllRound, kClamp>(a + p * a_stride, a_stride, info, packed, j, o);
  }
}

}  // namespace

void ConvMaxPoolS8Avx512Vnni(const Node& node) {
  const GemmS8Info& info = optimized::Info(node);
  const uint8_t* packed = node.packed.get();
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  auto* acc = reinterpret_cast<int32_t*>(node.scratch);
  auto* patches = reinterpret_cast<int8_t*>(node.scratch + info.acc_bytes);
  const ptrdiff_t row_acc = static_cast<ptrdiff_t>(info.out_w) * info.n_blocks * 16;
  const int64_t image = static_cast<int64_t>(info.in_h) * info.in_w * info.in_c;
  const int64_t pooled = static_cast<int64_t>(info.pool_out_h) * info.pool_out_w * info.n;
  if (info.pool_pairs) {
    using PairRowsFn = void (*)(const int8_t*, ptrdiff_t, const GemmS8Info&, const uint8_t*, int8_t*);
    const PairRowsFn pair_rows = !info.pool_shift_left && info.pool_all_round && !info.pool_clamps
                                     ? PairRows<false, true, false>
                                 : !info.pool_shift_left && info.pool_all_round ? PairRows<false, true, true>
                                                                                : PairRows<true, false, true>;
    for (int b = 0; b < info.batches; ++b) {
      optimized::ForEachConvRow(info, input + b * image, patches, true, [&](const int8_t* a, ptrdiff_t a_stride, int) {
        pair_rows(a, a_stride, info, packed, output + b * pooled);
      });
    }
    return;
  }
  for (int b = 0; b < info.batches; ++b) {
    optimized::ForEachConvRow(info, input + b * image, patches, true, [&](const int8_t* a, ptrdiff_t a_stride, int oy) {
      GemmAccRows(a, a_stride, info.out_w, info, packed, acc + oy * row_acc);
    });
    PoolRequantize(info, packed, acc, output + b * pooled);
  }
}

void ConvS8Avx512Vnni(const Node& node) { optimized::RunConvS8(node, GemmRows<true>, /*flip_input=*/true); }
void FullyConnectedS8Avx512Vnni(const Node& node) {
  const GemmS8Info& info = optimized::Info(node);
  if (info.batches != 1 || info.k != info.k_stride) {
    optimized::RunFullyConnectedS8(node, GemmRows<false>);
    return;
  }
  // One row streams all the weights, which rarely fit in L1: walk them forwards and backwards on
  // alternate invokes, so each invoke starts with the part the previous one left in L1.
  const int8_t* a = node.in(0).as<int8_t>();
  int8_t* out = node.out(0).as<int8_t>();
  const uint8_t* packed = node.packed.get();
  const bool reverse = (node.invocations++ & 1u) != 0;
  const int nb = info.n_blocks;
  if (reverse) {
    int j = nb;
    for (; j >= 4; j -= 4) Tile<1, 4, 2, false, false, true>(a, info.k, info, packed, j - 4, out);
    for (; j >= 2; j -= 2) Tile<1, 2, 4, false, false, true>(a, info.k, info, packed, j - 2, out);
    if (j == 1) Tile<1, 1, 4, false, false, true>(a, info.k, info, packed, 0, out);
  } else {
    int j = 0;
    for (; j + 4 <= nb; j += 4) Tile<1, 4, 2, false>(a, info.k, info, packed, j, out);
    for (; j + 2 <= nb; j += 2) Tile<1, 2, 4, false>(a, info.k, info, packed, j, out);
    if (j < nb) Tile<1, 1, 4, false>(a, info.k, info, packed, j, out);
  }
}

}  // namespace edgeloop::runtime::x86

#pragma GCC diagnostic pop
#pragma GCC pop_options
