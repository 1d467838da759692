#include "edgeloop/edgetpu/check.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "edgeloop/edgetpu/compile.h"
#include "edgeloop/quant/quantize.h"
#include "edgeloop/tflite/io.h"
#include "test/support/float_cnn.h"

namespace edgeloop::edgetpu {
namespace {

using testing_support::FloatCnn;
using testing_support::FloatCnnSpec;
using tflite::BuiltinOp;
using tflite::TensorType;

tflite::Graph Quantized(const FloatCnnSpec& spec, quant::IoType io = quant::IoType::kUInt8) {
  quant::QuantizeOptions o;
  o.io = io;
  auto r = quant::QuantizeGraph(FloatCnn(spec),
                                {testing_support::VibrationWindows(64, spec.length, spec.channels, 2)}, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->graph : tflite::Graph{};
}

TEST(EdgeTpuCheck, QuantizedDefaultShapedModelMapsFully) {
  FloatCnnSpec spec;
  spec.length = 128;
  spec.filters = 16;
  spec.hidden = 32;
  const tflite::Graph g = Quantized(spec);
  const CheckReport r = CheckGraph(g);
  EXPECT_TRUE(r.maps) << ReportText(r);
  EXPECT_EQ(r.cpu_ops, 0u);
  EXPECT_EQ(r.first_unmapped, -1);
  EXPECT_GT(r.parameter_bytes, 0u);
  EXPECT_TRUE(r.fits_on_chip);
  auto bytes = tflite::WriteModel(g);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(Check(*bytes).ok());
}

TEST(EdgeTpuCheck, KerasLayoutMapsToo) {
  FloatCnnSpec spec;
  spec.keras_layout = true;
  spec.channels = 3;
  spec.filters = 6;
  spec.depthwise = true;
  const CheckReport r = CheckGraph(Quantized(spec));
  EXPECT_TRUE(r.maps) << ReportText(r);
}

TEST(EdgeTpuCheck, FloatModelFallsBackFromTheFirstOperator) {
  const CheckReport r = CheckGraph(FloatCnn({}));
  EXPECT_FALSE(r.maps);
  EXPECT_EQ(r.first_unmapped, 0);
  EXPECT_EQ(r.edgetpu_ops, 0u);
  EXPECT_NE(r.ops[0].reason.find("FLOAT32"), std::string::npos) << r.ops[0].reason;
  EXPECT_NE(r.ops[1].reason.find("after the first unmapped operator (operator 0"), std::string::npos);
}

TEST(EdgeTpuCheck, FloatInterfaceLeavesTheEdgesOnTheCpu) {
  const CheckReport r = CheckGraph(Quantized({}, quant::IoType::kFloat32));
  EXPECT_FALSE(r.maps);
  EXPECT_EQ(r.first_unmapped, 0);
  EXPECT_EQ(r.ops[0].op, "QUANTIZE");
  EXPECT_NE(r.ops[0].reason.find("FLOAT32"), std::string::npos) << r.ops[0].reason;
}

TEST(EdgeTpuCheck, UnsupportedOpInTheMiddleSplitsTheGraph) {
  tflite::Graph g = Quantized({});
  // Replace the SOFTMAX by an (unsupported here) int8 CONCATENATION-free op: a SHAPE.
  size_t softmax = 0;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    if (g.operators[i].op == BuiltinOp::kSoftmax) softmax = i;
  }
  ASSERT_GT(softmax, 0u);
  g.operators[softmax].op = BuiltinOp::kShape;
  g.operators[softmax].options = tflite::ShapeOptions{};
  const CheckReport r = CheckGraph(g);
  EXPECT_FALSE(r.maps);
  EXPECT_EQ(r.first_unmapped, static_cast<int>(softmax));
  EXPECT_NE(r.ops[softmax].reason.find("SHAPE is not supported"), std::string::npos);
  EXPECT_EQ(r.edgetpu_ops, softmax);
  for (size_t i = softmax + 1; i < r.ops.size(); ++i) EXPECT_FALSE(r.ops[i].edgetpu);
  EXPECT_NE(r.verdict.find("operator " + std::to_string(softmax) + " (SHAPE)"), std::string::npos) << r.verdict;
}

TEST(EdgeTpuCheck, ShapeDimensionAndDilationRules) {
  tflite::Graph base = Quantized({});
  int conv = -1;
  for (size_t i = 0; i < base.operators.size(); ++i) {
    if (base.operators[i].op == BuiltinOp::kConv2D) conv = static_cast<int>(i);
  }
  ASSERT_GE(conv, 0);
  {
    tflite::Graph g = base;  // a dynamic batch
    g.tensors[g.operators[conv].outputs[0]].shape_signature = {-1, 1, 60, 8};
    const CheckReport r = CheckGraph(g);
    EXPECT_EQ(r.first_unmapped, conv);
    EXPECT_NE(r.ops[conv].reason.find("dynamic shape"), std::string::npos) << r.ops[conv].reason;
  }
  {
    tflite::Graph g = base;  // unequal dilation
    std::get<tflite::Conv2DOptions>(g.operators[conv].options).dilation_h = 2;
    const CheckReport r = CheckGraph(g);
    EXPECT_NE(r.ops[conv].reason.find("dilation differs"), std::string::npos) << r.ops[conv].reason;
  }
  {
    tflite::Graph g = base;  // four dimensions larger than 1
    auto& shape = g.tensors[g.operators[conv].outputs[0]].shape;
    shape = {1, 2, 2, shape[2], shape[3]};
    const CheckReport r = CheckGraph(g);
    EXPECT_NE(r.ops[conv].reason.find("more than 3 dimensions"), std::string::npos) << r.ops[conv].reason;
  }
  {
    tflite::Graph g = base;  // a batch of 4
    auto& shape = g.tensors[g.operators[conv].outputs[0]].shape;
    shape[0] = 4;
    const CheckReport r = CheckGraph(g);
    EXPECT_NE(r.ops[conv].reason.find("batch 4"), std::string::npos) << r.ops[conv].reason;
  }
  {
    tflite::Graph g = base;  // non-constant weights
    g.tensors[g.operators[conv].inputs[1]].data.clear();
    const CheckReport r = CheckGraph(g);
    EXPECT_NE(r.ops[conv].reason.find("not a compile-time constant"), std::string::npos) << r.ops[conv].reason;
  }
}

TEST(EdgeTpuCheck, ParametersAboveOnChipMemoryAreReported) {
  FloatCnnSpec spec;
  spec.length = 512;
  spec.filters = 64;
  spec.pool = 0;
  spec.hidden = 300;  // 512*64*300 int8 weights = 9.4 MB
  const CheckReport r = CheckGraph(Quantized(spec));
  EXPECT_TRUE(r.maps) << r.verdict;
  EXPECT_FALSE(r.fits_on_chip);
  EXPECT_GT(r.parameter_bytes, kOnChipBytes);
  EXPECT_NE(r.verdict.find("exceed"), std::string::npos);
}

TEST(EdgeTpuCheck, JsonReportAndGateMessage) {
  auto bytes = tflite::WriteModel(FloatCnn({}));
  ASSERT_TRUE(bytes.ok());
  auto r = CheckModel(*bytes);
  ASSERT_TRUE(r.ok());
  const nlohmann::json j = nlohmann::json::parse(ReportJson(*r));
  EXPECT_FALSE(j["maps"].get<bool>());
  EXPECT_EQ(j["ops"][0]["placement"], "cpu");
  EXPECT_EQ(j["ops"].size(), r->ops.size());
  const Status s = Check(*bytes);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("operator 0 (RESHAPE)"), std::string::npos) << s.message();
  const std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_FALSE(Check(junk).ok());
}

TEST(EdgeTpuCompile, MissingCompilerIsNamed) {
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  setenv("PATH", "/nonexistent-dir", 1);
  auto rc = RunCompiler("model.tflite", ".");
  setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(rc.ok());
  EXPECT_EQ(rc.status().code(), StatusCode::kNotFound);
  EXPECT_NE(rc.status().message().find("edgetpu_compiler is not installed"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::edgetpu
