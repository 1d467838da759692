#include "runtime/kernels/softmax_s8.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "runtime/kernels/fixed_point.h"
#include "runtime/kernels/quant_math.h"

namespace edgeloop::runtime::optimized {
namespace {

constexpr int kScaledDiffIntegerBits = 5;    // exp() input: Q5.26 (as the reference)
constexpr int kAccumulationIntegerBits = 12;  // sum of exps: Q12.19
constexpr int kDiffs = 256;                   // input_diff in [-255, 0]

// packed: int32 exp_raw[256], entry d for input_diff -d; 0 where input_diff < diff_min (unused).
const int32_t* Table(const Node& node) { return reinterpret_cast<const int32_t*>(node.packed.get()); }

}  // namespace

bool PackSoftmaxS8Lut(Node& node) {
  const auto& p = node.p<SoftmaxParams>();
  if (node.in(0).type != tflite::TensorType::kInt8 || node.out(0).type != tflite::TensorType::kInt8) return false;
  AlignedBuffer buffer = AllocateAligned(kDiffs * sizeof(int32_t));
  if (!buffer) return false;
  auto* table = reinterpret_cast<int32_t*>(buffer.get());
  for (int d = 0; d < kDiffs; ++d) {
    const int32_t input_diff = -d;
    table[d] = 0;
    if (input_diff < p.diff_min) continue;
    const int32_t rescaled =
        MultiplyByQuantizedMultiplierGreaterThanOne(input_diff, p.input_multiplier, p.input_left_shift);
    table[d] = fixed::ExpOnNegativeValues(fixed::Fixed<kScaledDiffIntegerBits>::FromRaw(rescaled)).raw;
  }
  node.packed = std::move(buffer);
  return true;
}

void SoftmaxS8Lut(const Node& node) {
  using fixed::Fixed;
  const auto& p = node.p<SoftmaxParams>();
  const RtTensor& in = node.in(0);
  const int64_t depth = in.shape.back();
  const int64_t outer = depth == 0 ? 0 : in.elements / depth;
  const int8_t* input = in.as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  const int32_t* table = Table(node);
  for (int64_t i = 0; i < outer; ++i) {
    const int8_t* x = input + i * depth;
    int8_t* y = output + i * depth;
    int8_t max_in_row = std::numeric_limits<int8_t>::min();
    for (int64_t c = 0; c < depth; ++c) max_in_row = std::max(max_in_row, x[c]);
    Fixed<kAccumulationIntegerBits> sum_of_exps = Fixed<kAccumulationIntegerBits>::Zero();
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (input_diff >= p.diff_min) {
        sum_of_exps = sum_of_exps + fixed::Rescale<kAccumulationIntegerBits>(Fixed<0>::FromRaw(table[-input_diff]));
      }
    }
    int num_bits_over_unit = 0;
    const Fixed<0> shifted_scale =
        Fixed<0>::FromRaw(fixed::GetReciprocal(sum_of_exps.raw, kAccumulationIntegerBits, &num_bits_over_unit));
    const int exponent = std::clamp(num_bits_over_unit + 31 - 8, 0, 31);
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t input_diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (input_diff < p.diff_min) {
        y[c] = std::numeric_limits<int8_t>::min();
        continue;
      }
      const int32_t unsaturated =
          RoundingDivideByPOT((shifted_scale * Fixed<0>::FromRaw(table[-input_diff])).raw, exponent);
      const int32_t shifted = WrappingAdd(unsaturated, std::numeric_limits<int8_t>::min());
      y[c] = static_cast<int8_t>(std::clamp<int32_t>(shifted, -128, 127));
    }
  }
}

}  // namespace edgeloop::runtime::optimized
