// The agent's durable store-and-forward queue. Every result and alarm is put here BEFORE it is
// handed to MQTT and leaves only when the broker acknowledged it (PUBACK), so neither a broker
// outage nor a crash of the agent loses one (Paho and libmosquitto keep nothing across a
// restart). The spool also owns the per-stream sequence numbers, so a seq is never reused.
//
// Failure contract (as Paho's iclient_persistence): Put returns OK only when the message and the
// advanced sequence number are committed (durable against a crash of the process at once, and
// against power loss from the next sync point, see FileSpoolOptions::sync_every_put); any other return
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

struct FileSpoolOptions {
  int64_t max_bytes = 100 << 20;
  int64_t max_age_ms = int64_t{168} * 3600 * 1000;
  // true: every Put fdatasyncs its segment before returning (power-safe per Put).
  // false: a Put is one copy into the page cache (a store into the shared mapping, or a write():
  // safe against a crash of the agent at once); the segment reaches the disk at each Sync() (the
  // agent calls it every second) and each rotation.
  bool sync_every_put = false;
  // A new segment file (created full of zeros, this size) is started when the next record does not
  // fit in the current one.
  int64_t segment_bytes = 256 << 10;
  // A damaged record in a segment other than the last (where a crash cannot leave one): false =
  // Open fails with Corruption naming the file and offset; true = the intact records before it are
  // kept, the ids from there to the next segment are counted as dropped, and a warning says what
  // was lost (the agent's choice: a device must keep running).
  bool salvage = false;
};

// The spool as append-only segment files in a directory (one agent per directory; the agent holds
// <data_dir>/lock): each Put copies a length-prefixed, CRC-32C-checked record after the last one
// of the current segment (created full of zeros and mapped shared: a memcpy into the page cache
// over blocks the file has, no system call); acknowledgements go to a small two-slot ack state
// file (one pwrite per Remove batch); a segment is deleted once all its messages are acknowledged or dropped. Format:
// spool_format.h. On Open a torn record at the end of the last segment (a crash in the middle of
// a write) is cut off; everything not acknowledged is live again and is sent again. See
// src/agent/README.md for the durability reasoning.
class FileSpool final : public Spool {
 public:
  // Opens or creates the spool directory `dir` (its parent must exist) and recovers its state.
  // Errors: IOError (cannot create / read / write), Corruption (damaged data, naming the file and
  // the offset; see FileSpoolOptions::salvage).
  static Result<std::unique_ptr<FileSpool>> Open(const std::string& dir, const FileSpoolOptions& options);
  ~FileSpool() override;
  FileSpool(const FileSpool&) = delete;
  FileSpool& operator=(const FileSpool&) = delete;

  int64_t NextSeq(Stream stream) const override { return next_seq_[static_cast<int>(stream)]; }
  Result<int64_t> Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                      int64_t created_ms) override;
  Result<std::vector<SpoolRecord>> ReadAfter(int64_t after_id, size_t limit) override;
  Status Remove(std::span<const int64_t> ids) override;
  Result<int64_t> DropExpired(int64_t now_ms) override;
  Status Sync() override;
  SpoolStats stats() const override { return stats_; }

  // What Open repaired or salvaged (torn tail cut, damaged segment), one line each; empty normally.
  const std::vector<std::string>& recovery_notes() const { return notes_; }
  // Segment files currently kept (for tests and the README's reasoning).
  size_t segment_count() const { return segs_.size(); }

 private:
  struct Segment {
    int64_t first_id = 0;
    std::vector<uint32_t> offsets;  // of record first_id + i
    std::vector<bool> live;
    uint32_t end = 0;               // file offset after the last intact record
    int64_t live_count = 0;
    int64_t last_id() const { return first_id + static_cast<int64_t>(offsets.size()) - 1; }
    uint32_t RecordSize(size_t i) const { return (i + 1 < offsets.size() ? offsets[i + 1] : end) - offsets[i]; }
  };
  explicit FileSpool(const FileSpoolOptions& options);
  Status Init();
  std::string SegmentPath(int64_t first_id) const;
  Status OpenActive();
  // Maps the active segment's first active_capacity_ bytes (nothing if that fails: write() then).
  void MapActive();
  void UnmapActive();
  Status Rotate();
  // The segment holding `id` and its index there, or false.
  bool Locate(int64_t id, size_t* seg, size_t* index) const;
  // Marks a live record dead; returns its message bytes.
  int64_t Kill(size_t seg, size_t index);
  // Writes the ack state into its next slot; `durable`: and fdatasyncs it.
  Status WriteAck(bool durable);
  // Deletes segments (not the active one) whose messages are all gone.
  Status Reclaim();
  Status ReadRecords(const Segment& seg, size_t from, size_t to, std::vector<SpoolRecord>* out);

  FileSpoolOptions options_;
  std::string dir_;
  std::vector<Segment> segs_;  // in id order; the last one is the active segment
  int active_fd_ = -1;
  int64_t active_capacity_ = 0;  // bytes of the active segment file (records, then its zeros)
  // The active segment mapped shared (its size when opened): a Put is a memcpy into the page cache
  // there instead of a write() system call; past it (a record bigger than a segment) write().
  char* active_map_ = nullptr;
  size_t active_map_bytes_ = 0;
  int ack_fd_ = -1;
  uint64_t ack_generation_ = 0;
  bool ack_dirty_ = false;     // the ack state on disk is behind
  bool seg_unsynced_ = false;  // writes since the last fdatasync of the active segment
  bool dir_unsynced_ = false;  // a segment was created or deleted since the last directory fsync
  int64_t next_seq_[kStreamCount] = {1, 1};
  int64_t next_id_ = 1;
  SpoolStats stats_;
  std::string buf_;            // the record being written / records being read
  std::vector<std::string> notes_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_SPOOL_H_
