// The agent's HTTP client for the registry (OTA) and the server for GET /metrics. http:// is served
// by a small HTTP/1.1 client of our own (http_plain.cc); https:// by cpp-httplib with OpenSSL in a
// plugin that is loaded only when an https:// registry is configured (http_tls_plugin.cc), so an
// agent without TLS never maps libcrypto (~3 MB resident of the 8 MB target).
#ifndef EDGELOOP_AGENT_HTTP_H_
#define EDGELOOP_AGENT_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::agent {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpHead {
  int status = 0;
  HttpHeaders headers;
  // The first header of that name (case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
  bool Has(std::string_view name) const;
};

struct HttpClientOptions {
  std::string base;  // "http://host:port" or "https://host:port", no path
  std::string token;  // bearer token, "" for none
  std::string ca_file;  // https: CA bundle ("" = the system's)
  int connect_timeout_s = 5;
  int read_timeout_s = 30;
  int write_timeout_s = 10;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // GET base + path. on_head sees the status and headers; on_data the body in pieces (chunked
  // transfer decoded). Either returning false ends the request with Unavailable("cancelled").
  // Transport failures are Unavailable with what failed.
  virtual Status Get(const std::string& path, const HttpHeaders& headers,
                     const std::function<bool(const HttpHead&)>& on_head,
                     const std::function<bool(const char*, size_t)>& on_data) = 0;
  // From any thread: makes a running or later Get fail promptly.
  virtual void Stop() = 0;
};

// http:// or https:// (the TLS plugin is loaded on first use; its absence is an error naming the
// file). Other schemes: InvalidArgument.
Result<std::unique_ptr<HttpClient>> NewHttpClient(const HttpClientOptions& options);

// The plain-TCP client (exposed for tests).
std::unique_ptr<HttpClient> NewPlainHttpClient(const HttpClientOptions& options);

// The plugin's entry point (C linkage so dlsym can find it): a new client, or nullptr.
using HttpTlsFactory = HttpClient* (*)(const HttpClientOptions*);
constexpr const char* kHttpTlsFactorySymbol = "edgeloop_agent_https_client_new";

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_HTTP_H_
