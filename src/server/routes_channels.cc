// Registry routes: channels (get, promote, roll back), device assignment, audit log, whoami.
#include "edgeloop/registry/api_json.h"
#include "edgeloop/server/registry_routes.h"
#include "server/routes_util.h"

namespace edgeloop::server {

using nlohmann::json;

namespace {

std::optional<std::string> ChannelParam(RequestContext& ctx) {
  std::string channel = ctx.Param("channel");
  Status s = registry::ValidateChannel(channel);
  if (!s.ok()) {
    SendStatus(ctx.res, s);
    return std::nullopt;
  }
  return channel;
}

}  // namespace

void RegistryRoutes::WhoAmI(RequestContext& ctx) {
  const Principal& p = ctx.principal;
  SendJson(ctx.res, 200, json{{"name", p.name}, {"role", p.role}, {"device", p.device_id}});
}

void RegistryRoutes::ListChannels(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto model = registry_->GetModel(*name);
  if (!model.ok()) return SendStatus(ctx.res, model.status());
  json channels{{registry::kStable, nullptr}, {registry::kCanary, nullptr}};
  for (const registry::ChannelPointer& pointer : model->channels) {
    auto state = registry_->GetChannel(*name, pointer.channel, 0);
    if (!state.ok()) return SendStatus(ctx.res, state.status());
    json c = registry::ToJson(*state);
    c.erase("history");
    channels[pointer.channel] = c;
  }
  SendJson(ctx.res, 200, json{{"model", *name}, {"channels", channels}});
}

void RegistryRoutes::GetChannel(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto channel = ChannelParam(ctx);
  if (!channel) return;
  int64_t history = 20;
  if (!IntQuery(ctx, "history", 0, 1000, &history)) return;
  auto state = registry_->GetChannel(*name, *channel, static_cast<int>(history));
  if (!state.ok()) return SendStatus(ctx.res, state.status());
  SendJson(ctx.res, 200, registry::ToJson(*state));
}

void RegistryRoutes::PutChannel(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto channel = ChannelParam(ctx);
  if (!channel) return;
  auto body = ParseJsonObjectBody(ctx.req);
  if (!body.ok()) return SendStatus(ctx.res, body.status());
  const json& j = *body;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "version" && it.key() != "share" && it.key() != "expected_version") {
      return SendError(ctx.res, 400, "InvalidArgument", "unknown field '" + it.key() + "' (version, share, expected_version)");
    }
  }
  auto version_it = j.find("version");
  if (version_it == j.end() || !version_it->is_number_integer() || version_it->get<int64_t>() < 1) {
    return SendError(ctx.res, 400, "InvalidArgument", "field 'version' must be a positive integer");
  }
  std::optional<double> share;
  if (auto it = j.find("share"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) return SendError(ctx.res, 400, "InvalidArgument", "field 'share' must be a number");
    share = it->get<double>();
  }
  std::optional<int64_t> expected;
  if (auto it = j.find("expected_version"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return SendError(ctx.res, 400, "InvalidArgument", "field 'expected_version' must be an integer >= 0");
    }
    expected = it->get<int64_t>();
  }
  auto moved = registry_->Promote(*name, *channel, version_it->get<int64_t>(), share, expected, ActorOf(ctx.principal));
  if (!moved.ok()) return SendStatus(ctx.res, moved.status());
  if (moved->conflict) return SendError(ctx.res, 409, "Conflict", moved->reason);
  CountMove(*name, *channel, "promote");
  SendJson(ctx.res, 200, registry::ToJson(moved->state));
}

void RegistryRoutes::RollbackChannel(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto channel = ChannelParam(ctx);
  if (!channel) return;
  auto moved = registry_->Rollback(*name, *channel, ActorOf(ctx.principal));
  if (!moved.ok()) return SendStatus(ctx.res, moved.status());
  if (moved->conflict) return SendError(ctx.res, 409, "Conflict", moved->reason);
  CountMove(*name, *channel, "rollback");
  SendJson(ctx.res, 200, registry::ToJson(moved->state));
}

void RegistryRoutes::GetAssignment(RequestContext& ctx) {
  std::string device = ctx.Param("device");
  if (Status s = registry::ValidateDeviceId(device); !s.ok()) return SendStatus(ctx.res, s);
  std::string model = ctx.Query("model");
  if (model.empty()) return SendError(ctx.res, 400, "InvalidArgument", "query parameter 'model' is required");
  if (Status s = registry::ValidateModelName(model); !s.ok()) return SendStatus(ctx.res, s);
  const Principal& p = ctx.principal;
  if (!p.is_admin() && !p.device_id.empty() && p.device_id != device) {
    return SendError(ctx.res, 403, "PermissionDenied",
                     "token '" + p.name + "' belongs to device '" + p.device_id + "', not '" + device + "'");
  }
  auto a = registry_->Assign(model, device);
  if (!a.ok()) return SendStatus(ctx.res, a.status());
  SendJsonText(ctx.res, 200, registry::AssignmentToJsonText(*a));
}

void RegistryRoutes::GetAudit(RequestContext& ctx) {
  registry::AuditQuery q;
  q.model = ctx.Query("model");
  if (!q.model.empty()) {
    if (Status s = registry::ValidateModelName(q.model); !s.ok()) return SendStatus(ctx.res, s);
  }
  int64_t limit = 100, before = 0;
  if (!IntQuery(ctx, "limit", 1, 1000, &limit) || !IntQuery(ctx, "before", 0, INT64_MAX, &before)) return;
  q.limit = static_cast<int>(limit);
  q.before_id = before;
  auto entries = registry_->Audit(q);
  if (!entries.ok()) return SendStatus(ctx.res, entries.status());
  json list = json::array();
  for (const auto& e : *entries) list.push_back(registry::ToJson(e));
  SendJson(ctx.res, 200, json{{"entries", list}});
}

}  // namespace edgeloop::server
