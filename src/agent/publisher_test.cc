// The publisher's resend logic with a real file spool and a sink whose link and PUBACKs the test
// controls (the end-to-end paths run against a real Mosquitto in agent_test.cc).
#include "agent/publisher.h"

#include <gtest/gtest.h>

#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

class ScriptedSink : public MessageSink {
 public:
  bool connected() const override { return up; }
  Status Publish(const std::string& topic, const std::string& payload, uint64_t tag) override {
    if (!up) return Status::Unavailable("down");
    sent.push_back({topic, payload, tag});
    return Status::Ok();
  }
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
    Publisher::Options o;
    o.max_inflight = 4;
    o.ack_batch = 2;
    o.retry_after_ms = 1000;
    pub_ = std::make_unique<Publisher>(spool_.get(), &sink_, o);
  }
  SpoolRecord Put(const std::string& payload) {
    static const std::string kTopic = "t";
    SpoolRecord r;
    r.seq = spool_->NextSeq(Stream::kResults);
    r.topic = kTopic;
    r.payload = payload;
    r.id = *spool_->Put(Stream::kResults, r.seq, r.topic, r.payload, 0);
    pub_->OnStored(r, now_);
    return r;
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

}  // namespace
}  // namespace edgeloop::agent
