// The collector: takes results, alarms and device status off MQTT and writes them to the store
// exactly once (DESIGN.md "MQTT", "Store"; `edgeloop collect`, and in-process in `edgeloop serve`).
//
// Delivery: QoS 1 subscriptions on a persistent MQTT 5 session (clean_start=false, long session
// expiry), as an MQTT 5 shared subscription ("$share/<group>/edgeloop/+/devices/+/results", ...)
// so several collectors split a fleet's traffic. A message is acknowledged (PUBACK) only after it
// is appended to the collector's journal (journal.h), and a journal segment is deleted only after
// the batch holding it is committed. For tcp:// and mqtt:// brokers a reader thread drives
// mqtt::WireClient: everything one read(2) brought is journaled with one write(2), then all of it
// is acknowledged with one write. For ssl:// (TLS) Paho's MQTTAsync is used; it has no manual
// acknowledgement and sends the PUBACK when the message callback returns, so the callback
// returns only after that message is journaled (one write per message). A kill -9 at any point leaves every acknowledged
// message in the store or in the journal (replayed at the next start); unacknowledged ones are
// redelivered by the broker to the same session. The store's (device, seq) key turns the
// resulting at-least-once into exactly-once.
//
// Batching: a writer thread commits what arrived in one transaction when `batch_max` messages are
// waiting or the oldest has waited `batch_ms`. Malformed messages (bad topic, bad JSON, a field out
// of range, device id not matching the topic) are stored as dead letters with the reason and
// counted; they never stop the collector.
//
// Metrics (edgeloop_collector_*): messages received, results stored, duplicates, dead letters,
// batches and their commit latency, device-to-row latency (commit time minus the result's
// timestamp), journal errors, store errors, pending messages.
//
// Thread-safety: Start/Stop from one thread. Counters may be read from any thread.
#ifndef EDGELOOP_COLLECTOR_COLLECTOR_H_
#define EDGELOOP_COLLECTOR_COLLECTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgeloop/common/metrics.h"
#include "edgeloop/common/status.h"
#include "edgeloop/mqtt/client.h"

namespace edgeloop::mqtt {
class WireClient;
}
#include "edgeloop/store/store.h"

namespace edgeloop::collector {

struct CollectorOptions {
  std::string mqtt_url;                          // tcp://host:port, ssl://...
  std::string client_id = "edgeloop-collector";  // the persistent session; unique per collector
  std::string username;
  std::string password;
  std::string ca_file;
  std::string share_group = "edgeloop-collectors";  // "" = plain (non-shared) subscriptions
  std::string fleet = "+";                          // one fleet, or "+" for all
  std::string journal_dir;                          // required; one per collector (client id)
  bool journal_fsync = false;
  int batch_max = 5000;
  int batch_ms = 20;
  size_t max_pending = 200000;  // the callback waits (back-pressure onto TCP) above this
  uint32_t session_expiry_s = 7 * 24 * 3600;
  size_t max_dead_letter_payload = 64 * 1024;
  MetricsRegistry* metrics = nullptr;  // must outlive the collector; null: it owns one
};

struct JournalRecord;
class Journal;

class Collector {
 public:
  // `store` must outlive the collector. Errors: InvalidArgument for bad options.
  static Result<std::unique_ptr<Collector>> Create(CollectorOptions options, store::Store* store);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Replays the journal left by an earlier run into the store, then connects and subscribes.
  // Errors: the journal cannot be read or replayed (IOError), the MQTT client cannot be created.
  Status Start();
  // Disconnects, commits what is pending, stops the writer. Idempotent.
  void Stop();

  int64_t received() const { return received_.load(); }
  int64_t stored() const { return stored_.load(); }
  int64_t duplicates() const { return duplicates_.load(); }
  int64_t dead_letters() const { return dead_letters_.load(); }
  int64_t replayed() const { return replayed_.load(); }
  bool connected() const { return wire_ != nullptr ? wire_connected_.load() : client_ != nullptr && client_->connected(); }
  MetricsRegistry& metrics() { return *metrics_; }

  // Turns one MQTT message into its part of a batch (a result, alarm, status or dead letter).
  // Public for tests and the benchmark.
  static void Classify(const std::string& topic, const std::string& payload, int64_t received_ms,
                       size_t max_dead_letter_payload, store::Batch* batch);

 private:
  struct Pending {
    std::string topic;
    std::string payload;
    int64_t received_ms;
  };
  Collector(CollectorOptions options, store::Store* store);
  void OnMessage(mqtt::Message m);
  void WriterLoop();
  void ReaderLoop();  // the wire path: (re)connect, subscribe, read, Accept, acknowledge
  bool WireConnect();
  // Journals `records` (one write), hands them to the writer; commits directly if the journal
  // fails. True when they are durable (journal or store): they may be acknowledged then.
  bool Accept(std::vector<JournalRecord>& records);
  // Commits `items` (retrying while the store fails and the collector runs). True when committed.
  // `parsed` (may be null) holds messages the reader classified already.
  bool Commit(const std::vector<Pending>& items, store::Batch* parsed = nullptr);
  size_t PendingCount() const { return pending_.size() + parsed_n_; }  // REQUIRES: mu_ held

  const CollectorOptions options_;
  store::Store* store_;  // must outlive this
  std::unique_ptr<MetricsRegistry> owned_metrics_;
  MetricsRegistry* metrics_;
  std::unique_ptr<mqtt::Client> client_;      // ssl:// brokers (Paho)
  std::unique_ptr<mqtt::WireClient> wire_;    // tcp:// and mqtt:// brokers; the reader thread's
  std::thread reader_;
  std::atomic<bool> reader_stop_{false};
  std::atomic<bool> wire_connected_{false};

  std::mutex mu_;
  std::condition_variable cv_;        // writer: work or stop
  std::condition_variable space_cv_;  // callback: pending below max
  std::vector<Pending> pending_;      // GUARDED_BY(mu_): raw (the Paho path)
  // The wire path classifies on the reader thread (outside the lock), so parsing and inserting
  // run on two threads: the classified messages waiting for the writer, and how many they were.
  store::Batch parsed_;               // GUARDED_BY(mu_)
  size_t parsed_n_ = 0;               // GUARDED_BY(mu_)
  std::unique_ptr<class Journal> journal_;  // GUARDED_BY(mu_)
  int64_t oldest_ms_ = 0;             // GUARDED_BY(mu_): steady ms of pending_[0]
  bool stopping_ = false;             // GUARDED_BY(mu_)
  bool started_ = false;
  std::thread writer_;

  std::atomic<int64_t> received_{0}, stored_{0}, duplicates_{0}, dead_letters_{0}, replayed_{0};
  Counter* m_received_;
  Counter* m_stored_;
  Counter* m_duplicates_;
  Counter* m_dead_;
  Counter* m_batches_;
  Counter* m_store_errors_;
  Counter* m_journal_errors_;
  Gauge* m_pending_;
  Histogram* m_commit_s_;
  Histogram* m_latency_s_;
};

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_COLLECTOR_H_
