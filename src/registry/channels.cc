// Registry: channels (promote, rollback, history), device assignment and the audit log.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "edgeloop/registry/registry.h"
#include "registry/db.h"
#include "registry/registry_internal.h"
#include "registry/schema.h"

namespace edgeloop::registry {
namespace {

constexpr double kDefaultCanaryShare = 0.1;
constexpr const char* kEventColumns = "SELECT id, version, share, action, at, by, rolled_back FROM channel_events ";

ChannelEvent RowToEvent(const Stmt& q) {
  ChannelEvent e;
  e.id = q.Int(0);
  e.version = q.Int(1);
  e.share = q.Double(2);
  e.action = q.Text(3);
  e.at = q.Text(4);
  e.by = q.Text(5);
  e.rolled_back = q.Int(6) != 0;
  return e;
}

std::string ChannelName(const std::string& model, const std::string& channel) {
  return "channel '" + channel + "' of model '" + model + "'";
}

}  // namespace

Status CheckShare(const std::string& channel, std::optional<double> share) {
  if (!share) return Status::Ok();
  if (!std::isfinite(*share) || *share < 0 || *share > 1) {
    return Status::InvalidArgument("share " + std::to_string(*share) + " is not in [0, 1]");
  }
  if (channel != kCanary && *share != 1.0) {
    return Status::InvalidArgument("share applies to the canary channel only ('" + channel + "' reaches every device)");
  }
  return Status::Ok();
}

Result<double> ResolveShareLocked(Db* db, const std::string& model, const std::string& channel,
                                  std::optional<double> share) {
  if (channel != kCanary) return 1.0;
  if (share) return *share;
  EL_ASSIGN_OR_RETURN(auto current, CurrentEventLocked(db, model, channel));
  return current ? current->share : kDefaultCanaryShare;
}

Status InsertChannelEventLocked(Db* db, const std::string& model, const std::string& channel, int64_t version,
                                double share, const std::string& action, const std::string& at, const Actor& actor) {
  EL_ASSIGN_OR_RETURN(Stmt ins, db->Prepare("INSERT INTO channel_events (model, channel, version, share, action, at, by) "
                                            "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  EL_RETURN_IF_ERROR(ins.Bind(1, model)
                         .Bind(2, channel)
                         .Bind(3, version)
                         .Bind(4, share)
                         .Bind(5, action)
                         .Bind(6, at)
                         .Bind(7, actor.name)
                         .Run());
  nlohmann::json details{{"channel", channel}, {"version", version}, {"share", share}};
  return InsertAudit(db, at, actor, action, model, details.dump());
}

Result<std::optional<ChannelEvent>> CurrentEventLocked(Db* db, const std::string& model, const std::string& channel) {
  EL_ASSIGN_OR_RETURN(Stmt q, db->Prepare(std::string(kEventColumns) +
                                          "WHERE model = ? AND channel = ? AND rolled_back = 0 ORDER BY id DESC LIMIT 1"));
  EL_ASSIGN_OR_RETURN(bool row, q.Bind(1, model).Bind(2, channel).Step());
  if (!row) return std::optional<ChannelEvent>();
  return std::optional<ChannelEvent>(RowToEvent(q));
}

Result<std::string> ReadManifestLocked(Db* db, const std::string& model, int64_t version) {
  EL_ASSIGN_OR_RETURN(Stmt q, db->Prepare("SELECT manifest FROM versions WHERE model = ? AND version = ?"));
  EL_ASSIGN_OR_RETURN(bool row, q.Bind(1, model).Bind(2, version).Step());
  if (!row) return Status::NotFound("model '" + model + "' has no version " + std::to_string(version));
  return q.Text(0);
}

Result<ChannelState> Registry::ReadChannelLocked(const std::string& model, const std::string& channel,
                                                 int history_limit) {
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  EL_RETURN_IF_ERROR(RequireModelLocked(model));
  EL_ASSIGN_OR_RETURN(auto current, CurrentEventLocked(db_.get(), model, channel));
  if (!current) return Status::NotFound(ChannelName(model, channel) + " is not set");
  ChannelState state;
  state.model = model;
  state.channel = channel;
  state.version = current->version;
  state.share = current->share;
  state.updated = current->at;
  state.updated_by = current->by;
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kEventColumns) +
                                           "WHERE model = ? AND channel = ? ORDER BY id DESC LIMIT ?"));
  q.Bind(1, model).Bind(2, channel).Bind(3, static_cast<int64_t>(std::clamp(history_limit, 0, 1000)));
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    state.history.push_back(RowToEvent(q));
  }
  return state;
}

Result<ChannelState> Registry::GetChannel(const std::string& model, const std::string& channel, int history_limit) {
  auto lock = db_->Lock();
  return ReadChannelLocked(model, channel, history_limit);
}

Result<ChannelMoveResult> Registry::Promote(const std::string& model, const std::string& channel, int64_t version,
                                            std::optional<double> share, std::optional<int64_t> expected_version,
                                            const Actor& actor) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  EL_RETURN_IF_ERROR(CheckShare(channel, share));
  const int64_t now = options_.env->NowUnixMillis();
  ChannelMoveResult result;
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  EL_ASSIGN_OR_RETURN(VersionInfo v, ReadVersionLocked(model, version));
  EL_ASSIGN_OR_RETURN(auto current, CurrentEventLocked(db_.get(), model, channel));
  const int64_t current_version = current ? current->version : 0;
  if (expected_version && *expected_version != current_version) {
    result.conflict = true;
    result.reason = ChannelName(model, channel) + " points at version " + std::to_string(current_version) +
                    ", not the expected " + std::to_string(*expected_version);
    return result;
  }
  auto expires = ParseRfc3339(v.expires);
  if (expires.ok() && *expires <= now) {
    result.conflict = true;
    result.reason = "version " + std::to_string(version) + " of model '" + model + "': its manifest expired at " +
                    v.expires + "; devices would refuse it (publish it again)";
    return result;
  }
  EL_ASSIGN_OR_RETURN(double resolved, ResolveShareLocked(db_.get(), model, channel, share));
  // Idempotent: repeating the move that is already in place records nothing.
  if (!(current && current->version == version && current->share == resolved)) {
    EL_RETURN_IF_ERROR(
        InsertChannelEventLocked(db_.get(), model, channel, version, resolved, "promote", FormatRfc3339(now), actor));
  }
  EL_ASSIGN_OR_RETURN(result.state, ReadChannelLocked(model, channel, 20));
  EL_RETURN_IF_ERROR(tx->Commit());
  return result;
}

Result<ChannelMoveResult> Registry::Rollback(const std::string& model, const std::string& channel, const Actor& actor) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  const int64_t now = options_.env->NowUnixMillis();
  ChannelMoveResult result;
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  EL_RETURN_IF_ERROR(RequireModelLocked(model));
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kEventColumns) +
                                           "WHERE model = ? AND channel = ? AND rolled_back = 0 ORDER BY id DESC"));
  q.Bind(1, model).Bind(2, channel);
  std::optional<ChannelEvent> current, target;
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ChannelEvent e = RowToEvent(q);
    if (!current) {
      current = e;
    } else if (e.version != current->version) {
      target = e;
      break;
    }
  }
  if (!target) {
    result.conflict = true;
    result.reason = ChannelName(model, channel) +
                    (current ? " has no earlier version to roll back to" : " is not set; nothing to roll back");
    return result;
  }
  // Undo every move after the target, then record the rollback as the channel's newest event.
  EL_ASSIGN_OR_RETURN(Stmt undo, db_->Prepare("UPDATE channel_events SET rolled_back = 1 "
                                              "WHERE model = ? AND channel = ? AND id > ?"));
  EL_RETURN_IF_ERROR(undo.Bind(1, model).Bind(2, channel).Bind(3, target->id).Run());
  EL_RETURN_IF_ERROR(InsertChannelEventLocked(db_.get(), model, channel, target->version, target->share, "rollback",
                                              FormatRfc3339(now), actor));
  EL_ASSIGN_OR_RETURN(result.state, ReadChannelLocked(model, channel, 20));
  EL_RETURN_IF_ERROR(tx->Commit());
  return result;
}

Result<Assignment> Registry::Assign(const std::string& model, const std::string& device) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateDeviceId(device));
  auto lock = db_->Lock();
  EL_RETURN_IF_ERROR(RequireModelLocked(model));
  EL_ASSIGN_OR_RETURN(auto stable, CurrentEventLocked(db_.get(), model, kStable));
  EL_ASSIGN_OR_RETURN(auto canary, CurrentEventLocked(db_.get(), model, kCanary));
  Assignment a;
  a.model = model;
  a.device = device;
  a.bucket = CanaryBucket(model, device);
  a.share = canary ? canary->share : 0.0;
  if (canary && InCanary(a.bucket, canary->share)) {
    a.channel = kCanary;
    a.version = canary->version;
  } else if (stable) {
    a.channel = kStable;
    a.version = stable->version;
  } else {
    return Status::NotFound("model '" + model + "' has no stable version" +
                            (canary ? " and device '" + device + "' is outside its canary" : std::string()));
  }
  EL_ASSIGN_OR_RETURN(a.manifest_json, ReadManifestLocked(db_.get(), model, a.version));
  return a;
}

Result<std::vector<AuditEntry>> Registry::Audit(const AuditQuery& query) {
  if (!query.model.empty()) EL_RETURN_IF_ERROR(ValidateModelName(query.model));
  std::string sql = "SELECT id, at, actor, role, action, model, details FROM audit WHERE 1 = 1";
  if (!query.model.empty()) sql += " AND model = ?1";
  if (query.before_id > 0) sql += " AND id < ?2";
  sql += " ORDER BY id DESC LIMIT ?3";
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(sql));
  if (!query.model.empty()) q.Bind(1, query.model);
  if (query.before_id > 0) q.Bind(2, query.before_id);
  q.Bind(3, static_cast<int64_t>(std::clamp(query.limit, 1, 1000)));
  std::vector<AuditEntry> out;
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(AuditEntry{q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6)});
  }
  return out;
}

}  // namespace edgeloop::registry
