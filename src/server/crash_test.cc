// Crash consistency of `edgeloop serve`: SIGKILL at random moments during large publishes, many
// times over, then a restart. Every listed version must have its artifact with the right size and
// hash, no temp file may remain, no artifact may be unreferenced and no version may half-exist.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "edgeloop/common/env.h"
#include "edgeloop/registry/artifacts.h"
#include "edgeloop/registry/client.h"
#include "edgeloop/registry/data_dir.h"
#include "edgeloop/registry/manifest.h"
#include "edgeloop/registry/tokens.h"
#include "registry/test_models.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop {
namespace {

using testing_support::BinaryPath;
using testing_support::Process;

struct Server {
  int port;
  std::unique_ptr<Process> process;
};

Server StartServe(const std::string& data, const std::string& log) {
  Server s{testing_support::FreePort(), nullptr};
  testing_support::ProcessOptions o;
  o.stderr_path = log;
  s.process = std::make_unique<Process>(
      std::vector<std::string>{BinaryPath("edgeloop"), "serve", "--data", data, "--listen",
                               "127.0.0.1:" + std::to_string(s.port), "--max-upload-bytes", "100000000"},
      o);
  if (!testing_support::WaitForPort(s.port, 20000)) {
    auto text = Env::Default()->ReadFile(log);
    ADD_FAILURE() << "serve did not start: " << (text.ok() ? *text : text.status().ToString());
  }
  return s;
}

int CountTempFiles(const std::string& dir) {
  int n = 0;
  auto names = Env::Default()->ListDir(dir);
  if (!names.ok()) return 0;
  for (const std::string& name : *names) {
    n += name.size() > 4 && name.substr(name.size() - 4) == ".tmp";
  }
  return n;
}

TEST(RegistryCrash, KillNineDuringLargePublishesLeavesNoHalfVersion) {
  testing_support::TempDir dir;
  const std::string data = dir.Join("data");
  const std::string artifacts = registry::ArtifactsDir(data);
  ASSERT_TRUE(registry::InitSigningKey(data).ok());
  std::string token;
  {
    auto tokens = registry::TokenStore::Open(data);
    ASSERT_TRUE(tokens.ok());
    token = (*tokens)->Create(registry::Role::kAdmin, "", "ci", {"local", "local"})->secret;
  }
  const unsigned seed = static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);

  const int kRounds = 12;
  int rounds_killed_mid_write = 0;
  std::atomic<int> published{0};
  for (int round = 0; round < kRounds; ++round) {
    Server s = StartServe(data, dir.Join("serve-" + std::to_string(round) + ".log"));
    registry::ClientOptions o;
    o.server_url = "http://127.0.0.1:" + std::to_string(s.port);
    o.token = token;
    auto client = registry::RegistryClient::Create(o);
    ASSERT_TRUE(client.ok());
    std::atomic<bool> stop{false};
    const uint32_t base = rng();
    std::thread uploader([&, base] {
      std::mt19937 sizes(base);
      for (uint32_t i = 0; !stop; ++i) {
        std::string bytes = registry::testing::TfliteModelBytes((8u << 20) + sizes() % (24u << 20), base + i);
        if ((*client)->PublishBytes("vib", bytes, {}).ok()) ++published;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 900));
    const int temp_before = CountTempFiles(artifacts);
    s.process->Signal(SIGKILL);
    s.process->Wait(10000);
    stop = true;
    uploader.join();
    if (temp_before > 0 && CountTempFiles(artifacts) > 0) ++rounds_killed_mid_write;
  }

  // Restart: the sweep runs, then everything listed must be whole.
  Server s = StartServe(data, dir.Join("serve-final.log"));
  registry::ClientOptions o;
  o.server_url = "http://127.0.0.1:" + std::to_string(s.port);
  o.token = token;
  auto client = registry::RegistryClient::Create(o);
  ASSERT_TRUE(client.ok());
  auto versions = (*client)->ListVersions("vib");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  std::printf("crash test: %d rounds, %d killed mid-write, %d publishes acknowledged, %zu versions listed\n", kRounds,
              rounds_killed_mid_write, published.load(), versions->size());
  EXPECT_GE(static_cast<int>(versions->size()), published.load()) << "an acknowledged publish was lost";
  EXPECT_GT(rounds_killed_mid_write, 0) << "no kill landed during an upload; the test proved little";
  EXPECT_EQ(CountTempFiles(artifacts), 0);

  const std::string public_key = Env::Default()->ReadFile(registry::PublicKeyPath(data))->substr(0, 64);
  std::set<std::string> referenced;
  for (size_t i = 0; i < versions->size(); ++i) {
    const registry::VersionInfo& v = (*versions)[i];
    EXPECT_EQ(v.version, static_cast<int64_t>(i + 1)) << "version numbers have a gap";
    referenced.insert(v.sha256);
    auto bytes = Env::Default()->ReadFile(JoinPath(artifacts, v.sha256));
    ASSERT_TRUE(bytes.ok()) << "version " << v.version << ": " << bytes.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(bytes->size()), v.size) << "version " << v.version;
    EXPECT_EQ(registry::Sha256Hex(*bytes), v.sha256) << "version " << v.version;
    auto manifest = registry::ManifestFromJson((*client)->GetManifestJson("vib", v.version).value());
    ASSERT_TRUE(manifest.ok());
    EXPECT_TRUE(registry::VerifyManifest(*manifest, public_key).ok());
    EXPECT_EQ(manifest->sha256, v.sha256);
  }
  auto stored = Env::Default()->ListDir(artifacts);
  ASSERT_TRUE(stored.ok());
  for (const std::string& name : *stored) {
    EXPECT_TRUE(referenced.count(name)) << name << " is in artifacts/ but no version refers to it";
  }
  // And the server still takes new versions with the next number.
  auto next = (*client)->PublishBytes("vib", registry::testing::TfliteModelBytes(1000, 1), {});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(registry::ManifestFromJson(*next)->version, static_cast<int64_t>(versions->size() + 1));
}

}  // namespace
}  // namespace edgeloop
