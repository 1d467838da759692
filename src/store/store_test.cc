// One suite, two real databases: every test runs against a SQLite file and against a PostgreSQL
// server started for the suite (initdb into a temp dir).
#include "edgeloop/store/store.h"

#include <cmath>
#include <random>

#include "edgeloop/store/drift.h"

#include <gtest/gtest.h>

#include <memory>

#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::store {
namespace {

using testing_support::PostgresServer;
using testing_support::TempDir;

PostgresServer* SharedPostgres() {
  // One server for the whole binary, stopped by the static destructor at exit.
  static std::unique_ptr<PostgresServer> pg = [] {
    auto p = std::make_unique<PostgresServer>();
    p->Start();
    return p;
  }();
  return pg.get();
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int n = 0;
    if (GetParam() == "sqlite") {
      url_ = dir_.Join("store.db");
    } else {
      url_ = SharedPostgres()->CreateDatabase("t" + std::to_string(++n) + "_" + std::to_string(::getpid()));
    }
    auto s = Store::Open(url_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

StoredResult MakeResult(const std::string& dev, int64_t seq, int64_t ts, const std::string& pred, float conf,
                        bool with_window = false) {
  StoredResult r;
  r.fleet = "plant1";
  r.received_ms = ts + 5;
  r.msg.device_id = dev;
  r.msg.seq = seq;
  r.msg.timestamp_ms = ts;
  r.msg.prediction = pred;
  r.msg.confidence = conf;
  r.msg.all_scores = {{"normal", pred == "normal" ? conf : 1 - conf}, {"failure", pred == "failure" ? conf : 1 - conf}};
  r.msg.inference_ms = 0.25;
  r.msg.model = {"vib", 3};
  r.msg.raw_data = {0.5f, -1.25f, 3.0f};
  if (with_window) {
    for (int i = 0; i < 16; ++i) r.msg.window.push_back(static_cast<float>(seq) + i * 0.125f);
    r.msg.window_reason = mqtt::UploadReason::kRandom;
  }
  return r;
}

StoredAlarm MakeAlarm(const std::string& dev, int64_t seq, int64_t ts, mqtt::AlarmEvent ev, int64_t result_seq) {
  StoredAlarm a;
  a.fleet = "plant1";
  a.received_ms = ts;
  a.msg.device_id = dev;
  a.msg.seq = seq;
  a.msg.timestamp_ms = ts;
  a.msg.event = ev;
  a.msg.label = "failure";
  a.msg.score = 0.9f;
  a.msg.threshold = 0.8f;
  a.msg.result_seq = result_seq;
  a.msg.model = {"vib", 3};
  return a;
}

TEST_P(StoreTest, DuplicatesAreStoredOnceAndCounted) {
  Batch b;
  for (int i = 1; i <= 50; ++i) b.results.push_back(MakeResult("dev-a", i, 1000 + i, "normal", 0.9f));
  WriteCounts c;
  ASSERT_TRUE(store_->Write(b, &c).ok());
  EXPECT_EQ(c.results_inserted, 50);
  EXPECT_EQ(c.results_duplicate, 0);
  // Redelivery of a batch overlapping the first.
  Batch again;
  for (int i = 40; i <= 60; ++i) again.results.push_back(MakeResult("dev-a", i, 1000 + i, "normal", 0.9f));
  ASSERT_TRUE(store_->Write(again, &c).ok());
  EXPECT_EQ(c.results_inserted, 10);
  EXPECT_EQ(c.results_duplicate, 11);
  EXPECT_EQ(*store_->CountResults(""), 60);
  EXPECT_EQ(*store_->CountResults("dev-a"), 60);
  EXPECT_EQ(*store_->CountResults("dev-b"), 0);
  // The same result twice in one batch (a redelivery and its journal copy) is stored once.
  Batch twice;
  twice.results.push_back(MakeResult("dev-b", 1, 1000, "normal", 0.9f));
  twice.results.push_back(MakeResult("dev-b", 1, 1000, "normal", 0.9f));
  ASSERT_TRUE(store_->Write(twice, &c).ok());
  EXPECT_EQ(c.results_inserted, 1);
  EXPECT_EQ(c.results_duplicate, 1);
  EXPECT_EQ(*store_->CountResults("dev-b"), 1);
}

TEST_P(StoreTest, ResultsRoundTripWithWindowAndPaging) {
  Batch b;
  for (int i = 1; i <= 10; ++i) b.results.push_back(MakeResult("dev-a", i, 5000 + i * 10, "normal", 0.75f, i % 2 == 0));
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  ResultQuery q;
  q.device_id = "dev-a";
  q.limit = 3;
  auto page = store_->Results(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].msg.seq, 10);
  EXPECT_EQ((*page)[2].msg.seq, 8);
  const mqtt::ResultMessage& m = (*page)[0].msg;
  EXPECT_EQ(m.prediction, "normal");
  EXPECT_FLOAT_EQ(m.confidence, 0.75f);
  ASSERT_EQ(m.all_scores.size(), 2u);
  EXPECT_EQ(m.all_scores[1].first, "failure");
  EXPECT_EQ(m.model.name, "vib");
  EXPECT_EQ(m.model.version, 3);
  EXPECT_EQ(m.raw_data, (std::vector<float>{0.5f, -1.25f, 3.0f}));
  ASSERT_EQ(m.window.size(), 16u);
  EXPECT_FLOAT_EQ(m.window[3], 10.375f);
  EXPECT_TRUE((*page)[1].msg.window.empty());
  q.before_seq = 8;
  page = store_->Results(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ((*page)[0].msg.seq, 7);
}

TEST_P(StoreTest, StatsBucketsCountPredictions) {
  Batch b;
  // bucket 0: 3 normal 1 failure; bucket 1: 2 failure.
  b.results.push_back(MakeResult("d1", 1, 60000, "normal", 0.9f));
  b.results.push_back(MakeResult("d1", 2, 70000, "normal", 0.9f));
  b.results.push_back(MakeResult("d2", 1, 80000, "normal", 0.9f));
  b.results.push_back(MakeResult("d2", 2, 90000, "failure", 0.9f));
  b.results.push_back(MakeResult("d2", 3, 125000, "failure", 0.9f));
  b.results.push_back(MakeResult("d1", 3, 130000, "failure", 0.9f));
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  auto st = store_->ResultStats(60000, 60, "");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->size(), 2u);
  EXPECT_EQ((*st)[0].start_ms, 60000);
  ASSERT_EQ((*st)[0].counts.size(), 2u);
  EXPECT_EQ((*st)[0].counts[0], (std::pair<std::string, int64_t>{"failure", 1}));
  EXPECT_EQ((*st)[0].counts[1], (std::pair<std::string, int64_t>{"normal", 3}));
  EXPECT_EQ((*st)[1].start_ms, 120000);
  EXPECT_EQ((*st)[1].counts[0], (std::pair<std::string, int64_t>{"failure", 2}));
  st = store_->ResultStats(60000, 60, "d1");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)[0].counts[0].second, 2);  // d1: 2 normal in bucket 0
}

TEST_P(StoreTest, AlarmsOpenAndClearAndVerdicts) {
  Batch b;
  b.results.push_back(MakeResult("d1", 7, 1000, "failure", 0.95f, true));
  b.alarms.push_back(MakeAlarm("d1", 1, 1000, mqtt::AlarmEvent::kRaised, 7));
  b.alarms.push_back(MakeAlarm("d1", 2, 2000, mqtt::AlarmEvent::kCleared, 9));
  b.alarms.push_back(MakeAlarm("d2", 1, 3000, mqtt::AlarmEvent::kRaised, 4));
  b.alarms.push_back(MakeAlarm("d2", 1, 3000, mqtt::AlarmEvent::kRaised, 4));  // duplicate
  WriteCounts c;
  ASSERT_TRUE(store_->Write(b, &c).ok());
  EXPECT_EQ(c.alarms_inserted, 3);
  EXPECT_EQ(c.alarms_duplicate, 1);
  auto open = store_->Alarms(true, 10);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].device_id, "d2");
  auto all = store_->Alarms(false, 10);
  ASSERT_EQ(all->size(), 2u);
  const AlarmView& d1 = (*all)[1];
  EXPECT_EQ(d1.device_id, "d1");
  ASSERT_TRUE(d1.cleared_ms.has_value());
  EXPECT_EQ(*d1.cleared_ms, 2000);
  Label l;
  l.alarm_id = d1.id;
  l.verdict = "confirm";
  l.by = "alice";
  auto added = store_->AddLabel(l);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->verdict, "confirmed");
  EXPECT_EQ(added->device_id, "d1");
  all = store_->Alarms(false, 10);
  EXPECT_EQ((*all)[1].verdict, "confirmed");
  // The confirmed alarm labels the result that raised it.
  auto windows = store_->LabelledWindows(ResultQuery{}, std::nullopt);
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  ASSERT_EQ(windows->size(), 1u);
  EXPECT_EQ((*windows)[0].seq, 7);
  EXPECT_EQ((*windows)[0].label, "failure");
  auto devs = store_->Devices();
  ASSERT_TRUE(devs.ok()) << devs.status().ToString();
  ASSERT_EQ(devs->size(), 2u);
  EXPECT_EQ((*devs)[0].alarms_open, 0);
  EXPECT_EQ((*devs)[1].alarms_open, 1);
}

TEST_P(StoreTest, LabelsAreValidated) {
  Batch b;
  b.results.push_back(MakeResult("d1", 1, 1000, "normal", 0.6f, true));
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  Label none;
  none.label = "failure";
  EXPECT_EQ(store_->AddLabel(none).status().code(), StatusCode::kInvalidArgument);
  Label missing;
  missing.device_id = "d1";
  missing.seq = 99;
  missing.label = "failure";
  EXPECT_EQ(store_->AddLabel(missing).status().code(), StatusCode::kNotFound);
  Label bad_alarm;
  bad_alarm.alarm_id = 12345;
  bad_alarm.verdict = "confirm";
  EXPECT_EQ(store_->AddLabel(bad_alarm).status().code(), StatusCode::kNotFound);
  Label bad_verdict;
  bad_verdict.alarm_id = 1;
  bad_verdict.verdict = "maybe";
  EXPECT_EQ(store_->AddLabel(bad_verdict).status().code(), StatusCode::kInvalidArgument);
  Label ok;
  ok.device_id = "d1";
  ok.seq = 1;
  ok.label = "failure";
  ok.by = "bob";
  auto added = store_->AddLabel(ok);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_GT(added->id, 0);
  auto labels = store_->Labels(10);
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ((*labels)[0].by, "bob");
  EXPECT_EQ(*(*labels)[0].seq, 1);
}

TEST_P(StoreTest, LabelledWindowsPreferOperatorOverMaintenanceOverPrediction) {
  Batch b;
  b.results.push_back(MakeResult("d1", 1, 1000, "normal", 0.99f, true));   // operator says failure
  b.results.push_back(MakeResult("d1", 2, 2000, "normal", 0.99f, true));   // maintenance: failure
  b.results.push_back(MakeResult("d1", 3, 3000, "normal", 0.99f, true));   // confident prediction
  b.results.push_back(MakeResult("d1", 4, 4000, "normal", 0.40f, true));   // not confident: out
  b.results.push_back(MakeResult("d1", 5, 5000, "normal", 0.99f, false));  // no window: out
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  Label op;
  op.device_id = "d1";
  op.seq = 1;
  op.label = "failure";
  ASSERT_TRUE(store_->AddLabel(op).ok());
  Label maint;
  maint.device_id = "d1";
  maint.start_ms = 500;
  maint.end_ms = 2500;
  maint.label = "failure";
  maint.source = "maintenance";
  ASSERT_TRUE(store_->AddLabel(maint).ok());
  auto w = store_->LabelledWindows(ResultQuery{}, 0.9);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0].source, "operator");
  EXPECT_EQ((*w)[0].label, "failure");
  EXPECT_EQ((*w)[1].source, "maintenance");
  EXPECT_EQ((*w)[1].label, "failure");
  EXPECT_EQ((*w)[2].source, "prediction");
  EXPECT_EQ((*w)[2].label, "normal");
  // Without predictions only the two labelled windows remain; a time filter narrows further.
  ResultQuery q;
  q.since_ms = 1500;
  w = store_->LabelledWindows(q, std::nullopt);
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].seq, 2);
}

TEST_P(StoreTest, DeadLettersKeepUnprintableBytes) {
  Batch b;
  DeadLetter d;
  d.topic = "edgeloop/f/devices/x/results";
  d.payload = std::string("{\"seq\":\x00\xff", 9);
  d.reason = "result: not JSON";
  d.received_ms = 42;
  b.dead_letters.push_back(d);
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  EXPECT_EQ(*store_->CountDeadLetters(), 1);
  auto dl = store_->DeadLetters(10);
  ASSERT_EQ(dl->size(), 1u);
  EXPECT_EQ((*dl)[0].reason, "result: not JSON");
  EXPECT_EQ((*dl)[0].payload, "{\"seq\":\\x00\\xff");
}

TEST_P(StoreTest, StatusSetsOnlineAndModel) {
  Batch b;
  StoredStatus s;
  s.fleet = "plant1";
  s.msg.device_id = "d9";
  s.msg.state = "online";
  s.msg.timestamp_ms = 777;
  s.msg.model = {"vib", 5};
  b.statuses.push_back(s);
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  auto devs = store_->Devices();
  ASSERT_EQ(devs->size(), 1u);
  EXPECT_TRUE((*devs)[0].online);
  EXPECT_EQ((*devs)[0].model.version, 5);
  EXPECT_EQ((*devs)[0].last_seen_ms, 777);
  Batch off;
  StoredStatus will;
  will.fleet = "plant1";
  will.msg.device_id = "d9";
  will.msg.state = "offline";
  will.received_ms = 900;
  off.statuses.push_back(will);
  ASSERT_TRUE(store_->Write(off, nullptr).ok());
  devs = store_->Devices();
  EXPECT_FALSE((*devs)[0].online);
  EXPECT_EQ((*devs)[0].model.version, 5);  // the will names no model; the last one stays
}

TEST_P(StoreTest, StatusHistoryKeepsEveryMessageWithItsCounters) {
  Batch b;
  for (int i = 0; i < 3; ++i) {
    StoredStatus s;
    s.fleet = "plant1";
    s.msg.device_id = i == 2 ? "d2" : "d1";
    s.msg.timestamp_ms = 1000 + i * 100;
    s.msg.model = {"vib", 4 + i};
    s.msg.ota = {"failed", 6, "install: sha256 mismatch"};
    s.msg.spool_errors = 10 * i;
    s.msg.bad_inputs = i;
    b.statuses.push_back(s);
  }
  StoredStatus will;  // no timestamp, no counters: kept at its received time
  will.fleet = "plant1";
  will.msg.device_id = "d1";
  will.msg.state = "offline";
  will.msg.counters_present = false;
  will.received_ms = 1500;
  b.statuses.push_back(will);
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  auto all = store_->Statuses("", 0, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[1].msg.spool_errors, 10);
  EXPECT_EQ((*all)[1].msg.model.version, 5);
  EXPECT_EQ((*all)[2].msg.ota.state, "failed");
  EXPECT_EQ((*all)[2].msg.ota.reason, "install: sha256 mismatch");
  EXPECT_EQ((*all)[3].msg.state, "offline");
  EXPECT_EQ((*all)[3].msg.timestamp_ms, 1500);
  EXPECT_FALSE((*all)[3].msg.counters_present);
  auto d1 = store_->Statuses("d1", 1100, 0);
  ASSERT_EQ(d1->size(), 2u);
  EXPECT_EQ((*d1)[0].msg.bad_inputs, 1);
  EXPECT_EQ(store_->Statuses("", 0, 2)->size(), 2u);
}

TEST_P(StoreTest, RetrainDecisionsAreKept) {
  RetrainDecision d;
  d.model = "vib";
  d.candidate_version = 4;
  d.champion_version = 3;
  d.candidate_accuracy = 0.91;
  d.champion_accuracy = 0.93;
  d.decision = "refused";
  d.reason = "candidate is worse";
  ASSERT_TRUE(store_->AddRetrainDecision(d).ok());
  auto all = store_->RetrainDecisions(10);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].decision, "refused");
  EXPECT_DOUBLE_EQ((*all)[0].champion_accuracy, 0.93);
}

TEST_P(StoreTest, ReopeningKeepsData) {
  Batch b;
  b.results.push_back(MakeResult("d1", 1, 1000, "normal", 0.9f));
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  store_.reset();
  auto s = Store::Open(url_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*(*s)->CountResults(""), 1);
}

// Windows of a sine at `freq` cycles per window with `amp` amplitude and noise.
std::vector<float> Sine(std::mt19937& rng, double freq, double amp) {
  std::normal_distribution<double> noise(0, 0.1);
  std::vector<float> w(64);
  for (size_t t = 0; t < w.size(); ++t) w[t] = static_cast<float>(amp * std::sin(2 * M_PI * freq * t / 64.0) + noise(rng));
  return w;
}

TEST_P(StoreTest, DriftIsOkForTrainingLikeDataAndDriftForShiftedData) {
  std::mt19937 rng(7);
  data::Dataset train;
  train.length = 64;
  train.labels = {"failure", "normal"};
  for (int i = 0; i < 400; ++i) {
    std::vector<float> w = Sine(rng, 3 + (i % 3), 1.0 + 0.1 * (i % 5));
    train.Add(w, i % 4 == 0 ? 0 : 1);
  }
  auto baseline = ComputeBaseline(train, "vib");
  ASSERT_TRUE(baseline.ok()) << baseline.status().ToString();
  ASSERT_TRUE(store_->SetModelInfo("vib", 0, baseline->ToJson().dump()).ok());
  auto back = DriftBaseline::FromJson(nlohmann::json::parse(*store_->GetModelInfo("vib", 0)));
  ASSERT_TRUE(back.ok());
  EXPECT_DOUBLE_EQ(back->class_mix.at("failure"), 0.25);
  Batch b;
  for (int i = 0; i < 200; ++i) {  // device "same": like training; device "shifted": louder and faster
    StoredResult same = MakeResult("same", i + 1, 10000 + i, i % 4 == 0 ? "failure" : "normal", 0.9f);
    same.msg.window = Sine(rng, 3 + (i % 3), 1.0 + 0.1 * (i % 5));
    b.results.push_back(same);
    StoredResult shifted = MakeResult("shifted", i + 1, 10000 + i, "failure", 0.9f);
    shifted.msg.window = Sine(rng, 20, 3.0);
    b.results.push_back(shifted);
  }
  ASSERT_TRUE(store_->Write(b, nullptr).ok());
  auto ok = ComputeDrift(*store_, *back, "same", 0);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, "ok") << ok->ToJson().dump();
  EXPECT_EQ(ok->windows, 200);
  auto drift = ComputeDrift(*store_, *back, "shifted", 0);
  ASSERT_TRUE(drift.ok());
  EXPECT_EQ(drift->status, "drift");
  EXPECT_GT(drift->psi[1], 1.0);  // std
  EXPECT_GT(drift->class_mix_psi, 0.25);
  auto few = ComputeDrift(*store_, *back, "same", 10000 + 190);
  EXPECT_EQ(few->status, "insufficient");
  EXPECT_EQ(store_->GetModelInfo("other", 0).status().code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(StoreOpen, RejectsUnknownSchemeAndUnreachableServer) {
  EXPECT_EQ(Store::Open("mysql://x").status().code(), StatusCode::kInvalidArgument);
  auto s = Store::Open("postgresql://nobody@127.0.0.1:1/none");
  EXPECT_EQ(s.status().code(), StatusCode::kIOError);
  EXPECT_NE(s.status().message().find("PostgreSQL"), std::string::npos);
}

TEST(StoreFloats, RoundTripAndCorruption) {
  std::vector<float> v = {0.1f, -3.5e-8f, 12345.678f, 0};
  auto back = DecodeFloats(EncodeFloats(v));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);
  EXPECT_EQ(DecodeFloats("1,abc").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace edgeloop::store
