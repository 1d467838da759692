#include "agent/spool.h"

#include <sqlite3.h>

#include <algorithm>

namespace edgeloop::agent {
namespace {

constexpr const char* kSeqKeys[kStreamCount] = {"next_seq_results", "next_seq_alarms"};
constexpr const char* kNextIdKey = "next_id";
constexpr const char* kDroppedKey = "dropped";

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

}  // namespace

struct SqliteSpool::Db {
  sqlite3* handle = nullptr;
  Stmt insert, read_after, remove, meta_put, oldest, drop_expired, begin, commit;
  ~Db() {
    begin.reset();
    commit.reset();
    insert.reset();
    read_after.reset();
    remove.reset();
    meta_put.reset();
    oldest.reset();
    drop_expired.reset();
    if (handle != nullptr) sqlite3_close(handle);
  }
  Result<Stmt> Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      return Status::IOError(std::string("spool: prepare: ") + sqlite3_errmsg(handle));
    }
    return Stmt(s);
  }
};

SqliteSpool::SqliteSpool(const SqliteSpoolOptions& options) : options_(options), db_(std::make_unique<Db>()) {}
SqliteSpool::~SqliteSpool() = default;

Status SqliteSpool::Error(const char* what) const {
  int code = sqlite3_extended_errcode(db_->handle) & 0xff;
  std::string msg = "spool " + path_ + ": " + what + ": " + sqlite3_errmsg(db_->handle);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::Corruption(msg);
  if (code == SQLITE_FULL) return Status::IOError(msg + " (disk full)");
  return Status::IOError(msg);
}

Status SqliteSpool::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_->handle, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "?";
    sqlite3_free(err);
    Status st = Error(sql);
    return st.code() == StatusCode::kCorruption ? st : Status::IOError("spool " + path_ + ": " + sql + ": " + msg);
  }
  return Status::Ok();
}

void SqliteSpool::Rollback() {
  if (!sqlite3_get_autocommit(db_->handle)) sqlite3_exec(db_->handle, "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<std::unique_ptr<SqliteSpool>> SqliteSpool::Open(const std::string& path, const SqliteSpoolOptions& options) {
  std::unique_ptr<SqliteSpool> s(new SqliteSpool(options));
  EL_RETURN_IF_ERROR(s->Init(path));
  return s;
}

Status SqliteSpool::Init(const std::string& path) {
  path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db_->handle,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_->handle != nullptr ? sqlite3_errmsg(db_->handle) : sqlite3_errstr(rc);
    return Status::IOError("spool " + path + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(db_->handle, 2000);
  // Exclusive locking: one agent owns the directory (it holds <data_dir>/lock), so SQLite can keep
  // its lock and its WAL index in memory instead of taking file locks for every transaction.
  EL_RETURN_IF_ERROR(Exec("PRAGMA locking_mode=EXCLUSIVE"));
  EL_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  EL_RETURN_IF_ERROR(Exec(options_.sync_every_put ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  EL_RETURN_IF_ERROR(Exec("PRAGMA cache_size=-256"));  // 256 KiB: the agent must stay small
  EL_RETURN_IF_ERROR(Exec("PRAGMA journal_size_limit=4194304"));
  // ids are assigned here (never reused, even after every row was deleted: a late PUBACK must not
  // delete a newer row), so no AUTOINCREMENT bookkeeping page is written per insert.
  EL_RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS spool(id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, "
      "seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, topic BLOB NOT NULL, payload BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"));
  if (options_.max_page_count > 0) {
    std::string pragma = "PRAGMA max_page_count=" + std::to_string(options_.max_page_count);
    EL_RETURN_IF_ERROR(Exec(pragma.c_str()));
  }

  // Recover counters: the meta rows, and (defensively) never below what the spool holds.
  {
    EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT key, value FROM meta"));
    while ((sqlite3_step(q.get())) == SQLITE_ROW) {
      std::string key = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
      int64_t value = sqlite3_column_int64(q.get(), 1);
      for (int i = 0; i < kStreamCount; ++i) {
        if (key == kSeqKeys[i]) next_seq_[i] = std::max<int64_t>(1, value);
      }
      if (key == kNextIdKey) next_id_ = std::max<int64_t>(1, value);
      if (key == kDroppedKey) stats_.dropped = value;
    }
  }
  {
    EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT stream, MAX(seq) FROM spool GROUP BY stream"));
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      int stream = sqlite3_column_int(q.get(), 0);
      if (stream >= 0 && stream < kStreamCount) {
        next_seq_[stream] = std::max<int64_t>(next_seq_[stream], sqlite3_column_int64(q.get(), 1) + 1);
      }
    }
  }
  {
    EL_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT COUNT(*), COALESCE(SUM(length(topic) + length(payload)), 0), "
                                             "COALESCE(MAX(id), 0) FROM spool"));
    if (sqlite3_step(q.get()) != SQLITE_ROW) return Error("count");
    stats_.count = sqlite3_column_int64(q.get(), 0);
    stats_.bytes = sqlite3_column_int64(q.get(), 1);
    next_id_ = std::max<int64_t>(next_id_, sqlite3_column_int64(q.get(), 2) + 1);
  }
  EL_ASSIGN_OR_RETURN(db_->insert,
                      db_->Prepare("INSERT INTO spool(id, stream, seq, created_ms, topic, payload) VALUES(?,?,?,?,?,?)"));
  EL_ASSIGN_OR_RETURN(db_->begin, db_->Prepare("BEGIN IMMEDIATE"));
  EL_ASSIGN_OR_RETURN(db_->commit, db_->Prepare("COMMIT"));
  EL_ASSIGN_OR_RETURN(db_->read_after, db_->Prepare("SELECT id, stream, seq, created_ms, topic, payload FROM spool "
                                                    "WHERE id > ? ORDER BY id LIMIT ?"));
  EL_ASSIGN_OR_RETURN(db_->remove,
                      db_->Prepare("DELETE FROM spool WHERE id = ? RETURNING length(topic) + length(payload)"));
  EL_ASSIGN_OR_RETURN(db_->meta_put, db_->Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"));
  EL_ASSIGN_OR_RETURN(db_->oldest, db_->Prepare("SELECT id, created_ms, length(topic) + length(payload) FROM spool "
                                                "ORDER BY id LIMIT 64"));
  EL_ASSIGN_OR_RETURN(db_->drop_expired, db_->Prepare("DELETE FROM spool WHERE created_ms < ? "
                                                      "RETURNING length(topic) + length(payload)"));
  return Status::Ok();
}

Status SqliteSpool::SaveMeta(const char* key, int64_t value) {
  sqlite3_stmt* s = db_->meta_put.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, value);
  if (sqlite3_step(s) != SQLITE_DONE) return Error("save counter");
  return Status::Ok();
}

Status SqliteSpool::SaveCountersForDelete(int64_t dropped_total) {
  // The deleted rows may have carried the highest seq or id: keep them so none is ever reused.
  for (int i = 0; i < kStreamCount; ++i) EL_RETURN_IF_ERROR(SaveMeta(kSeqKeys[i], next_seq_[i]));
  EL_RETURN_IF_ERROR(SaveMeta(kNextIdKey, next_id_));
  return SaveMeta(kDroppedKey, dropped_total);
}

Status SqliteSpool::Begin() {
  sqlite3_stmt* s = db_->begin.get();
  sqlite3_reset(s);
  if (sqlite3_step(s) != SQLITE_DONE) return Error("begin");
  return Status::Ok();
}

Status SqliteSpool::Commit() {
  sqlite3_stmt* s = db_->commit.get();
  sqlite3_reset(s);
  if (sqlite3_step(s) != SQLITE_DONE) {
    Status st = Error("commit");
    Rollback();
    return st;
  }
  unsynced_ = true;
  return Status::Ok();
}

Status SqliteSpool::Sync() {
  if (!unsynced_ || options_.sync_every_put) return Status::Ok();
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db_->handle, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || wal == nullptr ||
      wal->pMethods == nullptr) {
    return Status::Ok();  // no WAL file open (nothing written yet)
  }
  if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK) return Error("sync");
  unsynced_ = false;
  return Status::Ok();
}

// Deletes the oldest messages until `need_bytes` more fit under max_bytes. Inside a transaction;
// `stats_` is not touched (the caller applies the changes after COMMIT).
Status SqliteSpool::DropOldest(int64_t need_bytes, int64_t* dropped_count, int64_t* freed_bytes) {
  int64_t bytes = stats_.bytes;
  *dropped_count = 0;
  std::vector<std::pair<int64_t, int64_t>> victims;  // id, bytes
  while (bytes + need_bytes > options_.max_bytes) {
    victims.clear();
    sqlite3_stmt* q = db_->oldest.get();
    sqlite3_reset(q);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) victims.emplace_back(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 2));
    if (rc != SQLITE_DONE) return Error("find oldest");
    if (victims.empty()) break;
    for (const auto& [id, size] : victims) {
      if (bytes + need_bytes <= options_.max_bytes) break;
      sqlite3_stmt* d = db_->remove.get();
      sqlite3_reset(d);
      sqlite3_bind_int64(d, 1, id);
      rc = sqlite3_step(d);
      while (rc == SQLITE_ROW) rc = sqlite3_step(d);
      if (rc != SQLITE_DONE) return Error("drop oldest");
      bytes -= size;
      ++*dropped_count;
    }
  }
  *freed_bytes = stats_.bytes - bytes;
  return Status::Ok();
}

Result<int64_t> SqliteSpool::Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                                 int64_t created_ms) {
  const int si = static_cast<int>(stream);
  if (seq != next_seq_[si]) {
    return Status::InvalidArgument("spool: seq " + std::to_string(seq) + " is not the next one (" +
                                   std::to_string(next_seq_[si]) + ")");
  }
  const int64_t size = static_cast<int64_t>(topic.size() + payload.size());
  if (size > options_.max_bytes) {
    return Status::InvalidArgument("spool: a message of " + std::to_string(size) + " bytes exceeds spool.max_bytes (" +
                                   std::to_string(options_.max_bytes) + ")");
  }
  EL_RETURN_IF_ERROR(Begin());
  auto fail = [&](Status st) -> Result<int64_t> {
    Rollback();
    return st;
  };
  int64_t dropped = 0, freed = 0;
  if (stats_.bytes + size > options_.max_bytes) {
    Status st = DropOldest(size, &dropped, &freed);
    if (st.ok() && dropped > 0) st = SaveCountersForDelete(stats_.dropped + dropped);
    if (!st.ok()) return fail(st);
  }
  const int64_t id = next_id_;
  sqlite3_stmt* s = db_->insert.get();
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int(s, 2, si);
  sqlite3_bind_int64(s, 3, seq);
  sqlite3_bind_int64(s, 4, created_ms);
  sqlite3_bind_blob(s, 5, topic.data(), static_cast<int>(topic.size()), SQLITE_STATIC);
  sqlite3_bind_blob(s, 6, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_DONE) return fail(Error("insert"));
  EL_RETURN_IF_ERROR(Commit());
  // Committed: apply the in-memory changes. (The row itself carries its seq and id; the counters
  // in `meta` are only written when rows are deleted.)
  next_seq_[si] = seq + 1;
  next_id_ = id + 1;
  stats_.count += 1 - dropped;
  stats_.bytes += size - freed;
  stats_.dropped += dropped;
  return id;
}

Result<std::vector<SpoolRecord>> SqliteSpool::ReadAfter(int64_t after_id, size_t limit) {
  std::vector<SpoolRecord> out;
  sqlite3_stmt* q = db_->read_after.get();
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, after_id);
  sqlite3_bind_int64(q, 2, static_cast<int64_t>(limit));
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    SpoolRecord r;
    r.id = sqlite3_column_int64(q, 0);
    int stream = sqlite3_column_int(q, 1);
    r.stream = stream == 1 ? Stream::kAlarms : Stream::kResults;
    r.seq = sqlite3_column_int64(q, 2);
    r.created_ms = sqlite3_column_int64(q, 3);
    r.topic.assign(static_cast<const char*>(sqlite3_column_blob(q, 4)), static_cast<size_t>(sqlite3_column_bytes(q, 4)));
    const void* p = sqlite3_column_blob(q, 5);
    if (p != nullptr) r.payload.assign(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(q, 5)));
    out.push_back(std::move(r));
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return Error("read");
  return out;
}

Status SqliteSpool::Remove(std::span<const int64_t> ids) {
  if (ids.empty()) return Status::Ok();
  EL_RETURN_IF_ERROR(Begin());
  int64_t removed = 0, bytes = 0;
  for (int64_t id : ids) {
    sqlite3_stmt* d = db_->remove.get();
    sqlite3_reset(d);
    sqlite3_bind_int64(d, 1, id);
    int rc;
    while ((rc = sqlite3_step(d)) == SQLITE_ROW) {
      ++removed;
      bytes += sqlite3_column_int64(d, 0);
    }
    if (rc != SQLITE_DONE) {
      Status st = Error("remove");
      Rollback();
      return st;
    }
  }
  Status st = SaveCountersForDelete(stats_.dropped);
  if (!st.ok()) {
    Rollback();
    return st;
  }
  EL_RETURN_IF_ERROR(Commit());
  stats_.count -= removed;
  stats_.bytes -= bytes;
  return Status::Ok();
}

Result<int64_t> SqliteSpool::DropExpired(int64_t now_ms) {
  const int64_t cutoff = now_ms - options_.max_age_ms;
  // Cheap check first: the oldest messages come first in id order (clock jumps aside).
  {
    sqlite3_stmt* q = db_->oldest.get();
    sqlite3_reset(q);
    int rc = sqlite3_step(q);
    bool any_old = rc == SQLITE_ROW && sqlite3_column_int64(q, 1) < cutoff;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("find oldest");
    if (!any_old) return int64_t{0};
  }
  EL_RETURN_IF_ERROR(Begin());
  sqlite3_stmt* d = db_->drop_expired.get();
  sqlite3_reset(d);
  sqlite3_bind_int64(d, 1, cutoff);
  int64_t dropped = 0, bytes = 0;
  int rc;
  while ((rc = sqlite3_step(d)) == SQLITE_ROW) {
    ++dropped;
    bytes += sqlite3_column_int64(d, 0);
  }
  if (rc != SQLITE_DONE) {
    Status st = Error("drop expired");
    Rollback();
    return st;
  }
  Status st = SaveCountersForDelete(stats_.dropped + dropped);
  if (!st.ok()) {
    Rollback();
    return st;
  }
  EL_RETURN_IF_ERROR(Commit());
  stats_.count -= dropped;
  stats_.bytes -= bytes;
  stats_.dropped += dropped;
  return dropped;
}

}  // namespace edgeloop::agent
