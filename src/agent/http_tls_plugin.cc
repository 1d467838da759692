// The https:// client: cpp-httplib with OpenSSL, built as a plugin (libedgeloop-agent-https.so)
// that http.cc loads only when the registry URL is https://. Keeping it out of the agent's own
// link keeps libcrypto/libssl out of every agent that does not use TLS.
#include <httplib.h>

#include <mutex>

#include "agent/http.h"

namespace edgeloop::agent {
namespace {

class TlsHttpClient : public HttpClient {
 public:
  explicit TlsHttpClient(const HttpClientOptions& o) : client_(o.base) {
    client_.set_connection_timeout(o.connect_timeout_s);
    client_.set_read_timeout(o.read_timeout_s);
    client_.set_write_timeout(o.write_timeout_s);
    if (!o.token.empty()) client_.set_bearer_token_auth(o.token);
    if (!o.ca_file.empty()) client_.set_ca_cert_path(o.ca_file);
    client_.enable_server_certificate_verification(true);
  }
  Status Get(const std::string& path, const HttpHeaders& headers, const std::function<bool(const HttpHead&)>& on_head,
             const std::function<bool(const char*, size_t)>& on_data) override {
    httplib::Headers h(headers.begin(), headers.end());
    auto res = client_.Get(
        path, h,
        [&](const httplib::Response& r) {
          HttpHead head;
          head.status = r.status;
          head.headers.assign(r.headers.begin(), r.headers.end());
          return !on_head || on_head(head);
        },
        [&](const char* data, size_t len) { return on_data(data, len); });
    if (!res) {
      if (res.error() == httplib::Error::Canceled) return Status::Unavailable("cancelled");
      return Status::Unavailable("GET " + path + ": " + httplib::to_string(res.error()));
    }
    return Status::Ok();
  }
  void Stop() override { client_.stop(); }

 private:
  httplib::Client client_;
};

}  // namespace
}  // namespace edgeloop::agent

extern "C" __attribute__((visibility("default"))) edgeloop::agent::HttpClient* edgeloop_agent_https_client_new(
    const edgeloop::agent::HttpClientOptions* o) {
  return new edgeloop::agent::TlsHttpClient(*o);
}
