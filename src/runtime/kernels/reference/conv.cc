// Reference CONV_2D and DEPTHWISE_CONV_2D: float32, INT8 with per-channel requantization, and the
// dynamic-range (hybrid) convolution. NHWC input, OHWI filter ([1,H,W,O] for depthwise).
#include <algorithm>
#include <cstdint>

#include "runtime/kernels/quant_math.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {
namespace {

struct ConvDims {
  int batches, in_h, in_w, in_c, filter_h, filter_w, filter_c, out_h, out_w, out_c;
};

ConvDims Dims(const Node& node) {
  const auto& in = node.in(0).shape;
  const auto& f = node.in(1).shape;
  const auto& out = node.out(0).shape;
  return {in[0], in[1], in[2], in[3], f[1], f[2], f[3], out[1], out[2], out[3]};
}

inline int64_t Offset4(int d1, int d2, int d3, int i0, int i1, int i2, int i3) {
  return ((static_cast<int64_t>(i0) * d1 + i1) * d2 + i2) * d3 + i3;
}

// Accumulates in int64 and wraps to int32 at the end: the same bits as TFLite's int32 accumulator,
// without undefined behaviour when a hostile model overflows it.
inline int32_t Wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint64_t>(v)); }

inline int32_t Requantize(int64_t acc, int32_t multiplier, int32_t shift, int32_t output_offset, int32_t act_min,
                          int32_t act_max) {
  int32_t v = MultiplyByQuantizedMultiplier(Wrap32(acc), multiplier, shift);
  v = WrappingAdd(v, output_offset);
  return std::clamp(v, act_min, act_max);
}

}  // namespace

void ConvF32(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const float* input = node.in(0).as<float>();
  const float* filter = node.in(1).as<float>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  const int groups = d.in_c / d.filter_c;
  const int filters_per_group = d.out_c / groups;
  for (int b = 0; b < d.batches; ++b) {
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int oc = 0; oc < d.out_c; ++oc) {
          const int group = oc / filters_per_group;
          float total = 0.f;
          for (int fy = 0; fy < d.filter_h; ++fy) {
            const int in_y = in_y0 + p.dilation_h * fy;
            for (int fx = 0; fx < d.filter_w; ++fx) {
              const int in_x = in_x0 + p.dilation_w * fx;
              if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
              for (int ic = 0; ic < d.filter_c; ++ic) {
                const float x = input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic + group * d.filter_c)];
                const float w = filter[Offset4(d.filter_h, d.filter_w, d.filter_c, oc, fy, fx, ic)];
                total += x * w;
              }
            }
          }
          const float bias_value = bias ? bias[oc] : 0.f;
          output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] =
              std::min(std::max(total + bias_value, p.act_min), p.act_max);
        }
      }
    }
  }
}

void ConvS8(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const int8_t* input = node.in(0).as<int8_t>();
  const int8_t* filter = node.in(1).as<int8_t>();
  const int32_t* bias = node.in_opt(2) ? node.in(2).as<int32_t>() : nullptr;
  int8_t* output = node.out(0).as<int8_t>();
  const int groups = d.in_c / d.filter_c;
  const int filters_per_group = d.out_c / groups;
  for (int b = 0; b < d.batches; ++b) {
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int oc = 0; oc < d.out_c; ++oc) {
          const int group = oc / filters_per_group;
          int64_t acc = 0;
          for (int fy = 0; fy < d.filter_h; ++fy) {
            const int in_y = in_y0 + p.dilation_h * fy;
            for (int fx = 0; fx < d.filter_w; ++fx) {
              const int in_x = in_x0 + p.dilation_w * fx;
              // Outside the image the input is the zero point: it contributes exactly nothing.
              if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
              for (int ic = 0; ic < d.filter_c; ++ic) {
                const int32_t x = input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic + group * d.filter_c)];
                const int32_t w = filter[Offset4(d.filter_h, d.filter_w, d.filter_c, oc, fy, fx, ic)];
                acc += w * (x + p.input_offset);
              }
            }
          }
          if (bias) acc += bias[oc];
          output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] = static_cast<int8_t>(
              Requantize(acc, p.multipliers[oc], p.shifts[oc], p.output_offset, p.q_act_min, p.q_act_max));
        }
      }
    }
  }
}

void ConvHybrid(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const int64_t row = static_cast<int64_t>(d.in_h) * d.in_w * d.in_c;
  HybridScratch scratch(node.scratch, d.batches, row);
  const float* input_f = node.in(0).as<float>();
  for (int b = 0; b < d.batches; ++b) {
    // As TFLite's per-channel hybrid convolution: each batch entry quantized asymmetrically.
    QuantizeRowForHybrid(input_f + b * row, row, /*asymmetric=*/true, scratch.quantized + b * row,
                         &scratch.scales[b], &scratch.offsets[b]);
  }
  const int8_t* input = scratch.quantized;
  const int8_t* filter = node.in(1).as<int8_t>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  const int groups = d.in_c / d.filter_c;
  const int filters_per_group = d.out_c / groups;
  for (int b = 0; b < d.batches; ++b) {
    const int32_t input_offset = scratch.offsets[b];
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int oc = 0; oc < d.out_c; ++oc) {
          const int group = oc / filters_per_group;
          int64_t acc = 0;
          for (int fy = 0; fy < d.filter_h; ++fy) {
            const int in_y = in_y0 + p.dilation_h * fy;
            for (int fx = 0; fx < d.filter_w; ++fx) {
              const int in_x = in_x0 + p.dilation_w * fx;
              if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
              for (int ic = 0; ic < d.filter_c; ++ic) {
                const int32_t x = input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic + group * d.filter_c)];
                const int32_t w = filter[Offset4(d.filter_h, d.filter_w, d.filter_c, oc, fy, fx, ic)];
                acc += w * (x - input_offset);
              }
            }
          }
          const float channel_scale = p.channel_scales.size() == 1 ? p.channel_scales[0] : p.channel_scales[oc];
          float value = static_cast<float>(Wrap32(acc)) * channel_scale * scratch.scales[b];
          if (bias) value += bias[oc];
          output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] = std::min(std::max(value, p.act_min), p.act_max);
        }
      }
    }
  }
}

void DepthwiseConvF32(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const float* input = node.in(0).as<float>();
  const float* filter = node.in(1).as<float>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  for (int b = 0; b < d.batches; ++b) {
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int ic = 0; ic < d.in_c; ++ic) {
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = m + ic * p.depth_multiplier;
            float total = 0.f;
            for (int fy = 0; fy < d.filter_h; ++fy) {
              const int in_y = in_y0 + p.dilation_h * fy;
              for (int fx = 0; fx < d.filter_w; ++fx) {
                const int in_x = in_x0 + p.dilation_w * fx;
                if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
                total += input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic)] *
                         filter[Offset4(d.filter_h, d.filter_w, d.out_c, 0, fy, fx, oc)];
              }
            }
            const float bias_value = bias ? bias[oc] : 0.f;
            output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] =
                std::min(std::max(total + bias_value, p.act_min), p.act_max);
          }
        }
      }
    }
  }
}

void DepthwiseConvS8(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const int8_t* input = node.in(0).as<int8_t>();
  const int8_t* filter = node.in(1).as<int8_t>();
  const int32_t* bias = node.in_opt(2) ? node.in(2).as<int32_t>() : nullptr;
  int8_t* output = node.out(0).as<int8_t>();
  for (int b = 0; b < d.batches; ++b) {
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int ic = 0; ic < d.in_c; ++ic) {
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = m + ic * p.depth_multiplier;
            int64_t acc = 0;
            for (int fy = 0; fy < d.filter_h; ++fy) {
              const int in_y = in_y0 + p.dilation_h * fy;
              for (int fx = 0; fx < d.filter_w; ++fx) {
                const int in_x = in_x0 + p.dilation_w * fx;
                if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
                const int32_t x = input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic)];
                const int32_t w = filter[Offset4(d.filter_h, d.filter_w, d.out_c, 0, fy, fx, oc)];
                acc += w * (x + p.input_offset);
              }
            }
            if (bias) acc += bias[oc];
            output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] = static_cast<int8_t>(
                Requantize(acc, p.multipliers[oc], p.shifts[oc], p.output_offset, p.q_act_min, p.q_act_max));
          }
        }
      }
    }
  }
}

void DepthwiseConvHybrid(const Node& node) {
  const auto& p = node.p<ConvParams>();
  const ConvDims d = Dims(node);
  const int64_t row = static_cast<int64_t>(d.in_h) * d.in_w * d.in_c;
  HybridScratch scratch(node.scratch, d.batches, row);
  const float* input_f = node.in(0).as<float>();
  for (int b = 0; b < d.batches; ++b) {
    // As TFLite's per-channel hybrid depthwise convolution: each batch entry quantized asymmetrically.
    QuantizeRowForHybrid(input_f + b * row, row, /*asymmetric=*/true, scratch.quantized + b * row,
                         &scratch.scales[b], &scratch.offsets[b]);
  }
  const int8_t* input = scratch.quantized;
  const int8_t* filter = node.in(1).as<int8_t>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  for (int b = 0; b < d.batches; ++b) {
    const int32_t input_offset = scratch.offsets[b];
    for (int oy = 0; oy < d.out_h; ++oy) {
      const int in_y0 = oy * p.stride_h - p.pad_h;
      for (int ox = 0; ox < d.out_w; ++ox) {
        const int in_x0 = ox * p.stride_w - p.pad_w;
        for (int ic = 0; ic < d.in_c; ++ic) {
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = m + ic * p.depth_multiplier;
            int64_t acc = 0;
            for (int fy = 0; fy < d.filter_h; ++fy) {
              const int in_y = in_y0 + p.dilation_h * fy;
              for (int fx = 0; fx < d.filter_w; ++fx) {
                const int in_x = in_x0 + p.dilation_w * fx;
                if (in_y < 0 || in_y >= d.in_h || in_x < 0 || in_x >= d.in_w) continue;
                const int32_t x = input[Offset4(d.in_h, d.in_w, d.in_c, b, in_y, in_x, ic)];
                const int32_t w = filter[Offset4(d.filter_h, d.filter_w, d.out_c, 0, fy, fx, oc)];
                acc += w * (x - input_offset);
              }
            }
            const float channel_scale = p.channel_scales.size() == 1 ? p.channel_scales[0] : p.channel_scales[oc];
            // TFLite's depthwise multiplies the two scales first (its CONV_2D does not): keep the order.
            float value = static_cast<float>(Wrap32(acc));
            value *= channel_scale * scratch.scales[b];
            if (bias) value += bias[oc];
            output[Offset4(d.out_h, d.out_w, d.out_c, b, oy, ox, oc)] = std::min(std::max(value, p.act_min), p.act_max);
          }
        }
      }
    }
  }
}

}  // namespace edgeloop::runtime::reference
