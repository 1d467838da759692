// bench_footprint_floor: the least a device loop at the agent's rate can cost on this machine, as
// a peer for bench_agent_footprint (which runs it next to the agent and measures both the same way).
// Not a product: it keeps no state across restarts, parses nothing and handles no errors beyond
// stopping. The MQTT packets are written by hand on purpose: any client library would add work,
// and the point is the floor under every library.
//   --mode sleep     wakes at --rate-hz on an absolute deadline and does nothing else
//   --mode publish   per tick: one result of --payload-bytes into a spool file (written full of
//                    zeros first and mapped shared, as the agent's spool segments are, used as a
//                    ring: a memcpy per result), a fdatasync of it once a second, and MQTT 3.1.1
//                    QoS 1 to 127.0.0.1:--port.
//                    --batch 1: one PUBLISH sent and its PUBACK read per tick (what the results
//                    contract asks: one result per message, durable before it is sent);
//                    --batch N: the PUBLISHes of N ticks go in one send, their PUBACKs read then
//                    (what several results per send would save).
//                    --client paho: the same MQTT through Paho's MQTTClient, the library the agent
//                    must use, driven as the agent drives it (no callbacks thread; the PUBLISHes
//                    of a batch held in the socket with TCP_CORK as the agent's are; the PUBACKs
//                    read with MQTTClient_receive at the next tick): the floor under the agent
//                    with its library, doing no inference, JSON or anything else.
//                    --no-fdatasync: no fdatasync at all (a spool durable against kill -9 only,
//                    not power loss): what the floor would be without it.
// Runs until SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <MQTTClient.h>

#include "agent/tcp_batch.h"
#include "edgeloop/common/flags.h"

namespace edgeloop {
namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnTerm(int) { g_stop = 1; }

bool WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadExactly(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void PutU16(std::vector<uint8_t>* out, size_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v & 0xff));
}

void PutRemainingLength(std::vector<uint8_t>* out, size_t n) {
  do {
    uint8_t b = n % 128;
    n /= 128;
    out->push_back(n > 0 ? (b | 0x80) : b);
  } while (n > 0);
}

// MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s); returns the connected socket or -1.
int Connect(int port, const std::string& client_id) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<uint8_t> body = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60};
  PutU16(&body, client_id.size());
  body.insert(body.end(), client_id.begin(), client_id.end());
  std::vector<uint8_t> pkt = {0x10};
  PutRemainingLength(&pkt, body.size());
  pkt.insert(pkt.end(), body.begin(), body.end());
  uint8_t connack[4];
  if (!WriteAll(s, pkt.data(), pkt.size()) || !ReadExactly(s, connack, 4) || connack[0] != 0x20 || connack[3] != 0) {
    return -1;
  }
  return s;
}

void AppendPublish(std::vector<uint8_t>* out, const std::string& topic, uint16_t id, const std::string& payload) {
  out->push_back(0x32);  // PUBLISH, QoS 1
  PutRemainingLength(out, 2 + topic.size() + 2 + payload.size());
  PutU16(out, topic.size());
  out->insert(out->end(), topic.begin(), topic.end());
  PutU16(out, id);
  out->insert(out->end(), payload.begin(), payload.end());
}

// The MQTT of --client paho.
class PahoSender {
 public:
  ~PahoSender() {
    if (client_ != nullptr) MQTTClient_destroy(&client_);
  }
  bool Connect(int port, const std::string& client_id) {
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
    if (MQTTClient_create(&client_, uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
        MQTTCLIENT_SUCCESS) {
      return false;
    }
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.reliable = 0;
    o.maxInflightMessages = 64;
    const std::vector<ino_t> before = agent::OpenSockets();
    if (MQTTClient_connect(client_, &o) != MQTTCLIENT_SUCCESS) return false;
    socket_ = agent::FindNewPeerSocket(before, port);
    return socket_.known();
  }
  // The batch's PUBLISHes in one segment.
  bool Send(const std::string& topic, const std::string& payload, long count) {
    agent::SetCork(socket_, true);
    bool ok = true;
    for (long i = 0; i < count && ok; ++i) {
      MQTTClient_deliveryToken token = 0;
      ok = MQTTClient_publish(client_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, 0, &token) ==
           MQTTCLIENT_SUCCESS;
      in_flight_ += ok ? 1 : 0;
    }
    agent::SetCork(socket_, false);
    return ok;
  }
  // Reads what the broker sent, one packet per receive, until nothing more was acknowledged.
  bool ReadAcks() {
    while (in_flight_ > 0) {
      char* topic = nullptr;
      int topic_len = 0;
      MQTTClient_message* msg = nullptr;
      if (MQTTClient_receive(client_, &topic, &topic_len, &msg, 0) != MQTTCLIENT_SUCCESS) return false;
      if (msg != nullptr) {
        MQTTClient_freeMessage(&msg);
        MQTTClient_free(topic);
        continue;
      }
      MQTTClient_deliveryToken* pending = nullptr;
      if (MQTTClient_getPendingDeliveryTokens(client_, &pending) != MQTTCLIENT_SUCCESS) return false;
      long n = 0;
      while (pending != nullptr && pending[n] != -1) ++n;
      MQTTClient_free(pending);
      if (n == in_flight_) break;  // the socket is drained
      in_flight_ = n;
    }
    return MQTTClient_isConnected(client_) != 0;
  }

 private:
  MQTTClient client_ = nullptr;
  agent::SocketId socket_;
  long in_flight_ = 0;
};

void NextDeadline(timespec* t, long period_ns) {
  t->tv_nsec += period_ns;
  while (t->tv_nsec >= 1000000000L) {
    t->tv_nsec -= 1000000000L;
    ++t->tv_sec;
  }
}

int Main(int argc, char** argv) {
  std::string mode, spool_path, topic = "footprint/floor", client = "hand";
  int64_t port = 0, batch = 1, payload_bytes = 500;
  double rate_hz = 10;
  Flags flags("bench_footprint_floor --mode sleep|publish [--port P --spool FILE --payload-bytes N --batch N]",
              "the floor under a device loop at --rate-hz (a peer of bench_agent_footprint)");
  flags.String("--mode", &mode, "sleep: wake up only; publish: spool, fdatasync 1 Hz, MQTT QoS 1");
  flags.Int("--port", &port, "Mosquitto on 127.0.0.1 (publish)");
  flags.String("--spool", &spool_path, "the spool file it appends to (publish)");
  flags.String("--topic", &topic, "the topic it publishes to");
  flags.Int("--payload-bytes", &payload_bytes, "bytes per result");
  flags.Int("--batch", &batch, "ticks whose PUBLISHes go in one send");
  bool no_fdatasync = false;
  flags.Bool("--no-fdatasync", &no_fdatasync, "never fdatasync the spool (kill -9 safe only)");
  flags.String("--client", &client, "hand: MQTT packets written by hand; paho: Paho's MQTTClient, as the agent drives it");
  flags.Double("--rate-hz", &rate_hz, "ticks per second");
  Status parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  const bool publish = mode == "publish";
  const bool paho = client == "paho";
  if (!parsed.ok() || (mode != "sleep" && !publish) || (client != "hand" && !paho) || rate_hz <= 0 || batch < 1 ||
      payload_bytes < 1 ||
      (publish && (port <= 0 || spool_path.empty()))) {
    std::fprintf(stderr, "bench_footprint_floor: %s\n%s",
                 parsed.ok() ? "--mode sleep|publish and, to publish, --port and --spool are needed"
                             : parsed.message().c_str(),
                 flags.Help().c_str());
    return 2;
  }
  std::signal(SIGTERM, OnTerm);
  int sock = -1, spool = -1;
  constexpr size_t kSpoolBytes = 4 << 20;
  char* ring = nullptr;
  PahoSender paho_sender;
  if (publish) {
    const std::string client_id = "footprint-floor-" + std::to_string(::getpid());
    sock = paho ? (paho_sender.Connect(static_cast<int>(port), client_id) ? 0 : -1) : Connect(static_cast<int>(port), client_id);
    spool = ::open(spool_path.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
    const std::string zeros(kSpoolBytes, '\0');
    void* map = MAP_FAILED;
    if (spool >= 0 && ::pwrite(spool, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
        ::fdatasync(spool) == 0) {
      map = ::mmap(nullptr, kSpoolBytes, PROT_READ | PROT_WRITE, MAP_SHARED, spool, 0);
    }
    if (sock < 0 || map == MAP_FAILED) {
      std::fprintf(stderr, "bench_footprint_floor: cannot connect to port %lld or set up %s\n", static_cast<long long>(port), spool_path.c_str());
      return 1;
    }
    ring = static_cast<char*>(map);
  }
  const std::string payload(static_cast<size_t>(payload_bytes), 'x');
  const long period_ns = static_cast<long>(1e9 / rate_hz);
  const long ticks_per_sync = std::max(1L, static_cast<long>(rate_hz));
  std::vector<uint8_t> out, record, acks(4 * static_cast<size_t>(batch));
  size_t spool_end = 0;
  timespec deadline;
  ::clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (long tick = 1; !g_stop; ++tick) {
    NextDeadline(&deadline, period_ns);
    if (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) != 0) continue;  // SIGTERM
    if (!publish) continue;
    record.clear();
    AppendPublish(&record, topic, static_cast<uint16_t>(tick % 65535 + 1), payload);
    if (record.size() > kSpoolBytes) return 1;
    if (spool_end + record.size() > kSpoolBytes) spool_end = 0;  // a ring: the floor keeps no state
    std::memcpy(ring + spool_end, record.data(), record.size());
    spool_end += record.size();
    if (!no_fdatasync && tick % ticks_per_sync == 0) ::fdatasync(spool);
    if (paho) {
      if (!paho_sender.ReadAcks() || (tick % batch == 0 && !paho_sender.Send(topic, payload, batch))) {
        std::fprintf(stderr, "bench_footprint_floor: the broker closed the connection\n");
        return 1;
      }
      continue;
    }
    out.insert(out.end(), record.begin(), record.end());
    if (tick % batch != 0) continue;
    if (!WriteAll(sock, out.data(), out.size()) || !ReadExactly(sock, acks.data(), acks.size())) {
      std::fprintf(stderr, "bench_footprint_floor: the broker closed the connection\n");
      return 1;
    }
    out.clear();
  }
  return 0;
}

}  // namespace
}  // namespace edgeloop

int main(int argc, char** argv) { return edgeloop::Main(argc, argv); }
