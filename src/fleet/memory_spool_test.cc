#include "fleet/memory_spool.h"

#include <gtest/gtest.h>

namespace edgeloop::fleet {
namespace {

using agent::Stream;

TEST(MemorySpool, SeqsPerStreamIdsInOrderAndReadAfter) {
  MemorySpool s(1 << 20, 1000000);
  EXPECT_EQ(s.NextSeq(Stream::kResults), 1);
  ASSERT_EQ(*s.Put(Stream::kResults, 1, "t", "a", 0), 1);
  ASSERT_EQ(*s.Put(Stream::kAlarms, 1, "t", "b", 0), 2);
  ASSERT_EQ(*s.Put(Stream::kResults, 2, "t", "c", 0), 3);
  EXPECT_EQ(s.NextSeq(Stream::kResults), 3);
  EXPECT_EQ(s.NextSeq(Stream::kAlarms), 2);
  auto after = s.ReadAfter(1, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].payload, "b");
  EXPECT_EQ((*after)[1].seq, 2);
  EXPECT_EQ(s.ReadAfter(0, 1)->size(), 1u);
}

TEST(MemorySpool, WrongSeqIsRefusedAndConsumesNothing) {
  MemorySpool s(1 << 20, 1000000);
  auto r = s.Put(Stream::kResults, 5, "t", "x", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("seq 5 given, 1 expected"), std::string::npos);
  EXPECT_EQ(s.NextSeq(Stream::kResults), 1);
  EXPECT_EQ(s.stats().count, 0);
}

TEST(MemorySpool, RemoveAndByteBoundDropsOldest) {
  MemorySpool s(10, 1000000);  // topic + payload bytes
  ASSERT_TRUE(s.Put(Stream::kResults, 1, "t", "aaaa", 0).ok());  // 5
  ASSERT_TRUE(s.Put(Stream::kResults, 2, "t", "bbbb", 0).ok());  // 10
  ASSERT_TRUE(s.Put(Stream::kResults, 3, "t", "cccc", 0).ok());  // drops seq 1
  EXPECT_EQ(s.stats().dropped, 1);
  EXPECT_EQ(s.stats().count, 2);
  EXPECT_EQ(s.ReadAfter(0, 10)->front().seq, 2);
  EXPECT_FALSE(s.Put(Stream::kResults, 4, "t", "0123456789", 0).ok());  // bigger than the bound
  int64_t ids[] = {2, 99};
  ASSERT_TRUE(s.Remove(ids).ok());
  EXPECT_EQ(s.stats().count, 1);
  EXPECT_EQ(s.stats().bytes, 5);
}

TEST(MemorySpool, DropExpiredByAge) {
  MemorySpool s(1 << 20, 100);
  ASSERT_TRUE(s.Put(Stream::kResults, 1, "t", "a", 1000).ok());
  ASSERT_TRUE(s.Put(Stream::kResults, 2, "t", "b", 1150).ok());
  EXPECT_EQ(*s.DropExpired(1200), 1);
  EXPECT_EQ(s.ReadAfter(0, 10)->front().seq, 2);
}

}  // namespace
}  // namespace edgeloop::fleet
