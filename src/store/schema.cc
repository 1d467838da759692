#include "store/schema.h"

namespace edgeloop::store {
namespace {

// Written once for both databases: only the id column type differs ({ID}).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS devices (
  device_id TEXT PRIMARY KEY,
  fleet TEXT NOT NULL,
  last_seen_ms BIGINT NOT NULL DEFAULT 0,
  online INTEGER NOT NULL DEFAULT 0,
  model_name TEXT NOT NULL DEFAULT '',
  model_version BIGINT NOT NULL DEFAULT 0,
  status_ms BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS results (
  device_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  fleet TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  prediction TEXT NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  scores TEXT NOT NULL,
  inference_ms DOUBLE PRECISION NOT NULL,
  model_name TEXT NOT NULL,
  model_version BIGINT NOT NULL,
  raw_data TEXT NOT NULL,
  win TEXT,
  win_reason TEXT NOT NULL DEFAULT '',
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq)
);
CREATE INDEX IF NOT EXISTS results_time ON results(timestamp_ms);
CREATE TABLE IF NOT EXISTS alarm_events (
  id {ID},
  device_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  fleet TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  event TEXT NOT NULL,
  label TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  threshold DOUBLE PRECISION NOT NULL,
  result_seq BIGINT NOT NULL,
  model_name TEXT NOT NULL,
  model_version BIGINT NOT NULL,
  received_ms BIGINT NOT NULL,
  UNIQUE (device_id, seq)
);
CREATE TABLE IF NOT EXISTS labels (
  id {ID},
  device_id TEXT NOT NULL DEFAULT '',
  seq BIGINT,
  alarm_id BIGINT,
  start_ms BIGINT NOT NULL DEFAULT 0,
  end_ms BIGINT NOT NULL DEFAULT 0,
  label TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  by_whom TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_result ON labels(device_id, seq);
CREATE TABLE IF NOT EXISTS status_events (
  id {ID},
  device_id TEXT NOT NULL,
  fleet TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  model_name TEXT NOT NULL,
  model_version BIGINT NOT NULL,
  body TEXT NOT NULL,
  received_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_events_time ON status_events(timestamp_ms);
CREATE TABLE IF NOT EXISTS dead_letters (
  id {ID},
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  reason TEXT NOT NULL,
  received_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  info TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS retrain_decisions (
  id {ID},
  time_ms BIGINT NOT NULL,
  model TEXT NOT NULL,
  candidate_version BIGINT NOT NULL,
  champion_version BIGINT NOT NULL,
  candidate_accuracy DOUBLE PRECISION NOT NULL,
  champion_accuracy DOUBLE PRECISION NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql";

}  // namespace

std::string SchemaSql(Dialect d) {
  std::string s = kSchemaV1;
  const std::string id = d == Dialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  for (size_t p; (p = s.find("{ID}")) != std::string::npos;) s.replace(p, 4, id);
  return s;
}

}  // namespace edgeloop::store
