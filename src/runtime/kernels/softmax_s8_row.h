// One row of TFLite's INT8 SOFTMAX (output scale 1/256, zero point -128), shared by the reference
// kernel and the table-driven one (softmax_s8.h) so that both run the same sum, reciprocal and
// rounding: they differ only in how exp(x - max) is obtained. Header-only so the exp source inlines.
#ifndef EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_ROW_H_
#define EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_ROW_H_

#include <algorithm>
#include <cstdint>
#include <limits>

#include "runtime/kernels/fixed_point.h"
#include "runtime/kernels/quant_math.h"
#include "runtime/op_params.h"

namespace edgeloop::runtime {

inline constexpr int kSoftmaxScaledDiffIntegerBits = 5;    // exp() input: Q5.26
inline constexpr int kSoftmaxAccumulationIntegerBits = 12;  // sum of exps: Q12.19

// TFLite's fixed-point exp of input_diff = x - max(row) (<= 0, >= p.diff_min) as a Q0.31 value.
inline fixed::Fixed<0> SoftmaxS8ScaledExp(const SoftmaxParams& p, int32_t input_diff) {
  const int32_t rescaled = MultiplyByQuantizedMultiplierGreaterThanOne(input_diff, p.input_multiplier, p.input_left_shift);
  return fixed::ExpOnNegativeValues(fixed::Fixed<kSoftmaxScaledDiffIntegerBits>::FromRaw(rescaled));
}

// y[0..depth) = softmax of x[0..depth); exp_of(input_diff) gives SoftmaxS8ScaledExp(p, input_diff)
// (computed or looked up) and is only called with input_diff >= diff_min.
template <typename ExpOf>
inline void SoftmaxS8Row(const int8_t* x, int8_t* y, int64_t depth, int32_t diff_min, ExpOf exp_of) {
  using fixed::Fixed;
  int8_t max_in_row = std::numeric_limits<int8_t>::min();
  for (int64_t c = 0; c < depth; ++c) max_in_row = std::max(max_in_row, x[c]);
  Fixed<kSoftmaxAccumulationIntegerBits> sum_of_exps = Fixed<kSoftmaxAccumulationIntegerBits>::Zero();
  for (int64_t c = 0; c < depth; ++c) {
    const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
    if (input_diff >= diff_min) {
      sum_of_exps = sum_of_exps + fixed::Rescale<kSoftmaxAccumulationIntegerBits>(exp_of(input_diff));
    }
  }
  int num_bits_over_unit = 0;
  const Fixed<0> shifted_scale =
      Fixed<0>::FromRaw(fixed::GetReciprocal(sum_of_exps.raw, kSoftmaxAccumulationIntegerBits, &num_bits_over_unit));
  // TFLite checks 0 <= exponent <= 31; only rows of thousands of equal maxima leave that range,
  // where the clamp keeps the arithmetic defined (outputs round to the minimum anyway).
  const int exponent = std::clamp(num_bits_over_unit + 31 - 8, 0, 31);
  for (int64_t c = 0; c < depth; ++c) {
    const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
    if (input_diff < diff_min) {
      y[c] = std::numeric_limits<int8_t>::min();
      continue;
    }
    const int32_t unsaturated = RoundingDivideByPOT((shifted_scale * exp_of(input_diff)).raw, exponent);
    const int32_t shifted = WrappingAdd(unsaturated, std::numeric_limits<int8_t>::min());
    y[c] = static_cast<int8_t>(std::clamp<int32_t>(shifted, -128, 127));
  }
}

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_KERNELS_SOFTMAX_S8_ROW_H_
