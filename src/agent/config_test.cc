#include "agent/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

TEST(AgentConfig, MinimalGetsDefaults) {
  auto c = ParseAgentConfig(R"({"device_id": "edge-001"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->device_id, "edge-001");
  EXPECT_EQ(c->fleet, "default");
  EXPECT_EQ(c->data_dir, "/var/lib/edgeloop/edge-001");
  EXPECT_EQ(c->mqtt.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(c->mqtt.coalesce_ms, 1000);  // a second's results sent together
  EXPECT_EQ(c->registry.url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->registry.model, "vibration-classifier");
  EXPECT_EQ(c->registry.channel, "stable");
  EXPECT_EQ(c->registry.poll_seconds, 30);
  EXPECT_EQ(c->source.kind, SourceKind::kSynthetic);
  EXPECT_EQ(c->source.rate_hz, 10);
  EXPECT_EQ(c->alarm.label, "failure");
  EXPECT_EQ(c->alarm.threshold, 0.8);
  EXPECT_EQ(c->alarm.n, 3);
  EXPECT_EQ(c->alarm.m, 5);
  EXPECT_EQ(c->upload.low_confidence, 0.6);
  EXPECT_EQ(c->upload.random_share, 0.01);
  EXPECT_EQ(c->spool.max_bytes, 104857600);
  EXPECT_EQ(c->spool.max_age_hours, 168);
}

TEST(AgentConfig, TheDocumentedExampleParses) {
  testing_support::TempDir dir;
  const std::string key(64, 'a');
  std::string text = R"({ "device_id": "edge-001", "fleet": "plant-a", "data_dir": ")" + dir.Join("d") + R"(",
    "mqtt": { "url": "tcp://127.0.0.1:1883", "username": "", "password": "", "ca_file": "" },
    "registry": { "url": "http://127.0.0.1:8080", "token": "", "public_key": ")" + key + R"(",
                  "model": "vibration-classifier", "channel": "stable", "poll_seconds": 30 },
    "model_file": "",
    "source": { "kind": "synthetic", "rate_hz": 10, "seed": 1, "path": "",
                "schedule": [ { "after_s": 60, "condition": "warning" },
                              { "after_s": 120, "condition": "failure", "drift_per_hour": 0.5 } ] },
    "alarm": { "label": "failure", "threshold": 0.8, "n": 3, "m": 5, "command": "" },
    "upload": { "low_confidence": 0.6, "random_share": 0.01 },
    "spool": { "max_bytes": 104857600, "max_age_hours": 168 } })";
  auto c = ParseAgentConfig(text);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->fleet, "plant-a");
  ASSERT_EQ(c->source.schedule.size(), 2u);
  EXPECT_EQ(c->source.schedule[1].condition, "failure");
  EXPECT_EQ(c->source.schedule[1].drift_per_hour, 0.5);
  EXPECT_EQ(c->registry.public_key, key);
}

// Every case must fail with a message that contains `expect` (the key path and the problem).
TEST(AgentConfig, BadConfigsNameTheKey) {
  struct Case {
    const char* json;
    const char* expect;
  };
  const Case cases[] = {
      {R"({})", "device_id: missing"},
      {R"({"device_id": 7})", "device_id: must be a string"},
      {R"({"device_id": "a/b"})", "device_id: 'a/b' may contain only"},
      {R"({"device_id": ""})", "device_id: must not be empty"},
      {R"({"device_id": "d", "devcie": 1})", "devcie: unknown key"},
      {R"({"device_id": "d", "mqtt": {"urll": "tcp://x:1"}})", "mqtt.urll: unknown key"},
      {R"({"device_id": "d", "mqtt": {"url": "htp://x:1"}})", "mqtt.url: 'htp://x:1' must start with tcp://"},
      {R"({"device_id": "d", "mqtt": {"url": "tcp://:1883"}})", "mqtt.url: 'tcp://:1883' has no host"},
      {R"({"device_id": "d", "mqtt": {"url": "tcp://h:99999"}})", "mqtt.url: 'tcp://h:99999' has an invalid port"},
      {R"({"device_id": "d", "mqtt": {"url": "tcp://h:1/x"}})", "must not have a path"},
      {R"({"device_id": "d", "mqtt": "tcp://h"})", "mqtt: must be an object"},
      {R"({"device_id": "d", "mqtt": {"ca_file": "/etc/hostname"}})", "mqtt.ca_file: is set but url"},
      {R"({"device_id": "d", "mqtt": {"url": "ssl://h:8883", "ca_file": "/nonexistent/ca.pem"}})",
       "mqtt.ca_file: '/nonexistent/ca.pem' cannot be read"},
      {R"({"device_id": "d", "registry": {"url": "ftp://x"}})", "registry.url: 'ftp://x' must start with http://"},
      {R"({"device_id": "d", "registry": {"public_key": "abc"}})", "registry.public_key: must be 64 hex digits"},
      {R"({"device_id": "d", "registry": {"poll_seconds": -1}})", "registry.poll_seconds: must be in [0, 86400]"},
      {R"({"device_id": "d", "mqtt": {"coalesce_ms": 60001}})", "mqtt.coalesce_ms: must be in [0, 60000]"},
      {R"({"device_id": "d", "registry": {"poll_seconds": 1.5}})", "registry.poll_seconds: must be a whole number"},
      {R"({"device_id": "d", "registry": {"poll_seconds": "30"}})", "registry.poll_seconds: must be a number"},
      {R"({"device_id": "d", "registry": {"channel": "sta ble"}})", "registry.channel:"},
      {R"({"device_id": "d", "model_file": "/nonexistent.tflite"})", "model_file: '/nonexistent.tflite' cannot be read"},
      {R"({"device_id": "d", "source": {"kind": "camera"}})", "source.kind: 'camera' must be synthetic, csv, stdin or file"},
      {R"({"device_id": "d", "source": {"rate_hz": 0}})", "source.rate_hz: must be in (0, 1000]"},
      {R"({"device_id": "d", "source": {"kind": "csv"}})", "source.path: is required for the csv source"},
      {R"({"device_id": "d", "source": {"kind": "file"}})", "source.path: is required for the file source"},
      {R"({"device_id": "d", "source": {"kind": "csv", "path": "/nonexistent.csv"}})", "source.path: '/nonexistent.csv' cannot be read"},
      {R"({"device_id": "d", "source": {"schedule": [{"after_s": 5}]}})", "source.schedule[0].condition: missing"},
      {R"({"device_id": "d", "source": {"schedule": [{"after_s": 5, "condition": "on fire"}]}})",
       "source.schedule[0].condition: 'on fire' must be normal, warning or failure"},
      {R"({"device_id": "d", "source": {"schedule": [{"after_s": 9, "condition": "normal"}, {"after_s": 5, "condition": "normal"}]}})",
       "source.schedule[1]: after_s must not be smaller"},
      {R"({"device_id": "d", "source": {"schedule": [{"after_s": 1, "condition": "normal", "x": 1}]}})",
       "source.schedule[0].x: unknown key"},
      {R"({"device_id": "d", "source": {"kind": "stdin", "schedule": []}})", ""},
      {R"({"device_id": "d", "alarm": {"threshold": 1.5}})", "alarm.threshold: must be in [0, 1]"},
      {R"({"device_id": "d", "alarm": {"n": 6, "m": 5}})", "alarm.n: 6 windows out of m = 5 can never happen"},
      {R"({"device_id": "d", "alarm": {"m": 0}})", "alarm.m: must be in [1, 1000]"},
      {R"({"device_id": "d", "upload": {"random_share": -0.1}})", "upload.random_share: must be in [0, 1]"},
      {R"({"device_id": "d", "spool": {"max_bytes": 10}})", "spool.max_bytes: must be in [65536,"},
      {R"({"device_id": "d", "spool": {"max_age_hours": 0}})", "spool.max_age_hours: must be in (0, 87600]"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"device_id": "d",)", "not valid JSON"},
  };
  for (const Case& c : cases) {
    auto r = ParseAgentConfig(c.json, "agent.json");
    if (std::string(c.expect).empty()) {
      EXPECT_TRUE(r.ok()) << c.json << ": " << r.status().ToString();
      continue;
    }
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.json << "\n  expected: " << c.expect << "\n  got: " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("agent.json: ", 0), 0u) << r.status().message();
  }
}

TEST(AgentConfig, LoadNamesTheFile) {
  auto r = LoadAgentConfig("/nonexistent/agent.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/agent.json"), std::string::npos);
  testing_support::TempDir dir;
  std::ofstream(dir.Join("a.json")) << R"({"device_id": "x", "bogus": true})";
  r = LoadAgentConfig(dir.Join("a.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), dir.Join("a.json") + ": bogus: unknown key");
}

}  // namespace
}  // namespace edgeloop::agent
