// Internals of the fleet simulator (edgeloop/fleet/simulator.h): a shard (one MQTT connection,
// one loop thread, its devices), the results watcher and the fleet OTA manager.
#ifndef EDGELOOP_FLEET_INTERNAL_H_
#define EDGELOOP_FLEET_INTERNAL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/alarms.h"
#include "agent/model.h"
#include "agent/publisher.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/fleet/simulator.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "fleet/memory_spool.h"
#include "mqtt/wire_client.h"

namespace edgeloop::fleet {

using mqtt::WireAck;
using mqtt::WireClient;
using mqtt::WireMessage;

// Windows and their true classes; immutable once built, shared by every shard.
struct WindowPool {
  data::Dataset base;
  data::Dataset drifted;
};

// A model version ready to install: the verified artifact bytes. Immutable; shared_ptr because
// the OTA thread and every shard thread hold it until they have loaded it.
struct ModelRelease {
  int64_t version = 0;
  std::string sha256;
  std::string name;
  std::shared_ptr<const std::string> bytes;
};

class Shard;

// Uploaded windows labelled by the simulated operators (options.max_labelled); any thread.
struct LabelledSink {
  mutable std::mutex mu;
  data::Dataset data;                  // GUARDED_BY(mu)
  std::vector<LabelledResult> results;  // GUARDED_BY(mu); row i of `data` is results[i]
};

// One simulated device. Owned by its shard; touched only by the shard thread (except `installed`,
// read by any thread for DevicesOnVersion and the OTA manager).
struct Device {
  int index = 0;  // fleet-wide
  std::string id;
  std::string results_topic, alarms_topic, status_topic;
  std::unique_ptr<MemorySpool> spool;
  std::unique_ptr<agent::MessageSink> sink;
  std::unique_ptr<agent::Publisher> publisher;
  std::unique_ptr<agent::AlarmDebouncer> debouncer;
  std::mt19937_64 rng;
  agent::Model* model = nullptr;  // the shard's loaded model for `version`; nullptr = none yet
  mqtt::ModelRef model_ref;
  std::atomic<int64_t> installed{-1};  // version running; -1 none, 0 local file
  int64_t next_tick_us = 0;
  bool pump_due = false;
};

struct ShardCounters {
  int64_t produced = 0, acked = 0, alarms = 0, no_model = 0, overruns = 0;
  std::map<std::pair<int64_t, bool>, std::pair<int64_t, int64_t>> accuracy;  // (version, drifted) -> (n, correct)
};

class Shard {
 public:
  Shard(int index, const SimulatorOptions& options, const WindowPool* pool, const std::atomic<bool>* drifted,
        LabelledSink* labelled);
  ~Shard();
  void AddDevice(int index, const std::string& id);
  Status Connect();
  bool connected() const { return connected_.load(); }
  void Start(int64_t start_us);
  // Stops producing; the thread keeps pumping until Join.
  void StopProducing() { producing_.store(false); Wake(); }
  // Installs `release` on the listed devices (loads it once for this shard). Any thread.
  void Install(std::shared_ptr<const ModelRelease> release, std::vector<int> device_indices);
  void InstallLocal(const std::string& bytes);  // before Start: version 0 on every device
  int64_t SpoolDepth() const { return depth_.load(); }
  void Join(int64_t drain_timeout_ms);
  ShardCounters Counters() const;
  std::vector<std::unique_ptr<Device>>& devices() { return devices_; }
  std::vector<std::string> TakeErrors();

 private:
  struct Route {
    int device = -1;  // index in devices_; -1 = not routed (a status message)
    uint64_t tag = 0;
  };
  class Sink;
  // True when connected and fewer than `window_` publishes await their PUBACK. Loop thread.
  bool WindowOpen() const;
  // wire_->Publish (QoS 1), counted in inflight_ and routed by packet id until its PUBACK.
  Status PublishCounted(const std::string& topic, std::string_view payload, bool retained, Route route);
  void TryConnect(int64_t now_ms);
  void LinkLost();
  int64_t HandleAcks(const std::vector<WireAck>& acks, int64_t now_ms);
  void Wake();
  void Loop();
  void Produce(Device& d, int64_t now_ms);
  void PublishStatus(Device& d, bool online);
  void ApplyInstalls();
  agent::Model* LoadedModel(const ModelRelease& r);

  const int index_;
  const SimulatorOptions& options_;  // must outlive the shard (owned by the simulator)
  const WindowPool* pool_;           // must outlive the shard
  const std::atomic<bool>* drifted_;
  LabelledSink* labelled_;        // must outlive the shard
  std::vector<std::unique_ptr<Device>> devices_;
  std::unordered_map<int, int> local_index_;  // fleet index -> devices_ index
  std::map<int64_t, std::unique_ptr<agent::Model>> models_;  // loop thread: version -> loaded model
  std::vector<float> scores_;
  std::thread thread_;
  std::atomic<bool> producing_{true};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> depth_{0};
  std::atomic<bool> connected_{false};
  int wake_fd_ = -1;  // eventfd: Wake() makes the loop's poll return
  int64_t start_us_ = 0;
  size_t cursor_ = 0;
  size_t pump_start_ = 0;  // where the next pump round starts (fair use of the window)

  // The connection; the loop thread's (Connect before Start, Join after the loop ended).
  std::unique_ptr<WireClient> wire_;
  std::vector<Route> routes_;  // by packet id
  int inflight_ = 0;           // publishes written or buffered and not yet acknowledged
  int window_ = 1;             // min(options_.max_inflight, the broker's Receive Maximum)
  int64_t next_connect_ms_ = 0;
  int64_t backoff_ms_ = 0;

  mutable std::mutex mu_;
  std::vector<std::pair<std::shared_ptr<const ModelRelease>, std::vector<int>>> installs_;  // GUARDED_BY(mu_)
  ShardCounters counters_;                              // GUARDED_BY(mu_)
  std::vector<std::string> errors_;                     // GUARDED_BY(mu_)
};

// Subscribes to every device's results and counts them: its own WireClient (persistent session,
// so a reconnect loses nothing queued for it) and thread, parsing as the messages come in. The
// OTA pushes (retained manifests, rare) come through a Paho client.
class Watcher {
 public:
  Watcher(const SimulatorOptions& options, const std::vector<std::string>& ids);
  ~Watcher();
  Status Connect(std::function<void(mqtt::Message)> on_other);
  void Disconnect();
  void Fill(SimulatorReport* r) const;
  // Lost seqs given how many each device produced (fleet index -> count).
  int64_t Lost(const std::vector<int64_t>& produced) const;
  int64_t distinct() const;

 private:
  void Loop();  // the watcher's thread: (re)connects, subscribes, reads, parses
  bool ConnectAndSubscribe(int timeout_ms);
  void OnMessage(const std::string& topic, const std::string& payload);
  struct PerDevice {
    std::vector<uint8_t> seen;  // by seq
    std::map<int64_t, bool> versions;  // versions seen
  };
  const SimulatorOptions& options_;
  std::unordered_map<std::string, int> index_;
  std::unique_ptr<WireClient> wire_;  // the watcher's thread (Connect before it starts)
  std::thread thread_;
  std::atomic<bool> stop_{false};
  // Manifest pushes on their own connection, so they never wait behind a backlog of results.
  std::unique_ptr<mqtt::Client> ota_client_;
  std::function<void(mqtt::Message)> on_other_;
  mutable std::mutex mu_;
  std::vector<PerDevice> devices_;                 // GUARDED_BY(mu_)
  std::vector<float> latencies_ms_;                // GUARDED_BY(mu_)
  int64_t received_ = 0, distinct_ = 0, bad_ = 0;  // GUARDED_BY(mu_)
  std::map<int64_t, RolloutStats> rollouts_;       // GUARDED_BY(mu_)
};

}  // namespace edgeloop::fleet

#endif  // EDGELOOP_FLEET_INTERNAL_H_
