// The simulator's results watcher: a separate connection with a persistent session subscribed to
// every device's results, counting what arrives (duplicates, latency, versions per device).
#include <poll.h>

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

// What the watcher needs of a result (device, seq, timestamp, model version), read straight from
// the text mqtt::ResultToJson writes: device_id, seq and timestamp are its first keys (before any
// label of all_scores could look like them), then "model":{"name":...,"version":N}. Anything else
// returns false and the caller parses the whole message (mqtt::ResultFromJson): the full parse of
// 10,000 results/s was the watcher thread's main cost.
struct ResultKey {
  std::string device_id;
  int64_t seq = 0, timestamp_ms = 0, version = 0;
};

bool ReadInt(std::string_view s, size_t* p, int64_t* out) {
  size_t i = *p;
  bool neg = i < s.size() && s[i] == '-';
  if (neg) ++i;
  const size_t start = i;
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18) v = v * 10 + (s[i++] - '0');
  if (i == start || (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E'))) {
    return false;
  }
  *out = neg ? -v : v;
  *p = i;
  return true;
}

// Expects `prefix` at *p (e.g. "\"seq\":") and moves past it.
bool Expect(std::string_view s, size_t* p, std::string_view prefix) {
  if (s.substr(*p, prefix.size()) != prefix) return false;
  *p += prefix.size();
  return true;
}

bool QuickResultKey(std::string_view s, ResultKey* k) {
  size_t p = 0;
  if (!Expect(s, &p, "{\"device_id\":\"")) return false;
  const size_t end = s.find('"', p);
  if (end == std::string_view::npos || s.substr(p, end - p).find('\\') != std::string_view::npos) return false;
  k->device_id.assign(s.data() + p, end - p);
  p = end + 1;
  if (!Expect(s, &p, ",\"seq\":") || !ReadInt(s, &p, &k->seq)) return false;
  if (!Expect(s, &p, ",\"timestamp\":") || !ReadInt(s, &p, &k->timestamp_ms)) return false;
  size_t m = s.rfind(",\"model\":{\"name\":\"");  // after all_scores and inference_ms
  if (m == std::string_view::npos) return false;
  m = s.find('"', m + 18);  // the end of the name (names have no escapes)
  if (m == std::string_view::npos) return false;
  ++m;
  return Expect(s, &m, ",\"version\":") && ReadInt(s, &m, &k->version) && Expect(s, &m, "}");
}

}  // namespace

Watcher::Watcher(const SimulatorOptions& options, const std::vector<std::string>& ids) : options_(options) {
  devices_.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) index_[ids[i]] = static_cast<int>(i);
}

Watcher::~Watcher() { Disconnect(); }

bool Watcher::ConnectAndSubscribe(int timeout_ms) {
  if (!wire_->Connect(timeout_ms).ok()) return false;
  // Always subscribe: harmless when the broker kept the session, needed when it did not.
  if (!wire_->Subscribe(mqtt::ResultsTopic(options_.fleet, "+"), 1).ok()) return false;
  std::vector<WireAck> acks;
  const int64_t deadline = WallMs() + timeout_ms;
  while (wire_->connected() && wire_->subacks() == 0 && WallMs() < deadline) {
    std::vector<WireMessage> messages;
    if (!wire_->Service(&acks, WallMs(), &messages).ok()) return false;
    for (const auto& m : messages) OnMessage(m.topic, m.payload);
    pollfd p{wire_->fd(), static_cast<short>(POLLIN | (wire_->want_write() ? POLLOUT : 0)), 0};
    ::poll(&p, 1, 20);
  }
  return wire_->connected() && wire_->subacks() > 0;
}

Status Watcher::Connect(std::function<void(mqtt::Message)> on_other) {
  on_other_ = std::move(on_other);
  const std::string client_id = options_.fleet + "-" + options_.device_prefix + "watcher-" + std::to_string(WallMs());
  if (options_.watch_results) {
    std::string host;
    int port = 0;
    EL_RETURN_IF_ERROR(WireClient::ParseUrl(options_.mqtt_url, &host, &port));
    // A persistent session: a reconnect must not lose results queued for us.
    wire_ = std::make_unique<WireClient>(host, port, client_id, 30, /*clean_start=*/false, /*session_expiry_s=*/3600);
    if (!ConnectAndSubscribe(10000)) {
      return Status::Unavailable("fleet simulator: cannot connect to " + options_.mqtt_url + ": " + wire_->last_error());
    }
    thread_ = std::thread([this] { Loop(); });
  }
  mqtt::ClientOptions oo;
  oo.server_uri = options_.mqtt_url;
  oo.client_id = client_id + "-ota";
  oo.clean_start = true;  // the manifests are retained: a fresh subscription gets the latest
  oo.min_retry_ms = 200;
  oo.max_retry_ms = 2000;
  mqtt::ClientCallbacks ocb;
  ocb.on_message = [this](mqtt::Message m) {
    if (on_other_) on_other_(std::move(m));
  };
  EL_ASSIGN_OR_RETURN(ota_client_, mqtt::Client::Create(oo, ocb));
  EL_RETURN_IF_ERROR(ota_client_->Subscribe(mqtt::ModelTopic(options_.fleet, options_.model, "+"), 1));
  EL_RETURN_IF_ERROR(ota_client_->Connect());
  return Status::Ok();
}

void Watcher::Loop() {
  std::vector<WireAck> acks;
  std::vector<WireMessage> messages;
  int64_t backoff_ms = 0, next_try_ms = 0;
  while (!stop_.load()) {
    if (!wire_->connected()) {
      if (WallMs() >= next_try_ms) {
        if (ConnectAndSubscribe(2000)) {
          backoff_ms = 0;
        } else {
          backoff_ms = backoff_ms == 0 ? 200 : std::min<int64_t>(backoff_ms * 2, 2000);
          next_try_ms = WallMs() + backoff_ms;
        }
      }
      if (!wire_->connected()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    messages.clear();
    acks.clear();
    if (!wire_->Service(&acks, WallMs(), &messages).ok()) continue;  // closed: reconnect above
    for (const auto& m : messages) OnMessage(m.topic, m.payload);
    if (!messages.empty()) {
      // Their PUBACKs go out with the next Service; a short nap first lets more arrive, so that a
      // read brings many messages rather than one (fewer system calls per result).
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    pollfd p{wire_->fd(), static_cast<short>(POLLIN | (wire_->want_write() ? POLLOUT : 0)), 0};
    ::poll(&p, 1, 100);
  }
}

void Watcher::Disconnect() {
  if (ota_client_) (void)ota_client_->Disconnect(1000);
  ota_client_.reset();
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (wire_) wire_->Disconnect();  // the session (and its expiry) stays on the broker
}

void Watcher::OnMessage(const std::string& topic_name, const std::string& payload) {
  auto topic = mqtt::ParseDeviceTopic(topic_name);
  if (!topic.ok() || topic->kind != mqtt::DeviceTopicKind::kResults) return;  // only results are subscribed
  const int64_t now = WallMs();
  ResultKey key;
  if (!QuickResultKey(payload, &key)) {
    auto r = mqtt::ResultFromJson(payload);
    if (!r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++bad_;
      return;
    }
    key = ResultKey{r->device_id, r->seq, r->timestamp_ms, r->model.version};
  }
  std::lock_guard<std::mutex> lock(mu_);
  const ResultKey* r = &key;
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
  if (d.versions.emplace(r->version, true).second) {
    RolloutStats& ro = rollouts_[r->version];
    ro.version = r->version;
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
