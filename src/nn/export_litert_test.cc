// Export -> LiteRT.js (the official TFLite runtime built to WASM): every exported architecture
// loads there and gives our runtime's probabilities within 1e-5 (DESIGN.md "Conformance").
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "edgeloop/classifier/classifier.h"
#include "nn/export_test_util.h"
#include "test/support/litert.h"

namespace edgeloop::nn {
namespace {

TEST(ExportLiteRt, ExportedModelsRunTheSameInLiteRt) {
  const std::string why = testing_support::LiteRtUnavailableReason();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const auto& [name, spec] : testing::ExportSpecs()) {
    SCOPED_TRACE(name);
    const testing::Windows data = testing::MakeWindows(120, spec.length, spec.channels, 21);
    Result<Model> m = testing::TrainedModel(spec, data);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ExportOptions eo;
    eo.metadata_json = testing::MetadataFor(*m);
    Result<std::vector<uint8_t>> bytes = ExportModel(*m, eo);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<std::unique_ptr<classifier::Classifier>> c = classifier::Classifier::Load(*bytes);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (size_t w : {size_t{0}, size_t{7}}) {
      std::span<const float> window(data.x.data() + w * m->input_size(), m->input_size());
      // The input tensor holds normalised readings (the metadata's mean/std).
      std::vector<float> input(window.begin(), window.end());
      for (size_t i = 0; i < input.size(); ++i) {
        const size_t ch = i % static_cast<size_t>(spec.channels);
        input[i] = (input[i] - m->norm_mean()[ch]) / m->norm_std()[ch];
      }
      std::vector<uint8_t> in_bytes(input.size() * 4);
      std::memcpy(in_bytes.data(), input.data(), in_bytes.size());
      const testing_support::LiteRtRun theirs = testing_support::RunLiteRt(*bytes, in_bytes);
      ASSERT_TRUE(theirs.ok) << theirs.error;
      ASSERT_EQ(theirs.output.size(), 3 * 4u);
      float probs[3];
      std::memcpy(probs, theirs.output.data(), sizeof(probs));
      Result<classifier::Prediction> ours = (*c)->Classify(window);
      ASSERT_TRUE(ours.ok());
      double sum = 0;
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(probs[k], ours->scores[k], 1e-5) << "window " << w << " class " << k;
        sum += probs[k];
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

}  // namespace
}  // namespace edgeloop::nn
