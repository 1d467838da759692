// `edgeloop retrain`: the retraining gate (src/loop).
#include <signal.h>

#include <cstdio>

#include "edgeloop/loop/retrain.h"
#include "edgeloop/loop/schedule.h"
#include "edgeloop/registry/manifest.h"
#include "tools/canary_flags.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int RetrainCmd(int argc, char** argv) {
  loop::RetrainOptions o;
  std::string db = "edgeloop.db";
  int64_t epochs = o.epochs, seed = static_cast<int64_t>(o.seed), champion_version = 0;
  double min_conf = -1;
  Flags flags("edgeloop retrain --db URL --data original.csv --golden golden.csv --champion stable.tflite --work DIR\n"
              "                 [--model NAME] [--margin 0.01] [--server URL --token T] [--canary-share 0.1]\n"
              "       edgeloop retrain --schedule 6h --server URL --token T --db URL --data CSV --golden CSV --work DIR",
              "Original data + labelled field windows from the store -> train -> INT8 quantize -> accuracy of the\n"
              "candidate and of the champion on the golden set. The candidate is published to the canary channel\n"
              "only if it beats the champion by --margin. The decision is recorded (GET /v1/retrain/decisions).\n"
              "\n"
              "--schedule DURATION repeats this until SIGINT/SIGTERM against the registry's current stable version\n"
              "(downloaded into --work; --champion is not needed; --server and --token are), and judges each canary\n"
              "after --canary-period like `retrain canary-check`. Failed runs are recorded with the reason.\n"
              "`edgeloop serve --retrain-every` runs the same loop inside the server without a token of yours.");
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
  std::string schedule, canary_period = "1h";
  loop::CanaryOptions canary;
  flags.String("--schedule", &schedule, "repeat every DURATION (6h, 30m) until SIGINT/SIGTERM (see above)");
  flags.String("--canary-period", &canary_period, "with --schedule: how long a canary runs before it is judged");
  AddCanaryCheckFlags(flags, &canary, "canary-");  // with --schedule
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  o.epochs = static_cast<int>(epochs);
  if (!schedule.empty()) {
    loop::ScheduleOptions so;
    auto every = loop::ParseDurationMs(schedule);
    if (!every.ok()) return UsageError(argv[0], every.status().WithPrefix("--schedule"));
    auto period = loop::ParseDurationMs(canary_period);
    if (!period.ok()) return UsageError(argv[0], period.status().WithPrefix("--canary-period"));
    if (o.server_url.empty() || o.token.empty()) {
      return UsageError(argv[0], Status::InvalidArgument("--schedule needs --server URL and --token T"));
    }
    if (min_conf >= 0) o.field.min_confidence = min_conf;
    so.retrain = o;
    so.retrain.seed = static_cast<uint64_t>(seed);
    so.canary = canary;
    so.every_ms = *every;
    so.canary_period_ms = *period;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before the scheduler thread starts: it inherits the mask
    auto st = store::Store::Open(db);
    if (!st.ok()) return Fail(argv[0], st.status());
    auto sched = loop::RetrainScheduler::Start(st->get(), so);
    if (!sched.ok()) return Fail(argv[0], sched.status());
    std::fprintf(stderr, "edgeloop retrain: every %s, canary period %s; SIGINT or SIGTERM stops\n", schedule.c_str(),
                 canary_period.c_str());
    int sig = 0;
    sigwait(&stop, &sig);
    (*sched)->Stop();
    return 0;
  }
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
              "Judges the canary period from the store: canary devices against stable devices on mean confidence,\n"
              "confidence distribution, inference time, device errors (status counters, dead letters) and failed\n"
              "installs. Promotes the canary to stable when healthy, rolls the canary back when it regressed (the\n"
              "reason names the failed checks), holds while there are too few canary results.\n"
              "Exit 0 promoted/held, 3 rolled back.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--server", &o.server_url, "registry URL");
  flags.String("--token", &o.token, "admin token");
  flags.String("--model", &o.model, "registry model name");
  flags.String("--since", &since, "start of the canary period (RFC 3339; default: all results)");
  AddCanaryCheckFlags(flags, &o, "");
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
