#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "edgeloop/loop/retrain.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/registry/client.h"

namespace edgeloop::loop {
namespace {

constexpr int kBins = 20;

struct Group {
  int64_t version = 0;
  int64_t results = 0;
  double conf = 0;
  std::vector<double> ms;  // inference times
  std::array<int64_t, kBins> hist{};
  int64_t errors = 0;  // status counter increases and dead letters
  std::set<std::string> devices;
  double mean_conf() const { return results ? conf / static_cast<double>(results) : 0; }
  // The median: a preempted inference on a busy host moves a mean, hardly a median.
  double median_ms() {
    if (ms.empty()) return 0;
    auto mid = ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2);
    std::nth_element(ms.begin(), mid, ms.end());
    return *mid;
  }
  double error_rate() const { return results ? static_cast<double>(errors) / static_cast<double>(results) : 0; }
};

int Bin(double confidence) { return std::clamp(static_cast<int>(confidence * kBins), 0, kBins - 1); }

// max_x (F_c(x) - F_s(x)): how much of the canary's mass sits below where the stable's does.
double OneSidedKs(const Group& c, const Group& s) {
  if (c.results == 0 || s.results == 0) return 0;
  double fc = 0, fs = 0, d = 0;
  for (int i = 0; i < kBins; ++i) {
    fc += static_cast<double>(c.hist[i]) / static_cast<double>(c.results);
    fs += static_cast<double>(s.hist[i]) / static_cast<double>(s.results);
    d = std::max(d, fc - fs);
  }
  return d;
}

double Psi(const Group& c, const Group& s) {
  if (c.results == 0 || s.results == 0) return 0;
  double psi = 0;
  for (int i = 0; i < kBins; ++i) {
    double pc = std::max(1e-4, static_cast<double>(c.hist[i]) / static_cast<double>(c.results));
    double ps = std::max(1e-4, static_cast<double>(s.hist[i]) / static_cast<double>(s.results));
    psi += (pc - ps) * std::log(pc / ps);
  }
  return psi;
}

int64_t CounterErrors(const mqtt::StatusMessage& m) {
  return m.spool_errors + m.dropped + m.overruns + m.bad_inputs + m.alarm_command_failures;
}

// The model version each device ran over time, from its results and statuses.
class Timeline {
 public:
  void Add(const std::string& device, int64_t t, int64_t version) { events_[device].emplace_back(t, version); }
  void Sort() {
    for (auto& [d, ev] : events_) std::sort(ev.begin(), ev.end());
  }
  // The version of the device's last event at or before t (its first one if none came before).
  int64_t At(const std::string& device, int64_t t) const {
    auto it = events_.find(device);
    if (it == events_.end() || it->second.empty()) return 0;
    const auto& ev = it->second;
    auto up = std::upper_bound(ev.begin(), ev.end(), std::make_pair(t, INT64_MAX));
    return up == ev.begin() ? ev.front().second : std::prev(up)->second;
  }

 private:
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> events_;
};

}  // namespace

Result<store::RetrainDecision> CheckCanary(store::Store& store, const CanaryOptions& o) {
  registry::ClientOptions co;
  co.server_url = o.server_url;
  co.token = o.token;
  EL_ASSIGN_OR_RETURN(auto client, registry::RegistryClient::Create(co));
  EL_ASSIGN_OR_RETURN(registry::ChannelState canary, client->GetChannel(o.model, "canary"));
  EL_ASSIGN_OR_RETURN(registry::ChannelState stable, client->GetChannel(o.model, "stable"));
  store::RetrainDecision d;
  d.model = o.model;
  d.candidate_version = canary.version;
  d.champion_version = stable.version;
  if (canary.version == 0 || canary.version == stable.version) {
    d.decision = "held";
    d.reason = "no canary version distinct from stable";
    EL_RETURN_IF_ERROR(store.AddRetrainDecision(d));
    return d;
  }
  Group c, s;
  c.version = canary.version;
  s.version = stable.version;
  auto group = [&](int64_t version) { return version == c.version ? &c : version == s.version ? &s : nullptr; };
  Timeline timeline;

  // Results: confidence, latency, and which version each device ran when.
  store::ResultQuery q;
  q.since_ms = o.since_ms;
  q.limit = 0;
  EL_ASSIGN_OR_RETURN(auto rows, store.Results(q));
  for (const auto& r : rows) {
    if (r.msg.model.name != o.model) continue;
    timeline.Add(r.msg.device_id, r.msg.timestamp_ms, r.msg.model.version);
    Group* g = group(r.msg.model.version);
    if (g == nullptr) continue;
    ++g->results;
    g->conf += r.msg.confidence;
    g->ms.push_back(r.msg.inference_ms);
    ++g->hist[Bin(r.msg.confidence)];
    g->devices.insert(r.msg.device_id);
  }

  // Statuses: counter increases between consecutive messages of a device, and OTA failures.
  EL_ASSIGN_OR_RETURN(auto statuses, store.Statuses("", o.since_ms, 0));
  std::map<std::string, const mqtt::StatusMessage*> last;
  std::set<std::string> ota_failed;
  for (const store::StoredStatus& st : statuses) {
    const mqtt::StatusMessage& m = st.msg;
    if ((m.ota.state == "failed" || m.ota.state == "refused") && m.ota.version == c.version) ota_failed.insert(m.device_id);
    if (!m.counters_present) continue;  // the will: no counters
    if (m.model.name == o.model) timeline.Add(m.device_id, m.timestamp_ms, m.model.version);
    auto it = last.find(m.device_id);
    if (it != last.end() && m.model.name == o.model) {
      const int64_t now = CounterErrors(m), before = CounterErrors(*it->second);
      const int64_t delta = now >= before ? now - before : now;  // a restart resets the counters
      if (Group* g = group(m.model.version)) g->errors += delta;
    }
    last[m.device_id] = &m;
  }

  // Dead letters from the devices' own topics, on the version the device ran then.
  timeline.Sort();
  EL_ASSIGN_OR_RETURN(auto dead, store.DeadLetters(100000));
  for (const store::DeadLetter& dl : dead) {
    if (dl.received_ms < o.since_ms) continue;
    auto t = mqtt::ParseDeviceTopic(dl.topic);
    if (!t.ok()) continue;
    if (Group* g = group(timeline.At(t->device, dl.received_ms))) ++g->errors;
  }

  const double ks = OneSidedKs(c, s), psi = Psi(c, s);
  const double c_ms = c.median_ms(), s_ms = s.median_ms();
  d.candidate_accuracy = c.mean_conf();
  d.champion_accuracy = s.mean_conf();
  char why[640];
  std::snprintf(why, sizeof(why),
                "canary v%lld: %lld results from %zu devices, mean confidence %.4f, median inference %.4f ms, "
                "%lld errors (%.4f/result), %zu failed installs; stable v%lld: %lld results from %zu devices, %.4f, "
                "%.4f ms, %lld errors (%.4f/result); confidence shift (one-sided KS) %.4f, PSI %.4f",
                static_cast<long long>(c.version), static_cast<long long>(c.results), c.devices.size(), c.mean_conf(),
                c_ms, static_cast<long long>(c.errors), c.error_rate(), ota_failed.size(),
                static_cast<long long>(s.version), static_cast<long long>(s.results), s.devices.size(), s.mean_conf(),
                s_ms, static_cast<long long>(s.errors), s.error_rate(), ks, psi);
  d.reason = why;
  std::vector<std::string> failed;
  char f[200];
  if (s.results > 0 && c.mean_conf() < s.mean_conf() - o.max_confidence_drop) {
    std::snprintf(f, sizeof(f), "confidence: mean %.4f < stable %.4f - %.4f", c.mean_conf(), s.mean_conf(),
                  o.max_confidence_drop);
    failed.push_back(f);
  }
  if (s.results > 0 && ks > o.max_confidence_shift) {
    std::snprintf(f, sizeof(f), "distribution: %.4f of the canary's results moved to lower confidence > %.4f", ks,
                  o.max_confidence_shift);
    failed.push_back(f);
  }
  if (s.results > 0 && s_ms > 0 && c_ms > s_ms * o.max_latency_ratio) {
    std::snprintf(f, sizeof(f), "latency: median %.4f ms > stable %.4f ms x %.2f", c_ms, s_ms, o.max_latency_ratio);
    failed.push_back(f);
  }
  if (c.error_rate() > s.error_rate() + o.max_error_rate_increase) {
    std::snprintf(f, sizeof(f), "errors: %.4f/result > stable %.4f/result + %.4f", c.error_rate(), s.error_rate(),
                  o.max_error_rate_increase);
    failed.push_back(f);
  }
  if (static_cast<int64_t>(ota_failed.size()) > o.max_ota_failures) {
    std::snprintf(f, sizeof(f), "ota: %zu devices failed to install v%lld (e.g. %s) > %lld", ota_failed.size(),
                  static_cast<long long>(c.version), ota_failed.begin()->c_str(),
                  static_cast<long long>(o.max_ota_failures));
    failed.push_back(f);
  }
  if (failed.empty() && c.results < o.min_results) {
    d.decision = "held";
    d.reason += "; waiting for " + std::to_string(o.min_results) + " canary results";
  } else if (!failed.empty() && (c.results >= o.min_results || static_cast<int64_t>(ota_failed.size()) > o.max_ota_failures)) {
    std::string list;
    for (const std::string& x : failed) list += (list.empty() ? "" : "; ") + x;
    // Back to what the rest of the fleet runs: the canary channel points at the stable version (not
    // at the channel's previous version, which may be an older candidate, or none at all).
    auto rb = client->Promote(o.model, stable.version, "canary");
    d.decision = rb.ok() ? "rolled_back" : "rollback_failed";
    d.reason += "; regressed: " + list + (rb.ok() ? "; canary channel back to v" + std::to_string(stable.version)
                                                  : "; rollback failed: " + rb.status().message());
  } else if (!failed.empty()) {
    d.decision = "held";
    d.reason += "; waiting for " + std::to_string(o.min_results) + " canary results (so far failing: " + failed.front() + ")";
  } else {
    auto p = client->Promote(o.model, canary.version, "stable");
    d.decision = p.ok() ? "promoted" : "promote_failed";
    if (!p.ok()) d.reason += "; " + p.status().message();
  }
  EL_RETURN_IF_ERROR(store.AddRetrainDecision(d));
  return d;
}

}  // namespace edgeloop::loop
