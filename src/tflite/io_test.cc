#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/tflite/io.h"
#include "schema_generated.h"
#include "test/support/graph_builder.h"
#include "test/support/temp_dir.h"

namespace edgeloop::tflite {
namespace {

using testing_support::GraphBuilder;
using testing_support::PerChannelQuant;
using testing_support::Quant;

std::string FixturePath(const std::string& name) {
  return testing_support::SourceDir() + "/test/data/tflite/fixtures/" + name;
}

Graph ReadFixture(const std::string& name) {
  Result<Graph> g = ReadModelFile(FixturePath(name));
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? std::move(g).value() : Graph{};
}

// A graph using every operator and options table the subset knows (not meant to run: only the
// file form is exercised here), with non-default values so a dropped field shows.
Graph EveryOptionGraph() {
  GraphBuilder b;
  const int in = b.Input("in", TensorType::kFloat32, {1, 8, 8, 2});
  const int w = b.ConstF32("w", {2, 3, 3, 2}, std::vector<float>(36, 0.5f));
  const int bias = b.ConstF32("bias", {2}, {0.25f, -0.25f});
  const int x = b.Tensor("x", TensorType::kFloat32, {1, 8, 8, 2});
  b.Op(BuiltinOp::kConv2D, {in, w, bias}, {x},
       Conv2DOptions{Padding::kValid, 2, 3, Activation::kRelu6, 2, 1}, 3);
  b.Op(BuiltinOp::kConv2D, {in, w, -1}, {x}, Conv2DOptions{}, 1);
  b.Op(BuiltinOp::kDepthwiseConv2D, {in, w}, {x},
       DepthwiseConv2DOptions{Padding::kValid, 1, 2, 2, Activation::kRelu, 1, 3}, 2);
  b.Op(BuiltinOp::kMaxPool2D, {x}, {x}, Pool2DOptions{Padding::kSame, 2, 1, 3, 1, Activation::kReluN1To1});
  b.Op(BuiltinOp::kAveragePool2D, {x}, {x}, Pool2DOptions{Padding::kValid, 1, 1, 2, 2, Activation::kNone});
  b.Op(BuiltinOp::kFullyConnected, {x, w, bias}, {x}, FullyConnectedOptions{Activation::kRelu, true, true}, 9);
  b.Op(BuiltinOp::kSoftmax, {x}, {x}, SoftmaxOptions{0.5f});
  b.Op(BuiltinOp::kConcatenation, {x, x, x}, {x}, ConcatenationOptions{-1, Activation::kRelu});
  b.Op(BuiltinOp::kAdd, {x, x}, {x}, AddOptions{Activation::kRelu6});
  b.Op(BuiltinOp::kMul, {x, x}, {x}, AddOptions{Activation::kRelu});
  b.Op(BuiltinOp::kSub, {x, x}, {x}, AddOptions{Activation::kNone});
  b.Op(BuiltinOp::kReshape, {x}, {x}, ReshapeOptions{{1, -1}});
  const int shape = b.ConstI32("shape", {2}, {1, 128});
  b.Op(BuiltinOp::kReshape, {x, shape}, {x}, ReshapeOptions{});
  const int paddings = b.ConstI32("paddings", {4, 2}, {0, 0, 1, 1, 2, 2, 0, 0});
  b.Op(BuiltinOp::kPad, {x, paddings}, {x});
  const int axes = b.ConstI32("axes", {2}, {1, 2});
  b.Op(BuiltinOp::kMean, {x, axes}, {x}, ReducerOptions{true});
  b.Op(BuiltinOp::kSqueeze, {x}, {x}, SqueezeOptions{{1, 2}});
  b.Op(BuiltinOp::kStridedSlice, {x, axes, axes, axes}, {x}, StridedSliceOptions{1, 2, 0, 0, 1});
  b.Op(BuiltinOp::kExpandDims, {x, axes}, {x});
  b.Op(BuiltinOp::kShape, {x}, {x}, ShapeOptions{TensorType::kInt64});
  b.Op(BuiltinOp::kPack, {x, x}, {x}, PackOptions{2, 1});
  b.Op(BuiltinOp::kQuantize, {x}, {x});
  b.Op(BuiltinOp::kDequantize, {x}, {x}, {}, 4);
  b.Op(BuiltinOp::kLogistic, {x}, {x});
  b.Op(BuiltinOp::kRelu, {x}, {x});
  b.Op(BuiltinOp::kRelu6, {x}, {x});
  b.Op(BuiltinOp::kTanh, {x}, {x});
  // Quantized tensors: per-tensor with min/max, per-channel on dimension 3.
  const int q = b.Tensor("q", TensorType::kInt8, {1, 4}, Quant(0.05f, -3));
  b.graph().tensors[q].quant.min = {-6.2f};
  b.graph().tensors[q].quant.max = {6.5f};
  b.ConstI8("wq", {1, 2, 2, 3}, std::vector<int8_t>(12, -7), PerChannelQuant({0.1f, 0.2f, 0.3f}, 3));
  b.graph().tensors[q].is_variable = true;
  b.Output(x);
  b.Output(q);
  Graph g = b.Build();
  g.subgraph_name = "main";
  g.description = "every option";
  g.metadata["edgeloop"] = R"({"labels":["a","b"]})";
  g.metadata["binary"] = std::string("\0\1\2\3", 4);
  return g;
}

TEST(TfliteIo, RoundTripKeepsEveryOptionTypeAndField) {
  const Graph g = EveryOptionGraph();
  Result<std::vector<uint8_t>> bytes = WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Result<Graph> back = ReadModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->operators.size(), g.operators.size());
  for (size_t i = 0; i < g.operators.size(); ++i) {
    EXPECT_EQ(back->operators[i], g.operators[i]) << OperatorLabel(g, static_cast<int>(i));
  }
  ASSERT_EQ(back->tensors.size(), g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    EXPECT_EQ(back->tensors[i], g.tensors[i]) << TensorLabel(g, static_cast<int>(i));
  }
  EXPECT_EQ(back->metadata, g.metadata);
  EXPECT_EQ(*back, g);
}

TEST(TfliteIo, WrittenFileHasSentinelBufferAlignedDataAndNoSignature) {
  Graph g = EveryOptionGraph();
  g.tensors[0].shape_signature = {-1, 8, 8, 2};  // read from a converter file; never written back
  Result<std::vector<uint8_t>> bytes = WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(fb::ModelBufferHasIdentifier(bytes->data()));
  const fb::Model* m = fb::GetModel(bytes->data());
  ASSERT_NE(m->buffers(), nullptr);
  ASSERT_GE(m->buffers()->size(), 1u);
  EXPECT_TRUE(m->buffers()->Get(0)->data() == nullptr || m->buffers()->Get(0)->data()->size() == 0);
  for (const fb::Buffer* b : *m->buffers()) {
    if (b->data() == nullptr || b->data()->size() == 0) continue;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()->data()) % 16, 0u);
  }
  for (const fb::Tensor* t : *m->subgraphs()->Get(0)->tensors()) EXPECT_EQ(t->shape_signature(), nullptr);
  // Operator codes carry both fields; metadata entries point at buffers.
  for (const fb::OperatorCode* c : *m->operator_codes()) {
    EXPECT_EQ(c->deprecated_builtin_code(), c->builtin_code());
  }
  ASSERT_NE(m->metadata(), nullptr);
  EXPECT_EQ(m->metadata()->size(), 2u);
}

TEST(TfliteIo, SchemaUnionValuesAreTheOfficialOnes) {
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::Conv2DOptions), 1);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::DepthwiseConv2DOptions), 2);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::Pool2DOptions), 5);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::FullyConnectedOptions), 8);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::SoftmaxOptions), 9);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::ConcatenationOptions), 10);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::AddOptions), 11);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::ReshapeOptions), 17);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::MulOptions), 21);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::PadOptions), 22);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::ReducerOptions), 27);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::SubOptions), 28);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::SqueezeOptions), 30);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::StridedSliceOptions), 32);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::DequantizeOptions), 38);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::ExpandDimsOptions), 52);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::ShapeOptions), 55);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::PackOptions), 59);
  EXPECT_EQ(static_cast<int>(fb::BuiltinOptions::QuantizeOptions), 89);
  // Field ids (vtable offsets = 4 + 2 * id) of the fields whose position matters most.
  EXPECT_EQ(fb::Tensor::VT_SHAPE_SIGNATURE, 4 + 2 * 7);
  EXPECT_EQ(fb::Tensor::VT_SPARSITY, 4 + 2 * 6);
  EXPECT_EQ(fb::QuantizationParameters::VT_QUANTIZED_DIMENSION, 4 + 2 * 6);
  EXPECT_EQ(fb::OperatorCode::VT_BUILTIN_CODE, 4 + 2 * 3);
  EXPECT_EQ(fb::Operator::VT_INTERMEDIATES, 4 + 2 * 8);
  EXPECT_EQ(fb::Model::VT_METADATA, 4 + 2 * 6);
  EXPECT_EQ(fb::Conv2DOptions::VT_DILATION_H_FACTOR, 4 + 2 * 5);
  EXPECT_EQ(fb::FullyConnectedOptions::VT_ASYMMETRIC_QUANTIZE_INPUTS, 4 + 2 * 3);
}

TEST(TfliteFixtures, HelloWorldInt8Structure) {
  const Graph g = ReadFixture("hello_world_int8.tflite");
  ASSERT_EQ(g.operators.size(), 3u);
  for (const Operator& op : g.operators) EXPECT_EQ(op.op, BuiltinOp::kFullyConnected);
  ASSERT_EQ(g.inputs.size(), 1u);
  const Tensor& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(in.type, TensorType::kInt8);
  EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 1}));
  EXPECT_EQ(in.shape_signature, (std::vector<int32_t>{-1, 1}));
  ASSERT_EQ(in.quant.scale.size(), 1u);
  EXPECT_GT(in.quant.scale[0], 0.0f);
}

TEST(TfliteFixtures, MicroSpeechStructure) {
  const Graph g = ReadFixture("micro_speech_quantized.tflite");
  std::vector<BuiltinOp> ops;
  for (const Operator& op : g.operators) ops.push_back(op.op);
  EXPECT_NE(std::find(ops.begin(), ops.end(), BuiltinOp::kDepthwiseConv2D), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), BuiltinOp::kSoftmax), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), BuiltinOp::kReshape), ops.end());
  const Tensor& in = g.tensors[g.inputs[0]];
  EXPECT_EQ(NumElements(in.shape), 1960);
}

TEST(TfliteFixtures, ReadWriteReadIsStable) {
  for (const char* name : {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite"}) {
    SCOPED_TRACE(name);
    Graph g = ReadFixture(name);
    Result<std::vector<uint8_t>> bytes = WriteModel(g);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<Graph> back = ReadModel(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    for (Tensor& t : g.tensors) t.shape_signature.clear();  // not written, by design
    EXPECT_EQ(*back, g);
  }
}

TEST(TfliteIo, FileRoundTripAndUnalignedBytes) {
  testing_support::TempDir dir;
  const Graph g = EveryOptionGraph();
  ASSERT_TRUE(WriteModelFile(g, dir.Join("m.tflite")).ok());
  Result<Graph> back = ReadModelFile(dir.Join("m.tflite"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, g);
  // The same bytes at an odd address read the same.
  Result<std::string> raw = Env::Default()->ReadFile(dir.Join("m.tflite"));
  ASSERT_TRUE(raw.ok());
  std::vector<uint8_t> shifted(raw->size() + 1);
  std::memcpy(shifted.data() + 1, raw->data(), raw->size());
  Result<Graph> odd = ReadModel(std::span<const uint8_t>(shifted.data() + 1, raw->size()));
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  EXPECT_EQ(*odd, g);
}

TEST(TfliteIo, MissingFileIsAnIOErrorNamingThePath) {
  Result<Graph> g = ReadModelFile("/nonexistent/model.tflite");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("/nonexistent/model.tflite"), std::string::npos);
}

struct WriterCase {
  const char* name;
  void (*corrupt)(Graph&);
  const char* expected;
};

TEST(TfliteIo, WriterRejectsInconsistentGraphsNamingThePlace) {
  const WriterCase cases[] = {
      {"input index", [](Graph& g) { g.operators[0].inputs[0] = 99; }, "operator 0 (CONV_2D): input 0 refers to tensor 99"},
      {"output index", [](Graph& g) { g.operators[1].outputs[0] = -1; }, "operator 1 (CONV_2D): output 0"},
      {"data size", [](Graph& g) { g.tensors[1].data.resize(7); }, "tensor 1 ('w'): buffer has 7 bytes, shape [2,3,3,2] x FLOAT32 needs 144"},
      {"options type", [](Graph& g) { g.operators[0].options = PackOptions{}; }, "options are PackOptions, expected Conv2DOptions"},
      {"missing options", [](Graph& g) { g.operators[6].options = std::monostate{}; }, "operator 6 (SOFTMAX): options are none"},
      {"input count", [](Graph& g) { g.operators[8].inputs.push_back(0); }, "operator 8 (ADD): has 3 inputs, expected 2"},
      {"graph output", [](Graph& g) { g.outputs.push_back(1000); }, "subgraph outputs[2] refers to tensor 1000"},
      {"negative dim", [](Graph& g) { g.tensors[0].shape[0] = -1; }, "tensor 0 ('in'): shape [-1,8,8,2] has a negative dimension"},
      {"zero point count", [](Graph& g) { g.tensors.back().quant.zero_point.pop_back(); }, "scale has 3 values, zero_point has 2"},
      {"channel count", [](Graph& g) { g.tensors.back().quant.scale.push_back(1); g.tensors.back().quant.zero_point.push_back(0); }, "4 per-channel scales for dimension 3"},
      {"unknown op", [](Graph& g) { g.operators[0].op = static_cast<BuiltinOp>(150); g.operators[0].options = {}; }, "BUILTIN_OP_150"},
      {"schema version", [](Graph& g) { g.schema_version = 2; }, "schema_version 2"},
      // Only bias inputs may be absent (-1); a variadic op's later inputs may not.
      {"absent pack input", [](Graph& g) { g.operators[19].inputs[1] = -1; }, "operator 19 (PACK): input 1 refers to tensor -1"},
      {"absent conv input", [](Graph& g) { g.operators[0].inputs[1] = -1; }, "operator 0 (CONV_2D): input 1 refers to tensor -1"},
  };
  for (const WriterCase& c : cases) {
    SCOPED_TRACE(c.name);
    Graph g = EveryOptionGraph();
    c.corrupt(g);
    Result<std::vector<uint8_t>> bytes = WriteModel(g);
    ASSERT_FALSE(bytes.ok());
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bytes.status().message().find(c.expected), std::string::npos) << bytes.status().message();
  }
}

// Writes a one-op model with the given opcode fields straight through the generated API.
std::vector<uint8_t> OneOpModel(int8_t deprecated_code, int32_t code) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(fbb)};
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors{
      fb::CreateTensor(fbb, fbb.CreateVector(std::vector<int32_t>{1, 4}), 0, 0, fbb.CreateString("x")),
      fb::CreateTensor(fbb, fbb.CreateVector(std::vector<int32_t>{1, 4}), 0, 0, fbb.CreateString("y"))};
  std::vector<flatbuffers::Offset<fb::Operator>> ops{fb::CreateOperator(
      fbb, 0, fbb.CreateVector(std::vector<int32_t>{0}), fbb.CreateVector(std::vector<int32_t>{1}))};
  auto sg = fb::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(std::vector<int32_t>{0}),
                               fbb.CreateVector(std::vector<int32_t>{1}), fbb.CreateVector(ops));
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes{fb::CreateOperatorCode(fbb, deprecated_code, 0, 1, code)};
  auto model = fb::CreateModel(fbb, 3, fbb.CreateVector(codes), fbb.CreateVector(std::vector{sg}), 0,
                               fbb.CreateVector(buffers));
  fb::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

TEST(TfliteIo, OpcodeIsTheLargerOfDeprecatedAndNewField) {
  // Old files only set the byte field; new ones set both; codes >= 127 only the int field.
  Result<Graph> old_style = ReadModel(OneOpModel(19, 0));
  ASSERT_TRUE(old_style.ok()) << old_style.status().ToString();
  EXPECT_EQ(old_style->operators[0].op, BuiltinOp::kRelu);
  Result<Graph> new_style = ReadModel(OneOpModel(0, 21));
  ASSERT_TRUE(new_style.ok()) << new_style.status().ToString();
  EXPECT_EQ(new_style->operators[0].op, BuiltinOp::kRelu6);
  Result<Graph> big = ReadModel(OneOpModel(127, 150));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(static_cast<int>(big->operators[0].op), 150);
  Result<Graph> custom = ReadModel(OneOpModel(32, 32));
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(custom.status().message().find("custom operator"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::tflite
