// Reference SOFTMAX (float32; INT8 -> INT8 with output scale 1/256, zero point -128), LOGISTIC
// (float32; INT8), TANH, RELU and RELU6 (float32). The INT8 forms follow TFLite's fixed-point
// reference arithmetic exactly (kernels/fixed_point.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime/kernels/fixed_point.h"
#include "runtime/kernels/reference/reference_kernels.h"

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
  using fixed::Fixed;
  constexpr int kScaledDiffIntegerBits = 5;    // exp() input: Q5.26
  constexpr int kAccumulationIntegerBits = 12;  // sum of exps: Q12.19
  const auto& p = node.p<SoftmaxParams>();
  const RtTensor& in = node.in(0);
  const int64_t depth = in.shape.back();
  const int64_t outer = depth == 0 ? 0 : in.elements / depth;
  const int8_t* input = in.as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  for (int64_t i = 0; i < outer; ++i) {
    const int8_t* x = input + i * depth;
    int8_t* y = output + i * depth;
    int8_t max_in_row = std::numeric_limits<int8_t>::min();
    for (int64_t c = 0; c < depth; ++c) max_in_row = std::max(max_in_row, x[c]);

    auto scaled_exp = [&](int32_t input_diff) {
      const int32_t rescaled =
          MultiplyByQuantizedMultiplierGreaterThanOne(input_diff, p.input_multiplier, p.input_left_shift);
      return fixed::ExpOnNegativeValues(Fixed<kScaledDiffIntegerBits>::FromRaw(rescaled));
    };
    Fixed<kAccumulationIntegerBits> sum_of_exps = Fixed<kAccumulationIntegerBits>::Zero();
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (input_diff >= p.diff_min) sum_of_exps = sum_of_exps + fixed::Rescale<kAccumulationIntegerBits>(scaled_exp(input_diff));
    }
    int num_bits_over_unit = 0;
    const Fixed<0> shifted_scale =
        Fixed<0>::FromRaw(fixed::GetReciprocal(sum_of_exps.raw, kAccumulationIntegerBits, &num_bits_over_unit));
    // TFLite checks 0 <= exponent <= 31; only rows of thousands of equal maxima leave that range,
    // where the clamp keeps the arithmetic defined (outputs round to the minimum anyway).
    const int exponent = std::clamp(num_bits_over_unit + 31 - 8, 0, 31);
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (input_diff < p.diff_min) {
        y[c] = std::numeric_limits<int8_t>::min();
        continue;
      }
      const int32_t unsaturated = RoundingDivideByPOT((shifted_scale * scaled_exp(input_diff)).raw, exponent);
      const int32_t shifted = WrappingAdd(unsaturated, std::numeric_limits<int8_t>::min());
      y[c] = static_cast<int8_t>(std::clamp<int32_t>(shifted, -128, 127));
    }
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
