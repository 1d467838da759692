// Reference FULLY_CONNECTED: float32, INT8 (per-tensor or per-channel weights) and hybrid, plus the
// row quantizer the hybrid kernels share. Weights are [units, depth]; input rows are `depth` long.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/kernels/quant_math.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {

void QuantizeRowForHybrid(const float* values, int64_t size, bool asymmetric, int8_t* quantized, float* scale,
                          int32_t* offset) {
  float min_value = 0, max_value = 0;
  if (size > 0) {
    min_value = max_value = values[0];
    for (int64_t i = 1; i < size; ++i) {
      min_value = std::min(min_value, values[i]);
      max_value = std::max(max_value, values[i]);
    }
  }
  auto zeros = [&] {
    std::memset(quantized, 0, static_cast<size_t>(size));
    *scale = 1;
    *offset = 0;
  };
  if (!asymmetric) {
    // Symmetric: scale = max |x| / 127, values in [-127, 127], zero point 0.
    const float range = std::max(std::abs(min_value), std::abs(max_value));
    if (range == 0 || !std::isfinite(range)) return zeros();
    *scale = range / 127.0f;
    *offset = 0;
    const float inverse = 127.0f / range;
    for (int64_t i = 0; i < size; ++i) {
      quantized[i] = static_cast<int8_t>(std::clamp(RoundToInt32Saturating(values[i] * inverse), -127, 127));
    }
    return;
  }
  // Asymmetric: [min(0, x), max(0, x)] onto [-128, 127], the zero point nudged to an integer from
  // whichever end gives the smaller error.
  const double rmin = std::min(0.0f, min_value), rmax = std::max(0.0f, max_value);
  if (rmin == rmax) return zeros();
  const double qmin = -128, qmax = 127;
  const double s = (rmax - rmin) / (qmax - qmin);
  if (!std::isfinite(s) || s == 0) return zeros();
  const double zero_point_from_min = qmin - rmin / s;
  const double zero_point_from_max = qmax - rmax / s;
  const double error_from_min = std::abs(qmin) + std::abs(rmin / s);
  const double error_from_max = std::abs(qmax) + std::abs(rmax / s);
  const double zero_point = error_from_min < error_from_max ? zero_point_from_min : zero_point_from_max;
  int32_t nudged = 0;
  if (zero_point <= qmin) {
    nudged = -128;
  } else if (zero_point >= qmax) {
    nudged = 127;
  } else {
    nudged = static_cast<int32_t>(std::round(zero_point));
  }
  *scale = static_cast<float>(s);
  *offset = nudged;
  const float inverse = static_cast<float>(1.0 / s);
  for (int64_t i = 0; i < size; ++i) {
    const int64_t q = static_cast<int64_t>(RoundToInt32Saturating(values[i] * inverse)) + nudged;
    quantized[i] = static_cast<int8_t>(std::clamp<int64_t>(q, -128, 127));
  }
}

void FullyConnectedF32(const Node& node) {
  const auto& p = node.p<FullyConnectedParams>();
  const float* input = node.in(0).as<float>();
  const float* filter = node.in(1).as<float>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  for (int b = 0; b < p.batches; ++b) {
    const float* row = input + static_cast<int64_t>(b) * p.accum_depth;
    for (int u = 0; u < p.units; ++u) {
      const float* weights = filter + static_cast<int64_t>(u) * p.accum_depth;
      float total = 0.f;
      for (int d = 0; d < p.accum_depth; ++d) total += row[d] * weights[d];
      const float bias_value = bias ? bias[u] : 0.f;
      output[static_cast<int64_t>(b) * p.units + u] = std::min(std::max(total + bias_value, p.act_min), p.act_max);
    }
  }
}

void FullyConnectedS8(const Node& node) {
  const auto& p = node.p<FullyConnectedParams>();
  const int8_t* input = node.in(0).as<int8_t>();
  const int8_t* filter = node.in(1).as<int8_t>();
  const int32_t* bias = node.in_opt(2) ? node.in(2).as<int32_t>() : nullptr;
  int8_t* output = node.out(0).as<int8_t>();
  const bool per_channel = p.multipliers.size() > 1;
  for (int b = 0; b < p.batches; ++b) {
    const int8_t* row = input + static_cast<int64_t>(b) * p.accum_depth;
    for (int u = 0; u < p.units; ++u) {
      const int8_t* weights = filter + static_cast<int64_t>(u) * p.accum_depth;
      int64_t acc = 0;  // wrapped to int32 below: TFLite's int32 accumulator, without overflow UB
      for (int d = 0; d < p.accum_depth; ++d) {
        acc += (static_cast<int32_t>(weights[d]) + p.filter_offset) * (static_cast<int32_t>(row[d]) + p.input_offset);
      }
      if (bias) acc += bias[u];
      const int c = per_channel ? u : 0;
      int32_t v = MultiplyByQuantizedMultiplier(static_cast<int32_t>(static_cast<uint64_t>(acc)), p.multipliers[c],
                                                p.shifts[c]);
      v = WrappingAdd(v, p.output_offset);
      output[static_cast<int64_t>(b) * p.units + u] = static_cast<int8_t>(std::clamp(v, p.q_act_min, p.q_act_max));
    }
  }
}

void FullyConnectedHybrid(const Node& node) {
  const auto& p = node.p<FullyConnectedParams>();
  HybridScratch scratch(node.scratch, p.batches, p.accum_depth);
  const float* input = node.in(0).as<float>();
  for (int b = 0; b < p.batches; ++b) {
    const int64_t at = static_cast<int64_t>(b) * p.accum_depth;
    QuantizeRowForHybrid(input + at, p.accum_depth, p.asymmetric_inputs, scratch.quantized + at, &scratch.scales[b],
                         &scratch.offsets[b]);
  }
  const int8_t* filter = node.in(1).as<int8_t>();
  const float* bias = node.in_opt(2) ? node.in(2).as<float>() : nullptr;
  float* output = node.out(0).as<float>();
  for (int b = 0; b < p.batches; ++b) {
    const int8_t* row = scratch.quantized + static_cast<int64_t>(b) * p.accum_depth;
    for (int u = 0; u < p.units; ++u) {
      const int8_t* weights = filter + static_cast<int64_t>(u) * p.accum_depth;
      int64_t dot = 0, row_sum = 0;
      for (int d = 0; d < p.accum_depth; ++d) {
        dot += static_cast<int32_t>(weights[d]) * row[d];
        row_sum += weights[d];
      }
      dot -= row_sum * scratch.offsets[b];
      const float channel_scale = p.channel_scales.size() == 1 ? p.channel_scales[0] : p.channel_scales[u];
      float value = (bias ? bias[u] : 0.f) +
                    static_cast<float>(static_cast<int32_t>(static_cast<uint64_t>(dot))) * (scratch.scales[b] * channel_scale);
      output[static_cast<int64_t>(b) * p.units + u] = std::min(std::max(value, p.act_min), p.act_max);
    }
  }
}

}  // namespace edgeloop::runtime::reference
