#include "agent/spool_format.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#if defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#endif

namespace edgeloop::agent::spool_format {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;  // Castagnoli, reflected
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void PutU16(std::string* out, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out->append(b, 2);
}
void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
void SetU32(std::string* out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}
uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

uint32_t Crc32cTable(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

// The CPU's CRC-32C instructions (SSE4.2 crc32, ARMv8 crc32c*): 8 bytes a step instead of a table
// lookup per byte; the table loop was a few percent of the agent's CPU at 10 Hz.
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t Crc32cHw(const unsigned char* p, size_t n) {
  uint64_t c = 0xffffffffu;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32 ^ 0xffffffffu;
}
static bool HaveCrcInstructions() { return __builtin_cpu_supports("sse4.2"); }
#elif defined(__aarch64__) && defined(__linux__) && defined(HWCAP_CRC32)
__attribute__((target("+crc"))) static uint32_t Crc32cHw(const unsigned char* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __crc32cd(c, v);
  }
  for (; n > 0; --n, ++p) c = __crc32cb(c, *p);
  return c ^ 0xffffffffu;
}
static bool HaveCrcInstructions() { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
#else
static uint32_t Crc32cHw(const unsigned char* p, size_t n) { return Crc32cTable(p, n); }
static bool HaveCrcInstructions() { return false; }
#endif

uint32_t Crc32c(const void* data, size_t n) {
  static const bool hw = HaveCrcInstructions();
  return hw ? Crc32cHw(static_cast<const unsigned char*>(data), n) : Crc32cTable(data, n);
}

void EncodeRecord(const RecordView& r, std::string* out) {
  const size_t start = out->size();
  const size_t body = kRecordFixedBodyBytes + r.topic.size() + r.payload.size();
  out->reserve(start + kRecordHeaderBytes + body);
  PutU32(out, static_cast<uint32_t>(body));
  PutU32(out, 0);  // CRC, below
  out->push_back(static_cast<char>(kKindMessage));
  out->push_back(static_cast<char>(r.stream));
  PutU16(out, static_cast<uint16_t>(r.topic.size()));
  PutU64(out, static_cast<uint64_t>(r.id));
  PutU64(out, static_cast<uint64_t>(r.seq));
  PutU64(out, static_cast<uint64_t>(r.created_ms));
  out->append(r.topic);
  out->append(r.payload);
  SetU32(out, start + 4, Crc32c(out->data() + start + kRecordHeaderBytes, body));
}

size_t DecodeRecord(std::string_view data, RecordView* out, std::string* error) {
  if (data.size() < kRecordHeaderBytes) {
    *error = "truncated record header (" + std::to_string(data.size()) + " bytes)";
    return 0;
  }
  const uint32_t body = static_cast<uint32_t>(GetLe(data.data(), 4));
  const uint32_t crc = static_cast<uint32_t>(GetLe(data.data() + 4, 4));
  if (body < kRecordFixedBodyBytes || body > kMaxBodyBytes) {
    *error = "bad record length " + std::to_string(body);
    return 0;
  }
  if (data.size() - kRecordHeaderBytes < body) {
    *error = "truncated record (" + std::to_string(body) + " body bytes announced, " +
             std::to_string(data.size() - kRecordHeaderBytes) + " present)";
    return 0;
  }
  const char* b = data.data() + kRecordHeaderBytes;
  if (Crc32c(b, body) != crc) {
    *error = "record checksum mismatch";
    return 0;
  }
  if (static_cast<uint8_t>(b[0]) != kKindMessage) {
    *error = "unknown record kind " + std::to_string(static_cast<uint8_t>(b[0]));
    return 0;
  }
  const int stream = static_cast<uint8_t>(b[1]);
  const size_t topic_len = GetLe(b + 2, 2);
  if (stream > 1) {
    *error = "bad stream " + std::to_string(stream);
    return 0;
  }
  if (topic_len > body - kRecordFixedBodyBytes) {
    *error = "topic length " + std::to_string(topic_len) + " exceeds the record";
    return 0;
  }
  out->stream = stream;
  out->id = static_cast<int64_t>(GetLe(b + 4, 8));
  out->seq = static_cast<int64_t>(GetLe(b + 12, 8));
  out->created_ms = static_cast<int64_t>(GetLe(b + 20, 8));
  out->topic = std::string_view(b + kRecordFixedBodyBytes, topic_len);
  out->payload = std::string_view(b + kRecordFixedBodyBytes + topic_len, body - kRecordFixedBodyBytes - topic_len);
  if (out->seq < 1) {
    *error = "bad seq " + std::to_string(out->seq);
    return 0;
  }
  return kRecordHeaderBytes + body;
}

SegmentScan ScanSegment(std::string_view data, int64_t first_id,
                        const std::function<void(const RecordView&, size_t, size_t)>& on_record) {
  SegmentScan scan;
  if (data.size() < kSegmentHeaderBytes || data.substr(0, kSegmentHeaderBytes) != kSegmentMagic) {
    scan.error = data.size() < kSegmentHeaderBytes ? "truncated segment header" : "not a spool segment (bad magic)";
    return scan;
  }
  size_t off = kSegmentHeaderBytes;
  int64_t expect = first_id;
  while (off < data.size()) {
    if (data.size() - off < 4 || GetLe(data.data() + off, 4) == 0) {
      // The zeros a segment is created with, after its last record; anything else is a torn record.
      if (data.find_first_not_of('\0', off) == std::string_view::npos) break;
    }
    RecordView r;
    std::string error;
    const size_t n = DecodeRecord(data.substr(off), &r, &error);
    if (n == 0) {
      scan.valid_end = off;
      scan.error = error;
      return scan;
    }
    if (r.id != expect) {
      scan.valid_end = off;
      scan.error = "record id " + std::to_string(r.id) + " where " + std::to_string(expect) + " was expected";
      return scan;
    }
    on_record(r, off, n);
    ++expect;
    ++scan.records;
    off += n;
  }
  scan.valid_end = off;
  return scan;
}

std::string EncodeAckSlot(const AckState& s) {
  std::string out;
  out.reserve(kAckSlotBytes);
  PutU32(&out, kAckMagic);
  PutU32(&out, 0);  // body length
  PutU32(&out, 0);  // CRC
  PutU64(&out, s.generation);
  PutU64(&out, static_cast<uint64_t>(s.next_id));
  PutU64(&out, static_cast<uint64_t>(s.next_seq[0]));
  PutU64(&out, static_cast<uint64_t>(s.next_seq[1]));
  PutU64(&out, static_cast<uint64_t>(s.dropped));
  PutU64(&out, static_cast<uint64_t>(s.low));
  PutU32(&out, static_cast<uint32_t>(s.ranges.size()));
  for (const auto& [first, last] : s.ranges) {
    PutU64(&out, static_cast<uint64_t>(first));
    PutU64(&out, static_cast<uint64_t>(last));
  }
  const size_t body = out.size() - 12;
  SetU32(&out, 4, static_cast<uint32_t>(body));
  SetU32(&out, 8, Crc32c(out.data() + 12, body));
  out.resize(kAckSlotBytes, '\0');
  return out;
}

bool DecodeAckSlot(std::string_view slot, AckState* out, std::string* error) {
  if (slot.size() < kAckFixedBytes) {
    *error = "truncated";
    return false;
  }
  if (static_cast<uint32_t>(GetLe(slot.data(), 4)) != kAckMagic) {
    *error = "bad magic";
    return false;
  }
  const uint64_t body = GetLe(slot.data() + 4, 4);
  if (body < kAckFixedBytes - 12 || body > slot.size() - 12) {
    *error = "bad length " + std::to_string(body);
    return false;
  }
  const char* b = slot.data() + 12;
  if (Crc32c(b, body) != static_cast<uint32_t>(GetLe(slot.data() + 8, 4))) {
    *error = "checksum mismatch";
    return false;
  }
  AckState s;
  s.generation = GetLe(b, 8);
  s.next_id = static_cast<int64_t>(GetLe(b + 8, 8));
  s.next_seq[0] = static_cast<int64_t>(GetLe(b + 16, 8));
  s.next_seq[1] = static_cast<int64_t>(GetLe(b + 24, 8));
  s.dropped = static_cast<int64_t>(GetLe(b + 32, 8));
  s.low = static_cast<int64_t>(GetLe(b + 40, 8));
  const uint64_t n = GetLe(b + 48, 4);
  if (n > (body - (kAckFixedBytes - 12)) / 16) {
    *error = "range count " + std::to_string(n) + " exceeds the slot";
    return false;
  }
  if (s.next_id < 1 || s.next_seq[0] < 1 || s.next_seq[1] < 1 || s.dropped < 0 || s.low < 1 || s.low > s.next_id) {
    *error = "counters out of range";
    return false;
  }
  int64_t prev = s.low - 1;
  for (uint64_t i = 0; i < n; ++i) {
    const int64_t first = static_cast<int64_t>(GetLe(b + 52 + 16 * i, 8));
    const int64_t last = static_cast<int64_t>(GetLe(b + 60 + 16 * i, 8));
    if (first <= prev || last < first || last >= s.next_id) {
      *error = "range " + std::to_string(i) + " out of order";
      return false;
    }
    s.ranges.emplace_back(first, last);
    prev = last;
  }
  *out = std::move(s);
  return true;
}

bool DecodeAckFile(std::string_view data, AckState* out, std::string* error) {
  AckState slots[2];
  std::string errors[2];
  bool ok[2];
  for (int i = 0; i < 2; ++i) {
    const size_t at = static_cast<size_t>(i) * kAckSlotBytes;
    std::string_view slot = at < data.size() ? data.substr(at, kAckSlotBytes) : std::string_view();
    ok[i] = DecodeAckSlot(slot, &slots[i], &errors[i]);
  }
  if (!ok[0] && !ok[1]) {
    *error = "slot 0: " + errors[0] + "; slot 1: " + errors[1];
    return false;
  }
  const int best = !ok[0] ? 1 : !ok[1] ? 0 : (slots[1].generation > slots[0].generation ? 1 : 0);
  *out = std::move(slots[best]);
  return true;
}

}  // namespace edgeloop::agent::spool_format
