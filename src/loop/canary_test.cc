// The canary verdict on a real registry server (serve over loopback) and a real SQLite store:
// a canary with more device errors, with dead letters, with failed installs, with slower inference,
// or with a confidence distribution shifted lower (at the same mean) is rolled back; a healthy one
// (whose results include preempted outliers, like stable's) is promoted.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>

#include "edgeloop/loop/retrain.h"
#include "edgeloop/registry/client.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::loop {
namespace {

using testing_support::BinaryPath;
using testing_support::RunCommand;
using testing_support::TempDir;

class CanaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = dir_.Join("data");
    Run({"keys", "init", "--data", data});
    auto tok = RunCommand({BinaryPath("edgeloop"), "token", "create", "--data", data, "--role", "admin", "--name", "t"});
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    token_ = tok.out.substr(0, tok.out.find('\n'));
    const int port = testing_support::FreePort();
    testing_support::ProcessOptions po;
    po.stdout_path = dir_.Join("serve.log");
    po.stderr_path = "stdout";
    serve_ = std::make_unique<testing_support::Process>(
        std::vector<std::string>{BinaryPath("edgeloop"), "serve", "--data", data, "--listen",
                                 "127.0.0.1:" + std::to_string(port)},
        po);
    ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
    url_ = "http://127.0.0.1:" + std::to_string(port);
    client_ = std::move(registry::RegistryClient::Create({url_, token_, "", 30})).value();
    Run({"data", "generate", "--kind", "gaussian", "--samples", "40", "--seed", "3", "-o", dir_.Join("tiny.csv")});
    Run({"train", dir_.Join("tiny.csv"), "--epochs", "1", "--seed", "1", "-o", model_});
    ASSERT_EQ(Publish("stable"), 1);
    auto st = store::Store::Open(dir_.Join("s.db"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
  }
  void TearDown() override {
    if (serve_) {
      serve_->Signal(SIGTERM);
      serve_->Wait(20000);
    }
  }
  void Run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinaryPath("edgeloop")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, 300000);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  int64_t Publish(const std::string& channel) {
    registry::PublishOptions po;
    po.channel = channel;
    if (channel == "canary") po.share = 0.5;
    auto m = client_->PublishFile("vib", model_, po);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? nlohmann::json::parse(*m)["version"].get<int64_t>() : 0;
  }
  // `confidences` cycle over n results of `device` on `version`, from time t.
  void Results(const std::string& device, int64_t version, std::vector<float> confidences, int n, int64_t t,
               double inference_ms = 0.05) {
    store::Batch b;
    for (int i = 0; i < n; ++i) {
      store::StoredResult sr;
      sr.fleet = "f";
      sr.msg.device_id = device;
      sr.msg.seq = ++seq_[device];
      sr.msg.timestamp_ms = t + i;
      sr.msg.prediction = "normal";
      sr.msg.confidence = confidences[static_cast<size_t>(i) % confidences.size()];
      sr.msg.inference_ms = i % 10 == 0 ? 5.0 : inference_ms;  // every tenth one preempted
      sr.msg.model = {"vib", version};
      b.results.push_back(sr);
    }
    ASSERT_TRUE(store_->Write(b, nullptr).ok());
  }
  void StatusOf(const std::string& device, int64_t version, int64_t spool_errors, int64_t t,
                const std::string& ota_state = "installed") {
    store::Batch b;
    store::StoredStatus s;
    s.fleet = "f";
    s.msg.device_id = device;
    s.msg.timestamp_ms = t;
    s.msg.model = {"vib", version};
    s.msg.ota = {ota_state, ota_state == "failed" ? failed_version_ : version, ota_state == "failed" ? "install: bad bytes" : ""};
    s.msg.spool_errors = spool_errors;
    s.received_ms = t;
    b.statuses.push_back(s);
    ASSERT_TRUE(store_->Write(b, nullptr).ok());
  }
  store::RetrainDecision Check(int64_t since) {
    CanaryOptions o;
    o.server_url = url_;
    o.token = token_;
    o.since_ms = since;
    o.min_results = 50;
    auto d = CheckCanary(*store_, o);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : store::RetrainDecision{};
  }
  int64_t Channel(const std::string& channel) { return client_->GetChannel("vib", channel)->version; }

  TempDir dir_;
  std::string token_, url_, model_ = dir_.Join("m.tflite");
  std::unique_ptr<testing_support::Process> serve_;
  std::unique_ptr<registry::RegistryClient> client_;
  std::unique_ptr<store::Store> store_;
  std::map<std::string, int64_t> seq_;
  int64_t failed_version_ = 0;  // the version a "failed" status is about
};

TEST_F(CanaryTest, MoreDeviceErrorsRollBack) {
  const int64_t v = Publish("canary"), t = 1'000'000;
  Results("stable-a", 1, {0.9f}, 100, t);
  StatusOf("stable-a", 1, 0, t);
  StatusOf("stable-a", 1, 0, t + 200);
  Results("canary-a", v, {0.9f}, 100, t);
  StatusOf("canary-a", v, 5, t);
  StatusOf("canary-a", v, 35, t + 200);  // 30 messages it could not spool while on the canary
  auto d = Check(t);
  EXPECT_EQ(d.decision, "rolled_back") << d.reason;
  EXPECT_NE(d.reason.find("errors: 0.3000/result > stable 0.0000/result"), std::string::npos) << d.reason;
  EXPECT_EQ(d.reason.find("confidence: mean"), std::string::npos) << d.reason;
  EXPECT_EQ(Channel("canary"), 1);  // the canary devices are back on stable's version
}

TEST_F(CanaryTest, DeadLettersFromCanaryDevicesRollBack) {
  const int64_t v = Publish("canary"), t = 2'000'000;
  Results("stable-b", 1, {0.9f}, 100, t);
  Results("canary-b", v, {0.9f}, 100, t);
  store::Batch b;
  for (int i = 0; i < 10; ++i) {
    b.dead_letters.push_back({0, "edgeloop/f/devices/canary-b/results", "{", "malformed JSON", t + 50 + i});
  }
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  auto d = Check(t);
  EXPECT_EQ(d.decision, "rolled_back") << d.reason;
  EXPECT_NE(d.reason.find("errors: 0.1000/result"), std::string::npos) << d.reason;
}

TEST_F(CanaryTest, FailedInstallsRollBack) {
  const int64_t v = Publish("canary"), t = 3'000'000;
  Results("stable-c", 1, {0.9f}, 100, t);
  Results("canary-c", v, {0.9f}, 100, t);
  failed_version_ = v;
  StatusOf("canary-c2", 1, 0, t + 10, "failed");  // still on v1: the canary would not install
  auto d = Check(t);
  EXPECT_EQ(d.decision, "rolled_back") << d.reason;
  EXPECT_NE(d.reason.find("ota: 1 devices failed to install v" + std::to_string(v) + " (e.g. canary-c2)"),
            std::string::npos)
      << d.reason;
}

TEST_F(CanaryTest, ALowerConfidenceDistributionRollsBackAtTheSameMean) {
  const int64_t v = Publish("canary"), t = 4'000'000;
  Results("stable-d", 1, {0.9f}, 100, t);
  Results("canary-d", v, {0.99f, 0.81f}, 100, t);  // mean 0.90, but half the results far less sure
  auto d = Check(t);
  EXPECT_EQ(d.decision, "rolled_back") << d.reason;
  EXPECT_NE(d.reason.find("distribution: 0.5000 of the canary's results moved to lower confidence > 0.2000"),
            std::string::npos)
      << d.reason;
  EXPECT_EQ(d.reason.find("confidence: mean"), std::string::npos) << d.reason;
}

TEST_F(CanaryTest, ASlowerCanaryRollsBack) {
  const int64_t v = Publish("canary"), t = 6'000'000;
  Results("stable-f", 1, {0.9f}, 100, t, 0.05);
  Results("canary-f", v, {0.9f}, 100, t, 0.2);
  auto d = Check(t);
  EXPECT_EQ(d.decision, "rolled_back") << d.reason;
  EXPECT_NE(d.reason.find("latency: median 0.2000 ms > stable 0.0500 ms x 1.50"), std::string::npos) << d.reason;
}

TEST_F(CanaryTest, AHealthyCanaryIsPromotedAndAnEarlyOneHeld) {
  const int64_t v = Publish("canary"), t = 5'000'000;
  Results("stable-e", 1, {0.9f, 0.8f}, 100, t);
  StatusOf("stable-e", 1, 2, t);
  StatusOf("stable-e", 1, 3, t + 100);
  Results("canary-e", v, {0.95f, 0.85f}, 20, t);
  auto held = Check(t);
  EXPECT_EQ(held.decision, "held") << held.reason;
  Results("canary-e", v, {0.95f, 0.85f}, 80, t + 20);
  StatusOf("canary-e", v, 0, t);
  StatusOf("canary-e", v, 0, t + 100);
  auto d = Check(t);
  EXPECT_EQ(d.decision, "promoted") << d.reason;
  EXPECT_EQ(Channel("stable"), v);
  auto all = store_->RetrainDecisions(10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].decision, "promoted");
}

}  // namespace
}  // namespace edgeloop::loop
