// `edgeloop quantize`, `edgeloop edgetpu check/compile` and `predict` on quantized models, run as the
// real executable on files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/tflite/io.h"
#include "test/support/fixture_cases.h"
#include "test/support/float_cnn.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::tools {
namespace {

using testing_support::BinaryPath;
using testing_support::ReadBytes;
using testing_support::RunCommand;
using testing_support::TempDir;

void WriteBytes(const std::string& path, const void* data, size_t size) {
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// data.csv (waveform windows of 64) and float.tflite (random weights, metadata with the labels).
void MakeInputs(const TempDir& dir, tflite::Graph graph = testing_support::FloatCnn({})) {
  auto gen = RunCommand({BinaryPath("edgeloop"), "data", "generate", "--kind", "waveform", "--samples", "400",
                         "--seed", "4", "--length", "64", "-o", dir.Join("data.csv")});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  classifier::ModelMetadata m;
  m.labels = {"normal", "warning", "failure"};
  m.length = 64;
  graph.metadata[tflite::kEdgeloopMetadataName] = classifier::MetadataToJson(m);
  ASSERT_TRUE(tflite::WriteModelFile(graph, dir.Join("float.tflite")).ok());
}

TEST(CmdQuantize, WritesInt8ModelReportAndPassesEdgeTpuCheck) {
  TempDir dir;
  MakeInputs(dir);
  auto r = RunCommand({BinaryPath("edgeloop"), "quantize", dir.Join("float.tflite"), "--calibration",
                       dir.Join("data.csv"), "--samples", "100", "-o", dir.Join("int8.tflite"), "--report",
                       dir.Join("r.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("conv_weights"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("calibration: 100 windows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top-1 agreement float vs int8"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(ReadBytes(dir.Join("r.json")));
  EXPECT_EQ(j["io"], "uint8");
  EXPECT_EQ(j["calibration_windows"], 100);
  EXPECT_EQ(j["validation_windows"], 80);
  EXPECT_GT(j["float_bytes"].get<int>(), j["int8_bytes"].get<int>());

  auto check = RunCommand({BinaryPath("edgeloop"), "edgetpu", "check", dir.Join("int8.tflite")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("verdict: maps to the Edge TPU"), std::string::npos) << check.out;
  auto float_check = RunCommand({BinaryPath("edgeloop"), "edgetpu", "check", "--json", dir.Join("float.tflite")});
  EXPECT_EQ(float_check.exit_code, 1);
  const nlohmann::json fj = nlohmann::json::parse(float_check.out);
  EXPECT_FALSE(fj["maps"].get<bool>());
  EXPECT_EQ(fj["ops"][0]["placement"], "cpu");

  testing_support::ProcessOptions no_compiler;
  no_compiler.env = {"PATH=" + dir.path()};
  auto compile = RunCommand({BinaryPath("edgeloop"), "edgetpu", "compile", dir.Join("int8.tflite")}, 60000, no_compiler);
  EXPECT_NE(compile.exit_code, 0);
  EXPECT_NE(compile.err.find("edgetpu_compiler is not installed"), std::string::npos) << compile.err;
}

TEST(CmdQuantize, UnsupportedOperatorIsNamed) {
  TempDir dir;
  tflite::Graph g = testing_support::FloatCnn({});
  for (tflite::Operator& op : g.operators) {
    if (op.op == tflite::BuiltinOp::kSoftmax) {
      op.op = tflite::BuiltinOp::kTanh;
      op.options = {};
    }
  }
  MakeInputs(dir, g);
  auto r = RunCommand({BinaryPath("edgeloop"), "quantize", dir.Join("float.tflite"), "--calibration",
                       dir.Join("data.csv"), "-o", dir.Join("int8.tflite")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("operator 6 (TANH)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot be quantized"), std::string::npos) << r.err;
  auto bad_io = RunCommand({BinaryPath("edgeloop"), "quantize", dir.Join("float.tflite"), "--calibration",
                            dir.Join("data.csv"), "-o", dir.Join("int8.tflite"), "--io", "int4"});
  EXPECT_EQ(bad_io.exit_code, 2);
  EXPECT_NE(bad_io.err.find("expected uint8, int8 or float32"), std::string::npos) << bad_io.err;
}

TEST(CmdPredict, FloatInputsOfAnInt8ModelSaturateNeverWrap) {
  TempDir dir;
  MakeInputs(dir);
  auto r = RunCommand({BinaryPath("edgeloop"), "quantize", dir.Join("float.tflite"), "--calibration",
                       dir.Join("data.csv"), "--io", "float32", "-o", dir.Join("int8.tflite")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto g = tflite::ReadModelFile(dir.Join("int8.tflite"));
  ASSERT_TRUE(g.ok());
  const tflite::Tensor& q = g->tensors[g->operators[0].outputs[0]];  // QUANTIZE's int8 output
  const float scale = q.quant.scale[0];
  const auto zp = static_cast<float>(q.quant.zero_point[0]);
  auto predict = [&](float hi, float lo, const std::string& name) {
    std::vector<float> in(64);
    for (size_t i = 0; i < in.size(); ++i) in[i] = i % 3 == 0 ? hi : (i % 3 == 1 ? lo : 0.0f);
    WriteBytes(dir.Join(name + ".in"), in.data(), in.size() * 4);
    auto p = RunCommand({BinaryPath("edgeloop"), "predict", dir.Join("int8.tflite"), "--raw-in", dir.Join(name + ".in"),
                         "--raw-out", dir.Join(name + ".out")});
    EXPECT_EQ(p.exit_code, 0) << p.err;
    return ReadBytes(dir.Join(name + ".out"));
  };
  const auto edge = predict(scale * (127 - zp), scale * (-128 - zp), "edge");
  EXPECT_EQ(predict(1e30f, -1e30f, "huge"), edge);
  EXPECT_EQ(predict(scale * (127 - zp) + 300 * scale, scale * (-128 - zp) - 300 * scale, "past"), edge);
  // Half a step inside the range rounds to the edge too (round half away from zero).
  EXPECT_EQ(predict(scale * (126.5f - zp), scale * (-127.5f - zp), "half"), edge);
}

}  // namespace
}  // namespace edgeloop::tools
