// WireClient against a scripted peer on loopback: Mosquitto announces a Receive Maximum but does
// not enforce it on incoming messages, so only a peer that counts can show the window is kept.
#include "mqtt/wire_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace edgeloop::mqtt {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Reads bytes from `fd` for up to `ms`, appending them to `into`.
void ReadFor(int fd, int ms, std::string* into) {
  const int64_t end = NowMs() + ms;
  char buf[4096];
  while (NowMs() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) != 1) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return;
    into->append(buf, static_cast<size_t>(n));
  }
}

// Packet types (high nibble) of the complete packets in `bytes` (remaining lengths < 128 here).
std::vector<int> PacketTypes(const std::string& bytes) {
  std::vector<int> types;
  size_t p = 0;
  while (p + 2 <= bytes.size()) {
    size_t len = static_cast<unsigned char>(bytes[p + 1]);
    if (p + 2 + len > bytes.size()) break;
    types.push_back(static_cast<unsigned char>(bytes[p]) >> 4);
    p += 2 + len;
  }
  return types;
}

TEST(WireClient, KeepsTheConnacksReceiveMaximumAndRoutesPubacks) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(lfd, 1), 0);
  socklen_t al = sizeof(a);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &al);
  const int port = ntohs(a.sin_port);

  std::string connect_bytes, publish_bytes;
  std::thread peer([&] {
    int fd = ::accept(lfd, nullptr, nullptr);
    ReadFor(fd, 300, &connect_bytes);
    // CONNACK: no session, success, properties: Topic Alias Maximum 10, Receive Maximum 2.
    const unsigned char connack[] = {0x20, 0x09, 0x00, 0x00, 0x06, 0x22, 0x00, 0x0a, 0x21, 0x00, 0x02};
    (void)!::write(fd, connack, sizeof(connack));
    ReadFor(fd, 500, &publish_bytes);
    // PUBACK packet id 1 (MQTT 5 short form) and packet id 2 refused (0x87 not authorized).
    const unsigned char acks[] = {0x40, 0x02, 0x00, 0x01, 0x40, 0x03, 0x00, 0x02, 0x87};
    (void)!::write(fd, acks, sizeof(acks));
    ReadFor(fd, 300, &publish_bytes);
    ::close(fd);
  });

  WireClient c("127.0.0.1", port, "wire-test", 30);
  ASSERT_TRUE(c.Connect(2000).ok()) << c.last_error();
  EXPECT_EQ(c.receive_maximum(), 2);
  ASSERT_EQ(PacketTypes(connect_bytes), std::vector<int>{1});
  EXPECT_EQ(connect_bytes[8], 5);  // protocol level: MQTT 5

  // The caller (a shard) keeps to receive_maximum(): it publishes two and waits.
  ASSERT_EQ(*c.Publish("t/a", "one", false), 1);
  ASSERT_EQ(*c.Publish("t/b", "two", true), 2);
  std::vector<WireAck> acks;
  const int64_t end = NowMs() + 3000;
  while (acks.size() < 2 && NowMs() < end && c.connected()) {
    ASSERT_TRUE(c.Service(&acks, NowMs()).ok()) << c.last_error();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].packet_id, 1);
  EXPECT_EQ(acks[0].reason, 0);
  EXPECT_EQ(acks[1].packet_id, 2);
  EXPECT_EQ(acks[1].reason, 0x87);
  // After the peer closes, the next Service reports it.
  peer.join();
  Status st = Status::Ok();
  for (int i = 0; i < 100 && st.ok(); ++i) {
    st = c.Service(&acks, NowMs());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(c.connected());
  ::close(lfd);

  // Both PUBLISH packets, QoS 1, the second retained, in one stream.
  ASSERT_EQ(PacketTypes(publish_bytes), (std::vector<int>{3, 3}));
  EXPECT_EQ(static_cast<unsigned char>(publish_bytes[0]), 0x32);
  EXPECT_NE(publish_bytes.find("one"), std::string::npos);
  const size_t second = 2 + static_cast<unsigned char>(publish_bytes[1]);
  EXPECT_EQ(static_cast<unsigned char>(publish_bytes[second]), 0x33);
}

TEST(WireClient, RefusedConnectionAndBadUrlsAreNamed) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(WireClient::ParseUrl("tcp://127.0.0.1:1884", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 1884);
  EXPECT_TRUE(WireClient::ParseUrl("mqtt://broker", &host, &port).ok());
  EXPECT_EQ(port, 1883);
  EXPECT_NE(WireClient::ParseUrl("ssl://h:1", &host, &port).message().find("ssl://h:1"), std::string::npos);
  EXPECT_NE(WireClient::ParseUrl("tcp://h:x", &host, &port).message().find("bad port 'x'"), std::string::npos);
  WireClient c("127.0.0.1", 1, "x", 30);
  Status st = c.Connect(1000);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::mqtt
