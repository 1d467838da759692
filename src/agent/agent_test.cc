// The real edgeloop-agent binary as a process, against a real Mosquitto (test/support), a real
// registry over HTTP on loopback (test_registry.h) and real TFLite models (test_models.h):
// delivery with contiguous seqs, a broker outage, kill -9 while publishing, the spool bound,
// OTA refusals and crashes in the middle of an update, alarms, bad configs and bad input lines,
// saturation of out-of-range readings, the metrics endpoint.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "agent/agent_test_util.h"
#include "agent/test_models.h"
#include "agent/test_registry.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using namespace edgeloop::agent::testing;  // Observer, Device, kFleet, ...
using testing_support::MosquittoServer;

TEST(Agent, ResultsArriveWithContiguousSeqAndTheTutorialFields) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"]["rate_hz"] = 100;
  dev.Start({"--max-results", "200"});
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  ASSERT_TRUE(obs.WaitResults(200, 10000));
  ExpectContiguous(obs.seqs(), 200);
  EXPECT_EQ(obs.results().size(), 200u) << "no duplicates without a failure";
  EXPECT_TRUE(obs.parse_errors().empty());
  for (const auto& r : obs.results()) {
    EXPECT_EQ(r.device_id, kDevice);
    EXPECT_EQ(r.prediction, "normal");  // the synthetic source's default condition
    EXPECT_GT(r.confidence, 0.9f);
    EXPECT_EQ(r.all_scores.size(), 3u);
    EXPECT_EQ(r.raw_data.size(), 10u);
    EXPECT_TRUE(r.window.empty());  // confident, no random share
    EXPECT_EQ(r.model.name, "model");
    EXPECT_EQ(r.model.version, 0);
  }
  // The final retained status says offline, with the counters.
  ASSERT_TRUE(obs.WaitStatus([](const mqtt::StatusMessage& s) { return s.state == "offline" && s.counters_present; }));
  auto st = obs.statuses().back();
  EXPECT_EQ(st.results, 200);
  EXPECT_EQ(st.sent, 200);
  EXPECT_EQ(st.spool_depth, 0);
  EXPECT_EQ(st.dropped, 0);
}

TEST(Agent, BrokerOutageOfTenSecondsLosesNothing) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"]["rate_hz"] = 50;
  const int total = 1200;  // 24 s at 50 Hz: 10 s of it with the broker down
  dev.Start({"--max-results", std::to_string(total)});
  ASSERT_TRUE(obs.WaitResults(100, 15000));
  broker.Stop();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  broker.Start();
  ASSERT_EQ(dev.Wait(60000), 0) << dev.current_log();
  ASSERT_TRUE(obs.WaitResults(total, 20000)) << obs.seqs().size();
  ExpectContiguous(obs.seqs(), total);
  std::cerr << "duplicates: " << obs.results().size() - total << "\n";
  EXPECT_NE(dev.current_log().find("connection lost"), std::string::npos);
}

TEST(Agent, Kill9WhilePublishingLosesNothing) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"]["rate_hz"] = 200;
  dev.Start();
  ASSERT_TRUE(obs.WaitResults(300, 15000));
  dev.Signal(SIGKILL);
  dev.Wait();
  // The broker publishes the will: the device is offline.
  ASSERT_TRUE(obs.WaitStatus([](const mqtt::StatusMessage& s) { return s.state == "offline" && !s.counters_present; },
                             10000));
  dev.Start({"--max-results", "300"});
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  // Every seq from 1 to the last one arrived: those stored before the kill were sent after the
  // restart, and the new run continued the numbering instead of reusing it.
  ExpectEverySeqArrived(obs, 600);
}

// mqtt.coalesce_ms holds results (already spooled) and sends a batch at a time: a kill -9 while
// results are held, and the clean stop at --max-results, still lose nothing.
TEST(Agent, CoalescedResultsLoseNothingOnKill9OrStop) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}, {"coalesce_ms", 400}};
  dev.config()["source"]["rate_hz"] = 100;
  dev.Start();
  ASSERT_TRUE(obs.WaitResults(100, 15000));
  dev.Signal(SIGKILL);
  dev.Wait();
  dev.Start({"--max-results", "150"});  // fewer than one batch's wait at the end: the stop sends it
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  ExpectEverySeqArrived(obs, 250);
}

TEST(Agent, SpoolBoundDropsTheOldestAndCountsThem) {
  MosquittoServer broker;  // not started: the device is offline
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"]["rate_hz"] = 500;
  dev.config()["spool"] = {{"max_bytes", 65536}};
  const int total = 1000;  // about 400 bytes each: far more than 64 KiB
  dev.Start({"--max-results", std::to_string(total)});
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();

  broker.Start();
  Observer obs(broker.url());
  std::string fifo = dev.dir() + "/idle.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  dev.config()["source"] = {{"kind", "file"}, {"path", fifo}};  // no new windows: only the spool drains
  dev.Start();
  ASSERT_TRUE(obs.WaitStatus([](const mqtt::StatusMessage& s) { return s.spool_depth == 0 && s.dropped > 0; }))
      << [&] {
           std::string all;
           for (const auto& s : obs.statuses()) {
             all += s.state + " depth=" + std::to_string(s.spool_depth) + " dropped=" + std::to_string(s.dropped) + "\n";
           }
           return all + dev.current_log();
         }();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  dev.Signal(SIGTERM);
  ASSERT_EQ(dev.Wait(), 0);
  std::set<int64_t> seqs = obs.seqs();
  ASSERT_FALSE(seqs.empty());
  // What arrived is the newest, without a gap; what did not is exactly the dropped count.
  EXPECT_EQ(*seqs.rbegin(), total);
  EXPECT_EQ(static_cast<int64_t>(seqs.size()), *seqs.rbegin() - *seqs.begin() + 1);
  auto last = obs.statuses().back();
  EXPECT_EQ(last.dropped, total - static_cast<int64_t>(seqs.size()));
  EXPECT_GT(last.dropped, 500);
}

TEST(Agent, OutOfRangeReadingsSaturateInsteadOfWrapping) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  std::string int8_model = dev.dir() + "/int8.tflite";
  std::ofstream(int8_model, std::ios::binary) << test_models::MeanClassifier(true);
  dev.config()["model_file"] = int8_model;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"] = {{"kind", "stdin"}};
  std::string input = dev.dir() + "/in.txt";
  {
    std::ofstream in(input);
    auto line = [&](const std::string& v) {
      for (int i = 0; i < 128; ++i) in << (i ? "," : "") << v;
      in << "\n";
    };
    line("1e30");    // far above the uint8 input range [0, 5]: must read as 5.0 -> failure
    line("-1e30");   // far below: 0.0 -> normal
    line("1e39");    // beyond float: saturates too
    line("0.5");     // an ordinary normal window
    line("1.2");     // an ordinary warning window
  }
  dev.Start({}, {}, input);
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  ASSERT_TRUE(obs.WaitResults(5, 10000));
  auto rs = obs.results();
  std::map<int64_t, std::string> by_seq;
  for (const auto& r : rs) by_seq[r.seq] = r.prediction;
  EXPECT_EQ(by_seq[1], "failure");
  EXPECT_EQ(by_seq[2], "normal");
  EXPECT_EQ(by_seq[3], "failure");
  EXPECT_EQ(by_seq[4], "normal");
  EXPECT_EQ(by_seq[5], "warning");
}

// Windows chosen for retraining carry all their readings: every low-confidence one, and a seeded
// random share of the confident ones (the same seed picks the same windows).
TEST(Agent, LowConfidenceAndASeededRandomShareCarryTheWholeWindow) {
  MosquittoServer broker;
  broker.Start();
  auto run = [&](int seed) {
    Observer obs(broker.url(), "observer-" + std::to_string(seed) + "-" + std::to_string(NowMs()));
    Device dev;
    dev.config()["mqtt"] = {{"url", broker.url()}};
    dev.config()["source"] = {{"kind", "stdin"}, {"seed", seed}};
    dev.config()["upload"] = {{"low_confidence", 0.6}, {"random_share", 0.25}};
    std::string input = dev.dir() + "/in.txt";
    {
      std::ofstream in(input);
      for (int w = 0; w < 200; ++w) {
        // Every 10th window sits halfway between normal (0.5) and warning (1.2): confidence ~0.5.
        const char* v = w % 10 == 9 ? "0.85" : "0.5";
        for (int i = 0; i < 128; ++i) in << (i ? "," : "") << v;
        in << "\n";
      }
    }
    dev.Start({}, {}, input);
    EXPECT_EQ(dev.Wait(), 0) << dev.current_log();
    EXPECT_TRUE(obs.WaitResults(200, 10000));
    std::set<int64_t> random_picks;
    for (const auto& r : obs.results()) {
      if (r.confidence < 0.6f) {
        EXPECT_EQ(r.seq % 10, 0) << "only the ambiguous windows are unsure";
        EXPECT_EQ(r.window.size(), 128u) << "seq " << r.seq;
        EXPECT_FLOAT_EQ(r.window[0], 0.85f);
      } else if (!r.window.empty()) {
        EXPECT_EQ(r.window.size(), 128u);
        random_picks.insert(r.seq);
      }
    }
    return random_picks;
  };
  std::set<int64_t> a = run(11), b = run(11), c = run(12);
  // 180 confident windows at a share of 0.25: about 45 (a binomial 99.9 % range is 24..68).
  EXPECT_GT(a.size(), 20u);
  EXPECT_LT(a.size(), 75u);
  EXPECT_EQ(a, b) << "the same seed must pick the same windows";
  EXPECT_NE(a, c) << "another seed picks others";
}

TEST(Agent, BadSourceLinesAreCountedAndNamed) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"] = {{"kind", "stdin"}};
  std::string input = dev.dir() + "/in.txt";
  {
    std::ofstream in(input);
    std::string good;
    for (int i = 0; i < 128; ++i) good += (i ? ",0.5" : "0.5");
    in << good << "\n";
    in << "0.5,0.5,oops\n";                       // line 2: column 3
    in << "[" << good << "]\n";                   // line 3: JSON list form
    in << "1,2,3\n";                              // line 4: wrong size
    in << good << "\n";
  }
  dev.Start({}, {}, input);
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  ASSERT_TRUE(obs.WaitResults(3, 10000));
  std::string log = dev.current_log();
  EXPECT_NE(log.find("stdin:2: column 3: 'oops' is not a number"), std::string::npos) << log;
  EXPECT_NE(log.find("stdin:4: expected 128 readings, got 3"), std::string::npos) << log;
  ASSERT_TRUE(obs.WaitStatus([](const mqtt::StatusMessage& s) { return s.state == "offline" && s.counters_present; }));
  EXPECT_EQ(obs.statuses().back().bad_inputs, 2);
  EXPECT_EQ(obs.statuses().back().results, 3);
}

TEST(Agent, BadConfigsAreClearErrors) {
  struct Case {
    std::function<void(json&)> mutate;
    const char* expect;
  };
  const Case cases[] = {
      {[](json& c) { c["mqtt"]["urll"] = "x"; }, "mqtt.urll: unknown key"},
      {[](json& c) { c["source"]["rate_hz"] = "fast"; }, "source.rate_hz: must be a number, got a string"},
      {[](json& c) { c.erase("device_id"); }, "device_id: missing"},
      {[](json& c) { c["mqtt"]["url"] = "tcp//broker"; }, "mqtt.url: 'tcp//broker' must start with"},
      {[](json& c) { c["registry"]["url"] = "http://"; }, "registry.url: 'http://' has no host"},
  };
  for (const Case& c : cases) {
    Device dev;
    c.mutate(dev.config());
    dev.Start();
    EXPECT_EQ(dev.Wait(), 2);
    // The file, then the key path.
    const std::string where = dev.dir() + "/agent.json: ";
    EXPECT_NE(dev.current_log().find(where + c.expect), std::string::npos) << dev.current_log();
  }
  {
    // Not JSON at all: the file, the line and the column.
    Device dev;
    const std::string path = dev.dir() + "/broken.json";
    std::ofstream(path) << "{\n  \"device_id\": \"edge-001\",\n  \"fleet\": plant-a\n}\n";
    auto r = testing_support::RunCommand({BinaryPath("edgeloop-agent"), "--config", path});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(path + ": not valid JSON"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 3, column"), std::string::npos) << r.err;
  }
  Device dev;
  auto r = testing_support::RunCommand({BinaryPath("edgeloop-agent"), "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  r = testing_support::RunCommand({BinaryPath("edgeloop-agent"), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--config"), std::string::npos);
  EXPECT_NE(r.out.find("--max-results"), std::string::npos);
  EXPECT_NE(r.out.find("--metrics-listen"), std::string::npos);
}

TEST(Agent, AlarmRaisesClearsAndRunsTheCommand) {
  MosquittoServer broker;
  broker.Start();
  Observer obs(broker.url());
  Device dev;
  std::string out = dev.dir() + "/alarm.log";
  dev.config()["mqtt"] = {{"url", broker.url()}};
  dev.config()["source"]["rate_hz"] = 50;
  dev.config()["source"]["schedule"] = json::array({{{"after_s", 1}, {"condition", "failure"}},
                                                    {{"after_s", 2}, {"condition", "normal"}}});
  dev.config()["alarm"] = {{"label", "failure"}, {"threshold", 0.8}, {"n", 3}, {"m", 5},
                           {"command", "echo \"$EDGELOOP_ALARM_EVENT $EDGELOOP_ALARM_LABEL $EDGELOOP_ALARM_DEVICE\" >> " + out}};
  dev.Start({"--max-results", "200"});
  ASSERT_EQ(dev.Wait(), 0) << dev.current_log();
  ASSERT_TRUE(obs.WaitAlarms(2));
  auto alarms = obs.alarms();
  EXPECT_EQ(alarms[0].event, mqtt::AlarmEvent::kRaised);
  EXPECT_EQ(alarms[0].seq, 1);
  EXPECT_EQ(alarms[0].count, 3);
  EXPECT_EQ(alarms[1].event, mqtt::AlarmEvent::kCleared);
  EXPECT_EQ(alarms[1].seq, 2);
  EXPECT_EQ(alarms[1].count, 0);
  // Failure windows are alarm windows: their full window is attached for retraining.
  auto rs = obs.results();
  auto raised_at = std::find_if(rs.begin(), rs.end(), [&](auto& r) { return r.seq == alarms[0].result_seq; });
  ASSERT_NE(raised_at, rs.end());
  EXPECT_EQ(raised_at->prediction, "failure");
  EXPECT_EQ(raised_at->window.size(), 128u);
  EXPECT_EQ(raised_at->window_reason, mqtt::UploadReason::kAlarm);
  for (int i = 0; i < 50 && ReadAll(out).size() < 2 * 22; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ReadAll(out), "raised failure edge-001\ncleared failure edge-001\n");
}

TEST(Agent, MetricsEndpoint) {
  MosquittoServer broker;
  broker.Start();
  Device dev;
  dev.config()["mqtt"] = {{"url", broker.url()}};
  int port = testing_support::FreePort();
  dev.Start({"--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(testing_support::WaitForPort(port, 10000));
  std::string body;
  for (int i = 0; i < 50; ++i) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/metrics");
    ASSERT_TRUE(r);
    body = r->body;
    if (body.find("edgeloop_agent_uptime_seconds 1") != std::string::npos) break;  // one housekeeping round
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const char* m : {"edgeloop_agent_inference_seconds_bucket", "edgeloop_agent_results_total", "edgeloop_agent_sent_total",
                        "edgeloop_agent_dropped_total", "edgeloop_agent_spool_depth", "edgeloop_agent_overruns_total",
                        "edgeloop_agent_model_version", "edgeloop_agent_uptime_seconds", "edgeloop_agent_mqtt_connected"}) {
    EXPECT_NE(body.find(m), std::string::npos) << m << "\n" << body;
  }
  dev.Signal(SIGTERM);
  EXPECT_EQ(dev.Wait(), 0);
}

// ---- OTA ------------------------------------------------------------------------------------------

class AgentOta : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.Start();
    obs_ = std::make_unique<Observer>(broker_.url());
    dev_.config()["mqtt"] = {{"url", broker_.url()}};
    dev_.config()["registry"] = {{"url", registry_.url()},  {"public_key", registry_.public_key()},
                                 {"poll_seconds", 1},        {"token", "device-token"}};
  }
  // Waits until results with `version` arrive.
  bool WaitResultVersion(int64_t version, int timeout_ms) {
    int64_t deadline = NowMs() + timeout_ms;
    while (NowMs() < deadline) {
      for (const auto& r : obs_->results()) {
        if (r.model.version == version) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  bool WaitOta(const std::string& state, int64_t version, const std::string& reason_part = "",
               int timeout_ms = 20000) {
    return obs_->WaitStatus(
        [&](const mqtt::StatusMessage& s) {
          return s.ota.state == state && s.ota.version == version &&
                 s.ota.reason.find(reason_part) != std::string::npos;
        },
        timeout_ms);
  }
  size_t ResultCount() { return obs_->results().size(); }

  MosquittoServer broker_;
  testing::TestRegistry registry_;
  std::unique_ptr<Observer> obs_;
  Device dev_;
};

TEST_F(AgentOta, InstallsASignedNewerModelAndRefusesEveryBadOneWhileTheOldKeepsServing) {
  registry_.Publish(1, test_models::MeanClassifier(false, 1));
  dev_.Start();
  ASSERT_TRUE(WaitResultVersion(1, 20000)) << dev_.current_log();
  ASSERT_TRUE(WaitOta("installed", 1));

  struct BadCase {
    const char* what;
    int64_t version;
    std::string bytes;
    testing::TestRegistry::PublishOptions options;
    const char* reason;
  };
  std::string good2 = test_models::MeanClassifier(false, 2);
  std::string truncated = good2.substr(0, good2.size() / 2);
  testing::TestRegistry::PublishOptions tampered, unsigned_, expired, wrong_hash, other_model, lying_size;
  tampered.tamper = true;
  unsigned_.sign = false;
  expired.expired = true;
  wrong_hash.serve_bytes = test_models::MeanClassifier(false, 9);  // same size, other bytes
  other_model.name = "some-other-model";
  lying_size.declared_size = static_cast<int64_t>(good2.size()) + 100;
  std::vector<BadCase> cases = {
      {"tampered", 2, good2, tampered, "signature"},
      {"unsigned", 3, good2, unsigned_, "signature"},
      {"older", 0, "", {}, "not newer"},  // filled in below
      {"expired", 4, good2, expired, "expired"},
      {"truncated", 5, truncated, {}, "load"},
      {"wrong hash", 6, good2, wrong_hash, "sha256"},
      {"wrong size", 7, good2, lying_size, "bytes"},
      {"other model", 8, good2, other_model, "some-other-model"},
  };
  for (BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    if (std::string(c.what) == "older") {
      // A validly signed version 1 with other bytes: not newer than the installed 1.
      registry_.Publish(1, test_models::MeanClassifier(false, 7));
      ASSERT_TRUE(WaitOta("refused", 1, c.reason)) << dev_.current_log();
      continue;
    }
    registry_.Publish(c.version, c.bytes, c.options);
    ASSERT_TRUE(WaitOta("refused", c.version, c.reason)) << dev_.current_log();
    // The old model keeps serving.
    size_t before = ResultCount();
    ASSERT_TRUE(obs_->WaitResults(obs_->seqs().size() + 10, 10000));
    auto rs = obs_->results();
    ASSERT_GT(rs.size(), before);
    for (size_t i = before; i < rs.size(); ++i) EXPECT_EQ(rs[i].model.version, 1) << c.what;
  }
  // And a good one after all that is installed.
  registry_.Publish(9, good2);
  ASSERT_TRUE(WaitResultVersion(9, 20000)) << dev_.current_log();
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
  // The installed model survives a restart, with the previous one kept.
  std::string state = ReadAll(dev_.data_dir() + "/models/state.json");
  auto j = json::parse(state);
  EXPECT_EQ(j["current"]["version"], 9);
  EXPECT_EQ(j["previous"]["version"], 1);
}

TEST_F(AgentOta, PushedManifestOnTheRetainedTopicIsInstalled) {
  dev_.config()["registry"]["poll_seconds"] = 0;  // only the push
  dev_.Start();
  ASSERT_TRUE(obs_->WaitResults(10));
  std::string manifest = registry_.Publish(3, test_models::MeanClassifier(false, 3));
  mqtt::ClientOptions o;
  o.server_uri = broker_.url();
  o.client_id = "registry-push";
  mqtt::ClientCallbacks cb;
  std::atomic<bool> up{false};
  cb.on_connected = [&](bool) { up = true; };
  auto pub = mqtt::Client::Create(o, cb).value();
  ASSERT_TRUE(pub->Connect().ok());
  for (int i = 0; i < 100 && !up; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(pub->Publish(mqtt::ModelTopic(kFleet, "vibration-classifier", "stable"), manifest, 1, true, 0).ok());
  ASSERT_TRUE(WaitResultVersion(3, 20000)) << dev_.current_log();
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
}

TEST_F(AgentOta, Kill9DuringDownloadResumesWithRange) {
  std::string v2 = test_models::MeanClassifier(false, 2);
  ASSERT_GT(v2.size(), 1500u);
  registry_.SetThrottle(200);  // bytes per second: the first 1 KiB arrives after ~5 s
  registry_.Publish(2, v2);
  dev_.Start();
  // Wait until part of the artifact is on disk, then kill the agent.
  std::string partial = dev_.data_dir() + "/models/partial/" + registry::Sha256Hex(v2) + ".part";
  int64_t deadline = NowMs() + 30000;
  std::error_code ec;
  while (NowMs() < deadline && !(std::filesystem::exists(partial, ec) && std::filesystem::file_size(partial, ec) > 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(std::filesystem::file_size(partial, ec), 0u) << dev_.current_log();
  ASSERT_LT(std::filesystem::file_size(partial, ec), v2.size());
  dev_.Signal(SIGKILL);
  dev_.Wait();
  // Meanwhile it ran the local model.
  for (const auto& r : obs_->results()) EXPECT_EQ(r.model.version, 0);
  registry_.SetThrottle(0);
  dev_.Start();
  ASSERT_TRUE(WaitResultVersion(2, 30000)) << dev_.current_log();
  // The second download continued where the first stopped.
  bool resumed = false;
  for (const std::string& r : registry_.ranges()) resumed |= r.rfind("bytes=", 0) == 0 && r != "bytes=0-";
  EXPECT_TRUE(resumed);
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
}

// A crash at each step of the swap: after restarting, the agent runs the old or the new model,
// never a broken one, and ends up on the new one.
TEST_F(AgentOta, Kill9DuringTheSwapNeverLeavesABrokenModel) {
  int64_t version = 1;
  for (const char* point : {"ota-after-download", "ota-after-rename", "ota-after-commit"}) {
    SCOPED_TRACE(point);
    ++version;
    registry_.Publish(version, test_models::MeanClassifier(false, static_cast<int>(version)));
    dev_.Start({}, {std::string("EDGELOOP_TEST_CRASH_POINT=") + point});
    EXPECT_EQ(dev_.Wait(30000), 128 + SIGKILL) << dev_.current_log();
    size_t before = obs_->results().size();
    dev_.Start();
    ASSERT_TRUE(obs_->WaitResults(obs_->seqs().size() + 5, 20000)) << dev_.current_log();
    auto rs = obs_->results();
    for (size_t i = before; i < rs.size(); ++i) {
      // The model it runs is one that works: the one before the update or the new one.
      EXPECT_TRUE(rs[i].model.version == (version == 2 ? 0 : version - 1) || rs[i].model.version == version)
          << rs[i].model.version;
    }
    ASSERT_TRUE(WaitResultVersion(version, 20000)) << dev_.current_log();
    dev_.Signal(SIGTERM);
    ASSERT_EQ(dev_.Wait(), 0);
  }
}

TEST_F(AgentOta, ACorruptedInstalledModelFallsBackToThePreviousOne) {
  registry_.Publish(1, test_models::MeanClassifier(false, 1));
  dev_.Start();
  ASSERT_TRUE(WaitResultVersion(1, 20000));
  registry_.Publish(2, test_models::MeanClassifier(false, 2));
  ASSERT_TRUE(WaitResultVersion(2, 20000));
  dev_.Signal(SIGTERM);
  ASSERT_EQ(dev_.Wait(), 0);
  // Flip bytes in the current file, as a bad flash sector would.
  auto state = json::parse(ReadAll(dev_.data_dir() + "/models/state.json"));
  std::string current = dev_.data_dir() + "/models/" + state["current"]["file"].get<std::string>();
  {
    std::fstream f(current, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("\xff\xff\xff\xff", 4);
  }
  dev_.config()["registry"]["url"] = "";  // nothing to re-download it from
  size_t before = obs_->results().size();
  dev_.Start();
  ASSERT_TRUE(obs_->WaitResults(obs_->seqs().size() + 5, 20000)) << dev_.current_log();
  auto rs = obs_->results();
  for (size_t i = before; i < rs.size(); ++i) EXPECT_EQ(rs[i].model.version, 1);
  EXPECT_NE(dev_.current_log().find("unusable"), std::string::npos);
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
}

}  // namespace
}  // namespace edgeloop::agent
