// The store: where fleet results, alarms, device status, operator labels and dead letters live
// (DESIGN.md "Store"). One interface, two backends with the same schema and the same test suite:
//   - SQLite (default; a file path or "sqlite:PATH"), WAL mode, synchronous=NORMAL;
//   - PostgreSQL ("postgresql://..." or "postgres://..."), through libpqxx.
//
// Writes come in batches (Write): one transaction per batch. Results and alarm events are keyed by
// (device_id, seq), so a message the broker delivers twice is stored once: Write counts it as a
// duplicate and changes nothing. Reads serve the HTTP API (GET /v1/devices, /v1/results, ...),
// label commands and the dataset export.
//
// Errors: IOError when the database cannot be reached or a statement fails (the message names the
// backend and the statement), InvalidArgument for bad input, NotFound for a label on a result or
// alarm that does not exist. Nothing throws (libpqxx exceptions are caught at this edge).
//
// Thread-safety: every method may be called from any thread; each backend serialises use of its
// connection(s) internally.
#ifndef EDGELOOP_STORE_STORE_H_
#define EDGELOOP_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/mqtt/messages.h"

namespace edgeloop::store {

// A result as the collector stores it: the message plus where it came from.
struct StoredResult {
  std::string fleet;
  mqtt::ResultMessage msg;
  int64_t received_ms = 0;  // when the collector took it off the broker
};

struct StoredAlarm {
  std::string fleet;
  mqtt::AlarmMessage msg;
  int64_t received_ms = 0;
};

struct StoredStatus {
  std::string fleet;
  mqtt::StatusMessage msg;
  int64_t received_ms = 0;
};

// A message the collector could not take: kept with the reason, never dropped silently.
struct DeadLetter {
  int64_t id = 0;  // assigned by the store
  std::string topic;
  std::string payload;  // as received (bounded by the collector)
  std::string reason;
  int64_t received_ms = 0;
};

// One transaction's worth of writes.
struct Batch {
  std::vector<StoredResult> results;
  std::vector<StoredAlarm> alarms;
  std::vector<StoredStatus> statuses;
  std::vector<DeadLetter> dead_letters;
  size_t size() const { return results.size() + alarms.size() + statuses.size() + dead_letters.size(); }
};

struct WriteCounts {
  int64_t results_inserted = 0;
  int64_t results_duplicate = 0;
  int64_t alarms_inserted = 0;
  int64_t alarms_duplicate = 0;
  int64_t statuses = 0;
  int64_t dead_letters = 0;
};

struct DeviceSummary {
  std::string device_id;
  std::string fleet;
  bool online = false;
  int64_t last_seen_ms = 0;
  mqtt::ModelRef model;
  int64_t results = 0;
  int64_t alarms_open = 0;
};

struct ResultQuery {
  std::string device_id;         // "" = any device
  int64_t since_ms = 0;          // timestamp >= since (0 = no bound)
  int64_t until_ms = 0;          // timestamp < until (0 = no bound)
  std::optional<int64_t> before_seq;  // seq < before_seq (paging; only with a device)
  bool with_window_only = false;
  int64_t limit = 100;           // newest first; <= 0 = no limit (export)
  bool oldest_first = false;
};

struct ResultRow {
  std::string fleet;
  mqtt::ResultMessage msg;  // window filled only when stored
  int64_t received_ms = 0;
};

struct StatsBucket {
  int64_t start_ms = 0;
  std::vector<std::pair<std::string, int64_t>> counts;  // prediction -> results in the bucket
};

// An alarm: a "raised" event and, once it came, the matching "cleared" event.
struct AlarmView {
  int64_t id = 0;  // the raised event's id
  std::string device_id;
  std::string fleet;
  int64_t raised_ms = 0;
  std::optional<int64_t> cleared_ms;
  std::string label;
  double score = 0;
  int64_t seq = 0;         // the alarm event seq
  int64_t result_seq = 0;  // the result that raised it
  std::string verdict;     // "" (none yet), "confirmed" or "rejected": the newest operator verdict
};

// An operator's or a maintenance record's answer. Exactly one target:
//   - a result: device_id + seq, with `label` the true class;
//   - an alarm: alarm_id, with verdict "confirmed" or "rejected";
//   - a time range: device_id + [start_ms, end_ms), with `label` (maintenance records).
struct Label {
  int64_t id = 0;  // assigned by the store
  std::string device_id;
  std::optional<int64_t> seq;
  std::optional<int64_t> alarm_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string label;
  std::string verdict;
  std::string source = "operator";  // "operator" | "maintenance"
  std::string by;
  int64_t created_ms = 0;
};

// A labelled window for the training set (dataset export).
struct LabelledWindow {
  std::string device_id;
  int64_t seq = 0;
  int64_t timestamp_ms = 0;
  std::string label;
  std::string source;  // "operator", "maintenance" or "prediction"
  float confidence = 0;
  std::vector<float> window;
};

// A decision of the retraining loop, kept for GET /v1/retrain/decisions.
struct RetrainDecision {
  int64_t id = 0;
  int64_t time_ms = 0;
  std::string model;
  int64_t candidate_version = 0;
  int64_t champion_version = 0;
  double candidate_accuracy = 0;
  double champion_accuracy = 0;
  std::string decision;  // "published_canary", "refused", "promoted", "held", ...
  std::string reason;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating the schema if needed) the store named by `url`: a file path or "sqlite:PATH",
  // or "postgresql://..." / "postgres://...". Errors: InvalidArgument for an unknown scheme,
  // IOError when the database cannot be opened or migrated.
  static Result<std::unique_ptr<Store>> Open(const std::string& url);

  virtual std::string backend() const = 0;  // "sqlite" or "postgresql"

  // Stores the batch in one transaction: all of it or (on error) none of it.
  virtual Status Write(const Batch& batch, WriteCounts* counts) = 0;

  // `now_ms` decides nothing but is echoed; `online` comes from the latest status message.
  virtual Result<std::vector<DeviceSummary>> Devices() = 0;
  virtual Result<std::vector<ResultRow>> Results(const ResultQuery& q) = 0;
  virtual Result<int64_t> CountResults(const std::string& device_id) = 0;
  // Result counts by prediction in buckets of `bucket_s` from `since_ms` (device "" = all).
  virtual Result<std::vector<StatsBucket>> ResultStats(int64_t since_ms, int64_t bucket_s,
                                                      const std::string& device_id) = 0;
  virtual Result<std::vector<AlarmView>> Alarms(bool open_only, int64_t limit) = 0;

  // Validates and stores a label; returns it with id and created_ms set. Errors: InvalidArgument
  // (no or several targets, bad verdict, empty label), NotFound (no such result or alarm).
  virtual Result<Label> AddLabel(Label label) = 0;
  virtual Result<std::vector<Label>> Labels(int64_t limit) = 0;
  // Windows with a label for export: operator labels on results, maintenance ranges covering a
  // result's timestamp, and (when min_confidence is set) confident predictions.
  virtual Result<std::vector<LabelledWindow>> LabelledWindows(const ResultQuery& q,
                                                              std::optional<double> min_confidence) = 0;

  // Every status message as received (the devices table keeps only the latest state), oldest
  // first, with timestamp >= since_ms (the will: received time); device "" = all; limit <= 0 =
  // no limit. The canary check reads the devices' error counters and OTA outcomes from here.
  virtual Result<std::vector<StoredStatus>> Statuses(const std::string& device_id, int64_t since_ms,
                                                     int64_t limit) = 0;

  virtual Result<std::vector<DeadLetter>> DeadLetters(int64_t limit) = 0;
  virtual Result<int64_t> CountDeadLetters() = 0;

  // Free-form JSON about a model version (version 0: the model's drift baseline). NotFound if unset.
  virtual Status SetModelInfo(const std::string& name, int64_t version, const std::string& json) = 0;
  virtual Result<std::string> GetModelInfo(const std::string& name, int64_t version) = 0;

  virtual Status AddRetrainDecision(RetrainDecision d) = 0;
  virtual Result<std::vector<RetrainDecision>> RetrainDecisions(int64_t limit) = 0;
};

// Helpers shared by the backends (and the collector's journal): the compact text form of a window
// ("0.1,0.25,..." with the shortest round-trip floats) and its parser.
std::string EncodeFloats(const std::vector<float>& v);
Result<std::vector<float>> DecodeFloats(const std::string& text);

}  // namespace edgeloop::store

#endif  // EDGELOOP_STORE_STORE_H_
