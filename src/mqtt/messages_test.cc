#include "edgeloop/mqtt/messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mqtt/json_writer.h"
#include "mqtt/messages_test_util.h"

namespace edgeloop::mqtt {
namespace {

TEST(Topics, BuildAndParse) {
  EXPECT_EQ(ResultsTopic("plant-a", "edge-001"), "edgeloop/plant-a/devices/edge-001/results");
  EXPECT_EQ(AlarmsTopic("plant-a", "edge-001"), "edgeloop/plant-a/devices/edge-001/alarms");
  EXPECT_EQ(StatusTopic("plant-a", "edge-001"), "edgeloop/plant-a/devices/edge-001/status");
  EXPECT_EQ(ModelTopic("plant-a", "vibration-classifier", "stable"),
            "edgeloop/plant-a/models/vibration-classifier/stable");
  EXPECT_EQ(SharedSubscription("collectors", ResultsTopic("+", "+")),
            "$share/collectors/edgeloop/+/devices/+/results");

  auto p = ParseDeviceTopic("edgeloop/plant-a/devices/edge-001/alarms");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->fleet, "plant-a");
  EXPECT_EQ(p->device, "edge-001");
  EXPECT_EQ(p->kind, DeviceTopicKind::kAlarms);
  for (const char* bad : {"", "edgeloop", "edgeloop/a/devices/b", "edgeloop/a/devices/b/results/x",
                          "other/a/devices/b/results", "edgeloop/a/models/b/results", "edgeloop/a/devices/b/foo",
                          "edgeloop//devices/b/results", "edgeloop/a/devices/+/results"}) {
    EXPECT_FALSE(ParseDeviceTopic(bad).ok()) << bad;
  }
}

TEST(Topics, ValidateName) {
  EXPECT_TRUE(ValidateName("device_id", "edge-001").ok());
  EXPECT_TRUE(ValidateName("device_id", "A.b_c-9").ok());
  for (const char* bad : {"", ".hidden", "a/b", "a+b", "a#", "a b", "ünï"}) {
    Status st = ValidateName("device_id", bad);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("device_id"), std::string::npos) << st.message();
  }
  EXPECT_FALSE(ValidateName("x", std::string(kMaxNameLength + 1, 'a')).ok());
}

TEST(ResultMessage, RoundTripWithoutWindow) {
  ResultMessage m = SampleResult();
  std::string json = ResultToJson(m);
  // The tutorial's fields are all there, with its names.
  auto j = nlohmann::json::parse(json);
  for (const char* k : {"device_id", "timestamp", "prediction", "confidence", "inference_ms", "raw_data", "all_scores",
                        "seq", "model"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_FALSE(j.contains("window"));
  EXPECT_EQ(j["all_scores"]["failure"].get<double>(), 0.9140625);
  auto back = ResultFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->device_id, m.device_id);
  EXPECT_EQ(back->seq, 42);
  EXPECT_EQ(back->timestamp_ms, m.timestamp_ms);
  EXPECT_EQ(back->prediction, "failure");
  EXPECT_EQ(back->confidence, m.confidence);
  EXPECT_EQ(back->all_scores, m.all_scores);
  EXPECT_EQ(back->model.name, "vibration-classifier");
  EXPECT_EQ(back->model.version, 3);
  EXPECT_EQ(back->raw_data, m.raw_data);  // shortest float form round-trips exactly
  EXPECT_TRUE(back->window.empty());
  EXPECT_EQ(back->window_reason, UploadReason::kNone);
}

TEST(ResultMessage, RoundTripWithWindow) {
  ResultMessage m = SampleResult();
  for (int i = 0; i < 128; ++i) m.window.push_back(0.5f + 0.001f * static_cast<float>(i));
  m.window_reason = UploadReason::kLowConfidence;
  auto back = ResultFromJson(ResultToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->window, m.window);
  EXPECT_EQ(back->window_reason, UploadReason::kLowConfidence);
}

TEST(ResultMessage, FloatsAreShort) {
  ResultMessage m = SampleResult();
  m.raw_data = {0.1f};
  std::string json = ResultToJson(m);
  EXPECT_NE(json.find("\"raw_data\":[0.1]"), std::string::npos) << json;
}

// Each case breaks one field; the error must name it.
TEST(ResultMessage, ErrorsNameTheField) {
  struct Case {
    const char* field;
    std::function<void(nlohmann::json&)> mutate;
  };
  const std::vector<Case> cases = {
      {"device_id", [](auto& j) { j.erase("device_id"); }},
      {"device_id", [](auto& j) { j["device_id"] = "a/b"; }},
      {"device_id", [](auto& j) { j["device_id"] = 7; }},
      {"seq", [](auto& j) { j["seq"] = 0; }},
      {"seq", [](auto& j) { j["seq"] = 1.5; }},
      {"seq", [](auto& j) { j["seq"] = "1"; }},
      {"timestamp", [](auto& j) { j["timestamp"] = -1; }},
      {"prediction", [](auto& j) { j["prediction"] = "unknown"; }},
      {"confidence", [](auto& j) { j["confidence"] = 1.5; }},
      {"confidence", [](auto& j) { j["confidence"] = nullptr; }},
      {"all_scores", [](auto& j) { j["all_scores"] = nlohmann::json::array(); }},
      {"all_scores", [](auto& j) { j["all_scores"] = nlohmann::json::object(); }},
      {"all_scores.normal", [](auto& j) { j["all_scores"]["normal"] = -0.1; }},
      {"all_scores.normal", [](auto& j) { j["all_scores"]["normal"] = "x"; }},
      {"inference_ms", [](auto& j) { j["inference_ms"] = -3; }},
      {"model", [](auto& j) { j["model"] = "v1"; }},
      {"model.version", [](auto& j) { j["model"]["version"] = -2; }},
      {"model.name", [](auto& j) { j["model"]["name"] = 5; }},
      {"raw_data", [](auto& j) { j["raw_data"] = std::vector<int>(11, 1); }},
      {"raw_data[1]", [](auto& j) { j["raw_data"][1] = "x"; }},
      {"raw_data[2]", [](auto& j) { j["raw_data"][2] = 1e300; }},
      {"window", [](auto& j) { j["window"] = 5; }},
      {"window_reason", [](auto& j) { j["window"] = {1.0, 2.0}; }},
      {"window_reason", [](auto& j) {
         j["window"] = {1.0, 2.0};
         j["window_reason"] = "because";
       }},
  };
  for (const Case& c : cases) {
    auto j = nlohmann::json::parse(ResultToJson(SampleResult()));
    c.mutate(j);
    auto r = ResultFromJson(j.dump());
    ASSERT_FALSE(r.ok()) << c.field << ": " << j.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("'") + c.field + "'"), std::string::npos)
        << "expected field " << c.field << " in: " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("result: ", 0), 0u) << r.status().message();
  }
}

TEST(ResultMessage, UnknownFieldsAreIgnored) {
  auto j = nlohmann::json::parse(ResultToJson(SampleResult()));
  j["added_by_a_newer_agent"] = {1, 2, 3};
  EXPECT_TRUE(ResultFromJson(j.dump()).ok());
}

TEST(ResultMessage, HostileInputIsRejected) {
  for (std::string bad : {std::string(""), std::string("null"), std::string("[]"), std::string("{"),
                          std::string("{\"device_id\":\"a\"}"), std::string(100, '['), std::string("\xff\xfe"),
                          std::string("{\"seq\":1e999}")}) {
    auto r = ResultFromJson(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  std::string huge(kMaxPayloadBytes + 1, ' ');
  auto r = ResultFromJson(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds"), std::string::npos);
}

TEST(AlarmMessage, RoundTripAndErrors) {
  AlarmMessage a;
  a.device_id = "edge-001";
  a.seq = 7;
  a.timestamp_ms = 1764000000000;
  a.event = AlarmEvent::kCleared;
  a.label = "failure";
  a.score = 0.125f;
  a.threshold = 0.8f;
  a.count = 0;
  a.n = 3;
  a.m = 5;
  a.result_seq = 99;
  a.model = {"vibration-classifier", 2};
  auto back = AlarmFromJson(AlarmToJson(a));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->event, AlarmEvent::kCleared);
  EXPECT_EQ(back->seq, 7);
  EXPECT_EQ(back->threshold, 0.8f);
  EXPECT_EQ(back->n, 3);
  EXPECT_EQ(back->m, 5);
  EXPECT_EQ(back->result_seq, 99);

  auto j = nlohmann::json::parse(AlarmToJson(a));
  j["event"] = "exploded";
  auto r = AlarmFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'event'"), std::string::npos) << r.status().message();
  j = nlohmann::json::parse(AlarmToJson(a));
  j["n"] = 6;  // n > m
  r = AlarmFromJson(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'n'"), std::string::npos) << r.status().message();
}

TEST(StatusMessage, RoundTripAndWill) {
  StatusMessage s;
  s.device_id = "edge-001";
  s.timestamp_ms = 1764000000000;
  s.agent_version = "0.1.0";
  s.model = {"vibration-classifier", 4};
  s.ota = {"refused", 5, "signature does not verify"};
  s.alarm_active = true;
  s.uptime_s = 60;
  s.results = 600;
  s.sent = 590;
  s.dropped = 3;
  s.spool_depth = 10;
  s.overruns = 1;
  s.inference_ms_p50 = 0.01;
  auto back = StatusFromJson(StatusToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->state, "online");
  EXPECT_EQ(back->ota.state, "refused");
  EXPECT_EQ(back->ota.reason, "signature does not verify");
  EXPECT_EQ(back->dropped, 3);
  EXPECT_EQ(back->spool_depth, 10);
  EXPECT_TRUE(back->alarm_active);
  EXPECT_TRUE(back->counters_present);

  StatusMessage will;
  will.device_id = "edge-001";
  will.state = "offline";
  will.counters_present = false;
  std::string json = StatusToJson(will);
  EXPECT_EQ(json, R"({"device_id":"edge-001","state":"offline"})");
  auto w = StatusFromJson(json);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->state, "offline");
  EXPECT_FALSE(w->counters_present);

  auto bad = StatusFromJson(R"({"device_id":"edge-001","state":"sleeping"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'state'"), std::string::npos);
}

TEST(JsonWriter, EscapesAndReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01\xc3\xa9\xff", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
  auto j = nlohmann::json::parse(out);  // valid JSON
  EXPECT_TRUE(j.is_string());
  JsonWriter w;
  w.BeginObject().Key("x").Float(std::numeric_limits<float>::quiet_NaN()).Key("y").FloatArray(std::vector<float>{})
      .EndObject();
  EXPECT_EQ(w.str(), R"({"x":null,"y":[]})");
}

}  // namespace
}  // namespace edgeloop::mqtt
