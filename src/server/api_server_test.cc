// ApiServer as another module would use it: its own RouteProvider on the shared server, with the
// real token store for auth, over real HTTP on loopback.
#include "edgeloop/server/api_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "edgeloop/registry/tokens.h"
#include "edgeloop/server/http_util.h"
#include "edgeloop/server/serve.h"
#include "test/support/temp_dir.h"

namespace edgeloop::server {
namespace {

using nlohmann::json;

// What a later module (say, the collector's labels API) would add.
class LabelsRoutes final : public RouteProvider {
 public:
  std::atomic<int> slow_started{0};
  void RegisterRoutes(ApiServer& s) override {
    s.Get("/v1/labels/{device}/{seq}", Access::kDevice, [](RequestContext& ctx) {
      SendJson(ctx.res, 200, json{{"device", ctx.Param("device")}, {"seq", ctx.Param("seq")},
                                  {"caller", ctx.principal.name}, {"q", ctx.Query("q")}});
    });
    s.Post("/v1/labels", Access::kAdmin, [](RequestContext& ctx) {
      auto body = ParseJsonObjectBody(ctx.req);
      if (!body.ok()) return SendStatus(ctx.res, body.status());
      SendJson(ctx.res, 201, *body);
    });
    s.Get("/v1/boom", Access::kPublic, [](RequestContext&) -> void { throw std::runtime_error("kaboom"); });
    s.Get("/v1/slow", Access::kPublic, [this](RequestContext& ctx) {
      ++slow_started;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      SendJson(ctx.res, 200, json{{"done", true}});
    });
    s.PostUpload("/v1/blobs", Access::kAdmin, [](RequestContext& ctx, const httplib::ContentReader& reader) {
      size_t n = 0;
      reader([&](const char*, size_t len) {
        n += len;
        return true;
      });
      SendJson(ctx.res, 200, json{{"bytes", n}});
    });
  }
};

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tokens = registry::TokenStore::Open(dir_.path());
    ASSERT_TRUE(tokens.ok());
    tokens_ = std::move(*tokens);
    const registry::Actor local{"local", "local"};
    admin_ = tokens_->Create(registry::Role::kAdmin, "", "admin-1", local)->secret;
    device_ = tokens_->Create(registry::Role::kDevice, "dev-1", "dev-1", local)->secret;
    auth_ = MakeTokenAuthenticator(tokens_.get());
    ApiServerOptions o;
    o.authenticator = auth_.get();
    o.max_body_bytes = 1000;
    o.threads = 4;
    auto s = ApiServer::Create(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->AddRoutes(routes_);
    server_->AddHealthCheck("disk", [this] { return healthy_ ? Status::Ok() : Status::IOError("disk full"); });
    ASSERT_TRUE(Env::Default()->CreateDirs(dir_.Join("www")).ok());
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir_.Join("www/index.html"), "<h1>fleet</h1>").ok());
    ASSERT_TRUE(server_->ServeStatic("/ui", dir_.Join("www")).ok());
    auto port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }

  static json ErrorOf(const httplib::Result& r) { return json::parse(r->body)["error"]; }
  httplib::Headers As(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  testing_support::TempDir dir_;
  std::unique_ptr<registry::TokenStore> tokens_;
  std::unique_ptr<Authenticator> auth_;
  LabelsRoutes routes_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_, device_;
  std::atomic<bool> healthy_{true};
};

TEST_F(ApiServerTest, RoutesGetParamsAndPrincipal) {
  auto r = client_->Get("/v1/labels/dev-1/42?q=x%20y", As(device_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json j = json::parse(r->body);
  EXPECT_EQ(j["device"], "dev-1");
  EXPECT_EQ(j["seq"], "42");
  EXPECT_EQ(j["caller"], "dev-1");
  EXPECT_EQ(j["q"], "x y");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST_F(ApiServerTest, AuthAnswers401And403AsJson) {
  auto none = client_->Get("/v1/labels/dev-1/1");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(ErrorOf(none)["code"], "Unauthenticated");
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto unknown = client_->Get("/v1/labels/dev-1/1", As("elt_0000"));
  EXPECT_EQ(unknown->status, 401);
  auto forbidden = client_->Post("/v1/labels", As(device_), "{}", "application/json");
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(ErrorOf(forbidden)["code"], "PermissionDenied");
  auto ok = client_->Post("/v1/labels", As(admin_), "{\"label\":\"fault\"}", "application/json");
  EXPECT_EQ(ok->status, 201);
  // Revocation applies to the next request.
  ASSERT_TRUE(tokens_->Revoke("admin-1", registry::Actor{"local", "local"}).ok());
  auto revoked = client_->Post("/v1/labels", As(admin_), "{}", "application/json");
  EXPECT_EQ(revoked->status, 401);
  EXPECT_NE(ErrorOf(revoked)["message"].get<std::string>().find("revoked"), std::string::npos);
}

TEST_F(ApiServerTest, ErrorsAreJsonEverywhere) {
  auto missing = client_->Get("/nowhere");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorOf(missing)["code"], "NotFound");
  auto boom = client_->Get("/v1/boom");
  EXPECT_EQ(boom->status, 500);
  EXPECT_NE(ErrorOf(boom)["message"].get<std::string>().find("kaboom"), std::string::npos);
  auto bad_json = client_->Post("/v1/labels", As(admin_), "{not json", "application/json");
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(ErrorOf(bad_json)["code"], "InvalidArgument");
  auto too_big = client_->Post("/v1/labels", As(admin_), std::string(5000, ' '), "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(ErrorOf(too_big)["code"], "PayloadTooLarge");
  auto upload_too_big = client_->Post("/v1/blobs", As(admin_), std::string(5000, 'x'), "application/octet-stream");
  ASSERT_TRUE(upload_too_big);
  EXPECT_EQ(upload_too_big->status, 413);
  auto upload = client_->Post("/v1/blobs", As(admin_), std::string(900, 'x'), "application/octet-stream");
  EXPECT_EQ(json::parse(upload->body)["bytes"], 900);
  auto upload_denied = client_->Post("/v1/blobs", As(device_), std::string(900, 'x'), "application/octet-stream");
  ASSERT_TRUE(upload_denied);
  EXPECT_EQ(upload_denied->status, 403);
  // A malformed Range is answered before routing; the answer is still a JSON error.
  auto range = client_->Get("/v1/labels/dev-1/1", {{"Authorization", "Bearer " + device_}, {"Range", "bytes=x"}});
  EXPECT_EQ(range->status, 416);
  EXPECT_EQ(ErrorOf(range)["code"], "RangeNotSatisfiable");
  // A valid Range on a JSON route is ignored rather than cutting the JSON.
  auto whole = client_->Get("/v1/labels/dev-1/1", {{"Authorization", "Bearer " + device_}, {"Range", "bytes=0-3"}});
  EXPECT_EQ(whole->status, 200);
  EXPECT_NO_THROW(json::parse(whole->body));
}

TEST_F(ApiServerTest, HealthMetricsAndStaticFiles) {
  auto health = client_->Get("/healthz");
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["checks"]["disk"], "ok");
  healthy_ = false;
  health = client_->Get("/healthz");
  EXPECT_EQ(health->status, 503);
  EXPECT_NE(health->body.find("disk full"), std::string::npos);

  auto page = client_->Get("/ui/index.html");
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<h1>fleet</h1>");

  client_->Get("/v1/labels/dev-1/7", As(device_));
  client_->Get("/v1/labels/dev-1/8");
  // A request is counted just after its answer is written: poll briefly for the second one.
  const std::vector<std::string> want = {
      "edgeloop_http_requests_total{route=\"/v1/labels/{device}/{seq}\",method=\"GET\",status=\"200\"} 1",
      "edgeloop_http_requests_total{route=\"/v1/labels/{device}/{seq}\",method=\"GET\",status=\"401\"} 1",
      "edgeloop_http_request_duration_seconds_count{route=\"/v1/labels/{device}/{seq}\"} 2"};
  std::string body;
  for (int i = 0; i < 200; ++i) {
    auto metrics = client_->Get("/metrics");
    ASSERT_EQ(metrics->status, 200);
    body = metrics->body;
    bool all = true;
    for (const auto& w : want) all = all && body.find(w) != std::string::npos;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (const auto& w : want) EXPECT_NE(body.find(w), std::string::npos) << w << "\n" << body;
}

TEST_F(ApiServerTest, StopLetsInFlightRequestsFinish) {
  httplib::Result slow{nullptr, httplib::Error::Unknown};
  std::thread t([&] {
    httplib::Client c("127.0.0.1", server_->port());
    slow = c.Get("/v1/slow");
  });
  while (routes_.slow_started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Stop();
  t.join();
  ASSERT_TRUE(slow) << httplib::to_string(slow.error());
  EXPECT_EQ(slow->status, 200);
  EXPECT_FALSE(client_->Get("/healthz")) << "no longer accepting";
}

TEST(ApiServer, RejectsHalfATlsConfiguration) {
  ApiServerOptions o;
  o.tls_cert_file = "/nonexistent.pem";
  EXPECT_EQ(ApiServer::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.tls_key_file = "/nonexistent.key";
  EXPECT_EQ(ApiServer::Create(o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgeloop::server
