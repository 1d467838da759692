#include "edgeloop/registry/tokens.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "edgeloop/registry/manifest.h"
#include "registry/db.h"
#include "registry/schema.h"

namespace edgeloop::registry {
namespace {

constexpr const char* kTokenPrefix = "elt_";

Result<std::string> RandomHex(size_t bytes) {
  if (sodium_init() < 0) return Status::IOError("libsodium: initialisation failed");
  std::vector<uint8_t> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex = ToHex(raw);
  sodium_memzero(raw.data(), raw.size());
  return hex;
}

std::string TokenHash(const std::string& secret) { return Sha256Hex(secret); }

TokenInfo RowToInfo(const Stmt& q) {
  TokenInfo t;
  t.id = q.Int(0);
  t.name = q.Text(1);
  t.role = q.Text(2) == "admin" ? Role::kAdmin : Role::kDevice;
  t.device_id = q.Text(3);
  t.created = q.Text(4);
  t.revoked = q.Text(5);
  return t;
}

constexpr const char* kColumns = "SELECT id, name, role, device_id, created, revoked FROM tokens ";

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) { return role == Role::kAdmin ? "admin" : "device"; }

Result<Role> ParseRole(const std::string& text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "device") return Role::kDevice;
  return Status::InvalidArgument("role '" + text + "' is not 'admin' or 'device'");
}

TokenStore::TokenStore(std::unique_ptr<Db> db, Env* env) : db_(std::move(db)), env_(env) {}
TokenStore::~TokenStore() = default;

Result<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& data_dir, Env* env) {
  EL_ASSIGN_OR_RETURN(auto db, OpenRegistryDb(data_dir));
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(db), env));
}

Result<TokenStore::Created> TokenStore::Create(Role role, const std::string& device_id, const std::string& name,
                                               const Actor& actor) {
  if (!device_id.empty()) {
    if (role == Role::kAdmin) return Status::InvalidArgument("token: --device applies to device tokens only");
    EL_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  }
  std::string token_name = name;
  if (token_name.empty()) {
    EL_ASSIGN_OR_RETURN(std::string suffix, RandomHex(3));
    token_name = std::string(RoleName(role)) + (device_id.empty() ? "" : "-" + device_id) + "-" + suffix;
  }
  if (token_name.size() > 128) return Status::InvalidArgument("token name is longer than 128 bytes");
  for (char c : token_name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("token name contains a control character");
    }
  }
  EL_ASSIGN_OR_RETURN(std::string random, RandomHex(32));
  Created out;
  out.secret = kTokenPrefix + random;
  out.info.name = token_name;
  out.info.role = role;
  out.info.device_id = device_id;
  out.info.created = FormatRfc3339(env_->NowUnixMillis());

  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  EL_ASSIGN_OR_RETURN(Stmt taken, db_->Prepare("SELECT 1 FROM tokens WHERE name = ?"));
  EL_ASSIGN_OR_RETURN(bool exists, taken.Bind(1, token_name).Step());
  if (exists) return Status::InvalidArgument("token name '" + token_name + "' is already taken");
  EL_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO tokens (name, role, device_id, hash, created) "
                                             "VALUES (?, ?, ?, ?, ?)"));
  EL_RETURN_IF_ERROR(ins.Bind(1, token_name)
                         .Bind(2, RoleName(role))
                         .Bind(3, device_id)
                         .Bind(4, TokenHash(out.secret))
                         .Bind(5, out.info.created)
                         .Run());
  out.info.id = db_->LastInsertRowId();
  nlohmann::json details{{"token_id", out.info.id}, {"name", token_name}, {"role", RoleName(role)},
                         {"device", device_id}};
  EL_RETURN_IF_ERROR(InsertAudit(db_.get(), out.info.created, actor, "token.create", "", details.dump()));
  EL_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<std::vector<TokenInfo>> TokenStore::List() {
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kColumns) + "ORDER BY id"));
  std::vector<TokenInfo> out;
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(RowToInfo(q));
  }
  return out;
}

Result<TokenInfo> TokenStore::Revoke(const std::string& id_or_name, const Actor& actor) {
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get()));
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kColumns) + (AllDigits(id_or_name) ? "WHERE id = ?" : "WHERE name = ?")));
  if (AllDigits(id_or_name)) {
    q.Bind(1, static_cast<int64_t>(std::stoll(id_or_name)));
  } else {
    q.Bind(1, id_or_name);
  }
  EL_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return Status::NotFound("token '" + id_or_name + "' does not exist");
  TokenInfo info = RowToInfo(q);
  if (!info.revoked.empty()) return info;
  info.revoked = FormatRfc3339(env_->NowUnixMillis());
  EL_ASSIGN_OR_RETURN(Stmt up, db_->Prepare("UPDATE tokens SET revoked = ? WHERE id = ?"));
  EL_RETURN_IF_ERROR(up.Bind(1, info.revoked).Bind(2, info.id).Run());
  nlohmann::json details{{"token_id", info.id}, {"name", info.name}};
  EL_RETURN_IF_ERROR(InsertAudit(db_.get(), info.revoked, actor, "token.revoke", "", details.dump()));
  EL_RETURN_IF_ERROR(tx->Commit());
  return info;
}

Result<TokenInfo> TokenStore::Authenticate(const std::string& secret) {
  if (secret.empty()) return Status::PermissionDenied("no bearer token");
  auto lock = db_->Lock();
  EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string(kColumns) + "WHERE hash = ?"));
  EL_ASSIGN_OR_RETURN(bool found, q.Bind(1, TokenHash(secret)).Step());
  if (!found) return Status::PermissionDenied("unknown bearer token");
  TokenInfo info = RowToInfo(q);
  if (!info.revoked.empty()) return Status::PermissionDenied("token '" + info.name + "' was revoked at " + info.revoked);
  return info;
}

}  // namespace edgeloop::registry
