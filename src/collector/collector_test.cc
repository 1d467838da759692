// The collector against a real Mosquitto and real SQLite / PostgreSQL stores: end to end, kill -9
// of the collector process mid-stream, two collectors on one shared subscription, dead letters.
#include "edgeloop/collector/collector.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/store/store.h"
#include "collector/test_publisher.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::collector {
namespace {

using namespace std::chrono_literals;
using testing_support::BinaryPath;
using testing_support::MosquittoServer;
using testing_support::PostgresServer;
using testing_support::Process;
using testing_support::ProcessOptions;
using testing_support::TempDir;

std::string ResultJson(const std::string& dev, int64_t seq, bool window = false) {
  mqtt::ResultMessage m;
  m.device_id = dev;
  m.seq = seq;
  m.timestamp_ms = 1700000000000 + seq * 100;
  m.prediction = seq % 7 == 0 ? "failure" : "normal";
  m.confidence = 0.875f;
  m.all_scores = {{"normal", m.prediction == "normal" ? 0.875f : 0.125f},
                  {"failure", m.prediction == "failure" ? 0.875f : 0.125f}};
  m.inference_ms = 0.02;
  m.model = {"vib", 1};
  m.raw_data = {0.1f, 0.2f, 0.3f};
  if (window) {
    m.window.assign(32, 0.5f);
    m.window_reason = mqtt::UploadReason::kRandom;
  }
  return mqtt::ResultToJson(m);
}

// "d<n>" (built without operator+, which trips GCC 12's -Wrestrict false positive).
std::string Dev(int n) {
  std::string s = "d";
  s += std::to_string(n);
  return s;
}

template <typename F>
bool WaitFor(F pred, int ms) {
  for (int i = 0; i < ms / 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

int64_t Count(store::Store& s) {
  auto n = s.CountResults("");
  return n.ok() ? *n : -1;
}

TEST(Collector, EndToEndWithDeadLettersSqlite) {
  MosquittoServer broker;
  broker.Start();
  TempDir dir;
  auto st = store::Store::Open(dir.Join("s.db"));
  ASSERT_TRUE(st.ok());
  CollectorOptions o;
  o.mqtt_url = broker.url();
  o.client_id = "c-e2e";
  o.journal_dir = dir.Join("journal");
  auto c = Collector::Create(o, st->get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return (*c)->connected(); }, 10000));
  std::this_thread::sleep_for(300ms);  // SUBACK
  Publisher pub(broker.url());
  for (int d = 0; d < 5; ++d) {
    for (int s = 1; s <= 100; ++s) pub.Publish(mqtt::ResultsTopic("plant1", "dev" + std::to_string(d)), ResultJson("dev" + std::to_string(d), s, s % 10 == 0));
  }
  // Malformed: not JSON, a bad field, a device id that does not match the topic, a bad topic level.
  pub.Publish(mqtt::ResultsTopic("plant1", "dev0"), "{not json");
  pub.Publish(mqtt::ResultsTopic("plant1", "dev0"), R"({"device_id":"dev0","seq":-4})");
  pub.Publish(mqtt::ResultsTopic("plant1", "dev0"), ResultJson("dev9", 1));
  pub.Publish(mqtt::AlarmsTopic("plant1", "dev1"), R"({"device_id":"dev1"})");
  // One alarm, and a redelivery of it.
  mqtt::AlarmMessage a;
  a.device_id = "dev1";
  a.seq = 1;
  a.timestamp_ms = 1700000000500;
  a.label = "failure";
  a.score = 0.9f;
  a.threshold = 0.8f;
  a.count = 3;
  a.n = 3;
  a.m = 5;
  a.result_seq = 5;
  a.model = {"vib", 1};
  pub.Publish(mqtt::AlarmsTopic("plant1", "dev1"), mqtt::AlarmToJson(a));
  pub.Publish(mqtt::AlarmsTopic("plant1", "dev1"), mqtt::AlarmToJson(a));
  ASSERT_TRUE(pub.WaitAcked());
  ASSERT_TRUE(WaitFor([&] { return (*c)->received() >= 506; }, 30000)) << (*c)->received();
  ASSERT_TRUE(WaitFor([&] { return Count(**st) == 500 && (*c)->dead_letters() == 4; }, 10000))
      << Count(**st) << " " << (*c)->dead_letters();
  EXPECT_EQ((*c)->duplicates(), 1);  // the second alarm
  auto dl = (*st)->DeadLetters(10);
  ASSERT_EQ(dl->size(), 4u);
  bool saw_mismatch = false, saw_json = false;
  for (const auto& d : *dl) {
    saw_mismatch |= d.reason.find("does not match the topic") != std::string::npos;
    saw_json |= d.payload == "{not json";
  }
  EXPECT_TRUE(saw_mismatch);
  EXPECT_TRUE(saw_json);
  auto devs = (*st)->Devices();
  ASSERT_EQ(devs->size(), 5u);
  EXPECT_EQ((*devs)[1].alarms_open, 1);
  EXPECT_EQ((*devs)[1].results, 100);
  std::string metrics = (*c)->metrics().RenderText();
  EXPECT_NE(metrics.find("edgeloop_collector_dead_letters_total 4"), std::string::npos) << metrics;
  (*c)->Stop();
}

// kill -9 of the collector process while results stream in, then a restart: every published
// result is stored exactly once.
void KillAndRestart(const std::string& db_url) {
  MosquittoServer broker;
  broker.Start();
  TempDir dir;
  auto st = store::Store::Open(db_url);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::vector<std::string> argv = {BinaryPath("edgeloop"), "collect", "--mqtt", broker.url(), "--db", db_url,
                                   "--client-id", "c-kill", "--journal", dir.Join("journal"), "--batch", "500"};
  ProcessOptions po;
  po.stdout_path = dir.Join("collect.log");
  po.stderr_path = "stdout";
  auto proc = std::make_unique<Process>(argv, po);
  // The first start creates the persistent session; wait until it is subscribed.
  Publisher probe(broker.url(), "probe");
  probe.Publish(mqtt::ResultsTopic("f", "probe"), ResultJson("probe", 1));
  ASSERT_TRUE(WaitFor([&] {
    probe.Publish(mqtt::ResultsTopic("f", "probe"), ResultJson("probe", 1));
    return Count(**st) >= 1;
  }, 20000));
  constexpr int kDevices = 20, kPerDevice = 1500;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    Publisher pub(broker.url());
    for (int s = 1; s <= kPerDevice; ++s) {
      for (int d = 0; d < kDevices; ++d) pub.Publish(mqtt::ResultsTopic("f", Dev(d)), ResultJson(Dev(d), s, s % 5 == 0));
    }
    EXPECT_TRUE(pub.WaitAcked(120000));
    done = true;
  });
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    int64_t before = Count(**st);
    WaitFor([&] { return Count(**st) > before + 3000 || done.load(); }, 30000);
    proc->Signal(SIGKILL);
    proc->Wait(10000);
    ++kills;
    std::this_thread::sleep_for(200ms);
    proc = std::make_unique<Process>(argv, po);
  }
  producer.join();
  const int64_t expected = 1 + kDevices * kPerDevice;
  EXPECT_TRUE(WaitFor([&] { return Count(**st) >= expected; }, 60000)) << Count(**st) << " of " << expected;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Count(**st), expected);
  for (int d = 0; d < kDevices; ++d) EXPECT_EQ(*(*st)->CountResults(Dev(d)), kPerDevice) << d;
  EXPECT_EQ(*(*st)->CountDeadLetters(), 0);
  EXPECT_EQ(kills, 3);
  proc->Signal(SIGTERM);
  EXPECT_EQ(proc->Wait(20000), 0);
}

TEST(Collector, KillDashNineLosesNothingSqlite) {
  TempDir dir;
  KillAndRestart(dir.Join("kill.db"));
}

TEST(Collector, KillDashNineLosesNothingPostgres) {
  PostgresServer pg;
  pg.Start();
  KillAndRestart(pg.url());
}

TEST(Collector, TwoCollectorsShareTheLoadPostgres) {
  MosquittoServer broker;
  broker.Start();
  PostgresServer pg;
  pg.Start();
  TempDir dir;
  auto s1 = store::Store::Open(pg.url());
  auto s2 = store::Store::Open(pg.url());
  ASSERT_TRUE(s1.ok() && s2.ok());
  std::vector<std::unique_ptr<Collector>> cs;
  std::vector<std::unique_ptr<store::Store>*> stores = {&*s1, &*s2};
  for (int i = 0; i < 2; ++i) {
    CollectorOptions o;
    o.mqtt_url = broker.url();
    o.client_id = "c-share-" + std::to_string(i);
    o.journal_dir = dir.Join("j" + std::to_string(i));
    auto c = Collector::Create(o, stores[i]->get());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Start().ok());
    cs.push_back(std::move(*c));
  }
  ASSERT_TRUE(WaitFor([&] { return cs[0]->connected() && cs[1]->connected(); }, 10000));
  std::this_thread::sleep_for(500ms);
  Publisher pub(broker.url());
  constexpr int kDevices = 10, kPerDevice = 1000;
  for (int s = 1; s <= kPerDevice; ++s) {
    for (int d = 0; d < kDevices; ++d) pub.Publish(mqtt::ResultsTopic("f", Dev(d)), ResultJson(Dev(d), s));
  }
  ASSERT_TRUE(pub.WaitAcked());
  ASSERT_TRUE(WaitFor([&] { return Count(**s1) == kDevices * kPerDevice; }, 60000)) << Count(**s1);
  EXPECT_EQ(cs[0]->received() + cs[1]->received(), kDevices * kPerDevice);  // each delivered to one
  EXPECT_GT(cs[0]->received(), 0);
  EXPECT_GT(cs[1]->received(), 0);
  EXPECT_EQ(cs[0]->duplicates() + cs[1]->duplicates(), 0);
  // A collector counts a batch as stored after its commit returns, a moment after the rows are
  // visible to the query above.
  EXPECT_TRUE(WaitFor([&] { return cs[0]->stored() + cs[1]->stored() == kDevices * kPerDevice; }, 10000))
      << cs[0]->stored() + cs[1]->stored();
  for (auto& c : cs) c->Stop();
}

TEST(Collector, JournalIsReplayedAtStart) {
  // A journal left by a crash (written directly, as the collector's callback would) is committed
  // at the next start, before any MQTT traffic; a torn record at its end is ignored.
  TempDir dir;
  MosquittoServer broker;
  broker.Start();
  auto st = store::Store::Open(dir.Join("r.db"));
  ASSERT_TRUE(st.ok());
  {
    CollectorOptions o;
    o.mqtt_url = broker.url();
    o.client_id = "c-replay";
    o.journal_dir = dir.Join("journal");
    auto c = Collector::Create(o, st->get());
    ASSERT_TRUE((*c)->Start().ok());
    (*c)->Stop();
  }
  {
    std::FILE* f = std::fopen(dir.Join("journal/seg-100.log").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    auto put = [&](const std::string& topic, const std::string& payload) {
      uint32_t tl = static_cast<uint32_t>(topic.size()), pl = static_cast<uint32_t>(payload.size());
      uint32_t h = 2166136261u;
      for (unsigned char ch : topic) h = (h ^ ch) * 16777619u;
      for (unsigned char ch : payload) h = (h ^ ch) * 16777619u;
      std::fwrite(&tl, 4, 1, f);
      std::fwrite(&pl, 4, 1, f);
      std::fwrite(&h, 4, 1, f);
      std::fwrite(topic.data(), 1, tl, f);
      std::fwrite(payload.data(), 1, pl, f);
    };
    for (int s = 1; s <= 30; ++s) put(mqtt::ResultsTopic("f", "dj"), ResultJson("dj", s));
    std::fwrite("\x10\x00\x00", 1, 3, f);  // torn header
    std::fclose(f);
  }
  CollectorOptions o;
  o.mqtt_url = broker.url();
  o.client_id = "c-replay";
  o.journal_dir = dir.Join("journal");
  auto c = Collector::Create(o, st->get());
  ASSERT_TRUE((*c)->Start().ok());
  EXPECT_EQ((*c)->replayed(), 30);
  EXPECT_EQ(Count(**st), 30);
  (*c)->Stop();
}

}  // namespace
}  // namespace edgeloop::collector
