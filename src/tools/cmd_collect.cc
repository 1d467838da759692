// `edgeloop collect`: the MQTT -> store ingest service (src/collector).
#include "edgeloop/collector/run.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Collect(int argc, char** argv) {
  collector::RunCollectOptions o;
  collector::CollectorOptions& c = o.collector;
  int64_t batch = c.batch_max, batch_ms = c.batch_ms;
  Flags flags("edgeloop collect --mqtt URL [--db URL] [options]",
              "Subscribes to every device's results, alarms and status (QoS 1, persistent MQTT 5 session,\n"
              "shared subscription $share/GROUP/...) and stores them exactly once. Each message is journaled\n"
              "before it is acknowledged and committed in batches; a restart replays the journal.\n"
              "Malformed messages are kept as dead letters. Several collectors with distinct --client-id\n"
              "and the same --group split the traffic.");
  flags.String("--mqtt", &c.mqtt_url, "broker URL (tcp://host:1883, ssl://host:8883)");
  flags.String("--db", &o.db, "store: a SQLite file (or sqlite:PATH) or postgresql://user@host/db");
  flags.String("--client-id", &c.client_id, "MQTT client id = the persistent session (unique per collector)");
  flags.String("--group", &c.share_group, "shared subscription group (\"\" = plain subscription)");
  flags.String("--fleet", &c.fleet, "only this fleet (\"+\" = all)");
  flags.String("--username", &c.username, "MQTT user name");
  flags.String("--password", &c.password, "MQTT password");
  flags.String("--ca-file", &c.ca_file, "PEM CA bundle for ssl:// brokers");
  flags.String("--journal", &c.journal_dir, "journal directory (default: <db>.journal-<client-id>)");
  flags.Bool("--journal-fsync", &c.journal_fsync, "fsync every journaled message (survives power loss; slow)");
  flags.Int("--batch", &batch, "commit when this many messages are waiting");
  flags.Int("--batch-ms", &batch_ms, "...or when the oldest has waited this long");
  flags.String("--metrics-listen", &o.metrics_listen, "serve /metrics and /healthz on HOST:PORT");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (c.mqtt_url.empty()) return UsageError(argv[0], Status::InvalidArgument("--mqtt URL is required"));
  if (batch < 1 || batch > 1000000) return UsageError(argv[0], Status::InvalidArgument("--batch must be in [1, 1000000]"));
  if (batch_ms < 0 || batch_ms > 60000) return UsageError(argv[0], Status::InvalidArgument("--batch-ms must be in [0, 60000]"));
  c.batch_max = static_cast<int>(batch);
  c.batch_ms = static_cast<int>(batch_ms);
  Status s = collector::RunCollect(std::move(o));
  if (!s.ok()) return Fail(argv[0], s);
  return 0;
}

}  // namespace

EL_COMMAND("collect", "store fleet results/alarms/status from MQTT exactly once (SQLite or PostgreSQL)", Collect);

}  // namespace edgeloop::tools
