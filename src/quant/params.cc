#include "quant/params.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgeloop::quant {
namespace {

constexpr float kQMin = -128.0f, kQMax = 127.0f;

int32_t RoundClamp(float v, int32_t lo, int32_t hi) {
  if (std::isnan(v)) return 0;
  const float r = std::round(v);
  if (r <= static_cast<float>(lo)) return lo;
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<int32_t>(r);
}

}  // namespace

AffineParams ActivationParams(float min, float max) {
  AffineParams p;
  if (!std::isfinite(min)) min = 0;
  if (!std::isfinite(max)) max = 0;
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  if (max - min < kMinRangeWidth) {
    // All (or nearly all) zero: keep the side that was seen, give it a usable width.
    if (min < 0 && max == 0) {
      min = -kMinRangeWidth;
    } else {
      max = min + kMinRangeWidth;
    }
  }
  p.min = min;
  p.max = max;
  p.scale = (max - min) / (kQMax - kQMin);
  const float zero_point_from_min = kQMin - min / p.scale;
  if (zero_point_from_min < kQMin) {
    p.zero_point = static_cast<int32_t>(kQMin);
  } else if (zero_point_from_min > kQMax) {
    p.zero_point = static_cast<int32_t>(kQMax);
  } else {
    p.zero_point = static_cast<int32_t>(std::round(zero_point_from_min));
  }
  return p;
}

SymmetricWeights QuantizeSymmetric(std::span<const float> weights, std::span<const int32_t> shape, int channel_dim,
                                   std::span<const float> min_scale) {
  SymmetricWeights out;
  // Element i belongs to channel (i / inner) % channels, for the row-major `shape`.
  size_t channels = 1, inner = 1;
  if (channel_dim >= 0 && static_cast<size_t>(channel_dim) < shape.size()) {
    channels = static_cast<size_t>(std::max(shape[channel_dim], 1));
    for (size_t d = channel_dim + 1; d < shape.size(); ++d) inner *= static_cast<size_t>(std::max(shape[d], 1));
  }
  std::vector<float> max_abs(channels, 0.0f);
  for (size_t i = 0; i < weights.size(); ++i) {
    const size_t c = (i / inner) % channels;
    if (std::isfinite(weights[i])) max_abs[c] = std::max(max_abs[c], std::abs(weights[i]));
  }
  out.scales.resize(channels);
  for (size_t c = 0; c < channels; ++c) {
    const float floor = c < min_scale.size() ? min_scale[c] : 0.0f;
    float s = max_abs[c] / 127.0f;
    if (!(s > 0)) s = std::max(floor, 1.0f);
    out.scales[c] = std::max(s, floor);
  }
  out.values.resize(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const size_t c = (i / inner) % channels;
    out.values[i] = static_cast<int8_t>(RoundClamp(weights[i] / out.scales[c], -127, 127));
  }
  return out;
}

std::vector<float> MinWeightScalesForBias(std::span<const float> bias, float input_scale, size_t channels) {
  std::vector<float> floors(channels, 0.0f);
  if (channels == 0 || !(input_scale > 0)) return floors;
  for (size_t i = 0; i < bias.size(); ++i) {
    const size_t c = channels == 1 ? 0 : i;
    if (c >= channels || !std::isfinite(bias[i])) continue;
    const double needed = std::abs(static_cast<double>(bias[i])) / (static_cast<double>(input_scale) * kMaxBiasMagnitude);
    // One ulp up, so that the float product input_scale * scale does not land just below.
    floors[c] = std::max(floors[c], std::nextafter(static_cast<float>(needed), std::numeric_limits<float>::max()));
  }
  return floors;
}

std::vector<int32_t> QuantizeBias(std::span<const float> bias, float input_scale, std::span<const float> weight_scales,
                                  std::vector<float>* bias_scales) {
  std::vector<int32_t> q(bias.size());
  bias_scales->assign(weight_scales.size(), 0.0f);
  for (size_t c = 0; c < weight_scales.size(); ++c) (*bias_scales)[c] = input_scale * weight_scales[c];
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  for (size_t i = 0; i < bias.size(); ++i) {
    const float s = (*bias_scales)[weight_scales.size() == 1 ? 0 : i];
    if (!(s > 0) || !std::isfinite(bias[i])) {
      q[i] = 0;
      continue;
    }
    const double v = std::round(static_cast<double>(bias[i]) / static_cast<double>(s));
    q[i] = static_cast<int32_t>(std::clamp(v, -static_cast<double>(kMax), static_cast<double>(kMax)));
  }
  return q;
}

std::vector<int8_t> QuantizeAffine(std::span<const float> values, const AffineParams& p) {
  std::vector<int8_t> q(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const int32_t v = RoundClamp(values[i] / p.scale, -256, 256) + p.zero_point;
    q[i] = static_cast<int8_t>(std::clamp(v, -128, 127));
  }
  return q;
}

AffineParams MseActivationParams(std::span<const float> values, float min, float max) {
  AffineParams best = ActivationParams(min, max);
  double best_err = std::numeric_limits<double>::infinity();
  for (int k = 20; k >= 10; --k) {
    const AffineParams p = ActivationParams(min * static_cast<float>(k) / 20.0f, max * static_cast<float>(k) / 20.0f);
    double err = 0;
    for (float v : values) {
      if (!std::isfinite(v)) continue;
      const float q = std::clamp(std::round(v / p.scale) + static_cast<float>(p.zero_point), -128.0f, 127.0f);
      const double d = static_cast<double>((q - static_cast<float>(p.zero_point)) * p.scale) - v;
      err += d * d;
    }
    if (err < best_err * (1 - 1e-9)) {
      best = p;
      best_err = err;
    }
  }
  return best;
}

}  // namespace edgeloop::quant
