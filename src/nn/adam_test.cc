// Adam against values computed by hand from TensorFlow's update rule.
#include "nn/adam.h"

#include <gtest/gtest.h>

#include <cmath>

namespace edgeloop::nn {
namespace {

TEST(Adam, StepSizeFoldsTheBiasCorrection) {
  AdamConfig c;
  // t = 1: lr * sqrt(1 - 0.999) / (1 - 0.9) = 1e-3 * 0.0316227766 / 0.1
  EXPECT_FLOAT_EQ(AdamStepSize(c, 1), 3.16227766e-4f);
  // t = 2: 1e-3 * sqrt(1 - 0.998001) / (1 - 0.81) = 1e-3 * 0.0447101778 / 0.19
  EXPECT_FLOAT_EQ(AdamStepSize(c, 2), 2.35316725e-4f);
}

TEST(Adam, TwoStepsByHand) {
  AdamConfig c;
  float p[2] = {1.0f, -0.5f}, m[2] = {0, 0}, v[2] = {0, 0};
  float g0[2] = {0.2f, -0.1f}, g1[2] = {0.1f, 0.3f};  // two shards: g = (0.3, 0.2)
  float* grads[2] = {g0, g1};
  AdamUpdate(c, AdamStepSize(c, 1), p, m, v, grads, 2, 0, 2);
  // m = 0.1 g, v = 0.001 g^2, p -= lr_t * m / (sqrt(v) + eps)
  EXPECT_FLOAT_EQ(m[0], 0.03f);
  EXPECT_FLOAT_EQ(v[0], 0.00009f);
  // 3.16227766e-4 * 0.03 / (0.0094868330 + 1e-7) = 9.9998946e-4 (the first step moves ~lr)
  EXPECT_NEAR(p[0], 1.0f - 9.99989459e-4f, 1e-7);
  EXPECT_NEAR(p[1], -0.5f - 9.99984189e-4f, 1e-7);
  // Second step with g = 0.3 again: m = 0.9*0.03 + 0.1*0.3 = 0.057; v = 0.999*9e-5 + 0.001*0.09 = 1.7991e-4
  float h0[2] = {0.3f, 0.2f};
  float* grads2[1] = {h0};
  const float before = p[0];
  AdamUpdate(c, AdamStepSize(c, 2), p, m, v, grads2, 1, 0, 2);
  EXPECT_FLOAT_EQ(m[0], 0.057f);
  EXPECT_FLOAT_EQ(v[0], 1.7991e-4f);
  // 2.35316725e-4 * 0.057 / (sqrt(1.7991e-4) + 1e-7) = 9.9999254e-4
  EXPECT_NEAR(before - p[0], 9.9999254e-4f, 1.2e-7);  // one float ulp near 1
}

}  // namespace
}  // namespace edgeloop::nn
