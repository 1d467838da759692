#include "agent/tcp_batch.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

namespace edgeloop::agent {
namespace {

// Calls fn(fd, inode) for each open socket descriptor of the process.
template <typename Fn>
void ForEachSocket(Fn fn) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = ::dirfd(dir);
  while (const dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == own) continue;
    struct stat st;
    if (::fstat(static_cast<int>(fd), &st) == 0 && S_ISSOCK(st.st_mode)) fn(static_cast<int>(fd), st.st_ino);
  }
  ::closedir(dir);
}

int PeerPort(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return -1;
  sockaddr_storage peer;
  len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return -1;
  if (peer.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
  if (peer.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
  return -1;
}

}  // namespace

std::vector<ino_t> OpenSockets() {
  std::vector<ino_t> out;
  ForEachSocket([&](int, ino_t inode) { out.push_back(inode); });
  return out;
}

SocketId FindNewPeerSocket(const std::vector<ino_t>& before, int peer_port) {
  SocketId found;
  int matches = 0;
  ForEachSocket([&](int fd, ino_t inode) {
    if (std::find(before.begin(), before.end(), inode) != before.end() || PeerPort(fd) != peer_port) return;
    found = SocketId{fd, inode};
    ++matches;
  });
  return matches == 1 ? found : SocketId{};
}

int UriPort(const std::string& uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return 0;
  const std::string scheme = uri.substr(0, scheme_end);
  int port = scheme == "tcp" || scheme == "mqtt" ? 1883 : scheme == "ssl" || scheme == "mqtts" ? 8883 : 0;
  if (port == 0) return 0;
  std::string authority = uri.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');  // [::1]:1883
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return port;
  char* end = nullptr;
  const long explicit_port = std::strtol(authority.c_str() + colon + 1, &end, 10);
  return *end == '\0' && explicit_port > 0 && explicit_port < 65536 ? static_cast<int>(explicit_port) : 0;
}

bool SetCork(const SocketId& s, bool on) {
  if (!s.known()) return false;
  if (on) {
    struct stat st;
    if (::fstat(s.fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_ino != s.inode) return false;
  }
  const int value = on ? 1 : 0;
  return ::setsockopt(s.fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0;
}

}  // namespace edgeloop::agent
