// 32-bit fixed-point numbers and the few transcendental functions the INT8 softmax and logistic
// kernels need, computed exactly as TFLite's reference kernels compute them (gemmlowp's fixed-point
// polynomial and Newton-Raphson formulas and constants), so those kernels are bit-exact too.
//
// Fixed<I> holds a raw int32 r meaning r / 2^(31 - I): I integer bits, 31 - I fractional bits.
// Products add integer bits; Rescale changes them with saturating/rounding shifts. Additions wrap
// explicitly where gemmlowp's would overflow (undefined behaviour there, a wrap on real hardware).
// Thread-safety: pure functions.
#ifndef EDGELOOP_RUNTIME_KERNELS_FIXED_POINT_H_
#define EDGELOOP_RUNTIME_KERNELS_FIXED_POINT_H_

#include <cstdint>
#include <limits>

#include "runtime/kernels/quant_math.h"

namespace edgeloop::runtime::fixed {

template <int kIntegerBits>
struct Fixed {
  static_assert(kIntegerBits >= 0 && kIntegerBits < 32, "bad integer bits");
  static constexpr int kFractionalBits = 31 - kIntegerBits;
  int32_t raw;

  static constexpr Fixed FromRaw(int32_t r) { return Fixed{r}; }
  static constexpr Fixed Zero() { return Fixed{0}; }
  static constexpr Fixed One() {
    return Fixed{kIntegerBits == 0 ? std::numeric_limits<int32_t>::max() : (int32_t{1} << kFractionalBits)};
  }
  template <int kExponent>
  static constexpr Fixed ConstantPOT() {
    static_assert(kFractionalBits + kExponent >= 0 && kFractionalBits + kExponent < 31, "not representable");
    return Fixed{int32_t{1} << (kFractionalBits + kExponent)};
  }
};

template <int A, int B>
Fixed<A + B> operator*(Fixed<A> a, Fixed<B> b) {
  return Fixed<A + B>::FromRaw(SaturatingRoundingDoublingHighMul(a.raw, b.raw));
}
template <int A>
Fixed<A> operator+(Fixed<A> a, Fixed<A> b) {
  return Fixed<A>::FromRaw(WrappingAdd(a.raw, b.raw));
}
template <int A>
Fixed<A> operator-(Fixed<A> a, Fixed<A> b) {
  return Fixed<A>::FromRaw(WrappingSub(a.raw, b.raw));
}
template <int A>
Fixed<A> operator-(Fixed<A> a) {
  return Fixed<A>::FromRaw(WrappingSub(0, a.raw));
}
template <int A>
Fixed<A> operator&(Fixed<A> a, Fixed<A> b) {
  return Fixed<A>::FromRaw(a.raw & b.raw);
}

// x * 2^kExponent: a saturating left shift for kExponent > 0, a rounding right shift for < 0.
template <int kExponent>
int32_t SaturatingRoundingMultiplyByPOT(int32_t x) {
  if constexpr (kExponent == 0) {
    return x;
  } else if constexpr (kExponent > 0) {
    constexpr int32_t kThreshold = (int32_t{1} << (31 - kExponent)) - 1;
    if (x > kThreshold) return std::numeric_limits<int32_t>::max();
    if (x < -kThreshold) return std::numeric_limits<int32_t>::min();
    return WrappingShiftLeft(x, kExponent);
  } else {
    return RoundingDivideByPOT(x, -kExponent);
  }
}

template <int kExponent, int A>
Fixed<A> SaturatingRoundingMultiplyByPOT(Fixed<A> a) {
  return Fixed<A>::FromRaw(SaturatingRoundingMultiplyByPOT<kExponent>(a.raw));
}

template <int kDst, int kSrc>
Fixed<kDst> Rescale(Fixed<kSrc> x) {
  return Fixed<kDst>::FromRaw(SaturatingRoundingMultiplyByPOT<kSrc - kDst>(x.raw));
}

template <int kExponent, int A>
Fixed<A + kExponent> ExactMulByPot(Fixed<A> a) {
  return Fixed<A + kExponent>::FromRaw(a.raw);
}

// (a + b) / 2 rounded to nearest, ties away from zero.
inline int32_t RoundingHalfSum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// Leading zero bits of x (32 for 0).
inline int CountLeadingZeros(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while ((x & 0x80000000u) == 0) {
    x <<= 1;
    ++n;
  }
  return n;
}

// exp(a) for a in [-1/4, 0): Taylor expansion around -1/8.
inline Fixed<0> ExpOnIntervalNegativeQuarterTo0(Fixed<0> a) {
  using F = Fixed<0>;
  const F constant_term = F::FromRaw(1895147668);     // exp(-1/8)
  const F constant_1_over_3 = F::FromRaw(715827883);  // 1/3
  const F x = a + F::ConstantPOT<-3>();
  const F x2 = x * x;
  const F x3 = x2 * x;
  const F x4 = x2 * x2;
  const F x4_over_4 = SaturatingRoundingMultiplyByPOT<-2>(x4);
  const F x4_over_24_plus_x3_over_6_plus_x2_over_2 =
      SaturatingRoundingMultiplyByPOT<-1>(((x4_over_4 + x3) * constant_1_over_3) + x2);
  return constant_term + constant_term * (x + x4_over_24_plus_x3_over_6_plus_x2_over_2);
}

// exp(a) for a <= 0, as Fixed<0>: the fractional quarter by the polynomial above, the rest by
// multiplying with exp(-2^k) for each set bit k (a barrel shifter over precomputed constants).
template <int I>
Fixed<0> ExpOnNegativeValues(Fixed<I> a) {
  using InputF = Fixed<I>;
  using ResultF = Fixed<0>;
  constexpr int kFractionalBits = InputF::kFractionalBits;
  const InputF one_quarter = InputF::template ConstantPOT<-2>();
  const InputF mask = one_quarter - InputF::FromRaw(1);
  const InputF a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  ResultF result = ExpOnIntervalNegativeQuarterTo0(Rescale<0>(a_mod_quarter_minus_one_quarter));
  const int32_t remainder = (a_mod_quarter_minus_one_quarter - a).raw;

  struct Step {
    int exponent;
    int32_t multiplier;  // exp(-2^exponent) as Q0.31
  };
  constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
                             {2, 39332535},    {3, 720401},      {4, 242}};
  for (const Step& s : kSteps) {
    if (I > s.exponent) {
      const int shift = kFractionalBits + s.exponent;
      if (remainder & (int32_t{1} << shift)) result = result * ResultF::FromRaw(s.multiplier);
    }
  }
  if constexpr (I > 5) {
    const InputF clamp = InputF::FromRaw(-(int32_t{1} << (36 - I)));  // -32.0
    if (a.raw < clamp.raw) result = ResultF::Zero();
  }
  if (a.raw == 0) result = ResultF::One();
  return result;
}

// 1 / (1 + a) for a in [0, 1): three Newton-Raphson steps from 48/17 - 32/17 * d.
inline Fixed<0> OneOverOnePlusXForXIn01(Fixed<0> a) {
  using F0 = Fixed<0>;
  using F2 = Fixed<2>;
  const F0 half_denominator = F0::FromRaw(RoundingHalfSum(a.raw, F0::One().raw));
  const F2 constant_48_over_17 = F2::FromRaw(1515870810);
  const F2 constant_neg_32_over_17 = F2::FromRaw(-1010580540);
  F2 x = constant_48_over_17 + half_denominator * constant_neg_32_over_17;
  for (int i = 0; i < 3; ++i) {
    const F2 half_denominator_times_x = half_denominator * x;
    const F2 one_minus_half_denominator_times_x = F2::One() - half_denominator_times_x;
    x = x + Rescale<2>(x * one_minus_half_denominator_times_x);
  }
  return Rescale<0>(ExactMulByPot<-1>(x));
}

// 1 / (1 + exp(-a)) for any a, as Fixed<0>.
template <int I>
Fixed<0> Logistic(Fixed<I> a) {
  using ResultF = Fixed<0>;
  if (a.raw == 0) return ResultF::FromRaw(int32_t{1} << 30);  // 0.5
  const bool positive = a.raw > 0;
  const Fixed<I> abs_input = positive ? a : -a;
  const ResultF result_if_positive = OneOverOnePlusXForXIn01(ExpOnNegativeValues(-abs_input));
  return positive ? result_if_positive : ResultF::One() - result_if_positive;
}

// 1 / x for x a Fixed<x_integer_digits> raw value > 0, as a Fixed<0> scale and the number of bits
// the true reciprocal lies above it (TFLite's GetReciprocal).
inline int32_t GetReciprocal(int32_t x, int x_integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = CountLeadingZeros(static_cast<uint32_t>(x));
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const uint32_t shifted = headroom_plus_one >= 32 ? 0u : static_cast<uint32_t>(x) << headroom_plus_one;
  const int32_t shifted_sum_minus_one = static_cast<int32_t>(shifted - (uint32_t{1} << 31));
  return OneOverOnePlusXForXIn01(Fixed<0>::FromRaw(shifted_sum_minus_one)).raw;
}

}  // namespace edgeloop::runtime::fixed

#endif  // EDGELOOP_RUNTIME_KERNELS_FIXED_POINT_H_
