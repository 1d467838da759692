// The agent's single-threaded MQTT link against a real Mosquitto: completions read by Poll, a full
// in-flight window refused instead of blocking, a retained message through the subscription made
// at connect, and a broker restart (reported lost, reconnected).
#include "agent/mqtt_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <chrono>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <fstream>

#include "agent/tcp_test_util.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using testing_support::MosquittoServer;
using testing_support::TempDir;

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

TEST(MqttLink, ABatchGoesToTheBrokerInOneSegment) {
  MosquittoServer broker;
  broker.Start();
  Recorder rec;
  auto link = MakeLink(broker, "link-batch", &rec);
  link->Start();
  ASSERT_TRUE(PollUntil(*link, [&] { return link->connected(); }));
  const SocketId s = link->batch_socket();
  ASSERT_TRUE(s.known()) << "Paho's socket was not found";
  // Ten PUBLISHes in a batch: held in the socket until EndBatch (without the cork the first
  // goes at once, Nagle or not), then one segment (and at most an ACK of something besides).
  const uint64_t before = SegmentsOut(s.fd);
  link->BeginBatch();
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(link->Publish("t/batch", "result " + std::to_string(i), i).ok());
  const uint64_t held = SegmentsOut(s.fd) - before;
  link->EndBatch();
  const uint64_t batched = SegmentsOut(s.fd) - before;
  EXPECT_EQ(held, 0u);
  EXPECT_GE(batched, 1u);
  EXPECT_LE(batched, 2u);
  ASSERT_TRUE(PollUntil(*link, [&] { return rec.completions.size() == 10; }));
  for (const auto& c : rec.completions) EXPECT_TRUE(c.status.ok()) << c.status.ToString();
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

  EXPECT_FALSE(link->batch_socket().known());  // forgotten with the connection
  broker.Start();
  ASSERT_TRUE(PollUntil(*link, [&] { return rec.connected == 2; }));
  // The new connection's socket is found again (a socket's inode is not reused while it is open).
  EXPECT_TRUE(link->batch_socket().known());
  // (Paho's MQTTClient 1.3 fills in `sessionPresent` for MQTT 3.1.1 only, so it is not checked here.)
  ASSERT_TRUE(link->Publish("t/a", "again", 7).ok());
  ASSERT_TRUE(PollUntil(*link, [&] { return !rec.completions.empty(); }));
  EXPECT_EQ(rec.completions.back().tag, 7u);
  EXPECT_TRUE(rec.completions.back().status.ok());
}

// (As in src/mqtt/client_test.cc.) A broker that only speaks MQTT 3.1.1, at the byte level: it answers an MQTT 5 CONNECT with the
// 3.1.1 CONNACK "unacceptable protocol version" (as Mosquitto 1.4 does) and accepts a 3.1.1
// CONNECT. Records the protocol level of every CONNECT it sees.
class Mqtt311OnlyBroker {
 public:
  Mqtt311OnlyBroker() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Mqtt311OnlyBroker() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : clients_) ::close(c);
  }
  int port() const { return port_; }
  std::vector<int> levels() {
    std::lock_guard<std::mutex> l(mu_);
    return levels_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      unsigned char buf[512];
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      // CONNECT: fixed header (1 + 1..4 length bytes), then "\0\4MQTT", then the protocol level.
      int level = -1;
      if (n > 10) {
        size_t i = 1;
        while (i < 5 && (buf[i] & 0x80)) ++i;
        size_t p = i + 1 + 6;
        if (p < static_cast<size_t>(n)) level = buf[p];
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        levels_.push_back(level);
      }
      unsigned char connack[4] = {0x20, 0x02, 0x00, static_cast<unsigned char>(level == 4 ? 0x00 : 0x01)};
      (void)!::send(c, connack, sizeof connack, MSG_NOSIGNAL);
      if (level == 4) {
        clients_.push_back(c);  // keep the session open
      } else {
        ::close(c);
      }
    }
  }
  int fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> clients_;
  std::mutex mu_;
  std::vector<int> levels_;
};

TEST(MqttLink, FallsBackToMqtt311WhenTheBrokerRefusesVersion5) {
  Mqtt311OnlyBroker broker;
  Recorder rec;
  MqttLinkOptions o;
  o.server_uri = "tcp://127.0.0.1:" + std::to_string(broker.port());
  o.client_id = "link-fallback";
  o.min_retry_ms = 50;
  auto link = MqttLink::Create(o, rec.Callbacks(), [] {});
  ASSERT_TRUE(link.ok());
  (*link)->Start();
  ASSERT_TRUE(PollUntil(**link, [&] { return (*link)->connected(); }));
  EXPECT_EQ((*link)->protocol_version(), 4);
  EXPECT_TRUE((*link)->batch_socket().known());  // the second connection's socket, the first one closed
  auto levels = broker.levels();
  ASSERT_GE(levels.size(), 2u);
  EXPECT_EQ(levels[0], 5);
  EXPECT_EQ(levels.back(), 4);
  EXPECT_GE(rec.failures, 1);  // the refused MQTT 5 attempt was reported
}

// ssl:// loads Paho's TLS variant: a broker whose certificate chains to ca_file is accepted, one
// that does not is refused (and retried, reported each time).
TEST(MqttLink, TlsWithCaFile) {
  TempDir dir;
  const std::string ca = dir.Join("ca.crt"), cert = dir.Join("server.crt"), key = dir.Join("server.key"),
                    other_ca = dir.Join("other-ca.crt");
  std::ofstream(dir.Join("ext.cnf")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  auto run = [](std::vector<std::string> argv) {
    auto r = testing_support::RunCommand(argv);
    if (r.exit_code != 0) ADD_FAILURE() << argv[1] << ": " << r.err;
  };
  run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.Join("ca.key"), "-out", ca, "-days",
       "2", "-subj", "/CN=edgeloop-test-ca"});
  run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.Join("other.key"), "-out", other_ca,
       "-days", "2", "-subj", "/CN=someone-else"});
  run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", dir.Join("server.csr"), "-subj",
       "/CN=127.0.0.1"});
  run({"openssl", "x509", "-req", "-in", dir.Join("server.csr"), "-CA", ca, "-CAkey", dir.Join("ca.key"),
       "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", dir.Join("ext.cnf")});
  ::chmod(dir.path().c_str(), 0755);
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) ::chmod(e.path().c_str(), 0644);
  const int port = testing_support::FreePort();
  MosquittoServer broker("listener " + std::to_string(port) + " 127.0.0.1\ncafile " + ca + "\ncertfile " + cert +
                         "\nkeyfile " + key + "\n");
  broker.Start();
  ASSERT_TRUE(testing_support::WaitForPort(port));
  const std::string uri = "ssl://127.0.0.1:" + std::to_string(port);

  Recorder rec;
  MqttLinkOptions o;
  o.server_uri = uri;
  o.client_id = "link-tls";
  o.ca_file = ca;
  auto link = MqttLink::Create(o, rec.Callbacks(), [] {});
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  (*link)->Start();
  ASSERT_TRUE(PollUntil(**link, [&] { return (*link)->connected(); }));
  // Paho's socket under TLS is found too, and a corked batch of TLS records arrives whole.
  EXPECT_TRUE((*link)->batch_socket().known());
  (*link)->BeginBatch();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE((*link)->Publish("tls/x", "secret " + std::to_string(i), 5 + i).ok());
  (*link)->EndBatch();
  ASSERT_TRUE(PollUntil(**link, [&] { return rec.completions.size() == 3; }));
  for (const auto& c : rec.completions) EXPECT_TRUE(c.status.ok()) << c.status.ToString();

  Recorder bad;
  o.client_id = "link-tls-untrusted";
  o.ca_file = other_ca;  // the server's certificate does not chain to this CA
  o.min_retry_ms = 100;
  auto untrusted = MqttLink::Create(o, bad.Callbacks(), [] {});
  ASSERT_TRUE(untrusted.ok());
  (*untrusted)->Start();
  ASSERT_TRUE(PollUntil(**untrusted, [&] { return bad.failures >= 2; }));
  EXPECT_EQ(bad.connected, 0);
}

}  // namespace
}  // namespace edgeloop::agent
