// Export -> our runtime: the exported file loads in classifier::Classifier (which applies the
// metadata's normalisation) and gives the trainer's probabilities within 1e-5, for every layer
// type, padding, stride, dilation and fusion; and the graph is what DESIGN.md says.
#include "edgeloop/nn/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/tflite/io.h"
#include "nn/export_test_util.h"

namespace edgeloop::nn {
namespace {

using testing::ExportSpecs;
using testing::MakeWindows;
using testing::MetadataFor;
using testing::TrainedModel;
using tflite::BuiltinOp;

std::vector<BuiltinOp> Ops(const tflite::Graph& g) {
  std::vector<BuiltinOp> ops;
  for (const tflite::Operator& o : g.operators) ops.push_back(o.op);
  return ops;
}

TEST(Export, RuntimeGivesTheTrainersProbabilities) {
  for (const auto& [name, spec] : ExportSpecs()) {
    SCOPED_TRACE(name);
    const testing::Windows data = MakeWindows(200, spec.length, spec.channels, 11);
    Result<Model> m = TrainedModel(spec, data);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ExportOptions eo;
    eo.metadata_json = MetadataFor(*m);
    Result<std::vector<uint8_t>> bytes = ExportModel(*m, eo);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<std::unique_ptr<classifier::Classifier>> c = classifier::Classifier::Load(*bytes);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->has_metadata());
    const size_t n = 50;
    std::span<const float> windows(data.x.data(), n * m->input_size());
    std::vector<float> want(n * 3);
    ASSERT_TRUE(m->Predict(windows, want).ok());
    Result<std::vector<classifier::Prediction>> got = (*c)->ClassifyBatch(windows);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), n);
    std::set<int> classes;
    double max_diff = 0;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ((*got)[i].scores.size(), 3u);
      for (int k = 0; k < 3; ++k) {
        max_diff = std::max(max_diff, static_cast<double>(std::abs((*got)[i].scores[k] - want[i * 3 + k])));
      }
      classes.insert((*got)[i].index);
    }
    EXPECT_LE(max_diff, 1e-5);
    // Not a degenerate comparison: the trained model tells the classes apart.
    EXPECT_GE(classes.size(), 2u);
    // Single windows take the same path.
    Result<classifier::Prediction> one = (*c)->Classify(windows.subspan(0, m->input_size()));
    ASSERT_TRUE(one.ok());
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(one->scores[k], want[k], 1e-5);
  }
}

TEST(Export, ReferenceModelIsTheDesignedGraph) {
  const ModelSpec spec = DefaultModelSpec(128, 1);
  const testing::Windows data = MakeWindows(64, 128, 1, 3);
  Result<Model> m = TrainedModel(spec, data);
  ASSERT_TRUE(m.ok());
  ExportOptions eo;
  eo.metadata_json = MetadataFor(*m);
  Result<tflite::Graph> g = ExportGraph(*m, eo);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(Ops(*g), (std::vector<BuiltinOp>{BuiltinOp::kReshape, BuiltinOp::kConv2D, BuiltinOp::kMaxPool2D,
                                             BuiltinOp::kConv2D, BuiltinOp::kMaxPool2D, BuiltinOp::kReshape,
                                             BuiltinOp::kFullyConnected, BuiltinOp::kFullyConnected,
                                             BuiltinOp::kSoftmax}));
  ASSERT_TRUE(tflite::ValidateGraph(*g).ok());
  EXPECT_EQ(g->tensors[g->inputs.at(0)].shape, (std::vector<int32_t>{1, 128, 1}));
  EXPECT_EQ(g->tensors[g->outputs.at(0)].shape, (std::vector<int32_t>{1, 3}));
  for (const tflite::Tensor& t : g->tensors) {
    SCOPED_TRACE(t.name);
    EXPECT_TRUE(t.shape_signature.empty());
    for (int32_t d : t.shape) EXPECT_GT(d, 0);
    EXPECT_EQ(t.type, t.name.ends_with("/shape") ? tflite::TensorType::kInt32 : tflite::TensorType::kFloat32);
  }
  // The 1xK kernels: [filters, 1, 3, channels in], first layer's weights transposed from ours.
  const tflite::Operator& conv1 = g->operators[1];
  const tflite::Tensor& k1 = g->tensors[conv1.inputs[1]];
  EXPECT_EQ(k1.shape, (std::vector<int32_t>{16, 1, 3, 1}));
  const auto& co = std::get<tflite::Conv2DOptions>(conv1.options);
  EXPECT_EQ(co.padding, tflite::Padding::kSame);
  EXPECT_EQ(co.activation, tflite::Activation::kRelu);
  const std::span<const float> ours = m->weights(0);  // [k * c, filters]
  float theirs[48];
  std::memcpy(theirs, k1.data.data(), sizeof(theirs));
  for (int f = 0; f < 16; ++f) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(theirs[f * 3 + k], ours[static_cast<size_t>(k) * 16 + f]);
  }
  const auto& po = std::get<tflite::Pool2DOptions>(g->operators[2].options);
  EXPECT_EQ(po.filter_w, 2);
  EXPECT_EQ(po.filter_h, 1);
  EXPECT_EQ(po.stride_w, 2);
  EXPECT_EQ(g->tensors[g->operators[6].inputs[1]].shape, (std::vector<int32_t>{64, 32 * 32}));
  // Dropout left no trace; the metadata is there verbatim.
  EXPECT_EQ(g->metadata.at("edgeloop"), eo.metadata_json);
  Result<classifier::ModelMetadata> meta = classifier::MetadataFromJson(g->metadata.at("edgeloop"));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->mean, m->norm_mean());
  EXPECT_EQ(meta->std, m->norm_std());
  // Round trip through the file format.
  Result<std::vector<uint8_t>> bytes = tflite::WriteModel(*g);
  ASSERT_TRUE(bytes.ok());
  Result<tflite::Graph> back = tflite::ReadModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Ops(*back), Ops(*g));
}

TEST(Export, BatchNormIsFoldedAndActivationsFused) {
  const testing::NamedSpec every = ExportSpecs()[2];
  const testing::Windows data = MakeWindows(64, every.spec.length, every.spec.channels, 4);
  Result<Model> m = TrainedModel(every.spec, data);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Result<tflite::Graph> g = ExportGraph(*m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  // conv+bn+relu6 -> one CONV_2D (RELU6); dense+bn+dropout+relu -> one FULLY_CONNECTED (RELU).
  EXPECT_EQ(Ops(*g), (std::vector<BuiltinOp>{BuiltinOp::kReshape, BuiltinOp::kConv2D, BuiltinOp::kAveragePool2D,
                                             BuiltinOp::kConv2D, BuiltinOp::kMaxPool2D, BuiltinOp::kAveragePool2D,
                                             BuiltinOp::kReshape, BuiltinOp::kFullyConnected,
                                             BuiltinOp::kFullyConnected, BuiltinOp::kSoftmax}));
  const auto& c1 = std::get<tflite::Conv2DOptions>(g->operators[1].options);
  EXPECT_EQ(c1.activation, tflite::Activation::kRelu6);
  EXPECT_EQ(c1.dilation_w, 2);
  EXPECT_EQ(c1.padding, tflite::Padding::kValid);
  EXPECT_EQ(g->operators[1].version, 2);
  EXPECT_EQ(std::get<tflite::Conv2DOptions>(g->operators[3].options).stride_w, 2);
  EXPECT_EQ(std::get<tflite::FullyConnectedOptions>(g->operators[7].options).activation, tflite::Activation::kRelu);
  // The conv had no bias of its own: the folded batch norm gave it one.
  const tflite::Tensor& bias = g->tensors[g->operators[1].inputs[2]];
  float b0;
  std::memcpy(&b0, bias.data.data(), 4);
  EXPECT_NE(b0, 0.0f);
  EXPECT_TRUE(g->metadata.empty());
}

}  // namespace
}  // namespace edgeloop::nn
