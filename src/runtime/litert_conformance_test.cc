// Conformance with an independent TFLite runtime, LiteRT.js: the fixture models (written back by
// our WriteModel, which LiteRT.js must accept) and Conv1D-style graphs built with the IR agree with
// ours: float32 within 1e-5, INT8 within one unit (LiteRT requantizes through float).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "edgeloop/tflite/io.h"
#include "runtime/test_util.h"
#include "test/support/fixture_cases.h"
#include "test/support/litert.h"

namespace edgeloop::runtime {
namespace {

using testing_support::FixtureDir;
using testing_support::GraphBuilder;
using testing_support::PerChannelQuant;
using testing_support::Quant;
using testing_support::ReadBytes;
using tflite::Activation;
using tflite::BuiltinOp;
using tflite::Padding;
using tflite::TensorType;

#define SKIP_WITHOUT_LITERT()                                                  \
  do {                                                                         \
    const std::string why = testing_support::LiteRtUnavailableReason();        \
    if (!why.empty()) GTEST_SKIP() << why;                                     \
  } while (0)

void ExpectAgree(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs, TensorType type) {
  ASSERT_EQ(ours.size(), theirs.size());
  if (type == TensorType::kFloat32) {
    const auto a = As<float>(ours), b = As<float>(theirs);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << "value " << i;
  } else {
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_LE(std::abs(static_cast<int8_t>(ours[i]) - static_cast<int8_t>(theirs[i])), 1) << "byte " << i;
    }
  }
}

TEST(LiteRtConformance, FixtureModelsWrittenByUsAgree) {
  SKIP_WITHOUT_LITERT();
  for (const char* name : {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite"}) {
    SCOPED_TRACE(name);
    // Read and write back: our writer drops the -1 batch in shape_signature LiteRT.js refuses.
    Result<tflite::Graph> g = tflite::ReadModel(ReadBytes(FixtureDir() + "/" + name));
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Result<std::vector<uint8_t>> bytes = tflite::WriteModel(*g);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    int ran = 0;
    for (const auto& c : testing_support::LoadFixtureCases()) {
      if (c.model != name) continue;
      SCOPED_TRACE(c.input);
      const std::vector<uint8_t> input = ReadBytes(FixtureDir() + "/" + c.input);
      Result<std::vector<uint8_t>> ours = InvokeRaw(*bytes, input);
      ASSERT_TRUE(ours.ok()) << ours.status().ToString();
      const testing_support::LiteRtRun theirs = testing_support::RunLiteRt(*bytes, input);
      ASSERT_TRUE(theirs.ok) << theirs.error;
      ExpectAgree(*ours, theirs.output, c.dtype == "int8" ? TensorType::kInt8 : TensorType::kFloat32);
      ++ran;
    }
    EXPECT_EQ(ran, 8);
  }
}

// A 1-D CNN the way TFLite writes Conv1D: RESHAPE to 2-D, CONV_2D with a 1xK kernel, RESHAPE
// (time becomes the height), MAX_POOL_2D, FULLY_CONNECTED, SOFTMAX.
tflite::Graph Conv1DGraph(bool int8, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> weight(-0.5f, 0.5f);
  const int length = 128, filters = 8, kernel = 5, classes = 3, pooled = length / 2;
  const TensorType act = int8 ? TensorType::kInt8 : TensorType::kFloat32;
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
    std::vector<float> scales(filters);
    std::vector<int8_t> cq(cw.size());
    std::vector<int32_t> cbq(filters);
    for (int f = 0; f < filters; ++f) {
      float max = 0;
      for (int k = 0; k < kernel; ++k) max = std::max(max, std::abs(cw[f * kernel + k]));
      scales[f] = max / 127;
      for (int k = 0; k < kernel; ++k) cq[f * kernel + k] = static_cast<int8_t>(std::lround(cw[f * kernel + k] / scales[f]));
      cbq[f] = static_cast<int32_t>(std::lround(cb[f] / (0.02f * scales[f])));
    }
    std::vector<float> bias_scales;
    for (float s : scales) bias_scales.push_back(0.02f * s);
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
  b.Op(BuiltinOp::kConv2D, {r1, conv_w, conv_b}, {c}, tflite::Conv2DOptions{Padding::kSame, 1, 1, Activation::kRelu},
       int8 ? 3 : 1);
  const int s2 = b.ConstI32("time_as_height", {4}, {1, length, 1, filters});
  const int r2 = b.Tensor("conv_t", act, {1, length, 1, filters}, q(0.03f, -128));
  b.Op(BuiltinOp::kReshape, {c, s2}, {r2}, tflite::ReshapeOptions{});
  const int p = b.Tensor("pool", act, {1, pooled, 1, filters}, q(0.03f, -128));
  b.Op(BuiltinOp::kMaxPool2D, {r2}, {p}, tflite::Pool2DOptions{Padding::kValid, 1, 2, 1, 2}, int8 ? 2 : 1);
  const int logits = b.Tensor("logits", act, {1, classes}, q(0.05f, 0));
  b.Op(BuiltinOp::kFullyConnected, {p, fc_w, fc_b}, {logits}, tflite::FullyConnectedOptions{}, int8 ? 4 : 1);
  const int probs = b.Tensor("probs", act, {1, classes}, q(1.0f / 256, -128));
  b.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{1.0f}, int8 ? 2 : 1);
  b.Output(probs);
  return b.Build();
}

TEST(LiteRtConformance, Conv1DGraphWrittenByWriteModelRunsTheSame) {
  SKIP_WITHOUT_LITERT();
  for (bool int8 : {false, true}) {
    SCOPED_TRACE(int8 ? "int8" : "float32");
    Result<std::vector<uint8_t>> bytes = tflite::WriteModel(Conv1DGraph(int8, 42));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    std::mt19937 rng(int8 ? 5 : 6);
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<uint8_t> input;
      if (int8) {
        std::uniform_int_distribution<int> d(-128, 127);
        for (int i = 0; i < 128; ++i) input.push_back(static_cast<uint8_t>(d(rng)));
      } else {
        std::uniform_real_distribution<float> d(-2.5f, 2.5f);
        std::vector<float> x(128);
        for (float& v : x) v = d(rng);
        input = ToBytes(x);
      }
      Result<std::vector<uint8_t>> ours = InvokeRaw(*bytes, input);
      ASSERT_TRUE(ours.ok()) << ours.status().ToString();
      const testing_support::LiteRtRun theirs = testing_support::RunLiteRt(*bytes, input);
      ASSERT_TRUE(theirs.ok) << theirs.error;
      ExpectAgree(*ours, theirs.output, int8 ? TensorType::kInt8 : TensorType::kFloat32);
      // Not a degenerate comparison: the probabilities sum to one and are not all on one class.
      double sum = 0, max = 0;
      for (size_t i = 0; i < 3; ++i) {
        const double p = int8 ? (static_cast<int8_t>((*ours)[i]) + 128) / 256.0 : As<float>(*ours)[i];
        sum += p;
        max = std::max(max, p);
      }
      EXPECT_NEAR(sum, 1.0, 0.02);
      EXPECT_LT(max, 0.99);
    }
  }
}

}  // namespace
}  // namespace edgeloop::runtime
