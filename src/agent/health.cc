#include "agent/health.h"

#include <httplib.h>

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
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->server_ = std::make_unique<httplib::Server>();
  s->server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
  s->server_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->RenderText(), "text/plain; version=0.0.4");
  });
  if (port == 0) {
    s->port_ = s->server_->bind_to_any_port(host);
    if (s->port_ < 0) return Status::IOError("--metrics-listen: cannot listen on " + listen);
  } else {
    if (!s->server_->bind_to_port(host, port)) return Status::IOError("--metrics-listen: cannot listen on " + listen);
    s->port_ = port;
  }
  httplib::Server* server = s->server_.get();
  s->thread_ = std::thread([server] { server->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace edgeloop::agent
