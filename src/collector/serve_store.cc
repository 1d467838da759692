#include "edgeloop/collector/serve_store.h"

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "edgeloop/mqtt/messages.h"
#include "edgeloop/server/store_routes.h"

namespace edgeloop::collector {
namespace {

// Publishes every channel's signed manifest, retained, when it changes or after a reconnect.
class ManifestPusher {
 public:
  ManifestPusher(registry::Registry* reg, std::vector<std::string> fleets, int poll_ms)
      : registry_(reg), fleets_(std::move(fleets)), poll_ms_(poll_ms) {}
  ~ManifestPusher() { Stop(); }

  Status Start(const std::string& url) {
    mqtt::ClientOptions o;
    o.server_uri = url;
    o.client_id = "edgeloop-serve-manifests";
    o.clean_start = true;
    mqtt::ClientCallbacks cb;
    cb.on_connected = [this](bool) {
      std::lock_guard<std::mutex> lock(mu_);
      published_.clear();  // republish everything: the broker may have lost its retained messages
      cv_.notify_all();
    };
    EL_ASSIGN_OR_RETURN(client_, mqtt::Client::Create(o, cb));
    EL_RETURN_IF_ERROR(client_->Connect());
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (client_) (void)client_->Disconnect(2000);
    client_.reset();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      PushChanges();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_));
    }
  }

  void PushChanges() {
    if (!client_->connected()) return;
    auto models = registry_->ListModels();
    if (!models.ok()) return;
    for (const registry::ModelInfo& m : *models) {
      for (const registry::ChannelPointer& c : m.channels) {
        if (c.version <= 0) continue;
        std::string key = m.name + "/" + c.channel;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (published_[key] == c.version) continue;
        }
        auto manifest = registry_->GetManifestJson(m.name, c.version);
        if (!manifest.ok()) continue;
        bool all = true;
        for (const std::string& fleet : fleets_) {
          all &= client_->Publish(mqtt::ModelTopic(fleet, m.name, c.channel), *manifest, 1, true, 0).ok();
        }
        if (all) {
          std::lock_guard<std::mutex> lock(mu_);
          published_[key] = c.version;
          std::fprintf(stderr, "edgeloop serve: pushed %s version %lld (%s) to %zu fleet(s)\n", m.name.c_str(),
                       static_cast<long long>(c.version), c.channel.c_str(), fleets_.size());
        }
      }
    }
  }

  registry::Registry* registry_;  // must outlive this
  const std::vector<std::string> fleets_;
  const int poll_ms_;
  std::unique_ptr<mqtt::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int64_t> published_;  // GUARDED_BY(mu_): model/channel -> version pushed
  bool stop_ = false;                         // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace

Status RunServeWithStore(server::ServeOptions serve, ServeStoreOptions options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  for (const std::string& f : options.fleets) EL_RETURN_IF_ERROR(mqtt::ValidateName("fleet", f));
  const std::string data_dir = serve.data_dir;
  if (options.db.empty()) options.db = data_dir + "/store.db";
  EL_ASSIGN_OR_RETURN(auto server, server::RegistryServer::Create(std::move(serve)));
  const registry::SweepReport& sweep = server->registry().startup_sweep();
  if (sweep.temp_files_removed + sweep.orphans_removed > 0) {
    std::fprintf(stderr, "edgeloop serve: removed %d unfinished upload(s) and %d unreferenced artifact(s)\n",
                 sweep.temp_files_removed, sweep.orphans_removed);
  }
  for (const std::string& damage : server->registry().damaged_versions()) {
    std::fprintf(stderr, "edgeloop serve: warning: %s\n", damage.c_str());
  }
  EL_ASSIGN_OR_RETURN(auto store, store::Store::Open(options.db));
  server::StoreRoutes routes(store.get());
  server->api().AddRoutes(routes);
  std::unique_ptr<Collector> collector;
  std::unique_ptr<ManifestPusher> pusher;
  if (!options.mqtt_url.empty()) {
    CollectorOptions co = options.collector;
    co.mqtt_url = options.mqtt_url;
    co.metrics = &server->metrics();
    if (co.client_id == CollectorOptions().client_id) co.client_id = "edgeloop-serve-collector";
    if (co.journal_dir.empty()) co.journal_dir = data_dir + "/collector-journal";
    EL_ASSIGN_OR_RETURN(collector, Collector::Create(co, store.get()));
    EL_RETURN_IF_ERROR(collector->Start());
    pusher = std::make_unique<ManifestPusher>(&server->registry(), options.fleets, options.manifest_poll_ms);
    EL_RETURN_IF_ERROR(pusher->Start(options.mqtt_url));
  }
  EL_RETURN_IF_ERROR(server->Start());
  std::function<void()> stop_background;
  if (options.background) {
    auto started = options.background(*store, *server);
    if (!started.ok()) {
      if (pusher) pusher->Stop();
      if (collector) collector->Stop();
      server->Stop();
      return started.status();
    }
    stop_background = std::move(*started);
  }
  std::fprintf(stderr, "edgeloop serve: listening on %s (data %s, store %s %s, mqtt %s, signing key %s)\n",
               server->url().c_str(), data_dir.c_str(), store->backend().c_str(), options.db.c_str(),
               options.mqtt_url.empty() ? "off" : options.mqtt_url.c_str(), server->registry().public_key_hex().c_str());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "edgeloop serve: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (stop_background) stop_background();
  if (pusher) pusher->Stop();
  if (collector) collector->Stop();
  server->Stop();
  std::fprintf(stderr, "edgeloop serve: stopped\n");
  return Status::Ok();
}

}  // namespace edgeloop::collector
