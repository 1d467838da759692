#include "edgeloop/registry/registry.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "edgeloop/registry/data_dir.h"
#include "edgeloop/tflite/io.h"
#include "registry/test_models.h"
#include "test/support/temp_dir.h"

namespace edgeloop::registry {
namespace {

const Actor kCi{"ci", "admin"};

// A registry on a fresh directory, with the TFLite gate a server uses.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitSigningKey(dir_.path()).ok());
    Reopen();
  }
  void Reopen(std::vector<std::unique_ptr<PublishGate>> extra = {}) {
    reg_.reset();
    RegistryOptions o;
    o.data_dir = dir_.path();
    o.gates.push_back(
        MakeTfliteGate([](std::span<const uint8_t> b) { return tflite::ReadModel(b).status(); }));
    for (auto& g : extra) o.gates.push_back(std::move(g));
    auto r = Registry::Open(std::move(o));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(*r);
  }
  PublishResult MustPublish(const std::string& model, uint32_t seed, const std::string& metrics = "{}") {
    PublishRequest req;
    req.model = model;
    req.metrics_json = metrics;
    req.actor = kCi;
    auto r = reg_->Publish(req, Model(seed));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->refused) << r->reason;
    return *r;
  }

  // A distinct real model per seed, of 1000 + seed bytes of weights.
  static std::string Model(uint32_t seed) { return testing::TfliteModelBytes(1000 + seed * 16, seed); }

  testing_support::TempDir dir_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RegistryTest, OpenNeedsAKey) {
  testing_support::TempDir empty;
  RegistryOptions o;
  o.data_dir = empty.path();
  auto r = Registry::Open(std::move(o));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("keys init"), std::string::npos);
  EXPECT_FALSE(InitSigningKey(dir_.path()).ok()) << "a second keys init must not overwrite the key";
}

TEST_F(RegistryTest, PublishAssignsVersionsAndSigns) {
  PublishResult a = MustPublish("vib", 1, R"({"val_accuracy": 0.95})");
  PublishResult b = MustPublish("vib", 2);
  EXPECT_EQ(a.version.version, 1);
  EXPECT_EQ(b.version.version, 2);
  EXPECT_EQ(MustPublish("other", 3).version.version, 1);

  auto m = ManifestFromJson(a.manifest_json);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "vib");
  EXPECT_EQ(m->sha256, Sha256Hex(Model(1)));
  EXPECT_EQ(m->size, static_cast<int64_t>(Model(1).size()));
  EXPECT_EQ(m->metrics_json, R"({"val_accuracy":0.95})");
  auto pub = Env::Default()->ReadFile(PublicKeyPath(dir_.path()));
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(VerifyManifest(*m, pub->substr(0, 64)).ok());
  EXPECT_GT(*ParseRfc3339(m->expires) - *ParseRfc3339(m->created), 364LL * 24 * 3600 * 1000);

  auto versions = reg_->ListVersions("vib");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].published_by, "ci");
  auto models = reg_->ListModels();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[1].name, "vib");
  EXPECT_EQ((*models)[1].latest_version, 2);

  auto file = reg_->OpenArtifact("vib", 2);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->size(), Model(2).size());
  EXPECT_EQ(reg_->GetManifestJson("vib", 1).value(), a.manifest_json);
  EXPECT_EQ(reg_->GetVersion("vib", 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->ListVersions("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, PublishRejectsBadInputAndGates) {
  PublishRequest req;
  req.actor = kCi;
  req.model = "../etc";
  EXPECT_EQ(reg_->Publish(req, Model(1)).status().code(), StatusCode::kInvalidArgument);
  req.model = "vib";
  req.metrics_json = "[1,2]";
  EXPECT_EQ(reg_->Publish(req, Model(1)).status().code(), StatusCode::kInvalidArgument);
  req.metrics_json = "{bad";
  EXPECT_EQ(reg_->Publish(req, Model(1)).status().code(), StatusCode::kInvalidArgument);
  req.metrics_json = "{}";
  req.channel = "stable";
  req.share = 0.5;
  EXPECT_EQ(reg_->Publish(req, Model(1)).status().code(), StatusCode::kInvalidArgument);
  req.channel.clear();
  req.share.reset();
  auto refused = reg_->Publish(req, "not a model at all");
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->refused);
  EXPECT_EQ(refused->gate, "tflite");

  std::map<std::string, double> floors{{"val_accuracy", 0.9}};
  std::vector<std::unique_ptr<PublishGate>> extra;
  extra.push_back(MakeMetricFloorGate(floors));
  Reopen(std::move(extra));
  req.metrics_json = R"({"val_accuracy":0.5})";
  auto low = reg_->Publish(req, Model(1));
  ASSERT_TRUE(low.ok());
  EXPECT_TRUE(low->refused);
  EXPECT_EQ(low->gate, "metric-floor");
  // Nothing of the refused uploads remains, and no version was created.
  EXPECT_TRUE(Env::Default()->ListDir(ArtifactsDir(dir_.path()))->empty());
  EXPECT_EQ(reg_->ListModels()->size(), 0u);
}

TEST_F(RegistryTest, ChannelsPromoteRollbackHistory) {
  for (uint32_t i = 1; i <= 3; ++i) MustPublish("vib", i);
  EXPECT_EQ(reg_->GetChannel("vib", "stable").status().code(), StatusCode::kNotFound);
  auto p1 = reg_->Promote("vib", "stable", 1, std::nullopt, std::nullopt, kCi);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_FALSE(p1->conflict);
  ASSERT_TRUE(reg_->Promote("vib", "stable", 2, std::nullopt, std::nullopt, kCi).ok());
  ASSERT_TRUE(reg_->Promote("vib", "stable", 3, std::nullopt, std::nullopt, kCi).ok());
  EXPECT_EQ(reg_->GetChannel("vib", "stable")->version, 3);

  auto rb = reg_->Rollback("vib", "stable", kCi);
  ASSERT_TRUE(rb.ok());
  EXPECT_FALSE(rb->conflict);
  EXPECT_EQ(rb->state.version, 2);
  rb = reg_->Rollback("vib", "stable", kCi);
  EXPECT_EQ(rb->state.version, 1);
  rb = reg_->Rollback("vib", "stable", kCi);
  EXPECT_TRUE(rb->conflict) << "nothing before version 1";
  EXPECT_EQ(reg_->GetChannel("vib", "stable")->version, 1);
  auto history = reg_->GetChannel("vib", "stable")->history;
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[0].action, "rollback");
  EXPECT_TRUE(history[2].rolled_back);  // promote 3... newest first: rb(1), rb(2), p3, p2, p1
  EXPECT_FALSE(history[4].rolled_back);

  // Conflicts and errors.
  auto stale = reg_->Promote("vib", "stable", 3, std::nullopt, int64_t{2}, kCi);
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->conflict);
  EXPECT_EQ(reg_->Promote("vib", "stable", 9, std::nullopt, std::nullopt, kCi).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->Promote("vib", "beta", 1, std::nullopt, std::nullopt, kCi).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->Promote("vib", "canary", 1, 1.5, std::nullopt, kCi).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(reg_->Rollback("vib", "canary", kCi)->conflict);
}

TEST_F(RegistryTest, AssignmentFollowsCanaryShare) {
  MustPublish("vib", 1);
  MustPublish("vib", 2);
  EXPECT_EQ(reg_->Assign("vib", "dev-1").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(reg_->Promote("vib", "stable", 1, std::nullopt, std::nullopt, kCi).ok());
  auto canary = reg_->Promote("vib", "canary", 2, std::nullopt, std::nullopt, kCi);
  ASSERT_TRUE(canary.ok());
  EXPECT_DOUBLE_EQ(canary->state.share, 0.1);  // default canary share

  int in_canary = 0;
  const int kDevices = 2000;
  for (int i = 0; i < kDevices; ++i) {
    std::string dev = "dev-" + std::to_string(i);
    auto a = reg_->Assign("vib", dev);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->bucket, CanaryBucket("vib", dev));
    EXPECT_EQ(a->channel == "canary", InCanary(a->bucket, 0.1));
    EXPECT_EQ(a->version, a->channel == "canary" ? 2 : 1);
    EXPECT_EQ(a->manifest_json, *reg_->GetManifestJson("vib", a->version));
    in_canary += a->channel == "canary";
  }
  EXPECT_NEAR(in_canary, kDevices * 0.1, kDevices * 0.03);
  // The same device always lands in the same place; widening the canary keeps its members.
  std::string member;
  for (int i = 0; member.empty(); ++i) {
    if (InCanary(CanaryBucket("vib", "d" + std::to_string(i)), 0.1)) member = "d" + std::to_string(i);
  }
  ASSERT_TRUE(reg_->Promote("vib", "canary", 2, 0.5, std::nullopt, kCi).ok());
  EXPECT_EQ(reg_->Assign("vib", member)->channel, "canary");
  ASSERT_TRUE(reg_->Promote("vib", "canary", 2, 0.0, std::nullopt, kCi).ok());
  EXPECT_EQ(reg_->Assign("vib", member)->channel, "stable");
  EXPECT_EQ(reg_->Assign("vib", "bad/id").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->Assign("nope", "dev-1").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, AuditRecordsEveryChange) {
  MustPublish("vib", 1);
  ASSERT_TRUE(reg_->Promote("vib", "stable", 1, std::nullopt, std::nullopt, kCi).ok());
  MustPublish("other", 2);
  auto all = reg_->Audit(AuditQuery{});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].action, "publish");
  EXPECT_EQ((*all)[0].model, "other");
  EXPECT_EQ((*all)[1].action, "promote");
  EXPECT_EQ((*all)[1].actor, "ci");
  auto vib = reg_->Audit(AuditQuery{"vib", 0, 100});
  EXPECT_EQ(vib->size(), 2u);
  auto page = reg_->Audit(AuditQuery{"", (*all)[1].id, 100});
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, (*all)[2].id);
}

TEST_F(RegistryTest, ConcurrentPublishesGetDistinctVersions) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) MustPublish("vib", static_cast<uint32_t>(t * 100 + i));
    });
  }
  for (auto& t : threads) t.join();
  auto versions = reg_->ListVersions("vib");
  ASSERT_EQ(versions->size(), 20u);
  for (size_t i = 0; i < versions->size(); ++i) EXPECT_EQ((*versions)[i].version, static_cast<int64_t>(i + 1));
}

TEST_F(RegistryTest, OpenSweepsCrashLeftovers) {
  MustPublish("vib", 1);
  Env* env = Env::Default();
  std::string dir = ArtifactsDir(dir_.path());
  ASSERT_TRUE(env->WriteFileAtomic(JoinPath(dir, "upload-dead.tmp"), "half a model").ok());
  std::string orphan = Sha256Hex(std::string("renamed but never committed"));
  ASSERT_TRUE(env->WriteFileAtomic(JoinPath(dir, orphan), "renamed but never committed").ok());
  Reopen();
  EXPECT_EQ(reg_->startup_sweep().temp_files_removed, 1);
  EXPECT_EQ(reg_->startup_sweep().orphans_removed, 1);
  EXPECT_EQ(env->ListDir(dir)->size(), 1u);
  EXPECT_TRUE(reg_->OpenArtifact("vib", 1).ok());
  EXPECT_TRUE(reg_->damaged_versions().empty());
}

TEST_F(RegistryTest, OpenReportsVersionsWhoseArtifactWasDamaged) {
  PublishResult a = MustPublish("vib", 1);
  MustPublish("vib", 2);
  ASSERT_TRUE(Env::Default()->RemoveFile(JoinPath(ArtifactsDir(dir_.path()), a.version.sha256)).ok());
  Reopen();
  ASSERT_EQ(reg_->damaged_versions().size(), 1u);
  EXPECT_NE(reg_->damaged_versions()[0].find("vib version 1"), std::string::npos) << reg_->damaged_versions()[0];
  EXPECT_EQ(reg_->OpenArtifact("vib", 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(reg_->OpenArtifact("vib", 2).ok());
}

}  // namespace
}  // namespace edgeloop::registry
