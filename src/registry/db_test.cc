#include "registry/db.h"

#include <gtest/gtest.h>

#include <thread>

#include "test/support/temp_dir.h"

namespace edgeloop::registry {
namespace {

TEST(Db, MigratesOnceAndRefusesNewerSchema) {
  testing_support::TempDir dir;
  std::vector<std::string> migrations = {"CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y TEXT)"};
  {
    auto db = Db::Open(dir.Join("t.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Migrate({migrations[0]}).ok());
    EXPECT_EQ(*(*db)->SchemaVersion(), 1);
    // Re-running is a no-op, a longer list applies only what is new.
    ASSERT_TRUE((*db)->Migrate(migrations).ok());
    ASSERT_TRUE((*db)->Migrate(migrations).ok());
    EXPECT_EQ(*(*db)->SchemaVersion(), 2);
  }
  auto db = Db::Open(dir.Join("t.db"));
  ASSERT_TRUE(db.ok());
  Status older = (*db)->Migrate({migrations[0]});
  EXPECT_EQ(older.code(), StatusCode::kCorruption) << older.ToString();
}

TEST(Db, FailedMigrationLeavesPreviousVersion) {
  testing_support::TempDir dir;
  auto db = Db::Open(dir.Join("t.db"));
  ASSERT_TRUE(db.ok());
  Status s = (*db)->Migrate({"CREATE TABLE a (x INTEGER)", "CREATE TABLE a (x INTEGER)"});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("schema migration 2"), std::string::npos) << s.ToString();
  EXPECT_EQ(*(*db)->SchemaVersion(), 1);
}

TEST(Db, StatementsAndTransactions) {
  testing_support::TempDir dir;
  auto opened = Db::Open(dir.Join("t.db"));
  ASSERT_TRUE(opened.ok());
  Db* db = opened->get();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v REAL, n INTEGER)").ok());
  {
    auto tx = Transaction::Begin(db);
    ASSERT_TRUE(tx.ok());
    auto ins = db->Prepare("INSERT INTO t VALUES (?, ?, ?)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, "a").Bind(2, 0.5).BindNull(3).Run().ok());
    // Dropped without commit: rolled back.
  }
  auto count = db->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->Int(0), 0);
  {
    auto tx = Transaction::Begin(db);
    auto ins = db->Prepare("INSERT INTO t VALUES (?, ?, ?)");
    ASSERT_TRUE(ins->Bind(1, "a").Bind(2, 0.5).Bind(3, int64_t{7}).Run().ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto q = db->Prepare("SELECT k, v, n FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), "a");
  EXPECT_DOUBLE_EQ(q->Double(1), 0.5);
  EXPECT_EQ(q->Int(2), 7);
  // Constraint violations and bad SQL are errors, not crashes.
  auto dup = db->Prepare("INSERT INTO t VALUES ('a', 1, 1)");
  EXPECT_EQ(dup->Run().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(db->Prepare("SELEKT nonsense").ok());
  EXPECT_FALSE(db->Exec("DROP TABLE nope").ok());
}

TEST(Db, TwoConnectionsShareTheFile) {
  testing_support::TempDir dir;
  auto a = Db::Open(dir.Join("t.db"));
  auto b = Db::Open(dir.Join("t.db"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Exec("CREATE TABLE t (x INTEGER)").ok());
  // A writer holding the lock briefly makes the other wait (busy timeout), not fail.
  auto tx = Transaction::Begin(a->get());
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*a)->Exec("INSERT INTO t VALUES (1)").ok());
  std::thread commit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE((*tx)->Commit().ok());
  });
  EXPECT_TRUE((*b)->Exec("INSERT INTO t VALUES (2)").ok());
  commit.join();
  auto q = (*b)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 2);
}

}  // namespace
}  // namespace edgeloop::registry
