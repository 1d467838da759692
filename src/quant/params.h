// The arithmetic of TFLite's INT8 post-training quantization: activation parameters from a range,
// symmetric int8 weights (per channel or per tensor), int32 biases, asymmetric int8 constants.
// Internal to src/quant. Thread-safety: pure functions.
#ifndef EDGELOOP_QUANT_PARAMS_H_
#define EDGELOOP_QUANT_PARAMS_H_

#include <cstdint>
#include <span>
#include <vector>

namespace edgeloop::quant {

// Below this width a calibrated range is widened (a tensor that was always 0, e.g. a dead ReLU):
// any scale represents it, and a tiny one would leave the requantization multipliers of the ops
// around it out of range.
inline constexpr float kMinRangeWidth = 1e-5f;
// Largest magnitude a quantized bias may take: the int32 range less headroom for the accumulator
// the bias is added to (2^30).
inline constexpr double kMaxBiasMagnitude = 1073741824.0;

struct AffineParams {
  float scale = 1;
  int32_t zero_point = 0;
  float min = 0, max = 0;  // the range after widening to contain 0
};

// TFLite's GetAsymmetricQuantizationParams for int8 ([-128, 127]): the range is widened to contain
// 0 (and to kMinRangeWidth), scale = (max - min) / 255, zero point = round(-128 - min / scale)
// clamped to the int8 range, so that real 0 maps exactly to an integer.
AffineParams ActivationParams(float min, float max);

// Activation parameters whose range is the one, among [min, max] and ranges shrunk towards 0 from
// it (both ends by the same factor, 1 down to 1/2 in steps of 1/20), that gives the smallest mean
// squared quantization error (clamping included) over `values`: a few outliers then stop
// stretching the step every other value pays for. Ties keep the wider range.
AffineParams MseActivationParams(std::span<const float> values, float min, float max);

// Symmetric int8 weights: values round(w / scale[c]) clamped to [-127, 127], scale[c] = max|w| /
// 127 over channel c (channels along `channel_dim` of `shape`; -1 = one scale for the tensor), but
// at least min_scale[c] when given (raised for biases that would not fit int32). A channel of
// zeros gets scale max(min_scale[c], 1) (any scale represents it).
struct SymmetricWeights {
  std::vector<int8_t> values;
  std::vector<float> scales;
};
SymmetricWeights QuantizeSymmetric(std::span<const float> weights, std::span<const int32_t> shape, int channel_dim,
                                   std::span<const float> min_scale = {});

// The smallest weight scale per channel for which bias[c] / (input_scale x scale) stays within
// kMaxBiasMagnitude (0 when any scale fits). `channels` = number of weight scales (1 per tensor:
// the largest bias decides).
std::vector<float> MinWeightScalesForBias(std::span<const float> bias, float input_scale, size_t channels);

// int32 bias: round(b[c] / (input_scale * weight_scale[c])) (the product in float, as TFLite),
// saturated to int32. `weight_scales` has one entry, or one per bias value. Also returns the bias
// scales.
std::vector<int32_t> QuantizeBias(std::span<const float> bias, float input_scale, std::span<const float> weight_scales,
                                  std::vector<float>* bias_scales);

// Asymmetric int8 for a constant operand (ADD / MUL): parameters from its own min/max.
std::vector<int8_t> QuantizeAffine(std::span<const float> values, const AffineParams& p);

}  // namespace edgeloop::quant

#endif  // EDGELOOP_QUANT_PARAMS_H_
