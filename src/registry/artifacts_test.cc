#include "edgeloop/registry/artifacts.h"

#include <gtest/gtest.h>

#include "test/support/temp_dir.h"

namespace edgeloop::registry {
namespace {

TEST(ArtifactStore, UploadSealCommitOpen) {
  testing_support::TempDir dir;
  ArtifactStore store(Env::Default(), dir.Join("artifacts"));
  ASSERT_TRUE(store.Init().ok());
  auto up = store.BeginUpload();
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Append("hello ").ok());
  ASSERT_TRUE((*up)->Append("world").ok());
  EXPECT_EQ((*up)->size(), 11u);
  std::string temp = (*up)->temp_path();
  EXPECT_TRUE(Env::Default()->FileExists(temp));
  ASSERT_TRUE((*up)->Seal().ok());
  EXPECT_EQ((*up)->sha256(), Sha256Hex(std::string("hello world")));
  ASSERT_TRUE((*up)->Commit().ok());
  EXPECT_FALSE(Env::Default()->FileExists(temp));
  std::string sha = (*up)->sha256();
  up->reset();
  EXPECT_TRUE(Env::Default()->FileExists(store.PathFor(sha)));

  auto f = store.Open(sha, 11);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  std::vector<uint8_t> buf(5);
  auto n = (*f)->ReadAt(6, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<long>(*n)), "world");
  EXPECT_EQ(store.Open(sha, 12).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store.Open(std::string(64, 'a'), 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Open("../../etc/passwd", 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ArtifactStore, AbandonedUploadLeavesNothing) {
  testing_support::TempDir dir;
  ArtifactStore store(Env::Default(), dir.Join("artifacts"));
  ASSERT_TRUE(store.Init().ok());
  {
    auto up = store.BeginUpload();
    ASSERT_TRUE((*up)->Append("partial").ok());
  }
  EXPECT_TRUE(Env::Default()->ListDir(store.dir())->empty());
}

TEST(ArtifactStore, SameBytesTwiceShareOneFile) {
  testing_support::TempDir dir;
  ArtifactStore store(Env::Default(), dir.Join("artifacts"));
  ASSERT_TRUE(store.Init().ok());
  for (int i = 0; i < 2; ++i) {
    auto up = store.BeginUpload();
    ASSERT_TRUE((*up)->Append("same").ok());
    ASSERT_TRUE((*up)->Seal().ok());
    ASSERT_TRUE((*up)->Commit().ok());
  }
  EXPECT_EQ(Env::Default()->ListDir(store.dir())->size(), 1u);
}

TEST(ArtifactStore, SweepRemovesTempAndUnreferenced) {
  testing_support::TempDir dir;
  Env* env = Env::Default();
  ArtifactStore store(env, dir.Join("artifacts"));
  ASSERT_TRUE(store.Init().ok());
  std::string keep = Sha256Hex(std::string("keep"));
  std::string orphan = Sha256Hex(std::string("orphan"));
  ASSERT_TRUE(env->WriteFileAtomic(store.PathFor(keep), "keep").ok());
  ASSERT_TRUE(env->WriteFileAtomic(store.PathFor(orphan), "orphan").ok());
  ASSERT_TRUE(env->WriteFileAtomic(JoinPath(store.dir(), "upload-1.tmp"), "half").ok());
  ASSERT_TRUE(env->WriteFileAtomic(JoinPath(store.dir(), "README"), "not ours").ok());
  auto report = store.Sweep({keep});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->temp_files_removed, 1);
  EXPECT_EQ(report->orphans_removed, 1);
  EXPECT_TRUE(env->FileExists(store.PathFor(keep)));
  EXPECT_FALSE(env->FileExists(store.PathFor(orphan)));
  EXPECT_TRUE(env->FileExists(JoinPath(store.dir(), "README")));
}

}  // namespace
}  // namespace edgeloop::registry
