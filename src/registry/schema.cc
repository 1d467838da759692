#include "registry/schema.h"

#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/registry/data_dir.h"

namespace edgeloop::registry {
namespace {

// Append only: a released migration never changes (databases in the field are at its version).
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: models, versions, channels with their history, tokens, audit log.
      R"sql(
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  created TEXT NOT NULL
);
CREATE TABLE versions (
  model TEXT NOT NULL REFERENCES models(name),
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL,
  metrics TEXT NOT NULL,
  manifest TEXT NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE INDEX versions_sha256 ON versions(sha256);
-- Every move of a channel. The channel points at its newest row that was not rolled back.
CREATE TABLE channel_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL REFERENCES models(name),
  channel TEXT NOT NULL,
  version INTEGER NOT NULL,
  share REAL NOT NULL,
  action TEXT NOT NULL,
  at TEXT NOT NULL,
  by TEXT NOT NULL,
  rolled_back INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channel_events_model_channel ON channel_events(model, channel, id);
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  device_id TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL,
  revoked TEXT NOT NULL DEFAULT ''
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  model TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX audit_model ON audit(model, id);
)sql",
  };
  return kMigrations;
}

}  // namespace

Result<std::unique_ptr<Db>> OpenRegistryDb(const std::string& data_dir) {
  EL_RETURN_IF_ERROR(Env::Default()->CreateDirs(data_dir, 0700));
  EL_ASSIGN_OR_RETURN(auto db, Db::Open(DatabasePath(data_dir)));
  EL_RETURN_IF_ERROR(db->Migrate(Migrations()));
  return db;
}

Status InsertAudit(Db* db, const std::string& at, const Actor& actor, const std::string& action,
                   const std::string& model, const std::string& details_json) {
  EL_ASSIGN_OR_RETURN(Stmt q, db->Prepare("INSERT INTO audit (at, actor, role, action, model, details) "
                                          "VALUES (?, ?, ?, ?, ?, ?)"));
  return q.Bind(1, at).Bind(2, actor.name).Bind(3, actor.role).Bind(4, action).Bind(5, model).Bind(6, details_json).Run();
}

}  // namespace edgeloop::registry
