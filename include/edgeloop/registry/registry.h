// The model registry (DESIGN.md "Registry HTTP API"): versioned models with content-addressed
// artifacts, ed25519-signed manifests, stable/canary channels with history and rollback, device
// assignment by a stable hash, and an audit log of every change. Metadata in SQLite
// (DIR/registry.db), artifacts under DIR/artifacts (see data_dir.h). The HTTP layer (src/server)
// is a thin mapping onto this class; the loop may also use it in process.
//
// Crash consistency: a publish writes the artifact (temp, fsync, rename, directory fsync) and only
// then inserts the version in one SQLite transaction. Open() sweeps temp files and artifacts that
// no version references, so a crash at any instant leaves no half-written version and nothing
// orphaned behind. Only one process may serve a data directory (the server takes DIR/serve.lock).
//
// Thread-safety: all methods are safe from any thread. Uploads stream and hash outside any lock;
// the database work of each call is serialised on one connection.
#ifndef EDGELOOP_REGISTRY_REGISTRY_H_
#define EDGELOOP_REGISTRY_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"
#include "edgeloop/registry/artifacts.h"
#include "edgeloop/registry/gate.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::registry {

class Db;

struct RegistryOptions {
  std::string data_dir;
  Env* env = Env::Default();            // files and clock; must outlive the registry
  int64_t manifest_ttl_ms = 365LL * 24 * 3600 * 1000;  // signed manifests expire after this
  std::vector<std::unique_ptr<PublishGate>> gates;      // run in order on every publish
};

struct PublishRequest {
  std::string model;
  std::string metrics_json = "{}";  // a JSON object; canonicalised before signing
  std::string channel;              // "" or a channel to point at the new version in the same commit
  std::optional<double> share;      // canary share when channel == "canary"
  Actor actor;
};

// A publish either stores a version or is refused by a gate (an expected outcome, not an error).
struct PublishResult {
  bool refused = false;
  std::string gate;          // the refusing gate's name
  std::string reason;        // its message
  VersionInfo version;       // when stored
  std::string manifest_json; // the signed manifest, canonical JSON
};

// A channel move either happens or conflicts with the channel's state (nothing to roll back to,
// the channel moved since the caller looked, the version's manifest has expired).
struct ChannelMoveResult {
  bool conflict = false;
  std::string reason;
  ChannelState state;  // after the move
};

struct AuditQuery {
  std::string model;      // "" = all
  int64_t before_id = 0;  // 0 = newest; else entries with id < before_id (paging)
  int limit = 100;        // at most 1000
};

class Registry {
 public:
  // Opens (creating) the data directory, loads DIR/keys/signing.key (NotFound with a hint to run
  // `edgeloop keys init` when missing), migrates the database and sweeps leftovers of a crash.
  static Result<std::unique_ptr<Registry>> Open(RegistryOptions options);
  ~Registry();

  const std::string& public_key_hex() const { return public_key_hex_; }
  const SweepReport& startup_sweep() const { return sweep_; }
  // Versions whose artifact was missing or of the wrong size when the registry opened (damage
  // from outside: a deleted file, a restored backup). They answer 404/500 on download.
  const std::vector<std::string>& damaged_versions() const { return damaged_; }

  // Publishing, streamed: BeginUpload, Append the body in chunks (bounded by the caller), then
  // FinishPublish. Dropping the upload without finishing removes its temp file.
  Result<std::unique_ptr<ArtifactStore::Upload>> BeginUpload();
  // Seals the upload, runs the gates, commits the artifact, then inserts the next version of the
  // model (creating the model on its first version) with its signed manifest, optionally moves a
  // channel, and records the audit entry, in one transaction. Errors: InvalidArgument for a bad
  // name, metrics that are not a JSON object or a bad channel/share; IOError for storage failures.
  Result<PublishResult> FinishPublish(std::unique_ptr<ArtifactStore::Upload> upload, const PublishRequest& request);
  // Convenience for small artifacts held in memory.
  Result<PublishResult> Publish(const PublishRequest& request, std::string_view bytes);

  Result<std::vector<ModelInfo>> ListModels();
  Result<ModelInfo> GetModel(const std::string& model);  // NotFound
  Result<std::vector<VersionInfo>> ListVersions(const std::string& model);  // NotFound for unknown models
  Result<VersionInfo> GetVersion(const std::string& model, int64_t version);
  Result<std::string> GetManifestJson(const std::string& model, int64_t version);
  // Opens the version's artifact for reading (checks the file's size against the version).
  Result<std::unique_ptr<ArtifactFile>> OpenArtifact(const std::string& model, int64_t version);

  // The channel's state with up to `history_limit` events (newest first). NotFound when the model
  // does not exist or the channel was never set.
  Result<ChannelState> GetChannel(const std::string& model, const std::string& channel, int history_limit = 20);
  // Points `channel` at `version` (share only for canary: default the current canary share or
  // 0.1). `expected_version` (if set) must equal the channel's current version (0 = unset), else
  // conflict: optimistic concurrency for automated promotion. NotFound for an unknown version.
  Result<ChannelMoveResult> Promote(const std::string& model, const std::string& channel, int64_t version,
                                    std::optional<double> share, std::optional<int64_t> expected_version,
                                    const Actor& actor);
  // Points the channel back at the version it pointed to before its current one (the current
  // promotion is marked rolled back, so repeated rollbacks walk further back). Conflict when
  // there is nothing to roll back to.
  Result<ChannelMoveResult> Rollback(const std::string& model, const std::string& channel, const Actor& actor);

  // Which version `device` should run: canary when the canary is set with a share > 0 and the
  // device's bucket falls inside it, else stable. NotFound when the model is unknown or the
  // chosen channel is not set.
  Result<Assignment> Assign(const std::string& model, const std::string& device);

  Result<std::vector<AuditEntry>> Audit(const AuditQuery& query);

 private:
  Registry(RegistryOptions options, std::unique_ptr<Db> db, SigningKey key, std::string public_key_hex);
  Result<ChannelState> ReadChannelLocked(const std::string& model, const std::string& channel, int history_limit);
  Status RequireModelLocked(const std::string& model);
  Result<VersionInfo> ReadVersionLocked(const std::string& model, int64_t version);

  RegistryOptions options_;
  std::unique_ptr<Db> db_;  // all use under db_->Lock()
  SigningKey key_;
  std::string public_key_hex_;
  ArtifactStore artifacts_;
  SweepReport sweep_;
  std::vector<std::string> damaged_;
};

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_REGISTRY_H_
