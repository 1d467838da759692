// Registry: opening, publishing, models and versions. Channels, assignment and the audit log are
// in channels.cc.
#include "edgeloop/registry/registry.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "edgeloop/registry/data_dir.h"
#include "registry/db.h"
#include "registry/registry_internal.h"
#include "registry/schema.h"

namespace edgeloop::registry {

Registry::Registry(RegistryOptions options, std::unique_ptr<Db> db, SigningKey key, std::string public_key_hex)
    : options_(std::move(options)),
      db_(std::move(db)),
      key_(std::move(key)),
      public_key_hex_(std::move(public_key_hex)),
      artifacts_(options_.env, ArtifactsDir(options_.data_dir)) {}

Registry::~Registry() = default;

Result<std::unique_ptr<Registry>> Registry::Open(RegistryOptions options) {
  if (options.data_dir.empty()) return Status::InvalidArgument("registry: no data directory given");
  const std::string key_path = SigningKeyPath(options.data_dir);
  if (!options.env->FileExists(key_path)) {
    return Status::NotFound(key_path + ": no signing key; run 'edgeloop keys init --data " + options.data_dir + "'");
  }
  EL_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Load(key_path));
  std::string public_hex = key.PublicKeyHex();
  EL_ASSIGN_OR_RETURN(auto db, OpenRegistryDb(options.data_dir));
  std::unique_ptr<Registry> reg(new Registry(std::move(options), std::move(db), std::move(key), public_hex));
  EL_RETURN_IF_ERROR(reg->artifacts_.Init());

  // Crash recovery: whatever a killed publish left behind (a temp file, or an artifact renamed
  // into place whose version never committed) is removed before anything is served.
  std::set<std::string> referenced;
  {
    auto lock = reg->db_->Lock();
    EL_ASSIGN_OR_RETURN(Stmt q, reg->db_->Prepare("SELECT model, version, sha256, size FROM versions"));
    for (;;) {
      EL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const std::string sha = q.Text(2);
      referenced.insert(sha);
      auto size = reg->options_.env->FileSize(reg->artifacts_.PathFor(sha));
      if (!size.ok() || *size != static_cast<uint64_t>(q.Int(3))) {
        reg->damaged_.push_back(q.Text(0) + " version " + std::to_string(q.Int(1)) + ": artifact " + sha +
                                (size.ok() ? " has " + std::to_string(*size) + " bytes, not " + std::to_string(q.Int(3))
                                           : " is missing"));
      }
    }
  }
  EL_ASSIGN_OR_RETURN(reg->sweep_, reg->artifacts_.Sweep(referenced));
  return reg;
}

Result<std::unique_ptr<ArtifactStore::Upload>> Registry::BeginUpload() { return artifacts_.BeginUpload(); }

Result<PublishResult> Registry::Publish(const PublishRequest& request, std::string_view bytes) {
  EL_ASSIGN_OR_RETURN(auto upload, BeginUpload());
  EL_RETURN_IF_ERROR(upload->Append(bytes));
  return FinishPublish(std::move(upload), request);
}

Result<PublishResult> Registry::FinishPublish(std::unique_ptr<ArtifactStore::Upload> upload,
                                              const PublishRequest& request) {
  EL_RETURN_IF_ERROR(ValidateModelName(request.model));
  auto metrics = CanonicalizeJson(request.metrics_json.empty() ? "{}" : request.metrics_json);
  if (!metrics.ok()) return metrics.status().WithPrefix("metrics");
  if (metrics->empty() || (*metrics)[0] != '{') return Status::InvalidArgument("metrics: not a JSON object");
  double share = 1.0;
  if (!request.channel.empty()) {
    EL_RETURN_IF_ERROR(ValidateChannel(request.channel));
    EL_RETURN_IF_ERROR(CheckShare(request.channel, request.share));
  }
  if (upload->size() == 0) return Status::InvalidArgument("artifact: empty body");

  EL_RETURN_IF_ERROR(upload->Seal());
  PublishResult result;
  if (!options_.gates.empty()) {
    EL_ASSIGN_OR_RETURN(std::string bytes, options_.env->ReadFile(upload->temp_path()));
    GateInput input{request.model, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                    *metrics};
    for (const auto& gate : options_.gates) {
      Status s = gate->Check(input);
      if (!s.ok()) {
        result.refused = true;
        result.gate = gate->name();
        result.reason = s.message();
        return result;  // the upload's destructor removes the temp file
      }
    }
  }
  // The artifact is durable under its hash before any row points at it.
  EL_RETURN_IF_ERROR(upload->Commit());

  const int64_t now = options_.env->NowUnixMillis();
  Manifest m;
  m.name = request.model;
  m.sha256 = upload->sha256();
  m.size = static_cast<int64_t>(upload->size());
  m.created = FormatRfc3339(now);
  m.expires = FormatRfc3339(now + options_.manifest_ttl_ms);
  m.metrics_json = *metrics;

  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  EL_ASSIGN_OR_RETURN(Stmt add_model, db_->Prepare("INSERT OR IGNORE INTO models (name, created) VALUES (?, ?)"));
  EL_RETURN_IF_ERROR(add_model.Bind(1, m.name).Bind(2, m.created).Run());
  EL_ASSIGN_OR_RETURN(Stmt last, db_->Prepare("SELECT COALESCE(MAX(version), 0) FROM versions WHERE model = ?"));
  EL_ASSIGN_OR_RETURN(bool row, last.Bind(1, m.name).Step());
  m.version = (row ? last.Int(0) : 0) + 1;
  SignManifest(&m, key_);
  result.manifest_json = ManifestToJson(m);
  EL_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO versions (model, version, sha256, size, created, expires, "
                                             "metrics, manifest, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  EL_RETURN_IF_ERROR(ins.Bind(1, m.name)
                         .Bind(2, m.version)
                         .Bind(3, m.sha256)
                         .Bind(4, m.size)
                         .Bind(5, m.created)
                         .Bind(6, m.expires)
                         .Bind(7, m.metrics_json)
                         .Bind(8, result.manifest_json)
                         .Bind(9, request.actor.name)
                         .Run());
  nlohmann::json details{{"version", m.version}, {"sha256", m.sha256}, {"size", m.size}};
  EL_RETURN_IF_ERROR(InsertAudit(db_.get(), m.created, request.actor, "publish", m.name, details.dump()));
  if (!request.channel.empty()) {
    EL_ASSIGN_OR_RETURN(share, ResolveShareLocked(db_.get(), m.name, request.channel, request.share));
    EL_RETURN_IF_ERROR(InsertChannelEventLocked(db_.get(), m.name, request.channel, m.version, share, "promote",
                                                m.created, request.actor));
  }
  EL_RETURN_IF_ERROR(tx->Commit());

  result.version = VersionInfo{m.name, m.version, m.sha256, m.size, m.created, m.expires, m.metrics_json,
                               request.actor.name};
  return result;
}

Status Registry::RequireModelLocked(const std::string& model) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT 1 FROM models WHERE name = ?"));
  EL_ASSIGN_OR_RETURN(bool found, q.Bind(1, model).Step());
  if (!found) return Status::NotFound("model '" + model + "' does not exist");
  return Status::Ok();
}

Result<std::vector<ModelInfo>> Registry::ListModels() {
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT m.name, m.created, COALESCE(MAX(v.version), 0), COUNT(v.version) "
                                           "FROM models m LEFT JOIN versions v ON v.model = m.name "
                                           "GROUP BY m.name ORDER BY m.name"));
  std::vector<ModelInfo> out;
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ModelInfo m;
    m.name = q.Text(0);
    m.created = q.Text(1);
    m.latest_version = q.Int(2);
    m.version_count = q.Int(3);
    out.push_back(std::move(m));
  }
  for (ModelInfo& m : out) {
    for (const char* channel : {kStable, kCanary}) {
      EL_ASSIGN_OR_RETURN(auto current, CurrentEventLocked(db_.get(), m.name, channel));
      if (current) m.channels.push_back(ChannelPointer{channel, current->version, current->share});
    }
  }
  return out;
}

Result<ModelInfo> Registry::GetModel(const std::string& model) {
  EL_ASSIGN_OR_RETURN(auto all, ListModels());
  for (ModelInfo& m : all) {
    if (m.name == model) return std::move(m);
  }
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  return Status::NotFound("model '" + model + "' does not exist");
}

namespace {

constexpr const char* kVersionColumns =
    "SELECT model, version, sha256, size, created, expires, metrics, published_by FROM versions ";

VersionInfo RowToVersion(const Stmt& q) {
  return VersionInfo{q.Text(0), q.Int(1), q.Text(2), q.Int(3), q.Text(4), q.Text(5), q.Text(6), q.Text(7)};
}

}  // namespace

Result<std::vector<VersionInfo>> Registry::ListVersions(const std::string& model) {
  auto lock = db_->Lock();
  EL_RETURN_IF_ERROR(RequireModelLocked(model));
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kVersionColumns) + "WHERE model = ? ORDER BY version"));
  q.Bind(1, model);
  std::vector<VersionInfo> out;
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(RowToVersion(q));
  }
  return out;
}

Result<VersionInfo> Registry::ReadVersionLocked(const std::string& model, int64_t version) {
  EL_RETURN_IF_ERROR(RequireModelLocked(model));
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kVersionColumns) + "WHERE model = ? AND version = ?"));
  EL_ASSIGN_OR_RETURN(bool found, q.Bind(1, model).Bind(2, version).Step());
  if (!found) return Status::NotFound("model '" + model + "' has no version " + std::to_string(version));
  return RowToVersion(q);
}

Result<VersionInfo> Registry::GetVersion(const std::string& model, int64_t version) {
  auto lock = db_->Lock();
  return ReadVersionLocked(model, version);
}

Result<std::string> Registry::GetManifestJson(const std::string& model, int64_t version) {
  auto lock = db_->Lock();
  EL_RETURN_IF_ERROR(ReadVersionLocked(model, version).status());
  return ReadManifestLocked(db_.get(), model, version);
}

Result<std::unique_ptr<ArtifactFile>> Registry::OpenArtifact(const std::string& model, int64_t version) {
  VersionInfo v;
  {
    auto lock = db_->Lock();
    EL_ASSIGN_OR_RETURN(v, ReadVersionLocked(model, version));
  }
  return artifacts_.Open(v.sha256, static_cast<uint64_t>(v.size));
}

}  // namespace edgeloop::registry
