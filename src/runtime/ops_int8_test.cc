// INT8 operators. Beyond the fixtures (bit-exact with TFLite), each quantized op is checked against
// the real-valued result of its dequantized inputs: after requantization the output may differ by
// at most one unit in the last place from round(real / scale) + zero_point. Plus exact cases for the
// rounding rules (half away from zero) and saturation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/test_util.h"

namespace edgeloop::runtime {
namespace {

using testing_support::GraphBuilder;
using testing_support::PerChannelQuant;
using testing_support::Quant;
using tflite::Activation;
using tflite::BuiltinOp;
using tflite::Padding;
using tflite::TensorType;
constexpr TensorType kI8 = TensorType::kInt8;

struct QParams {
  float scale;
  int32_t zp;
  double Real(int8_t q) const { return scale * (static_cast<int32_t>(q) - zp); }
  int32_t Quantize(double real) const {
    return static_cast<int32_t>(std::clamp<double>(std::round(real / scale) + zp, -128, 127));
  }
};

std::vector<int8_t> RandomInt8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int8_t> RunI8(const tflite::Graph& g, const std::vector<std::vector<int8_t>>& inputs) {
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& in : inputs) bytes.push_back(ToBytes(in));
  RunOutput r = RunGraph(g, bytes);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  return r.status.ok() ? As<int8_t>(r.outputs[0]) : std::vector<int8_t>{};
}

void ExpectWithinOne(const std::vector<int8_t>& got, const std::vector<int32_t>& want) {
  ASSERT_EQ(got.size(), want.size());
  int exact = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_LE(std::abs(got[i] - want[i]), 1) << "index " << i << ": got " << int{got[i]} << " want " << want[i];
    exact += got[i] == want[i];
  }
  EXPECT_GE(exact * 10, static_cast<int>(want.size()) * 8) << "fewer than 80% exact";
}

TEST(Int8Ops, FullyConnectedPerTensorAndPerChannel) {
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel);
    const int batches = 3, depth = 16, units = 5;
    const QParams in{0.05f, -7}, out{0.4f, 3};
    std::vector<float> w_scales(per_channel ? units : 1);
    for (size_t i = 0; i < w_scales.size(); ++i) w_scales[i] = 0.01f * (1 + i);
    const std::vector<int8_t> x = RandomInt8(batches * depth, 1);
    const std::vector<int8_t> w = RandomInt8(units * depth, 2, -127, 127);
    std::vector<int32_t> bias(units);
    for (int u = 0; u < units; ++u) bias[u] = (u - 2) * 300;
    GraphBuilder b;
    const int ti = b.Input("in", kI8, {batches, depth}, Quant(in.scale, in.zp));
    tflite::Quantization wq = per_channel ? PerChannelQuant(w_scales, 0) : Quant(w_scales[0], 0);
    const int tw = b.ConstI8("w", {units, depth}, w, wq);
    std::vector<float> bias_scales;
    for (float s : w_scales) bias_scales.push_back(s * in.scale);
    const int tb = b.ConstI32("b", {units}, bias, per_channel ? PerChannelQuant(bias_scales, 0) : Quant(bias_scales[0], 0));
    const int to = b.Tensor("out", kI8, {batches, units}, Quant(out.scale, out.zp));
    b.Op(BuiltinOp::kFullyConnected, {ti, tw, tb}, {to}, tflite::FullyConnectedOptions{}, 4);
    b.Output(to);
    std::vector<int32_t> want;
    for (int n = 0; n < batches; ++n) {
      for (int u = 0; u < units; ++u) {
        const double ws = w_scales[per_channel ? u : 0];
        double acc = bias[u] * ws * in.scale;
        for (int d = 0; d < depth; ++d) acc += in.Real(x[n * depth + d]) * ws * w[u * depth + d];
        want.push_back(out.Quantize(acc));
      }
    }
    ExpectWithinOne(RunI8(b.graph(), {x}), want);
  }
}

TEST(Int8Ops, ConvAndDepthwisePerChannelWithRelu6) {
  for (bool depthwise : {false, true}) {
    SCOPED_TRACE(depthwise);
    const int h = 1, w = 12, c = 2, k = 3, oc = depthwise ? 4 : 3;
    const QParams in{0.1f, 5}, out{0.05f, -128};
    std::vector<float> scales(oc);
    for (int i = 0; i < oc; ++i) scales[i] = 0.004f * (i + 1);
    const std::vector<int8_t> x = RandomInt8(h * w * c, 3);
    const int filter_c = depthwise ? oc : c;
    const std::vector<int8_t> f = RandomInt8((depthwise ? 1 : oc) * k * filter_c, 4, -127, 127);
    GraphBuilder b;
    const int ti = b.Input("in", kI8, {1, h, w, c}, Quant(in.scale, in.zp));
    const std::vector<int32_t> fshape = depthwise ? std::vector<int32_t>{1, 1, k, oc} : std::vector<int32_t>{oc, 1, k, c};
    const int tf = b.ConstI8("f", fshape, f, PerChannelQuant(scales, depthwise ? 3 : 0));
    const int to = b.Tensor("out", kI8, {1, 1, w, oc}, Quant(out.scale, out.zp));
    if (depthwise) {
      b.Op(BuiltinOp::kDepthwiseConv2D, {ti, tf, -1}, {to},
           tflite::DepthwiseConv2DOptions{Padding::kSame, 1, 1, 2, Activation::kRelu6}, 3);
    } else {
      b.Op(BuiltinOp::kConv2D, {ti, tf, -1}, {to}, tflite::Conv2DOptions{Padding::kSame, 1, 1, Activation::kRelu6}, 3);
    }
    b.Output(to);
    std::vector<int32_t> want;
    for (int ox = 0; ox < w; ++ox) {
      for (int o = 0; o < oc; ++o) {
        double acc = 0;
        for (int j = 0; j < k; ++j) {
          const int ix = ox + j - 1;  // SAME, kernel 3: pad 1
          if (ix < 0 || ix >= w) continue;
          if (depthwise) {
            acc += in.Real(x[ix * c + o / 2]) * scales[o] * f[j * oc + o];
          } else {
            for (int ic = 0; ic < c; ++ic) acc += in.Real(x[ix * c + ic]) * scales[o] * f[(o * k + j) * c + ic];
          }
        }
        want.push_back(std::clamp(out.Quantize(acc), out.Quantize(0.0), out.Quantize(6.0)));
      }
    }
    ExpectWithinOne(RunI8(b.graph(), {x}), want);
  }
}

TEST(Int8Ops, PoolingRoundsHalfAwayFromZero) {
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {1, 1, 6, 1}, Quant(0.5f, 0));
  const int to = b.Tensor("out", kI8, {1, 1, 3, 1}, Quant(0.5f, 0));
  b.Op(BuiltinOp::kAveragePool2D, {ti}, {to}, tflite::Pool2DOptions{Padding::kValid, 2, 1, 2, 1, Activation::kNone});
  b.Output(to);
  EXPECT_EQ(RunI8(b.graph(), {{1, 2, -1, -2, 127, 126}}), (std::vector<int8_t>{2, -2, 127}));
  GraphBuilder m;
  const int mi = m.Input("in", kI8, {1, 1, 6, 1}, Quant(0.5f, -3));
  const int mo = m.Tensor("out", kI8, {1, 1, 3, 1}, Quant(0.5f, -3));
  m.Op(BuiltinOp::kMaxPool2D, {mi}, {mo}, tflite::Pool2DOptions{Padding::kValid, 2, 1, 2, 1, Activation::kRelu});
  m.Output(mo);
  // RELU clamps at the zero point (-3).
  EXPECT_EQ(RunI8(m.graph(), {{-100, -50, 4, -128, 127, 0}}), (std::vector<int8_t>{-3, 4, 127}));
}

TEST(Int8Ops, AddAndMulWithBroadcast) {
  for (BuiltinOp op : {BuiltinOp::kAdd, BuiltinOp::kMul}) {
    SCOPED_TRACE(tflite::BuiltinOpName(op));
    const QParams a{0.02f, -10}, c{0.07f, 4}, out{op == BuiltinOp::kAdd ? 0.05f : 0.1f, 1};
    const std::vector<int8_t> x = RandomInt8(2 * 3 * 4, 5), y = RandomInt8(4, 6);
    GraphBuilder b;
    const int ta = b.Input("a", kI8, {2, 3, 4}, Quant(a.scale, a.zp));
    const int tc = b.ConstI8("c", {4}, y, Quant(c.scale, c.zp));
    const int to = b.Tensor("out", kI8, {2, 3, 4}, Quant(out.scale, out.zp));
    b.Op(op, {ta, tc}, {to}, tflite::AddOptions{});
    b.Output(to);
    std::vector<int32_t> want;
    for (size_t i = 0; i < x.size(); ++i) {
      const double r = op == BuiltinOp::kAdd ? a.Real(x[i]) + c.Real(y[i % 4]) : a.Real(x[i]) * c.Real(y[i % 4]);
      want.push_back(out.Quantize(r));
    }
    ExpectWithinOne(RunI8(b.graph(), {x}), want);
  }
}

TEST(Int8Ops, SoftmaxAndLogistic) {
  const QParams in{0.15f, 12}, out{1.0f / 256, -128};
  const std::vector<int8_t> x = RandomInt8(4 * 10, 7);
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {4, 10}, Quant(in.scale, in.zp));
  const int to = b.Tensor("out", kI8, {4, 10}, Quant(out.scale, out.zp));
  b.Op(BuiltinOp::kSoftmax, {ti}, {to}, tflite::SoftmaxOptions{1.0f}, 2);
  b.Output(to);
  std::vector<int32_t> want;
  for (int r = 0; r < 4; ++r) {
    double max = -1e30, sum = 0;
    for (int i = 0; i < 10; ++i) max = std::max(max, in.Real(x[r * 10 + i]));
    for (int i = 0; i < 10; ++i) sum += std::exp(in.Real(x[r * 10 + i]) - max);
    for (int i = 0; i < 10; ++i) want.push_back(out.Quantize(std::exp(in.Real(x[r * 10 + i]) - max) / sum));
  }
  ExpectWithinOne(RunI8(b.graph(), {x}), want);

  GraphBuilder l;
  const int li = l.Input("in", kI8, {1, 256}, Quant(0.05f, -20));
  const int lo = l.Tensor("out", kI8, {1, 256}, Quant(out.scale, out.zp));
  l.Op(BuiltinOp::kLogistic, {li}, {lo}, {}, 2);
  l.Output(lo);
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<int8_t>(i - 128);
  std::vector<int32_t> lwant;
  for (int8_t q : all) lwant.push_back(out.Quantize(1 / (1 + std::exp(-0.05 * (q + 20)))));
  ExpectWithinOne(RunI8(l.graph(), {all}), lwant);
}

TEST(Int8Ops, QuantizeRoundsHalfAwayFromZeroAndSaturates) {
  for (TensorType out_type : {TensorType::kInt8, TensorType::kUInt8}) {
    const int32_t zp = out_type == TensorType::kInt8 ? 0 : 128;
    GraphBuilder b;
    const int ti = b.Input("in", TensorType::kFloat32, {6});
    const int to = b.Tensor("out", out_type, {6}, Quant(0.5f, zp));
    b.Op(BuiltinOp::kQuantize, {ti}, {to});
    b.Output(to);
    RunOutput r = RunGraph(b.graph(), {ToBytes(std::vector<float>{0.25f, -0.25f, 0.75f, -0.75f, 1e9f, -1e9f})});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    std::vector<int32_t> got;
    for (uint8_t v : r.outputs[0]) got.push_back(out_type == TensorType::kInt8 ? static_cast<int8_t>(v) : v);
    // 0.25 / 0.5 = 0.5 -> 1; -0.5 -> -1; 1.5 -> 2; -1.5 -> -2; then saturation.
    const std::vector<int32_t> want = out_type == TensorType::kInt8 ? std::vector<int32_t>{1, -1, 2, -2, 127, -128}
                                                                    : std::vector<int32_t>{129, 127, 130, 126, 255, 0};
    EXPECT_EQ(got, want);
  }
}

TEST(Int8Ops, RequantizeBetweenInt8AndUInt8AndDequantize) {
  // int8 (zp -128) -> uint8 (zp 0), same scale: exactly +128, as converters use at uint8 interfaces.
  GraphBuilder b;
  const int ti = b.Input("in", TensorType::kUInt8, {4}, Quant(0.1f, 0));
  const int tm = b.Tensor("mid", kI8, {4}, Quant(0.1f, -128));
  b.Op(BuiltinOp::kQuantize, {ti}, {tm});
  const int to = b.Tensor("out", TensorType::kUInt8, {4}, Quant(0.2f, 10));
  b.Op(BuiltinOp::kQuantize, {tm}, {to});
  const int tf = b.Tensor("f", TensorType::kFloat32, {4});
  b.Op(BuiltinOp::kDequantize, {tm}, {tf});
  b.Output(to);
  b.Output(tf);
  RunOutput r = RunGraph(b.graph(), {{0, 1, 128, 255}});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  // Real values 0, 0.1, 12.8, 25.5 -> at scale 0.2 zp 10: 10, 10.5 -> 11, 74, 137.5 -> 138.
  EXPECT_EQ(r.outputs[0], (std::vector<uint8_t>{10, 11, 74, 138}));
  const std::vector<float> f = As<float>(r.outputs[1]);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_FLOAT_EQ(f[0], 0.0f);
  EXPECT_FLOAT_EQ(f[1], static_cast<float>(0.1f * 1.0));
  EXPECT_FLOAT_EQ(f[3], static_cast<float>(static_cast<double>(0.1f) * 255));
}

struct ErrorCase {
  const char* name;
  tflite::Graph (*make)();
  const char* expected;
};

tflite::Graph ConvWithAsymmetricWeights() {
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {1, 1, 4, 1}, Quant(0.1f, 0));
  tflite::Quantization q = Quant(0.1f, 3);
  const int tf = b.ConstI8("weights", {1, 1, 2, 1}, {1, 2}, q);
  const int to = b.Tensor("out", kI8, {1, 1, 3, 1}, Quant(0.1f, 0));
  b.Op(BuiltinOp::kConv2D, {ti, tf}, {to}, tflite::Conv2DOptions{Padding::kValid});
  b.Output(to);
  return b.Build();
}

tflite::Graph SoftmaxWithWrongOutputScale() {
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {1, 4}, Quant(0.1f, 0));
  const int to = b.Tensor("probs", kI8, {1, 4}, Quant(1.0f / 255, -128));
  b.Op(BuiltinOp::kSoftmax, {ti}, {to}, tflite::SoftmaxOptions{});
  b.Output(to);
  return b.Build();
}

tflite::Graph Int8Relu() {
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {4}, Quant(0.1f, 0));
  const int to = b.Tensor("out", kI8, {4}, Quant(0.1f, 0));
  b.Op(BuiltinOp::kRelu, {ti}, {to});
  b.Output(to);
  return b.Build();
}

tflite::Graph ZeroScale() {
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {1, 2}, Quant(0.0f, 0));
  const int tf = b.ConstI8("w", {1, 2}, {1, 1}, Quant(0.1f, 0));
  const int to = b.Tensor("out", kI8, {1, 1}, Quant(0.1f, 0));
  b.Op(BuiltinOp::kFullyConnected, {ti, tf}, {to}, tflite::FullyConnectedOptions{});
  b.Output(to);
  return b.Build();
}

TEST(Int8Ops, PrepareErrorsNameTheOperatorAndReason) {
  const ErrorCase cases[] = {
      {"asymmetric conv weights", ConvWithAsymmetricWeights,
       "operator 0 (CONV_2D): filter tensor 1 ('weights'): zero_point[0] = 3; int8 weights must be symmetric"},
      {"softmax output scale", SoftmaxWithWrongOutputScale,
       "operator 0 (SOFTMAX): int8 softmax output tensor 1 ('probs') must have scale 1/256"},
      {"int8 relu", Int8Relu, "operator 0 (RELU): input tensor 0 ('in') is INT8, expected FLOAT32"},
      {"zero scale", ZeroScale, "operator 0 (FULLY_CONNECTED): input tensor 0 ('in') has scale 0"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto interp = Interpreter::Create(c.make());
    ASSERT_FALSE(interp.ok());
    EXPECT_EQ(interp.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(interp.status().message().find(c.expected), std::string::npos) << interp.status().message();
  }
}

}  // namespace
}  // namespace edgeloop::runtime
