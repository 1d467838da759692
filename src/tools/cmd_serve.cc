// `edgeloop serve`: the registry HTTP(S) server.
#include <sstream>

#include "edgeloop/collector/serve_store.h"
#include "edgeloop/registry/gate.h"
#include "edgeloop/server/serve.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Serve(int argc, char** argv) {
  server::ServeOptions o;
  std::string edgetpu_models;
  std::vector<std::string> min_metrics;
  int64_t max_upload = static_cast<int64_t>(o.max_upload_bytes);
  int64_t ttl_days = o.manifest_ttl_days;
  int64_t threads = o.threads;
  collector::ServeStoreOptions so;
  std::vector<std::string> fleets;
  Flags flags("edgeloop serve --data DIR [--listen HOST:PORT] [options]",
              "Runs the model registry's HTTP API (/v1), /metrics and /healthz until SIGINT or SIGTERM.\n"
              "Needs a signing key ('edgeloop keys init') and tokens ('edgeloop token create').");
  flags.String("--data", &o.data_dir, "data directory: registry.db, artifacts/, keys/");
  flags.String("--listen", &o.listen, "address to listen on (port 0: any free port)");
  flags.String("--tls-cert", &o.tls_cert_file, "PEM certificate (chain): serve HTTPS");
  flags.String("--tls-key", &o.tls_key_file, "PEM private key of --tls-cert");
  flags.Int("--max-upload-bytes", &max_upload, "largest model accepted (larger: 413)");
  flags.Int("--manifest-ttl-days", &ttl_days, "signed manifests expire after this many days");
  flags.String("--edgetpu-models", &edgetpu_models, "comma-separated model names that must pass the Edge TPU check");
  flags.List("--min-metric", &min_metrics, "NAME=VALUE: refuse publishes whose metric NAME is below VALUE (repeatable)");
  flags.Int("--threads", &threads, "worker threads (concurrent connections)");
  flags.String("--db", &so.db, "store for results/alarms/labels: SQLite file or postgresql://... (default DATA/store.db)");
  flags.String("--mqtt", &so.mqtt_url, "broker URL: run the collector in process and push channel manifests (retained)");
  flags.List("--fleet", &fleets, "fleet whose model topics get the manifests (repeatable; default 'default')");
  flags.Bool("--dashboard-token-free", &o.dashboard_token_free,
             "local demo: GET routes (dashboard reads) work without a token; writes still need an admin token");
  flags.String("--collector-client-id", &so.collector.client_id, "MQTT client id of the in-process collector");
  flags.String("--web", &o.web_dir, "dashboard files to serve at / (default: the web/ directory next to the binary)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (o.data_dir.empty()) return UsageError(argv[0], Status::InvalidArgument("--data DIR is required"));
  if (max_upload <= 0) return UsageError(argv[0], Status::InvalidArgument("--max-upload-bytes must be > 0"));
  if (ttl_days < 1 || ttl_days > 36500) {
    return UsageError(argv[0], Status::InvalidArgument("--manifest-ttl-days must be in [1, 36500]"));
  }
  if (threads < 1 || threads > 1024) return UsageError(argv[0], Status::InvalidArgument("--threads must be in [1, 1024]"));
  o.max_upload_bytes = static_cast<uint64_t>(max_upload);
  o.manifest_ttl_days = ttl_days;
  o.threads = static_cast<int>(threads);
  std::stringstream names(edgetpu_models);
  for (std::string name; std::getline(names, name, ',');) {
    if (!name.empty()) o.edgetpu_models.push_back(name);
  }
  for (const std::string& m : min_metrics) {
    if (Status s = registry::ParseMetricFloor(m, &o.min_metrics); !s.ok()) return UsageError(argv[0], s);
  }
  if (!fleets.empty()) so.fleets = fleets;
  if (o.web_dir.empty()) o.web_dir = server::DefaultWebDir();  // the dashboard, with the store's API next to it
  Status s = collector::RunServeWithStore(std::move(o), std::move(so));
  if (!s.ok()) return Fail(argv[0], s);
  return 0;
}

}  // namespace

EL_COMMAND("serve", "run the server: model registry, store API (/v1), collector (--mqtt), /metrics", Serve);

}  // namespace edgeloop::tools
