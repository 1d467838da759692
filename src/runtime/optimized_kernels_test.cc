// Every optimized kernel against its reference, byte for byte (XNNPACK's testers compare at
// tolerance 0): random shapes with odd channel and width tails, all paddings, strides and
// dilations, extreme scales (multipliers far below and above 1) and zero points at both ends,
// fused activations, and biases large enough to wrap the int32 accumulator. Each level this CPU
// supports is tested; the others are skipped with the reason. A mismatch prints the case, the
// position and both values.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "runtime/kernel_select.h"
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

const KernelSet kLevels[] = {KernelSet::kAvx2, KernelSet::kAvx512Vnni, KernelSet::kNeon, KernelSet::kNeonDot};

class OptimizedKernels : public testing::TestWithParam<KernelSet> {
 protected:
  void SetUp() override {
    if (!KernelSetSupported(GetParam())) GTEST_SKIP() << "this CPU lacks " << KernelSetName(GetParam());
  }
};

struct Rng {
  std::mt19937 gen;
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); }
  // Log-uniform in [lo, hi].
  float Scale(float lo, float hi) {
    return std::exp(std::uniform_real_distribution<float>(std::log(lo), std::log(hi))(gen));
  }
  // Zero points: the ends of the range as often as the middle.
  int32_t ZeroPoint() {
    switch (Int(0, 3)) {
      case 0: return -128;
      case 1: return 127;
      default: return Int(-128, 127);
    }
  }
  std::vector<int8_t> Bytes(size_t n, int lo = -128, int hi = 127) {
    std::vector<int8_t> v(n);
    for (int8_t& x : v) x = static_cast<int8_t>(Int(lo, hi));
    return v;
  }
  Activation Act() {
    const Activation a[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
    return a[Int(0, 3)];
  }
};

// Runs `graph` with the reference kernels and with `level`, checks that the level really ran an
// optimized kernel for operator 0 (else the comparison proves nothing), and compares the outputs.
void ExpectSameBytes(const tflite::Graph& graph, const std::vector<int8_t>& input, KernelSet level,
                     const std::string& context) {
  SCOPED_TRACE(context);
  InterpreterOptions ref_options, opt_options;
  ref_options.kernels = KernelSet::kReference;
  opt_options.kernels = level;
  auto ref = Interpreter::Create(graph, ref_options);
  auto opt = Interpreter::Create(graph, opt_options);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  const std::string kernel = (*opt)->kernel_name(0);
  ASSERT_EQ(kernel.find("_ref"), std::string::npos) << "level " << KernelSetName(level) << " ran " << kernel;
  std::memcpy((*ref)->input(0).data, input.data(), input.size());
  ASSERT_TRUE((*ref)->Invoke().ok());
  // Twice: some kernels change their traversal order between invokes.
  for (int run = 1; run <= 2; ++run) {
    std::memcpy((*opt)->input(0).data, input.data(), input.size());
    ASSERT_TRUE((*opt)->Invoke().ok());
    const TensorInfo want = (*ref)->output(0), got = (*opt)->output(0);
    ASSERT_EQ(want.bytes, got.bytes);
    const auto* w = reinterpret_cast<const int8_t*>(want.data);
    const auto* g = reinterpret_cast<const int8_t*>(got.data);
    int reported = 0;
    for (size_t i = 0; i < want.bytes && reported < 5; ++i) {
      if (w[i] != g[i]) {
        ADD_FAILURE() << kernel << " invoke " << run << " output shape "
                      << tflite::ShapeToString(std::vector<int32_t>(want.shape.begin(), want.shape.end())) << " index "
                      << i << " (channel " << i % want.shape.back() << "): reference " << int{w[i]} << ", optimized "
                      << int{g[i]};
        ++reported;
      }
    }
  }
}

struct ConvCase {
  int batches, in_h, in_w, in_c, out_c, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w;
  Padding padding;
  Activation act;
  std::string ToString() const {
    std::ostringstream s;
    s << "conv in [" << batches << "," << in_h << "," << in_w << "," << in_c << "] filter [" << out_c << ","
      << filter_h << "," << filter_w << "," << in_c << "] stride " << stride_h << "x" << stride_w << " dilation "
      << dilation_h << "x" << dilation_w << (padding == Padding::kSame ? " SAME" : " VALID") << " act "
      << static_cast<int>(act);
    return s.str();
  }
};

void RunConvCase(const ConvCase& c, Rng& rng, KernelSet level, const std::string& extra = "") {
  const float in_scale = rng.Scale(1e-4f, 10.f), out_scale = rng.Scale(1e-4f, 10.f);
  const int32_t in_zp = rng.ZeroPoint(), out_zp = rng.ZeroPoint();
  std::vector<float> w_scales(c.out_c), b_scales(c.out_c);
  for (int o = 0; o < c.out_c; ++o) {
    // Effective multipliers in_scale * w_scale / out_scale from about 2^-24 to 2^6.
    w_scales[o] = out_scale / in_scale * rng.Scale(6e-8f, 60.f);
    b_scales[o] = w_scales[o] * in_scale;
  }
  const size_t k = static_cast<size_t>(c.filter_h) * c.filter_w * c.in_c;
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {c.batches, c.in_h, c.in_w, c.in_c}, Quant(in_scale, in_zp));
  const int tf = b.ConstI8("w", {c.out_c, c.filter_h, c.filter_w, c.in_c}, rng.Bytes(c.out_c * k, -127, 127),
                           PerChannelQuant(w_scales, 0));
  std::vector<int32_t> bias(c.out_c);
  const bool huge = rng.Int(0, 3) == 0;  // wraps the accumulator
  for (int32_t& v : bias) v = huge ? static_cast<int32_t>(rng.gen()) : rng.Int(-100000, 100000);
  const int tb = b.ConstI32("b", {c.out_c}, bias, PerChannelQuant(b_scales, 0));
  auto out_dim = [&](int in, int f, int s, int d) {
    const int eff = (f - 1) * d + 1;
    return c.padding == Padding::kSame ? (in + s - 1) / s : (in - eff + s) / s;
  };
  const int oh = out_dim(c.in_h, c.filter_h, c.stride_h, c.dilation_h);
  const int ow = out_dim(c.in_w, c.filter_w, c.stride_w, c.dilation_w);
  if (oh <= 0 || ow <= 0) return;
  const int to = b.Tensor("out", kI8, {c.batches, oh, ow, c.out_c}, Quant(out_scale, out_zp));
  b.Op(BuiltinOp::kConv2D, {ti, tf, tb}, {to},
       tflite::Conv2DOptions{c.padding, c.stride_w, c.stride_h, c.act, c.dilation_w, c.dilation_h}, 3);
  b.Output(to);
  const std::vector<int8_t> input = rng.Bytes(static_cast<size_t>(c.batches) * c.in_h * c.in_w * c.in_c);
  std::ostringstream context;
  context << c.ToString() << " in scale " << in_scale << " zp " << in_zp << " out scale " << out_scale << " zp "
          << out_zp << extra;
  ExpectSameBytes(b.Build(), input, level, context.str());
}

TEST_P(OptimizedKernels, Conv1xKAsTheConverterWritesConv1D) {
  Rng rng{std::mt19937(11)};
  for (int i = 0; i < 60; ++i) {
    ConvCase c{rng.Int(1, 4), 1, rng.Int(1, 140), rng.Int(1, 40), rng.Int(1, 70), 1, rng.Int(1, 7), 1,
               rng.Int(1, 2), 1, 1, rng.Int(0, 1) ? Padding::kSame : Padding::kValid, rng.Act()};
    RunConvCase(c, rng, GetParam());
  }
}

TEST_P(OptimizedKernels, Conv2DRandomShapes) {
  Rng rng{std::mt19937(12)};
  for (int i = 0; i < 80; ++i) {
    ConvCase c{rng.Int(1, 3), rng.Int(1, 9), rng.Int(1, 17), rng.Int(1, 20), rng.Int(1, 40), rng.Int(1, 3),
               rng.Int(1, 4), rng.Int(1, 3), rng.Int(1, 3), rng.Int(1, 2), rng.Int(1, 2),
               rng.Int(0, 1) ? Padding::kSame : Padding::kValid, rng.Act()};
    RunConvCase(c, rng, GetParam());
  }
}

TEST_P(OptimizedKernels, ConvDefaultModelLayers) {
  Rng rng{std::mt19937(13)};
  for (int batches : {1, 5, 64}) {
    RunConvCase({batches, 1, 128, 1, 16, 1, 3, 1, 1, 1, 1, Padding::kSame, Activation::kRelu}, rng, GetParam());
    RunConvCase({batches, 1, 64, 16, 32, 1, 3, 1, 1, 1, 1, Padding::kSame, Activation::kRelu}, rng, GetParam());
  }
}

void RunFcCase(Rng& rng, KernelSet level, int batches, int depth, int units, bool per_channel) {
  const float in_scale = rng.Scale(1e-4f, 10.f), out_scale = rng.Scale(1e-4f, 10.f);
  const int32_t in_zp = rng.ZeroPoint(), out_zp = rng.ZeroPoint();
  std::vector<float> w_scales(per_channel ? units : 1), b_scales;
  for (float& s : w_scales) s = out_scale / in_scale * rng.Scale(6e-8f, 60.f);
  for (float s : w_scales) b_scales.push_back(s * in_scale);
  const Activation act = rng.Act();
  GraphBuilder b;
  const int ti = b.Input("in", kI8, {batches, depth}, Quant(in_scale, in_zp));
  const int tw = b.ConstI8("w", {units, depth}, rng.Bytes(static_cast<size_t>(units) * depth, -127, 127),
                           per_channel ? PerChannelQuant(w_scales, 0) : Quant(w_scales[0], 0));
  std::vector<int32_t> bias(units);
  for (int32_t& v : bias) v = rng.Int(0, 3) == 0 ? static_cast<int32_t>(rng.gen()) : rng.Int(-100000, 100000);
  const int tb = b.ConstI32("b", {units}, bias, per_channel ? PerChannelQuant(b_scales, 0) : Quant(b_scales[0], 0));
  const int to = b.Tensor("out", kI8, {batches, units}, Quant(out_scale, out_zp));
  b.Op(BuiltinOp::kFullyConnected, {ti, tw, tb}, {to}, tflite::FullyConnectedOptions{act}, 4);
  b.Output(to);
  std::ostringstream context;
  context << "fc batches " << batches << " depth " << depth << " units " << units
          << (per_channel ? " per-channel" : " per-tensor") << " act " << static_cast<int>(act) << " in scale "
          << in_scale << " zp " << in_zp << " out scale " << out_scale << " zp " << out_zp;
  ExpectSameBytes(b.Build(), rng.Bytes(static_cast<size_t>(batches) * depth), level, context.str());
}

TEST_P(OptimizedKernels, FullyConnectedRandomShapes) {
  Rng rng{std::mt19937(14)};
  for (int i = 0; i < 80; ++i) {
    RunFcCase(rng, GetParam(), rng.Int(1, 40), rng.Int(1, 300), rng.Int(1, 90), rng.Int(0, 1) == 1);
  }
  for (int batches : {1, 7, 64}) {  // the default model's dense layers
    RunFcCase(rng, GetParam(), batches, 1024, 64, false);
    RunFcCase(rng, GetParam(), batches, 64, 3, false);
  }
}

TEST_P(OptimizedKernels, MaxPoolRandomShapes) {
  Rng rng{std::mt19937(15)};
  for (int i = 0; i < 80; ++i) {
    const int batches = rng.Int(1, 3), h = rng.Int(1, 8), w = rng.Int(1, 70), depth = rng.Int(1, 100);
    const int fh = rng.Int(1, std::min(h, 3)), fw = rng.Int(1, std::min(w, 4));
    const int sh = rng.Int(1, 3), sw = rng.Int(1, 3);
    const Padding padding = rng.Int(0, 1) ? Padding::kSame : Padding::kValid;
    const int oh = padding == Padding::kSame ? (h + sh - 1) / sh : (h - fh + sh) / sh;
    const int ow = padding == Padding::kSame ? (w + sw - 1) / sw : (w - fw + sw) / sw;
    const float scale = rng.Scale(1e-3f, 10.f);
    const int32_t zp = rng.ZeroPoint();
    const Activation act = rng.Act();
    GraphBuilder b;
    const int ti = b.Input("in", kI8, {batches, h, w, depth}, Quant(scale, zp));
    const int to = b.Tensor("out", kI8, {batches, oh, ow, depth}, Quant(scale, zp));
    b.Op(BuiltinOp::kMaxPool2D, {ti}, {to}, tflite::Pool2DOptions{padding, sw, sh, fw, fh, act});
    b.Output(to);
    std::ostringstream context;
    context << "maxpool in [" << batches << "," << h << "," << w << "," << depth << "] filter " << fh << "x" << fw
            << " stride " << sh << "x" << sw << (padding == Padding::kSame ? " SAME" : " VALID") << " zp " << zp
            << " act " << static_cast<int>(act);
    ExpectSameBytes(b.Build(), rng.Bytes(static_cast<size_t>(batches) * h * w * depth), GetParam(), context.str());
  }
}

// CONV_2D -> MAX_POOL_2D, directly or through the converter's RESHAPEs, as one fused kernel where
// the level has one (VNNI): fused output == reference kernels' output byte for byte, and the fusion
// really happened when it is provable (else the comparison would prove nothing about it).
struct ConvPoolCase {
  int batches, in_h, in_w, in_c, out_c, filter_h, filter_w;
  Padding conv_padding;
  Activation conv_act;
  int view;  // 0: pool reads the conv output; 1: reshaped to [b,w,c] and back; 2: pooled as [b,w,1,c]
  int pool_h, pool_w, pool_sh, pool_sw;
  Padding pool_padding;
  Activation pool_act;
  bool huge_bias;     // accumulators may wrap: fusion must decline
  bool second_reader;  // the conv output is a graph output too: fusion must decline
};

void RunConvPoolCase(const ConvPoolCase& c, Rng& rng, KernelSet level) {
  const float in_scale = rng.Scale(1e-3f, 10.f), out_scale = rng.Scale(1e-3f, 10.f);
  const int32_t in_zp = rng.ZeroPoint(), out_zp = rng.ZeroPoint();
  std::vector<float> w_scales(c.out_c), b_scales(c.out_c);
  for (int o = 0; o < c.out_c; ++o) {
    w_scales[o] = out_scale / in_scale * rng.Scale(6e-8f, 60.f);
    b_scales[o] = w_scales[o] * in_scale;
  }
  const size_t k = static_cast<size_t>(c.filter_h) * c.filter_w * c.in_c;
  GraphBuilder b;
  const tflite::Quantization qout = Quant(out_scale, out_zp);
  const int ti = b.Input("in", kI8, {c.batches, c.in_h, c.in_w, c.in_c}, Quant(in_scale, in_zp));
  const int tf = b.ConstI8("w", {c.out_c, c.filter_h, c.filter_w, c.in_c}, rng.Bytes(c.out_c * k, -127, 127),
                           PerChannelQuant(w_scales, 0));
  std::vector<int32_t> bias(c.out_c);
  for (int32_t& v : bias) {  // huge: within 100 of the int32 limits
    v = !c.huge_bias ? rng.Int(-100000, 100000) : rng.Int(0, 1) ? INT32_MAX - rng.Int(0, 100) : INT32_MIN + rng.Int(0, 100);
  }
  const int tb = b.ConstI32("b", {c.out_c}, bias, PerChannelQuant(b_scales, 0));
  const auto dim = [](int in, int f, int s, Padding p) { return p == Padding::kSame ? (in + s - 1) / s : (in - f + s) / s; };
  const int oh = dim(c.in_h, c.filter_h, 1, c.conv_padding), ow = dim(c.in_w, c.filter_w, 1, c.conv_padding);
  if (oh <= 0 || ow <= 0) return;
  const int tc = b.Tensor("conv", kI8, {c.batches, oh, ow, c.out_c}, qout);
  b.Op(BuiltinOp::kConv2D, {ti, tf, tb}, {tc}, tflite::Conv2DOptions{c.conv_padding, 1, 1, c.conv_act}, 3);
  int pool_in = tc;
  std::vector<int32_t> view = {c.batches, oh, ow, c.out_c};
  const auto reshape = [&](int in, std::vector<int32_t> shape) {
    const std::string id = std::to_string(in);
    const int out = b.Tensor(id + "/reshaped", kI8, shape, qout);
    b.Op(BuiltinOp::kReshape, {in, b.ConstI32(id + "/shape", {static_cast<int32_t>(shape.size())}, shape)}, {out},
         tflite::ReshapeOptions{shape});
    return out;
  };
  if (c.view == 1) {
    pool_in = reshape(reshape(tc, {c.batches, oh * ow, c.out_c}), {c.batches, 1, oh * ow, c.out_c});
    view = {c.batches, 1, oh * ow, c.out_c};
  } else if (c.view == 2) {
    pool_in = reshape(reshape(tc, {c.batches, oh * ow, c.out_c}), {c.batches, oh * ow, 1, c.out_c});
    view = {c.batches, oh * ow, 1, c.out_c};
  }
  const int fh = std::min(c.pool_h, view[1]), fw = std::min(c.pool_w, view[2]);
  const int poh = dim(view[1], fh, c.pool_sh, c.pool_padding), pow = dim(view[2], fw, c.pool_sw, c.pool_padding);
  if (poh <= 0 || pow <= 0) return;
  const int to = b.Tensor("pool", kI8, {c.batches, poh, pow, c.out_c}, qout);
  b.Op(BuiltinOp::kMaxPool2D, {pool_in}, {to},
       tflite::Pool2DOptions{c.pool_padding, c.pool_sw, c.pool_sh, fw, fh, c.pool_act});
  const int pool_op = static_cast<int>(b.graph().operators.size()) - 1;
  b.Output(to);
  if (c.second_reader) b.Output(tc);
  std::ostringstream context;
  context << "conv in [" << c.batches << "," << c.in_h << "," << c.in_w << "," << c.in_c << "] filter " << c.filter_h
          << "x" << c.filter_w << " x " << c.out_c << (c.conv_padding == Padding::kSame ? " SAME" : " VALID")
          << " act " << static_cast<int>(c.conv_act) << " view " << c.view << " pool " << fh << "x" << fw << " stride "
          << c.pool_sh << "x" << c.pool_sw << (c.pool_padding == Padding::kSame ? " SAME" : " VALID") << " act "
          << static_cast<int>(c.pool_act) << (c.huge_bias ? " huge bias" : "") << (c.second_reader ? " 2 readers" : "")
          << " in zp " << in_zp << " out zp " << out_zp;
  const tflite::Graph graph = b.Build();
  ExpectSameBytes(graph, rng.Bytes(static_cast<size_t>(c.batches) * c.in_h * c.in_w * c.in_c), level, context.str());
  InterpreterOptions options;
  options.kernels = level;
  auto opt = Interpreter::Create(graph, options);
  ASSERT_TRUE(opt.ok());
  const bool fused = std::string((*opt)->kernel_name(pool_op)) == "fused";
  const bool can_fuse = level == KernelSet::kAvx512Vnni && !c.huge_bias && !c.second_reader;
  EXPECT_EQ(fused, can_fuse) << context.str() << ": conv kernel " << (*opt)->kernel_name(0);
}

TEST_P(OptimizedKernels, ConvMaxPoolFused) {
  Rng rng{std::mt19937(16)};
  for (int i = 0; i < 120; ++i) {
    const bool conv1d = rng.Int(0, 2) != 0;
    ConvPoolCase c{rng.Int(1, 3), conv1d ? 1 : rng.Int(1, 6), rng.Int(1, 75), rng.Int(1, 20), rng.Int(1, 40),
                   conv1d ? 1 : rng.Int(1, 3), rng.Int(1, 5), rng.Int(0, 1) ? Padding::kSame : Padding::kValid,
                   rng.Act(), conv1d ? rng.Int(0, 2) : 0, rng.Int(1, 3), rng.Int(1, 3), rng.Int(1, 3), rng.Int(1, 3),
                   rng.Int(0, 1) ? Padding::kSame : Padding::kValid, rng.Act(), rng.Int(0, 7) == 0,
                   rng.Int(0, 9) == 0};
    if (c.view == 2) std::swap(c.pool_h, c.pool_w), std::swap(c.pool_sh, c.pool_sw);
    RunConvPoolCase(c, rng, GetParam());
  }
  // Pools of consecutive pairs (what the kernels pool in registers), every tail length.
  for (int width : {1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 33}) {
    for (int view : {1, 2}) {
      ConvPoolCase c{rng.Int(1, 2), 1, width, rng.Int(1, 20), rng.Int(1, 40), 1, rng.Int(1, 3),
                     rng.Int(0, 1) ? Padding::kSame : Padding::kValid, rng.Act(), view, view == 2 ? 2 : 1,
                     view == 2 ? 1 : 2, view == 2 ? 2 : 1, view == 2 ? 1 : 2, Padding::kValid, rng.Act(), false, false};
      RunConvPoolCase(c, rng, GetParam());
    }
  }
  for (int batches : {1, 3, 64}) {  // the default model's two conv + pool pairs, as the converter writes them
    RunConvPoolCase({batches, 1, 128, 1, 16, 1, 3, Padding::kSame, Activation::kRelu, 1, 1, 2, 1, 2, Padding::kValid,
                     Activation::kNone, false, false},
                    rng, GetParam());
    RunConvPoolCase({batches, 1, 64, 16, 32, 1, 3, Padding::kSame, Activation::kRelu, 1, 1, 2, 1, 2, Padding::kValid,
                     Activation::kNone, false, false},
                    rng, GetParam());
  }
}

TEST_P(OptimizedKernels, SoftmaxRandomShapes) {
  Rng rng{std::mt19937(17)};
  for (int i = 0; i < 60; ++i) {
    const int rows = rng.Int(1, 9), depth = rng.Int(1, 300);
    const float scale = rng.Scale(1e-3f, 2.f), beta = rng.Scale(0.1f, 4.f);
    const int32_t zp = rng.ZeroPoint();
    GraphBuilder b;
    const int ti = b.Input("in", kI8, {rows, depth}, Quant(scale, zp));
    const int to = b.Tensor("out", kI8, {rows, depth}, Quant(1.f / 256, -128));
    b.Op(BuiltinOp::kSoftmax, {ti}, {to}, tflite::SoftmaxOptions{beta});
    b.Output(to);
    // Narrow inputs (many equal maxima) as well as the full range.
    const int lo = rng.Int(0, 1) ? -128 : rng.Int(-20, 120);
    std::ostringstream context;
    context << "softmax [" << rows << "," << depth << "] scale " << scale << " zp " << zp << " beta " << beta
            << " inputs from " << lo;
    ExpectSameBytes(b.Build(), rng.Bytes(static_cast<size_t>(rows) * depth, lo, 127), GetParam(), context.str());
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, OptimizedKernels, testing::ValuesIn(kLevels),
                         [](const testing::TestParamInfo<KernelSet>& info) { return KernelSetName(info.param); });

TEST(KernelLevels, ParseAndResolve) {
  KernelSet set = KernelSet::kAuto;
  EXPECT_TRUE(ParseKernelSet("vnni", &set));
  EXPECT_EQ(set, KernelSet::kAvx512Vnni);
  EXPECT_FALSE(ParseKernelSet("sse9", &set));
  for (KernelSet s : kLevels) {
    const Result<KernelSet> r = ResolveKernelSet(s);
    EXPECT_EQ(r.ok(), KernelSetSupported(s)) << KernelSetName(s);
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("not supported by this CPU"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace edgeloop::runtime
