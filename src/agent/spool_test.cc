#include "agent/spool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using testing_support::TempDir;

std::unique_ptr<SqliteSpool> OpenSpool(const std::string& path, SqliteSpoolOptions o = {}) {
  auto s = SqliteSpool::Open(path, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

int64_t PutNext(Spool& s, Stream stream, const std::string& payload, int64_t created_ms = 1000) {
  auto id = s.Put(stream, s.NextSeq(stream), "t", payload, created_ms);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : -1;
}

TEST(SqliteSpool, PutReadRemoveInOrder) {
  TempDir dir;
  auto s = OpenSpool(dir.Join("spool.db"));
  EXPECT_EQ(s->NextSeq(Stream::kResults), 1);
  EXPECT_EQ(s->NextSeq(Stream::kAlarms), 1);
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(PutNext(*s, Stream::kResults, std::string("r").append(std::to_string(i))));
  ids.push_back(PutNext(*s, Stream::kAlarms, "a0"));
  EXPECT_EQ(s->NextSeq(Stream::kResults), 6);
  EXPECT_EQ(s->NextSeq(Stream::kAlarms), 2);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i], ids[i - 1]);
  EXPECT_EQ(s->stats().count, 6);
  EXPECT_EQ(s->stats().bytes, 6 * 1 + 6 * 2);

  auto recs = s->ReadAfter(0, 100);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 6u);
  EXPECT_EQ((*recs)[0].seq, 1);
  EXPECT_EQ((*recs)[0].payload, "r0");
  EXPECT_EQ((*recs)[5].stream, Stream::kAlarms);
  EXPECT_EQ((*recs)[5].seq, 1);
  auto after = s->ReadAfter(ids[2], 2);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].payload, "r3");

  std::vector<int64_t> gone = {ids[0], ids[1], 999999};
  ASSERT_TRUE(s->Remove(gone).ok());
  EXPECT_EQ(s->stats().count, 4);
  EXPECT_EQ(s->stats().bytes, 4 * 1 + 4 * 2);
  recs = s->ReadAfter(0, 100);
  EXPECT_EQ(recs->front().payload, "r2");
}

TEST(SqliteSpool, CountersSurviveReopenAndSeqIsNeverReused) {
  TempDir dir;
  std::vector<int64_t> ids;
  {
    auto s = OpenSpool(dir.Join("spool.db"));
    for (int i = 0; i < 10; ++i) ids.push_back(PutNext(*s, Stream::kResults, "x"));
    ASSERT_TRUE(s->Remove(ids).ok());  // everything acknowledged
    EXPECT_EQ(s->stats().count, 0);
  }
  auto s = OpenSpool(dir.Join("spool.db"));
  EXPECT_EQ(s->NextSeq(Stream::kResults), 11);  // not 1: seq 1..10 were published
  EXPECT_EQ(s->stats().count, 0);
  int64_t id = PutNext(*s, Stream::kResults, "y");
  EXPECT_GT(id, ids.back());  // ids are never reused either (a late PUBACK cannot hit a new row)
}

TEST(SqliteSpool, WrongSeqAndOversizedMessagesAreRefused) {
  TempDir dir;
  SqliteSpoolOptions o;
  o.max_bytes = 100;
  auto s = OpenSpool(dir.Join("spool.db"), o);
  auto r = s->Put(Stream::kResults, 5, "t", "x", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  r = s->Put(Stream::kResults, 1, "t", std::string(200, 'x'), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("spool.max_bytes"), std::string::npos);
  EXPECT_EQ(s->NextSeq(Stream::kResults), 1);
  EXPECT_EQ(s->stats().count, 0);
}

TEST(SqliteSpool, ByteBoundDropsOldestAndCounts) {
  TempDir dir;
  SqliteSpoolOptions o;
  o.max_bytes = 1000;
  {
    auto s = OpenSpool(dir.Join("spool.db"), o);
    // Each message: topic "t" (1) + payload 99 = 100 bytes, so 10 fit.
    for (int i = 0; i < 25; ++i) PutNext(*s, Stream::kResults, std::string(99, static_cast<char>('a' + i % 26)));
    EXPECT_EQ(s->stats().count, 10);
    EXPECT_EQ(s->stats().bytes, 1000);
    EXPECT_EQ(s->stats().dropped, 15);
    auto recs = s->ReadAfter(0, 100);
    ASSERT_EQ(recs->size(), 10u);
    EXPECT_EQ(recs->front().seq, 16);  // the oldest went first
    EXPECT_EQ(recs->back().seq, 25);
  }
  auto s = OpenSpool(dir.Join("spool.db"), o);
  EXPECT_EQ(s->stats().dropped, 15);  // persistent
  EXPECT_EQ(s->stats().count, 10);
}

TEST(SqliteSpool, AgeBoundDropsExpired) {
  TempDir dir;
  SqliteSpoolOptions o;
  o.max_age_ms = 1000;
  auto s = OpenSpool(dir.Join("spool.db"), o);
  PutNext(*s, Stream::kResults, "old", 100);
  PutNext(*s, Stream::kResults, "old", 200);
  PutNext(*s, Stream::kResults, "new", 5000);
  auto d = s->DropExpired(5500);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 2);
  EXPECT_EQ(s->stats().dropped, 2);
  EXPECT_EQ(s->stats().count, 1);
  EXPECT_EQ(*s->DropExpired(5500), 0);
}

TEST(SqliteSpool, FullDiskFollowsTheFailureContract) {
  TempDir dir;
  SqliteSpoolOptions o;
  o.max_page_count = 16;  // a real SQLITE_FULL from SQLite itself
  auto s = OpenSpool(dir.Join("spool.db"), o);
  Status failure;
  int stored = 0;
  for (int i = 0; i < 1000; ++i) {
    int64_t before = s->NextSeq(Stream::kResults);
    SpoolStats stats_before = s->stats();
    auto id = s->Put(Stream::kResults, before, "t", std::string(500, 'x'), 1);
    if (!id.ok()) {
      failure = id.status();
      // Not stored, seq not consumed, counters unchanged.
      EXPECT_EQ(s->NextSeq(Stream::kResults), before);
      EXPECT_EQ(s->stats().count, stats_before.count);
      EXPECT_EQ(s->stats().bytes, stats_before.bytes);
      break;
    }
    ++stored;
  }
  ASSERT_FALSE(failure.ok()) << "the page limit was never hit";
  EXPECT_EQ(failure.code(), StatusCode::kIOError);
  EXPECT_NE(failure.message().find("full"), std::string::npos) << failure.message();
  // Space freed by acknowledgements makes puts work again.
  auto recs = s->ReadAfter(0, 1000);
  ASSERT_EQ(static_cast<int>(recs->size()), stored);
  std::vector<int64_t> ids;
  for (const auto& r : *recs) ids.push_back(r.id);
  ASSERT_TRUE(s->Remove(ids).ok());
  EXPECT_TRUE(s->Put(Stream::kResults, s->NextSeq(Stream::kResults), "t", "x", 1).ok());
  EXPECT_EQ(s->NextSeq(Stream::kResults), stored + 2);
}

TEST(SqliteSpool, NotASpoolIsCorruption) {
  TempDir dir;
  std::ofstream(dir.Join("spool.db")) << std::string(4096, 'g');
  auto s = SqliteSpool::Open(dir.Join("spool.db"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption) << s.status().ToString();
}

// kill -9 of a process in the middle of putting: every Put that returned OK is there afterwards,
// in both durability modes (a commit is in the OS before Put returns).
class SqliteSpoolKill : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(SyncModes, SqliteSpoolKill, ::testing::Values(false, true));

TEST_P(SqliteSpoolKill, AcknowledgedPutsSurviveKill9) {
  SqliteSpoolOptions options;
  options.sync_every_put = GetParam();
  TempDir dir;
  const std::string path = dir.Join("spool.db");
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    auto s = SqliteSpool::Open(path, options);
    if (!s.ok()) ::_exit(3);
    for (;;) {
      int64_t seq = (*s)->NextSeq(Stream::kResults);
      if (!(*s)->Put(Stream::kResults, seq, "t", "payload-" + std::to_string(seq), 1).ok()) ::_exit(4);
      if (seq % 50 == 0 && !(*s)->Sync().ok()) ::_exit(6);
      if (::write(pipefd[1], &seq, sizeof seq) != sizeof seq) ::_exit(5);
    }
  }
  ::close(pipefd[1]);
  int64_t last = 0, seq;
  while (last < 300 && ::read(pipefd[0], &seq, sizeof seq) == sizeof seq) last = seq;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  while (::read(pipefd[0], &seq, sizeof seq) == sizeof seq) last = seq;  // acknowledged before the kill
  ::close(pipefd[0]);
  ASSERT_GE(last, 300);

  auto s = OpenSpool(path);
  auto recs = s->ReadAfter(0, 100000);
  ASSERT_TRUE(recs.ok());
  std::set<int64_t> seqs;
  for (const auto& r : *recs) {
    seqs.insert(r.seq);
    EXPECT_EQ(r.payload, "payload-" + std::to_string(r.seq));
  }
  for (int64_t i = 1; i <= last; ++i) EXPECT_TRUE(seqs.count(i)) << "acknowledged seq " << i << " lost";
  EXPECT_GT(s->NextSeq(Stream::kResults), last);
}

}  // namespace
}  // namespace edgeloop::agent
