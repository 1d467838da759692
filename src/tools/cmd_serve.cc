// `edgeloop serve`: the registry HTTP(S) server.
#include <chrono>
#include <sstream>

#include "edgeloop/collector/serve_store.h"
#include "edgeloop/loop/schedule.h"
#include "edgeloop/registry/gate.h"
#include "edgeloop/server/serve.h"
#include "tools/canary_flags.h"
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
              "Needs a signing key ('edgeloop keys init') and tokens ('edgeloop token create').\n"
              "\n"
              "--retrain-every DURATION runs the retraining loop in a server thread: each period it takes the\n"
              "stable version of --retrain-model as the champion, trains a candidate on --retrain-data plus the\n"
              "store's labelled field windows, and publishes it to canary only if it beats the champion by\n"
              "--retrain-margin on --retrain-golden; after --canary-period it compares canary and stable devices\n"
              "(confidence and its distribution, latency, device errors, failed installs) and promotes or rolls\n"
              "back. Every decision, failed runs included (with the reason), is recorded: GET /v1/retrain/decisions\n"
              "and the dashboard. A failing run never stops the server.");
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
  // The retraining loop on a schedule (src/loop/schedule.h).
  std::string retrain_every, canary_period = "1h";
  loop::ScheduleOptions ro;
  int64_t retrain_epochs = ro.retrain.epochs;
  flags.String("--retrain-every", &retrain_every, "run the retraining loop in the server every DURATION (6h, 30m, 90s)");
  flags.String("--retrain-model", &ro.retrain.model, "registry model the loop retrains");
  flags.String("--retrain-data", &ro.retrain.original_csv, "the original training CSV (required with --retrain-every)");
  flags.String("--retrain-golden", &ro.retrain.golden_csv, "held-out golden CSV (required with --retrain-every)");
  flags.Double("--retrain-margin", &ro.retrain.margin, "accuracy a candidate must gain over the champion");
  flags.Int("--retrain-epochs", &retrain_epochs, "training epochs per run");
  flags.String("--retrain-work", &ro.retrain.work_dir, "directory for champion and candidate files (default DATA/retrain)");
  flags.Double("--canary-share", &ro.retrain.canary_share, "canary share of the fleet");
  flags.String("--canary-period", &canary_period, "how long the canary runs before it is judged (DURATION)");
  AddCanaryCheckFlags(flags, &ro.canary, "canary-");
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
  if (!retrain_every.empty()) {
    auto every = loop::ParseDurationMs(retrain_every);
    if (!every.ok()) return UsageError(argv[0], every.status().WithPrefix("--retrain-every"));
    auto period = loop::ParseDurationMs(canary_period);
    if (!period.ok()) return UsageError(argv[0], period.status().WithPrefix("--canary-period"));
    if (ro.retrain.original_csv.empty() || ro.retrain.golden_csv.empty()) {
      return UsageError(argv[0], Status::InvalidArgument("--retrain-every needs --retrain-data and --retrain-golden"));
    }
    if (retrain_epochs < 1) return UsageError(argv[0], Status::InvalidArgument("--retrain-epochs must be >= 1"));
    ro.every_ms = *every;
    ro.canary_period_ms = *period;
    ro.retrain.epochs = static_cast<int>(retrain_epochs);
    if (ro.retrain.work_dir.empty()) ro.retrain.work_dir = o.data_dir + "/retrain";
    so.background = [ro, retrain_every, canary_period](store::Store& st, server::RegistryServer& srv) -> Result<std::function<void()>> {
      // The loop talks to this server over HTTP like any client, with an admin token of its own
      // that lives as long as the process (revoked at shutdown; a kill -9 leaves it for `token revoke`).
      const registry::Actor local{"local", "local"};
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
      EL_ASSIGN_OR_RETURN(auto tok, srv.tokens().Create(registry::Role::kAdmin, "", "serve-retrain-" + std::to_string(ms), local));
      loop::ScheduleOptions opts = ro;
      opts.retrain.server_url = srv.url();
      opts.retrain.token = tok.secret;
      auto sched = loop::RetrainScheduler::Start(&st, opts);
      if (!sched.ok()) {
        (void)srv.tokens().Revoke(tok.info.name, local);
        return sched.status().WithPrefix("--retrain-every");
      }
      std::fprintf(stderr, "edgeloop serve: retraining %s every %s, canary period %s (work %s)\n",
                   opts.retrain.model.c_str(), retrain_every.c_str(), canary_period.c_str(), opts.retrain.work_dir.c_str());
      std::shared_ptr<loop::RetrainScheduler> keep(std::move(*sched));
      registry::TokenStore* tokens = &srv.tokens();
      return std::function<void()>([keep, tokens, name = tok.info.name, local] {
        keep->Stop();
        (void)tokens->Revoke(name, local);
      });
    };
  }
  if (o.web_dir.empty()) o.web_dir = server::DefaultWebDir();  // the dashboard, with the store's API next to it
  Status s = collector::RunServeWithStore(std::move(o), std::move(so));
  if (!s.ok()) return Fail(argv[0], s);
  return 0;
}

}  // namespace

EL_COMMAND("serve", "run the server: model registry, store API (/v1), collector (--mqtt), /metrics", Serve);

}  // namespace edgeloop::tools
