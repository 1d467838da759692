// The fleet simulator: many devices' agent logic in one process, for load tests and the demo.
//
// Each simulated device keeps what makes a device a device: its own id, its own per-stream seqs
// and store-and-forward queue (fleet/memory_spool.h) drained by the agent's own Publisher (send,
// PUBACK, resend everything unacknowledged on reconnect), its own alarm debouncer, its own model
// version and OTA state (signed manifest verified, newer-only, unexpired, sha256 checked). What
// devices share, so that 1,000 of them at 10 Hz fit on two cores: the MQTT connections (devices
// are spread over `connections` shards, one connection and one loop thread each), the loaded
// model per version and shard (models are immutable; one interpreter per shard thread), and the
// artifact download (once per sha256, then checked against each device's manifest).
//
// Windows come from the data module's waveform generator (a pool generated at start, with the
// class each window really is, so the simulator knows each prediction's accuracy); SetDrifted
// switches every device to a second pool with a drift (by default a fault mode the training data
// lacked: bearing wear).
//
// The simulator also subscribes to its own results (a separate connection with a persistent
// session) and reports throughput, end-to-end latency (result timestamp -> received), lost
// (seqs produced and never received) and duplicates, and per model version when every device
// first reported it (rollout time).
//
// Thread-safety: Create, Start and Stop on one thread; SetDrifted, Snapshot, DevicesOnVersion and
// PollNow from any thread.
#ifndef EDGELOOP_FLEET_SIMULATOR_H_
#define EDGELOOP_FLEET_SIMULATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/data/dataset.h"

namespace edgeloop::fleet {

struct SimulatorOptions {
  int devices = 100;
  double rate_hz = 10;           // windows per second per device
  std::string mqtt_url;          // tcp://host:port
  std::string fleet = "sim";
  std::string device_prefix = "sim-";
  int connections = 0;           // shared MQTT connections / loop threads; 0 = one per 125 devices (max 16)
  int max_inflight = 128;        // unacknowledged QoS 1 messages per connection
  // OTA: the registry to poll and download from; "" = only a local model file.
  std::string registry_url;
  std::string token;             // bearer token for the registry (admin or a fleet token)
  std::string public_key;        // hex ed25519 key manifests must verify with (required with a registry)
  std::string model = "vibration";
  double poll_seconds = 5;       // channel poll; pushes on edgeloop/{fleet}/models/{model}/+ act at once
  std::string model_file;        // a local model every device starts with (version 0); "" = wait for OTA
  // The window pool: "waveform" (the data module's physical generator) or "gaussian" (the
  // reference tutorial's, which the drifted pool shifts by `gaussian_drift` per reading).
  std::string pool_kind = "waveform";
  double gaussian_drift = 0.4;
  uint64_t seed = 1;
  int pool_windows = 2000;
  int length = 128;
  int channels = 1;
  std::string drift = "new-fault=1";  // data::ParseDrift spec used after SetDrifted(true)
  std::vector<double> drifted_class_mix = {0.4, 0.3, 0.3};
  // Agent behaviour.
  double low_confidence = 0.6;   // results below this carry their window
  double random_share = 0.02;    // and this share of the others
  std::string alarm_label = "failure";
  double alarm_threshold = 0.8;
  int alarm_n = 3, alarm_m = 5;
  bool watch_results = true;     // subscribe to the results and count them
  // Simulated operators: keep up to this many of the windows devices upload (low confidence,
  // alarms, random share) from the drifted phase, labelled with their true class.
  int max_labelled = 0;
  bool verbose = false;
};

// One uploaded result the simulated operators labelled (see Simulator::LabelledResults).
struct LabelledResult {
  std::string device_id;
  int64_t seq = 0;
  std::string label;  // the window's true class
};

struct VersionStats {
  int64_t version = 0;
  bool drifted = false;
  int64_t windows = 0;   // classified by this version in this phase
  int64_t correct = 0;   // ... whose prediction was the window's true class
};

struct RolloutStats {
  int64_t version = 0;
  int64_t devices = 0;       // devices whose results reported this version
  int64_t first_ms = 0;      // Unix ms of the first such result (by result timestamp)
  int64_t complete_ms = 0;   // Unix ms when the last device's first result with it arrived; 0 = not all yet
  int64_t installed_ms = 0;  // Unix ms when the last device installed it; 0 = not all yet
};

struct SimulatorReport {
  int devices = 0;
  int connections = 0;
  double seconds = 0;          // since Start
  int64_t produced = 0;        // results put into the devices' spools (= results sent)
  int64_t acked = 0;           // PUBACKs
  int64_t alarms = 0;          // alarm messages produced
  int64_t no_model_windows = 0;
  int64_t overruns = 0;        // ticks skipped because a shard fell more than a second behind
  int64_t spool_depth = 0;     // stored, not yet acknowledged
  int64_t received = 0;        // results received by the watcher (with duplicates)
  int64_t distinct = 0;
  int64_t duplicates = 0;
  int64_t lost = 0;            // produced seqs never received and no longer in any spool (final only)
  int64_t undelivered = 0;     // messages still unacknowledged in the spools at the drain deadline (final only)
  double throughput = 0;       // distinct results received per second
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
  double cpu_seconds = 0;      // CPU time (user + system) of the whole process since Start
  std::vector<VersionStats> accuracy;
  std::vector<RolloutStats> rollouts;
  std::vector<std::string> errors;  // OTA refusals and failures, first few
};

std::string ReportToJson(const SimulatorReport& r);

class Simulator {
 public:
  // Validates the options, generates the window pools, loads model_file. Does not connect.
  static Result<std::unique_ptr<Simulator>> Create(SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Connects (the watcher first, so no result is missed) and starts the devices.
  Status Start();
  void SetDrifted(bool drifted);
  // Asks the OTA thread to poll the registry now.
  void PollNow();
  SimulatorReport Snapshot() const;
  // The windows kept by max_labelled so far, with their true classes (the pool's labels).
  data::Dataset LabelledWindows() const;
  // Which result each of those windows came from, with its true class: what an operator labels.
  std::vector<LabelledResult> LabelledResults() const;
  // Devices whose installed model has this version.
  int DevicesOnVersion(int64_t version) const;
  // Stops producing, waits up to drain_timeout_ms for every spool to empty and for the watcher
  // to receive everything, disconnects, and returns the final report (with `lost`).
  SimulatorReport Stop(int64_t drain_timeout_ms);

  class Impl;

 private:
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeloop::fleet

#endif  // EDGELOOP_FLEET_SIMULATOR_H_
