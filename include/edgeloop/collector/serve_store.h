// `edgeloop serve --db URL [--mqtt URL]`: the registry server plus the store's /v1 API, the
// collector running in process, and the OTA push: the signed manifest of every channel is
// published retained on edgeloop/{fleet}/models/{model}/{channel} at startup, whenever a channel
// moves (promote, rollback, publish to a channel; checked every `manifest_poll_ms`), and again
// after every reconnect to the broker.
#ifndef EDGELOOP_COLLECTOR_SERVE_STORE_H_
#define EDGELOOP_COLLECTOR_SERVE_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include "edgeloop/collector/collector.h"
#include "edgeloop/common/status.h"
#include "edgeloop/server/serve.h"

namespace edgeloop::collector {

struct ServeStoreOptions {
  std::string db;                 // store URL; "" = DATA_DIR/store.db
  std::string mqtt_url;           // "" = no collector, no manifest push
  std::vector<std::string> fleets = {"default"};  // manifests are pushed to each fleet's topic
  CollectorOptions collector;     // mqtt_url, journal_dir and metrics are filled in
  int manifest_poll_ms = 1000;
  // Started once the server listens (its URL is known), stopped (the returned function) before the
  // server stops: e.g. `serve --retrain-every`'s scheduler (src/loop, which depends on this module).
  std::function<Result<std::function<void()>>(store::Store& store, server::RegistryServer& server)> background;
};

Status RunServeWithStore(server::ServeOptions serve, ServeStoreOptions options);

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_SERVE_STORE_H_
