// ApiServer: the one HTTP(S) server edgeloop runs (`edgeloop serve`), which every module extends
// with its routes: the registry API, later the collector's labels API and fleet view, the
// drift/retrain endpoints and the browser dashboard (static files). See src/server/README.md.
//
// What it gives every route, so no module re-implements it:
//   - auth: a route declares its Access (public, device, admin); the server resolves the bearer
//     token through the Authenticator and answers 401/403 as JSON before the handler runs (before
//     an upload body is read);
//   - JSON errors: any 4xx/5xx without a body gets {"error":{"code":"...","message":"..."}}, and
//     handlers use SendError/SendStatus (http_util.h) for their own;
//   - metrics: requests by route/method/status and latency by route in the shared
//     MetricsRegistry, served at /metrics with whatever the modules add; /healthz runs the
//     registered health checks;
//   - limits: request bodies over max_body_bytes get 413; exceptions become 500 (never a crash);
//   - TLS when a certificate and key are given; graceful Stop (in-flight requests finish).
//
// Route patterns are paths with {param} segments ("/v1/models/{name}/versions/{version}"); a
// parameter matches one non-empty path segment. Handlers must still validate parameter values.
//
// Thread-safety: register routes before Listen; handlers run concurrently on the server's worker
// threads. Stop() may be called from any thread (e.g. a signal-waiting thread).
#ifndef EDGELOOP_SERVER_API_SERVER_H_
#define EDGELOOP_SERVER_API_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "edgeloop/common/metrics.h"
#include "edgeloop/common/status.h"

namespace edgeloop::server {

enum class Access {
  kPublic,  // no token needed (/healthz, /metrics, dashboard files)
  kDevice,  // any valid token: device or admin
  kAdmin,   // admin tokens only (writes)
};

// Who is calling, as resolved from the bearer token.
struct Principal {
  bool authenticated = false;
  std::string name;       // token name, recorded in audit logs
  std::string role;       // "admin" or "device"
  std::string device_id;  // a device token's bound device; "" = any
  bool is_admin() const { return role == "admin"; }
};

// Resolves bearer tokens. PermissionDenied means unknown or revoked (401); any other error means
// the lookup itself failed (503).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> Authenticate(const std::string& bearer_token) = 0;
};

// What a handler sees: the request, the response to fill, the caller and the path parameters.
struct RequestContext {
  const httplib::Request& req;
  httplib::Response& res;
  const Principal& principal;
  const std::map<std::string, std::string>& params;
  // The path parameter `name` ("" if the route has none by that name).
  std::string Param(const std::string& name) const;
  // The query parameter `name` ("" if absent).
  std::string Query(const std::string& name) const;
};

using Handler = std::function<void(RequestContext& ctx)>;
// For request bodies too large to hold in memory: the handler pulls the body through `reader`.
using UploadHandler = std::function<void(RequestContext& ctx, const httplib::ContentReader& reader)>;

class ApiServer;

// A module's routes. RegisterRoutes is called once, before the server listens.
class RouteProvider {
 public:
  virtual ~RouteProvider() = default;
  virtual void RegisterRoutes(ApiServer& server) = 0;
};

struct ApiServerOptions {
  std::string tls_cert_file;  // PEM; both or neither with tls_key_file
  std::string tls_key_file;
  uint64_t max_body_bytes = 256ull << 20;  // larger request bodies get 413
  int threads = 16;                        // worker threads (concurrent connections served)
  Authenticator* authenticator = nullptr;  // must outlive the server; null: only public routes work
  MetricsRegistry* metrics = nullptr;      // must outlive the server; null: the server owns one
  // Local demo use (`edgeloop serve --dashboard-token-free`): a request without a token is served
  // as an anonymous device principal on kDevice routes (reads). Admin routes still need a token.
  bool anonymous_reads = false;
};

class ApiServer {
 public:
  // Errors: InvalidArgument for half a TLS configuration or a certificate/key that does not load.
  static Result<std::unique_ptr<ApiServer>> Create(ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  void Get(const std::string& pattern, Access access, Handler handler);
  void Post(const std::string& pattern, Access access, Handler handler);
  void Put(const std::string& pattern, Access access, Handler handler);
  void Delete(const std::string& pattern, Access access, Handler handler);
  // A POST whose body the handler streams (uploads). Auth is checked before any body byte is read.
  void PostUpload(const std::string& pattern, Access access, UploadHandler handler);
  void AddRoutes(RouteProvider& provider) { provider.RegisterRoutes(*this); }
  // Serves the files under `dir` at `url_prefix` (e.g. the dashboard at "/ui"). Public.
  Status ServeStatic(const std::string& url_prefix, const std::string& dir);
  // A named check run by GET /healthz; any failing check makes it answer 503 with the reasons.
  void AddHealthCheck(const std::string& name, std::function<Status()> check);

  MetricsRegistry& metrics() { return *metrics_; }
  bool tls() const { return tls_; }

  // Binds `host:port` (port 0 picks a free one). Returns the bound port.
  Result<int> Listen(const std::string& host, int port);
  // Serves on background threads until Stop (after Listen). Returns once the server accepts.
  Status Start();
  // Stops accepting, lets in-flight requests finish, joins the background thread. Idempotent.
  void Stop();
  int port() const { return port_; }

 private:
  struct Route;
  explicit ApiServer(ApiServerOptions options);
  // Resolves the caller for `access`; on refusal fills `res` (401/403/503) and returns false.
  bool Authorize(Access access, const httplib::Request& req, httplib::Response& res, Principal* principal);
  // Wraps a handler with route metrics, auth and exception safety.
  void Register(const std::string& method, const std::string& pattern, Access access, Handler handler,
                UploadHandler upload);
  void InstallCommonHandlers();

  ApiServerOptions options_;
  std::unique_ptr<MetricsRegistry> owned_metrics_;
  MetricsRegistry* metrics_;  // options_.metrics or owned_metrics_
  std::unique_ptr<httplib::Server> http_;
  bool tls_ = false;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::vector<std::pair<std::string, std::function<Status()>>> health_checks_;  // set before Listen
};

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_API_SERVER_H_
