// INT8 CONV_2D / FULLY_CONNECTED rows for ARM64 with the dot-product extension: SDOT multiplies 4
// input bytes by 4 channels x 4 weights; a block of 16 channels is four such registers. Compiled
// for +dotprod by a target pragma; chosen only when the CPU reports it (HWCAP_ASIMDDP).
#include <arm_neon.h>

#include <cstring>

#include "runtime/kernels/arm/arm_kernels.h"
#include "runtime/kernels/arm/requantize_neon.h"
#include "runtime/kernels/gemm_s8.h"

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")

namespace edgeloop::runtime::arm {
namespace {

using optimized::GemmS8Info;

template <int MR>
void Tile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int j, int8_t* out) {
  const int kg = info.k_stride / 4;
  const int8_t* w = reinterpret_cast<const int8_t*>(info.weights(packed)) + static_cast<ptrdiff_t>(j) * kg * 64;
  const int c0 = j * 16;
  int32x4_t acc[MR][4];
  const int32_t* bias = info.bias(packed) + c0;
  for (int r = 0; r < MR; ++r) {
    for (int q = 0; q < 4; ++q) acc[r][q] = vld1q_s32(bias + 4 * q);
  }
  for (int g = 0; g < kg; ++g) {
    int8x16_t wv[4];
    for (int q = 0; q < 4; ++q) wv[q] = vld1q_s8(w + static_cast<ptrdiff_t>(g) * 64 + 16 * q);
    for (int r = 0; r < MR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * a_stride + 4 * g, 4);
      const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(v));
      for (int q = 0; q < 4; ++q) acc[r][q] = vdotq_s32(acc[r][q], wv[q], av);
    }
  }
  const int32x4_t offset = vdupq_n_s32(info.output_offset);
  const int32x4_t lo = vdupq_n_s32(info.act_min), hi = vdupq_n_s32(info.act_max);
  RequantizeNeon rq[4];
  for (int q = 0; q < 4; ++q) {
    const int c = c0 + 4 * q;
    rq[q] = LoadRequantize(info.multiplier(packed) + c, info.left_shift(packed) + c, info.right_shift(packed) + c);
  }
  const int count = info.n - c0 < 16 ? info.n - c0 : 16;
  for (int r = 0; r < MR; ++r) {
    const int16x8_t s0 = vcombine_s16(vqmovn_s32(Requantize(acc[r][0], rq[0], offset, lo, hi)),
                                      vqmovn_s32(Requantize(acc[r][1], rq[1], offset, lo, hi)));
    const int16x8_t s1 = vcombine_s16(vqmovn_s32(Requantize(acc[r][2], rq[2], offset, lo, hi)),
                                      vqmovn_s32(Requantize(acc[r][3], rq[3], offset, lo, hi)));
    const int8x16_t s8 = vcombine_s8(vqmovn_s16(s0), vqmovn_s16(s1));
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n + c0;
    if (count == 16) {
      vst1q_s8(o, s8);
    } else {
      int8_t tmp[16];
      vst1q_s8(tmp, s8);
      std::memcpy(o, tmp, static_cast<size_t>(count));
    }
  }
}

void GemmRows(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info, const uint8_t* packed,
              int8_t* out) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    for (int j = 0; j < info.n_blocks; ++j) {
      Tile<4>(a + r * a_stride, a_stride, info, packed, j, out + static_cast<ptrdiff_t>(r) * info.n);
    }
  }
  for (; r < rows; ++r) {
    for (int j = 0; j < info.n_blocks; ++j) {
      Tile<1>(a + r * a_stride, a_stride, info, packed, j, out + static_cast<ptrdiff_t>(r) * info.n);
    }
  }
}

}  // namespace

void ConvS8NeonDot(const Node& node) { optimized::RunConvS8(node, GemmRows); }
void FullyConnectedS8NeonDot(const Node& node) { optimized::RunFullyConnectedS8(node, GemmRows); }

}  // namespace edgeloop::runtime::arm

#pragma GCC pop_options
