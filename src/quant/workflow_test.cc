#include "edgeloop/quant/workflow.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/data/generate.h"
#include "edgeloop/tflite/io.h"
#include "test/support/float_cnn.h"
#include "test/support/temp_dir.h"

namespace edgeloop::quant {
namespace {

// A float model (random weights) with edgeloop metadata fitted to `d`, written to `path`.
void WriteFloatModel(const data::Dataset& d, const std::string& path) {
  testing_support::FloatCnnSpec spec;
  spec.length = d.length;
  tflite::Graph g = testing_support::FloatCnn(spec);
  classifier::ModelMetadata m;
  m.labels = d.labels;
  m.length = d.length;
  double sum = 0, sq = 0;
  for (float v : d.x) sum += v, sq += static_cast<double>(v) * v;
  const double mean = sum / static_cast<double>(d.x.size());
  m.mean = {static_cast<float>(mean)};
  m.std = {static_cast<float>(std::sqrt(sq / static_cast<double>(d.x.size()) - mean * mean))};
  g.metadata[tflite::kEdgeloopMetadataName] = classifier::MetadataToJson(m);
  ASSERT_TRUE(tflite::WriteModelFile(g, path).ok());
}

TEST(QuantizeFile, WritesInt8ModelAndMeasuresAgreementOnHeldOutWindows) {
  testing_support::TempDir dir;
  data::GaussianOptions go;
  go.samples = 500;
  go.seed = 3;
  go.length = 64;
  auto d = data::GenerateGaussian(go);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(data::WriteCsvFile(*d, dir.Join("data.csv")).ok());
  WriteFloatModel(*d, dir.Join("float.tflite"));
  QuantizeFileOptions o;
  o.model_path = dir.Join("float.tflite");
  o.calibration_path = dir.Join("data.csv");
  o.output_path = dir.Join("int8.tflite");
  o.samples = 150;
  auto s = QuantizeFile(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->calibration_windows, 150u);
  EXPECT_EQ(s->validation_windows, 100u);  // 20% of 500, never calibrated on
  EXPECT_LT(s->int8_bytes, s->float_bytes);
  // Random weights give near-uniform scores whose top-1 can tie at the 1/256 output step; the 99%
  // bar is for trained models (conformance_test).
  EXPECT_GE(s->agreement, 0.9);
  EXPECT_LE(std::abs(s->float_accuracy - s->int8_accuracy), 0.05);
  auto c = classifier::Classifier::LoadFile(o.output_path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->metadata().quantization, "int8");
  EXPECT_EQ((*c)->interpreter().input(0).type, tflite::TensorType::kUInt8);
  const nlohmann::json j = nlohmann::json::parse(SummaryJson(*s));
  EXPECT_EQ(j["io"], "uint8");
  EXPECT_DOUBLE_EQ(j["top1_agreement"].get<double>(), s->agreement);
  EXPECT_FALSE(j["tensors"].empty());
  EXPECT_NE(SummaryText(*s).find("top-1 agreement"), std::string::npos);
}

TEST(QuantizeFile, WindowSizeMismatchNamesBothFiles) {
  testing_support::TempDir dir;
  data::GaussianOptions go;
  go.samples = 50;
  go.length = 32;
  auto d = data::GenerateGaussian(go);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(data::WriteCsvFile(*d, dir.Join("data.csv")).ok());
  data::Dataset other = *d;
  other.length = 64;
  WriteFloatModel(other, dir.Join("float.tflite"));
  QuantizeFileOptions o;
  o.model_path = dir.Join("float.tflite");
  o.calibration_path = dir.Join("data.csv");
  o.output_path = dir.Join("int8.tflite");
  auto s = QuantizeFile(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("windows of 32 readings"), std::string::npos) << s.status().ToString();
  EXPECT_FALSE(Env::Default()->ReadFile(o.output_path).ok());
}

}  // namespace
}  // namespace edgeloop::quant
