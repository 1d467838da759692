// For fuzz targets of network clients (agent_http_fuzz, mqtt_wire_fuzz): a loopback listener whose
// accepted connection answers with the fuzz input, and the abort-on-violation check.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace fuzz_support {

inline void Check(bool ok) {
  if (!ok) std::abort();
}

// A listening socket on 127.0.0.1 with a free port (written to *port).
inline int LoopbackListener(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  Check(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Check(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  Check(::listen(fd, 16) == 0);
  socklen_t len = sizeof(a);
  Check(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  *port = ntohs(a.sin_port);
  return fd;
}

// Writes all of `bytes` to `fd` unless the peer goes away.
inline void SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace fuzz_support
