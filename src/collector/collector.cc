#include "edgeloop/collector/collector.h"

#include <poll.h>

#include <chrono>
#include <cstdio>

#include "collector/journal.h"
#include "edgeloop/mqtt/messages.h"
#include "mqtt/wire_client.h"

namespace edgeloop::collector {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Collector::Classify(const std::string& topic, const std::string& payload, int64_t received_ms,
                         size_t max_dead_letter_payload, store::Batch* batch) {
  auto dead = [&](const std::string& reason) {
    store::DeadLetter d;
    d.topic = topic.substr(0, 512);
    d.payload = payload.substr(0, max_dead_letter_payload);
    d.reason = reason;
    d.received_ms = received_ms;
    batch->dead_letters.push_back(std::move(d));
  };
  auto parsed = mqtt::ParseDeviceTopic(topic);
  if (!parsed.ok()) return dead(parsed.status().message());
  auto mismatch = [&](const std::string& kind, const std::string& id) {
    dead(kind + ": field 'device_id': '" + id.substr(0, 128) + "' does not match the topic's device '" + parsed->device +
         "'");
  };
  switch (parsed->kind) {
    case mqtt::DeviceTopicKind::kResults: {
      auto r = mqtt::ResultFromJson(payload);
      if (!r.ok()) return dead(r.status().message());
      if (r->device_id != parsed->device) return mismatch("result", r->device_id);
      batch->results.push_back(store::StoredResult{parsed->fleet, std::move(*r), received_ms});
      return;
    }
    case mqtt::DeviceTopicKind::kAlarms: {
      auto a = mqtt::AlarmFromJson(payload);
      if (!a.ok()) return dead(a.status().message());
      if (a->device_id != parsed->device) return mismatch("alarm", a->device_id);
      batch->alarms.push_back(store::StoredAlarm{parsed->fleet, std::move(*a), received_ms});
      return;
    }
    case mqtt::DeviceTopicKind::kStatus: {
      if (payload.empty()) return;  // a retained status being cleared: nothing to store
      auto s = mqtt::StatusFromJson(payload);
      if (!s.ok()) return dead(s.status().message());
      if (s->device_id != parsed->device) return mismatch("status", s->device_id);
      batch->statuses.push_back(store::StoredStatus{parsed->fleet, std::move(*s), received_ms});
      return;
    }
  }
}

Collector::Collector(CollectorOptions options, store::Store* store) : options_(std::move(options)), store_(store) {
  if (options_.metrics != nullptr) {
    metrics_ = options_.metrics;
  } else {
    owned_metrics_ = std::make_unique<MetricsRegistry>();
    metrics_ = owned_metrics_.get();
  }
  MetricsRegistry& m = *metrics_;
  m_received_ = &m.GetCounter("edgeloop_collector_messages_total", "MQTT messages taken off the broker");
  m_stored_ = &m.GetCounter("edgeloop_collector_results_stored_total", "results and alarm events newly stored");
  m_duplicates_ = &m.GetCounter("edgeloop_collector_duplicates_total",
                                "redelivered results/alarm events already in the store (not stored again)");
  m_dead_ = &m.GetCounter("edgeloop_collector_dead_letters_total", "malformed messages kept as dead letters");
  m_batches_ = &m.GetCounter("edgeloop_collector_batches_total", "transactions committed");
  m_store_errors_ = &m.GetCounter("edgeloop_collector_store_errors_total", "failed commits (retried)");
  m_journal_errors_ = &m.GetCounter("edgeloop_collector_journal_errors_total",
                                    "journal appends that failed (the message was committed directly instead)");
  m_pending_ = &m.GetGauge("edgeloop_collector_pending", "messages journaled and not yet committed");
  m_commit_s_ = &m.GetHistogram("edgeloop_collector_commit_seconds", "time to commit one batch",
                                MetricsRegistry::LatencyBuckets());
  m_latency_s_ = &m.GetHistogram("edgeloop_collector_device_to_row_seconds",
                                 "commit time minus the result's device timestamp", MetricsRegistry::LatencyBuckets());
}

Result<std::unique_ptr<Collector>> Collector::Create(CollectorOptions options, store::Store* store) {
  if (store == nullptr) return Status::InvalidArgument("collector: no store");
  if (options.mqtt_url.empty()) return Status::InvalidArgument("collector: --mqtt URL is required");
  if (options.journal_dir.empty()) return Status::InvalidArgument("collector: a journal directory is required");
  if (options.batch_max < 1 || options.batch_ms < 0) {
    return Status::InvalidArgument("collector: need batch_max >= 1 and batch_ms >= 0");
  }
  if (options.fleet != "+") EL_RETURN_IF_ERROR(mqtt::ValidateName("fleet", options.fleet));
  std::unique_ptr<Collector> c(new Collector(std::move(options), store));
  std::string host;
  int port = 0;
  if (mqtt::WireClient::ParseUrl(c->options_.mqtt_url, &host, &port).ok()) {
    c->wire_ = std::make_unique<mqtt::WireClient>(host, port, c->options_.client_id, 30, /*clean_start=*/false,
                                                  c->options_.session_expiry_s);
    c->wire_->SetCredentials(c->options_.username, c->options_.password);
    return c;
  }
  mqtt::ClientOptions co;
  co.server_uri = c->options_.mqtt_url;
  co.client_id = c->options_.client_id;
  co.username = c->options_.username;
  co.password = c->options_.password;
  co.ca_file = c->options_.ca_file;
  co.clean_start = false;
  co.session_expiry_s = c->options_.session_expiry_s;
  mqtt::ClientCallbacks cb;
  Collector* self = c.get();
  cb.on_message = [self](mqtt::Message m) { self->OnMessage(std::move(m)); };
  cb.on_connect_failure = [self](const Status& why, int retry_ms) {
    std::fprintf(stderr, "edgeloop collect: %s (%s); retrying in %d ms\n", why.message().c_str(),
                 self->options_.mqtt_url.c_str(), retry_ms);
  };
  cb.on_connection_lost = [](const std::string& cause) {
    std::fprintf(stderr, "edgeloop collect: connection lost: %s\n", cause.c_str());
  };
  EL_ASSIGN_OR_RETURN(c->client_, mqtt::Client::Create(std::move(co), std::move(cb)));
  return c;
}

Collector::~Collector() { Stop(); }

Status Collector::Start() {
  if (started_) return Status::Ok();
  EL_ASSIGN_OR_RETURN(Journal j, Journal::Open(options_.journal_dir, options_.journal_fsync));
  journal_ = std::make_unique<Journal>(std::move(j));
  // Replay what an earlier run acknowledged but may not have committed.
  EL_ASSIGN_OR_RETURN(auto segments, journal_->ReadExisting());
  for (auto& [path, records] : segments) {
    for (size_t i = 0; i < records.size(); i += static_cast<size_t>(options_.batch_max)) {
      size_t end = std::min(records.size(), i + static_cast<size_t>(options_.batch_max));
      store::Batch batch;
      for (size_t k = i; k < end; ++k) {
        Classify(records[k].topic, records[k].payload, WallMs(), options_.max_dead_letter_payload, &batch);
      }
      store::WriteCounts counts;
      EL_RETURN_IF_ERROR(store_->Write(batch, &counts).WithPrefix("collector: replaying journal " + path));
      replayed_ += static_cast<int64_t>(end - i);
      stored_ += counts.results_inserted + counts.alarms_inserted;
      duplicates_ += counts.results_duplicate + counts.alarms_duplicate;
      dead_letters_ += counts.dead_letters;
    }
    EL_RETURN_IF_ERROR(Journal::Remove(path));
  }
  EL_RETURN_IF_ERROR(journal_->Rotate().status());
  started_ = true;
  writer_ = std::thread([this] { WriterLoop(); });
  auto filter = [&](const char* kind) {
    std::string f = "edgeloop/" + options_.fleet + "/devices/+/" + kind;
    return options_.share_group.empty() ? f : mqtt::SharedSubscription(options_.share_group, f);
  };
  if (wire_ != nullptr) {
    reader_stop_ = false;
    reader_ = std::thread([this] { ReaderLoop(); });
    return Status::Ok();
  }
  for (const char* kind : {"results", "alarms", "status"}) EL_RETURN_IF_ERROR(client_->Subscribe(filter(kind), 1));
  return client_->Connect();
}

bool Collector::WireConnect() {
  Status st = wire_->Connect(10000);
  if (!st.ok()) {
    std::fprintf(stderr, "edgeloop collect: %s\n", st.message().c_str());
    return false;
  }
  for (const char* kind : {"results", "alarms", "status"}) {
    std::string f = "edgeloop/" + options_.fleet + "/devices/+/" + kind;
    (void)wire_->Subscribe(options_.share_group.empty() ? f : mqtt::SharedSubscription(options_.share_group, f), 1);
  }
  wire_connected_ = true;
  return true;
}

// The wire path's thread. Messages returned by one Service are journaled (Accept) before the next
// Service, which is the one that writes their PUBACKs.
void Collector::ReaderLoop() {
  std::vector<mqtt::WireAck> acks;
  std::vector<mqtt::WireMessage> messages;
  std::vector<JournalRecord> records;
  int64_t backoff_ms = 0, next_try_ms = 0;
  int reported_refusals = 0;
  while (!reader_stop_.load()) {
    if (!wire_->connected()) {
      wire_connected_ = false;
      if (SteadyMs() >= next_try_ms) {
        if (WireConnect()) {
          backoff_ms = 0;
          reported_refusals = 0;
          continue;
        }
        backoff_ms = backoff_ms == 0 ? 500 : std::min<int64_t>(backoff_ms * 2, 30000);
        next_try_ms = SteadyMs() + backoff_ms;
        std::fprintf(stderr, "edgeloop collect: retrying %s in %lld ms\n", options_.mqtt_url.c_str(),
                     static_cast<long long>(backoff_ms));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    messages.clear();
    acks.clear();
    if (Status st = wire_->Service(&acks, SteadyMs(), &messages); !st.ok()) {
      std::fprintf(stderr, "edgeloop collect: connection lost: %s\n", st.message().c_str());
      wire_connected_ = false;
      continue;  // reconnect at once, then with backoff
    }
    if (wire_->subscribe_refusals() > reported_refusals) {
      reported_refusals = wire_->subscribe_refusals();
      std::fprintf(stderr, "edgeloop collect: the broker refused a subscription (shared subscriptions need MQTT 5)\n");
    }
    if (!messages.empty()) {
      records.clear();
      records.reserve(messages.size());
      for (auto& m : messages) records.push_back(JournalRecord{std::move(m.topic), std::move(m.payload)});
      if (!Accept(records)) {
        wire_->Abort();  // stopping with the store down: not kept, so not acknowledged
        wire_connected_ = false;
        break;
      }
      // The next Service acknowledges them. With a trickle (live traffic) a short nap first lets
      // more arrive, so that one journal write and one PUBACK write carry many messages.
      if (records.size() < 256) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    pollfd p{wire_->fd(), static_cast<short>(POLLIN | (wire_->want_write() ? POLLOUT : 0)), 0};
    ::poll(&p, 1, 100);
  }
  // Write the PUBACKs of what was journaled (nothing more is read), then DISCONNECT; the session
  // stays on the broker for the next start.
  wire_->Disconnect();
  wire_connected_ = false;
}

bool Collector::Accept(std::vector<JournalRecord>& records) {
  const int64_t n = static_cast<int64_t>(records.size());
  received_.fetch_add(n, std::memory_order_relaxed);
  m_received_->Increment(static_cast<double>(n));
  const int64_t now_ms = WallMs();
  store::Batch parsed;  // classified here, on the reader thread, while the writer inserts
  parsed.results.reserve(records.size());
  for (const JournalRecord& r : records) Classify(r.topic, r.payload, now_ms, options_.max_dead_letter_payload, &parsed);
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] { return PendingCount() < options_.max_pending || stopping_ || reader_stop_.load(); });
  Status st = journal_ != nullptr ? journal_->AppendAll(records) : Status::IOError("journal: closed");
  if (!st.ok() || stopping_) {
    // Not journaled: commit them before they are acknowledged.
    lock.unlock();
    if (!st.ok()) {
      m_journal_errors_->Increment();
      std::fprintf(stderr, "edgeloop collect: %s; committing directly\n", st.message().c_str());
    }
    return Commit({}, &parsed);
  }
  const bool first = PendingCount() == 0;
  if (first) oldest_ms_ = SteadyMs();
  auto append = [](auto& to, auto& from) {
    if (to.empty()) {
      to.swap(from);
    } else {
      to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    }
  };
  append(parsed_.results, parsed.results);
  append(parsed_.alarms, parsed.alarms);
  append(parsed_.statuses, parsed.statuses);
  append(parsed_.dead_letters, parsed.dead_letters);
  parsed_n_ += records.size();
  m_pending_->Set(static_cast<double>(PendingCount()));
  if (first || PendingCount() >= static_cast<size_t>(options_.batch_max)) cv_.notify_one();
  return true;
}

void Collector::Stop() {
  if (!started_) return;
  started_ = false;
  if (client_ != nullptr) (void)client_->Disconnect(2000);
  {
    std::lock_guard<std::mutex> lock(mu_);
    reader_stop_ = true;
  }
  space_cv_.notify_all();
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  client_.reset();
}

// Runs on Paho's receive thread; Paho sends the PUBACK when this returns.
void Collector::OnMessage(mqtt::Message m) {
  received_.fetch_add(1, std::memory_order_relaxed);
  m_received_->Increment();
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] { return PendingCount() < options_.max_pending || stopping_; });
  Status st = journal_ != nullptr ? journal_->Append(m.topic, m.payload) : Status::IOError("journal: closed");
  int64_t now_ms = WallMs();
  if (!st.ok() || stopping_) {
    // Not journaled: commit this one message before returning (and so before the PUBACK).
    lock.unlock();
    if (!st.ok()) {
      m_journal_errors_->Increment();
      std::fprintf(stderr, "edgeloop collect: %s; committing directly\n", st.message().c_str());
    }
    std::vector<Pending> one;
    one.push_back(Pending{std::move(m.topic), std::move(m.payload), now_ms});
    Commit(one);
    return;
  }
  const bool first = PendingCount() == 0;
  if (first) oldest_ms_ = SteadyMs();
  pending_.push_back(Pending{std::move(m.topic), std::move(m.payload), now_ms});
  m_pending_->Set(static_cast<double>(PendingCount()));
  // The writer sleeps untimed while nothing is pending: wake it to start the batch_ms clock.
  if (first || PendingCount() >= static_cast<size_t>(options_.batch_max)) cv_.notify_one();
}

void Collector::WriterLoop() {
  std::vector<Pending> batch;
  store::Batch parsed;
  for (;;) {
    std::string segment;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (PendingCount() == 0) {
          if (stopping_) return;
          cv_.wait(lock);
          continue;
        }
        if (stopping_ || PendingCount() >= static_cast<size_t>(options_.batch_max)) break;
        int64_t due = oldest_ms_ + options_.batch_ms;
        int64_t now = SteadyMs();
        if (now >= due) break;
        cv_.wait_for(lock, std::chrono::milliseconds(due - now));
      }
      batch.clear();
      batch.swap(pending_);
      parsed = store::Batch();
      std::swap(parsed, parsed_);
      parsed_n_ = 0;
      m_pending_->Set(0);
      // The records of `batch` are exactly those of the segment closed here.
      auto closed = journal_->Rotate();
      if (closed.ok()) {
        segment = *closed;
      } else {
        std::fprintf(stderr, "edgeloop collect: %s\n", closed.status().message().c_str());
      }
    }
    space_cv_.notify_all();
    if (Commit(batch, &parsed)) {
      Status st = Journal::Remove(segment);
      if (!st.ok()) std::fprintf(stderr, "edgeloop collect: %s\n", st.message().c_str());
    }
  }
}

bool Collector::Commit(const std::vector<Pending>& items, store::Batch* parsed) {
  store::Batch b;
  if (parsed != nullptr) std::swap(b, *parsed);
  b.results.reserve(b.results.size() + items.size());
  for (const Pending& p : items) Classify(p.topic, p.payload, p.received_ms, options_.max_dead_letter_payload, &b);
  int delay_ms = 50;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    store::WriteCounts c;
    Status st = store_->Write(b, &c);
    if (st.ok()) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      m_commit_s_->Observe(secs);
      m_batches_->Increment();
      int64_t now = WallMs();
      for (const store::StoredResult& r : b.results) m_latency_s_->Observe(static_cast<double>(now - r.msg.timestamp_ms) / 1000.0);
      int64_t stored = c.results_inserted + c.alarms_inserted;
      int64_t dup = c.results_duplicate + c.alarms_duplicate;
      stored_ += stored;
      duplicates_ += dup;
      dead_letters_ += c.dead_letters;
      m_stored_->Increment(static_cast<double>(stored));
      m_duplicates_->Increment(static_cast<double>(dup));
      m_dead_->Increment(static_cast<double>(c.dead_letters));
      return true;
    }
    m_store_errors_->Increment();
    std::fprintf(stderr, "edgeloop collect: commit of %zu message(s) failed: %s; retrying in %d ms\n", b.size(),
                 st.message().c_str(), delay_ms);
    {
      std::unique_lock<std::mutex> lock(mu_);
      // On stop the batch stays in the journal and is replayed at the next start.
      if (cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [&] { return stopping_ || reader_stop_.load(); })) {
        return false;
      }
    }
    delay_ms = std::min(delay_ms * 2, 5000);
  }
}

}  // namespace edgeloop::collector
