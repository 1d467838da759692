// Registry routes: the route table, models, versions, manifests and the upload (publish).
#include <charconv>
#include <cmath>

#include "edgeloop/registry/api_json.h"
#include "edgeloop/server/registry_routes.h"
#include "server/routes_util.h"

namespace edgeloop::server {

using nlohmann::json;

std::optional<std::string> ModelParam(RequestContext& ctx) {
  std::string name = ctx.Param("name");
  Status s = registry::ValidateModelName(name);
  if (!s.ok()) {
    SendStatus(ctx.res, s);
    return std::nullopt;
  }
  return name;
}

std::optional<int64_t> VersionParam(RequestContext& ctx) {
  auto v = registry::ParseVersionNumber(ctx.Param("version"));
  if (!v.ok()) {
    SendStatus(ctx.res, v.status());
    return std::nullopt;
  }
  return *v;
}

bool IntQuery(RequestContext& ctx, const std::string& name, int64_t min, int64_t max, int64_t* value) {
  if (!ctx.req.has_param(name)) return true;
  std::string text = ctx.Query(name);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    SendError(ctx.res, 400, "InvalidArgument",
              "query parameter '" + name + "': '" + text.substr(0, 40) + "' is not an integer in [" +
                  std::to_string(min) + ", " + std::to_string(max) + "]");
    return false;
  }
  *value = v;
  return true;
}

RegistryRoutes::RegistryRoutes(registry::Registry* registry, MetricsRegistry* metrics, uint64_t max_upload_bytes)
    : registry_(registry), metrics_(metrics), max_upload_bytes_(max_upload_bytes) {}

void RegistryRoutes::RegisterRoutes(ApiServer& s) {
  auto bind = [this](void (RegistryRoutes::*fn)(RequestContext&)) {
    return [this, fn](RequestContext& ctx) { (this->*fn)(ctx); };
  };
  s.Get("/v1/whoami", Access::kDevice, bind(&RegistryRoutes::WhoAmI));
  s.Get("/v1/models", Access::kDevice, bind(&RegistryRoutes::ListModels));
  s.Get("/v1/models/{name}", Access::kDevice, bind(&RegistryRoutes::GetModel));
  s.Get("/v1/models/{name}/versions", Access::kDevice, bind(&RegistryRoutes::ListVersions));
  s.PostUpload("/v1/models/{name}/versions", Access::kAdmin,
               [this](RequestContext& ctx, const httplib::ContentReader& reader) { Upload(ctx, reader); });
  s.Get("/v1/models/{name}/versions/{version}", Access::kDevice, bind(&RegistryRoutes::GetVersion));
  s.Get("/v1/models/{name}/versions/{version}/manifest", Access::kDevice, bind(&RegistryRoutes::GetManifest));
  s.Get("/v1/models/{name}/versions/{version}/artifact", Access::kDevice, bind(&RegistryRoutes::GetArtifact));
  s.Get("/v1/models/{name}/channels", Access::kDevice, bind(&RegistryRoutes::ListChannels));
  s.Get("/v1/models/{name}/channels/{channel}", Access::kDevice, bind(&RegistryRoutes::GetChannel));
  s.Put("/v1/models/{name}/channels/{channel}", Access::kAdmin, bind(&RegistryRoutes::PutChannel));
  s.Post("/v1/models/{name}/channels/{channel}/rollback", Access::kAdmin, bind(&RegistryRoutes::RollbackChannel));
  s.Get("/v1/devices/{device}/assignment", Access::kDevice, bind(&RegistryRoutes::GetAssignment));
  s.Get("/v1/audit", Access::kAdmin, bind(&RegistryRoutes::GetAudit));
  s.AddHealthCheck("registry", [this] { return registry_->ListModels().status(); });
}

void RegistryRoutes::ListModels(RequestContext& ctx) {
  auto models = registry_->ListModels();
  if (!models.ok()) return SendStatus(ctx.res, models.status());
  json list = json::array();
  for (const auto& m : *models) list.push_back(registry::ToJson(m));
  SendJson(ctx.res, 200, json{{"models", list}});
}

void RegistryRoutes::GetModel(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto model = registry_->GetModel(*name);
  if (!model.ok()) return SendStatus(ctx.res, model.status());
  auto versions = registry_->ListVersions(*name);
  if (!versions.ok()) return SendStatus(ctx.res, versions.status());
  json out = registry::ToJson(*model);
  json list = json::array();
  for (const auto& v : *versions) list.push_back(registry::ToJson(v));
  out["versions"] = list;
  SendJson(ctx.res, 200, out);
}

void RegistryRoutes::ListVersions(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto versions = registry_->ListVersions(*name);
  if (!versions.ok()) return SendStatus(ctx.res, versions.status());
  json list = json::array();
  for (const auto& v : *versions) list.push_back(registry::ToJson(v));
  SendJson(ctx.res, 200, json{{"model", *name}, {"versions", list}});
}

void RegistryRoutes::GetVersion(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto version = VersionParam(ctx);
  if (!version) return;
  auto v = registry_->GetVersion(*name, *version);
  if (!v.ok()) return SendStatus(ctx.res, v.status());
  SendJson(ctx.res, 200, registry::ToJson(*v));
}

void RegistryRoutes::GetManifest(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto version = VersionParam(ctx);
  if (!version) return;
  auto manifest = registry_->GetManifestJson(*name, *version);
  if (!manifest.ok()) return SendStatus(ctx.res, manifest.status());
  SendJsonText(ctx.res, 200, *manifest);
}

void RegistryRoutes::Upload(RequestContext& ctx, const httplib::ContentReader& reader) {
  auto count = [this](const char* result) {
    metrics_->GetCounter("edgeloop_registry_uploads_total", "Model uploads by result.", {{"result", result}})
        .Increment();
  };
  // Everything that can be checked before the body is read is checked first; an early answer
  // closes the connection (the unread body cannot be skipped reliably).
  auto reject = [&](int status, const std::string& code, const std::string& message) {
    count("rejected");
    ctx.res.set_header("Connection", "close");
    SendError(ctx.res, status, code, message);
  };
  registry::PublishRequest request;
  request.actor = ActorOf(ctx.principal);
  request.model = ctx.Param("name");
  if (Status s = registry::ValidateModelName(request.model); !s.ok()) return reject(400, "InvalidArgument", s.message());
  request.metrics_json = ctx.req.has_header(kMetricsHeader) ? ctx.req.get_header_value(kMetricsHeader)
                                                              : ctx.Query("metrics");
  if (request.metrics_json.empty()) request.metrics_json = "{}";
  json metrics = json::parse(request.metrics_json, nullptr, false);
  if (metrics.is_discarded() || !metrics.is_object()) {
    return reject(400, "InvalidArgument", std::string("metrics (") + kMetricsHeader + " header) must be a JSON object");
  }
  request.channel = ctx.Query("channel");
  if (!request.channel.empty()) {
    if (Status s = registry::ValidateChannel(request.channel); !s.ok()) return reject(400, "InvalidArgument", s.message());
  }
  if (ctx.req.has_param("share")) {
    std::string text = ctx.Query("share");
    char* end = nullptr;
    double share = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(share)) {
      return reject(400, "InvalidArgument", "query parameter 'share': '" + text.substr(0, 40) + "' is not a number");
    }
    request.share = share;
  }
  if (ctx.req.has_header("Content-Length")) {
    uint64_t declared = ctx.req.get_header_value<uint64_t>("Content-Length");
    if (declared > max_upload_bytes_) {
      return reject(413, "PayloadTooLarge",
                    "model is " + std::to_string(declared) + " bytes; this server accepts at most " +
                        std::to_string(max_upload_bytes_) + " (--max-upload-bytes)");
    }
  }

  auto upload = registry_->BeginUpload();
  if (!upload.ok()) {
    count("error");
    return SendStatus(ctx.res, upload.status());
  }
  bool too_large = false;
  Status write_status;
  bool complete = reader([&](const char* data, size_t n) {
    if ((*upload)->size() + n > max_upload_bytes_) {
      too_large = true;
      return false;
    }
    write_status = (*upload)->Append(std::string_view(data, n));
    return write_status.ok();
  });
  if (too_large || ctx.res.status == 413) {
    return reject(413, "PayloadTooLarge",
                  "model is larger than this server accepts (" + std::to_string(max_upload_bytes_) +
                      " bytes, --max-upload-bytes)");
  }
  if (!write_status.ok()) {
    count("error");
    return SendStatus(ctx.res, write_status);
  }
  if (!complete) return reject(400, "InvalidArgument", "request body ended early (connection lost mid-upload?)");

  const uint64_t size = (*upload)->size();
  auto result = registry_->FinishPublish(std::move(*upload), request);
  if (!result.ok()) {
    count(result.status().code() == StatusCode::kInvalidArgument ? "rejected" : "error");
    return SendStatus(ctx.res, result.status());
  }
  if (result->refused) {
    count("refused");
    json body{{"error",
               {{"code", "GateRefused"}, {"gate", result->gate},
                {"message", "publish refused by gate '" + result->gate + "': " + result->reason}}}};
    return SendJson(ctx.res, 422, body);
  }
  count("published");
  metrics_->GetCounter("edgeloop_registry_upload_bytes_total", "Bytes of published model artifacts.")
      .Increment(static_cast<double>(size));
  if (!request.channel.empty()) CountMove(request.model, request.channel, "promote");
  ctx.res.set_header("Location", "/v1/models/" + request.model + "/versions/" + std::to_string(result->version.version));
  SendJsonText(ctx.res, 201, result->manifest_json);
}

void RegistryRoutes::CountMove(const std::string& model, const std::string& channel, const std::string& action) {
  metrics_->GetCounter("edgeloop_registry_channel_moves_total", "Channel moves (promotions and rollbacks).",
                       {{"model", model}, {"channel", channel}, {"action", action}})
      .Increment();
}

}  // namespace edgeloop::server
