// The on-disk format of FileSpool (spool.h), and its parsers. Kept apart from the file handling so
// that the recovery parser can be fuzzed (fuzz/agent_spool_fuzz.cc) on bytes alone.
//
// Segment file `<dir>/<first id, 20 decimal digits>.seg`:
//   header  "ELSPOOL1" (8 bytes)
//   records, back to back, each:
//     u32 body length, u32 CRC-32C of the body, body:
//       u8 kind (1 = message), u8 stream, u16 topic length, i64 id, i64 seq, i64 created_ms,
//       topic bytes, payload bytes (the rest of the body)
//   zeros to the end of the file: a segment is written full of zeros when it is created, so that
//     appending overwrites blocks the file already has (no allocation, no size change: the
//     once-a-second fdatasync then writes only the data, not the inode). A record length of 0
//     with only zeros after it is the end of the records. (Older segments end at the file's end.)
//   All integers little-endian. The ids in a segment are contiguous, starting at the id in its name.
//
// Ack state file `<dir>/acked`: two 4096-byte slots, written alternately (a torn write can only
// damage the slot being written; the other still holds the previous state). Each slot:
//   u32 magic "ELAK", u32 body length, u32 CRC-32C of the body, body:
//     u64 generation, i64 next_id, i64 next_seq[2], i64 dropped, i64 low, u32 range count,
//     ranges (i64 first, i64 last)
//   Every id below `low` is acknowledged (or dropped), and so is every id inside a range. The
//   ranges may be a subset of what was acknowledged (a message counted live is only sent again).
#ifndef EDGELOOP_AGENT_SPOOL_FORMAT_H_
#define EDGELOOP_AGENT_SPOOL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeloop::agent::spool_format {

inline constexpr std::string_view kSegmentMagic = "ELSPOOL1";
inline constexpr size_t kSegmentHeaderBytes = 8;
inline constexpr size_t kRecordHeaderBytes = 8;      // length + CRC
inline constexpr size_t kRecordFixedBodyBytes = 28;  // kind .. created_ms
inline constexpr size_t kRecordOverhead = kRecordHeaderBytes + kRecordFixedBodyBytes;
inline constexpr uint32_t kMaxBodyBytes = 64u << 20;
inline constexpr uint8_t kKindMessage = 1;
inline constexpr size_t kAckSlotBytes = 4096;
inline constexpr uint32_t kAckMagic = 0x4b414c45;  // "ELAK"
inline constexpr size_t kAckFixedBytes = 12 + 8 + 8 + 16 + 8 + 8 + 4;
inline constexpr size_t kAckMaxRanges = (kAckSlotBytes - kAckFixedBytes) / 16;

// CRC-32C (Castagnoli) with the CPU's CRC instructions where it has them.
uint32_t Crc32c(const void* data, size_t n);
// The same by table, a byte a step: the portable path, and the reference the tests compare with.
uint32_t Crc32cTable(const void* data, size_t n);

struct RecordView {
  int64_t id = 0;
  int stream = 0;
  int64_t seq = 0;
  int64_t created_ms = 0;
  std::string_view topic;
  std::string_view payload;
};

// Appends one encoded record to `out`.
void EncodeRecord(const RecordView& r, std::string* out);

// Decodes the record at the start of `data`. Returns its total size (header + body), or 0 with
// `*error` set when the bytes are not a complete, intact record.
size_t DecodeRecord(std::string_view data, RecordView* out, std::string* error);

struct SegmentScan {
  size_t valid_end = 0;  // offset just past the last intact record (>= the header when it is intact)
  int64_t records = 0;
  // Empty: the segment parsed to its end (the file's end, or a tail of zeros); else what is wrong
  // at valid_end.
  std::string error;
};

// Parses a whole segment: its header, then records whose ids must be first_id, first_id + 1, ...
// and whose streams are valid, up to the end of the data or a tail of only zeros. Calls
// `on_record(record, offset, size)` for each intact one, in order, and stops at the first damaged
// one.
SegmentScan ScanSegment(std::string_view data, int64_t first_id,
                        const std::function<void(const RecordView&, size_t, size_t)>& on_record);

struct AckState {
  uint64_t generation = 0;
  int64_t next_id = 1;
  int64_t next_seq[2] = {1, 1};
  int64_t dropped = 0;
  int64_t low = 1;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // sorted, disjoint, each first <= last, >= low
};

// One slot (kAckSlotBytes, zero-padded); the caller must have capped ranges at kAckMaxRanges.
std::string EncodeAckSlot(const AckState& state);
// Parses one slot; false with `*error` set when it is not an intact slot.
bool DecodeAckSlot(std::string_view slot, AckState* out, std::string* error);
// Both slots of an ack file: the intact one with the highest generation. False (with what is
// wrong with each slot in `*error`) when neither is intact.
bool DecodeAckFile(std::string_view data, AckState* out, std::string* error);

}  // namespace edgeloop::agent::spool_format

#endif  // EDGELOOP_AGENT_SPOOL_FORMAT_H_
