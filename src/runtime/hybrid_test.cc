// Dynamic-range ("hybrid") models: int8 weights with float activations, as the TensorFlow converter
// writes with Optimize.DEFAULT and no representative data. The kernels quantize each input row to
// int8 at run time, so against the float graph with the same (dequantized) weights the error is
// bounded by half an input step times the weights' absolute sum.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/kernels/reference/reference_kernels.h"
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
constexpr TensorType kF32 = TensorType::kFloat32;

std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct Weights {
  std::vector<int8_t> q;
  std::vector<float> scales;
  std::vector<float> dequantized;
};

// Symmetric int8 weights, per row of `rows` (per-channel) or one scale.
Weights QuantizeWeights(const std::vector<float>& w, int rows, bool per_channel) {
  Weights out;
  const size_t per_row = w.size() / rows;
  for (int r = 0; r < rows; ++r) {
    float max = 0;
    for (size_t i = 0; i < per_row; ++i) max = std::max(max, std::abs(w[r * per_row + i]));
    out.scales.push_back(max / 127);
  }
  if (!per_channel) out.scales.assign(1, *std::max_element(out.scales.begin(), out.scales.end()));
  for (size_t i = 0; i < w.size(); ++i) {
    const float s = out.scales[per_channel ? i / per_row : 0];
    out.q.push_back(static_cast<int8_t>(std::lround(w[i] / s)));
    out.dequantized.push_back(s * out.q.back());
  }
  return out;
}

std::vector<float> RunHybrid(const tflite::Graph& g, const std::vector<float>& x, std::string* kernel = nullptr) {
  RunOutput r = RunGraph(g, {ToBytes(x)});
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  if (kernel) {
    auto interp = Interpreter::Create(g);
    *kernel = interp.ok() ? (*interp)->kernel_name(0) : "";
  }
  return r.status.ok() ? As<float>(r.outputs[0]) : std::vector<float>{};
}

TEST(Hybrid, FullyConnectedSymmetricAndAsymmetricInputs) {
  const int batches = 4, depth = 32, units = 6;
  const std::vector<float> x = RandomFloats(batches * depth, 1, -2.f, 3.f);
  const std::vector<float> bias = RandomFloats(units, 2, -1.f, 1.f);
  for (bool per_channel : {false, true}) {
    for (bool asymmetric : {false, true}) {
      SCOPED_TRACE(std::string(per_channel ? "per-channel" : "per-tensor") + (asymmetric ? " asym" : " sym"));
      const Weights w = QuantizeWeights(RandomFloats(units * depth, 3, -0.5f, 0.5f), units, per_channel);
      auto build = [&](bool hybrid) {
        GraphBuilder b;
        const int in = b.Input("in", kF32, {batches, depth});
        const int tw = hybrid ? b.ConstI8("w", {units, depth}, w.q,
                                          per_channel ? PerChannelQuant(w.scales, 0) : Quant(w.scales[0], 0))
                              : b.ConstF32("w", {units, depth}, w.dequantized);
        const int tb = b.ConstF32("b", {units}, bias);
        const int out = b.Tensor("out", kF32, {batches, units});
        b.Op(BuiltinOp::kFullyConnected, {in, tw, tb}, {out},
             tflite::FullyConnectedOptions{Activation::kNone, false, asymmetric}, hybrid ? 7 : 1);
        b.Output(out);
        return b.Build();
      };
      std::string kernel;
      const std::vector<float> got = RunHybrid(build(true), x, &kernel);
      EXPECT_EQ(kernel, "fc_hybrid_ref");
      const std::vector<float> want = RunHybrid(build(false), x);
      ASSERT_EQ(got.size(), want.size());
      for (int n = 0; n < batches; ++n) {
        float max_abs = 0, min_v = 0, max_v = 0;
        for (int d = 0; d < depth; ++d) {
          const float v = x[n * depth + d];
          max_abs = std::max(max_abs, std::abs(v));
          min_v = std::min(min_v, v);
          max_v = std::max(max_v, v);
        }
        const float step = asymmetric ? (max_v - min_v) / 255 : max_abs / 127;
        for (int u = 0; u < units; ++u) {
          float abs_sum = 0;
          for (int d = 0; d < depth; ++d) abs_sum += std::abs(w.dequantized[u * depth + d]);
          EXPECT_NEAR(got[n * units + u], want[n * units + u], step * abs_sum + 1e-4f) << n << "," << u;
        }
      }
    }
  }
}

TEST(Hybrid, ConvPerChannelAndPerTensor) {
  const int w_len = 20, c = 3, k = 5, oc = 4;
  const std::vector<float> x = RandomFloats(2 * w_len * c, 4, -1.f, 1.5f);
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel);
    const Weights w = QuantizeWeights(RandomFloats(oc * k * c, 5, -0.3f, 0.3f), oc, per_channel);
    auto build = [&](bool hybrid) {
      GraphBuilder b;
      const int in = b.Input("in", kF32, {2, 1, w_len, c});
      const int tw = hybrid ? b.ConstI8("w", {oc, 1, k, c}, w.q,
                                        per_channel ? PerChannelQuant(w.scales, 0) : Quant(w.scales[0], 0))
                            : b.ConstF32("w", {oc, 1, k, c}, w.dequantized);
      const int tb = b.ConstF32("b", {oc}, {0.1f, -0.2f, 0.3f, 0.f});
      const int out = b.Tensor("out", kF32, {2, 1, w_len, oc});
      b.Op(BuiltinOp::kConv2D, {in, tw, tb}, {out}, tflite::Conv2DOptions{Padding::kSame, 1, 1, Activation::kRelu},
           hybrid ? 5 : 1);
      b.Output(out);
      return b.Build();
    };
    std::string kernel;
    const std::vector<float> got = RunHybrid(build(true), x, &kernel);
    EXPECT_EQ(kernel, "conv_hybrid_ref");
    const std::vector<float> want = RunHybrid(build(false), x);
    ASSERT_EQ(got.size(), want.size());
    std::vector<float> abs_sum(oc, 0.f);
    for (size_t i = 0; i < w.dequantized.size(); ++i) abs_sum[i / (k * c)] += std::abs(w.dequantized[i]);
    const float step = 2.5f / 255;  // the asymmetric step of inputs in [-1, 1.5]
    double err = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], step * abs_sum[i % oc] + 1e-4f) << i;
      err = std::max(err, static_cast<double>(std::abs(got[i] - want[i])));
    }
    EXPECT_GT(err, 0.0) << "hybrid arithmetic should differ slightly from float";
  }
}

TEST(Hybrid, DepthwiseConvPerChannelMatchesTfliteArithmetic) {
  // [2, 1, 16, 2] input, depth multiplier 3, kernel 1x4, dilation 2, SAME padding.
  const int w_len = 16, c = 2, mult = 3, oc = c * mult, k = 4;
  const std::vector<float> x = RandomFloats(2 * w_len * c, 8, -2.f, 1.f);
  std::vector<float> wf = RandomFloats(k * oc, 9, -0.5f, 0.5f);
  // Depthwise weights [1, 1, k, oc]: per channel along the last dimension.
  std::vector<float> transposed(wf.size());
  for (int t = 0; t < k; ++t) {
    for (int o = 0; o < oc; ++o) transposed[o * k + t] = wf[t * oc + o];
  }
  const Weights wt = QuantizeWeights(transposed, oc, true);
  std::vector<int8_t> wq(wf.size());
  std::vector<float> wd(wf.size());
  for (int t = 0; t < k; ++t) {
    for (int o = 0; o < oc; ++o) {
      wq[t * oc + o] = wt.q[o * k + t];
      wd[t * oc + o] = wt.dequantized[o * k + t];
    }
  }
  const std::vector<float> bias = RandomFloats(oc, 10, -0.2f, 0.2f);
  auto build = [&](bool hybrid) {
    GraphBuilder b;
    const int in = b.Input("in", kF32, {2, 1, w_len, c});
    const int tw = hybrid ? b.ConstI8("w", {1, 1, k, oc}, wq, PerChannelQuant(wt.scales, 3))
                          : b.ConstF32("w", {1, 1, k, oc}, wd);
    const int tb = b.ConstF32("b", {oc}, bias);
    const int out = b.Tensor("out", kF32, {2, 1, w_len, oc});
    tflite::DepthwiseConv2DOptions o;
    o.padding = Padding::kSame;
    o.depth_multiplier = mult;
    o.dilation_w = 2;
    b.Op(BuiltinOp::kDepthwiseConv2D, {in, tw, tb}, {out}, o, hybrid ? 6 : 1);
    b.Output(out);
    return b.Build();
  };
  std::string kernel;
  const std::vector<float> got = RunHybrid(build(true), x, &kernel);
  EXPECT_EQ(kernel, "dwconv_hybrid_ref");
  ASSERT_EQ(got.size(), static_cast<size_t>(2 * w_len * oc));
  // TFLite's arithmetic, spelled out: each batch row quantized asymmetrically, integer
  // accumulation against (q - offset), then acc * (filter_scale * input_scale) + bias.
  const int pad = ((w_len - 1) + (k - 1) * 2 + 1 - w_len) / 2;
  for (int bt = 0; bt < 2; ++bt) {
    std::vector<int8_t> q(w_len * c);
    float scale = 0;
    int32_t offset = 0;
    reference::QuantizeRowForHybrid(x.data() + bt * w_len * c, w_len * c, true, q.data(), &scale, &offset);
    for (int ox = 0; ox < w_len; ++ox) {
      for (int o = 0; o < oc; ++o) {
        const int ic = o / mult;
        int32_t acc = 0;
        for (int t = 0; t < k; ++t) {
          const int ix = ox - pad + 2 * t;
          if (ix < 0 || ix >= w_len) continue;
          acc += wq[t * oc + o] * (q[ix * c + ic] - offset);
        }
        float want = static_cast<float>(acc);
        want *= wt.scales[o] * scale;
        want += bias[o];
        const float have = got[(bt * w_len + ox) * oc + o];
        EXPECT_EQ(have, want) << "batch " << bt << " x " << ox << " channel " << o;
      }
    }
  }
  // And close to the float model with the same dequantized weights.
  const std::vector<float> want = RunHybrid(build(false), x);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.05f) << i;
}

}  // namespace
}  // namespace edgeloop::runtime
