// The agent's own HTTP pieces against real servers on loopback: the plain-TCP client against
// cpp-httplib (Content-Length, chunked, status and headers, refused connection, Stop), the https
// client through the TLS plugin against an httplib SSLServer with a CA made by the openssl CLI,
// and the /metrics server answering a real HTTP client.
#include "agent/http.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/health.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using testing_support::FreePort;
using testing_support::RunCommand;

// A server on a free loopback port, run on its own thread for the life of the fixture.
template <typename Server>
struct Running {
  Server& server;
  int port;
  std::thread thread;
  explicit Running(Server& s) : server(s), port(s.bind_to_any_port("127.0.0.1")) {
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~Running() {
    server.stop();
    thread.join();
  }
};

struct Fetched {
  Status status;
  HttpHead head;
  std::string body;
};

Fetched Fetch(HttpClient& c, const std::string& path, const HttpHeaders& headers = {}) {
  Fetched f;
  f.status = c.Get(
      path, headers,
      [&](const HttpHead& h) {
        f.head = h;
        return true;
      },
      [&](const char* d, size_t n) {
        f.body.append(d, n);
        return true;
      });
  return f;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(AgentHttp, PlainClientReadsLengthAndChunkedBodiesStatusAndHeaders) {
  const std::string big = Pattern(300000);
  httplib::Server server;
  std::string seen_auth, seen_range;
  server.Get("/fixed", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    seen_range = req.get_header_value("Range");
    const_cast<httplib::Request&>(req).ranges.clear();  // we answer; httplib would cut the body itself
    res.status = 206;
    res.set_header("Content-Range", "bytes 5-9/10");
    res.set_content(big, "application/octet-stream");
  });
  server.Get("/chunked", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream", [&](size_t offset, httplib::DataSink& sink) {
      if (offset < big.size()) {
        sink.write(big.data() + offset, std::min<size_t>(7777, big.size() - offset));
      } else {
        sink.done();
      }
      return true;
    });
  });
  Running running(server);
  HttpClientOptions o;
  o.base = "http://127.0.0.1:" + std::to_string(running.port);
  o.token = "tok-123";
  auto c = NewHttpClient(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();

  Fetched f = Fetch(**c, "/fixed", {{"Range", "bytes=5-"}});
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.head.status, 206);
  EXPECT_EQ(f.head.Header("content-range"), "bytes 5-9/10");
  EXPECT_EQ(f.head.Header("Content-Length"), std::to_string(big.size()));
  EXPECT_EQ(f.body.size(), big.size());
  EXPECT_TRUE(f.body == big);
  EXPECT_EQ(seen_auth, "Bearer tok-123");
  EXPECT_EQ(seen_range, "bytes=5-");

  Fetched g = Fetch(**c, "/chunked");
  ASSERT_TRUE(g.status.ok()) << g.status.ToString();
  EXPECT_EQ(g.head.status, 200);
  EXPECT_EQ(g.head.Header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(g.body.size(), big.size());
  EXPECT_TRUE(g.body == big);

  Fetched h = Fetch(**c, "/missing");
  ASSERT_TRUE(h.status.ok()) << h.status.ToString();
  EXPECT_EQ(h.head.status, 404);

  // A callback that says no ends the request.
  Status st = (*c)->Get("/fixed", {}, [](const HttpHead&) { return false; }, [](const char*, size_t) { return true; });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "cancelled");
}

TEST(AgentHttp, PlainClientNamesTheServerItCannotReachAndStopsPromptly) {
  const int closed_port = FreePort();
  HttpClientOptions o;
  o.base = "http://127.0.0.1:" + std::to_string(closed_port);
  Fetched f = Fetch(*NewPlainHttpClient(o), "/x");
  EXPECT_EQ(f.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(f.status.message().find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos)
      << f.status.message();
  EXPECT_NE(f.status.message().find("cannot connect"), std::string::npos) << f.status.message();

  // A server that sends half the body and then stalls: Stop from another thread ends the Get.
  httplib::Server server;
  server.Get("/stall", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(1000, "application/octet-stream", [](size_t offset, size_t, httplib::DataSink& sink) {
      if (offset == 0) {
        sink.write(std::string(500, 'x').data(), 500);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return true;  // never the rest
    });
  });
  Running running(server);
  o.base = "http://127.0.0.1:" + std::to_string(running.port);
  auto c = NewPlainHttpClient(o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c->Stop();
  });
  auto t0 = std::chrono::steady_clock::now();
  Fetched g = Fetch(*c, "/stall");
  auto took = std::chrono::steady_clock::now() - t0;
  stopper.join();
  EXPECT_EQ(g.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(g.body.size(), 500u);
  EXPECT_LT(took, std::chrono::seconds(10));  // the read timeout is 30 s: Stop, not the timeout, ended it
  server.stop();
}

TEST(AgentHttp, HttpsGoesThroughTheTlsPluginAndVerifiesTheServer) {
  testing_support::TempDir dir;
  const std::string ca = dir.Join("ca.crt"), key = dir.Join("server.key"), cert = dir.Join("server.crt");
  std::ofstream(dir.Join("ext.cnf")) << "subjectAltName=IP:127.0.0.1\n";
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.Join("ca.key"), "-out", ca,
            "-days", "2", "-subj", "/CN=edgeloop-test-ca"},
           {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", dir.Join("server.csr"), "-subj",
            "/CN=127.0.0.1"},
           {"openssl", "x509", "-req", "-in", dir.Join("server.csr"), "-CA", ca, "-CAkey", dir.Join("ca.key"),
            "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", dir.Join("ext.cnf")}}) {
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
  }
  httplib::SSLServer server(cert.c_str(), key.c_str());
  ASSERT_TRUE(server.is_valid());
  std::string seen_auth;
  server.Get("/v1/x", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    res.set_content("over tls", "text/plain");
  });
  Running running(server);
  HttpClientOptions o;
  o.base = "https://127.0.0.1:" + std::to_string(running.port);
  o.token = "dev-token";
  o.ca_file = ca;
  auto c = NewHttpClient(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Fetched f = Fetch(**c, "/v1/x");
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.head.status, 200);
  EXPECT_EQ(f.body, "over tls");
  EXPECT_EQ(seen_auth, "Bearer dev-token");

  // Without our CA the server is not trusted.
  o.ca_file = dir.Join("server.crt");  // a certificate, but not the issuer
  auto untrusted = NewHttpClient(o);
  ASSERT_TRUE(untrusted.ok());
  Fetched g = Fetch(**untrusted, "/v1/x");
  EXPECT_EQ(g.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(g.body.empty());

  o.base = "ftp://127.0.0.1:1";
  EXPECT_EQ(NewHttpClient(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(AgentHttp, MetricsServerAnswersGetMetricsAndNothingElse) {
  MetricsRegistry registry;
  registry.GetCounter("edgeloop_agent_results_total", "Windows classified.").Increment(3);
  auto server = MetricsServer::Start("127.0.0.1:0", &registry);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client c("127.0.0.1", (*server)->port());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("edgeloop_agent_results_total 3"), std::string::npos) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  auto other = c.Get("/other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto post = c.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);

  // The port is taken while the server runs.
  auto again = MetricsServer::Start("127.0.0.1:" + std::to_string((*server)->port()), &registry);
  EXPECT_EQ(again.status().code(), StatusCode::kIOError);
  EXPECT_EQ(MetricsServer::Start("127.0.0.1", &registry).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeloop::agent
