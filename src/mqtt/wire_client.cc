#include "mqtt/wire_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace edgeloop::mqtt {
namespace {

constexpr uint8_t kConnack = 0x20, kPublish = 0x30, kPuback = 0x40, kPingreq = 0xC0, kPingresp = 0xD0,
                  kDisconnect = 0xE0;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void PutVarInt(std::string& out, size_t v) {
  do {
    uint8_t b = static_cast<uint8_t>(v & 0x7f);
    v >>= 7;
    if (v > 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v > 0);
}

void PutU16(std::string& out, size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void PutString(std::string& out, std::string_view s) {
  PutU16(out, s.size());
  out.append(s);
}

// Reads a variable byte integer at p (at most 4 bytes). Returns the bytes used, 0 if more input
// is needed, -1 if malformed.
int GetVarInt(const uint8_t* p, size_t avail, size_t* value) {
  size_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (static_cast<size_t>(i) >= avail) return 0;
    v |= static_cast<size_t>(p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) {
      *value = v;
      return i + 1;
    }
  }
  return -1;
}

// The value size of an MQTT 5 property by identifier (5.2.3 of the specification); -1 for a
// variable byte integer, -2 for a length-prefixed string/binary, -3 for a string pair, 0 unknown.
int PropertySize(uint8_t id) {
  switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
      return 1;
    case 0x13: case 0x21: case 0x22: case 0x23:
      return 2;
    case 0x02: case 0x11: case 0x18: case 0x27:
      return 4;
    case 0x0B:
      return -1;
    case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C: case 0x1F:
      return -2;
    case 0x26:
      return -3;
  }
  return 0;
}

// The Receive Maximum (0x21) among CONNACK properties [p, end); `fallback` when absent.
int ReceiveMaximum(const uint8_t* p, const uint8_t* end, int fallback) {
  while (p < end) {
    const uint8_t id = *p++;
    const int size = PropertySize(id);
    if (size == 0) return fallback;  // unknown: stop reading (the value cannot be skipped)
    if (size > 0) {
      if (end - p < size) return fallback;
      if (id == 0x21) return (p[0] << 8) | p[1];
      p += size;
    } else if (size == -1) {
      size_t v = 0;
      int n = GetVarInt(p, static_cast<size_t>(end - p), &v);
      if (n <= 0) return fallback;
      p += n;
    } else {
      for (int k = 0; k < (size == -3 ? 2 : 1); ++k) {
        if (end - p < 2) return fallback;
        const size_t len = (static_cast<size_t>(p[0]) << 8) | p[1];
        if (static_cast<size_t>(end - p - 2) < len) return fallback;
        p += 2 + len;
      }
    }
  }
  return fallback;
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Status WireClient::ParseUrl(const std::string& url, std::string* host, int* port) {
  std::string rest;
  if (url.rfind("tcp://", 0) == 0) {
    rest = url.substr(6);
  } else if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Status::InvalidArgument("mqtt: URL '" + url + "' must be tcp://host:port or mqtt://host:port");
  }
  *port = 1883;
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    const std::string p = rest.substr(colon + 1);
    char* end = nullptr;
    const long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v < 1 || v > 65535) {
      return Status::InvalidArgument("mqtt: URL '" + url + "': bad port '" + p + "'");
    }
    *port = static_cast<int>(v);
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) return Status::InvalidArgument("mqtt: URL '" + url + "': no host");
  *host = rest;
  return Status::Ok();
}

WireClient::WireClient(std::string host, int port, std::string client_id, int keep_alive_s, bool clean_start,
                       uint32_t session_expiry_s)
    : host_(std::move(host)), port_(port), client_id_(std::move(client_id)), keep_alive_s_(keep_alive_s),
      clean_start_(clean_start), session_expiry_s_(session_expiry_s), in_use_(65536, 0) {}

WireClient::~WireClient() { Close(""); }

void WireClient::Close(const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  out_.clear();
  out_off_ = 0;
  in_.clear();
  std::fill(in_use_.begin(), in_use_.end(), 0);
  if (!why.empty()) last_error_ = why;
}

Status WireClient::Connect(int timeout_ms) {
  Close("");
  const int64_t deadline = SteadyMs() + timeout_ms;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  if (int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = Errno("socket");
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      why = Errno("connect");
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - SteadyMs()))) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      why = err != 0 ? std::string("connect: ") + std::strerror(err) : "connect: timed out";
      ::close(fd);
      continue;
    }
    fd_ = fd;
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + why);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  // CONNECT: protocol "MQTT" level 5, clean start or not, keep-alive, the session expiry as a
  // property; the client id.
  std::string body;
  PutString(body, "MQTT");
  body.push_back(5);
  body.push_back(static_cast<char>((clean_start_ ? 0x02 : 0x00) | (username_.empty() ? 0 : 0x80) |
                                   (password_.empty() ? 0 : 0x40)));
  PutU16(body, static_cast<size_t>(keep_alive_s_));
  if (session_expiry_s_ > 0) {
    body.push_back(5);     // properties: 5 bytes
    body.push_back(0x11);  // Session Expiry Interval, four-byte integer
    for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<char>((session_expiry_s_ >> shift) & 0xff));
  } else {
    body.push_back(0);  // no properties
  }
  PutString(body, client_id_);
  if (!username_.empty()) PutString(body, username_);
  if (!password_.empty()) PutString(body, password_);
  out_.push_back(static_cast<char>(0x10));
  PutVarInt(out_, body.size());
  out_ += body;
  while (want_write()) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - SteadyMs()))) != 1) {
      Close("CONNECT: timed out");
      return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
    }
    if (Status st = WriteSome(SteadyMs()); !st.ok()) return st;
  }
  // CONNACK: flags, reason code, properties.
  for (;;) {
    const auto* b = reinterpret_cast<const uint8_t*>(in_.data());
    size_t len = 0;
    int n = in_.size() >= 2 ? GetVarInt(b + 1, in_.size() - 1, &len) : 0;
    if (n < 0) {
      Close("CONNACK: malformed length");
      return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
    }
    if (n > 0 && in_.size() >= 1 + static_cast<size_t>(n) + len) {
      if ((b[0] & 0xF0) != kConnack || len < 2) {
        Close("expected CONNACK, got packet type " + std::to_string(b[0] >> 4));
        return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
      }
      const uint8_t* v = b + 1 + n;
      if (v[1] != 0) {
        Close("connection refused (CONNACK reason code " + std::to_string(v[1]) + ")");
        return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
      }
      receive_maximum_ = 65535;
      session_present_ = (v[0] & 0x01) != 0;
      size_t plen = 0;
      int pn = len > 2 ? GetVarInt(v + 2, len - 2, &plen) : 0;
      if (pn > 0 && 2 + static_cast<size_t>(pn) + plen <= len) {
        receive_maximum_ = ReceiveMaximum(v + 2 + pn, v + 2 + pn + plen, 65535);
      }
      in_.erase(0, 1 + static_cast<size_t>(n) + len);
      break;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - SteadyMs()))) != 1) {
      Close("CONNACK: timed out");
      return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
    }
    char buf[4096];
    ssize_t r = ::read(fd_, buf, sizeof(buf));
    if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
      Close(r == 0 ? "CONNACK: connection closed by the broker" : Errno("CONNACK: read"));
      return Status::Unavailable("mqtt " + host_ + ":" + port + ": " + last_error_);
    }
    if (r > 0) in_.append(buf, static_cast<size_t>(r));
  }
  last_write_ms_ = SteadyMs();
  last_error_.clear();
  subacks_ = 0;
  subscribe_refusals_ = 0;
  return Status::Ok();
}

void WireClient::Disconnect() {
  if (fd_ < 0) return;
  const char pkt[2] = {static_cast<char>(kDisconnect), 0};
  out_.append(pkt, 2);
  for (int i = 0; i < 50 && want_write() && fd_ >= 0; ++i) {
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, 20);
    if (!WriteSome(SteadyMs()).ok()) break;
  }
  Close("");
}

Result<uint16_t> WireClient::Publish(std::string_view topic, std::string_view payload, bool retained) {
  if (fd_ < 0) return Status::Unavailable("mqtt: not connected");
  uint16_t id = next_id_;
  for (int tries = 0;; ++tries) {
    if (tries == 65535) return Status::Unavailable("mqtt: no free packet id");
    id = static_cast<uint16_t>(id == 65535 ? 1 : id + 1);
    if (!in_use_[id]) break;
  }
  next_id_ = id;
  in_use_[id] = 1;
  out_.push_back(static_cast<char>(kPublish | 0x02 | (retained ? 0x01 : 0x00)));
  PutVarInt(out_, 2 + topic.size() + 2 + 1 + payload.size());
  PutString(out_, topic);
  PutU16(out_, id);
  out_.push_back(0);  // no properties
  out_.append(payload);
  return id;
}

Status WireClient::Subscribe(const std::string& filter, int qos) {
  if (fd_ < 0) return Status::Unavailable("mqtt: not connected");
  uint16_t id = next_id_;
  do {
    id = static_cast<uint16_t>(id == 65535 ? 1 : id + 1);
  } while (in_use_[id]);
  next_id_ = id;  // the SUBACK does not occupy the id beyond its arrival; not tracked
  out_.push_back(static_cast<char>(0x82));
  PutVarInt(out_, 2 + 1 + 2 + filter.size() + 1);
  PutU16(out_, id);
  out_.push_back(0);  // no properties
  PutString(out_, filter);
  out_.push_back(static_cast<char>(qos & 0x03));
  return Status::Ok();
}

Status WireClient::WriteSome(int64_t now_ms) {
  while (out_off_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Close(Errno("write"));
      return Status::Unavailable("mqtt: " + last_error_);
    }
    out_off_ += static_cast<size_t>(n);
    last_write_ms_ = now_ms;
  }
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  } else if (out_off_ > (1u << 20)) {
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
  return Status::Ok();
}

Status WireClient::Service(std::vector<WireAck>* acks, int64_t now_ms, std::vector<WireMessage>* messages) {
  if (fd_ < 0) return Status::Unavailable("mqtt: not connected");
  if (!want_write() && now_ms - last_write_ms_ >= keep_alive_s_ * 500) {
    out_.push_back(static_cast<char>(kPingreq));
    out_.push_back(0);
  }
  EL_RETURN_IF_ERROR(WriteSome(now_ms));
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd_, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r <= 0) {
      Close(r == 0 ? "connection closed by the broker" : Errno("read"));
      return Status::Unavailable("mqtt: " + last_error_);
    }
    in_.append(buf, static_cast<size_t>(r));
    if (static_cast<size_t>(r) < sizeof(buf)) break;
  }
  size_t p = 0;
  const auto* b = reinterpret_cast<const uint8_t*>(in_.data());
  while (in_.size() - p >= 2) {
    size_t len = 0;
    int n = GetVarInt(b + p + 1, in_.size() - p - 1, &len);
    if (n < 0) {
      Close("malformed packet length from the broker");
      return Status::Unavailable("mqtt: " + last_error_);
    }
    if (n == 0 || in_.size() - p < 1 + static_cast<size_t>(n) + len) break;
    const uint8_t type = b[p] & 0xF0;
    const uint8_t* v = b + p + 1 + n;
    if (type == kPuback) {
      if (len < 2) {
        Close("PUBACK shorter than a packet id");
        return Status::Unavailable("mqtt: " + last_error_);
      }
      WireAck a;
      a.packet_id = static_cast<uint16_t>((v[0] << 8) | v[1]);
      a.reason = len >= 3 ? v[2] : 0;
      if (in_use_[a.packet_id]) {
        in_use_[a.packet_id] = 0;
        acks->push_back(a);
      }
    } else if (type == kPublish) {
      // flags: DUP(3) QoS(2-1) RETAIN(0); topic, packet id (QoS > 0), properties, payload.
      const int qos = (b[p] >> 1) & 0x03;
      const uint8_t* end = v + len;
      const uint8_t* q = v;
      bool ok = end - q >= 2;
      size_t tlen = ok ? ((static_cast<size_t>(q[0]) << 8) | q[1]) : 0;
      ok = ok && static_cast<size_t>(end - q - 2) >= tlen;
      std::string topic = ok ? std::string(reinterpret_cast<const char*>(q + 2), tlen) : std::string();
      q += ok ? 2 + tlen : 0;
      uint16_t id = 0;
      if (ok && qos > 0) {
        ok = end - q >= 2;
        if (ok) id = static_cast<uint16_t>((q[0] << 8) | q[1]);
        q += 2;
      }
      size_t plen = 0;
      int pn = ok ? GetVarInt(q, static_cast<size_t>(end - q), &plen) : -1;
      ok = ok && pn > 0 && static_cast<size_t>(end - q - pn) >= plen;
      if (!ok || qos > 1) {
        Close("malformed PUBLISH from the broker (or QoS 2, which is never subscribed)");
        return Status::Unavailable("mqtt: " + last_error_);
      }
      q += pn + plen;
      if (messages != nullptr) {
        messages->push_back(WireMessage{std::move(topic), std::string(reinterpret_cast<const char*>(q), static_cast<size_t>(end - q))});
      }
      if (qos == 1) {
        out_.push_back(static_cast<char>(kPuback));
        out_.push_back(2);
        PutU16(out_, id);
      }
    } else if (type == kDisconnect) {
      Close("the broker sent DISCONNECT (reason code " + std::to_string(len >= 1 ? v[0] : 0) + ")");
      return Status::Unavailable("mqtt: " + last_error_);
    } else if (type == 0x90) {  // SUBACK: packet id, properties, one reason code per filter
      ++subacks_;
      size_t plen = 0;
      int pn = len > 2 ? GetVarInt(v + 2, len - 2, &plen) : 0;
      if (pn > 0 && 2 + pn + plen <= len) {
        for (size_t k = 2 + static_cast<size_t>(pn) + plen; k < len; ++k) subscribe_refusals_ += v[k] >= 0x80;
      }
    } else if (type != kPingresp) {
      // Nothing else is expected without subscriptions; ignore it.
    }
    p += 1 + static_cast<size_t>(n) + len;
  }
  in_.erase(0, p);
  return Status::Ok();
}

}  // namespace edgeloop::mqtt
