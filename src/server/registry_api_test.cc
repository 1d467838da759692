// The registry API over real HTTP on loopback: RegistryServer (the `edgeloop serve` assembly) in
// process, driven by RegistryClient and by raw requests for the protocol details.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeloop/registry/client.h"
#include "edgeloop/registry/data_dir.h"
#include "edgeloop/quant/quantize.h"
#include "edgeloop/server/serve.h"
#include "edgeloop/tflite/io.h"
#include "registry/test_models.h"
#include "test/support/float_cnn.h"
#include "test/support/temp_dir.h"

namespace edgeloop::server {
namespace {

using nlohmann::json;
using registry::testing::TfliteModelBytes;

class RegistryApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServeOptions()); }

  void Start(ServeOptions o) {
    server_.reset();
    if (!Env::Default()->FileExists(registry::SigningKeyPath(dir_.path()))) {
      ASSERT_TRUE(registry::InitSigningKey(dir_.path()).ok());
    }
    o.data_dir = dir_.path();
    o.listen = "127.0.0.1:0";
    o.threads = 8;
    if (o.max_upload_bytes == ServeOptions().max_upload_bytes) o.max_upload_bytes = 32 << 20;
    auto s = RegistryServer::Create(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->Start().ok());
    const registry::Actor local{"local", "local"};
    if (admin_.empty()) {
      admin_ = server_->tokens().Create(registry::Role::kAdmin, "", "ci", local)->secret;
      device_ = server_->tokens().Create(registry::Role::kDevice, "dev-1", "dev-1", local)->secret;
      fleet_ = server_->tokens().Create(registry::Role::kDevice, "", "gateway", local)->secret;
    }
    admin_client_ = MakeClient(admin_);
    device_client_ = MakeClient(device_);
  }

  std::unique_ptr<registry::RegistryClient> MakeClient(const std::string& token) {
    registry::ClientOptions o;
    o.server_url = server_->url();
    o.token = token;
    return std::move(registry::RegistryClient::Create(o).value());
  }
  httplib::Client Raw() { return httplib::Client("127.0.0.1", server_->port()); }
  httplib::Headers As(const std::string& token, httplib::Headers extra = {}) {
    extra.emplace("Authorization", "Bearer " + token);
    return extra;
  }
  std::string PublicKey() { return Env::Default()->ReadFile(registry::PublicKeyPath(dir_.path()))->substr(0, 64); }
  std::string Publish(const std::string& model, const std::string& bytes, const std::string& metrics = "{}") {
    registry::PublishOptions po;
    po.metrics_json = metrics;
    auto m = admin_client_->PublishBytes(model, bytes, po);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : std::string();
  }
  static std::string Code(const httplib::Result& r) { return json::parse(r->body)["error"]["code"]; }
  // True once /metrics has `line` (a response is counted just after it is written: poll briefly).
  bool MetricsHave(const std::string& line) {
    for (int i = 0; i < 200; ++i) {
      auto r = Raw().Get("/metrics");
      if (r && r->body.find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "not in /metrics: " << line << "\n" << Raw().Get("/metrics")->body;
    return false;
  }

  testing_support::TempDir dir_;
  std::unique_ptr<RegistryServer> server_;
  std::string admin_, device_, fleet_;
  std::unique_ptr<registry::RegistryClient> admin_client_, device_client_;
};

TEST_F(RegistryApiTest, PublishSignsAManifestThatVerifiesWithThePublicKeyFile) {
  const std::string bytes = TfliteModelBytes(20000, 1);
  std::string text = Publish("vib", bytes, R"({"val_accuracy":0.97,"int8_accuracy":0.96})");
  auto m = registry::ManifestFromJson(text);
  ASSERT_TRUE(m.ok()) << text;
  EXPECT_EQ(m->name, "vib");
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(m->size, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(m->sha256, registry::Sha256Hex(bytes));
  EXPECT_TRUE(registry::VerifyManifest(*m, PublicKey()).ok());
  EXPECT_TRUE(registry::CheckManifestAcceptable(*m, 0, Env::Default()->NowUnixMillis()).ok());
  // The manifest endpoint serves the same bytes.
  EXPECT_EQ(*device_client_->GetManifestJson("vib", 1), text);
  // Any change of any byte: either no longer a manifest, or the signature fails.
  for (size_t i = 0; i < text.size(); ++i) {
    std::string t = text;
    t[i] = static_cast<char>(t[i] ^ 0x04);
    auto tm = registry::ManifestFromJson(t);
    if (!tm.ok()) continue;
    if (registry::CanonicalManifest(*tm) == registry::CanonicalManifest(*m) && tm->signature == m->signature) {
      continue;  // the flip hit insignificant text (e.g. an escape that decodes the same)
    }
    EXPECT_FALSE(registry::VerifyManifest(*tm, PublicKey()).ok()) << "byte " << i << ": " << t;
  }
}

TEST_F(RegistryApiTest, ModelsAndVersionsEndpoints) {
  Publish("vib", TfliteModelBytes(1000, 1), R"({"val_accuracy":0.9})");
  Publish("vib", TfliteModelBytes(1000, 2));
  Publish("pump", TfliteModelBytes(1000, 3));
  auto models = device_client_->ListModels();
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "pump");
  EXPECT_EQ((*models)[1].latest_version, 2);
  auto detail = device_client_->GetModel("vib");
  ASSERT_TRUE(detail.ok());
  ASSERT_EQ(detail->versions.size(), 2u);
  EXPECT_EQ(detail->versions[0].metrics_json, R"({"val_accuracy":0.9})");
  EXPECT_EQ(detail->versions[0].published_by, "ci");
  auto versions = device_client_->ListVersions("vib");
  ASSERT_EQ(versions->size(), 2u);
  auto raw = Raw();
  auto v = raw.Get("/v1/models/vib/versions/2", As(device_));
  EXPECT_EQ(v->status, 200);
  EXPECT_EQ(json::parse(v->body)["version"], 2);
  // Upload answers 201 with the new version's location.
  auto up = raw.Post("/v1/models/vib/versions", As(admin_), TfliteModelBytes(500, 9), "application/octet-stream");
  EXPECT_EQ(up->status, 201);
  EXPECT_EQ(up->get_header_value("Location"), "/v1/models/vib/versions/3");
}

TEST_F(RegistryApiTest, TrainingReportKeepsConfusionMatrixAndCurvesForTheDashboard) {
  json report = {{"val_accuracy", 0.91},
                 {"labels", {"normal", "warning", "failure"}},
                 {"confusion_matrix", {{50, 2, 0}, {3, 40, 1}, {0, 1, 44}}},
                 {"options", {{"epochs", 2}}},
                 {"epochs", {{{"epoch", 1}, {"loss", 0.9}, {"val_accuracy", 0.7}, {"note", "x"}},
                             {{"epoch", 2}, {"loss", 0.4}, {"val_accuracy", 0.91}}}}};
  auto metrics = registry::MetricsFromReport(report.dump());
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  Publish("vib", TfliteModelBytes(1000, 1), *metrics);
  auto v = Raw().Get("/v1/models/vib/versions/1", As(device_));
  ASSERT_EQ(v->status, 200);
  json m = json::parse(v->body)["metrics"];
  EXPECT_EQ(m["val_accuracy"], 0.91);
  EXPECT_EQ(m["labels"], report["labels"]);
  EXPECT_EQ(m["confusion_matrix"], report["confusion_matrix"]);
  ASSERT_EQ(m["epochs"].size(), 2u);
  EXPECT_EQ(m["epochs"][1]["loss"], 0.4);
  EXPECT_FALSE(m["epochs"][0].contains("note")) << "only each epoch's numbers are kept";
  EXPECT_FALSE(m.contains("options")) << "other objects stay out of the manifest";

  // Curves too long for the metrics header are left out; the publish still works.
  json long_report = report;
  long_report["epochs"] = json::array();
  for (int e = 1; e <= 2000; ++e) long_report["epochs"].push_back({{"epoch", e}, {"loss", 1.0 / e}});
  auto trimmed = registry::MetricsFromReport(long_report.dump());
  ASSERT_TRUE(trimmed.ok());
  json t = json::parse(*trimmed);
  EXPECT_FALSE(t.contains("epochs"));
  EXPECT_EQ(t["confusion_matrix"], report["confusion_matrix"]);
  Publish("vib", TfliteModelBytes(1000, 2), *trimmed);
}

TEST_F(RegistryApiTest, BadInputGetsTheRightStatus) {
  Publish("vib", TfliteModelBytes(1000, 1));
  auto raw = Raw();
  struct Case {
    std::string method, path, body;
    const std::string* token;
    int status;
    std::string code;
  } cases[] = {
      {"GET", "/v1/models", "", nullptr, 401, "Unauthenticated"},
      {"GET", "/v1/models/Bad!Name", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/..", "", &device_, 400, "InvalidArgument"},
      // Decoded, the name holds '/': no route matches, so nothing is ever looked up by it.
      {"GET", "/v1/models/..%2F..%2Fetc/versions", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/%2e%2e/versions", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/versions/abc", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/versions/0", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/versions/-1", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/versions/99999999999999999999", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/versions/7", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/vib/versions/7/artifact", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/vib/versions/7/manifest", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/nope", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/nope/versions", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/vib/channels/stable", "", &device_, 404, "NotFound"},
      {"GET", "/v1/models/vib/channels/beta", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/models/vib/channels/stable?history=x", "", &device_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/stable", "{\"version\":1}", &device_, 403, "PermissionDenied"},
      {"PUT", "/v1/models/vib/channels/stable", "{bad json", &admin_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/stable", "{\"version\":\"1\"}", &admin_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/stable", "{\"version\":1,\"color\":2}", &admin_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/stable", "{\"version\":1,\"share\":0.5}", &admin_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/canary", "{\"version\":1,\"share\":2}", &admin_, 400, "InvalidArgument"},
      {"PUT", "/v1/models/vib/channels/stable", "{\"version\":5}", &admin_, 404, "NotFound"},
      {"PUT", "/v1/models/nope/channels/stable", "{\"version\":1}", &admin_, 404, "NotFound"},
      {"POST", "/v1/models/vib/channels/stable/rollback", "", &device_, 403, "PermissionDenied"},
      {"POST", "/v1/models/vib/channels/stable/rollback", "", &admin_, 409, "Conflict"},
      {"GET", "/v1/audit", "", &device_, 403, "PermissionDenied"},
      {"GET", "/v1/audit?limit=0", "", &admin_, 400, "InvalidArgument"},
      {"GET", "/v1/devices/dev-1/assignment", "", &device_, 400, "InvalidArgument"},
      {"GET", "/v1/devices/dev-1/assignment?model=vib", "", &device_, 404, "NotFound"},
      {"GET", "/v1/devices/dev-2/assignment?model=vib", "", &device_, 403, "PermissionDenied"},
      {"GET", "/v1/devices/bad..id!/assignment?model=vib", "", &fleet_, 400, "InvalidArgument"},
      {"POST", "/v1/models/vib/versions", "xx", &device_, 403, "PermissionDenied"},
      {"POST", "/v1/models/Vib/versions", TfliteModelBytes(100, 1), &admin_, 400, "InvalidArgument"},
      {"POST", "/v1/models/vib/versions?channel=beta", TfliteModelBytes(100, 1), &admin_, 400, "InvalidArgument"},
      {"POST", "/v1/models/vib/versions?channel=canary&share=x", TfliteModelBytes(100, 1), &admin_, 400,
       "InvalidArgument"},
      {"POST", "/v1/models/vib/versions?metrics=%5B1%5D", TfliteModelBytes(100, 1), &admin_, 400, "InvalidArgument"},
      {"POST", "/v1/models/vib/versions", "", &admin_, 400, "InvalidArgument"},
      {"POST", "/v1/models/vib/versions", "label,f0\n1,2\n", &admin_, 422, "GateRefused"},
      {"DELETE", "/v1/models/vib", "", &admin_, 404, "NotFound"},
  };
  for (const Case& c : cases) {
    httplib::Headers h = c.token ? As(*c.token) : httplib::Headers{};
    httplib::Result r = c.method == "GET"    ? raw.Get(c.path, h)
                        : c.method == "PUT"  ? raw.Put(c.path, h, c.body, "application/json")
                        : c.method == "POST" ? raw.Post(c.path, h, c.body, "application/octet-stream")
                                             : raw.Delete(c.path, h);
    ASSERT_TRUE(r) << c.method << " " << c.path << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, c.status) << c.method << " " << c.path << ": " << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << c.method << " " << c.path << ": " << r->body;
    EXPECT_EQ(j["error"]["code"], c.code) << c.method << " " << c.path;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }
  // None of it changed anything.
  EXPECT_EQ(device_client_->ListVersions("vib")->size(), 1u);
}

TEST_F(RegistryApiTest, RevokedTokensAndTooLargeUploads) {
  auto revoked = server_->tokens().Create(registry::Role::kAdmin, "", "temp", registry::Actor{"local", "local"});
  auto client = MakeClient(revoked->secret);
  EXPECT_TRUE(client->ListModels().ok());
  ASSERT_TRUE(server_->tokens().Revoke("temp", registry::Actor{"local", "local"}).ok());
  auto denied = client->ListModels();
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("HTTP 401"), std::string::npos) << denied.status().ToString();

  ServeOptions small;
  small.max_upload_bytes = 4096;
  Start(small);
  auto raw = Raw();
  const std::string fits = TfliteModelBytes(3000, 1), too_big = TfliteModelBytes(5000, 1);
  ASSERT_LE(fits.size(), 4096u);
  ASSERT_GT(too_big.size(), 4096u);
  auto big = raw.Post("/v1/models/vib/versions", As(admin_), too_big, "application/octet-stream");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(Code(big), "PayloadTooLarge");
  // Through the client the same refusal comes back with the server's words.
  auto via_client = admin_client_->PublishBytes("vib", too_big, {});
  ASSERT_FALSE(via_client.ok());
  EXPECT_NE(via_client.status().message().find("413"), std::string::npos) << via_client.status().ToString();
  EXPECT_TRUE(admin_client_->PublishBytes("vib", fits, {}).ok());
  auto versions = admin_client_->ListVersions("vib");
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].size, static_cast<int64_t>(fits.size()));
}

TEST_F(RegistryApiTest, ChannelsPromoteRollbackAndAudit) {
  for (uint32_t i = 1; i <= 3; ++i) Publish("vib", TfliteModelBytes(1000, i));
  auto s = admin_client_->Promote("vib", 1, "stable");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, 1);
  ASSERT_TRUE(admin_client_->Promote("vib", 2, "stable").ok());
  auto c = admin_client_->Promote("vib", 3, "canary", 0.25);
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->share, 0.25);
  auto conflict = admin_client_->Promote("vib", 3, "stable", std::nullopt, int64_t{1});
  EXPECT_NE(conflict.status().message().find("HTTP 409"), std::string::npos) << conflict.status().ToString();
  auto stable = device_client_->GetChannel("vib", "stable");
  ASSERT_TRUE(stable.ok());
  EXPECT_EQ(stable->version, 2);
  EXPECT_EQ(stable->updated_by, "ci");
  EXPECT_EQ(stable->history.size(), 2u);

  auto rb = admin_client_->Rollback("vib", "stable");
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->version, 1);
  auto again = admin_client_->Rollback("vib", "stable");
  EXPECT_NE(again.status().message().find("HTTP 409 Conflict"), std::string::npos);

  auto channels = Raw().Get("/v1/models/vib/channels", As(device_));
  json cj = json::parse(channels->body);
  EXPECT_EQ(cj["channels"]["stable"]["version"], 1);
  EXPECT_EQ(cj["channels"]["canary"]["version"], 3);
  EXPECT_DOUBLE_EQ(cj["channels"]["canary"]["share"].get<double>(), 0.25);

  auto audit = admin_client_->GetAudit("vib");
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  std::vector<std::string> actions;
  for (const auto& e : *audit) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor, "ci");
    EXPECT_EQ(e.role, "admin");
    EXPECT_FALSE(e.at.empty());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"rollback", "promote", "promote", "promote", "publish", "publish",
                                               "publish"}));
}

TEST_F(RegistryApiTest, AssignmentByStableHashWithAVerifiableManifest) {
  Publish("vib", TfliteModelBytes(1000, 1));
  Publish("vib", TfliteModelBytes(1000, 2));
  ASSERT_TRUE(admin_client_->Promote("vib", 1, "stable").ok());
  ASSERT_TRUE(admin_client_->Promote("vib", 2, "canary", 0.3).ok());
  auto gateway = MakeClient(fleet_);
  int canary = 0;
  for (int i = 0; i < 300; ++i) {
    std::string dev = "press-" + std::to_string(i);
    auto a = gateway->GetAssignment(dev, "vib");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    bool in = registry::InCanary(registry::CanaryBucket("vib", dev), 0.3);
    EXPECT_EQ(a->channel, in ? "canary" : "stable");
    EXPECT_EQ(a->version, in ? 2 : 1);
    auto m = registry::ManifestFromJson(a->manifest_json);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->version, a->version);
    EXPECT_TRUE(registry::VerifyManifest(*m, PublicKey()).ok());
    canary += in;
  }
  EXPECT_GT(canary, 50);
  EXPECT_LT(canary, 130);
  // A bound device token reads its own assignment, an admin token anyone's.
  EXPECT_TRUE(device_client_->GetAssignment("dev-1", "vib").ok());
  EXPECT_EQ(device_client_->GetAssignment("dev-2", "vib").status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(admin_client_->GetAssignment("dev-2", "vib").ok());
}

TEST_F(RegistryApiTest, ArtifactEtag304RangeResumeAnd416) {
  const std::string bytes = TfliteModelBytes(300000, 7);
  const std::string size = std::to_string(bytes.size());
  Publish("vib", bytes);
  const std::string path = "/v1/models/vib/versions/1/artifact";
  const std::string etag = "\"" + registry::Sha256Hex(bytes) + "\"";
  auto raw = Raw();
  auto full = raw.Get(path, As(device_));
  ASSERT_EQ(full->status, 200);
  EXPECT_EQ(full->body, bytes);
  EXPECT_EQ(full->get_header_value("ETag"), etag);
  EXPECT_EQ(full->get_header_value("Accept-Ranges"), "bytes");

  auto cached = raw.Get(path, As(device_, {{"If-None-Match", etag}}));
  EXPECT_EQ(cached->status, 304);
  EXPECT_TRUE(cached->body.empty());
  EXPECT_EQ(raw.Get(path, As(device_, {{"If-None-Match", "\"other\""}}))->status, 200);

  // Download a part, then the rest with Range: the pieces reassemble the artifact exactly.
  auto head = raw.Get(path, As(device_, {{"Range", "bytes=0-99999"}}));
  ASSERT_EQ(head->status, 206);
  EXPECT_EQ(head->get_header_value("Content-Range"), "bytes 0-99999/" + size);
  auto rest = raw.Get(path, As(device_, {{"Range", "bytes=100000-"}, {"If-Range", etag}}));
  ASSERT_EQ(rest->status, 206);
  EXPECT_EQ(rest->get_header_value("Content-Range"),
            "bytes 100000-" + std::to_string(bytes.size() - 1) + "/" + size);
  EXPECT_EQ(head->body + rest->body, bytes);
  auto tail = raw.Get(path, As(device_, {{"Range", "bytes=-10"}}));
  EXPECT_EQ(tail->body, bytes.substr(bytes.size() - 10));
  // A stale If-Range gets the whole (new) file instead of a splice of two versions.
  auto stale = raw.Get(path, As(device_, {{"Range", "bytes=100000-"}, {"If-Range", "\"old\""}}));
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body, bytes);
  auto beyond = raw.Get(path, As(device_, {{"Range", "bytes=" + size + "-"}}));
  EXPECT_EQ(beyond->status, 416);
  EXPECT_EQ(beyond->get_header_value("Content-Range"), "bytes */" + size);
  EXPECT_EQ(Code(beyond), "RangeNotSatisfiable");
  auto clamp = raw.Get(path, As(device_, {{"Range", "bytes=" + std::to_string(bytes.size() - 10) + "-99999999"}}));
  EXPECT_EQ(clamp->status, 206);
  EXPECT_EQ(clamp->body, bytes.substr(bytes.size() - 10));
  auto both = raw.Get(path, As(device_, {{"Range", "bytes=0-1,5-6"}}));
  EXPECT_EQ(both->status, 200);
  EXPECT_EQ(both->body, bytes);
}

TEST_F(RegistryApiTest, ClientDownloadResumesAndVerifies) {
  const std::string bytes = TfliteModelBytes(1 << 20, 11);
  Publish("vib", bytes);
  Env* env = Env::Default();
  const std::string out = dir_.Join("vib.tflite");
  // An interrupted earlier download left the first 300000 bytes.
  ASSERT_TRUE(env->WriteFileAtomic(out + ".part", bytes.substr(0, 300000)).ok());
  ASSERT_TRUE(device_client_->DownloadArtifact("vib", 1, out).ok());
  EXPECT_EQ(*env->ReadFile(out), bytes);
  EXPECT_FALSE(env->FileExists(out + ".part"));
  EXPECT_TRUE(MetricsHave("edgeloop_registry_downloads_total{status=\"206\"} 1"));
  EXPECT_TRUE(MetricsHave("edgeloop_registry_download_bytes_total " + std::to_string(bytes.size() - 300000)));

  // A partial file that is not a prefix of the artifact is caught by the hash and removed.
  ASSERT_TRUE(env->WriteFileAtomic(out + ".part", std::string(1000, 'z')).ok());
  Status bad = device_client_->DownloadArtifact("vib", 1, out);
  EXPECT_EQ(bad.code(), StatusCode::kCorruption) << bad.ToString();
  EXPECT_FALSE(env->FileExists(out + ".part"));
  ASSERT_TRUE(device_client_->DownloadArtifact("vib", 1, out).ok());
  EXPECT_EQ(*env->ReadFile(out), bytes);
  // A complete part from before (server says 416 to the resume) is accepted after its hash check.
  ASSERT_TRUE(env->WriteFileAtomic(out + ".part", bytes).ok());
  ASSERT_TRUE(device_client_->DownloadArtifact("vib", 1, out).ok());
  EXPECT_EQ(device_client_->DownloadArtifact("vib", 9, out).code(), StatusCode::kNotFound);
}

TEST_F(RegistryApiTest, ParallelDownloadsDuringPublishesAreConsistent) {
  Publish("vib", TfliteModelBytes(2 << 20, 100));
  std::atomic<bool> stop{false};
  std::atomic<int> downloads{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      auto raw = Raw();
      while (!stop) {
        auto versions = device_client_->ListVersions("vib");
        if (!versions.ok() || versions->empty()) {
          ++failures;
          continue;
        }
        const registry::VersionInfo& latest = versions->back();
        auto r = raw.Get("/v1/models/vib/versions/" + std::to_string(latest.version) + "/artifact", As(device_));
        if (!r || r->status != 200 || r->get_header_value("ETag") != "\"" + latest.sha256 + "\"" ||
            registry::Sha256Hex(r->body) != latest.sha256 || static_cast<int64_t>(r->body.size()) != latest.size) {
          ++failures;
        }
        ++downloads;
      }
    });
  }
  for (uint32_t i = 1; i <= 6; ++i) Publish("vib", TfliteModelBytes((2 << 20) + i * 4096, 100 + i));
  while (downloads < 24) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(device_client_->ListVersions("vib")->size(), 7u);
}

TEST_F(RegistryApiTest, GatesRefuseWithTheirName) {
  ServeOptions o;
  o.edgetpu_models = {"tpu-vib"};
  // Stands in for edgetpu::Check until that module exists: refuses models over 2000 bytes.
  o.edgetpu_check = [](std::span<const uint8_t> model) {
    if (model.size() > 2000) return Status::InvalidArgument("operator 7 (MEAN) does not map to the Edge TPU");
    return Status::Ok();
  };
  o.min_metrics = {{"val_accuracy", 0.9}};
  Start(o);
  auto raw = Raw();
  auto publish = [&](const std::string& model, const std::string& bytes, const std::string& metrics) {
    return raw.Post("/v1/models/" + model + "/versions", As(admin_, {{"X-Edgeloop-Metrics", metrics}}), bytes,
                    "application/octet-stream");
  };
  auto tpu = publish("tpu-vib", TfliteModelBytes(3000, 1), R"({"val_accuracy":0.95})");
  EXPECT_EQ(tpu->status, 422);
  json e = json::parse(tpu->body)["error"];
  EXPECT_EQ(e["code"], "GateRefused");
  EXPECT_EQ(e["gate"], "edgetpu");
  EXPECT_NE(e["message"].get<std::string>().find("MEAN"), std::string::npos);
  EXPECT_EQ(publish("tpu-vib", TfliteModelBytes(1000, 1), R"({"val_accuracy":0.95})")->status, 201);
  EXPECT_EQ(publish("cpu-vib", TfliteModelBytes(3000, 1), R"({"val_accuracy":0.95})")->status, 201);
  auto low = publish("cpu-vib", TfliteModelBytes(1000, 2), R"({"val_accuracy":0.5})");
  EXPECT_EQ(low->status, 422);
  EXPECT_EQ(json::parse(low->body)["error"]["gate"], "metric-floor");
  auto not_model = publish("cpu-vib", "PK\x03\x04 a zip file", R"({"val_accuracy":0.95})");
  EXPECT_EQ(json::parse(not_model->body)["error"]["gate"], "tflite");
  auto bad_metrics = publish("cpu-vib", TfliteModelBytes(1000, 2), "not json");
  EXPECT_EQ(bad_metrics->status, 400);

  // The default checker is edgetpu::Check on the real bytes: a float model is refused naming the first
  // operator that does not map; the same model quantized to INT8 goes through.
  ServeOptions real;
  real.edgetpu_models = {"tpu-vib"};
  Start(real);
  testing_support::FloatCnnSpec spec;
  const tflite::Graph float_graph = testing_support::FloatCnn(spec);
  auto float_bytes = tflite::WriteModel(float_graph);
  ASSERT_TRUE(float_bytes.ok());
  auto refused = Raw().Post("/v1/models/tpu-vib/versions", As(admin_),
                            std::string(float_bytes->begin(), float_bytes->end()), "application/octet-stream");
  EXPECT_EQ(refused->status, 422);
  json re = json::parse(refused->body)["error"];
  EXPECT_EQ(re["gate"], "edgetpu");
  EXPECT_NE(re["message"].get<std::string>().find("operator 0 (RESHAPE)"), std::string::npos) << refused->body;
  EXPECT_NE(re["message"].get<std::string>().find("FLOAT32"), std::string::npos) << refused->body;
  auto q = quant::QuantizeGraph(float_graph, {testing_support::VibrationWindows(32, spec.length, 1, 1)});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto int8_bytes = tflite::WriteModel(q->graph);
  ASSERT_TRUE(int8_bytes.ok());
  auto accepted = Raw().Post("/v1/models/tpu-vib/versions", As(admin_),
                             std::string(int8_bytes->begin(), int8_bytes->end()), "application/octet-stream");
  EXPECT_EQ(accepted->status, 201) << accepted->body;
  EXPECT_TRUE(MetricsHave("edgeloop_registry_uploads_total{result=\"refused\"} 1"));
}

TEST_F(RegistryApiTest, OneServerPerDataDirectory) {
  ServeOptions o;
  o.data_dir = dir_.path();
  o.listen = "127.0.0.1:0";
  auto second = RegistryServer::Create(o);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

}  // namespace
}  // namespace edgeloop::server
