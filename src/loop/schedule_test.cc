// `edgeloop serve --retrain-every 1s` end to end on loopback: real Mosquitto, the server with its
// in-process collector and a real SQLite store. A run without a stable model is recorded as a
// failed decision and the server keeps serving; once a champion is stable the scheduler retrains,
// publishes the better candidate to canary, and after the canary period (results arriving over
// MQTT) promotes it. Every decision is read back through GET /v1/retrain/decisions.
#include "edgeloop/loop/schedule.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/registry/client.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::loop {
namespace {

using testing_support::BinaryPath;
using testing_support::RunCommand;
using testing_support::TempDir;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadLog(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
}

void Edgeloop(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("edgeloop")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunCommand(argv, 300000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(ParseDuration, UnitsAndErrors) {
  EXPECT_EQ(*ParseDurationMs("6h"), 6 * 3600 * 1000);
  EXPECT_EQ(*ParseDurationMs("30m"), 30 * 60 * 1000);
  EXPECT_EQ(*ParseDurationMs("1s"), 1000);
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("2d"), 2 * 86400 * 1000);
  for (const char* bad : {"", "6", "h", "-1h", "0s", "1.5h", "6 h", "6w"}) {
    auto r = ParseDurationMs(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos) << r.status().message();
  }
}

TEST(ServeRetrainEvery, RecordsAFailureThenRetrainsCanariesAndPromotes) {
  TempDir dir;
  testing_support::MosquittoServer broker;
  broker.Start();
  const std::string data = dir.Join("data");
  Edgeloop({"keys", "init", "--data", data});
  auto tok = RunCommand({BinaryPath("edgeloop"), "token", "create", "--data", data, "--role", "admin", "--name", "t"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string token = tok.out.substr(0, tok.out.find('\n'));
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "800", "--seed", "1", "-o", dir.Join("orig.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "300", "--seed", "2", "-o", dir.Join("golden.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "40", "--seed", "3", "-o", dir.Join("tiny.csv")});
  Edgeloop({"train", dir.Join("tiny.csv"), "--epochs", "1", "--seed", "1", "-o", dir.Join("champion.tflite")});

  const int port = testing_support::FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  testing_support::ProcessOptions po;
  po.stdout_path = dir.Join("serve.log");
  po.stderr_path = "stdout";
  testing_support::Process serve(
      {BinaryPath("edgeloop"), "serve", "--data", data, "--listen", "127.0.0.1:" + std::to_string(port), "--db",
       "sqlite:" + dir.Join("store.db"), "--mqtt", broker.url(), "--retrain-every", "1s", "--retrain-model", "vib",
       "--retrain-data", dir.Join("orig.csv"), "--retrain-golden", dir.Join("golden.csv"), "--retrain-margin", "0.001",
       "--retrain-epochs", "8", "--canary-period", "1s", "--canary-min-results", "20", "--canary-share", "0.5"},
      po);
  ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
  httplib::Client http("127.0.0.1", port);
  http.set_bearer_token_auth(token);
  // Waits until a decision of this kind is listed; returns it (null on timeout).
  std::string last;
  auto wait_decision = [&](const std::string& kind, int timeout_s) -> nlohmann::json {
    for (int i = 0; i < timeout_s * 5; ++i) {
      auto res = http.Get("/v1/retrain/decisions?limit=100");
      if (res && res->status == 200) {
        const auto body = nlohmann::json::parse(res->body);
        for (const auto& d : body["decisions"]) {
          if (d["decision"] == kind) return d;
        }
      }
      last = res ? std::to_string(res->status) + " " + res->body.substr(0, 300) : "no answer: " + httplib::to_string(res.error());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "no '" << kind << "' decision; last answer: " << last;
    return nullptr;
  };

  // 1. No stable model yet: the run fails, is recorded with the reason, the server lives on.
  auto failed = wait_decision("failed", 30);
  ASSERT_FALSE(failed.is_null()) << "no failed decision; serve.log:\n" << ReadLog(dir.Join("serve.log"));
  EXPECT_NE(failed["reason"].get<std::string>().find("no stable version of model 'vib'"), std::string::npos)
      << failed.dump();
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // 2. A weak champion goes stable (v1): the next run beats it and publishes v2 to canary.
  auto client = std::move(registry::RegistryClient::Create({url, token, "", 30})).value();
  registry::PublishOptions pub;
  pub.channel = "stable";
  ASSERT_TRUE(client->PublishFile("vib", dir.Join("champion.tflite"), pub).ok());
  auto canary = wait_decision("published_canary", 240);
  ASSERT_FALSE(canary.is_null()) << "no canary published; serve.log:\n" << ReadLog(dir.Join("serve.log"));
  EXPECT_EQ(canary["champion_version"], 1);
  EXPECT_EQ(canary["candidate_version"], 2);
  EXPECT_GT(canary["candidate_accuracy"].get<double>(), canary["champion_accuracy"].get<double>());
  EXPECT_EQ(client->GetChannel("vib", "canary")->version, 2);

  // 3. The canary period: a canary device and a stable device report over MQTT, alike.
  mqtt::ClientOptions mo;
  mo.server_uri = broker.url();
  mo.client_id = "devices";
  mo.clean_start = true;
  mo.max_inflight = 1000;  // 80 QoS 1 publishes in a burst
  auto devices = std::move(mqtt::Client::Create(mo, {})).value();
  ASSERT_TRUE(devices->Connect().ok());  // asynchronous
  for (int i = 0; i < 400 && !devices->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(devices->connected());
  const int64_t t0 = WallMs();
  for (int i = 1; i <= 40; ++i) {
    for (auto [dev, version] : {std::pair<const char*, int64_t>{"press-1", 1}, {"press-2", 2}}) {
      mqtt::ResultMessage m;
      m.device_id = dev;
      m.seq = i;
      m.timestamp_ms = t0 + i;
      m.prediction = "normal";
      m.confidence = 0.9f;
      m.all_scores = {{"normal", 0.9f}, {"fault", 0.1f}};
      m.inference_ms = 0.05;
      m.model = {"vib", version};
      auto sent = devices->Publish(mqtt::ResultsTopic("default", dev), mqtt::ResultToJson(m), 1, false, 0);
      ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    }
  }
  auto promoted = wait_decision("promoted", 60);
  ASSERT_FALSE(promoted.is_null()) << "canary not promoted; serve.log:\n" << ReadLog(dir.Join("serve.log"));
  EXPECT_EQ(promoted["candidate_version"], 2);
  EXPECT_NE(promoted["reason"].get<std::string>().find("canary v2: 40 results"), std::string::npos) << promoted.dump();
  EXPECT_EQ(client->GetChannel("vib", "stable")->version, 2);
  (void)devices->Disconnect(2000);

  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(120000).value_or(-1), 0);
}

// `edgeloop retrain --schedule` is the same scheduler as its own process: a run with no stable
// model is recorded in the store it was given, and SIGTERM stops it cleanly.
TEST(RetrainSchedule, RunsAsItsOwnProcessAndRecordsFailedRuns) {
  TempDir dir;
  const std::string data = dir.Join("data");
  Edgeloop({"keys", "init", "--data", data});
  auto tok = RunCommand({BinaryPath("edgeloop"), "token", "create", "--data", data, "--role", "admin", "--name", "t"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string token = tok.out.substr(0, tok.out.find('\n'));
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "100", "--seed", "1", "-o", dir.Join("orig.csv")});
  const int port = testing_support::FreePort();
  testing_support::ProcessOptions po;
  po.stdout_path = dir.Join("serve.log");
  po.stderr_path = "stdout";
  testing_support::Process serve({BinaryPath("edgeloop"), "serve", "--data", data, "--listen",
                                  "127.0.0.1:" + std::to_string(port)},
                                 po);
  ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
  po.stdout_path = dir.Join("retrain.log");
  testing_support::Process retrain({BinaryPath("edgeloop"), "retrain", "--schedule", "1s", "--server",
                                    "http://127.0.0.1:" + std::to_string(port), "--token", token, "--db",
                                    dir.Join("s.db"), "--data", dir.Join("orig.csv"), "--golden", dir.Join("orig.csv"),
                                    "--work", dir.Join("work"), "--model", "pump"},
                                   po);
  std::vector<store::RetrainDecision> ds;
  for (int i = 0; i < 100 && ds.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto st = store::Store::Open(dir.Join("s.db"));
    if (!st.ok()) continue;
    auto got = (*st)->RetrainDecisions(10);
    if (got.ok()) ds = *got;
  }
  ASSERT_FALSE(ds.empty()) << ReadLog(dir.Join("retrain.log"));
  EXPECT_EQ(ds[0].decision, "failed");
  EXPECT_EQ(ds[0].model, "pump");
  EXPECT_NE(ds[0].reason.find("no stable version of model 'pump'"), std::string::npos) << ds[0].reason;
  retrain.Signal(SIGTERM);
  EXPECT_EQ(retrain.Wait(30000).value_or(-1), 0) << ReadLog(dir.Join("retrain.log"));
  serve.Signal(SIGTERM);
  serve.Wait(20000);
}

}  // namespace
}  // namespace edgeloop::loop
