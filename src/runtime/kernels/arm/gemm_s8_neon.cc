// INT8 CONV_2D / FULLY_CONNECTED rows for ARM64 NEON: weights pre-widened to int16, 8 channels per
// block, SMLAL by one input value per step (no dot-product extension needed).
#include <arm_neon.h>

#include "runtime/kernels/arm/arm_kernels.h"
#include "runtime/kernels/arm/requantize_neon.h"
#include "runtime/kernels/gemm_s8.h"

namespace edgeloop::runtime::arm {
namespace {

using optimized::GemmS8Info;

template <int MR>
void Tile(const int8_t* a, ptrdiff_t a_stride, const GemmS8Info& info, const uint8_t* packed, int j, int8_t* out) {
  const int ks = info.k_stride;
  const int16_t* w = reinterpret_cast<const int16_t*>(info.weights(packed)) + static_cast<ptrdiff_t>(j) * ks * 8;
  const int c0 = j * 8;
  int32x4_t acc_lo[MR], acc_hi[MR];
  const int32_t* bias = info.bias(packed) + c0;
  for (int r = 0; r < MR; ++r) acc_lo[r] = vld1q_s32(bias), acc_hi[r] = vld1q_s32(bias + 4);
  for (int i = 0; i < info.k; ++i) {
    const int16x8_t wv = vld1q_s16(w + static_cast<ptrdiff_t>(i) * 8);
    for (int r = 0; r < MR; ++r) {
      const int16_t x = a[r * a_stride + i];
      acc_lo[r] = vmlal_n_s16(acc_lo[r], vget_low_s16(wv), x);
      acc_hi[r] = vmlal_high_n_s16(acc_hi[r], wv, x);
    }
  }
  const int32x4_t offset = vdupq_n_s32(info.output_offset);
  const int32x4_t lo = vdupq_n_s32(info.act_min), hi = vdupq_n_s32(info.act_max);
  const RequantizeNeon q0 = LoadRequantize(info.multiplier(packed) + c0, info.left_shift(packed) + c0,
                                           info.right_shift(packed) + c0);
  const RequantizeNeon q1 = LoadRequantize(info.multiplier(packed) + c0 + 4, info.left_shift(packed) + c0 + 4,
                                           info.right_shift(packed) + c0 + 4);
  const int count = info.n - c0 < 8 ? info.n - c0 : 8;
  for (int r = 0; r < MR; ++r) {
    const int16x8_t s16 = vcombine_s16(vqmovn_s32(Requantize(acc_lo[r], q0, offset, lo, hi)),
                                       vqmovn_s32(Requantize(acc_hi[r], q1, offset, lo, hi)));
    const int8x8_t s8 = vqmovn_s16(s16);
    int8_t* o = out + static_cast<ptrdiff_t>(r) * info.n + c0;
    if (count == 8) {
      vst1_s8(o, s8);
    } else {
      int8_t tmp[8];
      vst1_s8(tmp, s8);
      for (int c = 0; c < count; ++c) o[c] = tmp[c];
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

void ConvS8Neon(const Node& node) { optimized::RunConvS8(node, GemmRows); }
void FullyConnectedS8Neon(const Node& node) { optimized::RunFullyConnectedS8(node, GemmRows); }

}  // namespace edgeloop::runtime::arm
