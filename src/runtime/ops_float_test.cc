// Float32 operators: known answers worked out by hand, and convolution against an independent
// formulation (explicit zero padding, then a plain correlation).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/test_util.h"
#include "test/support/sample_graphs.h"

namespace edgeloop::runtime {
namespace {

using testing_support::FlattenGraph;
using testing_support::GraphBuilder;
using tflite::Activation;
using tflite::BuiltinOp;
using tflite::Padding;
using tflite::TensorType;
constexpr TensorType kF32 = TensorType::kFloat32;

std::vector<float> RunF32(GraphBuilder& b, const std::vector<std::vector<float>>& inputs, int batch = 1,
                          std::vector<int32_t>* shape = nullptr) {
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& in : inputs) bytes.push_back(ToBytes(in));
  InterpreterOptions options;
  options.batch = batch;
  RunOutput r = RunGraph(b.graph(), bytes, options);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  if (!r.status.ok()) return {};
  if (shape) *shape = r.shapes[0];
  return As<float>(r.outputs[0]);
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(FloatOps, Conv1DAsConv2DValidWithBiasAndRelu) {
  GraphBuilder b;
  const int in = b.Input("in", kF32, {1, 1, 5, 1});
  const int w = b.ConstF32("w", {1, 1, 3, 1}, {1, 0, -1});
  const int bias = b.ConstF32("bias", {1}, {0.5f});
  const int out = b.Tensor("out", kF32, {1, 1, 3, 1});
  b.Op(BuiltinOp::kConv2D, {in, w, bias}, {out}, tflite::Conv2DOptions{Padding::kValid, 1, 1, Activation::kRelu});
  b.Output(out);
  // x = 1 4 2 8 5: x[i] - x[i+2] + 0.5 = -0.5, -3.5, -2.5 -> relu 0 0 0; flip the sign of x:
  ExpectNear(RunF32(b, {{1, 4, 2, 8, 5}}), {0, 0, 0});
  ExpectNear(RunF32(b, {{-1, -4, -2, -8, -5}}), {1.5f, 4.5f, 3.5f});
}

// Independent convolution: zero-pad explicitly, then correlate.
std::vector<float> NaiveConv(const std::vector<float>& x, int n, int h, int w, int c, const std::vector<float>& f,
                             int oc, int fh, int fw, const std::vector<float>& bias, int sh, int sw, int dh, int dw,
                             int pad_top, int pad_left, int out_h, int out_w) {
  const int ph = h + 2 * (fh * dh + sh), pw = w + 2 * (fw * dw + sw);
  std::vector<float> padded(static_cast<size_t>(n) * ph * pw * c, 0.f);
  for (int b = 0; b < n; ++b)
    for (int y = 0; y < h; ++y)
      for (int xx = 0; xx < w; ++xx)
        for (int k = 0; k < c; ++k)
          padded[((b * ph + y + pad_top) * pw + xx + pad_left) * c + k] = x[((b * h + y) * w + xx) * c + k];
  std::vector<float> out(static_cast<size_t>(n) * out_h * out_w * oc);
  for (int b = 0; b < n; ++b)
    for (int y = 0; y < out_h; ++y)
      for (int xx = 0; xx < out_w; ++xx)
        for (int o = 0; o < oc; ++o) {
          double s = bias[o];
          for (int i = 0; i < fh; ++i)
            for (int j = 0; j < fw; ++j)
              for (int k = 0; k < c; ++k)
                s += padded[((b * ph + y * sh + i * dh) * pw + xx * sw + j * dw) * c + k] * f[((o * fh + i) * fw + j) * c + k];
          out[((b * out_h + y) * out_w + xx) * oc + o] = static_cast<float>(s);
        }
  return out;
}

TEST(FloatOps, Conv2DMatchesExplicitPaddingForm) {
  struct Case {
    Padding padding;
    int h, w, fh, fw, stride, dilation;
  };
  const Case cases[] = {{Padding::kSame, 7, 9, 3, 3, 2, 1}, {Padding::kSame, 6, 6, 3, 2, 1, 2},
                        {Padding::kValid, 8, 5, 3, 3, 2, 1}, {Padding::kValid, 1, 16, 1, 5, 1, 2},
                        {Padding::kSame, 1, 16, 1, 4, 3, 1}};
  int seed = 1;
  for (const Case& k : cases) {
    SCOPED_TRACE(seed);
    const int n = 2, c = 3, oc = 4;
    const std::vector<float> x = Random(static_cast<size_t>(n) * k.h * k.w * c, seed++);
    const std::vector<float> f = Random(static_cast<size_t>(oc) * k.fh * k.fw * c, seed++);
    const std::vector<float> bias = Random(oc, seed++);
    const int eh = (k.fh - 1) * k.dilation + 1, ew = (k.fw - 1) * k.dilation + 1;
    const int out_h = k.padding == Padding::kSame ? (k.h + k.stride - 1) / k.stride : (k.h - eh + k.stride) / k.stride;
    const int out_w = k.padding == Padding::kSame ? (k.w + k.stride - 1) / k.stride : (k.w - ew + k.stride) / k.stride;
    const int pad_top = std::max(0, ((out_h - 1) * k.stride + eh - k.h) / 2);
    const int pad_left = std::max(0, ((out_w - 1) * k.stride + ew - k.w) / 2);
    GraphBuilder b;
    const int in = b.Input("in", kF32, {n, k.h, k.w, c});
    const int wt = b.ConstF32("w", {oc, k.fh, k.fw, c}, f);
    const int bt = b.ConstF32("b", {oc}, bias);
    const int out = b.Tensor("out", kF32, {n, out_h, out_w, oc});
    b.Op(BuiltinOp::kConv2D, {in, wt, bt}, {out},
         tflite::Conv2DOptions{k.padding, k.stride, k.stride, Activation::kNone, k.dilation, k.dilation});
    b.Output(out);
    ExpectNear(RunF32(b, {x}), NaiveConv(x, n, k.h, k.w, c, f, oc, k.fh, k.fw, bias, k.stride, k.stride, k.dilation,
                                         k.dilation, pad_top, pad_left, out_h, out_w),
               1e-4f);
  }
}

TEST(FloatOps, DepthwiseConvWithMultiplier) {
  GraphBuilder b;
  const int in = b.Input("in", kF32, {1, 1, 3, 2});
  // Output channel m + c * 2 uses input channel c.
  const int w = b.ConstF32("w", {1, 1, 2, 4}, {1, 2, 3, 4, 10, 20, 30, 40});
  const int out = b.Tensor("out", kF32, {1, 1, 2, 4});
  b.Op(BuiltinOp::kDepthwiseConv2D, {in, w, -1}, {out},
       tflite::DepthwiseConv2DOptions{Padding::kValid, 1, 1, 2, Activation::kNone});
  b.Output(out);
  // x = [(1, 2), (3, 4), (5, 6)]; out[x0][oc] = x[x0][c] * w0[oc] + x[x0+1][c] * w1[oc].
  ExpectNear(RunF32(b, {{1, 2, 3, 4, 5, 6}}),
             {1 * 1 + 3 * 10, 1 * 2 + 3 * 20, 2 * 3 + 4 * 30, 2 * 4 + 4 * 40,
              3 * 1 + 5 * 10, 3 * 2 + 5 * 20, 4 * 3 + 6 * 30, 4 * 4 + 6 * 40});
}

TEST(FloatOps, PoolingClipsWindowsAtTheBorder) {
  for (BuiltinOp op : {BuiltinOp::kMaxPool2D, BuiltinOp::kAveragePool2D}) {
    GraphBuilder b;
    const int in = b.Input("in", kF32, {1, 1, 5, 1});
    const int out = b.Tensor("out", kF32, {1, 1, 3, 1});
    b.Op(op, {in}, {out}, tflite::Pool2DOptions{Padding::kSame, 2, 1, 2, 1, Activation::kNone});
    b.Output(out);
    // SAME, window 2, stride 2 over 5: windows [0,1], [2,3], [4] (padding not averaged in).
    const std::vector<float> got = RunF32(b, {{1, -3, 5, 7, -2}});
    if (op == BuiltinOp::kMaxPool2D) {
      ExpectNear(got, {1, 7, -2});
    } else {
      ExpectNear(got, {-1, 6, -2});
    }
  }
}

TEST(FloatOps, FullyConnectedKeepNumDimsAndFlatten) {
  for (bool keep : {false, true}) {
    GraphBuilder b;
    const int in = b.Input("in", kF32, {1, 2, 3});
    const int w = b.ConstF32("w", {2, 3}, {1, 0, 0, 1, 1, 1});
    const int bias = b.ConstF32("b", {2}, {0, -10});
    const int out = b.Tensor("out", kF32, keep ? std::vector<int32_t>{1, 2, 2} : std::vector<int32_t>{2, 2});
    b.Op(BuiltinOp::kFullyConnected, {in, w, bias}, {out}, tflite::FullyConnectedOptions{Activation::kNone, keep});
    b.Output(out);
    std::vector<int32_t> shape;
    ExpectNear(RunF32(b, {{1, 2, 3, 4, 5, 6}}, 1, &shape), {1, -4, 4, 5});
    EXPECT_EQ(shape, keep ? (std::vector<int32_t>{1, 2, 2}) : (std::vector<int32_t>{2, 2}));
  }
}

TEST(FloatOps, SoftmaxWithBetaAndActivations) {
  GraphBuilder b;
  const int in = b.Input("in", kF32, {1, 3});
  const int sm = b.Tensor("sm", kF32, {1, 3});
  b.Op(BuiltinOp::kSoftmax, {in}, {sm}, tflite::SoftmaxOptions{2.0f});
  b.Output(sm);
  const float e0 = std::exp(2 * 1.f), e1 = std::exp(2 * 2.f), e2 = std::exp(2 * 0.5f), s = e0 + e1 + e2;
  ExpectNear(RunF32(b, {{1, 2, 0.5f}}), {e0 / s, e1 / s, e2 / s});

  for (BuiltinOp op : {BuiltinOp::kLogistic, BuiltinOp::kRelu, BuiltinOp::kRelu6, BuiltinOp::kTanh}) {
    GraphBuilder g;
    const int x = g.Input("x", kF32, {5});
    const int y = g.Tensor("y", kF32, {5});
    g.Op(op, {x}, {y});
    g.Output(y);
    const std::vector<float> v = {-20, -1, 0, 3, 7.5f};
    std::vector<float> want;
    for (float f : v) {
      switch (op) {
        case BuiltinOp::kLogistic: want.push_back(1 / (1 + std::exp(-f))); break;
        case BuiltinOp::kRelu: want.push_back(std::max(f, 0.f)); break;
        case BuiltinOp::kRelu6: want.push_back(std::min(std::max(f, 0.f), 6.f)); break;
        default: want.push_back(std::tanh(f)); break;
      }
    }
    ExpectNear(RunF32(g, {v}), want);
  }
}

TEST(FloatOps, ElementwiseBroadcastAndFusedActivation) {
  struct Case {
    BuiltinOp op;
    Activation act;
    std::vector<float> want;
  };
  const std::vector<float> a = {1, 2, 3, -4, -5, -6};  // [2,1,3]
  const std::vector<float> c = {10, 20, 30};           // [3]
  const Case cases[] = {{BuiltinOp::kAdd, Activation::kNone, {11, 22, 33, 6, 15, 24}},
                        {BuiltinOp::kSub, Activation::kRelu, {0, 0, 0, 0, 0, 0}},
                        {BuiltinOp::kMul, Activation::kRelu6, {6, 6, 6, 0, 0, 0}}};
  for (const Case& k : cases) {
    GraphBuilder b;
    const int x = b.Input("x", kF32, {2, 1, 3});
    const int y = b.ConstF32("y", {3}, c);
    const int out = b.Tensor("out", kF32, {2, 1, 3});
    b.Op(k.op, {x, y}, {out}, tflite::AddOptions{k.act});
    b.Output(out);
    ExpectNear(RunF32(b, {a}), k.want);
  }
  // Both sides broadcast: [2,1] x [1,3] -> [2,3].
  GraphBuilder b;
  const int x = b.Input("x", kF32, {2, 1});
  const int y = b.ConstF32("y", {1, 3}, {1, 2, 3});
  const int out = b.Tensor("out", kF32, {2, 3});
  b.Op(BuiltinOp::kMul, {x, y}, {out}, tflite::AddOptions{});
  b.Output(out);
  ExpectNear(RunF32(b, {{2, -1}}), {2, 4, 6, -1, -2, -3});
}

TEST(FloatOps, MeanOverAxesAndPad) {
  for (bool keep : {false, true}) {
    GraphBuilder b;
    const int x = b.Input("x", kF32, {1, 2, 2, 2});
    const int axes = b.ConstI32("axes", {2}, {1, -2});
    const int out = b.Tensor("out", kF32, keep ? std::vector<int32_t>{1, 1, 1, 2} : std::vector<int32_t>{1, 2});
    b.Op(BuiltinOp::kMean, {x, axes}, {out}, tflite::ReducerOptions{keep});
    b.Output(out);
    ExpectNear(RunF32(b, {{1, 10, 2, 20, 3, 30, 4, 40}}), {2.5f, 25});
  }
  GraphBuilder b;
  const int x = b.Input("x", kF32, {1, 2});
  const int pads = b.ConstI32("pads", {2, 2}, {0, 0, 1, 2});
  const int out = b.Tensor("out", kF32, {1, 5});
  b.Op(BuiltinOp::kPad, {x, pads}, {out});
  b.Output(out);
  ExpectNear(RunF32(b, {{7, 8}}), {0, 7, 8, 0, 0});
}

TEST(FloatOps, ShapeOpsKeepBytesAndResolveShapes) {
  GraphBuilder b;
  const int x = b.Input("x", kF32, {1, 6});
  const int r = b.Tensor("r", kF32, {1, 2, 3});
  b.Op(BuiltinOp::kReshape, {x}, {r}, tflite::ReshapeOptions{{1, -1, 3}});
  const int axis = b.ConstI32("axis", {}, {-1});
  const int e = b.Tensor("e", kF32, {1, 2, 3, 1});
  b.Op(BuiltinOp::kExpandDims, {r, axis}, {e});
  const int s = b.Tensor("s", kF32, {2, 3});
  b.Op(BuiltinOp::kSqueeze, {e}, {s}, tflite::SqueezeOptions{{0, 3}});
  const int target = b.ConstI32("target", {1}, {6});
  const int f = b.Tensor("f", kF32, {6});
  b.Op(BuiltinOp::kReshape, {s, target}, {f}, tflite::ReshapeOptions{});
  b.Output(f);
  b.Output(s);
  std::vector<int32_t> shape;
  ExpectNear(RunF32(b, {{1, 2, 3, 4, 5, 6}}, 1, &shape), {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(shape, (std::vector<int32_t>{6}));
}

TEST(FloatOps, StridedSliceMasksAndNegativeStrides) {
  GraphBuilder b;
  const int x = b.Input("x", kF32, {3, 4});
  const int begin = b.ConstI32("begin", {2}, {1, -1});
  const int end = b.ConstI32("end", {2}, {0, 0});
  const int strides = b.ConstI32("strides", {2}, {1, -2});
  const int out = b.Tensor("out", kF32, {2, 2});
  // Rows 1.. (end_mask), columns 3, 1 going backwards.
  b.Op(BuiltinOp::kStridedSlice, {x, begin, end, strides}, {out}, tflite::StridedSliceOptions{0, 1, 0, 0, 0});
  b.Output(out);
  ExpectNear(RunF32(b, {{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}}), {13, 11, 23, 21});
}

// The converter's flatten (test/support/sample_graphs.h) is folded in Prepare and the batch
// flows through it.
TEST(FloatOps, ConverterFlattenIsFoldedAndBatches) {
  GraphBuilder b;
  b.graph() = FlattenGraph();
  ExpectNear(RunF32(b, {{1, 2, 3, 4, 5, 6}}), {21});
  std::vector<int32_t> shape;
  ExpectNear(RunF32(b, {{1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, -1}}, 3, &shape), {21, 6, -1});
  EXPECT_EQ(shape, (std::vector<int32_t>{3, 1}));
  auto interp = Interpreter::Create(FlattenGraph());
  ASSERT_TRUE(interp.ok());
  for (size_t op = 0; op < 3; ++op) EXPECT_STREQ((*interp)->kernel_name(op), "folded") << op;
  EXPECT_STREQ((*interp)->kernel_name(3), "alias");  // RESHAPE of an arena tensor: no copy
  EXPECT_STREQ((*interp)->kernel_name(4), "fc_f32_ref");
}

}  // namespace
}  // namespace edgeloop::runtime
