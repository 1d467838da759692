// `edgeloop retrain`: the retraining gate (src/loop).
#include <cstdio>

#include "edgeloop/loop/retrain.h"
#include "edgeloop/registry/manifest.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int RetrainCmd(int argc, char** argv) {
  loop::RetrainOptions o;
  std::string db = "edgeloop.db";
  int64_t epochs = o.epochs, seed = static_cast<int64_t>(o.seed), champion_version = 0;
  double min_conf = -1;
  Flags flags("edgeloop retrain --db URL --data original.csv --golden golden.csv --champion stable.tflite --work DIR\n"
              "                 [--model NAME] [--margin 0.01] [--server URL --token T] [--canary-share 0.1]",
              "Original data + labelled field windows from the store -> train -> INT8 quantize -> accuracy of the\n"
              "candidate and of the champion on the golden set. The candidate is published to the canary channel\n"
              "only if it beats the champion by --margin. The decision is recorded (GET /v1/retrain/decisions).");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--data", &o.original_csv, "the original training CSV");
  flags.String("--golden", &o.golden_csv, "held-out golden CSV");
  flags.String("--champion", &o.champion_path, "the current stable model file");
  flags.Int("--champion-version", &champion_version, "its registry version (recorded)");
  flags.String("--work", &o.work_dir, "directory for the candidate files");
  flags.String("--model", &o.model, "registry model name");
  flags.Double("--margin", &o.margin, "required accuracy gain over the champion");
  flags.Int("--epochs", &epochs, "training epochs");
  flags.Int("--seed", &seed, "training and calibration seed");
  flags.Double("--min-confidence", &min_conf, "also train on field predictions at least this confident");
  flags.String("--server", &o.server_url, "registry URL for the canary publish (default: decide only)");
  flags.String("--token", &o.token, "admin token for --server");
  flags.Double("--canary-share", &o.canary_share, "canary share of the fleet");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  o.epochs = static_cast<int>(epochs);
  o.seed = static_cast<uint64_t>(seed);
  o.champion_version = champion_version;
  if (min_conf >= 0) o.field.min_confidence = min_conf;
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  auto r = loop::Retrain(**st, o);
  if (!r.ok()) return Fail(argv[0], r.status());
  std::printf("%s: %s (training windows %lld, of which field %lld; candidate %s)\n", r->decision.decision.c_str(),
              r->decision.reason.c_str(), static_cast<long long>(r->training_windows),
              static_cast<long long>(r->field_windows), r->candidate_path.c_str());
  return r->decision.decision == "refused" ? 3 : 0;
}

int CanaryCheckCmd(int argc, char** argv) {
  loop::CanaryOptions o;
  std::string db = "edgeloop.db", since;
  Flags flags("edgeloop retrain canary-check --db URL --server URL --token T [--model NAME] [--since RFC3339]",
              "Judges the canary period from the store: canary devices' mean confidence and inference time against\n"
              "stable devices'. Promotes the canary to stable when healthy, rolls the canary back when it regressed,\n"
              "holds while there are too few canary results. Exit 0 promoted/held, 3 rolled back.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--server", &o.server_url, "registry URL");
  flags.String("--token", &o.token, "admin token");
  flags.String("--model", &o.model, "registry model name");
  flags.String("--since", &since, "start of the canary period (RFC 3339; default: all results)");
  flags.Int("--min-results", &o.min_results, "canary results needed before judging");
  flags.Double("--max-confidence-drop", &o.max_confidence_drop, "largest tolerated drop of mean confidence");
  flags.Double("--max-latency-ratio", &o.max_latency_ratio, "largest tolerated canary/stable inference time ratio");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (o.server_url.empty()) return UsageError(argv[0], Status::InvalidArgument("--server URL is required"));
  if (!since.empty()) {
    auto t = registry::ParseRfc3339(since);
    if (!t.ok()) return UsageError(argv[0], Status::InvalidArgument("--since: '" + since + "' is not an RFC 3339 time"));
    o.since_ms = *t;
  }
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  auto d = loop::CheckCanary(**st, o);
  if (!d.ok()) return Fail(argv[0], d.status());
  std::printf("%s: %s\n", d->decision.c_str(), d->reason.c_str());
  return d->decision == "rolled_back" ? 3 : d->decision == "promoted" || d->decision == "held" ? 0 : 1;
}

}  // namespace

EL_COMMAND("retrain canary-check", "promote a healthy canary to stable, roll back a regressed one", CanaryCheckCmd);
EL_COMMAND("retrain", "retrain on original + labelled field data; publish to canary only if it beats the champion",
           RetrainCmd);

}  // namespace edgeloop::tools
