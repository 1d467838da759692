// Float 1-D CNN graphs with seeded random weights, written the way edgeloop's exporter writes them
// (RESHAPE -> CONV_2D 1xK -> ... -> FULLY_CONNECTED -> SOFTMAX) or the way the TensorFlow converter
// writes Keras Conv1D (EXPAND_DIMS -> CONV_2D -> SQUEEZE, MEAN for global pooling), plus seeded
// vibration-like windows to calibrate and validate them. For the quantizer's and the conformance
// tests. Header-only. Not thread-safe.
#ifndef EDGELOOP_TEST_SUPPORT_FLOAT_CNN_H_
#define EDGELOOP_TEST_SUPPORT_FLOAT_CNN_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "test/support/graph_builder.h"

namespace edgeloop::testing_support {

struct FloatCnnSpec {
  int length = 64;        // readings per window
  int channels = 1;       // input channels
  int filters = 8;        // conv output channels
  int kernel = 5;
  int stride = 1;
  int dilation = 1;
  tflite::Padding padding = tflite::Padding::kValid;
  bool depthwise = false;       // DEPTHWISE_CONV_2D (multiplier filters/channels) instead of CONV_2D
  int pool = 2;                 // MAX_POOL_2D 1 x pool (0: none)
  bool average_pool = false;    // AVERAGE_POOL_2D instead of MAX_POOL_2D
  bool keras_layout = false;    // EXPAND_DIMS / SQUEEZE / MEAN (global average) like the converter
  bool standalone_relu = false; // RELU as its own operator instead of fused
  int hidden = 16;              // FC units before the classifier (0: none)
  int classes = 3;
  uint32_t seed = 1;
};

inline int ConvOut(int in, int kernel, int stride, int dilation, tflite::Padding padding) {
  const int effective = (kernel - 1) * dilation + 1;
  return padding == tflite::Padding::kSame ? (in + stride - 1) / stride : (in - effective + stride) / stride;
}

inline tflite::Graph FloatCnn(const FloatCnnSpec& s) {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  std::mt19937 rng(s.seed);
  auto weights = [&](size_t n, float fan_in) {
    std::normal_distribution<float> d(0.0f, std::sqrt(2.0f / fan_in));
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  };
  auto biases = [&](size_t n) {
    std::uniform_real_distribution<float> d(-0.1f, 0.1f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  };
  GraphBuilder b;
  const int in = b.Input("input", TensorType::kFloat32, {1, s.length, s.channels});
  const int x4 = b.Tensor("input_2d", TensorType::kFloat32, {1, 1, s.length, s.channels});
  if (s.keras_layout) {
    b.Op(BuiltinOp::kExpandDims, {in, b.ConstI32("expand_axis", {}, {1})}, {x4});
  } else {
    b.Op(BuiltinOp::kReshape, {in, b.ConstI32("reshape_shape", {4}, {1, 1, s.length, s.channels})}, {x4},
         tflite::ReshapeOptions{{1, 1, s.length, s.channels}});
  }
  const int conv_len = ConvOut(s.length, s.kernel, s.stride, s.dilation, s.padding);
  const int conv = b.Tensor(s.standalone_relu ? "conv_linear" : "conv", TensorType::kFloat32,
                            {1, 1, conv_len, s.filters});
  const tflite::Activation fused = s.standalone_relu ? tflite::Activation::kNone : tflite::Activation::kRelu;
  if (s.depthwise) {
    const int w = b.ConstF32("dw_weights", {1, 1, s.kernel, s.filters},
                             weights(static_cast<size_t>(s.kernel) * s.filters, static_cast<float>(s.kernel)));
    const int bias = b.ConstF32("dw_bias", {s.filters}, biases(s.filters));
    tflite::DepthwiseConv2DOptions o;
    o.padding = s.padding;
    o.stride_w = s.stride;
    o.dilation_w = s.dilation;
    o.depth_multiplier = s.filters / s.channels;
    o.activation = fused;
    b.Op(BuiltinOp::kDepthwiseConv2D, {x4, w, bias}, {conv}, o);
  } else {
    const int w = b.ConstF32("conv_weights", {s.filters, 1, s.kernel, s.channels},
                             weights(static_cast<size_t>(s.filters) * s.kernel * s.channels,
                                     static_cast<float>(s.kernel * s.channels)));
    const int bias = b.ConstF32("conv_bias", {s.filters}, biases(s.filters));
    tflite::Conv2DOptions o;
    o.padding = s.padding;
    o.stride_w = s.stride;
    o.dilation_w = s.dilation;
    o.activation = fused;
    b.Op(BuiltinOp::kConv2D, {x4, w, bias}, {conv}, o);
  }
  int cur = conv;
  if (s.standalone_relu) {
    const int relu = b.Tensor("conv", TensorType::kFloat32, {1, 1, conv_len, s.filters});
    b.Op(BuiltinOp::kRelu, {cur}, {relu});
    cur = relu;
  }
  int len = conv_len;
  if (s.pool > 0) {
    len = conv_len / s.pool;
    const int pooled = b.Tensor("pool", TensorType::kFloat32, {1, 1, len, s.filters});
    tflite::Pool2DOptions o;
    o.padding = tflite::Padding::kValid;
    o.filter_w = s.pool;
    o.stride_w = s.pool;
    b.Op(s.average_pool ? BuiltinOp::kAveragePool2D : BuiltinOp::kMaxPool2D, {cur}, {pooled}, o);
    cur = pooled;
  }
  int features = len * s.filters;
  if (s.keras_layout) {
    const int squeezed = b.Tensor("squeeze", TensorType::kFloat32, {1, len, s.filters});
    b.Op(BuiltinOp::kSqueeze, {cur}, {squeezed}, tflite::SqueezeOptions{{1}});
    const int mean = b.Tensor("global_average", TensorType::kFloat32, {1, s.filters});
    b.Op(BuiltinOp::kMean, {squeezed, b.ConstI32("mean_axes", {1}, {1})}, {mean}, tflite::ReducerOptions{false});
    cur = mean;
    features = s.filters;
  } else {
    const int flat = b.Tensor("flatten", TensorType::kFloat32, {1, features});
    b.Op(BuiltinOp::kReshape, {cur, b.ConstI32("flatten_shape", {2}, {1, features})}, {flat},
         tflite::ReshapeOptions{{1, features}});
    cur = flat;
  }
  if (s.hidden > 0) {
    const int h = b.Tensor("dense", TensorType::kFloat32, {1, s.hidden});
    tflite::FullyConnectedOptions o;
    o.activation = tflite::Activation::kRelu;
    b.Op(BuiltinOp::kFullyConnected,
         {cur, b.ConstF32("dense_weights", {s.hidden, features},
                          weights(static_cast<size_t>(s.hidden) * features, static_cast<float>(features))),
          b.ConstF32("dense_bias", {s.hidden}, biases(s.hidden))},
         {h}, o);
    cur = h;
    features = s.hidden;
  }
  const int logits = b.Tensor("logits", TensorType::kFloat32, {1, s.classes});
  b.Op(BuiltinOp::kFullyConnected,
       {cur, b.ConstF32("logits_weights", {s.classes, features},
                        weights(static_cast<size_t>(s.classes) * features, static_cast<float>(features))),
        b.ConstF32("logits_bias", {s.classes}, biases(s.classes))},
       {logits}, tflite::FullyConnectedOptions{});
  const int probs = b.Tensor("probabilities", TensorType::kFloat32, {1, s.classes});
  b.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{});
  b.Output(probs);
  return b.Build();
}

// `count` windows of `length` x `channels` readings: sines of varying frequency, amplitude and
// phase plus noise (roughly zero mean, unit scale, as a normalised sensor window).
inline std::vector<float> VibrationWindows(size_t count, int length, int channels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> freq(0.02f, 0.35f), amp(0.3f, 2.0f), phase(0.0f, 6.2832f);
  std::normal_distribution<float> noise(0.0f, 0.2f);
  std::vector<float> v;
  v.reserve(count * length * channels);
  for (size_t n = 0; n < count; ++n) {
    const float f = freq(rng), a = amp(rng), p = phase(rng);
    for (int t = 0; t < length; ++t) {
      for (int c = 0; c < channels; ++c) v.push_back(a * std::sin(6.2832f * f * t + p + c) + noise(rng));
    }
  }
  return v;
}

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_FLOAT_CNN_H_
