// Shared by the agent's process-level tests (test-only, header-only): an Observer that collects
// everything a device publishes (parsed with the shared message parsers) and a Device (its
// directory, model file, config and the edgeloop-agent process).
#ifndef EDGELOOP_AGENT_AGENT_TEST_UTIL_H_
#define EDGELOOP_AGENT_AGENT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/test_models.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent::testing {

using nlohmann::json;
using testing_support::BinaryPath;
using testing_support::Process;
using testing_support::ProcessOptions;
using testing_support::TempDir;

inline constexpr char kFleet[] = "plant-a";
inline constexpr char kDevice[] = "edge-001";

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Everything the device publishes, parsed with the shared message parsers.
class Observer {
 public:
  explicit Observer(const std::string& url, const std::string& id = "observer") {
    mqtt::ClientOptions o;
    o.server_uri = url;
    o.client_id = id;
    o.session_expiry_s = 3600;  // keeps what arrives while a broker restart separates us
    o.min_retry_ms = 100;
    o.max_retry_ms = 500;
    mqtt::ClientCallbacks cb;
    cb.on_connected = [this](bool) {
      std::lock_guard<std::mutex> l(mu_);
      ++connects_;
      cv_.notify_all();
    };
    cb.on_message = [this](mqtt::Message m) { OnMessage(std::move(m)); };
    client_ = mqtt::Client::Create(o, cb).value();
    EXPECT_TRUE(client_->Subscribe(std::string("edgeloop/") + kFleet + "/devices/" + kDevice + "/#", 1).ok());
    EXPECT_TRUE(client_->Connect().ok());
    std::unique_lock<std::mutex> l(mu_);
    EXPECT_TRUE(cv_.wait_for(l, std::chrono::seconds(10), [&] { return connects_ > 0; }));
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // SUBACK
  }
  // `pred` runs with the observer's lock held: it must not call the observer's accessors.
  template <typename Pred>
  bool WaitFor(Pred pred, int timeout_ms) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return pred(); });
  }
  bool WaitResults(size_t distinct, int timeout_ms = 30000) {
    return WaitFor([&] { return seqs_.size() >= distinct; }, timeout_ms);
  }
  bool WaitAlarms(size_t n, int timeout_ms = 10000) {
    return WaitFor([&] { return alarms_.size() >= n; }, timeout_ms);
  }
  // `pred` runs with the observer's lock held: it must not call the observer.
  bool WaitStatus(const std::function<bool(const mqtt::StatusMessage&)>& pred, int timeout_ms = 30000) {
    return WaitFor([&] { return std::any_of(statuses_.begin(), statuses_.end(), pred); }, timeout_ms);
  }
  std::vector<mqtt::ResultMessage> results() {
    std::lock_guard<std::mutex> l(mu_);
    return results_;
  }
  std::set<int64_t> seqs() {
    std::lock_guard<std::mutex> l(mu_);
    return seqs_;
  }
  std::vector<mqtt::AlarmMessage> alarms() {
    std::lock_guard<std::mutex> l(mu_);
    return alarms_;
  }
  std::vector<mqtt::StatusMessage> statuses() {
    std::lock_guard<std::mutex> l(mu_);
    return statuses_;
  }
  std::vector<std::string> parse_errors() {
    std::lock_guard<std::mutex> l(mu_);
    return parse_errors_;
  }

 private:
  void OnMessage(mqtt::Message m) {
    auto topic = mqtt::ParseDeviceTopic(m.topic);
    std::lock_guard<std::mutex> l(mu_);
    if (!topic.ok()) {
      parse_errors_.push_back(m.topic);
    } else if (topic->kind == mqtt::DeviceTopicKind::kResults) {
      auto r = mqtt::ResultFromJson(m.payload);
      if (r.ok()) {
        seqs_.insert(r->seq);
        results_.push_back(std::move(*r));
      } else {
        parse_errors_.push_back(r.status().message());
      }
    } else if (topic->kind == mqtt::DeviceTopicKind::kAlarms) {
      auto a = mqtt::AlarmFromJson(m.payload);
      if (a.ok()) {
        alarms_.push_back(std::move(*a));
      } else {
        parse_errors_.push_back(a.status().message());
      }
    } else {
      auto s = mqtt::StatusFromJson(m.payload);
      if (s.ok()) {
        statuses_.push_back(std::move(*s));
      } else {
        parse_errors_.push_back(s.status().message());
      }
    }
    cv_.notify_all();
  }

  std::unique_ptr<mqtt::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  int connects_ = 0;
  std::vector<mqtt::ResultMessage> results_;
  std::set<int64_t> seqs_;
  std::vector<mqtt::AlarmMessage> alarms_;
  std::vector<mqtt::StatusMessage> statuses_;
  std::vector<std::string> parse_errors_;
};

// A device: its directory, model file and config, and the agent process when running.
class Device {
 public:
  Device() {
    model_path_ = dir_.Join("model.tflite");
    std::ofstream(model_path_, std::ios::binary) << test_models::MeanClassifier(false);
    config_ = {{"device_id", kDevice},
               {"fleet", kFleet},
               {"data_dir", dir_.Join("data")},
               {"model_file", model_path_},
               {"registry", {{"url", ""}, {"poll_seconds", 0}}},
               {"source", {{"kind", "synthetic"}, {"rate_hz", 50}, {"seed", 3}}},
               {"upload", {{"random_share", 0.0}}}};
  }
  json& config() { return config_; }
  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return config_["data_dir"]; }
  std::string log_path() const { return dir_.Join("agent.log"); }
  std::string log() const { return ReadAll(log_path()); }

  void Start(std::vector<std::string> args = {}, std::vector<std::string> env = {}, std::string stdin_path = "") {
    std::ofstream(dir_.Join("agent.json")) << config_.dump(2);
    std::vector<std::string> argv = {BinaryPath("edgeloop-agent"), "--config", dir_.Join("agent.json")};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions po;
    po.stderr_path = log_path() + "." + std::to_string(++runs_);
    po.stdout_path = "/dev/null";
    po.env = std::move(env);
    po.stdin_path = std::move(stdin_path);
    current_log_ = po.stderr_path;
    process_ = std::make_unique<Process>(argv, po);
  }
  std::string current_log() const { return ReadAll(current_log_); }
  std::string all_logs() const {
    std::string all;
    for (int i = 1; i <= runs_; ++i) all += ReadAll(log_path() + "." + std::to_string(i));
    return all;
  }
  // Waits for the process to exit; returns its exit code (or -1 on timeout).
  int Wait(int timeout_ms = 30000) {
    auto rc = process_->Wait(timeout_ms);
    return rc ? *rc : -1;
  }
  void Signal(int sig) { process_->Signal(sig); }
  bool Running() { return process_ && process_->Running(); }

 private:
  TempDir dir_;
  std::string model_path_;
  json config_;
  std::unique_ptr<Process> process_;
  int runs_ = 0;
  std::string current_log_;
};

// Seqs 1..n exactly (no gap), whatever the duplicates.
inline void ExpectContiguous(const std::set<int64_t>& seqs, int64_t n) {
  ASSERT_EQ(static_cast<int64_t>(seqs.size()), n);
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), n);
}

// After a device's last run ended: every seq from 1 to the highest one seen arrived, and that is
// at least `at_least` (the last messages get half a second to come through the broker).
inline void ExpectEverySeqArrived(Observer& obs, int64_t at_least) {
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::set<int64_t> seqs = obs.seqs();
  ASSERT_FALSE(seqs.empty());
  const int64_t last = *seqs.rbegin();
  EXPECT_GE(last, at_least);
  ExpectContiguous(seqs, last);
}

}  // namespace edgeloop::agent::testing

#endif  // EDGELOOP_AGENT_AGENT_TEST_UTIL_H_
