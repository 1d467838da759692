// A shard of the fleet simulator: one MQTT connection and one loop thread for its devices. The
// loop ticks each device at rate_hz (staggered evenly over the period), classifies a window,
// stores the result in the device's spool and hands it to the device's Publisher, exactly as the
// agent's loop does; PUBACKs come back through the shared connection and are routed to the
// device whose Publisher sent the message. The connection is the shard's own WireClient, serviced
// by this same loop: everything a round produced goes out in one write, PUBACKs come in bulk.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "fleet/internal.h"

namespace edgeloop::fleet {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// A device's view of the shared connection: remembers which device sent what, so the PUBACK
// goes back to that device's Publisher. Used on the loop thread only.
class Shard::Sink final : public agent::MessageSink {
 public:
  Sink(Shard* shard, int device) : shard_(shard), device_(device) {}
  // False also while the connection's window is full: the device's Publisher then leaves the
  // message in its spool and the loop pumps it when a PUBACK frees a slot.
  bool connected() const override { return shard_->WindowOpen(); }
  Status Publish(const std::string& topic, const std::string& payload, uint64_t tag) override {
    if (!shard_->WindowOpen()) return Status::Unavailable("fleet: connection window full");
    return shard_->PublishCounted(topic, payload, false, Route{device_, tag});
  }

 private:
  Shard* shard_;  // must outlive the sink (owns it through the device)
  int device_;
};

bool Shard::WindowOpen() const {
  return wire_ && wire_->connected() && inflight_ < window_;
}

Status Shard::PublishCounted(const std::string& topic, std::string_view payload, bool retained, Route route) {
  EL_ASSIGN_OR_RETURN(uint16_t id, wire_->Publish(topic, payload, retained));
  routes_[id] = route;
  ++inflight_;
  return Status::Ok();
}

Shard::Shard(int index, const SimulatorOptions& options, const WindowPool* pool, const std::atomic<bool>* drifted,
             LabelledSink* labelled)
    : index_(index), options_(options), pool_(pool), drifted_(drifted), labelled_(labelled), routes_(65536) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Shard::~Shard() {
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
  wire_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Shard::AddDevice(int index, const std::string& id) {
  auto d = std::make_unique<Device>();
  d->index = index;
  d->id = id;
  d->results_topic = mqtt::ResultsTopic(options_.fleet, id);
  d->alarms_topic = mqtt::AlarmsTopic(options_.fleet, id);
  d->status_topic = mqtt::StatusTopic(options_.fleet, id);
  d->spool = std::make_unique<MemorySpool>(int64_t{16} << 20, int64_t{168} * 3600 * 1000);
  const int local = static_cast<int>(devices_.size());
  d->sink = std::make_unique<Sink>(this, local);
  agent::Publisher::Options po;
  po.max_inflight = 32;
  po.retry_after_ms = 2000;
  d->publisher = std::make_unique<agent::Publisher>(d->spool.get(), d->sink.get(), po);
  d->debouncer = std::make_unique<agent::AlarmDebouncer>(options_.alarm_n, options_.alarm_m);
  d->rng.seed(options_.seed * 1000003 + static_cast<uint64_t>(index));
  local_index_[index] = local;
  devices_.push_back(std::move(d));
}

Status Shard::Connect() {
  std::string host;
  int port = 0;
  EL_RETURN_IF_ERROR(WireClient::ParseUrl(options_.mqtt_url, &host, &port));
  if (wake_fd_ < 0) return Status::IOError("fleet: eventfd failed");
  wire_ = std::make_unique<WireClient>(host, port,
                                       options_.fleet + "-" + options_.device_prefix + "shard-" + std::to_string(index_),
                                       30);
  // The first attempt here, so that Start begins with connected shards; the loop retries.
  TryConnect(NowUs() / 1000);
  return Status::Ok();
}

// On the loop thread (or before it starts). A fresh connection (clean start: the devices' spools
// hold what is unacknowledged, not the broker) and every device resends from its spool.
void Shard::TryConnect(int64_t now_ms) {
  if (wire_->connected() || now_ms < next_connect_ms_) return;
  Status st = wire_->Connect(2000);
  if (!st.ok()) {
    backoff_ms_ = backoff_ms_ == 0 ? 200 : std::min<int64_t>(backoff_ms_ * 2, 2000);
    next_connect_ms_ = NowUs() / 1000 + backoff_ms_;
    if (options_.verbose) std::fprintf(stderr, "fleet: shard %d: %s; retrying in %lld ms\n", index_, st.message().c_str(),
                                       static_cast<long long>(backoff_ms_));
    return;
  }
  backoff_ms_ = 0;
  window_ = std::max(1, std::min(options_.max_inflight, wire_->receive_maximum()));
  inflight_ = 0;
  connected_.store(true);
  const int64_t wall = WallMs();
  for (auto& d : devices_) {
    d->publisher->OnConnected(wall);
    d->pump_due = true;
  }
  for (auto& d : devices_) PublishStatus(*d, true);
}

void Shard::LinkLost() {
  connected_.store(false);
  inflight_ = 0;
  for (auto& d : devices_) d->publisher->OnDisconnected();
  next_connect_ms_ = NowUs() / 1000;  // the first retry at once, then with backoff
}

void Shard::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof(one));
}

void Shard::Start(int64_t start_us) {
  start_us_ = start_us;
  const int64_t period_us = static_cast<int64_t>(1e6 / options_.rate_hz);
  const size_t n = devices_.size();
  for (size_t i = 0; i < n; ++i) {
    devices_[i]->next_tick_us = start_us + static_cast<int64_t>(i) * period_us / static_cast<int64_t>(std::max<size_t>(n, 1));
  }
  thread_ = std::thread([this] { Loop(); });
}

void Shard::Install(std::shared_ptr<const ModelRelease> release, std::vector<int> device_indices) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    installs_.emplace_back(std::move(release), std::move(device_indices));
  }
  Wake();
}

void Shard::InstallLocal(const std::string& bytes) {
  auto release = std::make_shared<ModelRelease>();
  release->version = 0;
  release->name = options_.model;
  release->bytes = std::make_shared<const std::string>(bytes);
  std::vector<int> all;
  for (auto& d : devices_) all.push_back(d->index);
  Install(std::move(release), std::move(all));
}

agent::Model* Shard::LoadedModel(const ModelRelease& r) {
  auto it = models_.find(r.version);
  if (it != models_.end()) return it->second.get();
  auto m = agent::LoadAndSmokeTest(agent::DefaultModelLoader(), *r.bytes);
  if (!m.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("refused v" + std::to_string(r.version) + ": " + m.status().message());
    return nullptr;
  }
  if ((*m)->window_size() != pool_->base.window_size()) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("refused v" + std::to_string(r.version) + ": model wants " +
                      std::to_string((*m)->window_size()) + " readings, the simulated sensors give " +
                      std::to_string(pool_->base.window_size()));
    return nullptr;
  }
  agent::Model* raw = m->get();
  models_[r.version] = std::move(*m);
  return raw;
}

void Shard::ApplyInstalls() {
  std::vector<std::pair<std::shared_ptr<const ModelRelease>, std::vector<int>>> installs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    installs.swap(installs_);
  }
  for (auto& [release, indices] : installs) {
    agent::Model* model = LoadedModel(*release);
    if (!model) continue;
    for (int fi : indices) {
      auto it = local_index_.find(fi);
      if (it == local_index_.end()) continue;
      Device& d = *devices_[static_cast<size_t>(it->second)];
      if (d.installed.load() >= release->version && release->version != 0) continue;  // newer-only
      d.model = model;
      d.model_ref = mqtt::ModelRef{release->name, release->version};
      d.installed.store(release->version);
      if (wire_ && wire_->connected()) PublishStatus(d, true);
    }
  }
}

void Shard::PublishStatus(Device& d, bool online) {
  mqtt::StatusMessage s;
  s.device_id = d.id;
  s.state = online ? "online" : "offline";
  s.timestamp_ms = WallMs();
  s.agent_version = "fleet-simulator";
  s.model = d.model_ref;
  s.ota = mqtt::OtaStatus{d.installed.load() > 0 ? "installed" : "idle", std::max<int64_t>(0, d.installed.load()), ""};
  s.alarm_active = d.debouncer->active();
  s.spool_depth = d.publisher->depth();
  s.spool_bytes = d.spool->stats().bytes;
  s.dropped = d.spool->stats().dropped;
  s.sent = d.publisher->sent();
  // Not held back by the window (connects, installs and the goodbye are rare); not routed.
  (void)PublishCounted(d.status_topic, mqtt::StatusToJson(s), true, Route{-1, 0});
}

void Shard::Produce(Device& d, int64_t now_ms) {
  const data::Dataset& pool = drifted_->load() ? pool_->drifted : pool_->base;
  const size_t i = static_cast<size_t>(d.rng() % pool.size());
  if (!d.model) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.no_model;
    return;
  }
  std::span<const float> window = pool.window(i);
  const auto& labels = d.model->labels();
  scores_.resize(labels.size());
  const int64_t t0 = NowUs();
  Status st = d.model->Classify(window, scores_);
  const int64_t t1 = NowUs();
  if (!st.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_.size() < 20) errors_.push_back(d.id + ": inference: " + st.message());
    return;
  }
  const size_t best = static_cast<size_t>(std::max_element(scores_.begin(), scores_.end()) - scores_.begin());
  mqtt::ResultMessage r;
  r.device_id = d.id;
  r.seq = d.spool->NextSeq(agent::Stream::kResults);
  r.timestamp_ms = now_ms;
  r.prediction = labels[best];
  r.confidence = std::clamp(scores_[best], 0.0f, 1.0f);
  for (size_t k = 0; k < labels.size(); ++k) r.all_scores.emplace_back(labels[k], std::clamp(scores_[k], 0.0f, 1.0f));
  r.inference_ms = static_cast<double>(t1 - t0) / 1000.0;
  r.model = d.model_ref;
  r.raw_data.assign(window.begin(), window.begin() + std::min(window.size(), mqtt::kRawDataReadings));

  float alarm_score = 0;
  bool exceeded = false;
  for (size_t k = 0; k < labels.size(); ++k) {
    if (labels[k] == options_.alarm_label) {
      alarm_score = scores_[k];
      exceeded = alarm_score > options_.alarm_threshold;
    }
  }
  agent::AlarmDebouncer::Update u = d.debouncer->Observe(exceeded);
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(d.rng);
  if (r.confidence < options_.low_confidence) {
    r.window_reason = mqtt::UploadReason::kLowConfidence;
  } else if (exceeded || u.changed) {
    r.window_reason = mqtt::UploadReason::kAlarm;
  } else if (draw < options_.random_share) {
    r.window_reason = mqtt::UploadReason::kRandom;
  }
  if (r.window_reason != mqtt::UploadReason::kNone) {
    r.window.assign(window.begin(), window.end());
    if (options_.max_labelled > 0 && drifted_->load()) {
      std::lock_guard<std::mutex> lock(labelled_->mu);
      if (labelled_->data.size() < static_cast<size_t>(options_.max_labelled)) {
        labelled_->data.Add(window, pool.y[i]);
        labelled_->results.push_back({d.id, r.seq, pool.labels[static_cast<size_t>(pool.y[i])]});
      }
    }
  }

  const bool correct = labels[best] == pool.labels[static_cast<size_t>(pool.y[i])];
  auto put = [&](agent::Stream stream, int64_t seq, const std::string& topic, std::string payload) {
    auto id = d.spool->Put(stream, seq, topic, payload, now_ms);
    if (!id.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (errors_.size() < 20) errors_.push_back(d.id + ": spool: " + id.status().message());
      return;
    }
    agent::SpoolRecord rec{*id, stream, seq, now_ms, topic, std::move(payload)};
    d.publisher->OnStored(std::move(rec), now_ms);
  };
  put(agent::Stream::kResults, r.seq, d.results_topic, mqtt::ResultToJson(r));
  bool alarm = false;
  if (u.changed) {
    mqtt::AlarmMessage a;
    a.device_id = d.id;
    a.seq = d.spool->NextSeq(agent::Stream::kAlarms);
    a.timestamp_ms = now_ms;
    a.event = u.active ? mqtt::AlarmEvent::kRaised : mqtt::AlarmEvent::kCleared;
    a.label = options_.alarm_label;
    a.score = std::clamp(alarm_score, 0.0f, 1.0f);
    a.threshold = static_cast<float>(options_.alarm_threshold);
    a.count = u.count;
    a.n = options_.alarm_n;
    a.m = options_.alarm_m;
    a.result_seq = r.seq;
    a.model = d.model_ref;
    put(agent::Stream::kAlarms, a.seq, d.alarms_topic, mqtt::AlarmToJson(a));
    alarm = true;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.produced;
  if (alarm) ++counters_.alarms;
  auto& acc = counters_.accuracy[{d.model_ref.version, drifted_->load()}];
  ++acc.first;
  if (correct) ++acc.second;
}

// Acknowledgements from the broker back to the devices that sent the messages.
int64_t Shard::HandleAcks(const std::vector<WireAck>& acks, int64_t now_ms) {
  int64_t acked = 0;
  for (const WireAck& a : acks) {
    if (inflight_ > 0) --inflight_;
    const Route r = routes_[a.packet_id];
    if (r.device < 0) continue;  // a status message
    Device& d = *devices_[static_cast<size_t>(r.device)];
    Status st = a.reason >= 0x80 ? Status::PermissionDenied("publish refused by the broker (reason code " +
                                                            std::to_string(a.reason) + ")")
                                 : Status::Ok();
    d.publisher->OnComplete(r.tag, st, now_ms);
    if (st.ok()) ++acked;
    d.pump_due = true;
  }
  return acked;
}

void Shard::Loop() {
  const int64_t period_us = static_cast<int64_t>(1e6 / options_.rate_hz);
  std::vector<WireAck> acks;
  // Rounds start at most every kRoundUs: ticks, PUBACKs and writes of ~2 ms go together (fewer
  // wake-ups and system calls per result; results are at most that much later).
  constexpr int64_t kRoundUs = 2000;
  int64_t round_start_us = 0;
  while (!stop_.load()) {
    if (const int64_t since = NowUs() - round_start_us; since < kRoundUs) {
      std::this_thread::sleep_for(std::chrono::microseconds(kRoundUs - since));
    }
    round_start_us = NowUs();
    bool have_installs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      have_installs = !installs_.empty();
    }
    int64_t now_ms = WallMs();
    TryConnect(NowUs() / 1000);
    if (have_installs) ApplyInstalls();

    int64_t now_us = NowUs();
    if (producing_.load() && !devices_.empty()) {
      while (devices_[cursor_]->next_tick_us <= now_us) {
        Device& d = *devices_[cursor_];
        if (now_us - d.next_tick_us > 1000000) {  // more than a second behind: skip, count
          const int64_t missed = (now_us - d.next_tick_us) / period_us;
          d.next_tick_us += missed * period_us;
          std::lock_guard<std::mutex> lock(mu_);
          counters_.overruns += missed;
        }
        Produce(d, now_ms);
        d.pump_due = true;
        d.next_tick_us += period_us;
        cursor_ = (cursor_ + 1) % devices_.size();
      }
    }

    // Send, read PUBACKs, and pump again while they free the window: the devices that produced
    // or were acknowledged, and those holding messages back; one further each round so that no
    // device always gets the window first.
    int64_t acked = 0;
    int64_t depth = 0;
    const size_t n = devices_.size();
    for (int round = 0; round < 4; ++round) {
      bool freed = false;
      if (wire_->connected()) {
        acks.clear();
        Status st = wire_->Service(&acks, NowUs() / 1000);
        if (!st.ok()) {
          LinkLost();
        } else {
          acked += HandleAcks(acks, now_ms);
          freed = !acks.empty();
        }
      }
      depth = 0;
      if (n > 0) pump_start_ = (pump_start_ + 1) % n;
      for (size_t k = 0; k < n; ++k) {
        Device& d = *devices_[(pump_start_ + k) % n];
        if (d.pump_due || (freed && d.publisher->waiting())) {
          (void)d.publisher->Pump(now_ms);
          d.pump_due = false;
        }
        depth += d.publisher->depth();
      }
      if (!wire_->connected() || !wire_->want_write()) break;
    }
    depth_.store(depth);
    if (acked) {
      std::lock_guard<std::mutex> lock(mu_);
      counters_.acked += acked;
    }

    // Sleep until the next tick, a PUBACK, a wake-up (install, stop) or writable buffer space; at
    // most 100 ms (retries, flushes, keep-alive, reconnects).
    int64_t wait_us = 100000;
    if (producing_.load() && !devices_.empty()) wait_us = std::min(wait_us, devices_[cursor_]->next_tick_us - NowUs());
    if (depth > 0) wait_us = std::min<int64_t>(wait_us, 50000);  // pump retries of refused/unsent messages
    if (!wire_->connected()) wait_us = std::min<int64_t>(wait_us, std::max<int64_t>(1000, (next_connect_ms_ - NowUs() / 1000) * 1000));
    if (wait_us > 0 && !stop_.load()) {
      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {wire_->fd(), static_cast<short>(POLLIN | (wire_->want_write() ? POLLOUT : 0)), 0}};
      const int nfds = wire_->connected() ? 2 : 1;
      if (::poll(fds, static_cast<nfds_t>(nfds), static_cast<int>((wait_us + 999) / 1000)) > 0 && (fds[0].revents & POLLIN)) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof(v));
      }
    }
    if (depth > 0 && wait_us >= 50000) {
      for (auto& d : devices_) d->pump_due = d->publisher->depth() > 0;
    }
  }
}

void Shard::Join(int64_t drain_timeout_ms) {
  StopProducing();
  const int64_t deadline = NowUs() + drain_timeout_ms * 1000;
  while (depth_.load() > 0 && NowUs() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
  // The loop has ended: this thread owns the connection now.
  if (wire_ && wire_->connected()) {
    for (auto& d : devices_) PublishStatus(*d, false);
    wire_->Disconnect();  // writes what is buffered, then DISCONNECT
  }
}

ShardCounters Shard::Counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

std::vector<std::string> Shard::TakeErrors() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> e;
  e.swap(errors_);
  return e;
}

}  // namespace edgeloop::fleet
