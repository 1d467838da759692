// SqlConn over SQLite: statements are prepared once and cached by their text.
#include <sqlite3.h>

#include <map>

#include "store/sql_conn.h"

namespace edgeloop::store {
namespace {

class SqliteConn : public SqlConn {
 public:
  SqliteConn(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConn() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Begin() override { return Script("BEGIN IMMEDIATE"); }
  Status Commit() override { return Script("COMMIT"); }
  void Rollback() override { (void)Script("ROLLBACK"); }

  Status Script(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Status::IOError("sqlite " + path_ + ": " + msg + " (in: " + sql.substr(0, 120) + ")");
    }
    return Status::Ok();
  }

  Result<SqlRows> Exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    if (params.empty() && sql.find(';') != std::string::npos) {
      EL_RETURN_IF_ERROR(Script(sql));
      return SqlRows{};
    }
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        return Status::IOError("sqlite " + path_ + ": " + sqlite3_errmsg(db_) + " (in: " + sql.substr(0, 120) + ")");
      }
      cache_.emplace(sql, stmt);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      int rc = params[i] ? sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i]->data(),
                                             static_cast<int>(params[i]->size()), SQLITE_STATIC)
                         : sqlite3_bind_null(stmt, static_cast<int>(i + 1));
      if (rc != SQLITE_OK) return Status::IOError("sqlite " + path_ + ": bind: " + sqlite3_errmsg(db_));
    }
    SqlRows out;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status st = Status::IOError("sqlite " + path_ + ": " + sqlite3_errmsg(db_) + " (in: " + sql.substr(0, 120) + ")");
        sqlite3_reset(stmt);
        return st;
      }
      int n = sqlite3_column_count(stmt);
      std::vector<SqlValue> row(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
        const unsigned char* t = sqlite3_column_text(stmt, c);
        row[static_cast<size_t>(c)] = std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
      }
      out.rows.push_back(std::move(row));
    }
    out.affected = sqlite3_changes(db_);
    sqlite3_reset(stmt);  // releases the bound (static) text before `params` dies
    sqlite3_clear_bindings(stmt);
    return out;
  }

 private:
  sqlite3* db_;
  std::string path_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& spec) {
  std::string path = spec.rfind("sqlite:", 0) == 0 ? spec.substr(7) : spec;
  if (path.empty()) return Status::InvalidArgument("store: empty SQLite path");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError("store: cannot open SQLite database '" + path + "': " + msg);
  }
  auto conn = std::make_unique<SqliteConn>(db, path);
  sqlite3_busy_timeout(db, 10000);
  EL_RETURN_IF_ERROR(conn->Script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<SqlConn>(std::move(conn));
}

}  // namespace edgeloop::store
