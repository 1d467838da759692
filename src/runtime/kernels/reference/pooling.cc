// Reference MAX_POOL_2D and AVERAGE_POOL_2D, float32 and INT8 (same quantization in and out).
// Windows are clipped to the image: padding is never part of a max or an average.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {
namespace {

// Calls visit(b, oy, ox, c, y0, y1, x0, x1, out_index) for every output element with the clipped
// window [y0, y1) x [x0, x1) in input coordinates.
template <typename Visit>
void ForEachWindow(const Node& node, Visit visit) {
  const auto& p = node.p<PoolParams>();
  const auto& in = node.in(0).shape;
  const auto& out = node.out(0).shape;
  const int batches = in[0], in_h = in[1], in_w = in[2], depth = in[3], out_h = out[1], out_w = out[2];
  int64_t out_index = 0;
  for (int b = 0; b < batches; ++b) {
    for (int oy = 0; oy < out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      const int y0 = std::max(0, in_y0), y1 = std::min(in_h, in_y0 + p.filter_h);
      for (int ox = 0; ox < out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        const int x0 = std::max(0, in_x0), x1 = std::min(in_w, in_x0 + p.filter_w);
        for (int c = 0; c < depth; ++c) visit(b, c, y0, y1, x0, x1, in_h, in_w, depth, out_index++);
      }
    }
  }
}

inline int64_t InIndex(int b, int y, int x, int c, int h, int w, int depth) {
  return ((static_cast<int64_t>(b) * h + y) * w + x) * depth + c;
}

}  // namespace

void MaxPoolF32(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const float* input = node.in(0).as<float>();
  float* output = node.out(0).as<float>();
  ForEachWindow(node, [&](int b, int c, int y0, int y1, int x0, int x1, int h, int w, int depth, int64_t o) {
    float max = std::numeric_limits<float>::lowest();
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) max = std::max(max, input[InIndex(b, y, x, c, h, w, depth)]);
    }
    output[o] = std::min(std::max(max, p.act_min), p.act_max);
  });
}

void MaxPoolS8(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  ForEachWindow(node, [&](int b, int c, int y0, int y1, int x0, int x1, int h, int w, int depth, int64_t o) {
    int32_t max = std::numeric_limits<int8_t>::lowest();
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) max = std::max<int32_t>(max, input[InIndex(b, y, x, c, h, w, depth)]);
    }
    output[o] = static_cast<int8_t>(std::clamp(max, p.q_act_min, p.q_act_max));
  });
}

void AveragePoolF32(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const float* input = node.in(0).as<float>();
  float* output = node.out(0).as<float>();
  ForEachWindow(node, [&](int b, int c, int y0, int y1, int x0, int x1, int h, int w, int depth, int64_t o) {
    float total = 0.f;
    int count = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        total += input[InIndex(b, y, x, c, h, w, depth)];
        ++count;
      }
    }
    const float average = count == 0 ? 0.f : total / static_cast<float>(count);
    output[o] = std::min(std::max(average, p.act_min), p.act_max);
  });
}

void AveragePoolS8(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  ForEachWindow(node, [&](int b, int c, int y0, int y1, int x0, int x1, int h, int w, int depth, int64_t o) {
    int64_t total = 0;  // TFLite sums in int32; int64 gives the same result without overflow UB
    int64_t count = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        total += input[InIndex(b, y, x, c, h, w, depth)];
        ++count;
      }
    }
    if (count == 0) count = 1;  // windows always overlap the image (Prepare); kept for safety
    // TFLite's rounding: half away from zero.
    const int64_t average = total > 0 ? (total + count / 2) / count : (total - count / 2) / count;
    output[o] = static_cast<int8_t>(std::clamp<int64_t>(average, p.q_act_min, p.q_act_max));
  });
}

}  // namespace edgeloop::runtime::reference
