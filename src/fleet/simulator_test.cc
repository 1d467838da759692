// The fleet simulator against real Mosquitto (and, for OTA, the real `edgeloop serve`): nothing
// lost across a broker restart, accuracy accounted, canary assignment as the registry decides,
// rollout on promote, forged manifests refused.
#include "edgeloop/fleet/simulator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/test_models.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/registry/api_types.h"
#include "edgeloop/registry/manifest.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::fleet {
namespace {

using testing_support::MosquittoServer;
using testing_support::Process;
using testing_support::RunCommand;
using testing_support::TempDir;

const std::string kBin = std::string(EDGELOOP_BIN_DIR) + "/edgeloop";

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  ASSERT_TRUE(f.good()) << path;
}

template <typename F>
bool WaitFor(F pred, int timeout_ms) {
  for (int i = 0; i < timeout_ms / 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// A fleet on `broker` running the mean classifier (written into `dir`) on the tutorial's gaussian
// windows, which it separates almost perfectly.
SimulatorOptions MeanClassifierFleet(const MosquittoServer& broker, const TempDir& dir, const std::string& fleet) {
  SimulatorOptions o;
  o.model_file = dir.Join("model.tflite");
  WriteFile(o.model_file, agent::test_models::MeanClassifier(/*int8=*/true));
  o.mqtt_url = broker.url();
  o.pool_kind = "gaussian";
  o.fleet = fleet;
  return o;
}

TEST(FleetSimulator, NothingLostAcrossABrokerRestartAndAccuracyIsCounted) {
  MosquittoServer broker("max_queued_messages 0\n");
  broker.Start();
  TempDir dir;
  SimulatorOptions o = MeanClassifierFleet(broker, dir, "t1");
  o.devices = 40;
  o.rate_hz = 20;
  o.connections = 3;
  auto sim = Simulator::Create(o);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  ASSERT_TRUE((*sim)->Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  broker.Stop();  // devices keep producing into their spools
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_GT((*sim)->Snapshot().spool_depth, 0);
  broker.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  SimulatorReport r = (*sim)->Stop(20000);
  EXPECT_GT(r.produced, 40 * 20 * 3);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.distinct, r.produced);
  EXPECT_EQ(r.spool_depth, 0);
  ASSERT_EQ(r.rollouts.size(), 1u);
  EXPECT_EQ(r.rollouts[0].version, 0);
  EXPECT_EQ(r.rollouts[0].devices, 40);
  ASSERT_EQ(r.accuracy.size(), 1u);
  // The mean classifier separates the tutorial's gaussian classes almost perfectly.
  EXPECT_GT(static_cast<double>(r.accuracy[0].correct) / static_cast<double>(r.accuracy[0].windows), 0.95);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
}

// Mosquitto announces max_inflight_messages as its Receive Maximum: each connection's window is
// then 3 messages, so devices hold messages back and are pumped as PUBACKs free slots. Nothing
// may be lost or stuck. (wire_client_test checks that the window follows the CONNACK.)
TEST(FleetSimulator, NothingLostThroughASmallReceiveMaximum) {
  MosquittoServer broker("max_queued_messages 0\nmax_inflight_messages 3\n");
  broker.Start();
  TempDir dir;
  SimulatorOptions o = MeanClassifierFleet(broker, dir, "t3");
  o.devices = 30;
  o.rate_hz = 50;
  o.connections = 2;
  o.max_inflight = 64;
  auto sim = Simulator::Create(o);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  ASSERT_TRUE((*sim)->Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  SimulatorReport r = (*sim)->Stop(20000);
  EXPECT_GT(r.produced, 30 * 50);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.duplicates, 0);  // no reconnect, so nothing was sent twice
  EXPECT_EQ(r.distinct, r.produced);
  EXPECT_EQ(r.spool_depth, 0);
}

TEST(FleetSimulator, RejectsBadOptions) {
  SimulatorOptions o;
  o.mqtt_url = "tcp://127.0.0.1:1";
  o.devices = 0;
  EXPECT_NE(Simulator::Create(o).status().message().find("--devices"), std::string::npos);
  o.devices = 2;
  EXPECT_NE(Simulator::Create(o).status().message().find("--registry"), std::string::npos);
  o.registry_url = "http://127.0.0.1:1";
  EXPECT_NE(Simulator::Create(o).status().message().find("--public-key"), std::string::npos);
  o.registry_url = "";
  o.model_file = "/nonexistent/model.tflite";
  EXPECT_NE(Simulator::Create(o).status().message().find("/nonexistent/model.tflite"), std::string::npos);
  o.mqtt_url = "ssl://127.0.0.1:8883";
  o.model_file = "";
  o.registry_url = "http://127.0.0.1:1";
  o.public_key = "00";
  EXPECT_NE(Simulator::Create(o).status().message().find("tcp://host:port"), std::string::npos);
}

class FleetOta : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.Start();
    data_ = dir_.Join("registry");
    auto keys = RunCommand({kBin, "keys", "init", "--data", data_});
    ASSERT_EQ(keys.exit_code, 0) << keys.err;
    public_key_ = keys.out.substr(0, keys.out.find('\n'));
    auto tok = RunCommand({kBin, "token", "create", "--data", data_, "--role", "admin", "--name", "t"});
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    token_ = tok.out;
    while (!token_.empty() && (token_.back() == '\n')) token_.pop_back();
    token_ = token_.substr(token_.rfind('\n') + 1);
    port_ = testing_support::FreePort();
    server_ = std::make_unique<Process>(std::vector<std::string>{kBin, "serve", "--data", data_, "--listen",
                                                                 "127.0.0.1:" + std::to_string(port_)});
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    ASSERT_TRUE(WaitFor([&] { return Cli({"models", "list"}).exit_code == 0; }, 10000));
    for (int v = 1; v <= 2; ++v) WriteFile(dir_.Join("v" + std::to_string(v)), agent::test_models::MeanClassifier(true, v));
  }
  testing_support::RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    args.push_back("--server");
    args.push_back(url_);
    args.push_back("--token");
    args.push_back(token_);
    return RunCommand(args);
  }

  MosquittoServer broker_{"max_queued_messages 0\n"};
  TempDir dir_;
  std::string data_, public_key_, token_, url_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

TEST_F(FleetOta, CanaryShareThenPromoteRollsOutAndForgedPushesAreRefused) {
  ASSERT_EQ(Cli({"publish", dir_.Join("v1"), "--name", "vib", "--channel", "stable"}).exit_code, 0);
  SimulatorOptions o;
  o.devices = 60;
  o.rate_hz = 10;
  o.mqtt_url = broker_.url();
  o.registry_url = url_;
  o.token = token_;
  o.public_key = public_key_;
  o.model = "vib";
  o.fleet = "t2";
  o.poll_seconds = 30;  // the test pokes the poll itself
  o.pool_kind = "gaussian";
  auto sim = Simulator::Create(o);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  ASSERT_TRUE((*sim)->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return (*sim)->DevicesOnVersion(1) == 60; }, 15000));

  // v2 on canary for 30%: exactly the devices the registry's bucket rule puts there.
  auto pub = Cli({"publish", dir_.Join("v2"), "--name", "vib", "--channel", "canary", "--share", "0.3"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  int expected = 0;
  char id[32];
  for (int i = 1; i <= 60; ++i) {
    std::snprintf(id, sizeof(id), "sim-%05d", i);
    expected += registry::InCanary(registry::CanaryBucket("vib", id), 0.3);
  }
  ASSERT_GT(expected, 0);
  (*sim)->PollNow();
  EXPECT_TRUE(WaitFor([&] { return (*sim)->DevicesOnVersion(2) == expected; }, 15000))
      << (*sim)->DevicesOnVersion(2) << " vs " << expected;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ((*sim)->DevicesOnVersion(2), expected);

  // A forged v3 pushed on the stable topic: the signature does not verify, nobody installs it.
  registry::Manifest forged;
  forged.name = "vib";
  forged.version = 3;
  forged.sha256 = std::string(64, 'a');
  forged.size = 10;
  forged.created = "2026-01-01T00:00:00Z";
  forged.expires = "2099-01-01T00:00:00Z";
  forged.signature = std::string(128, '0');
  {
    mqtt::ClientOptions co;
    co.server_uri = broker_.url();
    co.client_id = "forger";
    auto c = mqtt::Client::Create(co, {});
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Connect().ok());
    ASSERT_TRUE(WaitFor([&] { return (*c)->connected(); }, 5000));
    ASSERT_TRUE((*c)->Publish("edgeloop/t2/models/vib/stable", registry::ManifestToJson(forged), 1, true, 1).ok());
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& e : (*sim)->Snapshot().errors) {
        if (e.find("refused v3: signature") != std::string::npos) return true;
      }
      return false;
    }, 5000));
    (void)(*c)->Disconnect(1000);
  }
  EXPECT_EQ((*sim)->DevicesOnVersion(3), 0);

  // Promote v2 to stable: every device runs it.
  ASSERT_EQ(Cli({"promote", "vib", "2", "--channel", "stable"}).exit_code, 0);
  (*sim)->PollNow();
  EXPECT_TRUE(WaitFor([&] { return (*sim)->DevicesOnVersion(2) == 60; }, 15000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // every device classifies with v2
  SimulatorReport r = (*sim)->Stop(20000);
  EXPECT_EQ(r.lost, 0);
  bool v2_complete = false;
  for (const auto& ro : r.rollouts) v2_complete |= ro.version == 2 && ro.devices == 60 && ro.complete_ms > 0;
  EXPECT_TRUE(v2_complete);
}

}  // namespace
}  // namespace edgeloop::fleet
