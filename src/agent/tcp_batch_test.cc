#include "agent/tcp_batch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/tcp_test_util.h"

namespace edgeloop::agent {
namespace {

// A listener on a free loopback port, a client connected to it and the accepted end.
struct LoopbackPair {
  int listener = -1, client = -1, server = -1, port = 0;
  LoopbackPair() {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 4) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    server = ::accept(listener, nullptr, nullptr);
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as Paho does
  }
  ~LoopbackPair() {
    for (int fd : {listener, client, server}) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool ok() const { return server >= 0; }
};

int CorkValue(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &len), 0);
  return v;
}

// Ten small writes, as Paho's ten PUBLISHes of a batch; returns the segments they took.
uint64_t SendTen(const LoopbackPair& p) {
  const uint64_t before = SegmentsOut(p.client);
  const char msg[40] = "a 40-byte PUBLISH, give or take........";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(::write(p.client, msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  return SegmentsOut(p.client) - before;
}

TEST(TcpBatch, UriPortIsTheExplicitOneOrTheSchemes) {
  EXPECT_EQ(UriPort("tcp://127.0.0.1:1884"), 1884);
  EXPECT_EQ(UriPort("tcp://broker.local"), 1883);
  EXPECT_EQ(UriPort("mqtt://broker.local/"), 1883);
  EXPECT_EQ(UriPort("ssl://broker.local"), 8883);
  EXPECT_EQ(UriPort("mqtts://broker.local:9999"), 9999);
  EXPECT_EQ(UriPort("tcp://[::1]"), 1883);
  EXPECT_EQ(UriPort("tcp://[::1]:2000"), 2000);
  EXPECT_EQ(UriPort("ws://broker.local:80"), 0);
  EXPECT_EQ(UriPort("tcp://broker.local:http"), 0);
  EXPECT_EQ(UriPort("tcp://broker.local:70000"), 0);
  EXPECT_EQ(UriPort("broker.local:1883"), 0);
}

TEST(TcpBatch, FindsTheOneNewSocketConnectedToThePort) {
  const std::vector<ino_t> before = OpenSockets();
  LoopbackPair p;
  ASSERT_TRUE(p.ok());
  // The client is new and connected to the port; the accepted end's peer is the client's port.
  const SocketId found = FindNewPeerSocket(before, p.port);
  EXPECT_EQ(found.fd, p.client);
  // Known before: not new.
  EXPECT_FALSE(FindNewPeerSocket(OpenSockets(), p.port).known());
  // Two new ones to the same port: ambiguous, so none.
  LoopbackPair other;
  ASSERT_TRUE(other.ok());
  const int second = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(p.port));
  ASSERT_EQ(::connect(second, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_FALSE(FindNewPeerSocket(before, p.port).known());
  ::close(second);
}

TEST(TcpBatch, ACorkedBatchTakesFewerSegments) {
  LoopbackPair p;
  ASSERT_TRUE(p.ok());
  const std::vector<ino_t> none;
  const SocketId s = FindNewPeerSocket(none, p.port);
  ASSERT_EQ(s.fd, p.client);
  const uint64_t plain = SendTen(p);
  ASSERT_TRUE(SetCork(s, true));
  EXPECT_EQ(CorkValue(p.client), 1);
  const uint64_t corked_while_held = SendTen(p);
  ASSERT_TRUE(SetCork(s, false));
  EXPECT_EQ(CorkValue(p.client), 0);
  EXPECT_GE(plain, 10u);                  // one segment per write with TCP_NODELAY
  EXPECT_LE(corked_while_held, 1u);       // held (at most one if the 200 ms cork timer fired)
  char buf[1024];
  size_t got = 0;
  while (got < 800) {
    const ssize_t n = ::recv(p.server, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, 800u);  // everything arrives once the cork is pulled
}

TEST(TcpBatch, ADescriptorReusedForAnotherSocketIsNotCorked) {
  LoopbackPair p;
  ASSERT_TRUE(p.ok());
  SocketId s = FindNewPeerSocket({}, p.port);
  ASSERT_EQ(s.fd, p.client);
  // The library closes its socket and the number goes to another one.
  LoopbackPair other;
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(::dup2(other.client, p.client), p.client);
  EXPECT_FALSE(SetCork(s, true));
  EXPECT_EQ(CorkValue(p.client), 0);
  EXPECT_FALSE(SetCork(SocketId{}, true));
}

}  // namespace
}  // namespace edgeloop::agent
