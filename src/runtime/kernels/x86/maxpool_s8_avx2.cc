// INT8 MAX_POOL_2D for AVX2: the window maximum of 32 (then 16) channels per instruction (NHWC
// keeps the channels of one pixel contiguous), scalar for the channel tail. Same clipping as the reference.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/x86/x86_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2")

namespace edgeloop::runtime::x86 {

void MaxPoolS8Avx2(const Node& node) {
  const auto& p = node.p<PoolParams>();
  const auto& in = node.in(0).shape;
  const auto& out = node.out(0).shape;
  const int batches = in[0], in_h = in[1], in_w = in[2], depth = in[3], out_h = out[1], out_w = out[2];
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  const __m256i lo = _mm256_set1_epi8(static_cast<char>(p.q_act_min));
  const __m256i hi = _mm256_set1_epi8(static_cast<char>(p.q_act_max));
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
        for (; c + 32 <= depth; c += 32) {
          __m256i m = _mm256_set1_epi8(-128);
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) {
              m = _mm256_max_epi8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pixel(y, x) + c)));
            }
          }
          m = _mm256_min_epi8(_mm256_max_epi8(m, lo), hi);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + c), m);
        }
        for (; c + 16 <= depth; c += 16) {
          __m128i m = _mm_set1_epi8(-128);
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) {
              m = _mm_max_epi8(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(pixel(y, x) + c)));
            }
          }
          m = _mm_min_epi8(_mm_max_epi8(m, _mm256_castsi256_si128(lo)), _mm256_castsi256_si128(hi));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(o + c), m);
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

}  // namespace edgeloop::runtime::x86

#pragma GCC pop_options
