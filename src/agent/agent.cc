#include "agent/agent.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace edgeloop::agent {
namespace {

constexpr uint64_t kStatusTag = uint64_t{1} << 63;  // completions of status publishes: not spooled
constexpr int64_t kHousekeepingMs = 1000;
// With nothing of ours awaiting a PUBACK, Paho's socket is read at most this often (subscribed
// manifests, pings, a broker that closed the link): each read is two polls and a recv, which at
// 10 Hz was a good part of the agent's CPU. The housekeeping wake-up already comes this often.
constexpr int64_t kMqttIdleReadMs = 1000;
constexpr int64_t kExpiryCheckMs = 60000;
// At sensor rates of 4 Hz and more, the timed work (housekeeping, the coalesced send, the batched
// ack delete, the idle read) rides on a window's wake-up instead of waking the loop on its own: on a
// VM a wake-up costs tens of microseconds, as much as a window's work. Each then runs at the tick
// nearest its due time, at most half a period early or late.
constexpr int64_t kFoldMaxPeriodUs = 250000;
constexpr size_t kMaxPushWindowsPerWake = 64;

std::string ModelNameFromFile(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  size_t dot = base.find('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  for (char& c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) c = '_';
  }
  return base.empty() || base[0] == '.' ? "local" : base;
}

}  // namespace

struct Agent::Event {
  enum class Kind { kConnected, kConnectionLost, kConnectFailure, kPublishComplete, kOtaStatus, kModelInstalled };
  explicit Event(Kind k) : kind(k) {}
  Kind kind;
  std::string text;
  Status status;
  uint64_t tag = 0;
  int retry_ms = 0;
  mqtt::OtaStatus ota;
  std::unique_ptr<Model> model;
  InstalledModel installed;
};

Agent::Agent(AgentOptions options)
    : options_(std::move(options)),
      cfg_(options_.config),
      env_(options_.env != nullptr ? options_.env : Env::Default()),
      debouncer_(cfg_.alarm.n, cfg_.alarm.m),
      upload_rng_(cfg_.source.seed ^ 0x9e3779b97f4a7c15ull),
      metrics_(&metrics_registry_) {}

Agent::~Agent() {
  if (ota_) ota_->Stop();
  mqtt_.reset();  // no callbacks after this
  if (event_fd_ >= 0) ::close(event_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Agent>> Agent::Create(AgentOptions options) {
  if (!options.loader) return Status::InvalidArgument("agent: no model loader");
  std::unique_ptr<Agent> a(new Agent(std::move(options)));
  EL_RETURN_IF_ERROR(a->Init());
  return a;
}

Status Agent::Init() {
  SetLogDevice(cfg_.device_id);
  start_us_ = env_->NowMicros();
  results_topic_ = mqtt::ResultsTopic(cfg_.fleet, cfg_.device_id);
  alarms_topic_ = mqtt::AlarmsTopic(cfg_.fleet, cfg_.device_id);
  status_topic_ = mqtt::StatusTopic(cfg_.fleet, cfg_.device_id);
  model_topic_ = mqtt::ModelTopic(cfg_.fleet, cfg_.registry.model, cfg_.registry.channel);

  Status st = env_->CreateDirs(cfg_.data_dir, 0700);
  if (!st.ok()) return st.WithPrefix("data_dir");
  const std::string lock_path = JoinPath(cfg_.data_dir, "lock");
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Status::IOError("data_dir: " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::Unavailable("data_dir: another edgeloop-agent is running with " + cfg_.data_dir);
  }
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return Status::IOError(std::string("eventfd: ") + std::strerror(errno));

  if (options_.spool) {
    spool_ = std::move(options_.spool);
  } else {
    FileSpoolOptions so;
    so.max_bytes = cfg_.spool.max_bytes;
    so.max_age_ms = static_cast<int64_t>(cfg_.spool.max_age_hours * 3600.0 * 1000.0);
    so.salvage = true;  // a damaged segment must not stop the device: what was lost is counted
    auto spool = FileSpool::Open(JoinPath(cfg_.data_dir, "spool"), so);
    if (!spool.ok()) return spool.status();
    for (const std::string& note : (*spool)->recovery_notes()) Log(LogLevel::kWarn, note);
    spool_ = std::move(*spool);
  }
  if (spool_->stats().count > 0) {
    Log(LogLevel::kInfo, "spool: " + std::to_string(spool_->stats().count) +
                             " unacknowledged message(s) from before; they are sent first");
  }

  const std::string models_dir = JoinPath(cfg_.data_dir, "models");
  auto store = ModelStore::Open(env_, models_dir);
  if (!store.ok() && store.status().code() == StatusCode::kCorruption) {
    // A damaged state file must not stop the device: set it aside and start from model_file.
    Log(LogLevel::kError, store.status().message() + "; moving it aside");
    (void)env_->RenameFile(JoinPath(models_dir, "state.json"), JoinPath(models_dir, "state.json.corrupt"));
    store = ModelStore::Open(env_, models_dir);
  }
  if (!store.ok()) return store.status();
  store_.emplace(std::move(*store));
  EL_RETURN_IF_ERROR(ChooseStartModel());

  if (options_.source) {
    source_ = std::move(options_.source);
  } else {
    auto source = CreateSource(cfg_.source);
    if (!source.ok()) return source.status();
    source_ = std::move(*source);
  }

  MqttLinkOptions mo;
  mo.server_uri = cfg_.mqtt.url;
  mo.client_id = "edgeloop-agent-" + cfg_.fleet + "-" + cfg_.device_id;
  mo.username = cfg_.mqtt.username;
  mo.password = cfg_.mqtt.password;
  mo.ca_file = cfg_.mqtt.ca_file;
  mqtt::StatusMessage will;
  will.device_id = cfg_.device_id;
  will.state = "offline";
  will.counters_present = false;
  mo.will = mqtt::Will{status_topic_, mqtt::StatusToJson(will), 1, true};
  mo.subscriptions = {{model_topic_, 1}};
  // The link calls these from Poll on the loop thread, right before HandleEvents: no wake needed.
  MqttLinkCallbacks cb;
  cb.on_connected = [this](bool) { Post(Event(Event::Kind::kConnected), /*wake=*/false); };
  cb.on_connection_lost = [this](const std::string& cause) {
    Event e(Event::Kind::kConnectionLost);
    e.text = cause;
    Post(std::move(e), /*wake=*/false);
  };
  cb.on_connect_failure = [this](const Status& why, int retry_ms) {
    Event e(Event::Kind::kConnectFailure);
    e.status = why;
    e.retry_ms = retry_ms;
    Post(std::move(e), /*wake=*/false);
  };
  cb.on_message = [this](mqtt::Message m) {
    if (m.topic == model_topic_ && ota_ && !m.payload.empty()) ota_->OfferManifest(std::move(m.payload));
  };
  cb.on_publish_complete = [this](const mqtt::PublishCompletion& c) {
    if (c.tag & kStatusTag) return;
    Event e(Event::Kind::kPublishComplete);
    e.tag = c.tag;
    e.status = c.status;
    Post(std::move(e), /*wake=*/false);
  };
  auto link = MqttLink::Create(mo, std::move(cb), [this] {
    uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  });
  if (!link.ok()) return link.status().WithPrefix("mqtt.url");
  mqtt_ = std::move(*link);
  Publisher::Options publish_options;
  publish_options.coalesce_ms = cfg_.mqtt.coalesce_ms;
  // Held results are on disk before they go: a power loss then never takes back a seq the
  // collector has. (Sent as stored, with coalescing off, that would be an fdatasync per result.)
  publish_options.sync_before_send = cfg_.mqtt.coalesce_ms > 0;
  publisher_ = std::make_unique<Publisher>(spool_.get(), mqtt_.get(), publish_options);

  if (cfg_.registry.public_key.empty()) {
    ota_status_ = {"disabled", 0, "no registry.public_key: no model update can be trusted"};
    Log(LogLevel::kWarn, "OTA disabled: " + ota_status_.reason);
  } else {
    OtaOptions oo;
    oo.device_id = cfg_.device_id;
    oo.registry_url = cfg_.registry.url;
    oo.token = cfg_.registry.token;
    oo.public_key = cfg_.registry.public_key;
    oo.model = cfg_.registry.model;
    oo.poll_seconds = cfg_.registry.poll_seconds;
    OtaUpdater::Callbacks oc;
    oc.on_status = [this](const mqtt::OtaStatus& s) {
      Event e(Event::Kind::kOtaStatus);
      e.ota = s;
      Post(std::move(e));
    };
    oc.on_installed = [this](std::unique_ptr<Model> model, const InstalledModel& info) {
      Event e(Event::Kind::kModelInstalled);
      e.model = std::move(model);
      e.installed = info;
      Post(std::move(e));
    };
    std::string sha = store_->current() && store_->current()->version == model_ref_.version
                          ? store_->current()->sha256
                          : "";
    ota_ = std::make_unique<OtaUpdater>(oo, &*store_, env_, options_.loader, std::move(oc), model_ref_.version, sha);
  }

  if (!options_.metrics_listen.empty()) {
    auto server = MetricsServer::Start(options_.metrics_listen, &metrics_registry_);
    if (!server.ok()) return server.status();
    metrics_server_ = std::move(*server);
  }
  return Status::Ok();
}

// The installed current model (re-hashed), else the previous one, else model_file.
Status Agent::ChooseStartModel() {
  for (int attempt = 0; attempt < 2 && store_->current(); ++attempt) {
    const InstalledModel cur = *store_->current();
    auto bytes = store_->ReadVerified(cur);
    auto model = bytes.ok() ? LoadAndSmokeTest(options_.loader, *bytes) : Result<std::unique_ptr<Model>>(bytes.status());
    if (model.ok()) {
      InstallModel(std::move(*model), {cur.name, cur.version});
      Log(LogLevel::kInfo, "model: " + cur.name + " v" + std::to_string(cur.version) + " (" + cur.file + ")");
      return Status::Ok();
    }
    Log(LogLevel::kError, "model: installed " + cur.name + " v" + std::to_string(cur.version) +
                              " is unusable: " + model.status().message() + "; falling back to the previous one");
    ota_status_ = {"failed", cur.version, "installed model unusable: " + model.status().message()};
    EL_RETURN_IF_ERROR(store_->DropCurrent());
  }
  if (!cfg_.model_file.empty()) {
    auto bytes = env_->ReadFile(cfg_.model_file);
    if (!bytes.ok()) return bytes.status().WithPrefix("model_file");
    auto model = LoadAndSmokeTest(options_.loader, *bytes);
    if (!model.ok()) return model.status().WithPrefix("model_file " + cfg_.model_file);
    InstallModel(std::move(*model), {ModelNameFromFile(cfg_.model_file), 0});
    Log(LogLevel::kInfo, "model: " + cfg_.model_file + " (local file, until the registry offers one)");
    return Status::Ok();
  }
  Log(LogLevel::kWarn, "model: none yet; windows are skipped until the registry delivers one");
  return Status::Ok();
}

void Agent::InstallModel(std::unique_ptr<Model> model, mqtt::ModelRef ref) {
  model_ = std::move(model);
  model_ref_ = std::move(ref);
  scores_.assign(model_->labels().size(), 0.0f);
  const auto& labels = model_->labels();
  auto it = std::find(labels.begin(), labels.end(), cfg_.alarm.label);
  alarm_index_ = it == labels.end() ? -1 : static_cast<int>(it - labels.begin());
  if (alarm_index_ < 0) {
    Log(LogLevel::kWarn, "alarm: the model has no class '" + cfg_.alarm.label + "'; alarms are off for this model");
  }
  status_dirty_ = true;
}

void Agent::Post(Event event, bool wake) {
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_.push_back(std::move(event));
  }
  if (!wake) return;
  uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
}

void Agent::RequestStop() {
  if (stop_.exchange(true)) abort_drain_.store(true);  // the second request: stop draining too
  uint64_t one = 1;
  if (event_fd_ >= 0) (void)!::write(event_fd_, &one, sizeof one);
}

void Agent::HandleEvents(bool woken) {
  uint64_t counter;
  if (woken) (void)!::read(event_fd_, &counter, sizeof counter);  // an eventfd read takes the whole count
  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    events.swap(events_);
  }
  const int64_t now = MonoMs();
  for (Event& e : events) {
    switch (e.kind) {
      case Event::Kind::kConnected:
        connected_ = true;
        Log(LogLevel::kInfo, "mqtt: connected to " + cfg_.mqtt.url + " (MQTT " +
                                 (mqtt_->protocol_version() == 5 ? "5" : "3.1.1") + ")");
        publisher_->OnConnected(now);
        status_dirty_ = true;
        if (ota_) ota_->Poke();
        break;
      case Event::Kind::kConnectionLost:
        connected_ = false;
        publisher_->OnDisconnected();
        Log(LogLevel::kWarn, "mqtt: connection lost (" + e.text + "); results are spooled until it is back");
        break;
      case Event::Kind::kConnectFailure:
        connect_log_.Log(LogLevel::kWarn, "mqtt: " + e.status.message() + "; retrying in " +
                                              std::to_string(e.retry_ms) + " ms");
        break;
      case Event::Kind::kPublishComplete:
        if (!e.status.ok()) publish_error_log_.Log(LogLevel::kWarn, "mqtt: " + e.status.message());
        publisher_->OnComplete(e.tag, e.status, now);
        break;
      case Event::Kind::kOtaStatus: {
        ota_status_ = e.ota;
        std::string v = e.ota.version > 0 ? " v" + std::to_string(e.ota.version) : "";
        Log(e.ota.state == "refused" || e.ota.state == "failed" ? LogLevel::kWarn : LogLevel::kInfo,
            "ota: " + e.ota.state + v + (e.ota.reason.empty() ? "" : ": " + e.ota.reason));
        status_dirty_ = true;
        break;
      }
      case Event::Kind::kModelInstalled: {
        InstallModel(std::move(e.model), {e.installed.name, e.installed.version});
        Log(LogLevel::kInfo, "model: switched to " + e.installed.name + " v" + std::to_string(e.installed.version));
        break;
      }
    }
  }
}

Status Agent::Run() {
  Log(LogLevel::kInfo, "starting: source " + source_->name() + ", mqtt " + cfg_.mqtt.url + ", data_dir " +
                           cfg_.data_dir);
  mqtt_->Start();
  if (ota_) ota_->Start();
  const bool paced = source_->paced();
  Pacer pacer(static_cast<int64_t>(1e6 / cfg_.source.rate_hz), env_->NowMicros());
  const int64_t fold_ms = paced && pacer.period_us() <= kFoldMaxPeriodUs ? pacer.period_us() / 2000 : 0;
  while (!stop_.load()) {
    int64_t now_us = env_->NowMicros();
    int64_t wait_us = pacer.next_deadline_us() - now_us;  // with fold_ms the timed work waits for a tick
    if (fold_ms == 0) {
      if (!paced) wait_us = std::numeric_limits<int64_t>::max();
      wait_us = std::min(wait_us, kHousekeepingMs * 1000 - (now_us / 1000 - last_housekeeping_ms_) * 1000);
      const int64_t send_at_ms = publisher_->next_send_ms();  // held results (mqtt.coalesce_ms)
      if (send_at_ms != std::numeric_limits<int64_t>::max()) {
        wait_us = std::min(wait_us, (send_at_ms - MonoMs()) * 1000);
      }
    }
    int push_fd = paced ? -1 : source_->poll_fd();
    if (!paced && push_fd < 0) wait_us = std::min<int64_t>(wait_us, source_->poll_interval_ms() * 1000);
    pollfd fds[2] = {{event_fd_, POLLIN, 0}, {push_fd, POLLIN, 0}};
    int timeout_ms = static_cast<int>(std::max<int64_t>(0, (wait_us + 999) / 1000));
    // Paho's socket is not in this poll: while messages wait for free in-flight slots, PUBACKs
    // are looked for every few milliseconds instead of at the next window.
    if (publisher_->waiting() && mqtt_->connected() && mqtt_->inflight() > 0) timeout_ms = std::min(timeout_ms, 5);
    int n = ::poll(fds, push_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR) return Status::IOError(std::string("poll: ") + std::strerror(errno));
    const bool woken = n > 0 && (fds[0].revents & POLLIN) != 0;  // link events come with a wake
    const int64_t now_ms = MonoMs();
    if (woken || mqtt_->inflight() > 0 || !mqtt_->connected() ||
        now_ms + fold_ms - last_mqtt_read_ms_ >= kMqttIdleReadMs) {
      mqtt_->Poll();
      last_mqtt_read_ms_ = now_ms;
    }
    HandleEvents(woken);
    if (stop_.load()) break;

    now_us = env_->NowMicros();
    if (paced) {
      if (pacer.Due(now_us)) {
        ReadResult r = source_->Next(model_ ? model_->window_size() : 128, (now_us - start_us_) / 1e6, &window_);
        if (r.status == ReadStatus::kWindow) {
          ProcessWindow(window_, r.where);
        } else if (r.status == ReadStatus::kBadInput) {
          ++bad_inputs_;
          bad_input_log_.Log(LogLevel::kWarn, "source " + r.where + ": " + r.error + " (skipped)");
        } else if (r.status == ReadStatus::kEnd) {
          source_ended_ = true;
        }
      }
      overruns_ = pacer.overruns();
    } else {  // a push source: take what has arrived (cheap when nothing has)
      for (size_t i = 0; i < kMaxPushWindowsPerWake; ++i) {
        ReadResult r = source_->Next(model_ ? model_->window_size() : 0, (now_us - start_us_) / 1e6, &window_);
        if (r.status == ReadStatus::kWindow) {
          ProcessWindow(window_, r.where);
          if (options_.max_results > 0 && results_ >= options_.max_results) break;
        } else if (r.status == ReadStatus::kBadInput) {
          ++bad_inputs_;
          bad_input_log_.Log(LogLevel::kWarn, "source " + r.where + ": " + r.error + " (skipped)");
        } else {
          if (r.status == ReadStatus::kEnd) source_ended_ = true;
          break;
        }
      }
    }
    Status pump = publisher_->Pump(MonoMs() + fold_ms);  // due within the fold counts as due
    if (!pump.ok()) spool_error_log_.Log(LogLevel::kError, pump.message());
    if (MonoMs() + fold_ms - last_housekeeping_ms_ >= kHousekeepingMs) Housekeeping(false);
    if (options_.max_results > 0 && results_ >= options_.max_results) {
      Log(LogLevel::kInfo, "stopping after " + std::to_string(results_) + " results (--max-results)");
      break;
    }
    if (source_ended_) {
      Log(LogLevel::kInfo, "source " + source_->name() + ": end of input; stopping");
      break;
    }
  }
  // At the natural end (input or --max-results) the results are the point: wait for the broker.
  // On a stop request only what the open link can take in the drain time.
  Drain(/*wait_for_link=*/!stop_.load());
  return Status::Ok();
}

void Agent::ProcessWindow(const std::vector<float>& window, const std::string& where) {
  if (!model_) {
    ++no_model_windows_;
    no_model_log_.Log(LogLevel::kWarn, "no model yet: window from " + where + " skipped");
    return;
  }
  if (window.size() != model_->window_size()) {
    ++bad_inputs_;
    bad_input_log_.Log(LogLevel::kWarn, "source " + where + ": expected " + std::to_string(model_->window_size()) +
                                            " readings, got " + std::to_string(window.size()) + " (skipped)");
    return;
  }
  const int64_t t0 = env_->NowMicros();
  Status st = model_->Classify(window, scores_);
  const int64_t t1 = env_->NowMicros();
  if (!st.ok()) {
    ++bad_inputs_;
    bad_input_log_.Log(LogLevel::kError, "inference on " + where + ": " + st.message());
    return;
  }
  metrics_.ObserveInference(static_cast<double>(t1 - t0) / 1e6);
  size_t best = static_cast<size_t>(std::max_element(scores_.begin(), scores_.end()) - scores_.begin());
  const auto& labels = model_->labels();

  mqtt::ResultMessage r;
  r.device_id = cfg_.device_id;
  r.seq = spool_->NextSeq(Stream::kResults);
  r.timestamp_ms = NowMs();
  r.prediction = labels[best];
  r.confidence = std::clamp(scores_[best], 0.0f, 1.0f);
  r.all_scores.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) r.all_scores.emplace_back(labels[i], std::clamp(scores_[i], 0.0f, 1.0f));
  r.inference_ms = static_cast<double>(t1 - t0) / 1000.0;
  r.model = model_ref_;
  r.raw_data.assign(window.begin(), window.begin() + std::min(window.size(), mqtt::kRawDataReadings));

  const float alarm_score = alarm_index_ >= 0 ? scores_[static_cast<size_t>(alarm_index_)] : 0.0f;
  const bool exceeded = alarm_index_ >= 0 && alarm_score > cfg_.alarm.threshold;
  AlarmDebouncer::Update u = debouncer_.Observe(exceeded);
  // Windows for retraining: the unsure ones, the alarming ones, and a random sample of the rest.
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const double draw = coin(upload_rng_);  // drawn for every window, so the sample is reproducible
  if (r.confidence < cfg_.upload.low_confidence) {
    r.window_reason = mqtt::UploadReason::kLowConfidence;
  } else if (exceeded || u.changed) {
    r.window_reason = mqtt::UploadReason::kAlarm;
  } else if (draw < cfg_.upload.random_share) {
    r.window_reason = mqtt::UploadReason::kRandom;
  }
  if (r.window_reason != mqtt::UploadReason::kNone) r.window = window;

  ++results_;
  Store(Stream::kResults, results_topic_, mqtt::ResultToJson(r));
  if (u.changed) RaiseOrClear(u, alarm_score, r.seq);
}

// Spool first, then MQTT: a message exists only once it is durable.
void Agent::Store(Stream stream, const std::string& topic, std::string payload) {
  SpoolRecord rec;
  rec.stream = stream;
  rec.seq = spool_->NextSeq(stream);
  rec.created_ms = NowMs();
  auto id = spool_->Put(stream, rec.seq, topic, payload, rec.created_ms);
  if (!id.ok()) {
    ++spool_errors_;
    status_dirty_ = true;
    spool_error_log_.Log(LogLevel::kError, "spool: " + id.status().message() + "; the message is lost (counted)");
    return;
  }
  rec.id = *id;
  rec.topic = topic;
  rec.payload = std::move(payload);
  publisher_->OnStored(std::move(rec), MonoMs());
}

void Agent::RaiseOrClear(const AlarmDebouncer::Update& u, float score, int64_t result_seq) {
  mqtt::AlarmMessage a;
  a.device_id = cfg_.device_id;
  a.seq = spool_->NextSeq(Stream::kAlarms);
  a.timestamp_ms = NowMs();
  a.event = u.active ? mqtt::AlarmEvent::kRaised : mqtt::AlarmEvent::kCleared;
  a.label = cfg_.alarm.label;
  a.score = std::clamp(score, 0.0f, 1.0f);
  a.threshold = static_cast<float>(cfg_.alarm.threshold);
  a.count = u.count;
  a.n = cfg_.alarm.n;
  a.m = cfg_.alarm.m;
  a.result_seq = result_seq;
  a.model = model_ref_;
  Log(u.active ? LogLevel::kWarn : LogLevel::kInfo,
      std::string("alarm ") + mqtt::AlarmEventName(a.event) + ": '" + a.label + "' over " +
          std::to_string(cfg_.alarm.threshold) + " in " + std::to_string(u.count) + " of the last " +
          std::to_string(cfg_.alarm.m) + " windows");
  Store(Stream::kAlarms, alarms_topic_, mqtt::AlarmToJson(a));
  status_dirty_ = true;
  if (!cfg_.alarm.command.empty()) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"EDGELOOP_ALARM_EVENT", mqtt::AlarmEventName(a.event)},
        {"EDGELOOP_ALARM_LABEL", a.label},
        {"EDGELOOP_ALARM_SCORE", std::to_string(a.score)},
        {"EDGELOOP_ALARM_THRESHOLD", std::to_string(cfg_.alarm.threshold)},
        {"EDGELOOP_ALARM_COUNT", std::to_string(a.count)},
        {"EDGELOOP_ALARM_N", std::to_string(a.n)},
        {"EDGELOOP_ALARM_M", std::to_string(a.m)},
        {"EDGELOOP_ALARM_DEVICE", cfg_.device_id},
        {"EDGELOOP_ALARM_FLEET", cfg_.fleet},
        {"EDGELOOP_ALARM_SEQ", std::to_string(a.seq)},
        {"EDGELOOP_ALARM_RESULT_SEQ", std::to_string(result_seq)},
        {"EDGELOOP_ALARM_TIMESTAMP", std::to_string(a.timestamp_ms)},
        {"EDGELOOP_ALARM_MODEL", a.model.name},
        {"EDGELOOP_ALARM_MODEL_VERSION", std::to_string(a.model.version)},
    };
    Status st = commands_.Start(cfg_.alarm.command, env, MonoMs());
    if (!st.ok()) {
      ++command_failures_;
      Log(LogLevel::kError, st.message());
    }
  }
}

mqtt::StatusMessage Agent::Snapshot() const {
  mqtt::StatusMessage s;
  s.device_id = cfg_.device_id;
  s.state = "online";
  s.timestamp_ms = env_->NowUnixMillis();
  s.agent_version = options_.agent_version;
  s.model = model_ref_;
  s.ota = ota_status_;
  s.alarm_active = debouncer_.active();
  s.uptime_s = (env_->NowMicros() - start_us_) / 1000000;
  s.results = results_;
  s.sent = publisher_ ? publisher_->sent() : 0;
  SpoolStats st = spool_ ? spool_->stats() : SpoolStats{};
  s.dropped = st.dropped;
  s.spool_depth = publisher_ ? publisher_->depth() : st.count;
  s.spool_bytes = st.bytes;
  s.spool_errors = spool_errors_;
  s.overruns = overruns_;
  s.bad_inputs = bad_inputs_;
  s.alarm_command_failures = command_failures_;
  s.inference_ms_p50 = metrics_.InferenceQuantileMs(0.5);
  s.inference_ms_p99 = metrics_.InferenceQuantileMs(0.99);
  return s;
}

void Agent::Housekeeping(bool force_status) {
  const int64_t now = MonoMs();
  last_housekeeping_ms_ = now;
  for (const std::string& failure : commands_.Reap(now)) {
    ++command_failures_;
    status_dirty_ = true;
    Log(LogLevel::kError, failure);
  }
  // The spool's durability point: what was committed in the last second reaches the disk, unless
  // the publisher synced it before a send within about that second (one fdatasync a second).
  if (publisher_->last_sync_ms() <= now - kHousekeepingMs * 9 / 10) {
    if (Status st = spool_->Sync(); !st.ok()) spool_error_log_.Log(LogLevel::kError, st.message());
  }
  if (now - last_expiry_check_ms_ >= kExpiryCheckMs) {
    last_expiry_check_ms_ = now;
    auto dropped = spool_->DropExpired(NowMs());  // ages are wall-clock: created_ms is a timestamp
    if (!dropped.ok()) {
      spool_error_log_.Log(LogLevel::kError, dropped.status().message());
    } else if (*dropped > 0) {
      Log(LogLevel::kWarn, "spool: dropped " + std::to_string(*dropped) + " message(s) older than spool.max_age_hours");
      status_dirty_ = true;
    }
  }
  mqtt::StatusMessage s = Snapshot();
  if (s.dropped != last_dropped_) {  // a change of the drop counter is news for the fleet view
    status_dirty_ = true;
    last_dropped_ = s.dropped;
  }
  // So is a backlog building up (more than a few messages waiting) and its end (drained), with
  // hysteresis so that the one or two messages in flight at 10 Hz do not make it flap.
  if (!backlog_ && s.spool_depth > 10) {
    backlog_ = true;
    status_dirty_ = true;
  } else if (backlog_ && s.spool_depth == 0) {
    backlog_ = false;
    status_dirty_ = true;
  }
  metrics_.Update(s, connected_.load());
  if (force_status || status_dirty_ || now - last_status_ms_ >= options_.status_interval_ms) PublishStatus(true);
}

void Agent::PublishStatus(bool online) {
  if (!mqtt_->connected()) return;  // sent on (re)connect
  mqtt::StatusMessage s = Snapshot();
  if (!online) s.state = "offline";
  auto r = mqtt_->Publish(status_topic_, mqtt::StatusToJson(s), 1, true, kStatusTag);
  if (r.ok()) {
    status_dirty_ = false;
    last_status_ms_ = MonoMs();
  }
}

void Agent::Drain(bool wait_for_link) {
  // Deliver what is unacknowledged, so a clean stop leaves an empty spool.
  const int64_t deadline = MonoMs() + options_.drain_timeout_ms;
  (void)publisher_->Pump(MonoMs(), /*force_flush=*/true);  // held results too
  while ((connected_.load() || wait_for_link) && publisher_->depth() > 0 && MonoMs() < deadline &&
         !abort_drain_.load()) {
    pollfd fd{event_fd_, POLLIN, 0};
    int n = ::poll(&fd, 1, 10);
    mqtt_->Poll();
    HandleEvents(n > 0 && (fd.revents & POLLIN) != 0);
    (void)publisher_->Pump(MonoMs());
  }
  (void)publisher_->Pump(MonoMs(), /*force_flush=*/true);
  if (publisher_->depth() > 0) {
    Log(LogLevel::kInfo, "stopping with " + std::to_string(publisher_->depth()) +
                             " unacknowledged message(s) in the spool; they are sent at the next start");
  }
  if (ota_) ota_->Stop();
  Housekeeping(false);
  PublishStatus(false);  // retained "offline" with the final counters; the will covers a crash
  Status st = mqtt_->Disconnect(2000);
  if (!st.ok()) Log(LogLevel::kWarn, st.message());
  Log(LogLevel::kInfo, "stopped: " + std::to_string(results_) + " results, " + std::to_string(publisher_->sent()) +
                           " acknowledged");
}

}  // namespace edgeloop::agent
