#include "runtime/kernels/quant_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "runtime/kernels/fixed_point.h"

namespace edgeloop::runtime {
namespace {

TEST(QuantMath, SaturatingRoundingDoublingHighMul) {
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);  // 0.5 * 0.5 = 0.25
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);  // -1 * -1 saturates
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-(1 << 30), 1 << 30), -(1 << 29));
  // Rounding to nearest with ties toward +infinity, as VQRDMULH: 1.5 -> 2, -1.5 -> -1.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, 1 << 30), 2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, 1 << 30), -1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, 1 << 30), 1);   // 0.5 -> 1
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-1, 1 << 30), 0);  // -0.5 -> 0
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-5, 1 << 30), -2);  // -2.5 -> -2
}

TEST(QuantMath, RoundingDivideByPOTRoundsHalfAwayFromZero) {
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);    // 2.5
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);  // -2.5
  EXPECT_EQ(RoundingDivideByPOT(4, 1), 2);
  EXPECT_EQ(RoundingDivideByPOT(7, 2), 2);    // 1.75
  EXPECT_EQ(RoundingDivideByPOT(-7, 2), -2);
  EXPECT_EQ(RoundingDivideByPOT(6, 2), 2);    // 1.5
  EXPECT_EQ(RoundingDivideByPOT(-6, 2), -2);  // -1.5
  EXPECT_EQ(RoundingDivideByPOT(123, 0), 123);
  EXPECT_EQ(RoundingDivideByPOT(INT32_MAX, 31), 1);
  EXPECT_EQ(RoundingDivideByPOT(INT32_MIN, 31), -1);
}

TEST(QuantMath, QuantizeMultiplierMatchesTfliteConventions) {
  int32_t q = 0;
  int shift = 0;
  ASSERT_TRUE(QuantizeMultiplier(0.5, &q, &shift));
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 0);
  ASSERT_TRUE(QuantizeMultiplier(1.0, &q, &shift));
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
  ASSERT_TRUE(QuantizeMultiplier(0.0, &q, &shift));
  EXPECT_EQ(q, 0);
  EXPECT_EQ(shift, 0);
  // A q that rounds up to 2^31 is halved and the shift grows.
  ASSERT_TRUE(QuantizeMultiplier(std::nextafter(1.0, 0.0), &q, &shift));
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
  // Below 2^-31 flushes to zero.
  ASSERT_TRUE(QuantizeMultiplier(1e-12, &q, &shift));
  EXPECT_EQ(q, 0);
  EXPECT_EQ(shift, 0);
  // Not representable: refused, never an undefined shift later.
  EXPECT_FALSE(QuantizeMultiplier(std::ldexp(1.0, 40), &q, &shift));
  EXPECT_FALSE(QuantizeMultiplier(-0.5, &q, &shift));
  EXPECT_FALSE(QuantizeMultiplier(std::numeric_limits<double>::infinity(), &q, &shift));
  EXPECT_FALSE(QuantizeMultiplier(std::numeric_limits<double>::quiet_NaN(), &q, &shift));
}

TEST(QuantMath, MultiplyByQuantizedMultiplierTracksTheRealProduct) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> log_m(-20.0, 4.0);
  std::uniform_int_distribution<int32_t> xs(-(1 << 20), 1 << 20);
  for (int i = 0; i < 20000; ++i) {
    const double m = std::exp2(log_m(rng));
    int32_t q = 0;
    int shift = 0;
    ASSERT_TRUE(QuantizeMultiplier(m, &q, &shift));
    const int32_t x = xs(rng);
    const double exact = static_cast<double>(x) * m;
    if (std::abs(exact) > 1e9) continue;
    // Double rounding can be off by one from the exact product, never more.
    EXPECT_NEAR(MultiplyByQuantizedMultiplier(x, q, shift), exact, 1.0 + std::abs(exact) * 1e-9)
        << "x=" << x << " m=" << m;
  }
}

TEST(QuantMath, MultiplyByQuantizedMultiplierKnownValues) {
  int32_t q = 0;
  int shift = 0;
  ASSERT_TRUE(QuantizeMultiplier(0.25, &q, &shift));
  EXPECT_EQ(MultiplyByQuantizedMultiplier(10, q, shift), 3);    // 2.5 -> 3
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-10, q, shift), -3);  // -2.5 -> -3
  ASSERT_TRUE(QuantizeMultiplier(3.0, &q, &shift));
  EXPECT_EQ(MultiplyByQuantizedMultiplier(7, q, shift), 21);
  // Overflow of the left shift wraps like TFLite on real hardware instead of being undefined.
  ASSERT_TRUE(QuantizeMultiplier(std::ldexp(1.0, 29), &q, &shift));
  ASSERT_EQ(shift, 30);
  ASSERT_EQ(q, 1 << 30);
  // INT32_MAX << 30 wraps to -2^30; times 0.5 -> -2^29.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(INT32_MAX, q, shift), -(1 << 29));
}

TEST(QuantMath, AffineQuantizeRoundsHalfAwayFromZeroAndSaturates) {
  EXPECT_EQ(AffineQuantize(0.5f, 1.0f, 0, -128, 127), 1);
  EXPECT_EQ(AffineQuantize(-0.5f, 1.0f, 0, -128, 127), -1);
  EXPECT_EQ(AffineQuantize(1.5f, 1.0f, 0, -128, 127), 2);
  EXPECT_EQ(AffineQuantize(2.5f, 1.0f, 0, -128, 127), 3);
  EXPECT_EQ(AffineQuantize(0.0f, 0.1f, -5, -128, 127), -5);
  EXPECT_EQ(AffineQuantize(1000.0f, 0.1f, 0, -128, 127), 127);
  EXPECT_EQ(AffineQuantize(-1000.0f, 0.1f, 0, -128, 127), -128);
  EXPECT_EQ(AffineQuantize(1e30f, 1e-30f, 0, -128, 127), 127);  // past int32: saturates, no UB
  EXPECT_EQ(AffineQuantize(-std::numeric_limits<float>::infinity(), 1.0f, 10, 0, 255), 0);
  EXPECT_EQ(AffineQuantize(std::numeric_limits<float>::infinity(), 1.0f, 10, 0, 255), 255);
  EXPECT_EQ(AffineQuantize(std::numeric_limits<float>::quiet_NaN(), 1.0f, 10, 0, 255), 10);
}

TEST(QuantMath, CalculateInputRadius) {
  // TFLite's softmax with input_left_shift 0: (2^5 - 1) * 2^26.
  EXPECT_EQ(CalculateInputRadius(5, 0), 31 * (1 << 26));
  EXPECT_EQ(CalculateInputRadius(4, 27), 15);  // (2^4 - 1) * 2^27 / 2^27
}

TEST(FixedPoint, ExpOnNegativeValuesApproximatesExp) {
  using fixed::Fixed;
  for (double x = -15.9; x <= 0.0; x += 0.01) {
    const Fixed<5> in = Fixed<5>::FromRaw(static_cast<int32_t>(std::round(x * (1 << 26))));
    const double got = fixed::ExpOnNegativeValues(in).raw / 2147483648.0;
    EXPECT_NEAR(got, std::exp(in.raw / static_cast<double>(1 << 26)), 5e-7) << x;
  }
}

TEST(FixedPoint, LogisticAndReciprocal) {
  using fixed::Fixed;
  for (double x = -7.9; x <= 7.9; x += 0.05) {
    const Fixed<4> in = Fixed<4>::FromRaw(static_cast<int32_t>(std::round(x * (1 << 27))));
    const double got = fixed::Logistic(in).raw / 2147483648.0;
    EXPECT_NEAR(got, 1.0 / (1.0 + std::exp(-in.raw / static_cast<double>(1 << 27))), 2e-7) << x;
  }
  EXPECT_EQ(fixed::Logistic(Fixed<4>::FromRaw(0)).raw, 1 << 30);
  for (double x = 0.0; x < 1.0; x += 0.01) {
    const Fixed<0> in = Fixed<0>::FromRaw(static_cast<int32_t>(x * 2147483648.0));
    const double got = fixed::OneOverOnePlusXForXIn01(in).raw / 2147483648.0;
    EXPECT_NEAR(got, 1.0 / (1.0 + in.raw / 2147483648.0), 2e-8) << x;
  }
}

}  // namespace
}  // namespace edgeloop::runtime
