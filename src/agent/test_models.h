// Small real TFLite classifiers for the agent's tests (test-only, header-only), written with the
// tflite writer so they go through the real reader, interpreter and classifier.
//
// They classify a 128-reading window by its mean into the tutorial's classes: "normal" near 0.5,
// "warning" near 1.2, "failure" near 2.5. One FULLY_CONNECTED layer computes
// logit_c = k * (2 * mu_c * mean - mu_c^2) (= -k * (mean - mu_c)^2 up to a term shared by all
// classes), then SOFTMAX. The INT8 variant has the Coral-style uint8 input (scale 5/255, zero
// point 0, so readings in [0, 5]) followed by QUANTIZE, an int8 FC and an int8 SOFTMAX: a reading
// of 1e30 must saturate to 5.0 ("failure"), -1e30 to 0.0 ("normal"), never wrap.
#ifndef EDGELOOP_AGENT_TEST_MODELS_H_
#define EDGELOOP_AGENT_TEST_MODELS_H_

#include <cmath>
#include <string>
#include <vector>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/tflite/io.h"
#include "test/support/graph_builder.h"

namespace edgeloop::agent::test_models {

inline constexpr int kLength = 128;
inline constexpr float kMeans[3] = {0.5f, 1.2f, 2.5f};
inline const std::vector<std::string>& Labels() {
  static const std::vector<std::string> labels = {"normal", "warning", "failure"};
  return labels;
}

// `variant` changes the weights a little (a different file, same behaviour) so that tests can
// publish several distinct versions.
inline std::string MeanClassifier(bool int8, int variant = 0) {
  using tflite::BuiltinOp;
  using tflite::TensorType;
  using testing_support::Quant;
  const float k = 20.0f + 0.01f * static_cast<float>(variant);
  std::vector<float> w(3 * kLength), b(3);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < kLength; ++i) w[c * kLength + i] = k * 2.0f * kMeans[c] / kLength;
    b[c] = -k * kMeans[c] * kMeans[c];
  }
  testing_support::GraphBuilder g;
  classifier::ModelMetadata meta;
  meta.labels = Labels();
  meta.length = kLength;
  meta.channels = 1;
  if (!int8) {
    const int in = g.Input("window", TensorType::kFloat32, {1, kLength});
    const int wt = g.ConstF32("dense/w", {3, kLength}, w);
    const int bt = g.ConstF32("dense/b", {3}, b);
    const int logits = g.Tensor("logits", TensorType::kFloat32, {1, 3});
    g.Op(BuiltinOp::kFullyConnected, {in, wt, bt}, {logits}, tflite::FullyConnectedOptions{});
    const int probs = g.Tensor("probs", TensorType::kFloat32, {1, 3});
    g.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{1.0f});
    g.Output(probs);
  } else {
    meta.quantization = "int8";
    const float s_in = 5.0f / 255.0f;
    const int in = g.Input("window", TensorType::kUInt8, {1, kLength}, Quant(s_in, 0));
    const int q = g.Tensor("window_i8", TensorType::kInt8, {1, kLength}, Quant(s_in, -128));
    g.Op(BuiltinOp::kQuantize, {in}, {q});
    float wmax = 0;
    for (float v : w) wmax = std::max(wmax, std::fabs(v));
    const float s_w = wmax / 127.0f;
    std::vector<int8_t> wq(w.size());
    for (size_t i = 0; i < w.size(); ++i) wq[i] = static_cast<int8_t>(std::lround(w[i] / s_w));
    std::vector<int32_t> bq(3);
    for (int c = 0; c < 3; ++c) bq[c] = static_cast<int32_t>(std::lround(b[c] / (s_in * s_w)));
    const int wt = g.ConstI8("dense/w", {3, kLength}, wq, Quant(s_w, 0));
    const int bt = g.ConstI32("dense/b", {3}, bq, Quant(s_in * s_w, 0));
    // Logits span about [-130, 380] for readings in [0, 5].
    const int logits = g.Tensor("logits", TensorType::kInt8, {1, 3}, Quant(2.0f, -63));
    g.Op(BuiltinOp::kFullyConnected, {q, wt, bt}, {logits}, tflite::FullyConnectedOptions{}, 4);
    const int probs = g.Tensor("probs", TensorType::kInt8, {1, 3}, Quant(1.0f / 256.0f, -128));
    g.Op(BuiltinOp::kSoftmax, {logits}, {probs}, tflite::SoftmaxOptions{1.0f}, 2);
    g.Output(probs);
  }
  tflite::Graph graph = g.Build();
  graph.metadata[tflite::kEdgeloopMetadataName] = classifier::MetadataToJson(meta);
  auto bytes = tflite::WriteModel(graph);
  if (!bytes.ok()) return "";
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace edgeloop::agent::test_models

#endif  // EDGELOOP_AGENT_TEST_MODELS_H_
