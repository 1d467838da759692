// `edgeloop inspect` and `edgeloop predict --raw-in/--raw-out`, run as the real executable.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test/support/fixture_cases.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::tools {
namespace {

using testing_support::BinaryPath;
using testing_support::FixtureDir;
using testing_support::ReadBytes;
using testing_support::RunCommand;
using testing_support::TempDir;

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(CmdInspect, TextNamesOperatorsKernelsAndArena) {
  auto r = RunCommand({BinaryPath("edgeloop"), "inspect", FixtureDir() + "/micro_speech_quantized.tflite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DEPTHWISE_CONV_2D v3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[softmax_s8_lut]"), std::string::npos) << r.out;  // the kernel the CPU runs
  EXPECT_NE(r.out.find("per-channel (8 scales, dimension 3)"), std::string::npos);
  EXPECT_NE(r.out.find("parameters 16704 bytes, arena "), std::string::npos);
}

TEST(CmdInspect, JsonHasOperatorsTensorsArenaAndParameters) {
  auto r = RunCommand({BinaryPath("edgeloop"), "inspect", "--json", FixtureDir() + "/hello_world_int8.tflite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["operators"].size(), 3u);
  EXPECT_EQ(j["operators"][0]["opcode"], "FULLY_CONNECTED");
  EXPECT_EQ(j["operators"][0]["options"]["activation"], "RELU");
  EXPECT_EQ(j["tensors"][0]["type"], "INT8");
  EXPECT_EQ(j["tensors"][0]["shape_signature"], nlohmann::json::array({-1, 1}));
  EXPECT_GT(j["arena_bytes"].get<int>(), 0);
  EXPECT_GT(j["parameter_bytes"].get<int>(), 0);
  EXPECT_TRUE(j["runtime_error"].is_null());
}

TEST(CmdInspect, CorruptFileFailsWithTheReaderMessage) {
  TempDir dir;
  std::vector<uint8_t> bytes = ReadBytes(FixtureDir() + "/hello_world_int8.tflite");
  bytes.resize(64);
  WriteBytes(dir.Join("bad.tflite"), bytes);
  auto r = RunCommand({BinaryPath("edgeloop"), "inspect", dir.Join("bad.tflite")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("edgeloop inspect: error: " + dir.Join("bad.tflite")), std::string::npos) << r.err;
  EXPECT_EQ(RunCommand({BinaryPath("edgeloop"), "inspect"}).exit_code, 2);
}

TEST(CmdPredict, RawBytesInAndOutMatchTheFixtures) {
  TempDir dir;
  const auto cases = testing_support::LoadFixtureCases();
  std::vector<uint8_t> all_in, all_expected;
  for (const auto& c : cases) {
    if (c.model != "micro_speech_quantized.tflite") continue;
    const auto in = ReadBytes(FixtureDir() + "/" + c.input);
    const auto expected = ReadBytes(FixtureDir() + "/" + c.expected);
    all_in.insert(all_in.end(), in.begin(), in.end());
    all_expected.insert(all_expected.end(), expected.begin(), expected.end());
  }
  WriteBytes(dir.Join("in.bin"), std::vector<uint8_t>(all_in.begin(), all_in.begin() + 1960));
  auto r = RunCommand({BinaryPath("edgeloop"), "predict", FixtureDir() + "/micro_speech_quantized.tflite", "--raw-in",
                       dir.Join("in.bin"), "--raw-out", dir.Join("out.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadBytes(dir.Join("out.bin")), std::vector<uint8_t>(all_expected.begin(), all_expected.begin() + 4));
  // Eight windows in one file run as one batch of eight.
  WriteBytes(dir.Join("all.bin"), all_in);
  r = RunCommand({BinaryPath("edgeloop"), "predict", FixtureDir() + "/micro_speech_quantized.tflite", "--raw-in",
                  dir.Join("all.bin"), "--raw-out", dir.Join("all_out.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadBytes(dir.Join("all_out.bin")), all_expected);
  // A size that is not whole windows is refused, naming the sizes.
  WriteBytes(dir.Join("odd.bin"), std::vector<uint8_t>(100));
  r = RunCommand({BinaryPath("edgeloop"), "predict", FixtureDir() + "/micro_speech_quantized.tflite", "--raw-in",
                  dir.Join("odd.bin"), "--raw-out", dir.Join("x.bin")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("input has 100 bytes; input 0 ('Reshape_1') takes 1960 per window"), std::string::npos) << r.err;
  EXPECT_EQ(RunCommand({BinaryPath("edgeloop"), "predict", FixtureDir() + "/micro_speech_quantized.tflite"}).exit_code, 2);
}

}  // namespace
}  // namespace edgeloop::tools

namespace edgeloop::tools {
namespace {

TEST(CmdBench, JsonHasLatencyThroughputAndTheArenaInspectReports) {
  const std::string model = testing_support::FixtureDir() + "/micro_speech_quantized.tflite";
  auto r = testing_support::RunCommand({testing_support::BinaryPath("edgeloop"), "bench", model, "--iterations", "200",
                                        "--threads", "2", "--batch", "4", "--seconds", "0.05", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"median_us", "p90_us", "p99_us", "windows_per_s", "windows_per_s_threads"}) {
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  EXPECT_LE(j["min_us"].get<double>(), j["median_us"].get<double>());
  EXPECT_LE(j["median_us"].get<double>(), j["p99_us"].get<double>());
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["batch"], 4);
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), 0);
  auto inspect = testing_support::RunCommand({testing_support::BinaryPath("edgeloop"), "inspect", "--json", model});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(j["arena_bytes"], nlohmann::json::parse(inspect.out)["arena_bytes"]);
  EXPECT_GT(j["batch_arena_bytes"].get<double>(), j["arena_bytes"].get<double>());
}

TEST(CmdBench, BadArgumentsAreUsageErrors) {
  const std::string model = testing_support::FixtureDir() + "/micro_speech_quantized.tflite";
  auto r = testing_support::RunCommand({testing_support::BinaryPath("edgeloop"), "bench", model, "--kernels", "sse9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--kernels 'sse9'"), std::string::npos) << r.err;
  EXPECT_EQ(testing_support::RunCommand({testing_support::BinaryPath("edgeloop"), "bench"}).exit_code, 2);
}

}  // namespace
}  // namespace edgeloop::tools
