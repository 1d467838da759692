#include "registry/db.h"

#include <sqlite3.h>

#include <utility>

namespace edgeloop::registry {

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)),
      bind_error_(std::move(other.bind_error_)) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status Stmt::Error(const char* what) const {
  return Status::IOError(db_->path_ + ": " + what + " '" + sql_ + "': " + sqlite3_errmsg(db_->db_));
}

Stmt& Stmt::Bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK && bind_error_.ok()) bind_error_ = Error("bind");
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK && bind_error_.ok()) bind_error_ = Error("bind");
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK &&
      bind_error_.ok()) {
    bind_error_ = Error("bind");
  }
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK && bind_error_.ok()) bind_error_ = Error("bind");
  return *this;
}

Result<bool> Stmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_BUSY) {
    return Status::Unavailable(db_->path_ + ": database is locked by another process (statement '" + sql_ + "')");
  }
  if (rc == SQLITE_CONSTRAINT) {
    return Status::InvalidArgument(db_->path_ + ": constraint failed: " + sqlite3_errmsg(db_->db_));
  }
  return Error("step");
}

Status Stmt::Run() {
  for (;;) {
    EL_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Stmt::Double(int column) const { return sqlite3_column_double(stmt_, column); }
bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Stmt::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return Status::IOError(path + ": cannot open database: " + msg);
  }
  std::unique_ptr<Db> db(new Db(handle, path));
  sqlite3_busy_timeout(handle, busy_timeout_ms);
  sqlite3_extended_result_codes(handle, 0);
  // WAL: the server reads while a token command writes. synchronous=FULL: a committed publish
  // survives a power cut, which is what the crash test asserts for a kill.
  EL_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

Db::~Db() { sqlite3_close(db_); }

Status Db::Error(const std::string& what) const {
  return Status::IOError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc == SQLITE_BUSY) return Status::Unavailable(path_ + ": database is locked by another process");
    return Status::IOError(path_ + ": '" + sql.substr(0, 80) + "': " + msg);
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare '" + sql + "'");
  }
  return Stmt(this, stmt, sql);
}

int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }

Result<int64_t> Db::SchemaVersion() {
  EL_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  EL_ASSIGN_OR_RETURN(Stmt q, Prepare("SELECT version FROM schema_version"));
  EL_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : int64_t{0};
}

Status Db::Migrate(const std::vector<std::string>& migrations) {
  const int64_t target = static_cast<int64_t>(migrations.size());
  for (;;) {
    EL_ASSIGN_OR_RETURN(int64_t current, SchemaVersion());
    if (current > target) {
      return Status::Corruption(path_ + ": schema version " + std::to_string(current) +
                                " is newer than this build knows (" + std::to_string(target) + ")");
    }
    if (current == target) return Status::Ok();
    EL_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(this));
    // Another process may have migrated between the read above and the write lock.
    EL_ASSIGN_OR_RETURN(int64_t locked, SchemaVersion());
    if (locked != current) continue;
    Status s = Exec(migrations[static_cast<size_t>(current)]);
    if (!s.ok()) return s.WithPrefix("schema migration " + std::to_string(current + 1));
    EL_RETURN_IF_ERROR(Exec("DELETE FROM schema_version"));
    EL_ASSIGN_OR_RETURN(Stmt bump, Prepare("INSERT INTO schema_version (version) VALUES (?)"));
    EL_RETURN_IF_ERROR(bump.Bind(1, current + 1).Run());
    EL_RETURN_IF_ERROR(tx->Commit());
  }
}

Result<std::unique_ptr<Transaction>> Transaction::Begin(Db* db) {
  EL_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status s = db_->Exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace edgeloop::registry
