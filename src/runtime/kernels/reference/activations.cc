// Reference SOFTMAX (float32; INT8 -> INT8 with output scale 1/256, zero point -128), LOGISTIC
// (float32; INT8), TANH, RELU and RELU6 (float32). The INT8 forms follow TFLite's fixed-point
// reference arithmetic exactly (kernels/fixed_point.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime/kernels/fixed_point.h"
#include "runtime/kernels/reference/reference_kernels.h"
#include "runtime/kernels/softmax_s8_row.h"

namespace edgeloop::runtime::reference {

void SoftmaxF32(const Node& node) {
  const auto& p = node.p<SoftmaxParams>();
  const RtTensor& in = node.in(0);
  const int64_t depth = in.shape.back();
  const int64_t outer = depth == 0 ? 0 : in.elements / depth;
  const float* input = in.as<float>();
  float* output = node.out(0).as<float>();
  for (int64_t i = 0; i < outer; ++i) {
    const float* x = input + i * depth;
    float* y = output + i * depth;
    float max = std::numeric_limits<float>::lowest();
    for (int64_t c = 0; c < depth; ++c) max = std::max(max, x[c]);
    float sum = 0.f;
    for (int64_t c = 0; c < depth; ++c) {
      y[c] = std::exp((x[c] - max) * p.beta);
      sum += y[c];
    }
    for (int64_t c = 0; c < depth; ++c) y[c] = y[c] / sum;
  }
}

void SoftmaxS8(const Node& node) {
  const auto& p = node.p<SoftmaxParams>();
  const RtTensor& in = node.in(0);
  const int64_t depth = in.shape.back();
  const int64_t outer = depth == 0 ? 0 : in.elements / depth;
  const int8_t* input = in.as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  for (int64_t i = 0; i < outer; ++i) {
    SoftmaxS8Row(input + i * depth, output + i * depth, depth, p.diff_min,
                 [&](int32_t input_diff) { return SoftmaxS8ScaledExp(p, input_diff); });
  }
}

void LogisticF32(const Node& node) {
  // TFLite's reference cut-offs: above 16.619... the float result is exactly 1, below -9 exp(x)
  // is as accurate as the full formula.
  constexpr float kCutoffUpper = 16.619047164916992188f;
  constexpr float kCutoffLower = -9.f;
  const RtTensor& in = node.in(0);
  const float* x = in.as<float>();
  float* y = node.out(0).as<float>();
  for (int64_t i = 0; i < in.elements; ++i) {
    const float v = x[i];
    if (v > kCutoffUpper) {
      y[i] = 1.0f;
    } else if (v < kCutoffLower) {
      y[i] = std::exp(v);
    } else {
      y[i] = 1.f / (1.f + std::exp(-v));
    }
  }
}

void LogisticS8(const Node& node) {
  constexpr int kInputIntegerBits = 4;
  constexpr int kOutputIntegerBits = 8;
  const auto& p = node.p<LogisticParams>();
  const RtTensor& in = node.in(0);
  const int8_t* x = in.as<int8_t>();
  int8_t* y = node.out(0).as<int8_t>();
  for (int64_t i = 0; i < in.elements; ++i) {
    const int32_t input = static_cast<int32_t>(x[i]) - p.input_zero_point;
    if (input <= -p.input_range_radius) {
      y[i] = std::numeric_limits<int8_t>::min();
    } else if (input >= p.input_range_radius) {
      y[i] = std::numeric_limits<int8_t>::max();
    } else {
      const int32_t input_in_q4 = MultiplyByQuantizedMultiplier(input, p.input_multiplier, p.input_left_shift);
      const int32_t output_in_q0 = fixed::Logistic(fixed::Fixed<kInputIntegerBits>::FromRaw(input_in_q4)).raw;
      const int32_t output_in_q23 = RoundingDivideByPOT(output_in_q0, 31 - kOutputIntegerBits);
      y[i] = static_cast<int8_t>(std::clamp<int32_t>(output_in_q23 - 128, -128, 127));
    }
  }
}

void TanhF32(const Node& node) {
  const RtTensor& in = node.in(0);
  const float* x = in.as<float>();
  float* y = node.out(0).as<float>();
  for (int64_t i = 0; i < in.elements; ++i) y[i] = std::tanh(x[i]);
}

void ReluF32(const Node& node) {
  const RtTensor& in = node.in(0);
  const float* x = in.as<float>();
  float* y = node.out(0).as<float>();
  for (int64_t i = 0; i < in.elements; ++i) y[i] = std::max(x[i], 0.f);
}

void Relu6F32(const Node& node) {
  const RtTensor& in = node.in(0);
  const float* x = in.as<float>();
  float* y = node.out(0).as<float>();
  for (int64_t i = 0; i < in.elements; ++i) y[i] = std::min(std::max(x[i], 0.f), 6.f);
}

}  // namespace edgeloop::runtime::reference
