// The reference's MultiplyByQuantizedMultiplier + offset + clamp on 4 int32 lanes with NEON.
// VQRDMULH is exactly SaturatingRoundingDoublingHighMul; RoundingDivideByPOT is spelled out because
// VRSHL rounds ties towards +infinity where TFLite rounds them away from zero.
// Thread-safety: pure functions.
#ifndef EDGELOOP_RUNTIME_KERNELS_ARM_REQUANTIZE_NEON_H_
#define EDGELOOP_RUNTIME_KERNELS_ARM_REQUANTIZE_NEON_H_

#include <arm_neon.h>

namespace edgeloop::runtime::arm {

struct RequantizeNeon {
  int32x4_t mult, lshift, neg_rshift, mask, half;
};

inline RequantizeNeon LoadRequantize(const int32_t* mult, const int32_t* lshift, const int32_t* rshift) {
  RequantizeNeon r;
  r.mult = vld1q_s32(mult);
  r.lshift = vld1q_s32(lshift);
  const int32x4_t rs = vld1q_s32(rshift);
  r.neg_rshift = vnegq_s32(rs);
  r.mask = vsubq_s32(vshlq_s32(vdupq_n_s32(1), rs), vdupq_n_s32(1));
  r.half = vshrq_n_s32(r.mask, 1);
  return r;
}

inline int32x4_t Requantize(int32x4_t acc, const RequantizeNeon& q, int32x4_t offset, int32x4_t lo, int32x4_t hi) {
  const int32x4_t high = vqrdmulhq_s32(vshlq_s32(acc, q.lshift), q.mult);
  const int32x4_t remainder = vandq_s32(high, q.mask);
  const int32x4_t threshold = vsubq_s32(q.half, vshrq_n_s32(high, 31));
  int32x4_t v = vshlq_s32(high, q.neg_rshift);
  v = vsubq_s32(v, vreinterpretq_s32_u32(vcgtq_s32(remainder, threshold)));
  v = vaddq_s32(v, offset);
  return vminq_s32(vmaxq_s32(v, lo), hi);
}

}  // namespace edgeloop::runtime::arm

#endif  // EDGELOOP_RUNTIME_KERNELS_ARM_REQUANTIZE_NEON_H_
