// The MQTT wrapper against a real Mosquitto (test/support MosquittoServer): QoS 1 completions,
// retained messages, shared subscriptions, reconnect after a broker restart, persistent sessions,
// the last will, credentials, TLS with a CA file, MQTT 3.1.1 and the 5 -> 3.1.1 fallback.
#include "edgeloop/mqtt/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::mqtt {
namespace {

using testing_support::MosquittoServer;
using testing_support::RunCommand;
using testing_support::TempDir;

// Records everything a client reports; tests wait on it.
class Recorder {
 public:
  ClientCallbacks Callbacks() {
    ClientCallbacks cb;
    cb.on_connected = [this](bool session_present) {
      std::lock_guard<std::mutex> l(mu_);
      ++connects_;
      last_session_present_ = session_present;
      cv_.notify_all();
    };
    cb.on_connection_lost = [this](const std::string&) {
      std::lock_guard<std::mutex> l(mu_);
      ++losses_;
      cv_.notify_all();
    };
    cb.on_connect_failure = [this](const Status& why, int retry_ms) {
      std::lock_guard<std::mutex> l(mu_);
      failures_.push_back(why);
      last_retry_ms_ = retry_ms;
      cv_.notify_all();
    };
    cb.on_message = [this](Message m) {
      std::lock_guard<std::mutex> l(mu_);
      messages_.push_back(std::move(m));
      cv_.notify_all();
    };
    cb.on_publish_complete = [this](const PublishCompletion& c) {
      std::lock_guard<std::mutex> l(mu_);
      completions_.push_back(c);
      cv_.notify_all();
    };
    return cb;
  }
  template <typename Pred>
  bool WaitFor(Pred pred, int timeout_ms = 10000) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return pred(); });
  }
  bool WaitConnects(int n, int timeout_ms = 10000) {
    return WaitFor([&] { return connects_ >= n; }, timeout_ms);
  }
  bool WaitMessages(size_t n, int timeout_ms = 10000) {
    return WaitFor([&] { return messages_.size() >= n; }, timeout_ms);
  }
  std::vector<Message> messages() {
    std::lock_guard<std::mutex> l(mu_);
    return messages_;
  }
  std::vector<PublishCompletion> completions() {
    std::lock_guard<std::mutex> l(mu_);
    return completions_;
  }
  std::vector<Status> failures() {
    std::lock_guard<std::mutex> l(mu_);
    return failures_;
  }
  int connects() {
    std::lock_guard<std::mutex> l(mu_);
    return connects_;
  }
  int losses() {
    std::lock_guard<std::mutex> l(mu_);
    return losses_;
  }
  bool last_session_present() {
    std::lock_guard<std::mutex> l(mu_);
    return last_session_present_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int connects_ = 0;
  int losses_ = 0;
  bool last_session_present_ = false;
  int last_retry_ms_ = 0;
  std::vector<Status> failures_;
  std::vector<Message> messages_;
  std::vector<PublishCompletion> completions_;
};

ClientOptions Options(const std::string& uri, const std::string& id) {
  ClientOptions o;
  o.server_uri = uri;
  o.client_id = id;
  o.min_retry_ms = 100;
  o.max_retry_ms = 1000;
  o.connect_timeout_s = 5;
  return o;
}

std::unique_ptr<Client> Make(const ClientOptions& o, Recorder& r) {
  auto c = Client::Create(o, r.Callbacks());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

// Subscribes and waits until the broker has the subscription (a retained probe comes back).
void SubscribeAndSync(Client& c, Recorder& r, const std::string& filter, const std::string& probe_topic) {
  ASSERT_TRUE(c.Subscribe(filter, 1).ok());
  ASSERT_TRUE(c.Subscribe(probe_topic, 1).ok());
  size_t before = r.messages().size();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(c.Publish(probe_topic, "probe", 1, false, 0).ok());
    if (r.WaitFor([&] { return r.messages_.size() > before; }, 200)) return;
  }
  FAIL() << "subscription never became active";
}


// A loopback TCP forwarder in front of the broker. CutAll() resets every connection (RST, no
// MQTT DISCONNECT), which is what the broker sees when a device loses power or the network.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 8);
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    CloseAll(false);
  }
  int port() const { return port_; }
  void CutAll() {
    std::lock_guard<std::mutex> l(mu_);
    CloseAll(true);
  }

 private:
  void CloseAll(bool reset) {
    for (auto [a, b] : pairs_) {
      for (int fd : {a, b}) {
        if (reset) {
          linger lg{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        ::close(fd);
      }
    }
    pairs_.clear();
  }
  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      {
        std::lock_guard<std::mutex> l(mu_);
        for (auto [a, b] : pairs_) {
          fds.push_back({a, POLLIN, 0});
          fds.push_back({b, POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      std::lock_guard<std::mutex> l(mu_);
      if (fds[0].revents & POLLIN) {
        int c = ::accept(listen_fd_, nullptr, nullptr);
        int u = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(target_port_));
        if (c >= 0 && ::connect(u, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
          pairs_.emplace_back(c, u);
        } else {
          if (c >= 0) ::close(c);
          ::close(u);
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        size_t p = (i - 1) / 2;
        if (p >= pairs_.size()) break;
        auto [a, b] = pairs_[p];
        int from = fds[i].fd, to = from == a ? b : a;
        if (from != a && from != b) continue;  // the pair was closed meanwhile
        char buf[16384];
        ssize_t n = ::recv(from, buf, sizeof buf, 0);
        if (n <= 0 || ::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          ::close(a);
          ::close(b);
          pairs_.erase(pairs_.begin() + static_cast<long>(p));
          break;
        }
      }
    }
  }
  int target_port_;
  int listen_fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::pair<int, int>> pairs_;  // GUARDED_BY(mu_): client side, broker side
};

TEST(MqttClient, Qos1PublishCompletesWithTagAndToken) {
  MosquittoServer broker;
  broker.Start();
  Recorder sub_rec, pub_rec;
  auto sub = Make(Options(broker.url(), "sub"), sub_rec);
  auto pub = Make(Options(broker.url(), "pub"), pub_rec);
  ASSERT_TRUE(sub->Connect().ok());
  ASSERT_TRUE(pub->Connect().ok());
  ASSERT_TRUE(sub_rec.WaitConnects(1));
  ASSERT_TRUE(pub_rec.WaitConnects(1));
  EXPECT_EQ(pub->protocol_version(), 5);
  EXPECT_TRUE(pub->connected());
  SubscribeAndSync(*sub, sub_rec, "t/data", "t/probe");
  size_t base = sub_rec.messages().size();

  std::map<int, uint64_t> token_to_tag;
  for (uint64_t tag = 1; tag <= 50; ++tag) {
    auto token = pub->Publish("t/data", "m" + std::to_string(tag), 1, false, tag);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_to_tag[*token] = tag;
  }
  ASSERT_TRUE(pub_rec.WaitFor([&] { return pub_rec.completions_.size() >= 50; }));
  std::set<uint64_t> tags;
  for (const auto& c : pub_rec.completions()) {
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    EXPECT_EQ(token_to_tag[c.token], c.tag);
    tags.insert(c.tag);
  }
  EXPECT_EQ(tags.size(), 50u);
  ASSERT_TRUE(sub_rec.WaitMessages(base + 50));
  int data = 0;
  for (const auto& m : sub_rec.messages()) data += m.topic == "t/data";
  EXPECT_EQ(data, 50);
  EXPECT_TRUE(pub->Disconnect(2000).ok());
  EXPECT_FALSE(pub->connected());
}

TEST(MqttClient, RetainedMessageReachesLateSubscriber) {
  MosquittoServer broker;
  broker.Start();
  Recorder pub_rec, sub_rec;
  auto pub = Make(Options(broker.url(), "pub"), pub_rec);
  ASSERT_TRUE(pub->Connect().ok());
  ASSERT_TRUE(pub_rec.WaitConnects(1));
  ASSERT_TRUE(pub->Publish("edgeloop/f/models/m/stable", "{\"version\":3}", 1, true, 9).ok());
  ASSERT_TRUE(pub_rec.WaitFor([&] { return !pub_rec.completions_.empty(); }));
  auto sub = Make(Options(broker.url(), "late"), sub_rec);
  ASSERT_TRUE(sub->Subscribe("edgeloop/f/models/m/+", 1).ok());  // remembered before connecting
  ASSERT_TRUE(sub->Connect().ok());
  ASSERT_TRUE(sub_rec.WaitMessages(1));
  auto m = sub_rec.messages()[0];
  EXPECT_EQ(m.topic, "edgeloop/f/models/m/stable");
  EXPECT_EQ(m.payload, "{\"version\":3}");
  EXPECT_TRUE(m.retained);
}

TEST(MqttClient, SharedSubscriptionSplitsTheLoad) {
  MosquittoServer broker;
  broker.Start();
  Recorder a_rec, b_rec, pub_rec;
  auto a = Make(Options(broker.url(), "collector-a"), a_rec);
  auto b = Make(Options(broker.url(), "collector-b"), b_rec);
  auto pub = Make(Options(broker.url(), "device"), pub_rec);
  for (Client* c : {a.get(), b.get(), pub.get()}) ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(a_rec.WaitConnects(1) && b_rec.WaitConnects(1) && pub_rec.WaitConnects(1));
  ASSERT_TRUE(a->Subscribe("$share/collectors/edgeloop/+/devices/+/results", 1).ok());
  ASSERT_TRUE(b->Subscribe("$share/collectors/edgeloop/+/devices/+/results", 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // SUBACKs
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(pub->Publish("edgeloop/f/devices/d" + std::to_string(i % 4) + "/results", std::to_string(i), 1, false,
                             static_cast<uint64_t>(i))
                    .ok());
  }
  ASSERT_TRUE(a_rec.WaitFor([&] { return a_rec.messages_.size() + b_rec.messages().size() >= 40; }, 10000));
  std::set<std::string> all;
  for (const auto& m : a_rec.messages()) all.insert(m.payload);
  for (const auto& m : b_rec.messages()) all.insert(m.payload);
  EXPECT_EQ(all.size(), 40u);
  EXPECT_EQ(a_rec.messages().size() + b_rec.messages().size(), 40u);  // each message to one member
  EXPECT_GT(a_rec.messages().size(), 0u);
  EXPECT_GT(b_rec.messages().size(), 0u);
}

TEST(MqttClient, ReconnectsAfterBrokerRestartAndRenewsSubscriptions) {
  MosquittoServer broker;
  broker.Start();
  Recorder sub_rec, pub_rec;
  ClientOptions so = Options(broker.url(), "sub");
  so.clean_start = true;  // the renewed subscription, not the stored session, must deliver
  auto sub = Make(so, sub_rec);
  auto pub = Make(Options(broker.url(), "pub"), pub_rec);
  ASSERT_TRUE(sub->Subscribe("r/x", 1).ok());
  ASSERT_TRUE(sub->Connect().ok());
  ASSERT_TRUE(pub->Connect().ok());
  ASSERT_TRUE(sub_rec.WaitConnects(1) && pub_rec.WaitConnects(1));

  broker.Stop();
  ASSERT_TRUE(sub_rec.WaitFor([&] { return sub_rec.losses_ >= 1; }));
  EXPECT_FALSE(pub->Publish("r/x", "while down", 1, false, 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a few failed attempts
  EXPECT_FALSE(sub_rec.failures().empty());
  broker.Start();
  ASSERT_TRUE(sub_rec.WaitConnects(2, 15000));
  ASSERT_TRUE(pub_rec.WaitConnects(2, 15000));
  // The renewed SUBSCRIBE may still be on its way (a loaded machine): publish until one arrives
  // instead of guessing how long the SUBACK takes.
  bool arrived = false;
  for (int i = 0; i < 50 && !arrived; ++i) {
    ASSERT_TRUE(pub->Publish("r/x", "after restart", 1, false, 2 + i).ok());
    arrived = sub_rec.WaitMessages(1, 300);
  }
  ASSERT_TRUE(arrived);
  EXPECT_EQ(sub_rec.messages()[0].payload, "after restart");
}

TEST(MqttClient, PersistentSessionKeepsQueuedMessages) {
  MosquittoServer broker;
  broker.Start();
  Recorder rec1, pub_rec;
  ClientOptions so = Options(broker.url(), "persistent-sub");
  so.session_expiry_s = 3600;
  {
    auto sub = Make(so, rec1);
    ASSERT_TRUE(sub->Subscribe("p/queue", 1).ok());
    ASSERT_TRUE(sub->Connect().ok());
    ASSERT_TRUE(rec1.WaitConnects(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(sub->Disconnect(1000).ok());
  }
  auto pub = Make(Options(broker.url(), "pub"), pub_rec);
  ASSERT_TRUE(pub->Connect().ok());
  ASSERT_TRUE(pub_rec.WaitConnects(1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub->Publish("p/queue", std::to_string(i), 1, false, 0).ok());
  ASSERT_TRUE(pub_rec.WaitFor([&] { return pub_rec.completions_.size() >= 5; }));

  Recorder rec2;
  auto sub = Make(so, rec2);  // no Subscribe call: the session has it
  ASSERT_TRUE(sub->Connect().ok());
  ASSERT_TRUE(rec2.WaitConnects(1));
  EXPECT_TRUE(rec2.last_session_present());
  ASSERT_TRUE(rec2.WaitMessages(5));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rec2.messages()[static_cast<size_t>(i)].payload, std::to_string(i));
}

TEST(MqttClient, LastWillWhenTheConnectionDies) {
  MosquittoServer broker;
  broker.Start();
  TcpProxy proxy(broker.port());
  Recorder sub_rec, dev_rec;
  auto sub = Make(Options(broker.url(), "watcher"), sub_rec);
  ASSERT_TRUE(sub->Subscribe("edgeloop/f/devices/d/status", 1).ok());
  ASSERT_TRUE(sub->Connect().ok());
  ASSERT_TRUE(sub_rec.WaitConnects(1));
  ClientOptions o = Options("tcp://127.0.0.1:" + std::to_string(proxy.port()), "device-d");
  o.will = Will{"edgeloop/f/devices/d/status", R"({"device_id":"d","state":"offline"})", 1, true};
  auto dev = Make(o, dev_rec);
  ASSERT_TRUE(dev->Connect().ok());
  ASSERT_TRUE(dev_rec.WaitConnects(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  proxy.CutAll();  // no DISCONNECT reaches the broker
  ASSERT_TRUE(sub_rec.WaitMessages(1));
  EXPECT_EQ(sub_rec.messages()[0].payload, R"({"device_id":"d","state":"offline"})");
  // The device notices and reconnects through the proxy by itself.
  ASSERT_TRUE(dev_rec.WaitFor([&] { return dev_rec.losses_ >= 1; }));
  ASSERT_TRUE(dev_rec.WaitConnects(2, 15000));
}

TEST(MqttClient, PublishWhileDisconnectedIsUnavailableAndFailuresAreReported) {
  int port = testing_support::FreePort();  // nothing listens there
  Recorder rec;
  auto c = Make(Options("tcp://127.0.0.1:" + std::to_string(port), "lonely"), rec);
  auto r = c->Publish("a/b", "x", 1, false, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(rec.WaitFor([&] { return rec.failures_.size() >= 3; }, 10000));
  EXPECT_EQ(rec.failures()[0].code(), StatusCode::kUnavailable);
  EXPECT_GT(rec.last_retry_ms_, 0);
  EXPECT_FALSE(c->connected());
  EXPECT_FALSE(c->Publish("a/+", "x", 1, false, 1).ok());
}

TEST(MqttClient, RejectsBadOptions) {
  Recorder rec;
  ClientOptions o = Options("http://127.0.0.1:1", "x");
  EXPECT_EQ(Client::Create(o, rec.Callbacks()).status().code(), StatusCode::kInvalidArgument);
  o = Options("tcp://127.0.0.1:1", "");
  EXPECT_EQ(Client::Create(o, rec.Callbacks()).status().code(), StatusCode::kInvalidArgument);
}

TEST(MqttClient, UsernameAndPassword) {
  TempDir dir;
  std::string pwfile = dir.Join("passwd");
  auto r = RunCommand({"mosquitto_passwd", "-b", "-c", pwfile, "device", "s3cret"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(pwfile.c_str(), 0644);
  MosquittoServer broker("allow_anonymous false\npassword_file " + pwfile + "\n");
  broker.Start();

  Recorder bad_rec;
  ClientOptions bad = Options(broker.url(), "dev-bad");
  bad.username = "device";
  bad.password = "wrong";
  auto c1 = Make(bad, bad_rec);
  ASSERT_TRUE(c1->Connect().ok());
  ASSERT_TRUE(bad_rec.WaitFor([&] { return !bad_rec.failures_.empty(); }));
  EXPECT_EQ(bad_rec.failures()[0].code(), StatusCode::kPermissionDenied) << bad_rec.failures()[0].ToString();
  EXPECT_EQ(bad_rec.connects(), 0);

  Recorder ok_rec;
  ClientOptions good = bad;
  good.client_id = "dev-good";
  good.password = "s3cret";
  auto c2 = Make(good, ok_rec);
  ASSERT_TRUE(c2->Connect().ok());
  ASSERT_TRUE(ok_rec.WaitConnects(1));
}

// A CA, and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct TlsFiles {
  TempDir dir;
  std::string ca, cert, key, other_ca;
  TlsFiles() {
    ca = dir.Join("ca.crt");
    cert = dir.Join("server.crt");
    key = dir.Join("server.key");
    other_ca = dir.Join("other-ca.crt");
    std::string ext = dir.Join("ext.cnf");
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    auto run = [](std::vector<std::string> argv) {
      auto r = RunCommand(argv);
      if (r.exit_code != 0) ADD_FAILURE() << argv[1] << ": " << r.err;
    };
    run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.Join("ca.key"), "-out", ca,
         "-days", "2", "-subj", "/CN=edgeloop-test-ca"});
    run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.Join("other.key"), "-out",
         other_ca, "-days", "2", "-subj", "/CN=someone-else"});
    run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", dir.Join("server.csr"), "-subj",
         "/CN=127.0.0.1"});
    run({"openssl", "x509", "-req", "-in", dir.Join("server.csr"), "-CA", ca, "-CAkey", dir.Join("ca.key"),
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext});
    ::chmod(dir.path().c_str(), 0755);
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) ::chmod(e.path().c_str(), 0644);
  }
};

TEST(MqttClient, TlsWithCaFile) {
  TlsFiles tls;
  int tls_port = testing_support::FreePort();
  MosquittoServer broker("listener " + std::to_string(tls_port) + " 127.0.0.1\ncafile " + tls.ca + "\ncertfile " +
                         tls.cert + "\nkeyfile " + tls.key + "\n");
  broker.Start();
  ASSERT_TRUE(testing_support::WaitForPort(tls_port));
  std::string uri = "ssl://127.0.0.1:" + std::to_string(tls_port);

  Recorder ok_rec;
  ClientOptions o = Options(uri, "tls-ok");
  o.ca_file = tls.ca;
  auto c = Make(o, ok_rec);
  ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(ok_rec.WaitConnects(1)) << (ok_rec.failures().empty() ? "" : ok_rec.failures()[0].ToString());
  auto t = c->Publish("tls/x", "secret", 1, false, 5);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(ok_rec.WaitFor([&] { return !ok_rec.completions_.empty(); }));
  EXPECT_TRUE(ok_rec.completions()[0].status.ok());

  Recorder bad_rec;
  ClientOptions bad = Options(uri, "tls-untrusted");
  bad.ca_file = tls.other_ca;  // the server's certificate does not chain to this CA
  auto c2 = Make(bad, bad_rec);
  ASSERT_TRUE(c2->Connect().ok());
  ASSERT_TRUE(bad_rec.WaitFor([&] { return !bad_rec.failures_.empty(); }));
  EXPECT_EQ(bad_rec.connects(), 0);
}

TEST(MqttClient, Mqtt311) {
  MosquittoServer broker;
  broker.Start();
  Recorder rec;
  ClientOptions o = Options(broker.url(), "old-style");
  o.version = ProtocolVersion::kV311;
  auto c = Make(o, rec);
  ASSERT_TRUE(c->Subscribe("v311/x", 1).ok());
  ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(rec.WaitConnects(1));
  EXPECT_EQ(c->protocol_version(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(c->Publish("v311/x", "hello", 1, false, 77).ok());
  ASSERT_TRUE(rec.WaitFor([&] { return !rec.completions_.empty() && !rec.messages_.empty(); }));
  EXPECT_TRUE(rec.completions()[0].status.ok());
  EXPECT_EQ(rec.completions()[0].tag, 77u);
  EXPECT_EQ(rec.messages()[0].payload, "hello");
}

// A broker that only speaks MQTT 3.1.1, at the byte level: it answers an MQTT 5 CONNECT with the
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

TEST(MqttClient, AutoFallsBackToMqtt311) {
  Mqtt311OnlyBroker broker;
  Recorder rec;
  ClientOptions o = Options("tcp://127.0.0.1:" + std::to_string(broker.port()), "fallback");
  o.version = ProtocolVersion::kAuto;
  auto c = Make(o, rec);
  ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(rec.WaitConnects(1)) << (rec.failures().empty() ? "" : rec.failures()[0].ToString());
  EXPECT_EQ(c->protocol_version(), 4);
  auto levels = broker.levels();
  ASSERT_GE(levels.size(), 2u);
  EXPECT_EQ(levels[0], 5);
  EXPECT_EQ(levels.back(), 4);
  ASSERT_FALSE(rec.failures().empty());
  EXPECT_NE(rec.failures()[0].message().find("falling back to MQTT 3.1.1"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::mqtt
