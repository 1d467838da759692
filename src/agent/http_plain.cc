// A small HTTP/1.1 GET client over plain TCP: one request per connection (Connection: close),
// bodies by Content-Length, chunked transfer coding or end of stream. Enough for the registry's
// two device routes; https:// goes to cpp-httplib in the TLS plugin (http.cc).
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "agent/http.h"

namespace edgeloop::agent {
namespace {

constexpr size_t kMaxHead = 64 << 10;

class PlainHttpClient : public HttpClient {
 public:
  explicit PlainHttpClient(HttpClientOptions o) : o_(std::move(o)) {}
  ~PlainHttpClient() override { CloseFd(); }

  Status Get(const std::string& path, const HttpHeaders& headers, const std::function<bool(const HttpHead&)>& on_head,
             const std::function<bool(const char*, size_t)>& on_data) override;
  void Stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // wakes a blocked poll at once
  }

 private:
  Status Connect(const std::string& host, const std::string& port);
  Status WriteAll(std::string_view data);
  // Reads more bytes into buf_; false on end of stream (with *st set on errors).
  bool Fill(Status* st);
  Status ReadBody(const HttpHead& head, const std::function<bool(const char*, size_t)>& on_data);
  void CloseFd() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

  const HttpClientOptions o_;
  std::mutex mu_;
  int fd_ = -1;          // GUARDED_BY(mu_) for Stop; used by the Get thread
  bool stopped_ = false;  // GUARDED_BY(mu_)
  std::string buf_;       // received, not yet consumed
  size_t pos_ = 0;
  std::string where_;     // "host:port" for messages
};

Status Cancelled() { return Status::Unavailable("cancelled"); }

Status PlainHttpClient::Connect(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::Unavailable(where_ + ": cannot resolve: " + gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd_ = fd;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, o_.connect_timeout_s * 1000);
      if (rc == 0) {
        last = "connect timed out";
        rc = -1;
      } else if (rc > 0) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        if (err != 0) last = std::strerror(err);
      } else {
        last = std::strerror(errno);
      }
    } else if (rc != 0) {
      last = std::strerror(errno);
    }
    if (rc == 0 && !stopped()) {
      ::freeaddrinfo(res);
      return Status::Ok();
    }
    CloseFd();
  }
  ::freeaddrinfo(res);
  if (stopped()) return Cancelled();
  return Status::Unavailable(where_ + ": cannot connect: " + last);
}

Status PlainHttpClient::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Status::Unavailable(where_ + ": send: " + std::strerror(errno));
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, o_.write_timeout_s * 1000) == 0) return Status::Unavailable(where_ + ": send timed out");
    if (stopped()) return Cancelled();
  }
  return Status::Ok();
}

bool PlainHttpClient::Fill(Status* st) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char tmp[16384];
  for (;;) {
    if (stopped()) {
      *st = Cancelled();
      return false;
    }
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;  // end of stream
    if (errno != EAGAIN && errno != EINTR) {
      *st = Status::Unavailable(where_ + ": receive: " + std::strerror(errno));
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, o_.read_timeout_s * 1000);
    if (rc == 0) {
      *st = Status::Unavailable(where_ + ": read timed out");
      return false;
    }
  }
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

Status PlainHttpClient::ReadBody(const HttpHead& head, const std::function<bool(const char*, size_t)>& on_data) {
  Status st;
  auto deliver = [&](size_t n) {
    bool ok = on_data(buf_.data() + pos_, n);
    pos_ += n;
    return ok;
  };
  const std::string te = head.Header("Transfer-Encoding");
  if (!te.empty() && IEquals(Trim(te), "chunked")) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n", pos_)) == std::string::npos) {
        if (buf_.size() - pos_ > 1024) return Status::Unavailable(where_ + ": bad chunk header");
        if (!Fill(&st)) return st.ok() ? Status::Unavailable(where_ + ": body ended in a chunk header") : st;
      }
      unsigned long long size = 0;
      const std::string line = buf_.substr(pos_, eol - pos_);
      char* end = nullptr;
      size = std::strtoull(line.c_str(), &end, 16);
      if (end == line.c_str()) return Status::Unavailable(where_ + ": bad chunk size '" + line + "'");
      pos_ = eol + 2;
      if (size == 0) return Status::Ok();  // trailers are ignored (Connection: close)
      while (size > 0) {
        if (pos_ == buf_.size() && !Fill(&st)) {
          return st.ok() ? Status::Unavailable(where_ + ": body ended inside a chunk") : st;
        }
        size_t n = std::min<size_t>(size, buf_.size() - pos_);
        if (!deliver(n)) return Cancelled();
        size -= n;
      }
      while (buf_.size() - pos_ < 2) {
        if (!Fill(&st)) return st.ok() ? Status::Unavailable(where_ + ": body ended after a chunk") : st;
      }
      pos_ += 2;  // CRLF after the chunk data
    }
  }
  const std::string cl = head.Header("Content-Length");
  if (!cl.empty()) {
    char* end = nullptr;
    unsigned long long left = std::strtoull(cl.c_str(), &end, 10);
    if (end == cl.c_str()) return Status::Unavailable(where_ + ": bad Content-Length '" + cl + "'");
    while (left > 0) {
      if (pos_ == buf_.size() && !Fill(&st)) {
        return st.ok() ? Status::Unavailable(where_ + ": connection closed with " + std::to_string(left) +
                                             " bytes of the body missing")
                       : st;
      }
      size_t n = std::min<size_t>(left, buf_.size() - pos_);
      if (!deliver(n)) return Cancelled();
      left -= n;
    }
    return Status::Ok();
  }
  for (;;) {  // until the server closes
    if (pos_ < buf_.size() && !deliver(buf_.size() - pos_)) return Cancelled();
    if (!Fill(&st)) return st;
  }
}

Status PlainHttpClient::Get(const std::string& path, const HttpHeaders& headers,
                            const std::function<bool(const HttpHead&)>& on_head,
                            const std::function<bool(const char*, size_t)>& on_data) {
  // base: http://host[:port]; [v6] literals too.
  std::string hostport = o_.base.substr(o_.base.find("://") + 3);
  std::string host = hostport, port = "80";
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    host = hostport.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < hostport.size() && hostport[close + 1] == ':') {
      port = hostport.substr(close + 2);
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  where_ = "GET " + o_.base + path;
  buf_.clear();
  pos_ = 0;
  CloseFd();
  EL_RETURN_IF_ERROR(Connect(host, port));
  std::string req = "GET " + (path.empty() ? std::string("/") : path) + " HTTP/1.1\r\nHost: " + hostport +
                    "\r\nConnection: close\r\nUser-Agent: edgeloop-agent\r\nAccept: */*\r\n";
  if (!o_.token.empty()) req += "Authorization: Bearer " + o_.token + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  Status st = WriteAll(req);
  if (!st.ok()) {
    CloseFd();
    return st;
  }
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > kMaxHead) st = Status::Unavailable(where_ + ": response head over 64 KiB");
    if (!st.ok() || !Fill(&st)) {
      CloseFd();
      return st.ok() ? Status::Unavailable(where_ + ": connection closed before the response head") : st;
    }
  }
  HttpHead head;
  {
    std::string_view h(buf_.data(), end);
    size_t eol = h.find("\r\n");
    std::string_view status_line = h.substr(0, eol);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
        std::sscanf(std::string(status_line.substr(9, 3)).c_str(), "%d", &head.status) != 1) {
      CloseFd();
      return Status::Unavailable(where_ + ": bad status line '" + std::string(status_line.substr(0, 80)) + "'");
    }
    while (eol != std::string_view::npos) {
      size_t start = eol + 2;
      eol = h.find("\r\n", start);
      std::string_view line = h.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      head.headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
    }
  }
  pos_ = end + 4;
  if (on_head && !on_head(head)) {
    CloseFd();
    return Cancelled();
  }
  st = ReadBody(head, on_data);
  CloseFd();
  return st;
}

}  // namespace

std::string HttpHead::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

bool HttpHead::Has(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return true;
  }
  return false;
}

std::unique_ptr<HttpClient> NewPlainHttpClient(const HttpClientOptions& options) {
  return std::make_unique<PlainHttpClient>(options);
}

}  // namespace edgeloop::agent
