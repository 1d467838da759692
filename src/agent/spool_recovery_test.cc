// FileSpool on restart: acknowledgements, segment deletion, torn tails, damaged segments and a
// damaged ack state, on real files.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <set>

#include "agent/spool.h"
#include "agent/spool_format.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using testing_support::TempDir;

std::unique_ptr<FileSpool> OpenSpool(const std::string& path, FileSpoolOptions o = {}) {
  auto s = FileSpool::Open(path, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

int64_t PutNext(Spool& s, const std::string& payload) {
  auto id = s.Put(Stream::kResults, s.NextSeq(Stream::kResults), "t", payload, 1000);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : -1;
}

std::vector<int64_t> Seqs(Spool& s) {
  auto recs = s.ReadAfter(0, 100000);
  EXPECT_TRUE(recs.ok()) << recs.status().ToString();
  std::vector<int64_t> out;
  if (recs.ok()) {
    for (const auto& r : *recs) out.push_back(r.seq);
  }
  return out;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) == ".seg") out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

TEST(FileSpoolRecovery, AcknowledgementsSurviveReopen) {
  TempDir dir;
  {
    auto s = OpenSpool(dir.Join("spool"));
    for (int i = 0; i < 10; ++i) PutNext(*s, std::string("m").append(std::to_string(i)));
    ASSERT_TRUE(s->Remove(std::vector<int64_t>{1, 2, 3, 5, 7}).ok());  // out of order, with holes
    EXPECT_EQ(s->stats().count, 5);
  }
  auto s = OpenSpool(dir.Join("spool"));
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{4, 6, 8, 9, 10}));
  EXPECT_EQ(s->stats().count, 5);
  EXPECT_EQ(s->stats().bytes, 5 * 3);
  EXPECT_TRUE(s->recovery_notes().empty());
}

TEST(FileSpoolRecovery, AcknowledgedSegmentsAreDeleted) {
  TempDir dir;
  FileSpoolOptions o;
  o.segment_bytes = 512;
  std::vector<int64_t> ids;
  {
    auto s = OpenSpool(dir.Join("spool"), o);
    for (int i = 0; i < 60; ++i) ids.push_back(PutNext(*s, std::string(40, 'x')));
    EXPECT_GT(SegmentFiles(dir.Join("spool")).size(), 4u);
    std::vector<int64_t> all_but_last(ids.begin(), ids.end() - 1);
    ASSERT_TRUE(s->Remove(all_but_last).ok());
    // Only the active segment is left (it holds the last, unacknowledged message).
    EXPECT_EQ(s->segment_count(), 1u);
    EXPECT_EQ(SegmentFiles(dir.Join("spool")).size(), 1u);
  }
  auto s = OpenSpool(dir.Join("spool"), o);
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{60}));
  EXPECT_EQ(s->NextSeq(Stream::kResults), 61);
  // ids and seqs carry on after everything is gone, too.
  ASSERT_TRUE(s->Remove(std::vector<int64_t>{ids.back()}).ok());
  for (int i = 0; i < 20; ++i) PutNext(*s, std::string(40, 'y'));
  auto recs = s->ReadAfter(0, 100);
  ASSERT_EQ(recs->size(), 20u);
  EXPECT_EQ(recs->front().id, ids.back() + 1);
  EXPECT_EQ(recs->front().seq, 61);
}

// Segments are created full of zeros, so appends overwrite blocks the file has: the size never
// changes while the records fit, across a reopen too; a record bigger than a segment still goes in.
TEST(FileSpoolRecovery, SegmentsAreCreatedFullOfZerosAndKeepTheirSize) {
  TempDir dir;
  const std::string spool = dir.Join("spool");
  FileSpoolOptions o;
  o.segment_bytes = 4096;
  const auto only_segment_size = [&] {
    auto files = SegmentFiles(spool);
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? std::string::npos : Slurp(spool + "/" + files[0]).size();
  };
  {
    auto s = OpenSpool(spool, o);
    EXPECT_EQ(only_segment_size(), 4096u);
    for (int i = 0; i < 5; ++i) PutNext(*s, std::string(100, 'a'));
    EXPECT_EQ(only_segment_size(), 4096u);
  }
  {
    auto s = OpenSpool(spool, o);
    EXPECT_TRUE(s->recovery_notes().empty());
    for (int i = 0; i < 5; ++i) PutNext(*s, std::string(100, 'b'));
    EXPECT_EQ(only_segment_size(), 4096u);
    EXPECT_EQ(Seqs(*s).size(), 10u);
    PutNext(*s, std::string(6000, 'c'));  // does not fit: a segment of its own, bigger than 4096
    EXPECT_EQ(s->segment_count(), 2u);
    PutNext(*s, "d");
    EXPECT_EQ(s->segment_count(), 3u);
  }
  auto s = OpenSpool(spool, o);
  EXPECT_TRUE(s->recovery_notes().empty());
  EXPECT_EQ(Seqs(*s).size(), 12u);
  EXPECT_EQ(s->NextSeq(Stream::kResults), 13);
}

TEST(FileSpoolRecovery, TornTailIsCutAndWritingGoesOn) {
  TempDir dir;
  const std::string spool = dir.Join("spool");
  { auto s = OpenSpool(spool);
    for (int i = 0; i < 5; ++i) PutNext(*s, std::string("intact-").append(std::to_string(i)));
  }
  auto files = SegmentFiles(spool);
  ASSERT_EQ(files.size(), 1u);
  const std::string seg = spool + "/" + files[0];
  const std::string before = Slurp(seg);
  // The segment was created full of zeros; its five records end here.
  const size_t records_end = spool_format::ScanSegment(before, 1, [](const spool_format::RecordView&, size_t, size_t) {
                             }).valid_end;
  ASSERT_LT(records_end, before.size());
  ASSERT_EQ(before.find_first_not_of('\0', records_end), std::string::npos);
  // Half of a sixth record after them, as a crash in the middle of its write() leaves it.
  std::string record;
  spool_format::EncodeRecord({6, 0, 6, 1000, "t", "never-acknowledged"}, &record);
  std::string torn = before;
  torn.replace(records_end, record.size() / 2, record.substr(0, record.size() / 2));
  Spit(seg, torn);
  {
    auto s = OpenSpool(spool);
    ASSERT_EQ(s->recovery_notes().size(), 1u);
    EXPECT_NE(s->recovery_notes()[0].find(files[0] + ": offset " + std::to_string(records_end)), std::string::npos)
        << s->recovery_notes()[0];
    EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(Slurp(seg), before);  // the torn bytes are zeros again
    PutNext(*s, "after");
  }
  auto s = OpenSpool(spool);
  EXPECT_TRUE(s->recovery_notes().empty());
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(FileSpoolRecovery, DamagedSegmentNamesFileAndOffsetOrIsSalvaged) {
  TempDir dir;
  const std::string spool = dir.Join("spool");
  FileSpoolOptions o;
  o.segment_bytes = 300;
  {
    auto s = OpenSpool(spool, o);
    for (int i = 0; i < 30; ++i) PutNext(*s, std::string(30, static_cast<char>('a' + i % 26)));
  }
  auto files = SegmentFiles(spool);
  ASSERT_GE(files.size(), 3u);
  const std::string first = spool + "/" + files[0];
  std::string data = Slurp(first);
  const size_t record = spool_format::kRecordOverhead + 1 + 30;
  const size_t per_segment = (data.size() - spool_format::kSegmentHeaderBytes) / record;
  ASSERT_GE(per_segment, 3u);
  const size_t damaged_at = spool_format::kSegmentHeaderBytes + record;  // the second record
  data[damaged_at + spool_format::kRecordOverhead + 5] ^= 0x20;            // a payload byte
  Spit(first, data);

  auto strict = FileSpool::Open(spool, o);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kCorruption);
  EXPECT_NE(strict.status().message().find(files[0] + ": offset " + std::to_string(damaged_at) + ": record checksum"),
            std::string::npos)
      << strict.status().ToString();

  o.salvage = true;
  auto s = OpenSpool(spool, o);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->recovery_notes().size(), 1u);
  EXPECT_NE(s->recovery_notes()[0].find(files[0]), std::string::npos);
  std::vector<int64_t> seqs = Seqs(*s);
  // The first record of the damaged segment and everything in the later ones.
  ASSERT_EQ(seqs.size(), 30 - (per_segment - 1));
  EXPECT_EQ(seqs[0], 1);
  EXPECT_EQ(seqs[1], static_cast<int64_t>(per_segment) + 1);
  EXPECT_EQ(s->stats().dropped, static_cast<int64_t>(per_segment) - 1);
  EXPECT_EQ(s->NextSeq(Stream::kResults), 31);
}

TEST(FileSpoolRecovery, DamagedAckSlotFallsBackToThePreviousState) {
  TempDir dir;
  const std::string spool = dir.Join("spool");
  {
    auto s = OpenSpool(spool);
    for (int i = 0; i < 6; ++i) PutNext(*s, "m");
    ASSERT_TRUE(s->Remove(std::vector<int64_t>{1, 2}).ok());  // generation 1 -> slot 1
    ASSERT_TRUE(s->Remove(std::vector<int64_t>{3, 4}).ok());  // generation 2 -> slot 0
  }
  std::string ack = Slurp(spool + "/acked");
  ASSERT_EQ(ack.size(), 2 * spool_format::kAckSlotBytes);
  ack[20] ^= 1;  // inside slot 0's body
  Spit(spool + "/acked", ack);
  {
    auto s = OpenSpool(spool);
    // The older state: 3 and 4 are sent again (duplicates), nothing is lost.
    EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{3, 4, 5, 6}));
    EXPECT_EQ(s->NextSeq(Stream::kResults), 7);
  }
  // Both slots damaged: strict Open refuses, naming the file; salvage resends everything stored.
  Spit(spool + "/acked", std::string(2 * spool_format::kAckSlotBytes, '\x5a'));
  auto strict = FileSpool::Open(spool, {});
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("spool/acked: damaged ack state"), std::string::npos)
      << strict.status().ToString();
  FileSpoolOptions o;
  o.salvage = true;
  auto s = OpenSpool(spool, o);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->recovery_notes().size(), 1u);
  EXPECT_EQ(Seqs(*s), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(s->NextSeq(Stream::kResults), 7);
}

}  // namespace
}  // namespace edgeloop::agent
