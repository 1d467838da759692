// The simulator's results watcher: a separate connection with a persistent session subscribed to
// every device's results, counting what arrives (duplicates, latency, versions per device).
#include <algorithm>
#include <chrono>

#include "fleet/internal.h"

namespace edgeloop::fleet {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
constexpr size_t kMaxLatencySamples = 4 << 20;

}  // namespace

Watcher::Watcher(const SimulatorOptions& options, const std::vector<std::string>& ids) : options_(options) {
  devices_.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) index_[ids[i]] = static_cast<int>(i);
}

Watcher::~Watcher() { Disconnect(); }

void Watcher::Drain() {
  std::vector<mqtt::Message> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || queue_stop_; });
      if (queue_.empty()) return;  // stopping and nothing left
      batch.swap(queue_);
    }
    for (auto& m : batch) OnMessage(std::move(m));
    batch.clear();
  }
}

Status Watcher::Connect(std::function<void(mqtt::Message)> on_other) {
  on_other_ = std::move(on_other);
  if (!drain_thread_.joinable()) drain_thread_ = std::thread([this] { Drain(); });
  mqtt::ClientOptions co;
  co.server_uri = options_.mqtt_url;
  co.client_id = options_.fleet + "-" + options_.device_prefix + "watcher-" + std::to_string(WallMs());
  co.clean_start = false;  // a reconnect must not lose results queued for us
  co.session_expiry_s = 3600;
  co.min_retry_ms = 200;
  co.max_retry_ms = 2000;
  mqtt::ClientCallbacks cb;
  cb.on_message = [this](mqtt::Message m) {
    bool notify;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      notify = queue_.empty();
      queue_.push_back(std::move(m));
    }
    if (notify) queue_cv_.notify_one();
  };
  EL_ASSIGN_OR_RETURN(client_, mqtt::Client::Create(co, cb));
  if (options_.watch_results) EL_RETURN_IF_ERROR(client_->Subscribe(mqtt::ResultsTopic(options_.fleet, "+"), 1));
  EL_RETURN_IF_ERROR(client_->Connect());
  mqtt::ClientOptions oo = co;
  oo.client_id = co.client_id + "-ota";
  oo.clean_start = true;  // the manifests are retained: a fresh subscription gets the latest
  mqtt::ClientCallbacks ocb;
  ocb.on_message = [this](mqtt::Message m) {
    if (on_other_) on_other_(std::move(m));
  };
  EL_ASSIGN_OR_RETURN(ota_client_, mqtt::Client::Create(oo, ocb));
  EL_RETURN_IF_ERROR(ota_client_->Subscribe(mqtt::ModelTopic(options_.fleet, options_.model, "+"), 1));
  EL_RETURN_IF_ERROR(ota_client_->Connect());
  for (int i = 0; i < 200 && !client_->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!client_->connected()) return Status::Unavailable("fleet simulator: cannot connect to " + options_.mqtt_url);
  // The subscription is sent right after CONNACK; give it a moment before devices publish.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return Status::Ok();
}

void Watcher::Disconnect() {
  if (ota_client_) (void)ota_client_->Disconnect(1000);
  ota_client_.reset();
  if (client_) (void)client_->Disconnect(2000);
  client_.reset();  // no callback runs after this: what was queued is all there is
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_stop_ = true;
  }
  queue_cv_.notify_all();
  if (drain_thread_.joinable()) drain_thread_.join();
}

void Watcher::OnMessage(mqtt::Message m) {
  auto topic = mqtt::ParseDeviceTopic(m.topic);
  if (!topic.ok() || topic->kind != mqtt::DeviceTopicKind::kResults) {
    if (on_other_) on_other_(std::move(m));
    return;
  }
  const int64_t now = WallMs();
  auto r = mqtt::ResultFromJson(m.payload);
  std::lock_guard<std::mutex> lock(mu_);
  if (!r.ok()) {
    ++bad_;
    return;
  }
  auto it = index_.find(r->device_id);
  if (it == index_.end() || r->seq < 1) {
    ++bad_;
    return;
  }
  PerDevice& d = devices_[static_cast<size_t>(it->second)];
  ++received_;
  const size_t seq = static_cast<size_t>(r->seq);
  if (d.seen.size() <= seq) d.seen.resize(std::max(seq + 1, d.seen.size() * 2), 0);
  if (d.seen[seq]) return;  // a duplicate: counted as received - distinct
  d.seen[seq] = 1;
  ++distinct_;
  if (latencies_ms_.size() < kMaxLatencySamples) latencies_ms_.push_back(static_cast<float>(now - r->timestamp_ms));
  if (d.versions.emplace(r->model.version, true).second) {
    RolloutStats& ro = rollouts_[r->model.version];
    ro.version = r->model.version;
    ++ro.devices;
    if (ro.first_ms == 0 || r->timestamp_ms < ro.first_ms) ro.first_ms = r->timestamp_ms;
    if (ro.devices == static_cast<int64_t>(devices_.size())) ro.complete_ms = now;
  }
}

void Watcher::Fill(SimulatorReport* r) const {
  std::lock_guard<std::mutex> lock(mu_);
  r->received = received_;
  r->distinct = distinct_;
  r->duplicates = received_ - distinct_;
  if (!latencies_ms_.empty()) {
    std::vector<float> l = latencies_ms_;
    auto pct = [&](double p) {
      size_t k = std::min(l.size() - 1, static_cast<size_t>(p * static_cast<double>(l.size() - 1) + 0.5));
      std::nth_element(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(k), l.end());
      return static_cast<double>(l[k]);
    };
    r->latency_p50_ms = pct(0.5);
    r->latency_p99_ms = pct(0.99);
    r->latency_max_ms = *std::max_element(l.begin(), l.end());
  }
  for (const auto& [v, ro] : rollouts_) {
    auto it = std::find_if(r->rollouts.begin(), r->rollouts.end(), [&](const RolloutStats& x) { return x.version == v; });
    if (it == r->rollouts.end()) it = r->rollouts.insert(r->rollouts.end(), RolloutStats{});
    it->version = v;
    it->devices = ro.devices;
    it->first_ms = ro.first_ms;
    it->complete_ms = ro.complete_ms;
  }
}

int64_t Watcher::Lost(const std::vector<int64_t>& produced) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t lost = 0;
  for (size_t i = 0; i < devices_.size() && i < produced.size(); ++i) {
    const auto& seen = devices_[i].seen;
    for (int64_t s = 1; s <= produced[i]; ++s) {
      if (static_cast<size_t>(s) >= seen.size() || !seen[static_cast<size_t>(s)]) ++lost;
    }
  }
  return lost;
}

int64_t Watcher::distinct() const {
  std::lock_guard<std::mutex> lock(mu_);
  return distinct_;
}

}  // namespace edgeloop::fleet
