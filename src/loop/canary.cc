#include <cstdio>

#include "edgeloop/loop/retrain.h"
#include "edgeloop/registry/client.h"

namespace edgeloop::loop {

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
  store::ResultQuery q;
  q.since_ms = o.since_ms;
  q.limit = 0;
  EL_ASSIGN_OR_RETURN(auto rows, store.Results(q));
  struct Acc {
    int64_t n = 0;
    double conf = 0, ms = 0;
  } c, s;
  for (const auto& r : rows) {
    if (r.msg.model.name != o.model) continue;
    Acc* a = r.msg.model.version == canary.version ? &c : r.msg.model.version == stable.version ? &s : nullptr;
    if (a == nullptr) continue;
    ++a->n;
    a->conf += r.msg.confidence;
    a->ms += r.msg.inference_ms;
  }
  double cc = c.n ? c.conf / c.n : 0, sc = s.n ? s.conf / s.n : 0;
  double cms = c.n ? c.ms / c.n : 0, sms = s.n ? s.ms / s.n : 0;
  d.candidate_accuracy = cc;
  d.champion_accuracy = sc;
  char why[320];
  std::snprintf(why, sizeof(why),
                "canary v%lld: %lld results, mean confidence %.4f, mean inference %.4f ms; stable v%lld: %lld results, "
                "%.4f, %.4f ms",
                static_cast<long long>(canary.version), static_cast<long long>(c.n), cc, cms,
                static_cast<long long>(stable.version), static_cast<long long>(s.n), sc, sms);
  d.reason = why;
  if (c.n < o.min_results) {
    d.decision = "held";
    d.reason += "; waiting for " + std::to_string(o.min_results) + " canary results";
  } else if ((s.n > 0 && cc < sc - o.max_confidence_drop) || (s.n > 0 && sms > 0 && cms > sms * o.max_latency_ratio)) {
    auto rb = client->Rollback(o.model, "canary");
    d.decision = rb.ok() ? "rolled_back" : "rollback_failed";
    d.reason += rb.ok() ? "; canary regressed" : "; canary regressed, rollback failed: " + rb.status().message();
  } else {
    auto p = client->Promote(o.model, canary.version, "stable");
    d.decision = p.ok() ? "promoted" : "promote_failed";
    if (!p.ok()) d.reason += "; " + p.status().message();
  }
  EL_RETURN_IF_ERROR(store.AddRetrainDecision(d));
  return d;
}

}  // namespace edgeloop::loop
