// The agent's durable store-and-forward queue. Every result and alarm is put here BEFORE it is
// handed to MQTT and leaves only when the broker acknowledged it (PUBACK), so neither a broker
// outage nor a crash of the agent loses one (Paho and libmosquitto keep nothing across a
// restart). The spool also owns the per-stream sequence numbers, so a seq is never reused.
//
// Failure contract (as Paho's iclient_persistence): Put returns OK only when the message and the
// advanced sequence number are committed (durable against a crash of the process at once, and
// against power loss from the next sync point, see SqliteSpoolOptions::sync); any other return
// means the message is NOT stored and its seq was NOT consumed (the next Put gets the same seq,
// and no message with that seq was ever published). The caller counts such failures and reports
// them. Remove may fail too; the messages then stay and are sent again (a duplicate, never a loss).
//
// Bounds: `max_bytes` (topic + payload bytes of the stored messages) and `max_age_ms`, enforced
// by dropping the OLDEST messages first (any stream), counted in `dropped` (persistent). A
// message bigger than max_bytes on its own is refused (InvalidArgument), not stored.
//
// Thread-safety: not thread-safe; the agent's loop thread owns it.
#ifndef EDGELOOP_AGENT_SPOOL_H_
#define EDGELOOP_AGENT_SPOOL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::agent {

// Independent sequence spaces; each message carries the seq of its stream.
enum class Stream : int { kResults = 0, kAlarms = 1 };
inline constexpr int kStreamCount = 2;

struct SpoolRecord {
  int64_t id = 0;       // spool order; increases with every Put, never reused (even after restart)
  Stream stream = Stream::kResults;
  int64_t seq = 0;
  int64_t created_ms = 0;
  std::string topic;
  std::string payload;
};

struct SpoolStats {
  int64_t count = 0;    // messages stored
  int64_t bytes = 0;    // their topic + payload bytes
  int64_t dropped = 0;  // lifetime total dropped by the bounds
};

class Spool {
 public:
  virtual ~Spool() = default;

  // The seq the next Put of `stream` must use (>= 1).
  virtual int64_t NextSeq(Stream stream) const = 0;
  // Stores one message with seq == NextSeq(stream), first dropping the oldest messages if the byte
  // bound requires it. Returns its id. See the failure contract above.
  virtual Result<int64_t> Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                              int64_t created_ms) = 0;
  // Up to `limit` messages with id > after_id, in id order.
  virtual Result<std::vector<SpoolRecord>> ReadAfter(int64_t after_id, size_t limit) = 0;
  // Deletes acknowledged messages (ids not present are ignored).
  virtual Status Remove(std::span<const int64_t> ids) = 0;
  // Drops messages created before now_ms - max_age; returns how many.
  virtual Result<int64_t> DropExpired(int64_t now_ms) = 0;
  // A durability point: everything committed so far survives power loss once this returns OK.
  // Cheap when nothing was written since the last one.
  virtual Status Sync() = 0;
  virtual SpoolStats stats() const = 0;
};

struct SqliteSpoolOptions {
  int64_t max_bytes = 100 << 20;
  int64_t max_age_ms = int64_t{168} * 3600 * 1000;
  // true: synchronous=FULL, every commit fsyncs the WAL (power-safe per Put, one fsync each).
  // false: synchronous=NORMAL, commits reach the OS at once (safe against a crash of the agent)
  // and the disk at each Sync() (the agent calls it every second) and each checkpoint.
  bool sync_every_put = false;
  // Test seam: limits the database file to this many pages so that a full disk can be produced
  // with the real SQLite (SQLITE_FULL). 0 = no limit.
  int64_t max_page_count = 0;
};

// The spool as a SQLite database in WAL mode, exclusive locking (one agent per data directory):
// each Put is one small transaction (one table page in the WAL; sequence numbers and ids are
// recovered from the rows and from counters written only when rows are deleted); the WAL is
// checkpointed into the main file automatically. See src/agent/README.md for the durability
// reasoning.
class SqliteSpool final : public Spool {
 public:
  // Opens or creates the database at `path` (its directory must exist) and recovers the counters.
  // Errors: IOError (cannot open / not writable), Corruption (not a spool database).
  static Result<std::unique_ptr<SqliteSpool>> Open(const std::string& path, const SqliteSpoolOptions& options);
  ~SqliteSpool() override;
  SqliteSpool(const SqliteSpool&) = delete;
  SqliteSpool& operator=(const SqliteSpool&) = delete;

  int64_t NextSeq(Stream stream) const override { return next_seq_[static_cast<int>(stream)]; }
  Result<int64_t> Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                      int64_t created_ms) override;
  Result<std::vector<SpoolRecord>> ReadAfter(int64_t after_id, size_t limit) override;
  Status Remove(std::span<const int64_t> ids) override;
  Result<int64_t> DropExpired(int64_t now_ms) override;
  Status Sync() override;
  SpoolStats stats() const override { return stats_; }

 private:
  struct Db;
  explicit SqliteSpool(const SqliteSpoolOptions& options);
  Status Init(const std::string& path);
  Status Exec(const char* sql);
  Status Error(const char* what) const;
  Status DropOldest(int64_t need_bytes, int64_t* dropped_count, int64_t* freed_bytes);
  Status SaveMeta(const char* key, int64_t value);
  // Inside a transaction that deletes rows: keeps the counters the deleted rows carried.
  Status SaveCountersForDelete(int64_t dropped_total);
  Status Begin();
  Status Commit();
  void Rollback();

  SqliteSpoolOptions options_;
  std::unique_ptr<Db> db_;
  std::string path_;
  int64_t next_seq_[kStreamCount] = {1, 1};
  int64_t next_id_ = 1;
  bool unsynced_ = false;  // commits since the last Sync
  SpoolStats stats_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_SPOOL_H_
