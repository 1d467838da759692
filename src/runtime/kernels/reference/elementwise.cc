// Reference ADD, SUB, MUL with broadcasting (rank <= 6): float32, and INT8 ADD / MUL with TFLite's
// requantization (ADD: both inputs to a common 2^20-scaled domain, summed, rescaled).
#include <algorithm>
#include <cstdint>

#include "runtime/kernels/quant_math.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {
namespace {

// Calls f(i1, i2, o) with the element offsets of both inputs for every output element.
template <typename F>
void ForEachBroadcast(const ElementwiseParams& p, int64_t elements, F f) {
  if (!p.broadcast) {
    for (int64_t i = 0; i < elements; ++i) f(i, i, i);
    return;
  }
  const auto& d = p.out_dims;
  int64_t o = 0;
  for (int32_t i0 = 0; i0 < d[0]; ++i0) {
    for (int32_t i1 = 0; i1 < d[1]; ++i1) {
      for (int32_t i2 = 0; i2 < d[2]; ++i2) {
        for (int32_t i3 = 0; i3 < d[3]; ++i3) {
          for (int32_t i4 = 0; i4 < d[4]; ++i4) {
            for (int32_t i5 = 0; i5 < d[5]; ++i5) {
              const int64_t a = i0 * p.in1_strides[0] + i1 * p.in1_strides[1] + i2 * p.in1_strides[2] +
                                i3 * p.in1_strides[3] + i4 * p.in1_strides[4] + i5 * p.in1_strides[5];
              const int64_t b = i0 * p.in2_strides[0] + i1 * p.in2_strides[1] + i2 * p.in2_strides[2] +
                                i3 * p.in2_strides[3] + i4 * p.in2_strides[4] + i5 * p.in2_strides[5];
              f(a, b, o++);
            }
          }
        }
      }
    }
  }
}

template <typename Op>
void BinaryF32(const Node& node, Op op) {
  const auto& p = node.p<ElementwiseParams>();
  const float* a = node.in(0).as<float>();
  const float* b = node.in(1).as<float>();
  float* out = node.out(0).as<float>();
  ForEachBroadcast(p, node.out(0).elements, [&](int64_t i, int64_t j, int64_t o) {
    out[o] = std::min(std::max(op(a[i], b[j]), p.act_min), p.act_max);
  });
}

}  // namespace

void AddF32(const Node& node) {
  BinaryF32(node, [](float x, float y) { return x + y; });
}
void SubF32(const Node& node) {
  BinaryF32(node, [](float x, float y) { return x - y; });
}
void MulF32(const Node& node) {
  BinaryF32(node, [](float x, float y) { return x * y; });
}

void AddS8(const Node& node) {
  const auto& p = node.p<ElementwiseParams>();
  const int8_t* a = node.in(0).as<int8_t>();
  const int8_t* b = node.in(1).as<int8_t>();
  int8_t* out = node.out(0).as<int8_t>();
  ForEachBroadcast(p, node.out(0).elements, [&](int64_t i, int64_t j, int64_t o) {
    const int32_t shifted1 = (p.input1_offset + a[i]) * (1 << p.left_shift);
    const int32_t shifted2 = (p.input2_offset + b[j]) * (1 << p.left_shift);
    const int32_t scaled1 = MultiplyByQuantizedMultiplier(shifted1, p.input1_multiplier, p.input1_shift);
    const int32_t scaled2 = MultiplyByQuantizedMultiplier(shifted2, p.input2_multiplier, p.input2_shift);
    const int32_t raw_sum = WrappingAdd(scaled1, scaled2);
    const int32_t raw_output =
        WrappingAdd(MultiplyByQuantizedMultiplier(raw_sum, p.output_multiplier, p.output_shift), p.output_offset);
    out[o] = static_cast<int8_t>(std::clamp(raw_output, p.q_act_min, p.q_act_max));
  });
}

void MulS8(const Node& node) {
  const auto& p = node.p<ElementwiseParams>();
  const int8_t* a = node.in(0).as<int8_t>();
  const int8_t* b = node.in(1).as<int8_t>();
  int8_t* out = node.out(0).as<int8_t>();
  ForEachBroadcast(p, node.out(0).elements, [&](int64_t i, int64_t j, int64_t o) {
    const int32_t product = (p.input1_offset + a[i]) * (p.input2_offset + b[j]);
    const int32_t raw = WrappingAdd(MultiplyByQuantizedMultiplier(product, p.output_multiplier, p.output_shift),
                                    p.output_offset);
    out[o] = static_cast<int8_t>(std::clamp(raw, p.q_act_min, p.q_act_max));
  });
}

}  // namespace edgeloop::runtime::reference
