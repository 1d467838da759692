// The agent's single-threaded MQTT link against a real Mosquitto: completions read by Poll, a full
// in-flight window refused instead of blocking, a retained message through the subscription made
// at connect, and a broker restart (reported lost, reconnected).
#include "agent/mqtt_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <chrono>
#include <thread>

#include "test/support/servers.h"

namespace edgeloop::agent {
namespace {

using testing_support::MosquittoServer;

struct Recorder {
  int connected = 0, lost = 0, failures = 0;
  bool session_present = false;
  std::vector<mqtt::PublishCompletion> completions;
  std::vector<mqtt::Message> messages;
  std::atomic<int> wakes{0};
  MqttLinkCallbacks Callbacks() {
    MqttLinkCallbacks cb;
    cb.on_connected = [this](bool sp) {
      ++connected;
      session_present = sp;
    };
    cb.on_connection_lost = [this](const std::string&) { ++lost; };
    cb.on_connect_failure = [this](const Status&, int) { ++failures; };
    cb.on_message = [this](mqtt::Message m) { messages.push_back(std::move(m)); };
    cb.on_publish_complete = [this](const mqtt::PublishCompletion& c) { completions.push_back(c); };
    return cb;
  }
};

std::unique_ptr<MqttLink> MakeLink(const MosquittoServer& broker, const std::string& id, Recorder* rec,
                                   std::vector<std::pair<std::string, int>> subs = {}) {
  MqttLinkOptions o;
  o.server_uri = broker.url();
  o.client_id = id;
  o.min_retry_ms = 100;
  o.max_retry_ms = 400;
  o.subscriptions = std::move(subs);
  auto link = MqttLink::Create(o, rec->Callbacks(), [rec] { ++rec->wakes; });
  EXPECT_TRUE(link.ok()) << link.status().ToString();
  return link.ok() ? std::move(*link) : nullptr;
}

// Polls (as the agent's loop does) until `done` or about 20 s.
template <typename F>
bool PollUntil(MqttLink& link, F done) {
  for (int i = 0; i < 2000; ++i) {
    link.Poll();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(MqttLink, CompletionsComeFromPollAndAFullWindowIsRefused) {
  MosquittoServer broker;
  broker.Start();
  Recorder rec;
  auto link = MakeLink(broker, "link-window", &rec);
  ASSERT_NE(link, nullptr);
  EXPECT_FALSE(link->connected());
  EXPECT_EQ(link->Publish("t/a", "x", 1).code(), StatusCode::kUnavailable);  // not connected yet
  link->Start();
  ASSERT_TRUE(PollUntil(*link, [&] { return link->connected(); }));
  EXPECT_EQ(rec.connected, 1);
  EXPECT_EQ(link->protocol_version(), 5);
  EXPECT_GT(rec.wakes.load(), 0);  // the connector thread woke the loop

  // Without Poll no PUBACK is read: the window fills and Publish says so instead of blocking.
  int accepted = 0;
  Status refusal;
  for (int i = 0; i < 200 && refusal.ok(); ++i) {
    refusal = link->Publish("t/a", std::string("m").append(std::to_string(i)), static_cast<uint64_t>(i));
    if (refusal.ok()) ++accepted;
  }
  ASSERT_FALSE(refusal.ok()) << "200 messages in flight: the window never filled";
  EXPECT_EQ(refusal.code(), StatusCode::kUnavailable);
  EXPECT_NE(refusal.message().find("window full"), std::string::npos) << refusal.message();
  EXPECT_GT(accepted, 0);
  EXPECT_TRUE(rec.completions.empty());
  // Poll reads the PUBACKs: every accepted message completes once, OK, with its tag.
  ASSERT_TRUE(PollUntil(*link, [&] { return static_cast<int>(rec.completions.size()) == accepted; }));
  std::set<uint64_t> tags;
  for (const auto& c : rec.completions) {
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    tags.insert(c.tag);
  }
  EXPECT_EQ(static_cast<int>(tags.size()), accepted);
  EXPECT_EQ(link->inflight(), 0u);
  EXPECT_TRUE(link->Publish("t/a", "after", 999).ok());
  EXPECT_TRUE(link->Disconnect(2000).ok());
  EXPECT_FALSE(link->connected());
}

TEST(MqttLink, RetainedMessagesArriveThroughTheSubscriptionMadeAtConnect) {
  MosquittoServer broker;
  broker.Start();
  Recorder pub_rec;
  auto pub = MakeLink(broker, "link-pub", &pub_rec);
  pub->Start();
  ASSERT_TRUE(PollUntil(*pub, [&] { return pub->connected(); }));
  ASSERT_TRUE(pub->Publish("models/m/stable", "{\"version\":3}", 1, /*retained=*/true, 1).ok());
  ASSERT_TRUE(PollUntil(*pub, [&] { return pub_rec.completions.size() == 1; }));

  Recorder rec;
  auto sub = MakeLink(broker, "link-sub", &rec, {{"models/m/stable", 1}});
  sub->Start();
  ASSERT_TRUE(PollUntil(*sub, [&] { return !rec.messages.empty(); }));
  EXPECT_EQ(rec.messages[0].topic, "models/m/stable");
  EXPECT_EQ(rec.messages[0].payload, "{\"version\":3}");
  EXPECT_TRUE(rec.messages[0].retained);
}

TEST(MqttLink, BrokerRestartIsReportedAndTheLinkReconnects) {
  MosquittoServer broker;
  broker.Start();
  Recorder rec;
  auto link = MakeLink(broker, "link-restart", &rec);
  link->Start();
  ASSERT_TRUE(PollUntil(*link, [&] { return link->connected(); }));

  broker.Stop();
  ASSERT_TRUE(PollUntil(*link, [&] { return rec.lost == 1; }));
  EXPECT_FALSE(link->connected());
  EXPECT_EQ(link->Publish("t/a", "x", 1).code(), StatusCode::kUnavailable);
  // Attempts against the stopped broker fail and are reported with their retry delay.
  ASSERT_TRUE(PollUntil(*link, [&] { return rec.failures >= 1; }));

  broker.Start();
  ASSERT_TRUE(PollUntil(*link, [&] { return rec.connected == 2; }));
  // (Paho's MQTTClient 1.3 fills in `sessionPresent` for MQTT 3.1.1 only, so it is not checked here.)
  ASSERT_TRUE(link->Publish("t/a", "again", 7).ok());
  ASSERT_TRUE(PollUntil(*link, [&] { return !rec.completions.empty(); }));
  EXPECT_EQ(rec.completions.back().tag, 7u);
  EXPECT_TRUE(rec.completions.back().status.ok());
}

}  // namespace
}  // namespace edgeloop::agent
