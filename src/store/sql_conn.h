// The one seam between the store's SQL and a database: a connection that runs parameterised
// statements inside explicit transactions. SQL is written once with '?' placeholders (SQLite's
// form); the PostgreSQL connection rewrites them to $1, $2, ... Values and results travel as
// text (NULL as nullopt), which both databases convert as the column type says.
//
// Thread-safety: none; SqlStore serialises all use of a connection with its mutex.
#ifndef EDGELOOP_STORE_SQL_CONN_H_
#define EDGELOOP_STORE_SQL_CONN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::store {

using SqlValue = std::optional<std::string>;  // nullopt = NULL
SqlValue V(int64_t v);
SqlValue V(double v);
SqlValue V(std::string v);
SqlValue V(const char* v);

struct SqlRows {
  std::vector<std::vector<SqlValue>> rows;
  int64_t affected = 0;  // rows changed by an INSERT/UPDATE/DELETE
};

enum class Dialect { kSqlite, kPostgres };

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual Dialect dialect() const = 0;
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;  // best effort; after an error
  // Runs one statement (may be a script of several when `params` is empty).
  virtual Result<SqlRows> Exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
};

// "sqlite:PATH" or PATH. Opens in WAL mode, synchronous=NORMAL (a commit survives a crash of the
// process; fsync happens at checkpoints), busy timeout 10 s.
Result<std::unique_ptr<SqlConn>> OpenSqlite(const std::string& path);
// A libpq connection string or URL ("postgresql://user@host:port/db").
Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& url);

// Cell helpers: NULL reads as 0 / "".
int64_t CellInt(const SqlValue& v);
double CellDouble(const SqlValue& v);
std::string CellText(const SqlValue& v);

}  // namespace edgeloop::store

#endif  // EDGELOOP_STORE_SQL_CONN_H_
