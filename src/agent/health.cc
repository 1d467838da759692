#include "agent/health.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace edgeloop::agent {

AgentMetrics::AgentMetrics(MetricsRegistry* r) : registry_(r) {
  inference_ = &r->GetHistogram("edgeloop_agent_inference_seconds", "Time spent in the model per window.",
                                {2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 5e-2, 0.1});
  results_.counter = &r->GetCounter("edgeloop_agent_results_total", "Windows classified.");
  sent_.counter = &r->GetCounter("edgeloop_agent_sent_total", "Messages acknowledged by the broker (PUBACK).");
  dropped_.counter = &r->GetCounter("edgeloop_agent_dropped_total",
                                    "Messages dropped by the spool bounds (oldest first), lifetime of the spool.");
  spool_errors_.counter =
      &r->GetCounter("edgeloop_agent_spool_errors_total", "Messages that could not be stored (lost, counted).");
  overruns_.counter = &r->GetCounter("edgeloop_agent_overruns_total", "Sensor ticks missed because the loop was late.");
  bad_inputs_.counter = &r->GetCounter("edgeloop_agent_bad_inputs_total", "Source lines rejected.");
  command_failures_.counter =
      &r->GetCounter("edgeloop_agent_alarm_command_failures_total", "Alarm commands that failed or timed out.");
  spool_depth_ = &r->GetGauge("edgeloop_agent_spool_depth", "Messages stored and not yet acknowledged.");
  spool_bytes_ = &r->GetGauge("edgeloop_agent_spool_bytes", "Bytes of the messages in the spool.");
  model_version_ = &r->GetGauge("edgeloop_agent_model_version", "Registry version of the running model (0: local).");
  alarm_active_ = &r->GetGauge("edgeloop_agent_alarm_active", "1 while the alarm is raised.");
  connected_ = &r->GetGauge("edgeloop_agent_mqtt_connected", "1 while connected to the broker.");
  uptime_ = &r->GetGauge("edgeloop_agent_uptime_seconds", "Seconds since the agent started.");
}

void AgentMetrics::Advance(Mirrored& m, int64_t value) {
  if (value > m.last) m.counter->Increment(static_cast<double>(value - m.last));
  m.last = value;
}

void AgentMetrics::Update(const mqtt::StatusMessage& s, bool mqtt_connected) {
  Advance(results_, s.results);
  Advance(sent_, s.sent);
  Advance(dropped_, s.dropped);
  Advance(spool_errors_, s.spool_errors);
  Advance(overruns_, s.overruns);
  Advance(bad_inputs_, s.bad_inputs);
  Advance(command_failures_, s.alarm_command_failures);
  spool_depth_->Set(static_cast<double>(s.spool_depth));
  spool_bytes_->Set(static_cast<double>(s.spool_bytes));
  model_version_->Set(static_cast<double>(s.model.version));
  alarm_active_->Set(s.alarm_active ? 1 : 0);
  connected_->Set(mqtt_connected ? 1 : 0);
  uptime_->Set(static_cast<double>(s.uptime_s));
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, MetricsRegistry* registry) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--metrics-listen: '" + listen + "' must be ADDR:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("--metrics-listen: '" + listen + "' has a bad port");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return Status::InvalidArgument("--metrics-listen: '" + listen + "': " + gai_strerror(rc));
  }
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  std::string why = "no address";
  for (addrinfo* ai = res; ai != nullptr && s->listen_fd_ < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 8) == 0) {
      s->listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(res);
  if (s->listen_fd_ < 0) return Status::IOError("--metrics-listen: cannot listen on " + listen + ": " + why);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  s->stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (s->stop_fd_ < 0) return Status::IOError(std::string("--metrics-listen: eventfd: ") + std::strerror(errno));
  MetricsServer* server = s.get();
  s->thread_ = std::thread([server, registry] { server->Serve(registry); });
  return s;
}

namespace {

// Sends all of `data` unless the peer stalls for 5 s or goes away.
void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
    } else {
      return;
    }
  }
}

}  // namespace

void MetricsServer::Serve(MetricsRegistry* registry) {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // Read the request head (a scrape has no body), at most 8 KiB within 5 s.
    std::string req;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd c[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (left.count() <= 0 || ::poll(c, 2, static_cast<int>(left.count())) <= 0 || c[1].revents != 0) break;
      char buf[2048];
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.find("\r\n\r\n") != std::string::npos) {
      std::string line = req.substr(0, req.find("\r\n"));
      std::string status = "200 OK", type = "text/plain; version=0.0.4", body;
      const bool head = line.rfind("HEAD ", 0) == 0;
      if (line.rfind("GET ", 0) != 0 && !head) {
        status = "405 Method Not Allowed";
        type = "text/plain";
        body = "only GET /metrics\n";
      } else {
        std::string target = line.substr(line.find(' ') + 1);
        target = target.substr(0, target.find(' '));
        if (target.substr(0, target.find('?')) != "/metrics") {
          status = "404 Not Found";
          type = "text/plain";
          body = "not found; try /metrics\n";
        } else {
          body = registry->RenderText();
        }
      }
      std::string out = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
      if (!head) out += body;
      SendAll(fd, out);
    }
    ::close(fd);
  }
}

MetricsServer::~MetricsServer() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_, &one, sizeof one);
    (void)n;
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

}  // namespace edgeloop::agent
