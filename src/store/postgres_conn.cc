// SqlConn over PostgreSQL with libpqxx. libpqxx throws; every exception stops here and comes back
// as a Status carrying what().
#include <pqxx/pqxx>

#include "store/sql_conn.h"

namespace edgeloop::store {
namespace {

// '?' -> $1, $2, ... (the store's SQL has no '?' inside string literals).
std::string Numbered(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

class PostgresConn : public SqlConn {
 public:
  explicit PostgresConn(std::unique_ptr<pqxx::connection> c) : conn_(std::move(c)) {}
  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Begin() override {
    try {
      tx_ = std::make_unique<pqxx::work>(*conn_);
      return Status::Ok();
    } catch (const std::exception& e) {
      return Status::IOError(std::string("postgresql: begin: ") + e.what());
    }
  }
  Status Commit() override {
    try {
      if (tx_) tx_->commit();
      tx_.reset();
      return Status::Ok();
    } catch (const std::exception& e) {
      tx_.reset();
      return Status::IOError(std::string("postgresql: commit: ") + e.what());
    }
  }
  void Rollback() override {
    try {
      if (tx_) tx_->abort();
    } catch (const std::exception&) {
      // The connection may be gone; nothing else to undo.
    }
    tx_.reset();
  }

  Result<SqlRows> Exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    try {
      std::unique_ptr<pqxx::nontransaction> auto_tx;
      pqxx::transaction_base* tx = tx_.get();
      if (tx == nullptr) {
        auto_tx = std::make_unique<pqxx::nontransaction>(*conn_);
        tx = auto_tx.get();
      }
      pqxx::result r;
      if (params.empty()) {
        r = tx->exec(sql);
      } else {
        std::vector<const char*> p;
        p.reserve(params.size());
        for (const SqlValue& v : params) p.push_back(v ? v->c_str() : nullptr);
        r = tx->exec_params(Numbered(sql), pqxx::prepare::make_dynamic_params(p));
      }
      SqlRows out;
      out.affected = static_cast<int64_t>(r.affected_rows());
      out.rows.reserve(r.size());
      for (const auto& row : r) {
        std::vector<SqlValue> cells(row.size());
        for (pqxx::row::size_type c = 0; c < row.size(); ++c) {
          if (!row[c].is_null()) cells[c] = std::string(row[c].c_str(), row[c].size());
        }
        out.rows.push_back(std::move(cells));
      }
      return out;
    } catch (const std::exception& e) {
      return Status::IOError(std::string("postgresql: ") + e.what() + " (in: " + sql.substr(0, 120) + ")");
    }
  }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> tx_;  // the open transaction, if any
};

}  // namespace

Result<std::unique_ptr<SqlConn>> OpenPostgres(const std::string& url) {
  try {
    auto c = std::make_unique<pqxx::connection>(url);
    auto conn = std::make_unique<PostgresConn>(std::move(c));
    return std::unique_ptr<SqlConn>(std::move(conn));
  } catch (const std::exception& e) {
    return Status::IOError(std::string("store: cannot connect to PostgreSQL: ") + e.what());
  }
}

}  // namespace edgeloop::store
