// INT8 MAX_POOL_2D for ARM64 NEON: 16 channels per instruction, scalar channel tail.
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/arm/arm_kernels.h"

namespace edgeloop::runtime::arm {

void MaxPoolS8Neon(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const auto& in = node.in(0).shape;
  const auto& out = node.out(0).shape;
  const int batches = in[0], in_h = in[1], in_w = in[2], depth = in[3], out_h = out[1], out_w = out[2];
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  const int8x16_t lo = vdupq_n_s8(static_cast<int8_t>(p.q_act_min));
  const int8x16_t hi = vdupq_n_s8(static_cast<int8_t>(p.q_act_max));
  for (int b = 0; b < batches; ++b) {
    for (int oy = 0; oy < out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      const int y0 = std::max(0, in_y0), y1 = std::min(in_h, in_y0 + p.filter_h);
      for (int ox = 0; ox < out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        const int x0 = std::max(0, in_x0), x1 = std::min(in_w, in_x0 + p.filter_w);
        int8_t* o = output + ((static_cast<int64_t>(b) * out_h + oy) * out_w + ox) * depth;
        const auto pixel = [&](int y, int x) { return input + ((static_cast<int64_t>(b) * in_h + y) * in_w + x) * depth; };
        int c = 0;
        for (; c + 16 <= depth; c += 16) {
          int8x16_t m = vdupq_n_s8(-128);
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) m = vmaxq_s8(m, vld1q_s8(pixel(y, x) + c));
          }
          vst1q_s8(o + c, vminq_s8(vmaxq_s8(m, lo), hi));
        }
        for (; c < depth; ++c) {
          int32_t m = -128;
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) m = std::max<int32_t>(m, pixel(y, x)[c]);
          }
          o[c] = static_cast<int8_t>(std::clamp(m, p.q_act_min, p.q_act_max));
        }
      }
    }
  }
}

}  // namespace edgeloop::runtime::arm
