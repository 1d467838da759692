// The one place edgeloop's INT8 arithmetic requantizes: TFLite's fixed-point scheme, reproduced
// exactly so results are bit-exact with TFLite's reference kernels (the "double rounding" build,
// TFLite's and TFLite Micro's default):
//
//   real multiplier M > 0  ->  (quantized_multiplier q in [2^30, 2^31), shift s) with M ~ q * 2^(s-31)
//   y = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^max(s,0), q), max(-s,0))
//
// Input contract (asserted in debug builds; Prepare guarantees it, so only programmer errors can
// break it): quantized multipliers are >= 0, shifts lie in [-31, 30], RoundingDivideByPOT exponents
// in [0, 31]. Data-dependent overflow never aborts: where TFLite's C++ would overflow a signed
// int32 (undefined behaviour that wraps on every target it ships on), these helpers wrap explicitly.
// Thread-safety: pure functions.
#ifndef EDGELOOP_RUNTIME_KERNELS_QUANT_MATH_H_
#define EDGELOOP_RUNTIME_KERNELS_QUANT_MATH_H_

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

namespace edgeloop::runtime {

inline constexpr int kMinShift = -31;
inline constexpr int kMaxShift = 30;

// Two's-complement wrapping arithmetic on int32 (defined behaviour, same bits as the hardware).
inline int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t WrappingSub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
// a * 2^shift for shift in [0, 31], wrapping.
inline int32_t WrappingShiftLeft(int32_t a, int shift) {
  assert(shift >= 0 && shift <= 31);
  return static_cast<int32_t>(static_cast<uint32_t>(a) << shift);
}

// (a * b * 2) / 2^32 rounded to nearest (ties toward +infinity), saturating the one overflow case
// (-1 * -1). ARM VQRDMULH.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : high;
}

// x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  assert(exponent >= 0 && exponent <= 31);
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * M for the M that (quantized_multiplier, shift) stands for.
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift) {
  assert(quantized_multiplier >= 0);
  assert(shift >= kMinShift && shift <= kMaxShift);
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(WrappingShiftLeft(x, left_shift), quantized_multiplier),
                             right_shift);
}

// The form softmax uses for its input scaling: left_shift >= 0, no right shift.
inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x, int32_t quantized_multiplier, int left_shift) {
  assert(quantized_multiplier >= 0);
  assert(left_shift >= 0 && left_shift <= kMaxShift);
  return SaturatingRoundingDoublingHighMul(WrappingShiftLeft(x, left_shift), quantized_multiplier);
}

// TFLite's QuantizeMultiplier: M = q * 2^(shift-31) with q in [2^30, 2^31), rounding q half away
// from zero; M == 0 gives (0, 0); M < 2^-31 flushes to (0, 0). Returns false (and leaves the outputs
// unspecified) when M is negative, not finite, or needs a shift above kMaxShift: such a model is
// rejected in Prepare instead of reaching undefined shifts in a kernel.
inline bool QuantizeMultiplier(double multiplier, int32_t* quantized_multiplier, int* shift) {
  if (!std::isfinite(multiplier) || multiplier < 0) return false;
  if (multiplier == 0.0) {
    *quantized_multiplier = 0;
    *shift = 0;
    return true;
  }
  int exponent = 0;
  const double q = std::frexp(multiplier, &exponent);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < kMinShift) {
    exponent = 0;
    q_fixed = 0;
  }
  if (exponent > kMaxShift) return false;
  *quantized_multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
  return true;
}

// floor(((2^integer_bits) - 1) * 2^(total_bits - integer_bits) / 2^left_shift): the largest input
// magnitude that still fits after scaling (TFLite's CalculateInputRadius). left_shift in [0, 62].
inline int32_t CalculateInputRadius(int integer_bits, int left_shift, int total_bits = 31) {
  assert(left_shift >= 0 && left_shift < 63);
  const double max_input_rescaled = 1.0 * ((1 << integer_bits) - 1) *
                                    static_cast<double>(int64_t{1} << (total_bits - integer_bits)) /
                                    static_cast<double>(int64_t{1} << left_shift);
  return static_cast<int32_t>(std::floor(max_input_rescaled));
}

// Float -> int32 the way TFLite rounds (std::round: half away from zero), saturating instead of the
// undefined conversion of out-of-range values; NaN becomes 0. Used by every quantizing kernel.
inline int32_t RoundToInt32Saturating(float value) {
  if (std::isnan(value)) return 0;
  const float r = std::round(value);
  if (r >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
  if (r < -2147483648.0f) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(r);
}

// zero_point + round(value / scale) clamped to [qmin, qmax]: TFLite's AffineQuantize arithmetic
// (the division in float, as TFLite does), with saturation in place of overflow.
inline int32_t AffineQuantize(float value, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const int64_t q = static_cast<int64_t>(RoundToInt32Saturating(value / scale)) + zero_point;
  if (q < qmin) return qmin;
  if (q > qmax) return qmax;
  return static_cast<int32_t>(q);
}

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_KERNELS_QUANT_MATH_H_
