// The edge agent: reads sensor windows, classifies them, publishes every result over MQTT without
// losing one (spool first, delete on PUBACK), raises and clears alarms, takes signed model
// updates, and reports its health. One loop thread does the sensor work and the MQTT traffic
// (mqtt_link.h: publishes and PUBACKs on this thread, only connecting on a thread of its own);
// OTA (its own thread) and the MQTT connector talk to it through an event queue woken by an
// eventfd, so nothing they do can delay a window.
//
// <data_dir>/lock       flock: one agent per data directory (seqs must not be shared)
// <data_dir>/spool/     the store-and-forward spool: segment files + ack state (spool.h)
// <data_dir>/models/    installed models (model_store.h)
//
// Thread-safety: Create and Run on one thread; RequestStop from any thread or a signal handler.
#ifndef EDGELOOP_AGENT_AGENT_H_
#define EDGELOOP_AGENT_AGENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/alarms.h"
#include "agent/config.h"
#include "agent/health.h"
#include "agent/log.h"
#include "agent/model.h"
#include "agent/model_store.h"
#include "agent/mqtt_link.h"
#include "agent/ota.h"
#include "agent/pacer.h"
#include "agent/publisher.h"
#include "agent/sources.h"
#include "agent/spool.h"
#include "edgeloop/common/env.h"
#include "edgeloop/common/metrics.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"

namespace edgeloop::agent {

struct AgentOptions {
  AgentConfig config;
  int64_t max_results = 0;       // stop after this many results (0 = never)
  std::string metrics_listen;    // "ADDR:PORT" or ""
  std::string agent_version = "0";
  ModelLoader loader;            // DefaultModelLoader() in the binary
  Env* env = nullptr;            // nullptr = Env::Default(); must outlive the agent
  int64_t status_interval_ms = 60000;  // periodic retained status (also sent on every change)
  int64_t drain_timeout_ms = 10000;    // on stop, wait this long for unacknowledged messages
  // Test seam: a spool to use instead of <data_dir>/spool/ (must honour the Spool contract).
  std::unique_ptr<Spool> spool;
  // A source to use instead of the one config.source describes (a simulator feeding many agents
  // from one process, a test). nullptr = CreateSource(config.source). A paced source is still
  // paced at config.source.rate_hz.
  std::unique_ptr<Source> source;
};

class Agent {
 public:
  // Opens the data directory (lock, spool, model store), picks the model to start with
  // (installed current, else previous, else model_file), creates the source and the MQTT client.
  // Errors name the config key or file at fault.
  static Result<std::unique_ptr<Agent>> Create(AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until RequestStop, the end of the input, or max_results; then drains the spool (up to
  // drain_timeout_ms; after RequestStop only while connected), publishes the offline status and
  // disconnects. A second RequestStop ends the drain at once.
  Status Run();
  // Async-signal-safe.
  void RequestStop();

  // For tests and the metrics endpoint.
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  mqtt::StatusMessage Snapshot() const;

 private:
  struct Event;
  explicit Agent(AgentOptions options);
  Status Init();
  Status ChooseStartModel();
  void InstallModel(std::unique_ptr<Model> model, mqtt::ModelRef ref);
  // Queues an event from another thread; `wake` interrupts the loop's wait.
  void Post(Event event, bool wake = true);
  // Handles the queued events; `woken`: the eventfd is readable (its count is reset first).
  void HandleEvents(bool woken);
  void ProcessWindow(const std::vector<float>& window, const std::string& where);
  void Store(Stream stream, const std::string& topic, std::string payload);
  void RaiseOrClear(const AlarmDebouncer::Update& u, float score, int64_t result_seq);
  void Housekeeping(bool force_status);
  void PublishStatus(bool online);
  void Drain(bool wait_for_link);
  // Wall clock for timestamps (messages, spool ages); monotonic for every interval and deadline.
  int64_t NowMs() const { return env_->NowUnixMillis(); }
  int64_t MonoMs() const { return env_->NowMicros() / 1000; }

  AgentOptions options_;
  const AgentConfig& cfg_;
  Env* env_;
  int lock_fd_ = -1;
  int event_fd_ = -1;

  // The loop thread's state.
  std::unique_ptr<Spool> spool_;
  std::optional<ModelStore> store_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<MqttLink> mqtt_;  // also the Publisher's sink
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<OtaUpdater> ota_;
  std::unique_ptr<Model> model_;
  mqtt::ModelRef model_ref_;
  int alarm_index_ = -1;  // the alarm label's index in the model's labels, -1 if absent
  AlarmDebouncer debouncer_;
  CommandRunner commands_;
  std::mt19937_64 upload_rng_;
  std::vector<float> window_, scores_;
  std::string results_topic_, alarms_topic_, status_topic_, model_topic_;
  int64_t start_us_ = 0;
  int64_t results_ = 0, bad_inputs_ = 0, spool_errors_ = 0, no_model_windows_ = 0, command_failures_ = 0;
  int64_t overruns_ = 0;
  mqtt::OtaStatus ota_status_{"idle", 0, ""};
  bool status_dirty_ = true;
  int64_t last_status_ms_ = 0;
  int64_t last_housekeeping_ms_ = 0;
  int64_t last_mqtt_read_ms_ = 0;  // the loop's last MqttLink::Poll
  int64_t last_expiry_check_ms_ = 0;
  int64_t last_dropped_ = 0;
  bool backlog_ = true;  // reported as drained once the spool is empty
  bool source_ended_ = false;
  std::atomic<bool> connected_{false};
  RepeatedLog bad_input_log_, spool_error_log_, connect_log_, publish_error_log_, no_model_log_;

  MetricsRegistry metrics_registry_;
  AgentMetrics metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_drain_{false};
  mutable std::mutex events_mu_;
  std::vector<Event> events_;  // GUARDED_BY(events_mu_)
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_AGENT_H_
