// The store's /v1 routes (store_routes.h).
#include <algorithm>
#include <chrono>
#include <map>

#include "edgeloop/registry/manifest.h"
#include "edgeloop/server/store_routes.h"
#include "edgeloop/store/drift.h"
#include "server/routes_util.h"

namespace edgeloop::server {

using nlohmann::json;

namespace {

json ModelJson(const mqtt::ModelRef& m) { return json{{"name", m.name}, {"version", m.version}}; }

// Optional RFC 3339 query parameter; answers 400 on a bad value.
bool TimeQuery(RequestContext& ctx, const std::string& name, int64_t* ms) {
  std::string v = ctx.Query(name);
  if (v.empty()) return true;
  auto t = registry::ParseRfc3339(v);
  if (!t.ok()) {
    SendError(ctx.res, 400, "InvalidArgument", "query parameter '" + name + "': '" + v + "' is not an RFC 3339 time");
    return false;
  }
  *ms = *t;
  return true;
}

bool DeviceQuery(RequestContext& ctx, std::string* device) {
  *device = ctx.Query("device");
  if (device->empty()) return true;
  Status s = mqtt::ValidateName("device", *device);
  if (!s.ok()) {
    SendError(ctx.res, 400, "InvalidArgument", "query parameter 'device': " + s.message());
    return false;
  }
  return true;
}

}  // namespace

json StoreRoutes::ToJson(const store::Label& l) {
  json j{{"id", l.id},        {"device_id", l.device_id}, {"label", l.label},
         {"source", l.source}, {"by", l.by},              {"created", registry::FormatRfc3339(l.created_ms)}};
  j["seq"] = l.seq ? json(*l.seq) : json(nullptr);
  j["alarm_id"] = l.alarm_id ? json(*l.alarm_id) : json(nullptr);
  j["verdict"] = l.verdict.empty() ? json(nullptr) : json(l.verdict);
  if (l.end_ms > l.start_ms) {
    j["start"] = registry::FormatRfc3339(l.start_ms);
    j["end"] = registry::FormatRfc3339(l.end_ms);
  }
  return j;
}

json StoreRoutes::ToJson(const store::AlarmView& a) {
  return json{{"id", a.id},
              {"device_id", a.device_id},
              {"fleet", a.fleet},
              {"raised_at", registry::FormatRfc3339(a.raised_ms)},
              {"cleared_at", a.cleared_ms ? json(registry::FormatRfc3339(*a.cleared_ms)) : json(nullptr)},
              {"label", a.label},
              {"score", a.score},
              {"seq", a.seq},
              {"result_seq", a.result_seq},
              {"verdict", a.verdict.empty() ? json(nullptr) : json(a.verdict)}};
}

json StoreRoutes::ToJson(const store::ResultRow& r) {
  json scores = json::object();
  for (const auto& [k, v] : r.msg.all_scores) scores[k] = v;
  return json{{"device_id", r.msg.device_id},
              {"fleet", r.fleet},
              {"seq", r.msg.seq},
              {"timestamp", registry::FormatRfc3339(r.msg.timestamp_ms)},
              {"timestamp_ms", r.msg.timestamp_ms},
              {"prediction", r.msg.prediction},
              {"confidence", r.msg.confidence},
              {"all_scores", scores},
              {"inference_ms", r.msg.inference_ms},
              {"model", ModelJson(r.msg.model)},
              {"has_window", !r.msg.window.empty()}};
}

Result<store::Label> StoreRoutes::LabelFromJson(const json& body) {
  store::Label l;
  auto str = [&](const char* key, std::string* out) -> Status {
    if (!body.contains(key) || body[key].is_null()) return Status::Ok();
    if (!body[key].is_string()) return Status::InvalidArgument(std::string("label: field '") + key + "': must be a string");
    *out = body[key].get<std::string>();
    return Status::Ok();
  };
  auto integer = [&](const char* key, std::optional<int64_t>* out) -> Status {
    if (!body.contains(key) || body[key].is_null()) return Status::Ok();
    if (!body[key].is_number_integer()) {
      return Status::InvalidArgument(std::string("label: field '") + key + "': must be an integer");
    }
    *out = body[key].get<int64_t>();
    return Status::Ok();
  };
  EL_RETURN_IF_ERROR(str("device_id", &l.device_id));
  EL_RETURN_IF_ERROR(str("label", &l.label));
  EL_RETURN_IF_ERROR(str("verdict", &l.verdict));
  EL_RETURN_IF_ERROR(str("source", &l.source));
  EL_RETURN_IF_ERROR(str("by", &l.by));
  EL_RETURN_IF_ERROR(integer("seq", &l.seq));
  EL_RETURN_IF_ERROR(integer("alarm_id", &l.alarm_id));
  std::string start, end;
  EL_RETURN_IF_ERROR(str("start", &start));
  EL_RETURN_IF_ERROR(str("end", &end));
  if (!start.empty() || !end.empty()) {
    auto s = registry::ParseRfc3339(start);
    if (!s.ok()) return Status::InvalidArgument("label: field 'start': '" + start + "' is not an RFC 3339 time");
    auto e = registry::ParseRfc3339(end);
    if (!e.ok()) return Status::InvalidArgument("label: field 'end': '" + end + "' is not an RFC 3339 time");
    if (*e <= *s) return Status::InvalidArgument("label: field 'end': must be after 'start'");
    l.start_ms = *s;
    l.end_ms = *e;
  }
  if (l.source.empty()) l.source = l.end_ms > l.start_ms ? "maintenance" : "operator";
  return l;
}

void StoreRoutes::RegisterRoutes(ApiServer& server) {
  server.Get("/v1/devices", Access::kDevice, [this](RequestContext& c) { Devices(c); });
  server.Get("/v1/results", Access::kDevice, [this](RequestContext& c) { Results(c); });
  server.Get("/v1/results/stats", Access::kDevice, [this](RequestContext& c) { Stats(c); });
  server.Get("/v1/alarms", Access::kDevice, [this](RequestContext& c) { Alarms(c); });
  server.Post("/v1/labels", Access::kAdmin, [this](RequestContext& c) { PostLabel(c); });
  server.Get("/v1/labels", Access::kDevice, [this](RequestContext& c) { ListLabels(c); });
  server.Get("/v1/dead-letters", Access::kAdmin, [this](RequestContext& c) { DeadLetters(c); });
  server.Get("/v1/retrain/decisions", Access::kDevice, [this](RequestContext& c) { Decisions(c); });
  server.Get("/v1/drift", Access::kDevice, [this](RequestContext& c) { Drift(c); });
}

void StoreRoutes::Devices(RequestContext& ctx) {
  auto devs = store_->Devices();
  if (!devs.ok()) return SendStatus(ctx.res, devs.status());
  json out = json::array();
  for (const store::DeviceSummary& d : *devs) {
    out.push_back(json{{"device_id", d.device_id},
                       {"fleet", d.fleet},
                       {"online", d.online},
                       {"last_seen", d.last_seen_ms > 0 ? json(registry::FormatRfc3339(d.last_seen_ms)) : json(nullptr)},
                       {"model", ModelJson(d.model)},
                       {"results", d.results},
                       {"alarms_open", d.alarms_open}});
  }
  SendJson(ctx.res, 200, json{{"devices", out}});
}

void StoreRoutes::Results(RequestContext& ctx) {
  store::ResultQuery q;
  if (!DeviceQuery(ctx, &q.device_id)) return;
  if (!IntQuery(ctx, "limit", 1, 10000, &q.limit)) return;
  int64_t before = 0;
  if (!IntQuery(ctx, "before_seq", 1, INT64_MAX, &before)) return;
  if (before > 0) q.before_seq = before;
  if (!TimeQuery(ctx, "since", &q.since_ms)) return;
  auto rows = store_->Results(q);
  if (!rows.ok()) return SendStatus(ctx.res, rows.status());
  json out = json::array();
  for (const store::ResultRow& r : *rows) out.push_back(ToJson(r));
  SendJson(ctx.res, 200, json{{"results", out}});
}

void StoreRoutes::Stats(RequestContext& ctx) {
  int64_t since = 0, bucket = 60;
  std::string device;
  if (!TimeQuery(ctx, "since", &since) || !IntQuery(ctx, "bucket_s", 1, 86400 * 31, &bucket) || !DeviceQuery(ctx, &device)) {
    return;
  }
  if (since == 0) {
    SendError(ctx.res, 400, "InvalidArgument", "query parameter 'since' (RFC 3339) is required");
    return;
  }
  auto buckets = store_->ResultStats(since, bucket, device);
  if (!buckets.ok()) return SendStatus(ctx.res, buckets.status());
  std::vector<std::string> labels;
  json out = json::array();
  for (const store::StatsBucket& b : *buckets) {
    json counts = json::object();
    for (const auto& [label, n] : b.counts) {
      counts[label] = n;
      if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
    }
    out.push_back(json{{"t", registry::FormatRfc3339(b.start_ms)}, {"counts", counts}});
  }
  std::sort(labels.begin(), labels.end());
  SendJson(ctx.res, 200, json{{"bucket_s", bucket}, {"labels", labels}, {"buckets", out}});
}

void StoreRoutes::Alarms(RequestContext& ctx) {
  std::string state = ctx.Query("state");
  if (state.empty()) state = "open";
  if (state != "open" && state != "all") {
    SendError(ctx.res, 400, "InvalidArgument", "query parameter 'state': must be 'open' or 'all'");
    return;
  }
  int64_t limit = 100;
  if (!IntQuery(ctx, "limit", 1, 10000, &limit)) return;
  auto alarms = store_->Alarms(state == "open", limit);
  if (!alarms.ok()) return SendStatus(ctx.res, alarms.status());
  json out = json::array();
  for (const store::AlarmView& a : *alarms) out.push_back(ToJson(a));
  SendJson(ctx.res, 200, json{{"alarms", out}});
}

void StoreRoutes::PostLabel(RequestContext& ctx) {
  auto body = ParseJsonObjectBody(ctx.req);
  if (!body.ok()) return SendStatus(ctx.res, body.status());
  auto label = LabelFromJson(*body);
  if (!label.ok()) return SendStatus(ctx.res, label.status());
  if (label->by.empty()) label->by = ctx.principal.name;
  auto added = store_->AddLabel(std::move(*label));
  if (!added.ok()) return SendStatus(ctx.res, added.status());
  SendJson(ctx.res, 201, json{{"label", ToJson(*added)}});
}

void StoreRoutes::ListLabels(RequestContext& ctx) {
  int64_t limit = 100;
  if (!IntQuery(ctx, "limit", 1, 10000, &limit)) return;
  auto labels = store_->Labels(limit);
  if (!labels.ok()) return SendStatus(ctx.res, labels.status());
  json out = json::array();
  for (const store::Label& l : *labels) out.push_back(ToJson(l));
  SendJson(ctx.res, 200, json{{"labels", out}});
}

void StoreRoutes::DeadLetters(RequestContext& ctx) {
  int64_t limit = 100;
  if (!IntQuery(ctx, "limit", 1, 10000, &limit)) return;
  auto dl = store_->DeadLetters(limit);
  if (!dl.ok()) return SendStatus(ctx.res, dl.status());
  auto total = store_->CountDeadLetters();
  if (!total.ok()) return SendStatus(ctx.res, total.status());
  json out = json::array();
  for (const store::DeadLetter& d : *dl) {
    out.push_back(json{{"id", d.id},
                       {"topic", d.topic},
                       {"payload", d.payload},
                       {"reason", d.reason},
                       {"received", registry::FormatRfc3339(d.received_ms)}});
  }
  SendJson(ctx.res, 200, json{{"dead_letters", out}, {"total", *total}});
}

void StoreRoutes::Drift(RequestContext& ctx) {
  std::string device = ctx.Query("device");
  if (device == "fleet") device.clear();
  if (!device.empty()) {
    if (Status st = mqtt::ValidateName("device", device); !st.ok()) {
      SendError(ctx.res, 400, "InvalidArgument", "query parameter 'device': " + st.message());
      return;
    }
  }
  int64_t since = 0;
  if (!TimeQuery(ctx, "since", &since)) return;
  if (since == 0) {
    since = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count() -
            24 * 3600 * 1000;
  }
  std::string model = ctx.Query("model");
  if (model.empty()) {  // the model the device (or most of the fleet) runs
    auto devs = store_->Devices();
    if (!devs.ok()) return SendStatus(ctx.res, devs.status());
    std::map<std::string, int> votes;
    for (const auto& d : *devs) {
      if (!d.model.name.empty() && (device.empty() || d.device_id == device)) ++votes[d.model.name];
    }
    for (const auto& [name, n] : votes) {
      if (model.empty() || n > votes[model]) model = name;
    }
    if (model.empty()) {
      SendError(ctx.res, 404, "NotFound", "no model known for " + (device.empty() ? std::string("the fleet") : device));
      return;
    }
  }
  auto info = store_->GetModelInfo(model, 0);
  if (!info.ok()) {
    SendError(ctx.res, 404, "NotFound",
              "no drift baseline for model '" + model + "' (run: edgeloop drift baseline TRAINING.csv --model " + model + ")");
    return;
  }
  auto baseline = store::DriftBaseline::FromJson(json::parse(*info, nullptr, false));
  if (!baseline.ok()) return SendStatus(ctx.res, baseline.status());
  auto report = store::ComputeDrift(*store_, *baseline, device, since);
  if (!report.ok()) return SendStatus(ctx.res, report.status());
  json j = report->ToJson();
  j["model"] = model;
  j["device"] = device.empty() ? "fleet" : device;
  j["since"] = registry::FormatRfc3339(since);
  SendJson(ctx.res, 200, j);
}

void StoreRoutes::Decisions(RequestContext& ctx) {
  int64_t limit = 100;
  if (!IntQuery(ctx, "limit", 1, 10000, &limit)) return;
  auto ds = store_->RetrainDecisions(limit);
  if (!ds.ok()) return SendStatus(ctx.res, ds.status());
  json out = json::array();
  for (const store::RetrainDecision& d : *ds) {
    out.push_back(json{{"time", registry::FormatRfc3339(d.time_ms)},
                       {"model", d.model},
                       {"candidate_version", d.candidate_version},
                       {"champion_version", d.champion_version},
                       {"candidate_accuracy", d.candidate_accuracy},
                       {"champion_accuracy", d.champion_accuracy},
                       {"decision", d.decision},
                       {"reason", d.reason}});
  }
  SendJson(ctx.res, 200, json{{"decisions", out}});
}

}  // namespace edgeloop::server
