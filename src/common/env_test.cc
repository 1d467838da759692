#include "edgeloop/common/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test/support/temp_dir.h"

namespace edgeloop {
namespace {

TEST(Env, AtomicWriteReplacesAndLeavesNoTemp) {
  testing_support::TempDir dir;
  Env* env = Env::Default();
  std::string path = JoinPath(dir.path(), "a/b/file.bin");
  ASSERT_TRUE(env->CreateDirs(DirName(path)).ok());
  ASSERT_TRUE(env->WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(env->WriteFileAtomic(path, std::string("sec\0ond", 7), 0600).ok());
  auto got = env->ReadFile(path);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("sec\0ond", 7));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto names = env->ListDir(DirName(path));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u) << "a temp file was left behind";
  EXPECT_EQ(*env->FileSize(path), 7u);
}

TEST(Env, ErrorsNameThePath) {
  auto r = Env::Default()->ReadFile("/nonexistent/edgeloop/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/edgeloop/file"), std::string::npos);
}

TEST(Env, PathHelpers) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(JoinPath("a/", "/b"), "a/b");
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
}

TEST(Env, ClocksMove) {
  Env* env = Env::Default();
  int64_t t0 = env->NowMicros();
  env->SleepMicros(2000);
  EXPECT_GE(env->NowMicros() - t0, 2000);
  EXPECT_GT(env->NowUnixMillis(), 1700000000000LL);
}

}  // namespace
}  // namespace edgeloop
