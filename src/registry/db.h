// A thin SQLite layer for the registry's metadata file (DIR/registry.db): one connection, prepared
// statements, transactions and schema migrations with a version table. Every SQLite error comes
// back as a Status naming the file and the statement; nothing here throws or aborts.
//
// The database runs in WAL mode with a busy timeout, so the server and a `token` command in
// another process can use the same file at once: readers never block, writers wait their turn.
//
// Thread-safety: a Db is one SQLite connection. Callers serialise all use of a Db (and of its
// statements) with Lock(); the registry and the token store each take it around whole operations.
#ifndef EDGELOOP_REGISTRY_DB_H_
#define EDGELOOP_REGISTRY_DB_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace edgeloop::registry {

class Db;

// One prepared statement. Resource type: finalised on destruction. Must not outlive its Db.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based, as in SQLite. Binding copies the value.
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, double value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& BindNull(int index);

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done (for statements that return no rows).
  Status Run();

  // Columns are 0-based. Reading a NULL gives 0 / "".
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Status Error(const char* what) const;

  Db* db_;  // must outlive this statement
  sqlite3_stmt* stmt_;
  std::string sql_;
  Status bind_error_;  // first binding failure, reported by Step
};

class Db {
 public:
  // Opens (creating if needed) the database at `path`, in WAL mode with a `busy_timeout_ms` wait
  // for locks held by other connections. Errors: IOError naming the file.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int busy_timeout_ms = 10000);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Serialises use of this connection (see the header comment).
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mu_); }

  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  Result<Stmt> Prepare(const std::string& sql);
  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int Changes() const;

  // Brings the schema to migrations.size(): migration i (0-based) moves it from version i to
  // i+1, each in its own IMMEDIATE transaction together with the bump of the version table, so a
  // crash leaves the schema at some whole version. Safe when several processes open the file at
  // once. A database newer than this build knows is refused (Corruption).
  Status Migrate(const std::vector<std::string>& migrations);
  Result<int64_t> SchemaVersion();

  const std::string& path() const { return path_; }

 private:
  friend class Stmt;
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Error(const std::string& what) const;

  sqlite3* db_;
  std::string path_;
  std::mutex mu_;  // see Lock()
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed. The caller holds the
// Db lock for the transaction's whole life. Not copyable.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(Db* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;  // must outlive the transaction
  bool done_ = false;
};

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_DB_H_
