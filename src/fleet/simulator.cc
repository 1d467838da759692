// The fleet simulator's top level: window pools, shards, the watcher, and the fleet OTA manager
// (which decides per device, as the registry's assignment does, which channel it follows, and
// hands verified releases to the shards).
#include "edgeloop/fleet/simulator.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "edgeloop/data/generate.h"
#include "edgeloop/registry/api_types.h"
#include "edgeloop/registry/client.h"
#include "edgeloop/registry/manifest.h"
#include "fleet/internal.h"

namespace edgeloop::fleet {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

class Simulator::Impl {
 public:
  explicit Impl(SimulatorOptions o) : options_(std::move(o)) {}
  ~Impl() { StopOta(); }

  Status Init();
  Status Start();
  SimulatorReport Snapshot() const;
  SimulatorReport Stop(int64_t drain_timeout_ms);
  int DevicesOnVersion(int64_t v) const {
    int n = 0;
    for (auto* d : all_) n += d->installed.load() == v;
    return n;
  }
  void SetDrifted(bool d) { drifted_.store(d); }
  data::Dataset Labelled() const {
    std::lock_guard<std::mutex> lock(labelled_.mu);
    return labelled_.data;
  }
  std::vector<LabelledResult> LabelledResults() const {
    std::lock_guard<std::mutex> lock(labelled_.mu);
    return labelled_.results;
  }
  void PollNow() {
    {
      std::lock_guard<std::mutex> lock(ota_mu_);
      poll_now_ = true;
    }
    ota_cv_.notify_all();
  }

 private:
  struct ChannelState {
    int64_t version = 0;
    double share = 1.0;
    std::string manifest_json;
  };
  void OtaLoop();
  void Poll();
  void Decide();
  Result<std::shared_ptr<const ModelRelease>> Fetch(const registry::Manifest& m);
  void OtaError(const std::string& e) {
    std::lock_guard<std::mutex> lock(errors_mu_);
    if (errors_.size() < 20 && std::find(errors_.begin(), errors_.end(), e) == errors_.end()) errors_.push_back(e);
  }
  void StopOta() {
    {
      std::lock_guard<std::mutex> lock(ota_mu_);
      ota_stop_ = true;
    }
    ota_cv_.notify_all();
    if (ota_thread_.joinable()) ota_thread_.join();
  }

  SimulatorOptions options_;
  WindowPool pool_;
  std::atomic<bool> drifted_{false};
  LabelledSink labelled_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<Device*> all_;          // by fleet index; owned by the shards
  std::vector<int> shard_of_;         // fleet index -> shard
  std::vector<int64_t> bucket_;       // canary bucket per device
  std::unique_ptr<Watcher> watcher_;
  std::unique_ptr<registry::RegistryClient> registry_;
  int64_t start_us_ = 0;
  double start_cpu_ = 0;
  std::string local_model_;

  // OTA thread state.
  std::thread ota_thread_;
  std::map<int64_t, std::string> manifest_cache_;                           // OTA thread: version -> json
  std::map<std::string, std::shared_ptr<const ModelRelease>> releases_;     // OTA thread: sha256 -> release
  std::map<std::string, Status> verdicts_;                                  // OTA thread: signature -> verify result
  std::vector<int64_t> requested_;                                          // OTA thread: per device
  std::mutex ota_mu_;
  std::condition_variable ota_cv_;
  bool ota_stop_ = false;                           // GUARDED_BY(ota_mu_)
  bool poll_now_ = false;                           // GUARDED_BY(ota_mu_)
  std::vector<std::pair<std::string, std::string>> pushes_;  // GUARDED_BY(ota_mu_): channel, manifest
  std::map<std::string, ChannelState> channels_;    // OTA thread

  mutable std::mutex errors_mu_;
  std::vector<std::string> errors_;  // GUARDED_BY(errors_mu_)
};

Status Simulator::Impl::Init() {
  const SimulatorOptions& o = options_;
  if (o.devices < 1) return Status::InvalidArgument("--devices must be at least 1");
  if (!(o.rate_hz > 0) || o.rate_hz > 1000) return Status::InvalidArgument("--rate must be in (0, 1000] Hz");
  if (o.mqtt_url.empty()) return Status::InvalidArgument("--mqtt URL is required (tcp://host:port)");
  {
    std::string host;
    int port = 0;
    EL_RETURN_IF_ERROR(WireClient::ParseUrl(o.mqtt_url, &host, &port));
  }
  EL_RETURN_IF_ERROR(mqtt::ValidateName("fleet", o.fleet));
  EL_RETURN_IF_ERROR(mqtt::ValidateName("model", o.model));
  if (!o.registry_url.empty() && o.public_key.empty()) {
    return Status::InvalidArgument("--public-key is required with --registry (manifests must verify)");
  }
  if (o.registry_url.empty() && o.model_file.empty()) {
    return Status::InvalidArgument("give --registry URL (OTA) or --model-file FILE (a local model)");
  }
  if (o.pool_kind == "gaussian") {
    data::GaussianOptions g;
    g.samples = static_cast<size_t>(std::max(10, o.pool_windows));
    g.seed = o.seed;
    g.length = o.length * o.channels;
    EL_ASSIGN_OR_RETURN(pool_.base, data::GenerateGaussian(g));
    g.seed = o.seed + 7919;
    g.class_mix = o.drifted_class_mix;
    EL_ASSIGN_OR_RETURN(pool_.drifted, data::GenerateGaussian(g));
    for (float& v : pool_.drifted.x) v += static_cast<float>(o.gaussian_drift);
  } else if (o.pool_kind == "waveform") {
    data::WaveformOptions w;
    w.samples = static_cast<size_t>(std::max(10, o.pool_windows));
    w.seed = o.seed;
    w.length = o.length;
    w.channels = o.channels;
    EL_ASSIGN_OR_RETURN(pool_.base, data::GenerateWaveform(w));
    EL_ASSIGN_OR_RETURN(w.drift, data::ParseDrift(o.drift));
    w.seed = o.seed + 7919;
    w.class_mix = o.drifted_class_mix;
    EL_ASSIGN_OR_RETURN(pool_.drifted, data::GenerateWaveform(w));
  } else {
    return Status::InvalidArgument("--kind must be waveform or gaussian, not '" + o.pool_kind + "'");
  }
  if (!o.model_file.empty()) {
    std::ifstream f(o.model_file, std::ios::binary);
    if (!f) return Status::IOError("--model-file " + o.model_file + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    local_model_ = ss.str();
    auto m = agent::LoadAndSmokeTest(agent::DefaultModelLoader(), local_model_);
    if (!m.ok()) return Status::InvalidArgument("--model-file " + o.model_file + ": " + m.status().message());
    if ((*m)->window_size() != pool_.base.window_size()) {
      return Status::InvalidArgument("--model-file " + o.model_file + ": the model wants " +
                                     std::to_string((*m)->window_size()) + " readings per window, --length x " +
                                     "--channels gives " + std::to_string(pool_.base.window_size()));
    }
  }
  labelled_.data.length = pool_.base.length;
  labelled_.data.channels = pool_.base.channels;
  labelled_.data.labels = pool_.base.labels;
  int conns = o.connections > 0 ? o.connections : std::clamp((o.devices + 124) / 125, 1, 16);
  conns = std::min(conns, o.devices);
  options_.connections = conns;
  for (int s = 0; s < conns; ++s) shards_.push_back(std::make_unique<Shard>(s, options_, &pool_, &drifted_, &labelled_));
  std::vector<std::string> ids;
  char buf[32];
  for (int i = 0; i < o.devices; ++i) {
    std::snprintf(buf, sizeof(buf), "%05d", i + 1);
    ids.push_back(o.device_prefix + buf);
    EL_RETURN_IF_ERROR(mqtt::ValidateName("device id", ids.back()));
    shards_[static_cast<size_t>(i % conns)]->AddDevice(i, ids.back());
    shard_of_.push_back(i % conns);
    bucket_.push_back(registry::CanaryBucket(o.model, ids.back()));
  }
  all_.resize(ids.size());
  for (auto& s : shards_) {
    for (auto& d : s->devices()) all_[static_cast<size_t>(d->index)] = d.get();
  }
  requested_.assign(ids.size(), -1);
  watcher_ = std::make_unique<Watcher>(options_, ids);
  if (!o.registry_url.empty()) {
    registry::ClientOptions rc;
    rc.server_url = o.registry_url;
    rc.token = o.token;
    EL_ASSIGN_OR_RETURN(registry_, registry::RegistryClient::Create(rc));
  }
  return Status::Ok();
}

Status Simulator::Impl::Start() {
  EL_RETURN_IF_ERROR(watcher_->Connect([this](mqtt::Message m) {
    // edgeloop/{fleet}/models/{model}/{channel}: a retained manifest push.
    const std::string prefix = mqtt::ModelTopic(options_.fleet, options_.model, "");
    if (m.topic.rfind(prefix, 0) != 0 || m.payload.empty()) return;
    {
      std::lock_guard<std::mutex> lock(ota_mu_);
      pushes_.emplace_back(m.topic.substr(prefix.size()), std::move(m.payload));
    }
    ota_cv_.notify_all();
  }));
  for (auto& s : shards_) EL_RETURN_IF_ERROR(s->Connect());
  // Devices spool while their link is down, but a benchmark should not start with a backlog.
  for (int i = 0; i < 200; ++i) {
    bool all = true;
    for (auto& s : shards_) all = all && s->connected();
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!local_model_.empty()) {
    for (auto& s : shards_) s->InstallLocal(local_model_);
  }
  start_us_ = NowUs();
  start_cpu_ = ProcessCpuSeconds();
  for (auto& s : shards_) s->Start(start_us_);
  if (registry_) ota_thread_ = std::thread([this] { OtaLoop(); });
  return Status::Ok();
}

void Simulator::Impl::OtaLoop() {
  int64_t next_poll_us = NowUs();
  for (;;) {
    std::vector<std::pair<std::string, std::string>> pushes;
    bool poll = false;
    {
      std::unique_lock<std::mutex> lock(ota_mu_);
      ota_cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(0, next_poll_us - NowUs())),
                       [this] { return ota_stop_ || poll_now_ || !pushes_.empty(); });
      if (ota_stop_) return;
      pushes.swap(pushes_);
      poll = poll_now_ || NowUs() >= next_poll_us;
      poll_now_ = false;
    }
    for (auto& [channel, json] : pushes) {
      auto m = registry::ManifestFromJson(json);
      if (!m.ok()) {
        OtaError("push on channel " + channel + ": " + m.status().message());
        continue;
      }
      ChannelState& c = channels_[channel];
      if (m->version > c.version || (m->version == c.version && c.manifest_json.empty())) {
        c.version = m->version;
        c.manifest_json = json;
      }
    }
    if (poll) {
      Poll();
      next_poll_us = NowUs() + static_cast<int64_t>(options_.poll_seconds * 1e6);
    }
    Decide();
  }
}

void Simulator::Impl::Poll() {
  for (const char* name : {"stable", "canary"}) {
    auto st = registry_->GetChannel(options_.model, name);
    if (!st.ok()) {
      if (st.status().code() != StatusCode::kNotFound) OtaError("poll " + std::string(name) + ": " + st.status().message());
      continue;
    }
    ChannelState& c = channels_[name];
    c.share = std::string(name) == "canary" ? st->share : 1.0;
    if (st->version <= 0) {
      c = ChannelState{0, c.share, ""};
      continue;
    }
    if (c.version == st->version && !c.manifest_json.empty()) continue;
    auto it = manifest_cache_.find(st->version);
    if (it == manifest_cache_.end()) {
      auto mj = registry_->GetManifestJson(options_.model, st->version);
      if (!mj.ok()) {
        OtaError("manifest v" + std::to_string(st->version) + ": " + mj.status().message());
        continue;
      }
      it = manifest_cache_.emplace(st->version, *mj).first;
    }
    c.version = st->version;
    c.manifest_json = it->second;
  }
}

Result<std::shared_ptr<const ModelRelease>> Simulator::Impl::Fetch(const registry::Manifest& m) {
  auto it = releases_.find(m.sha256);
  if (it != releases_.end()) return it->second;
  EL_ASSIGN_OR_RETURN(std::string bytes, registry_->GetRaw("/v1/models/" + m.name + "/versions/" +
                                                           std::to_string(m.version) + "/artifact"));
  if (static_cast<int64_t>(bytes.size()) != m.size) {
    return Status::Corruption("artifact v" + std::to_string(m.version) + " is " + std::to_string(bytes.size()) +
                              " bytes, the manifest says " + std::to_string(m.size));
  }
  if (registry::Sha256Hex(bytes) != m.sha256) {
    return Status::Corruption("artifact v" + std::to_string(m.version) + ": sha256 does not match the manifest");
  }
  auto r = std::make_shared<ModelRelease>();
  r->version = m.version;
  r->sha256 = m.sha256;
  r->name = m.name;
  r->bytes = std::make_shared<const std::string>(std::move(bytes));
  releases_[m.sha256] = r;
  return std::shared_ptr<const ModelRelease>(r);
}

void Simulator::Impl::Decide() {
  const ChannelState* stable = channels_.count("stable") ? &channels_["stable"] : nullptr;
  const ChannelState* canary = channels_.count("canary") ? &channels_["canary"] : nullptr;
  std::map<const ChannelState*, std::vector<int>> wants;
  for (size_t i = 0; i < all_.size(); ++i) {
    const ChannelState* c = stable;
    if (canary && canary->version > 0 && registry::InCanary(bucket_[i], canary->share)) c = canary;
    if (!c || c->version <= 0 || c->manifest_json.empty()) continue;
    if (c->version <= requested_[i] || c->version <= all_[i]->installed.load()) continue;
    wants[c].push_back(static_cast<int>(i));
  }
  const int64_t now_ms = WallMs();
  for (auto& [c, devices] : wants) {
    auto m = registry::ManifestFromJson(c->manifest_json);
    if (!m.ok()) continue;
    if (m->name != options_.model) continue;
    auto v = verdicts_.find(m->signature);
    if (v == verdicts_.end()) v = verdicts_.emplace(m->signature, registry::VerifyManifest(*m, options_.public_key)).first;
    if (!v->second.ok()) {
      OtaError("refused v" + std::to_string(m->version) + ": signature: " + v->second.message());
      continue;
    }
    auto release = Fetch(*m);
    if (!release.ok()) {
      OtaError("failed v" + std::to_string(m->version) + ": " + release.status().message() + " (will retry)");
      continue;
    }
    std::vector<std::vector<int>> per_shard(shards_.size());
    for (int d : devices) {
      Status ok = registry::CheckManifestAcceptable(*m, std::max<int64_t>(0, all_[static_cast<size_t>(d)]->installed.load()), now_ms);
      if (!ok.ok()) {
        OtaError("refused v" + std::to_string(m->version) + ": " + ok.message());
        requested_[static_cast<size_t>(d)] = m->version;
        continue;
      }
      requested_[static_cast<size_t>(d)] = m->version;
      per_shard[static_cast<size_t>(shard_of_[static_cast<size_t>(d)])].push_back(d);
    }
    for (size_t s = 0; s < shards_.size(); ++s) {
      if (!per_shard[s].empty()) shards_[s]->Install(*release, std::move(per_shard[s]));
    }
  }
}

SimulatorReport Simulator::Impl::Snapshot() const {
  SimulatorReport r;
  r.devices = options_.devices;
  r.connections = options_.connections;
  r.seconds = start_us_ ? static_cast<double>(NowUs() - start_us_) / 1e6 : 0;
  std::map<std::pair<int64_t, bool>, std::pair<int64_t, int64_t>> acc;
  for (const auto& s : shards_) {
    ShardCounters c = s->Counters();
    r.produced += c.produced;
    r.acked += c.acked;
    r.alarms += c.alarms;
    r.no_model_windows += c.no_model;
    r.overruns += c.overruns;
    r.spool_depth += s->SpoolDepth();
    for (auto& [k, v] : c.accuracy) {
      acc[k].first += v.first;
      acc[k].second += v.second;
    }
  }
  for (auto& [k, v] : acc) r.accuracy.push_back(VersionStats{k.first, k.second, v.first, v.second});
  watcher_->Fill(&r);
  r.throughput = r.seconds > 0 ? static_cast<double>(r.distinct) / r.seconds : 0;
  r.cpu_seconds = start_us_ ? ProcessCpuSeconds() - start_cpu_ : 0;
  std::lock_guard<std::mutex> lock(errors_mu_);
  r.errors = errors_;
  return r;
}

SimulatorReport Simulator::Impl::Stop(int64_t drain_timeout_ms) {
  StopOta();
  const int64_t deadline_us = NowUs() + drain_timeout_ms * 1000;
  for (auto& s : shards_) s->StopProducing();
  const double seconds = static_cast<double>(NowUs() - start_us_) / 1e6;
  for (auto& s : shards_) s->Join(std::max<int64_t>(0, (deadline_us - NowUs()) / 1000));
  std::vector<int64_t> produced(all_.size());
  int64_t total = 0;
  for (size_t i = 0; i < all_.size(); ++i) {
    produced[i] = all_[i]->spool->NextSeq(agent::Stream::kResults) - 1;
    total += produced[i];
  }
  // Everything is acknowledged by the broker; wait until the watcher has it too (or stops moving).
  if (options_.watch_results) {
    int64_t last = -1;
    int64_t last_change_us = NowUs();
    while (watcher_->distinct() < total && NowUs() < deadline_us) {
      int64_t now = watcher_->distinct();
      if (now != last) {
        last = now;
        last_change_us = NowUs();
      } else if (NowUs() - last_change_us > 3000000) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  SimulatorReport r = Snapshot();
  r.seconds = seconds;
  r.throughput = seconds > 0 ? static_cast<double>(r.distinct) / seconds : 0;
  for (auto& s : shards_) {
    for (auto& e : s->TakeErrors()) r.errors.push_back(e);
  }
  // Messages still unacknowledged at the deadline are late, not lost: the spools would send them.
  int64_t unacked = 0;
  for (auto* d : all_) unacked += d->publisher->depth();
  r.undelivered = unacked;
  if (options_.watch_results) r.lost = std::max<int64_t>(0, watcher_->Lost(produced) - unacked);
  watcher_->Disconnect();
  return r;
}

std::string ReportToJson(const SimulatorReport& r) {
  nlohmann::json j;
  j["devices"] = r.devices;
  j["connections"] = r.connections;
  j["seconds"] = r.seconds;
  j["results_sent"] = r.produced;
  j["acked"] = r.acked;
  j["alarms"] = r.alarms;
  j["no_model_windows"] = r.no_model_windows;
  j["overruns"] = r.overruns;
  j["spool_depth"] = r.spool_depth;
  j["received"] = r.received;
  j["distinct"] = r.distinct;
  j["duplicates"] = r.duplicates;
  j["lost"] = r.lost;
  j["undelivered"] = r.undelivered;
  j["throughput_per_s"] = r.throughput;
  j["latency_ms"] = {{"p50", r.latency_p50_ms}, {"p99", r.latency_p99_ms}, {"max", r.latency_max_ms}};
  j["cpu_seconds"] = r.cpu_seconds;
  j["accuracy"] = nlohmann::json::array();
  for (const auto& a : r.accuracy) {
    j["accuracy"].push_back({{"version", a.version}, {"drifted", a.drifted}, {"windows", a.windows},
                             {"correct", a.correct},
                             {"accuracy", a.windows ? static_cast<double>(a.correct) / static_cast<double>(a.windows) : 0.0}});
  }
  j["rollouts"] = nlohmann::json::array();
  for (const auto& ro : r.rollouts) {
    j["rollouts"].push_back({{"version", ro.version}, {"devices", ro.devices}, {"first_ms", ro.first_ms},
                             {"complete_ms", ro.complete_ms}});
  }
  j["errors"] = r.errors;
  return j.dump(2);
}

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Simulator::~Simulator() = default;

Result<std::unique_ptr<Simulator>> Simulator::Create(SimulatorOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  EL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Simulator>(new Simulator(std::move(impl)));
}
Status Simulator::Start() { return impl_->Start(); }
void Simulator::SetDrifted(bool drifted) { impl_->SetDrifted(drifted); }
void Simulator::PollNow() { impl_->PollNow(); }
SimulatorReport Simulator::Snapshot() const { return impl_->Snapshot(); }
data::Dataset Simulator::LabelledWindows() const { return impl_->Labelled(); }
std::vector<LabelledResult> Simulator::LabelledResults() const { return impl_->LabelledResults(); }
int Simulator::DevicesOnVersion(int64_t version) const { return impl_->DevicesOnVersion(version); }
SimulatorReport Simulator::Stop(int64_t drain_timeout_ms) { return impl_->Stop(drain_timeout_ms); }

}  // namespace edgeloop::fleet
