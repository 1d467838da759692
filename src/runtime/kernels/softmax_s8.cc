#include "runtime/kernels/softmax_s8.h"

#include <cstdint>

#include "runtime/kernels/softmax_s8_row.h"

namespace edgeloop::runtime::optimized {
namespace {

constexpr int kDiffs = 256;  // input_diff in [-255, 0]

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
    table[d] = SoftmaxS8ScaledExp(p, input_diff).raw;
  }
  node.packed = std::move(buffer);
  return true;
}

void SoftmaxS8Lut(const Node& node) {
  const auto& p = node.p<SoftmaxParams>();
  const RtTensor& in = node.in(0);
  const int64_t depth = in.shape.back();
  const int64_t outer = depth == 0 ? 0 : in.elements / depth;
  const int8_t* input = in.as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  const int32_t* table = Table(node);
  for (int64_t i = 0; i < outer; ++i) {
    SoftmaxS8Row(input + i * depth, output + i * depth, depth, p.diff_min,
                 [table](int32_t input_diff) { return fixed::Fixed<0>::FromRaw(table[-input_diff]); });
  }
}

}  // namespace edgeloop::runtime::optimized
