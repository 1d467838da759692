// ModelSpecFromJson / ModelSpecToJson: Keras names, defaults, round trip, and every error naming
// the file, the layer and the key.
#include "edgeloop/nn/spec_json.h"

#include <gtest/gtest.h>

namespace edgeloop::nn {
namespace {

TEST(SpecJson, ReadsKerasNamesAndRoundTrips) {
  Result<ModelSpec> s = ModelSpecFromJson(R"({"input": {"length": 64, "channels": 3}, "layers": [
      {"type": "Conv1D", "filters": 8, "kernel_size": [5], "strides": 2, "padding": "same", "activation": "relu"},
      {"type": "MaxPooling1D", "pool_size": 2},
      {"type": "conv1d", "filters": 4, "kernel": 3, "dilation_rate": 2, "use_bias": false},
      {"type": "BatchNormalization", "momentum": 0.9},
      {"type": "relu6"},
      {"type": "GlobalAveragePooling1D"},
      {"type": "Dropout", "rate": 0.25},
      {"type": "Dense", "activation": "softmax"}]})",
                                          "spec.json");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->length, 64);
  EXPECT_EQ(s->channels, 3);
  ASSERT_EQ(s->layers.size(), 8u);
  EXPECT_EQ(s->layers[0].type, LayerType::kConv1D);
  EXPECT_EQ(s->layers[0].kernel, 5);
  EXPECT_EQ(s->layers[0].stride, 2);
  EXPECT_EQ(s->layers[0].padding, Padding::kSame);
  EXPECT_EQ(s->layers[0].activation, Activation::kReLU);
  EXPECT_EQ(s->layers[1].type, LayerType::kMaxPool1D);
  EXPECT_EQ(s->layers[2].dilation, 2);
  EXPECT_FALSE(s->layers[2].use_bias);
  EXPECT_FLOAT_EQ(s->layers[3].momentum, 0.9f);
  EXPECT_FLOAT_EQ(s->layers[6].rate, 0.25f);
  EXPECT_EQ(s->layers[7].units, 0);  // the number of classes, filled in by ResolveSpec
  ModelSpec resolved = *s;
  ASSERT_TRUE(ResolveSpec(&resolved, 3).ok());
  Result<ModelSpec> back = ModelSpecFromJson(ModelSpecToJson(resolved), "again");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ModelSpecToJson(*back), ModelSpecToJson(resolved));
  // Unresolved too: what was left out (the last dense's units, default strides) stays left out,
  // so the JSON reads back (found by nn_spec_fuzz: it wrote "units": 0, which the reader refuses).
  Result<ModelSpec> unresolved = ModelSpecFromJson(ModelSpecToJson(*s), "again");
  ASSERT_TRUE(unresolved.ok()) << unresolved.status().ToString();
  EXPECT_EQ(ModelSpecToJson(*unresolved), ModelSpecToJson(*s));
  // A bare list of layers is a spec too; the data gives the input shape.
  Result<ModelSpec> bare = ModelSpecFromJson(R"([{"type": "flatten"}, {"type": "dense", "units": 3}])", "b");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->length, 0);
  // An input with only one of its dimensions (the other from the data) reads back too (found by
  // nn_spec_fuzz: it wrote "channels": 0, which the reader refuses); so does one with neither.
  for (const char* text : {R"({"input": {"length": 64}, "layers": [{"type": "flatten"}]})",
                           R"({"input": {"channels": 3}, "layers": [{"type": "flatten"}]})",
                           R"([{"type": "flatten"}])"}) {
    Result<ModelSpec> part = ModelSpecFromJson(text, "p");
    ASSERT_TRUE(part.ok()) << text;
    Result<ModelSpec> back = ModelSpecFromJson(ModelSpecToJson(*part), "again");
    ASSERT_TRUE(back.ok()) << text << " -> " << ModelSpecToJson(*part) << ": " << back.status().ToString();
    EXPECT_EQ(back->length, part->length);
    EXPECT_EQ(back->channels, part->channels);
  }
}

TEST(SpecJson, ErrorsNameFileLayerAndKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "s.json: not valid JSON"},
      {R"({"layer": []})", "s.json: unknown key 'layer'"},
      {R"({"layers": {}})", "s.json: layers: must be a list"},
      {R"({"layers": []})", "s.json: layers: empty"},
      {R"({"layers": [{"filters": 3}]})", "s.json: layers[0]: needs \"type\""},
      {R"({"layers": [{"type": "lstm"}]})", "s.json: layers[0]: type: unknown layer 'lstm'"},
      {R"({"layers": [{"type": "flatten"}, {"type": "dense", "units": "8"}]})",
       "s.json: layers[1] (dense): units: must be an integer"},
      {R"({"layers": [{"type": "conv1d", "filters": 4}]})", "layers[0] (conv1d): kernel_size: missing"},
      {R"({"layers": [{"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal"}]})",
       "layers[0] (conv1d): padding: must be \"same\" or \"valid\""},
      {R"({"layers": [{"type": "dense", "activation": "tanh"}]})", "layers[0] (dense): activation: must be"},
      {R"({"layers": [{"type": "dropout", "rate": 1.5}]})", "layers[0] (dropout): rate: must be in [0, 1)"},
      {R"({"layers": [{"type": "maxpool1d", "filters": 2}]})", "layers[0] (maxpool1d): unknown key 'filters'"},
      {R"({"input": {"length": -1}, "layers": [{"type": "flatten"}]})", "s.json: input.length"},
  };
  for (const auto& [json, message] : cases) {
    Result<ModelSpec> s = ModelSpecFromJson(json, "s.json");
    ASSERT_FALSE(s.ok()) << json;
    EXPECT_NE(s.status().message().find(message), std::string::npos) << json << " -> " << s.status().message();
  }
}

}  // namespace
}  // namespace edgeloop::nn
