// Fuzzes the agent's own HTTP/1.1 client (src/agent/http_plain.cc) on whatever a registry, or
// anything between the device and it, answers: status line, headers, Content-Length and chunked
// bodies, truncation. A loopback responder thread sends the fuzz input as the whole response and
// closes. The client must never crash, hang or leak; a body it delivers is never longer than the
// bytes it was sent, and a request that succeeded saw a status line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "agent/http.h"
#include "fuzz/loopback_peer.h"

namespace {

using fuzz_support::Check;

// Accepts one connection, reads the request head, writes `response`, closes.
void Respond(int listener, const std::string& response) {
  int c = ::accept(listener, nullptr, nullptr);
  if (c < 0) return;
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(c, buf, sizeof(buf), 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  fuzz_support::SendAll(c, response);
  ::shutdown(c, SHUT_RDWR);
  ::close(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::agent;
  static int port = 0;
  static int listener = fuzz_support::LoopbackListener(&port);
  const std::string response(reinterpret_cast<const char*>(data), size);
  std::thread server(Respond, listener, response);

  HttpClientOptions o;
  o.base = "http://127.0.0.1:" + std::to_string(port);
  o.connect_timeout_s = 2;
  o.read_timeout_s = 2;
  auto client = NewPlainHttpClient(o);
  bool saw_head = false;
  size_t body = 0;
  auto st = client->Get(
      "/v1/models/m/versions/1/artifact", {{"Range", "bytes=0-"}},
      [&](const HttpHead& head) {
        saw_head = true;
        (void)head.Header("Content-Length");
        return true;
      },
      [&](const char*, size_t n) {
        body += n;
        return true;
      });
  server.join();
  Check(body <= size);
  if (st.ok()) Check(saw_head);
  return 0;
}
