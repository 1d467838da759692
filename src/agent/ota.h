// Over-the-air model updates, on their own thread so that a slow download never delays a sensor
// window. Candidates come from two places: the retained manifest on
// edgeloop/{fleet}/models/{model}/{channel} (a push, handed in by OfferManifest) and a poll of
// the registry every poll_seconds, GET /v1/devices/{id}/assignment?model=NAME, whose answer
// (stable or canary, decided by the server) wins when the two disagree.
//
// A model is accepted only if, in this order: the manifest parses and names the configured model;
// its ed25519 signature verifies with registry.public_key; its version is newer than the
// installed one and it has not expired; the artifact's size and sha256 match the manifest. Then:
// resumable download (GET /v1/models/{name}/versions/{v}/artifact with Range + If-Range on the
// ETag, continuing a partial file after a restart) into <data_dir>/models/partial/, fsync, rename
// into place, directory fsync, load, smoke inference, and only then the atomic state switch
// (model_store.h) and the hand-over to the inference loop. If any step fails the running model
// stays. Every outcome is reported: downloading, installed vN, refused vN: why, failed vN: why
// (a transient error: retried at the next poll). A refused manifest is not tried again.
//
// Thread-safety: OfferManifest, Poke and Stop may be called from any thread; callbacks run on
// the OTA thread.
#ifndef EDGELOOP_AGENT_OTA_H_
#define EDGELOOP_AGENT_OTA_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/http.h"
#include "agent/model.h"
#include "agent/model_store.h"
#include "edgeloop/common/env.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::agent {

struct OtaOptions {
  std::string device_id;
  std::string registry_url;  // "" = no polling and no downloads (push only reports)
  std::string token;
  std::string public_key;    // hex; required
  std::string model;         // registry model name
  int64_t poll_seconds = 30; // 0 = no polling
  int64_t first_poll_ms = 1000;
  std::string ca_file;       // for an https registry; "" = system store
};

class OtaUpdater {
 public:
  struct Callbacks {
    // A new model is installed and loaded: the loop should switch to it.
    std::function<void(std::unique_ptr<Model> model, const InstalledModel& info)> on_installed;
    // Any outcome worth reporting (status topic).
    std::function<void(const mqtt::OtaStatus& status)> on_status;
  };
  // `store` and `env` must outlive the updater. `installed_version` and `installed_sha256` are
  // those of the model the loop runs (0 and "" for none or a local model file).
  OtaUpdater(OtaOptions options, ModelStore* store, Env* env, ModelLoader loader, Callbacks callbacks,
             int64_t installed_version, std::string installed_sha256);
  ~OtaUpdater();  // Stop()
  OtaUpdater(const OtaUpdater&) = delete;
  OtaUpdater& operator=(const OtaUpdater&) = delete;

  void Start();
  // Interrupts a download in progress and joins the thread.
  void Stop();
  // A manifest pushed over MQTT (payload as received).
  void OfferManifest(std::string payload);
  // Poll the registry now (e.g. after an MQTT reconnect).
  void Poke();

 private:
  struct Candidate {
    std::string manifest_json;
    std::string origin;  // "mqtt push", "registry poll"
  };
  void Run();
  void PollRegistry();
  void Consider(const Candidate& c);
  // Downloads the artifact into the store's partial file. Transient failures are Unavailable.
  Status Download(const registry::Manifest& m);
  Result<std::string> HttpGet(const std::string& path, int* status);
  void Report(const std::string& state, int64_t version, const std::string& reason);
  Result<std::unique_ptr<HttpClient>> NewClient();

  const OtaOptions options_;
  ModelStore* store_;  // not owned
  Env* env_;           // not owned
  ModelLoader loader_;
  Callbacks callbacks_;
  int64_t installed_version_;  // OTA thread only after Start
  std::string installed_sha256_;
  std::set<std::string> refused_;  // signatures of manifests refused for good (OTA thread)
  std::string crash_point_;        // EDGELOOP_TEST_CRASH_POINT, for crash tests
  std::string last_poll_error_;    // OTA thread: reported once until it changes

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // GUARDED_BY(mu_)
  bool poke_ = false;                 // GUARDED_BY(mu_)
  std::vector<Candidate> offers_;     // GUARDED_BY(mu_)
  HttpClient* active_client_ = nullptr;        // GUARDED_BY(mu_): the request Stop interrupts
  std::thread thread_;
};

// Test hook: when the environment variable EDGELOOP_TEST_CRASH_POINT equals `point`, the process
// kills itself with SIGKILL right here (crash tests of the update sequence).
void MaybeCrashAt(const std::string& configured, const char* point);

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_OTA_H_
