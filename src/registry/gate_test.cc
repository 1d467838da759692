#include "edgeloop/registry/gate.h"

#include <gtest/gtest.h>

#include "edgeloop/tflite/io.h"
#include "registry/test_models.h"

namespace edgeloop::registry {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(Gate, TfliteGateRunsTheReader) {
  auto gate = MakeTfliteGate([](std::span<const uint8_t> b) { return tflite::ReadModel(b).status(); });
  EXPECT_EQ(gate->name(), "tflite");
  std::string name = "m", metrics = "{}";
  std::string model = testing::TfliteModelBytes(2000, 1);
  EXPECT_TRUE(gate->Check(GateInput{name, Bytes(model), metrics}).ok());
  std::string csv = "label,f0,f1\n1,2,3\n";
  EXPECT_FALSE(gate->Check(GateInput{name, Bytes(csv), metrics}).ok());
  std::string truncated = model.substr(0, model.size() / 2);
  EXPECT_FALSE(gate->Check(GateInput{name, Bytes(truncated), metrics}).ok());
  EXPECT_FALSE(MakeTfliteGate(nullptr)->Check(GateInput{name, Bytes(model), metrics}).ok());
}

TEST(Gate, EdgeTpuGateOnlyForConfiguredNames) {
  std::string metrics = "{}";
  std::string bytes = "x";
  int calls = 0;
  auto gate = MakeEdgeTpuGate({"tpu-model"}, [&](std::span<const uint8_t>) {
    ++calls;
    return Status::InvalidArgument("op MEAN does not map");
  });
  std::string other = "cpu-model", tpu = "tpu-model";
  EXPECT_TRUE(gate->Check(GateInput{other, Bytes(bytes), metrics}).ok());
  EXPECT_EQ(calls, 0);
  Status s = gate->Check(GateInput{tpu, Bytes(bytes), metrics});
  EXPECT_NE(s.message().find("MEAN"), std::string::npos);
  EXPECT_EQ(gate->name(), "edgetpu");
  // No checker wired: configured names are refused, never waved through.
  auto closed = MakeEdgeTpuGate({"tpu-model"}, nullptr);
  EXPECT_FALSE(closed->Check(GateInput{tpu, Bytes(bytes), metrics}).ok());
  EXPECT_TRUE(closed->Check(GateInput{other, Bytes(bytes), metrics}).ok());
}

TEST(Gate, MetricFloors) {
  std::map<std::string, double> floors;
  ASSERT_TRUE(ParseMetricFloor("val_accuracy=0.9", &floors).ok());
  EXPECT_FALSE(ParseMetricFloor("val_accuracy", &floors).ok());
  EXPECT_FALSE(ParseMetricFloor("=0.9", &floors).ok());
  EXPECT_FALSE(ParseMetricFloor("x=abc", &floors).ok());
  EXPECT_FALSE(ParseMetricFloor("x=nan", &floors).ok());
  auto gate = MakeMetricFloorGate(floors);
  std::string name = "m", bytes = "x";
  struct Case {
    std::string metrics;
    bool ok;
    const char* says;
  } cases[] = {
      {R"({"val_accuracy":0.95})", true, ""},
      {R"({"val_accuracy":0.9})", true, ""},
      {R"({"val_accuracy":0.85})", false, "below the floor"},
      {R"({"val_loss":0.1})", false, "not published"},
      {R"({"val_accuracy":"high"})", false, "not a number"},
  };
  for (const Case& c : cases) {
    Status s = gate->Check(GateInput{name, Bytes(bytes), c.metrics});
    EXPECT_EQ(s.ok(), c.ok) << c.metrics;
    if (!c.ok) {
      EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    }
  }
}

}  // namespace
}  // namespace edgeloop::registry
