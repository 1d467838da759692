// `edgeloop collect` as a function: opens the store, starts the collector and its /metrics
// endpoint, runs until SIGINT/SIGTERM, then stops cleanly (pending messages committed).
#ifndef EDGELOOP_COLLECTOR_RUN_H_
#define EDGELOOP_COLLECTOR_RUN_H_

#include <string>

#include "edgeloop/collector/collector.h"
#include "edgeloop/common/status.h"

namespace edgeloop::collector {

struct RunCollectOptions {
  CollectorOptions collector;
  std::string db = "edgeloop.db";  // store URL (store.h)
  std::string metrics_listen;      // host:port for /metrics and /healthz; "" = none
};

// The default journal directory for a store URL and client id: next to a SQLite file
// ("<file>.journal-<client id>"), else "./edgeloop-journal-<client id>".
std::string DefaultJournalDir(const std::string& db, const std::string& client_id);

Status RunCollect(RunCollectOptions options);

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_RUN_H_
