// Fuzzes the collector's journal replay (src/collector/journal.cc) on whatever a crash, a full
// disk or a damaged file left in a segment: the replay must never crash, hang or leak, must keep
// only whole records whose checksum matches (so their bytes add up to no more than the file), and
// every record it returns must have been appended the way Append writes it (a re-append of the
// records replays to the same records).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "collector/journal.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const std::string& Dir() {
  static const std::string* dir = [] {
    auto* d = new std::string(std::filesystem::temp_directory_path() /
                              ("edgeloop-journal-fuzz-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*d);
    return d;
  }();
  return *dir;
}

void Clear(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove_all(e.path());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::collector;
  const std::string& dir = Dir();
  Clear(dir);
  {
    std::ofstream out(dir + "/seg-1.log", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto j = Journal::Open(dir, false);
  Check(j.ok());
  auto segments = j->ReadExisting();
  if (!segments.ok()) return 0;
  size_t bytes = 0;
  std::vector<JournalRecord> records;
  for (const auto& [path, recs] : *segments) {
    for (const auto& r : recs) {
      bytes += 12 + r.topic.size() + r.payload.size();
      records.push_back(r);
    }
  }
  Check(bytes <= size);

  // Write them again the normal way; a fresh replay gives exactly them back.
  Clear(dir);
  auto again = Journal::Open(dir, false);
  Check(again.ok());
  Check(again->Rotate().ok());
  for (const auto& r : records) Check(again->Append(r.topic, r.payload).ok());
  auto reread = Journal::Open(dir, false);
  Check(reread.ok());
  auto segs = reread->ReadExisting();
  Check(segs.ok());
  size_t i = 0;
  for (const auto& [path, recs] : *segs) {
    for (const auto& r : recs) {
      Check(i < records.size() && r.topic == records[i].topic && r.payload == records[i].payload);
      ++i;
    }
  }
  Check(i == records.size());
  return 0;
}
