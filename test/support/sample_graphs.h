// Small graphs that together use every operator and arithmetic path the runtime has: the Conv1D
// chain TFLite writes (float32 and INT8), the converter's SHAPE/STRIDED_SLICE/PACK/RESHAPE flatten,
// dynamic-range (hybrid) layers, and INT8 / float32 graphs of the remaining ops. Used by the
// conformance tests and as fuzzing seeds (fuzz/make_tflite_seeds.cc). Header-only.
#ifndef EDGELOOP_TEST_SUPPORT_SAMPLE_GRAPHS_H_
#define EDGELOOP_TEST_SUPPORT_SAMPLE_GRAPHS_H_

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "test/support/graph_builder.h"

namespace edgeloop::testing_support {

// [1,128,1] -> RESHAPE [1,1,128,1] -> CONV_2D 1x5 (8 filters, SAME, RELU) -> RESHAPE [1,128,1,8]
// (time as height) -> MAX_POOL_2D 2x1 -> FULLY_CONNECTED (3) -> SOFTMAX. INT8: per-channel conv
// weights, int32 biases, softmax output 1/256.
inline tflite::Graph Conv1DGraph(bool int8, uint32_t seed) {
  using tflite::BuiltinOp;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> weight(-0.5f, 0.5f);
  const int length = 128, filters = 8, kernel = 5, classes = 3, pooled = length / 2;
  const tflite::TensorType act = int8 ? tflite::TensorType::kInt8 : tflite::TensorType::kFloat32;
  auto q = [&](float scale, int64_t zp) { return int8 ? Quant(scale, zp) : tflite::Quantization{}; };
  GraphBuilder b;
  const int in = b.Input("window", act, {1, length, 1}, q(0.02f, 0));
  const int s1 = b.ConstI32("to_2d", {4}, {1, 1, length, 1});
  const int r1 = b.Tensor("window_2d", act, {1, 1, length, 1}, q(0.02f, 0));
  b.Op(BuiltinOp::kReshape, {in, s1}, {r1}, tflite::ReshapeOptions{});
  std::vector<float> cw(filters * kernel), cb(filters), fw(classes * pooled * filters), fb(classes);
  for (float& v : cw) v = weight(rng);
  for (float& v : cb) v = weight(rng) * 0.2f;
  for (float& v : fw) v = weight(rng) * 0.2f;
  for (float& v : fb) v = weight(rng);
  int conv_w, conv_b, fc_w, fc_b;
  if (int8) {
    std::vector<float> scales(filters), bias_scales(filters);
    std::vector<int8_t> cq(cw.size());
    std::vector<int32_t> cbq(filters);
    for (int f = 0; f < filters; ++f) {
      float max = 0;
      for (int k = 0; k < kernel; ++k) max = std::max(max, std::abs(cw[f * kernel + k]));
      scales[f] = max / 127;
      bias_scales[f] = 0.02f * scales[f];
      for (int k = 0; k < kernel; ++k) {
        cq[f * kernel + k] = static_cast<int8_t>(std::lround(cw[f * kernel + k] / scales[f]));
      }
      cbq[f] = static_cast<int32_t>(std::lround(cb[f] / bias_scales[f]));
    }
    conv_w = b.ConstI8("conv/w", {filters, 1, kernel, 1}, cq, PerChannelQuant(scales, 0));
    conv_b = b.ConstI32("conv/b", {filters}, cbq, PerChannelQuant(bias_scales, 0));
    const float fs = 0.1f / 127;
    std::vector<int8_t> fq(fw.size());
    for (size_t i = 0; i < fw.size(); ++i) fq[i] = static_cast<int8_t>(std::lround(fw[i] / fs));
    std::vector<int32_t> fbq(classes);
    for (int c = 0; c < classes; ++c) fbq[c] = static_cast<int32_t>(std::lround(fb[c] / (0.03f * fs)));
    fc_w = b.ConstI8("dense/w", {classes, pooled * filters}, fq, Quant(fs, 0));
    fc_b = b.ConstI32("dense/b", {classes}, fbq, Quant(0.03f * fs, 0));
  } else {
    conv_w = b.ConstF32("conv/w", {filters, 1, kernel, 1}, cw);
    conv_b = b.ConstF32("conv/b", {filters}, cb);
    fc_w = b.ConstF32("dense/w", {classes, pooled * filters}, fw);
    fc_b = b.ConstF32("dense/b", {classes}, fb);
  }
  const int c = b.Tensor("conv", act, {1, 1, length, filters}, q(0.03f, -128));
  b.Op(BuiltinOp::kConv2D, {r1, conv_w, conv_b}, {c},
       tflite::Conv2DOptions{tflite::Padding::kSame, 1, 1, tflite::Activation::kRelu}, int8 ? 3 : 1);
  const int s2 = b.ConstI32("time_as_height", {4}, {1, length, 1, filters});
  const int r2 = b.Tensor("conv_t", act, {1, length, 1, filters}, q(0.03f, -128));
  b.Op(BuiltinOp::kReshape, {c, s2}, {r2}, tflite::ReshapeOptions{});
  const int p = b.Tensor("pool", act, {1, pooled, 1, filters}, q(0.03f, -128));
  b.Op(BuiltinOp::kMaxPool2D, {r2}, {p}, tflite::Pool2DOptions{tflite::Padding::kValid, 1, 2, 1, 2}, int8 ? 2 : 1);
  const int logits = b.Tensor("logits", act, {1, classes}, q(0.05f, 0));
  b.Op(BuiltinOp::kFullyConnected, {p, fc_w, fc_b}, {logits}, tflite::FullyConnectedOptions{}, int8 ? 4 : 1);
  const int probs = b.Tensor("probs", act, {1, classes}, q(1.0f / 256, -128));
  b.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{1.0f}, int8 ? 2 : 1);
  b.Output(probs);
  return b.Build();
}

// The Keras flatten the TensorFlow converter writes: SHAPE -> STRIDED_SLICE (the batch) -> PACK
// [batch, -1] -> RESHAPE, then a FULLY_CONNECTED summing the six values. Input [1,2,3] with a -1
// batch in its shape_signature.
inline tflite::Graph FlattenGraph() {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  GraphBuilder b;
  const int x = b.Input("x", TensorType::kFloat32, {1, 2, 3});
  b.graph().tensors[x].shape_signature = {-1, 2, 3};
  const int shape = b.Tensor("shape", TensorType::kInt32, {3});
  b.Op(BuiltinOp::kShape, {x}, {shape}, tflite::ShapeOptions{TensorType::kInt32});
  const int begin = b.ConstI32("begin", {1}, {0});
  const int end = b.ConstI32("end", {1}, {1});
  const int stride = b.ConstI32("stride", {1}, {1});
  const int n = b.Tensor("n", TensorType::kInt32, {});
  b.Op(BuiltinOp::kStridedSlice, {shape, begin, end, stride}, {n}, tflite::StridedSliceOptions{0, 0, 0, 0, 1});
  const int minus_one = b.ConstI32("minus_one", {}, {-1});
  const int packed = b.Tensor("packed", TensorType::kInt32, {2});
  b.Op(BuiltinOp::kPack, {n, minus_one}, {packed}, tflite::PackOptions{2, 0});
  const int flat = b.Tensor("flat", TensorType::kFloat32, {1, 6});
  b.Op(BuiltinOp::kReshape, {x, packed}, {flat}, tflite::ReshapeOptions{});
  const int w = b.ConstF32("w", {1, 6}, {1, 1, 1, 1, 1, 1});
  const int out = b.Tensor("out", TensorType::kFloat32, {1, 1});
  b.Op(BuiltinOp::kFullyConnected, {flat, w, -1}, {out}, tflite::FullyConnectedOptions{});
  b.Output(out);
  return b.Build();
}

// Dynamic-range layers: CONV_2D (per-channel int8 weights) and FULLY_CONNECTED (per-tensor,
// asymmetric input quantization) on float activations.
inline tflite::Graph HybridGraph() {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  GraphBuilder b;
  const int x = b.Input("x", TensorType::kFloat32, {1, 1, 16, 2});
  std::vector<int8_t> cw(4 * 3 * 2);
  for (size_t i = 0; i < cw.size(); ++i) cw[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  const int w = b.ConstI8("conv/w", {4, 1, 3, 2}, cw, PerChannelQuant({0.01f, 0.02f, 0.015f, 0.005f}, 0));
  const int cb = b.ConstF32("conv/b", {4}, {0.1f, 0.f, -0.1f, 0.2f});
  const int c = b.Tensor("conv", TensorType::kFloat32, {1, 1, 16, 4});
  b.Op(BuiltinOp::kConv2D, {x, w, cb}, {c}, tflite::Conv2DOptions{tflite::Padding::kSame, 1, 1, tflite::Activation::kRelu6}, 5);
  std::vector<int8_t> fw(3 * 64);
  for (size_t i = 0; i < fw.size(); ++i) fw[i] = static_cast<int8_t>(static_cast<int>(i * 53 % 255) - 127);
  const int f = b.ConstI8("fc/w", {3, 64}, fw, Quant(0.004f, 0));
  const int out = b.Tensor("out", TensorType::kFloat32, {1, 3});
  b.Op(BuiltinOp::kFullyConnected, {c, f, -1}, {out}, tflite::FullyConnectedOptions{tflite::Activation::kNone, false, true}, 7);
  b.Output(out);
  return b.Build();
}

// uint8 interface -> QUANTIZE int8 -> PAD -> AVERAGE_POOL_2D -> ADD -> MUL -> DEPTHWISE_CONV_2D ->
// LOGISTIC -> DEQUANTIZE float32 output.
inline tflite::Graph Int8OpsGraph() {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  constexpr TensorType kI8 = TensorType::kInt8;
  GraphBuilder b;
  const int in = b.Input("in", TensorType::kUInt8, {1, 1, 8, 2}, Quant(0.05f, 128));
  const int q = b.Tensor("q", kI8, {1, 1, 8, 2}, Quant(0.05f, 0));
  b.Op(BuiltinOp::kQuantize, {in}, {q});
  const int pads = b.ConstI32("pads", {4, 2}, {0, 0, 0, 0, 1, 1, 0, 0});
  const int padded = b.Tensor("padded", kI8, {1, 1, 10, 2}, Quant(0.05f, 0));
  b.Op(BuiltinOp::kPad, {q, pads}, {padded});
  const int pooled = b.Tensor("pooled", kI8, {1, 1, 5, 2}, Quant(0.05f, 0));
  b.Op(BuiltinOp::kAveragePool2D, {padded}, {pooled}, tflite::Pool2DOptions{tflite::Padding::kValid, 2, 1, 2, 1}, 2);
  const int k = b.ConstI8("k", {2}, {20, -30}, Quant(0.02f, 0));
  const int added = b.Tensor("added", kI8, {1, 1, 5, 2}, Quant(0.06f, -5));
  b.Op(BuiltinOp::kAdd, {pooled, k}, {added}, tflite::AddOptions{}, 2);
  const int m = b.ConstI8("m", {1, 1, 5, 2}, {1, 2, 3, 4, 5, -1, -2, -3, -4, -5}, Quant(0.1f, 0));
  const int mul = b.Tensor("mul", kI8, {1, 1, 5, 2}, Quant(0.02f, 0));
  b.Op(BuiltinOp::kMul, {added, m}, {mul}, tflite::AddOptions{}, 2);
  const int dw = b.ConstI8("dw", {1, 1, 3, 4}, {10, -20, 30, -40, 50, 60, -70, 80, 90, -100, 110, 120},
                           PerChannelQuant({0.01f, 0.02f, 0.03f, 0.04f}, 3));
  const int dwb = b.ConstI32("dwb", {4}, {10, -10, 100, 0}, PerChannelQuant({2e-4f, 4e-4f, 6e-4f, 8e-4f}, 0));
  const int d = b.Tensor("dw_out", kI8, {1, 1, 5, 4}, Quant(0.01f, 3));
  b.Op(BuiltinOp::kDepthwiseConv2D, {mul, dw, dwb}, {d},
       tflite::DepthwiseConv2DOptions{tflite::Padding::kSame, 1, 1, 2, tflite::Activation::kRelu}, 3);
  const int l = b.Tensor("logistic", kI8, {1, 1, 5, 4}, Quant(1.0f / 256, -128));
  b.Op(BuiltinOp::kLogistic, {d}, {l}, {}, 2);
  const int out = b.Tensor("out", TensorType::kFloat32, {1, 1, 5, 4});
  b.Op(BuiltinOp::kDequantize, {l}, {out}, {}, 2);
  b.Output(out);
  return b.Build();
}

// Float32: EXPAND_DIMS -> DEPTHWISE_CONV_2D -> TANH -> SUB -> RELU6 -> MEAN -> STRIDED_SLICE ->
// SQUEEZE, and a second output through RELU and LOGISTIC.
inline tflite::Graph FloatOpsGraph() {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  constexpr TensorType kF32 = TensorType::kFloat32;
  GraphBuilder b;
  const int in = b.Input("in", kF32, {1, 6, 2});
  const int axis = b.ConstI32("axis", {}, {1});
  const int e = b.Tensor("e", kF32, {1, 1, 6, 2});
  b.Op(BuiltinOp::kExpandDims, {in, axis}, {e});
  const int dw = b.ConstF32("dw", {1, 1, 2, 2}, {0.5f, -1.f, 2.f, 0.25f});
  const int d = b.Tensor("d", kF32, {1, 1, 6, 2});
  b.Op(BuiltinOp::kDepthwiseConv2D, {e, dw, -1}, {d}, tflite::DepthwiseConv2DOptions{tflite::Padding::kSame, 1, 1, 1});
  const int t = b.Tensor("t", kF32, {1, 1, 6, 2});
  b.Op(BuiltinOp::kTanh, {d}, {t});
  const int c = b.ConstF32("c", {2}, {-1.f, 0.5f});
  const int s = b.Tensor("s", kF32, {1, 1, 6, 2});
  b.Op(BuiltinOp::kSub, {t, c}, {s}, tflite::AddOptions{});
  const int r6 = b.Tensor("r6", kF32, {1, 1, 6, 2});
  b.Op(BuiltinOp::kRelu6, {s}, {r6});
  const int axes = b.ConstI32("axes", {1}, {2});
  const int mean = b.Tensor("mean", kF32, {1, 1, 1, 2});
  b.Op(BuiltinOp::kMean, {r6, axes}, {mean}, tflite::ReducerOptions{true});
  const int begin = b.ConstI32("begin", {4}, {0, 0, 0, 1});
  const int end = b.ConstI32("end", {4}, {1, 1, 1, 2});
  const int strides = b.ConstI32("strides", {4}, {1, 1, 1, 1});
  const int slice = b.Tensor("slice", kF32, {1, 1, 1, 1});
  // The batch dimension is taken whole through the masks, as the converter writes `x[:, ...]`.
  b.Op(BuiltinOp::kStridedSlice, {mean, begin, end, strides}, {slice}, tflite::StridedSliceOptions{1, 1});
  const int sq = b.Tensor("sq", kF32, {1});
  b.Op(BuiltinOp::kSqueeze, {slice}, {sq}, tflite::SqueezeOptions{{1, 2, 3}});
  b.Output(sq);
  const int relu = b.Tensor("relu", kF32, {1, 6, 2});
  b.Op(BuiltinOp::kRelu, {in}, {relu});
  const int lg = b.Tensor("lg", kF32, {1, 6, 2});
  b.Op(BuiltinOp::kLogistic, {relu}, {lg});
  b.Output(lg);
  return b.Build();
}

// Every sample graph with a file name (for the fuzz seeds).
inline std::vector<std::pair<const char*, tflite::Graph>> SampleGraphs() {
  return {{"conv1d_float.tflite", Conv1DGraph(false, 1)}, {"conv1d_int8.tflite", Conv1DGraph(true, 2)},
          {"flatten.tflite", FlattenGraph()},             {"hybrid.tflite", HybridGraph()},
          {"int8_ops.tflite", Int8OpsGraph()},            {"float_ops.tflite", FloatOpsGraph()}};
}

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_SAMPLE_GRAPHS_H_
