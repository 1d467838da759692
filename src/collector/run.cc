#include "edgeloop/collector/run.h"

#include <signal.h>

#include <cstdio>

#include "edgeloop/server/api_server.h"
#include "edgeloop/server/serve.h"

namespace edgeloop::collector {

std::string DefaultJournalDir(const std::string& db, const std::string& client_id) {
  if (db.find("://") == std::string::npos) {
    std::string path = db.rfind("sqlite:", 0) == 0 ? db.substr(7) : db;
    return path + ".journal-" + client_id;
  }
  return "edgeloop-journal-" + client_id;
}

Status RunCollect(RunCollectOptions options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EL_ASSIGN_OR_RETURN(auto store, store::Store::Open(options.db));
  MetricsRegistry metrics;
  options.collector.metrics = &metrics;
  if (options.collector.journal_dir.empty()) {
    options.collector.journal_dir = DefaultJournalDir(options.db, options.collector.client_id);
  }
  std::unique_ptr<server::ApiServer> http;
  if (!options.metrics_listen.empty()) {
    std::string host;
    int port = 0;
    EL_RETURN_IF_ERROR(server::ParseListenAddress(options.metrics_listen, &host, &port));
    server::ApiServerOptions ao;
    ao.metrics = &metrics;
    ao.threads = 2;
    EL_ASSIGN_OR_RETURN(http, server::ApiServer::Create(ao));
    EL_ASSIGN_OR_RETURN(port, http->Listen(host, port));
    EL_RETURN_IF_ERROR(http->Start());
    std::fprintf(stderr, "edgeloop collect: metrics on http://%s:%d/metrics\n", host.c_str(), port);
  }
  const std::string journal = options.collector.journal_dir;
  EL_ASSIGN_OR_RETURN(auto collector, Collector::Create(options.collector, store.get()));
  EL_RETURN_IF_ERROR(collector->Start());
  if (collector->replayed() > 0) {
    std::fprintf(stderr, "edgeloop collect: replayed %lld journaled message(s)\n",
                 static_cast<long long>(collector->replayed()));
  }
  std::fprintf(stderr, "edgeloop collect: %s -> %s (%s), journal %s\n", options.collector.mqtt_url.c_str(),
               options.db.c_str(), store->backend().c_str(), journal.c_str());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  collector->Stop();
  if (http) http->Stop();
  std::fprintf(stderr, "edgeloop collect: stopped (received %lld, stored %lld, duplicates %lld, dead letters %lld)\n",
               static_cast<long long>(collector->received()), static_cast<long long>(collector->stored()),
               static_cast<long long>(collector->duplicates()), static_cast<long long>(collector->dead_letters()));
  return Status::Ok();
}

}  // namespace edgeloop::collector
