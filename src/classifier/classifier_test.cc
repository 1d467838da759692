#include "edgeloop/classifier/classifier.h"
#include "edgeloop/classifier/inspect.h"

#include <gtest/gtest.h>

#include <cmath>

#include "edgeloop/tflite/io.h"
#include "test/support/fixture_cases.h"
#include "test/support/graph_builder.h"

namespace edgeloop::classifier {
namespace {

using testing_support::GraphBuilder;
using testing_support::Quant;
using tflite::BuiltinOp;
using tflite::TensorType;

std::vector<uint8_t> Bytes(const tflite::Graph& g) {
  Result<std::vector<uint8_t>> b = tflite::WriteModel(g);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? *b : std::vector<uint8_t>{};
}

std::string Metadata(std::vector<std::string> labels, int length, int channels, std::vector<float> mean = {},
                     std::vector<float> std = {}) {
  ModelMetadata m;
  m.labels = std::move(labels);
  m.length = length;
  m.channels = channels;
  m.mean = std::move(mean);
  m.std = std::move(std);
  return MetadataToJson(m);
}

// Window of 4 -> logits (x0 + x1, x2 + x3) -> softmax.
tflite::Graph SumHalvesModel(const std::string& metadata) {
  GraphBuilder b;
  const int in = b.Input("window", TensorType::kFloat32, {1, 4, 1});
  const int flat_shape = b.ConstI32("flat_shape", {2}, {1, 4});
  const int flat = b.Tensor("flat", TensorType::kFloat32, {1, 4});
  b.Op(BuiltinOp::kReshape, {in, flat_shape}, {flat}, tflite::ReshapeOptions{});
  const int w = b.ConstF32("w", {2, 4}, {1, 1, 0, 0, 0, 0, 1, 1});
  const int logits = b.Tensor("logits", TensorType::kFloat32, {1, 2});
  b.Op(BuiltinOp::kFullyConnected, {flat, w, -1}, {logits}, tflite::FullyConnectedOptions{});
  const int probs = b.Tensor("probs", TensorType::kFloat32, {1, 2});
  b.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{1.0f});
  b.Output(probs);
  tflite::Graph g = b.Build();
  if (!metadata.empty()) g.metadata[tflite::kEdgeloopMetadataName] = metadata;
  return g;
}

TEST(Classifier, NormalisesPerChannelAndNamesTheTopClass) {
  auto c = Classifier::Load(Bytes(SumHalvesModel(Metadata({"low", "high"}, 4, 1, {10}, {2}))));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->has_metadata());
  EXPECT_EQ((*c)->window_size(), 4u);
  // Normalised: (10,10,14,14) -> (0,0,2,2): logits (0, 4).
  Result<Prediction> p = (*c)->Classify(std::vector<float>{10, 10, 14, 14});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->index, 1);
  EXPECT_EQ(p->label, "high");
  const float e4 = std::exp(4.0f);
  EXPECT_NEAR(p->confidence, e4 / (1 + e4), 1e-6f);
  ASSERT_EQ(p->scores.size(), 2u);
  EXPECT_NEAR(p->scores[0], 1 / (1 + e4), 1e-6f);
}

// int8 (or uint8) input -> DEQUANTIZE: the scores are the quantized input, read back.
tflite::Graph EchoModel(TensorType input_type, int32_t zero_point) {
  GraphBuilder b;
  const int in = b.Input("window", input_type, {1, 5}, Quant(0.5f, zero_point));
  const int out = b.Tensor("echo", TensorType::kFloat32, {1, 5});
  b.Op(BuiltinOp::kDequantize, {in}, {out});
  b.Output(out);
  tflite::Graph g = b.Build();
  g.metadata[tflite::kEdgeloopMetadataName] = Metadata({"a", "b", "c", "d", "e"}, 5, 1);
  return g;
}

TEST(Classifier, QuantizedInputsRoundAndSaturateNeverWrap) {
  const std::vector<float> window = {1000, -1000, 0.25f, -0.25f, 63.6f};
  for (TensorType type : {TensorType::kInt8, TensorType::kUInt8}) {
    SCOPED_TRACE(tflite::TensorTypeName(type));
    const int32_t zp = type == TensorType::kInt8 ? 0 : 128;
    auto c = Classifier::Load(Bytes(EchoModel(type, zp)));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Result<Prediction> p = (*c)->Classify(window);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    // Scale 0.5: 1000 saturates at the top of the type (63.5), -1000 at the bottom (-64); 0.25 is
    // 0.5 steps and rounds away from zero to 1 step, -0.25 to -1 step; 63.6 rounds to 127 steps.
    EXPECT_FLOAT_EQ(p->scores[0], 63.5f);
    EXPECT_FLOAT_EQ(p->scores[1], -64.0f);
    EXPECT_FLOAT_EQ(p->scores[2], 0.5f);
    EXPECT_FLOAT_EQ(p->scores[3], -0.5f);
    EXPECT_FLOAT_EQ(p->scores[4], 63.5f);
    EXPECT_EQ(p->label, "a");
  }
}

TEST(Classifier, QuantizedOutputsAreDequantized) {
  GraphBuilder b;
  const int in = b.Input("window", TensorType::kInt8, {1, 3}, Quant(0.1f, 0));
  const int out = b.Tensor("scores", TensorType::kInt8, {1, 3}, Quant(0.2f, 5));
  b.Op(BuiltinOp::kQuantize, {in}, {out});
  b.Output(out);
  tflite::Graph g = b.Build();
  g.metadata[tflite::kEdgeloopMetadataName] = Metadata({"x", "y", "z"}, 3, 1);
  auto c = Classifier::Load(Bytes(g));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Result<Prediction> p = (*c)->Classify(std::vector<float>{0.4f, -2.0f, 1.0f});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->scores[0], 0.4f, 1e-6f);
  EXPECT_NEAR(p->scores[1], -2.0f, 1e-6f);
  EXPECT_NEAR(p->scores[2], 1.0f, 1e-6f);
  EXPECT_EQ(p->label, "z");
}

TEST(Classifier, ModelsWithoutMetadataGetDefaultLabels) {
  const auto bytes = testing_support::ReadBytes(testing_support::FixtureDir() + "/hello_world_int8.tflite");
  auto c = Classifier::Load(bytes);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE((*c)->has_metadata());
  EXPECT_EQ((*c)->labels(), std::vector<std::string>{"class0"});
  EXPECT_EQ((*c)->window_size(), 1u);
  // hello_world approximates sin(x) on [0, 2 pi].
  Result<Prediction> p = (*c)->Classify(std::vector<float>{1.5707963f});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->confidence, 1.0f, 0.1f);
}

TEST(Classifier, BatchPathGivesTheSamePredictions) {
  ClassifierOptions options;
  options.max_batch = 4;
  auto c = Classifier::Load(Bytes(SumHalvesModel(Metadata({"low", "high"}, 4, 1))), options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::vector<float> windows;
  for (int w = 0; w < 10; ++w) {
    for (int i = 0; i < 4; ++i) windows.push_back(std::sin(static_cast<float>(w * 4 + i)));
  }
  Result<std::vector<Prediction>> batch = (*c)->ClassifyBatch(windows);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 10u);
  for (int w = 0; w < 10; ++w) {
    Result<Prediction> one = (*c)->Classify(std::span<const float>(windows).subspan(w * 4, 4));
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*batch)[w].index, one->index) << w;
    EXPECT_EQ((*batch)[w].scores, one->scores) << w;
  }
}

TEST(Classifier, BatchPathFallsBackForInputsWithoutABatchDimension) {
  GraphBuilder b;
  const int in = b.Input("window", TensorType::kFloat32, {3});
  const int out = b.Tensor("twice", TensorType::kFloat32, {3});
  b.Op(BuiltinOp::kAdd, {in, in}, {out}, tflite::AddOptions{});
  b.Output(out);
  ClassifierOptions options;
  options.max_batch = 8;
  auto c = Classifier::Load(Bytes(b.Build()), options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Result<std::vector<Prediction>> batch = (*c)->ClassifyBatch(std::vector<float>{1, 5, 2, 7, 0, 3});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].label, "class1");
  EXPECT_EQ((*batch)[0].scores, (std::vector<float>{2, 10, 4}));
  EXPECT_EQ((*batch)[1].label, "class0");
  EXPECT_FLOAT_EQ((*batch)[1].confidence, 14.0f);
}

TEST(Classifier, ErrorsNameTheMismatch) {
  auto c = Classifier::Load(Bytes(SumHalvesModel(Metadata({"low", "high"}, 4, 1))));
  ASSERT_TRUE(c.ok());
  Result<Prediction> p = (*c)->Classify(std::vector<float>{1, 2, 3});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("a window has 4 readings, got 3"), std::string::npos);
  Result<std::vector<Prediction>> b = (*c)->ClassifyBatch(std::vector<float>(10, 0.f));
  ASSERT_FALSE(b.ok());

  auto labels = Classifier::Load(Bytes(SumHalvesModel(Metadata({"a", "b", "c"}, 4, 1))));
  ASSERT_FALSE(labels.ok());
  EXPECT_NE(labels.status().message().find("metadata lists 3 labels, but output 'probs' has 2 values"),
            std::string::npos)
      << labels.status().message();
  auto length = Classifier::Load(Bytes(SumHalvesModel(Metadata({"a", "b"}, 8, 1))));
  ASSERT_FALSE(length.ok());
  EXPECT_NE(length.status().message().find("windows of 8 x 1 readings, but input 'window' holds 4"), std::string::npos)
      << length.status().message();
  auto bad_json = Classifier::Load(Bytes(SumHalvesModel("{not json")));
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("metadata 'edgeloop'"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::classifier

namespace edgeloop::classifier {
namespace {

TEST(Inspect, ReportsMetadataKernelsAndRuntimeErrors) {
  Result<ModelReport> r = InspectModel(Bytes(SumHalvesModel(Metadata({"low", "high"}, 4, 1))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->operators.size(), 3u);
  EXPECT_EQ(r->operators[1].kernel, "fc_f32_ref");
  EXPECT_EQ(r->parameter_bytes, 8u + 32u);  // reshape target + weights
  EXPECT_GT(r->arena_bytes, 0u);
  const std::string json = ModelReportJson(*r);
  EXPECT_NE(json.find("\"edgeloop_metadata\": {"), std::string::npos) << json;
  EXPECT_NE(json.find("\"high\""), std::string::npos);
  EXPECT_NE(ModelReportText(*r).find("metadata 'edgeloop': {"), std::string::npos);

  GraphBuilder b;
  const int x = b.Input("x", TensorType::kFloat32, {1, 2});
  const int y = b.Tensor("y", TensorType::kFloat32, {1, 4});
  b.Op(BuiltinOp::kConcatenation, {x, x}, {y}, tflite::ConcatenationOptions{1});
  b.Output(y);
  Result<ModelReport> unsupported = InspectModel(Bytes(b.Build()));
  ASSERT_TRUE(unsupported.ok());
  EXPECT_NE(unsupported->runtime_error.find("operator 0 (CONCATENATION)"), std::string::npos);
  EXPECT_EQ(unsupported->operators[0].kernel, "");
}

}  // namespace
}  // namespace edgeloop::classifier
