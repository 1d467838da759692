// The registry database: its file under the data directory, its schema (as numbered migrations)
// and the audit-log insert every writer shares. Internal to src/registry.
#ifndef EDGELOOP_REGISTRY_SCHEMA_H_
#define EDGELOOP_REGISTRY_SCHEMA_H_

#include <memory>
#include <string>

#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"
#include "registry/db.h"

namespace edgeloop::registry {

// Creates `data_dir` if needed, opens DIR/registry.db and migrates it to the current schema.
Result<std::unique_ptr<Db>> OpenRegistryDb(const std::string& data_dir);

// Appends one audit row. Call inside the transaction that makes the change, so the change and
// its record commit together. `details_json` must be a JSON object.
Status InsertAudit(Db* db, const std::string& at, const Actor& actor, const std::string& action,
                   const std::string& model, const std::string& details_json);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_SCHEMA_H_
