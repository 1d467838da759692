// Fuzzes mqtt::WireClient (src/mqtt/wire_client.cc, the simulator's and the collector's MQTT 5
// client) on whatever a broker, or anything between it and us, sends: CONNACK with properties,
// PUBACK, SUBACK, PUBLISH (QoS 0/1, properties), PINGRESP, DISCONNECT, garbage, truncation. A
// loopback responder thread reads the CONNECT, sends the fuzz input as the broker's whole answer
// and closes. The client must never crash, hang or leak; it delivers no more payload bytes than
// it was sent, acknowledges only packet ids it has in flight, and a failed Connect leaves it
// disconnected.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/loopback_peer.h"
#include "mqtt/wire_client.h"

namespace {

using fuzz_support::Check;

// Accepts one connection, reads what the client sends first (its CONNECT), writes `answer`, keeps
// reading for a moment (the client's SUBSCRIBE, PUBLISHes, PUBACKs), closes.
void Respond(int listener, const std::string& answer) {
  int c = ::accept(listener, nullptr, nullptr);
  if (c < 0) return;
  char buf[4096];
  pollfd p{c, POLLIN, 0};
  if (::poll(&p, 1, 1000) == 1) (void)::recv(c, buf, sizeof(buf), 0);
  fuzz_support::SendAll(c, answer);
  for (int i = 0; i < 5 && ::poll(&p, 1, 10) == 1; ++i) {
    if (::recv(c, buf, sizeof(buf), 0) <= 0) break;
  }
  ::shutdown(c, SHUT_RDWR);
  ::close(c);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::mqtt;
  static int port = 0;
  static int listener = fuzz_support::LoopbackListener(&port);
  const std::string answer(reinterpret_cast<const char*>(data), size);
  std::thread server(Respond, listener, answer);

  WireClient c("127.0.0.1", port, "fuzz", 30, /*clean_start=*/false, /*session_expiry_s=*/60);
  c.SetCredentials("user", "pass");
  if (!c.Connect(1000).ok()) {
    Check(!c.connected());
    server.join();
    return 0;
  }
  Check(c.receive_maximum() >= 0 && c.receive_maximum() <= 65535);
  (void)c.Subscribe("edgeloop/+/devices/+/results", 1);
  std::vector<uint16_t> sent;
  for (int i = 0; i < 3; ++i) {
    auto id = c.Publish("t/x", "payload", i == 2);
    Check(id.ok() && *id != 0);
    sent.push_back(*id);
  }
  std::vector<WireAck> acks;
  std::vector<WireMessage> messages;
  size_t delivered = 0;
  const int64_t end = NowMs() + 2000;
  while (c.connected() && NowMs() < end) {
    messages.clear();
    if (!c.Service(&acks, NowMs(), &messages).ok()) break;
    for (const auto& m : messages) delivered += m.topic.size() + m.payload.size();
    pollfd p{c.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
  }
  c.Disconnect();
  server.join();
  Check(delivered <= size);
  Check(acks.size() <= sent.size());
  for (const WireAck& a : acks) {
    bool ours = false;
    for (uint16_t id : sent) ours = ours || id == a.packet_id;
    Check(ours);
  }
  return 0;
}
