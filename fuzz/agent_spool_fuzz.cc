// The spool's recovery parsers on arbitrary bytes: a segment file (records, torn tails, damaged
// lengths and checksums) and an ack state file. They must report damage, never crash or read out
// of bounds; what they accept must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/spool_format.h"

namespace fmt = edgeloop::agent::spool_format;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // As a segment (seeds start with the segment magic) whose first id is 1.
  std::string reencoded(bytes.substr(0, std::min(size, fmt::kSegmentHeaderBytes)));
  fmt::SegmentScan scan = fmt::ScanSegment(bytes, 1, [&](const fmt::RecordView& r, size_t offset, size_t n) {
    if (offset + n > size) __builtin_trap();
    fmt::EncodeRecord(r, &reencoded);
  });
  if (scan.valid_end > size) __builtin_trap();
  // Clean exactly when the records reach the end of the data or are followed by zeros only.
  const bool zero_tail = scan.valid_end <= size && bytes.find_first_not_of('\0', scan.valid_end) == std::string_view::npos;
  const bool header_ok = bytes.substr(0, fmt::kSegmentHeaderBytes) == fmt::kSegmentMagic;
  if (scan.error.empty() != (zero_tail && header_ok)) __builtin_trap();
  if (scan.valid_end >= fmt::kSegmentHeaderBytes && reencoded != bytes.substr(0, scan.valid_end)) __builtin_trap();
  // As an ack state file.
  fmt::AckState ack;
  std::string error;
  if (fmt::DecodeAckFile(bytes, &ack, &error)) {
    if (ack.ranges.size() > fmt::kAckMaxRanges) __builtin_trap();
    fmt::AckState again;
    if (!fmt::DecodeAckSlot(fmt::EncodeAckSlot(ack), &again, &error)) __builtin_trap();
    if (again.generation != ack.generation || again.low != ack.low || again.ranges != ack.ranges) __builtin_trap();
  }
  return 0;
}
