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
#include "test/support/sample_graphs.h"

namespace edgeloop::runtime {
namespace {

using testing_support::FixtureDir;
using testing_support::ReadBytes;
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

TEST(LiteRtConformance, Conv1DGraphWrittenByWriteModelRunsTheSame) {
  SKIP_WITHOUT_LITERT();
  for (bool int8 : {false, true}) {
    SCOPED_TRACE(int8 ? "int8" : "float32");
    Result<std::vector<uint8_t>> bytes = tflite::WriteModel(testing_support::Conv1DGraph(int8, 42));
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
