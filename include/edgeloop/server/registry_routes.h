// The registry's HTTP API (/v1), as a RouteProvider for ApiServer: a thin mapping of HTTP onto
// registry::Registry. The routes, roles and error codes are listed in src/server/README.md.
// Thread-safety: handlers run concurrently; Registry is thread-safe.
#ifndef EDGELOOP_SERVER_REGISTRY_ROUTES_H_
#define EDGELOOP_SERVER_REGISTRY_ROUTES_H_

#include <cstdint>

#include "edgeloop/common/metrics.h"
#include "edgeloop/registry/registry.h"
#include "edgeloop/server/api_server.h"

namespace edgeloop::server {

// The request header that carries a publish's metrics (a JSON object on one line); the query
// parameter `metrics` works too.
inline constexpr const char* kMetricsHeader = "X-Edgeloop-Metrics";

class RegistryRoutes final : public RouteProvider {
 public:
  // `registry` and `metrics` must outlive the routes (and the server they are registered on).
  RegistryRoutes(registry::Registry* registry, MetricsRegistry* metrics, uint64_t max_upload_bytes);
  void RegisterRoutes(ApiServer& server) override;

 private:
  // routes_models.cc
  void ListModels(RequestContext& ctx);
  void GetModel(RequestContext& ctx);
  void ListVersions(RequestContext& ctx);
  void GetVersion(RequestContext& ctx);
  void GetManifest(RequestContext& ctx);
  void Upload(RequestContext& ctx, const httplib::ContentReader& reader);
  // routes_artifacts.cc
  void GetArtifact(RequestContext& ctx);
  // routes_channels.cc
  void ListChannels(RequestContext& ctx);
  void GetChannel(RequestContext& ctx);
  void PutChannel(RequestContext& ctx);
  void RollbackChannel(RequestContext& ctx);
  void GetAssignment(RequestContext& ctx);
  void GetAudit(RequestContext& ctx);
  void WhoAmI(RequestContext& ctx);

  void CountMove(const std::string& model, const std::string& channel, const std::string& action);

  registry::Registry* registry_;  // must outlive the routes
  MetricsRegistry* metrics_;      // must outlive the routes
  uint64_t max_upload_bytes_;
};

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_REGISTRY_ROUTES_H_
