// A registry for the agent's OTA tests (test-only, header-only): a real HTTP server on loopback
// (cpp-httplib) serving the two device routes of `edgeloop serve` with its paths and JSON —
//   GET /v1/devices/{id}/assignment?model=NAME -> {model, device, channel, version, share, bucket,
//                                                  manifest}
//   GET /v1/models/{name}/versions/{v}/artifact -> the bytes, ETag = "sha256", Range/If-Range
// — with manifests signed by a real ed25519 key, and knobs to misbehave: tamper with or leave out
// the signature, expire, serve other bytes than the manifest names, or send slowly.
#ifndef EDGELOOP_AGENT_TEST_REGISTRY_H_
#define EDGELOOP_AGENT_TEST_REGISTRY_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgeloop/registry/manifest.h"

namespace edgeloop::agent::testing {

// How TestRegistry::Publish misbehaves.
struct PublishOptions {
  bool sign = true;
  bool tamper = false;          // change a signed field afterwards (the signature no longer fits)
  bool expired = false;         // `expires` in the past
  std::string name;             // "" = the registry's model name
  std::string serve_bytes;      // non-empty: the artifact route serves these instead
  int64_t declared_size = -1;   // >= 0: the manifest claims this size
};


class TestRegistry {
 public:
  using PublishOptions = testing::PublishOptions;

  explicit TestRegistry(std::string model = "vibration-classifier")
      : model_(std::move(model)), key_(registry::SigningKey::Generate()) {
    server_.Get(R"(/v1/devices/([^/]+)/assignment)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      requests_.push_back(req.path);
      if (current_ == 0 || req.get_param_value("model") != model_) {
        res.status = 404;
        res.set_content(R"({"error":"NotFound","message":"nothing assigned"})", "application/json");
        return;
      }
      const std::string& manifest = versions_.at(current_).manifest;
      res.set_content(R"({"model":")" + model_ + R"(","device":")" + req.matches[1].str() +
                          R"(","channel":"stable","version":)" + std::to_string(current_) +
                          R"(,"share":1,"bucket":42,"manifest":)" + manifest + "}",
                      "application/json");
    });
    server_.Get(R"(/v1/models/([^/]+)/versions/(\d+)/artifact)",
                [this](const httplib::Request& req, httplib::Response& res) { ServeArtifact(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TestRegistry() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string public_key() const { return key_.PublicKeyHex(); }
  const registry::SigningKey& key() const { return key_; }

  // Adds version `v` and makes it the one every device is assigned. Returns the manifest JSON.
  std::string Publish(int64_t v, const std::string& bytes, const PublishOptions& o = {}) {
    registry::Manifest m;
    m.name = o.name.empty() ? model_ : o.name;
    m.version = v;
    m.sha256 = registry::Sha256Hex(bytes);
    m.size = o.declared_size >= 0 ? o.declared_size : static_cast<int64_t>(bytes.size());
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    m.created = registry::FormatRfc3339(now - (o.expired ? 3 * 86400000LL : 0));
    m.expires = registry::FormatRfc3339(o.expired ? now - 86400000LL : now + 30 * 86400000LL);
    m.metrics_json = R"({"val_accuracy":0.99})";
    if (o.sign) registry::SignManifest(&m, key_);
    if (o.tamper) m.size += 1;  // after signing: the signature no longer covers what is claimed
    std::string json = registry::ManifestToJson(m);
    std::lock_guard<std::mutex> l(mu_);
    versions_[v] = {json, bytes, o.serve_bytes.empty() ? bytes : o.serve_bytes};
    current_ = v;
    return json;
  }
  // Bytes per second for artifact downloads (0 = unlimited).
  void SetThrottle(int64_t bytes_per_second) { throttle_ = bytes_per_second; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<std::string> ranges() {
    std::lock_guard<std::mutex> l(mu_);
    return ranges_;
  }
  int artifact_gets() {
    std::lock_guard<std::mutex> l(mu_);
    return artifact_gets_;
  }

 private:
  struct Version {
    std::string manifest, bytes, served;
  };

  void ServeArtifact(const httplib::Request& req, httplib::Response& res) {
    // We answer Range ourselves (with If-Range); httplib would otherwise apply it a second time to
    // what the content provider sends (as `edgeloop serve` does, see src/server/api_server.cc).
    const_cast<httplib::Request&>(req).ranges.clear();
    std::string body, etag;
    {
      std::lock_guard<std::mutex> l(mu_);
      requests_.push_back(req.path);
      ++artifact_gets_;
      auto it = versions_.find(std::stoll(req.matches[2].str()));
      if (req.matches[1].str() != model_ || it == versions_.end()) {
        res.status = 404;
        return;
      }
      body = it->second.served;
      etag = "\"" + registry::Sha256Hex(body) + "\"";
      ranges_.push_back(req.get_header_value("Range"));
    }
    res.set_header("ETag", etag);
    res.set_header("Accept-Ranges", "bytes");
    size_t first = 0;
    std::string range = req.get_header_value("Range");
    bool if_range_ok = !req.has_header("If-Range") || req.get_header_value("If-Range") == etag;
    if (!range.empty() && if_range_ok && range.rfind("bytes=", 0) == 0) {
      first = std::stoul(range.substr(6));
      if (first >= body.size()) {
        res.status = 416;
        res.set_header("Content-Range", "bytes */" + std::to_string(body.size()));
        return;
      }
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(body.size() - 1) + "/" +
                                          std::to_string(body.size()));
    }
    std::string part = body.substr(first);
    int64_t throttle = throttle_.load();
    res.set_content_provider(part.size(), "application/octet-stream",
                             [part, throttle](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t chunk = throttle > 0 ? std::min<size_t>(length, 1024) : length;
                               if (throttle > 0) {
                                 std::this_thread::sleep_for(std::chrono::microseconds(chunk * 1000000 / throttle));
                               }
                               return sink.write(part.data() + offset, chunk);
                             });
  }

  std::string model_;
  registry::SigningKey key_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int64_t> throttle_{0};
  std::mutex mu_;
  std::map<int64_t, Version> versions_;  // GUARDED_BY(mu_)
  int64_t current_ = 0;                  // GUARDED_BY(mu_)
  std::vector<std::string> requests_, ranges_;
  int artifact_gets_ = 0;
};

}  // namespace edgeloop::agent::testing

#endif  // EDGELOOP_AGENT_TEST_REGISTRY_H_
