// The collector's journal: every message the broker hands over is appended here before the MQTT
// callback returns (and so before Paho sends the PUBACK), and removed only once the batch holding
// it is committed to the store. A crash between the two leaves it here; the next start replays it.
//
// Layout: DIR/seg-<n>.log, records [u32 topic_len][u32 payload_len][u32 fnv1a(topic+payload)]
// [topic][payload], little endian. A torn or damaged tail (a crash mid-write) ends the segment's
// replay; what precedes it is kept.
//
// Durability: Append is one write(2): it survives a crash of the process. With `fsync` set each
// append is also fsync'd (survives power loss, at a large cost per message).
//
// Thread-safety: not thread-safe; the collector calls it under its mutex.
#ifndef EDGELOOP_COLLECTOR_JOURNAL_H_
#define EDGELOOP_COLLECTOR_JOURNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::collector {

struct JournalRecord {
  std::string topic;
  std::string payload;
};

class Journal {
 public:
  // Creates DIR if needed; does not open a segment (call ReadExisting, then Rotate).
  static Result<Journal> Open(const std::string& dir, bool fsync);
  Journal(Journal&& o) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;
  ~Journal();

  // Segments left by an earlier run, oldest first, with their records.
  Result<std::vector<std::pair<std::string, std::vector<JournalRecord>>>> ReadExisting();
  // Closes the current segment (if any), opens a fresh one, returns the closed segment's path ("" if
  // none). Errors: IOError.
  Result<std::string> Rotate();
  Status Append(std::string_view topic, std::string_view payload);
  // Appends all records with one write(2) (the collector's wire path: one per read from the
  // broker, before any of them is acknowledged). A failed or short write leaves a torn tail that
  // replay ignores; the caller then must not acknowledge them.
  Status AppendAll(const std::vector<JournalRecord>& records);
  // Removes a segment whose records are all committed.
  static Status Remove(const std::string& path);

 private:
  Journal(std::string dir, bool fsync) : dir_(std::move(dir)), fsync_(fsync) {}
  std::string dir_;
  bool fsync_;
  int fd_ = -1;
  std::string current_;
  uint64_t next_ = 1;
  std::string buffer_;  // AppendAll's encoding, reused
};

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_JOURNAL_H_
