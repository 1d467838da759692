// `edgeloop serve`: the registry server assembled from its parts (Registry, TokenStore,
// ApiServer, RegistryRoutes, the publish gates), usable in process (tests, the demo, the loop)
// through RegistryServer, and as the blocking command through RunServe.
//
// Where later modules plug in: RegistryServer::api() is the ApiServer; add a RouteProvider to it
// (AddRoutes) and static files (ServeStatic) before Start. The Edge TPU check is
// edgetpu::Check unless ServeOptions::edgetpu_check replaces it (see src/server/README.md).
// Thread-safety: Start/Stop from one thread; Stop is also safe from a signal-waiting thread.
#ifndef EDGELOOP_SERVER_SERVE_H_
#define EDGELOOP_SERVER_SERVE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeloop/common/metrics.h"
#include "edgeloop/common/status.h"
#include "edgeloop/registry/gate.h"
#include "edgeloop/registry/registry.h"
#include "edgeloop/registry/tokens.h"
#include "edgeloop/server/api_server.h"
#include "edgeloop/server/registry_routes.h"

namespace edgeloop::server {

struct ServeOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string tls_cert_file;              // PEM; with tls_key_file: serve HTTPS only
  std::string tls_key_file;
  uint64_t max_upload_bytes = 256ull << 20;
  int64_t manifest_ttl_days = 365;
  int threads = 16;
  bool dashboard_token_free = false;  // reads without a token (ApiServerOptions::anonymous_reads)
  // The dashboard's files (index.html and its bundle), served without a token at "/". "" = the
  // `web` directory next to the executable (where the build puts it), if it exists.
  std::string web_dir;
  // Gates (registry/gate.h). `tflite_check` defaults to DefaultTfliteCheck(); `edgetpu_check`
  // (default DefaultEdgeTpuCheck(), i.e. edgetpu::Check) runs for the names in `edgetpu_models`.
  std::vector<std::string> edgetpu_models;
  std::map<std::string, double> min_metrics;
  registry::ModelCheckFn tflite_check;
  registry::ModelCheckFn edgetpu_check;
};

// The TFLite validity check the server uses by default.
registry::ModelCheckFn DefaultTfliteCheck();
// The Edge TPU check the server uses by default: edgetpu::Check (the whole model must map).
registry::ModelCheckFn DefaultEdgeTpuCheck();

// An Authenticator over the registry's token store (`tokens` must outlive it).
std::unique_ptr<Authenticator> MakeTokenAuthenticator(registry::TokenStore* tokens);

// Splits "host:port" ("[::1]:8080" for IPv6). Errors: InvalidArgument naming the text.
Status ParseListenAddress(const std::string& text, std::string* host, int* port);

class RegistryServer {
 public:
  // Locks DIR/serve.lock (one server per directory), opens the registry (sweeping crash
  // leftovers) and the token store, binds the address. Does not serve yet: add routes, then Start.
  static Result<std::unique_ptr<RegistryServer>> Create(ServeOptions options);
  ~RegistryServer();

  Status Start();
  void Stop();

  ApiServer& api() { return *api_; }
  registry::Registry& registry() { return *registry_; }
  registry::TokenStore& tokens() { return *tokens_; }
  MetricsRegistry& metrics() { return metrics_; }
  int port() const { return port_; }
  // "http://127.0.0.1:PORT" or "https://..."; the host as given to --listen.
  std::string url() const;

 private:
  RegistryServer() = default;

  ServeOptions options_;
  std::string host_;
  int port_ = 0;
  int lock_fd_ = -1;
  MetricsRegistry metrics_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<registry::TokenStore> tokens_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RegistryRoutes> routes_;
  std::unique_ptr<ApiServer> api_;  // destroyed first: it uses everything above
};

// Runs the server until SIGINT or SIGTERM, then shuts down gracefully (in-flight requests
// finish). Logs the address and the startup sweep to stderr.
Status RunServe(ServeOptions options);

// <directory of the executable>/web when it holds index.html (where the build puts the dashboard),
// else "". What `edgeloop serve` uses when --web is not given.
std::string DefaultWebDir();

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_SERVE_H_
