#include "agent/model_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "edgeloop/registry/manifest.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

// Writes `bytes` as the partial download of its sha256 and places it.
InstalledModel PlaceBytes(ModelStore& store, const std::string& bytes, int64_t version) {
  std::string sha = registry::Sha256Hex(bytes);
  EXPECT_TRUE(Env::Default()->WriteFileAtomic(store.PartialPath(sha), bytes).ok());
  auto m = store.Place("vib", version, sha, static_cast<int64_t>(bytes.size()));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

TEST(ModelStore, CommitKeepsCurrentAndPreviousAcrossReopen) {
  testing_support::TempDir dir;
  std::string d = dir.Join("models");
  {
    auto store = ModelStore::Open(Env::Default(), d);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_FALSE(store->current());
    InstalledModel v1 = PlaceBytes(*store, "model-one", 1);
    ASSERT_TRUE(store->Commit(v1).ok());
    InstalledModel v2 = PlaceBytes(*store, "model-two", 2);
    ASSERT_TRUE(store->Commit(v2).ok());
    InstalledModel v3 = PlaceBytes(*store, "model-three", 3);
    ASSERT_TRUE(store->Commit(v3).ok());
  }
  auto store = ModelStore::Open(Env::Default(), d);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->current());
  ASSERT_TRUE(store->previous());
  EXPECT_EQ(store->current()->version, 3);
  EXPECT_EQ(store->previous()->version, 2);
  EXPECT_EQ(*store->ReadVerified(*store->current()), "model-three");
  // v1 is no longer named by the state: deleted.
  auto names = Env::Default()->ListDir(d);
  int tflite = 0;
  for (const auto& n : *names) tflite += n.find(".tflite") != std::string::npos;
  EXPECT_EQ(tflite, 2);
}

TEST(ModelStore, DetectsACorruptedFileAndFallsBack) {
  testing_support::TempDir dir;
  auto store = ModelStore::Open(Env::Default(), dir.Join("m"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->Commit(PlaceBytes(*store, "good", 1)).ok());
  ASSERT_TRUE(store->Commit(PlaceBytes(*store, "newer", 2)).ok());
  std::ofstream(store->PathOf(*store->current())) << "nowe!";  // same size, other bytes
  auto r = store->ReadVerified(*store->current());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(store->DropCurrent().ok());
  EXPECT_EQ(store->current()->version, 1);
  EXPECT_FALSE(store->previous());
  EXPECT_EQ(*store->ReadVerified(*store->current()), "good");
}

TEST(ModelStore, DiscardNeverDeletesANamedFileAndBadStateIsCorruption) {
  testing_support::TempDir dir;
  auto store = ModelStore::Open(Env::Default(), dir.Join("m"));
  InstalledModel v1 = PlaceBytes(*store, "one", 1);
  ASSERT_TRUE(store->Commit(v1).ok());
  store->Discard(v1);
  EXPECT_TRUE(Env::Default()->FileExists(store->PathOf(v1)));
  InstalledModel v2 = PlaceBytes(*store, "two", 2);
  store->Discard(v2);  // failed its smoke test: gone, state unchanged
  EXPECT_FALSE(Env::Default()->FileExists(store->PathOf(v2)));
  EXPECT_EQ(store->current()->version, 1);

  std::ofstream(dir.Join("m/state.json")) << R"({"current": {"file": "../../etc/passwd", "name": "x", "version": 1,
    "sha256": "00", "size": 1}})";
  auto bad = ModelStore::Open(Env::Default(), dir.Join("m"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace edgeloop::agent
