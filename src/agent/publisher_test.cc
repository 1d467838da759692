// The publisher's resend logic with a real file spool and a sink whose link and PUBACKs the test
// controls (the end-to-end paths run against a real Mosquitto in agent_test.cc).
#include "agent/publisher.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <set>

#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

class ScriptedSink : public MessageSink {
 public:
  bool connected() const override { return up; }
  Status Publish(const std::string& topic, const std::string& payload, uint64_t tag) override {
    if (!up) return Status::Unavailable("down");
    sent.push_back({topic, payload, tag});
    events.push_back(payload);
    if (on_publish) on_publish(payload);
    return Status::Ok();
  }
  void BeginBatch() override { events.push_back("["); }
  void EndBatch() override { events.push_back("]"); }
  std::vector<std::string> events;  // payloads, and [ ] around the batches
  std::function<void(const std::string&)> on_publish;
  struct Sent {
    std::string topic, payload;
    uint64_t tag;
  };
  bool up = false;
  std::vector<Sent> sent;
};

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = FileSpool::Open(dir_.Join("spool"), {});
    ASSERT_TRUE(s.ok());
    spool_ = std::move(*s);
    MakePublisher(0);
  }
  void MakePublisher(int64_t coalesce_ms) {
    Publisher::Options o;
    o.max_inflight = 4;
    o.ack_batch = 2;
    o.retry_after_ms = 1000;
    o.coalesce_ms = coalesce_ms;
    pub_ = std::make_unique<Publisher>(spool_.get(), &sink_, o);
  }
  SpoolRecord Put(const std::string& payload, Stream stream = Stream::kResults) {
    static const std::string kTopic = "t";
    SpoolRecord r;
    r.stream = stream;
    r.seq = spool_->NextSeq(stream);
    r.topic = kTopic;
    r.payload = payload;
    r.id = *spool_->Put(stream, r.seq, r.topic, r.payload, 0);
    pub_->OnStored(r, now_);
    return r;
  }
  void Connect() {
    sink_.up = true;
    pub_->OnConnected(now_);
    ASSERT_TRUE(pub_->Pump(now_).ok());
  }
  void AckAll() {
    for (const auto& s : sink_.sent) pub_->OnComplete(s.tag, Status::Ok(), now_);
  }
  std::vector<std::string> Payloads() {
    std::vector<std::string> p;
    for (const auto& s : sink_.sent) p.push_back(s.payload);
    return p;
  }
  testing_support::TempDir dir_;
  std::unique_ptr<FileSpool> spool_;
  ScriptedSink sink_;
  std::unique_ptr<Publisher> pub_;
  int64_t now_ = 0;
};

TEST_F(PublisherTest, OfflineMessagesWaitAndGoInOrderOnConnect) {
  for (int i = 0; i < 6; ++i) Put(std::string("m").append(std::to_string(i)));
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(pub_->depth(), 6);
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"m0", "m1", "m2", "m3"}));  // window of 4
  EXPECT_EQ(sink_.events, (std::vector<std::string>{"[", "m0", "m1", "m2", "m3", "]"}));  // the backlog read: a batch
  AckAll();
  sink_.sent.clear();
  ASSERT_TRUE(pub_->Pump(now_).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"m4", "m5"}));
  AckAll();
  ASSERT_TRUE(pub_->Pump(now_, true).ok());
  EXPECT_EQ(pub_->sent(), 6);
  EXPECT_EQ(spool_->stats().count, 0);  // deleted only after the PUBACKs
}

TEST_F(PublisherTest, LiveMessagesGoStraightOut) {
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  Put("a");
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a"}));  // without a spool read
  AckAll();
  Put("b");
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(PublisherTest, UnacknowledgedAreResentAfterReconnect) {
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  Put("a");
  Put("b");
  ASSERT_EQ(sink_.sent.size(), 2u);
  pub_->OnComplete(sink_.sent[0].tag, Status::Ok(), now_);  // a acknowledged, b not
  sink_.up = false;  // the link drops before b's PUBACK
  Put("c");
  sink_.sent.clear();
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"b", "c"}));  // in order, a not again
}

TEST_F(PublisherTest, RefusedMessagesAreRetriedLaterWithoutBlockingOthers) {
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  Put("a");
  ASSERT_EQ(sink_.sent.size(), 1u);
  pub_->OnComplete(sink_.sent[0].tag, Status::PermissionDenied("quota"), now_);
  EXPECT_EQ(pub_->refused(), 1);
  Put("b");
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(pub_->Pump(now_ + 500).ok());
  EXPECT_EQ(sink_.sent.size(), 2u);  // not yet
  ASSERT_TRUE(pub_->Pump(now_ + 1000).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a", "b", "a"}));
}

TEST_F(PublisherTest, StaleFailuresFromAnOldConnectionAreIgnored) {
  sink_.up = true;
  pub_->OnConnected(now_);
  ASSERT_TRUE(pub_->Pump(now_).ok());
  Put("a");
  ASSERT_EQ(sink_.sent.size(), 1u);
  uint64_t old_tag = sink_.sent[0].tag;
  pub_->OnConnected(now_);  // reconnect: a goes again with a new tag
  sink_.sent.clear();
  ASSERT_TRUE(pub_->Pump(now_).ok());
  ASSERT_EQ(Payloads(), (std::vector<std::string>{"a"}));
  pub_->OnComplete(old_tag, Status::Unavailable("session lost"), now_);
  EXPECT_EQ(pub_->refused(), 0);
  EXPECT_EQ(pub_->inflight(), 1u);
  pub_->OnComplete(sink_.sent[0].tag, Status::Ok(), now_);
  EXPECT_EQ(pub_->sent(), 1);
}

TEST_F(PublisherTest, CoalescedResultsWaitThenGoTogetherInOrder) {
  MakePublisher(1000);
  Connect();
  EXPECT_EQ(pub_->next_send_ms(), std::numeric_limits<int64_t>::max());  // nothing held
  Put("a");
  now_ += 400;
  Put("b");
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(pub_->depth(), 2);
  EXPECT_EQ(pub_->next_send_ms(), 1000);  // the oldest's wait decides
  ASSERT_TRUE(pub_->Pump(999).ok());
  EXPECT_TRUE(sink_.sent.empty());
  ASSERT_TRUE(pub_->Pump(1000).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(sink_.events, (std::vector<std::string>{"[", "a", "b", "]"}));  // one batch: one TCP segment
  AckAll();
  ASSERT_TRUE(pub_->Pump(1000, true).ok());
  EXPECT_EQ(spool_->stats().count, 0);
  EXPECT_EQ(pub_->next_send_ms(), std::numeric_limits<int64_t>::max());
}

TEST_F(PublisherTest, AnAlarmGoesAtOnceAfterTheHeldResults) {
  MakePublisher(1000);
  Connect();
  Put("r1");
  Put("r2");
  Put("alarm", Stream::kAlarms);
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"r1", "r2", "alarm"}));  // spool order, no wait
  Put("r3");
  EXPECT_EQ(sink_.sent.size(), 3u);  // held again
  ASSERT_TRUE(pub_->Pump(now_, /*force_flush=*/true).ok());  // what a stop does
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"r1", "r2", "alarm", "r3"}));
  // Only several messages make a batch.
  EXPECT_EQ(sink_.events, (std::vector<std::string>{"[", "r1", "r2", "]", "alarm", "r3"}));
}

TEST_F(PublisherTest, HeldResultsAreNotLostWhenTheLinkDrops) {
  MakePublisher(1000);
  Connect();
  Put("a");
  Put("b");
  sink_.up = false;
  pub_->OnDisconnected();
  ASSERT_TRUE(pub_->Pump(5000).ok());
  EXPECT_TRUE(sink_.sent.empty());
  Connect();
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"a", "b"}));  // from the spool
}

TEST_F(PublisherTest, HeldResultsBeyondTheWindowGoFromTheSpoolAsPubacksFreeIt) {
  MakePublisher(1000);
  Connect();
  for (int i = 0; i < 6; ++i) Put(std::string("m").append(std::to_string(i)));
  ASSERT_TRUE(pub_->Pump(1000).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"m0", "m1", "m2", "m3"}));  // window of 4
  EXPECT_EQ(sink_.events, (std::vector<std::string>{"[", "m0", "m1", "m2", "m3", "]"}));  // the backlog read: a batch
  AckAll();
  sink_.sent.clear();
  ASSERT_TRUE(pub_->Pump(1001).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"m4", "m5"}));
  AckAll();
  Put("m6");  // the backlog is empty again: held, not sent
  EXPECT_EQ(sink_.sent.size(), 2u);
  ASSERT_TRUE(pub_->Pump(1001 + 1000).ok());
  EXPECT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent.back().payload, "m6");
}

// The real file spool, noting whether everything put was synced since.
class SyncTrackingSpool : public Spool {
 public:
  explicit SyncTrackingSpool(Spool* real) : real_(real) {}
  int64_t NextSeq(Stream stream) const override { return real_->NextSeq(stream); }
  Result<int64_t> Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                      int64_t created_ms) override {
    auto id = real_->Put(stream, seq, topic, payload, created_ms);
    if (id.ok()) unsynced.insert(payload);
    return id;
  }
  Result<std::vector<SpoolRecord>> ReadAfter(int64_t after_id, size_t limit) override {
    return real_->ReadAfter(after_id, limit);
  }
  Status Remove(std::span<const int64_t> ids) override { return real_->Remove(ids); }
  Result<int64_t> DropExpired(int64_t now_ms) override { return real_->DropExpired(now_ms); }
  Status Sync() override {
    Status st = real_->Sync();
    if (st.ok()) unsynced.clear();
    return st;
  }
  SpoolStats stats() const override { return real_->stats(); }
  std::set<std::string> unsynced;  // payloads put and not synced since

 private:
  Spool* real_;
};

TEST_F(PublisherTest, SyncBeforeSendPutsSpooledAndHeldMessagesOnDiskBeforeTheyGo) {
  for (bool sync_before_send : {true, false}) {
    SCOPED_TRACE(sync_before_send ? "sync_before_send" : "without");
    testing_support::TempDir dir;
    auto file = FileSpool::Open(dir.Join("spool"), {});
    ASSERT_TRUE(file.ok());
    SyncTrackingSpool spool(file->get());
    ScriptedSink sink;
    Publisher::Options o;
    o.coalesce_ms = 1000;
    o.sync_before_send = sync_before_send;
    Publisher pub(&spool, &sink, o);
    std::vector<std::string> went_unsynced;
    sink.on_publish = [&](const std::string& payload) {
      if (spool.unsynced.count(payload)) went_unsynced.push_back(payload);
    };
    int64_t now = 0;
    const auto put = [&](const std::string& payload, Stream stream) {
      SpoolRecord r{0, stream, spool.NextSeq(stream), now, "t", payload};
      r.id = *spool.Put(stream, r.seq, r.topic, r.payload, now);
      pub.OnStored(r, now);
    };
    put("offline-1", Stream::kResults);  // stored while the link is down: read back from the spool
    put("offline-2", Stream::kResults);
    sink.up = true;
    pub.OnConnected(now);
    ASSERT_TRUE(pub.Pump(now).ok());
    put("held-1", Stream::kResults);  // held for coalesce_ms
    put("held-2", Stream::kResults);
    now += 1000;
    ASSERT_TRUE(pub.Pump(now).ok());
    ASSERT_EQ(sink.sent.size(), 4u);
    if (sync_before_send) {
      EXPECT_TRUE(went_unsynced.empty()) << went_unsynced.front();
      EXPECT_EQ(pub.last_sync_ms(), now);
    } else {
      EXPECT_EQ(went_unsynced, (std::vector<std::string>{"offline-1", "offline-2", "held-1", "held-2"}));
    }
    // An alarm goes as it is stored, without waiting for the disk (documented).
    went_unsynced.clear();
    put("alarm", Stream::kAlarms);
    EXPECT_EQ(sink.sent.back().payload, "alarm");
    EXPECT_EQ(went_unsynced, std::vector<std::string>{"alarm"});
  }
}

}  // namespace
}  // namespace edgeloop::agent
