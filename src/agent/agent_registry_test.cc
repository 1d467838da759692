// The edgeloop-agent binary against the real registry: `edgeloop serve` as a process, set up with
// the real CLI (keys init, token create, publish, promote), and a real Mosquitto. The misbehaving
// registry cases (tampered, unsigned, expired, wrong bytes, a slow download to kill -9 into) need
// a server that lies, so they stay in agent_test.cc with test_registry.h; this file shows that the
// agent works with the server we ship: its assignment answer, its signed manifests, its artifact
// route and its device tokens.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "agent/agent_test_util.h"
#include "agent/test_models.h"
#include "edgeloop/common/env.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using namespace edgeloop::agent::testing;  // Observer, Device, kFleet, ...
using testing_support::MosquittoServer;
using testing_support::RunCommand;
using testing_support::RunResult;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A registry data directory made with the CLI and `edgeloop serve` on a free loopback port.
class RealRegistry {
 public:
  RealRegistry() : data_(dir_.Join("registry")), port_(testing_support::FreePort()) {
    RunResult keys = Cli({"keys", "init", "--data", data_});
    if (keys.exit_code != 0) throw std::runtime_error("keys init: " + keys.err);
    public_key_ = Trimmed(keys.out);
    admin_token_ = Token({"--role", "admin", "--name", "test"});
    device_token_ = Token({"--role", "device", "--device", kDevice});
    ProcessOptions o;
    o.stderr_path = dir_.Join("serve.log");
    serve_ = std::make_unique<Process>(std::vector<std::string>{BinaryPath("edgeloop"), "serve", "--data", data_,
                                                                "--listen", "127.0.0.1:" + std::to_string(port_)},
                                       o);
    if (!testing_support::WaitForPort(port_, 20000)) throw std::runtime_error("serve did not listen: " + log());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& public_key() const { return public_key_; }
  const std::string& device_token() const { return device_token_; }
  std::string log() const { return ReadAll(dir_.Join("serve.log")); }

  // `edgeloop publish` of `bytes` as the agent's model; returns the CLI's result.
  RunResult Publish(const std::string& bytes, std::vector<std::string> extra = {}) {
    const std::string path = dir_.Join("upload.tflite");
    if (!Env::Default()->WriteFileAtomic(path, bytes).ok()) throw std::runtime_error("cannot write " + path);
    std::vector<std::string> args = {"publish", path, "--name", "vibration-classifier"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Admin(args);
  }
  RunResult Admin(std::vector<std::string> args) {
    args.insert(args.end(), {"--server", url(), "--token", admin_token_});
    return Cli(args);
  }

 private:
  static RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), BinaryPath("edgeloop"));
    ProcessOptions o;
    o.env = {"EDGELOOP_SERVER=", "EDGELOOP_TOKEN=", "EDGELOOP_CA_FILE="};
    return RunCommand(args, 60000, o);
  }
  std::string Token(std::vector<std::string> args) {
    args.insert(args.begin(), {"token", "create", "--data", data_});
    RunResult r = Cli(args);
    if (r.exit_code != 0) throw std::runtime_error("token create: " + r.err);
    return Trimmed(r.out);
  }

  TempDir dir_;
  std::string data_;
  int port_;
  std::string public_key_, admin_token_, device_token_;
  std::unique_ptr<Process> serve_;
};

class AgentRealRegistry : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.Start();
    obs_ = std::make_unique<Observer>(broker_.url());
    dev_.config()["mqtt"] = {{"url", broker_.url()}};
    dev_.config()["registry"] = {{"url", registry_.url()},
                                 {"public_key", registry_.public_key()},
                                 {"poll_seconds", 1},
                                 {"token", registry_.device_token()}};
  }
  bool WaitResultVersion(int64_t version, int timeout_ms) {
    const int64_t deadline = NowMs() + timeout_ms;
    while (NowMs() < deadline) {
      for (const auto& r : obs_->results()) {
        if (r.model.version == version) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  bool WaitOta(const std::string& state, int64_t version, const std::string& reason_part = "") {
    return obs_->WaitStatus(
        [&](const mqtt::StatusMessage& s) {
          return s.ota.state == state && s.ota.version == version &&
                 s.ota.reason.find(reason_part) != std::string::npos;
        },
        20000);
  }

  MosquittoServer broker_;
  RealRegistry registry_;
  std::unique_ptr<Observer> obs_;
  Device dev_;
};

// Stable, then a canary the server assigns this device to (share 1), then a rollback of stable
// to an older version, which the device refuses (only newer versions are accepted) while the
// installed one keeps serving.
TEST_F(AgentRealRegistry, FollowsTheServersAssignmentAndRefusesAnOlderVersion) {
  RunResult v1 = registry_.Publish(test_models::MeanClassifier(false, 1), {"--channel", "stable"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  dev_.Start();
  ASSERT_TRUE(WaitResultVersion(1, 30000)) << dev_.current_log() << registry_.log();
  ASSERT_TRUE(WaitOta("installed", 1));

  RunResult v2 = registry_.Publish(test_models::MeanClassifier(false, 2), {"--channel", "canary", "--share", "1"});
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  ASSERT_TRUE(WaitResultVersion(2, 30000)) << dev_.current_log();
  ASSERT_TRUE(WaitOta("installed", 2));

  // Stable moves on to 3 and the canary is rolled back to 1 (what an operator does after a bad
  // canary): the device, assigned to the canary, is offered 1 and keeps 2.
  RunResult v3 = registry_.Publish(test_models::MeanClassifier(false, 3), {"--channel", "stable"});
  ASSERT_EQ(v3.exit_code, 0) << v3.err;
  RunResult back = registry_.Admin({"promote", "vibration-classifier", "1", "--channel", "canary", "--share", "1"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ASSERT_TRUE(WaitOta("refused", 1, "not newer")) << dev_.current_log();
  const size_t before = obs_->results().size();
  ASSERT_TRUE(obs_->WaitResults(obs_->seqs().size() + 10, 10000));
  auto rs = obs_->results();
  for (size_t i = before; i < rs.size(); ++i) EXPECT_EQ(rs[i].model.version, 2);

  // The canary moved to 3: the device takes it.
  RunResult fwd = registry_.Admin({"promote", "vibration-classifier", "3", "--channel", "canary", "--share", "1"});
  ASSERT_EQ(fwd.exit_code, 0) << fwd.err;
  ASSERT_TRUE(WaitResultVersion(3, 30000)) << dev_.current_log();
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
  auto state = json::parse(ReadAll(dev_.data_dir() + "/models/state.json"));
  EXPECT_EQ(state["current"]["version"], 3);
  EXPECT_EQ(state["previous"]["version"], 2);
}

// A token for another device is refused by the server; the agent reports it and keeps serving
// its model_file.
TEST_F(AgentRealRegistry, AWrongDeviceTokenIsReportedAndTheLocalModelKeepsServing) {
  RunResult v1 = registry_.Publish(test_models::MeanClassifier(false, 1), {"--channel", "stable"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  dev_.config()["registry"]["token"] = "elt_not-a-token";
  dev_.Start();
  ASSERT_TRUE(obs_->WaitStatus([](const mqtt::StatusMessage& s) { return s.ota.state == "failed"; }, 20000))
      << dev_.current_log();
  ASSERT_TRUE(obs_->WaitResults(20, 10000));
  for (const auto& r : obs_->results()) EXPECT_EQ(r.model.version, 0);
  dev_.Signal(SIGTERM);
  EXPECT_EQ(dev_.Wait(), 0);
  EXPECT_NE(dev_.current_log().find("401"), std::string::npos) << dev_.current_log();
}

}  // namespace
}  // namespace edgeloop::agent
