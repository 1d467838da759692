#include "quant/params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace edgeloop::quant {
namespace {

TEST(ActivationParams, RangeContainsZeroAndZeroIsExact) {
  const AffineParams p = ActivationParams(0.5f, 3.0f);  // widened to [0, 3]
  EXPECT_FLOAT_EQ(p.min, 0.0f);
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);
  const AffineParams q = ActivationParams(-1.0f, 1.0f);
  EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
  EXPECT_EQ(q.zero_point, static_cast<int32_t>(std::round(-128 + 1.0f / q.scale)));
  const AffineParams neg = ActivationParams(-4.0f, -1.0f);
  EXPECT_EQ(neg.zero_point, 127);
  EXPECT_FLOAT_EQ(neg.max, 0.0f);
}

TEST(ActivationParams, DeadTensorGetsUsableWidth) {
  const AffineParams p = ActivationParams(0, 0);
  EXPECT_GT(p.scale, 0.0f);
  EXPECT_GE(p.max - p.min, kMinRangeWidth);
}

TEST(QuantizeSymmetric, PerChannelScalesAndClamp) {
  // Two output channels of three values, channel dimension 0.
  const std::vector<float> w = {1.0f, -0.5f, 0.25f, 0.0f, 2.0f, -4.0f};
  const std::vector<int32_t> shape = {2, 3};
  const SymmetricWeights q = QuantizeSymmetric(w, shape, 0);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_FLOAT_EQ(q.scales[0], 1.0f / 127);
  EXPECT_FLOAT_EQ(q.scales[1], 4.0f / 127);
  EXPECT_EQ(q.values[0], 127);
  EXPECT_EQ(q.values[1], -64);  // -63.5 rounds away from zero
  EXPECT_EQ(q.values[5], -127);
  for (int8_t v : q.values) EXPECT_GE(v, -127);
}

TEST(QuantizeSymmetric, LastDimensionChannels) {
  const std::vector<float> w = {1, 10, -1, -10};  // [1, 2, 2] with channels along dim 2
  const std::vector<int32_t> shape = {1, 2, 2};
  const SymmetricWeights q = QuantizeSymmetric(w, shape, 2);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_FLOAT_EQ(q.scales[0], 1.0f / 127);
  EXPECT_FLOAT_EQ(q.scales[1], 10.0f / 127);
  EXPECT_EQ(q.values[2], -127);
}

TEST(QuantizeBias, ScaleIsInputTimesWeightAndLargeBiasRaisesFloor) {
  std::vector<float> scales;
  const std::vector<float> bias = {0.5f, -0.25f};
  const std::vector<float> ws = {0.01f, 0.02f};
  const std::vector<int32_t> q = QuantizeBias(bias, 0.1f, ws, &scales);
  EXPECT_FLOAT_EQ(scales[0], 0.1f * 0.01f);
  EXPECT_EQ(q[0], 500);
  EXPECT_EQ(q[1], -125);
  // A bias too large for int32 at a tiny weight scale raises the floor so it fits.
  const std::vector<float> big = {1e6f};
  const std::vector<float> floors = MinWeightScalesForBias(big, 1e-4f, 1);
  const std::vector<float> tiny = {1e-9f};
  std::vector<float> s2;
  const float used = std::max(tiny[0], floors[0]);
  const std::vector<float> used_v = {used};
  const std::vector<int32_t> qb = QuantizeBias(big, 1e-4f, used_v, &s2);
  EXPECT_LE(std::abs(static_cast<double>(qb[0])), kMaxBiasMagnitude);
}

TEST(QuantParams, MseRangeNarrowsForOutliersAndKeepsAnEvenSpread) {
  // A million values spread over [0, 1] and one at 2: the full range costs every value twice the
  // step (squared error ~5.1 in all), half the range clips the outlier by 1 (error ~1 + 1.3).
  std::vector<float> skewed;
  for (int i = 0; i < 1000000; ++i) skewed.push_back(static_cast<float>(i) / 999999.0f);
  skewed.push_back(2.0f);
  const AffineParams narrowed = MseActivationParams(skewed, 0.0f, 2.0f);
  EXPECT_LT(narrowed.max, 1.5f);
  EXPECT_EQ(narrowed.zero_point, -128);
  // Values spread evenly over [-1, 3]: clipping only adds error, the range stays min/max.
  std::vector<float> even;
  for (int i = 0; i <= 1000; ++i) even.push_back(-1.0f + 4.0f * static_cast<float>(i) / 1000.0f);
  const AffineParams full = MseActivationParams(even, -1.0f, 3.0f);
  const AffineParams minmax = ActivationParams(-1.0f, 3.0f);
  EXPECT_EQ(full.scale, minmax.scale);
  EXPECT_EQ(full.zero_point, minmax.zero_point);
}

}  // namespace
}  // namespace edgeloop::quant
