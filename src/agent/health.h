// The agent's health, two ways: a local Prometheus endpoint (`--metrics-listen ADDR:PORT`,
// GET /metrics) and the retained status message (mqtt::StatusMessage). Both are fed from one
// StatusMessage the loop builds, so they never disagree.
//
// Metrics: edgeloop_agent_inference_seconds (histogram), edgeloop_agent_results_total,
// _sent_total, _dropped_total, _spool_errors_total, _overruns_total, _bad_inputs_total,
// _alarm_command_failures_total (counters), edgeloop_agent_spool_depth, _spool_bytes,
// _model_version, _alarm_active, _mqtt_connected, _uptime_seconds (gauges).
// Thread-safety: AgentMetrics::Update from one thread (the loop); ObserveInference and the HTTP
// endpoint from any thread.
#ifndef EDGELOOP_AGENT_HEALTH_H_
#define EDGELOOP_AGENT_HEALTH_H_

#include <memory>
#include <string>
#include <thread>

#include "edgeloop/common/metrics.h"
#include "edgeloop/common/status.h"
#include "edgeloop/mqtt/messages.h"

namespace edgeloop::agent {

class AgentMetrics {
 public:
  // `registry` must outlive this.
  explicit AgentMetrics(MetricsRegistry* registry);
  void ObserveInference(double seconds) { inference_->Observe(seconds); }
  double InferenceQuantileMs(double q) const { return inference_->Quantile(q) * 1000.0; }
  // Mirrors the status numbers (counters advance by the difference since the last call).
  void Update(const mqtt::StatusMessage& s, bool mqtt_connected);

 private:
  struct Mirrored {
    Counter* counter;
    int64_t last = 0;
  };
  void Advance(Mirrored& m, int64_t value);

  MetricsRegistry* registry_;
  Histogram* inference_;
  Mirrored results_, sent_, dropped_, spool_errors_, overruns_, bad_inputs_, command_failures_;
  Gauge *spool_depth_, *spool_bytes_, *model_version_, *alarm_active_, *connected_, *uptime_;
};

// A small HTTP/1.1 server for GET /metrics on its own thread, one connection at a time (Prometheus
// scrapes rarely; a client that stalls for 5 s is dropped). Our own, so the agent links no HTTP library.
class MetricsServer {
 public:
  // `listen` is "ADDR:PORT" (PORT 0 picks a free one). `registry` must outlive the server.
  // Errors: InvalidArgument for a malformed address, IOError when it cannot listen.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, MetricsRegistry* registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void Serve(MetricsRegistry* registry);
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: the destructor wakes the server thread
  std::thread thread_;
  int port_ = 0;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_HEALTH_H_
