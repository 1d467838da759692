#include "edgeloop/mqtt/client.h"

#include <MQTTAsync.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <random>

#include "paho_api.h"
#include "paho_connect.h"

namespace edgeloop::mqtt {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool StartsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

std::string PahoError(const PahoApi* api, int code) {
  const char* s = api->strerror(code);
  return (s != nullptr ? std::string(s) : "error") + " (" + std::to_string(code) + ")";
}

// MQTT 3.1.1 CONNACK return codes 1..5 (Paho reports them as positive failure codes).
const char* ConnackText(int code) {
  switch (code) {
    case 1:
      return "connection refused: unacceptable protocol version";
    case 2:
      return "connection refused: identifier rejected";
    case 3:
      return "connection refused: server unavailable";
    case 4:
      return "connection refused: bad user name or password";
    case 5:
      return "connection refused: not authorized";
  }
  return nullptr;
}

}  // namespace

struct Client::Handle {
  Client* owner = nullptr;
  const PahoApi* api = nullptr;
  MQTTAsync h = nullptr;
  int version = 5;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (h != nullptr) api->destroy(&h);
  }
};

struct Client::PublishContext {
  Client* client;
  uint64_t tag;
};

// The C callbacks Paho calls; they forward to the Client with the exact signatures Paho expects.
struct ClientTrampolines {
  static int MessageArrived(void* ctx, char* topic, int topic_len, MQTTAsync_message* msg) {
    auto* handle = static_cast<Client::Handle*>(ctx);
    Message m;
    m.topic = topic_len > 0 ? std::string(topic, static_cast<size_t>(topic_len)) : std::string(topic);
    if (msg->payloadlen > 0) m.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
    m.qos = msg->qos;
    m.retained = msg->retained != 0;
    handle->api->freeMessage(&msg);
    handle->api->free(topic);
    Client* c = handle->owner;
    if (!c->destroying_ && c->callbacks_.on_message) c->callbacks_.on_message(std::move(m));
    return 1;
  }
  static void ConnectionLost(void* ctx, char* cause) {
    static_cast<Client::Handle*>(ctx)->owner->HandleConnectionLost(cause != nullptr ? cause : "connection lost");
  }
  static void Disconnected(void* ctx, MQTTProperties* /*props*/, enum MQTTReasonCodes rc) {
    const char* text = static_cast<Client::Handle*>(ctx)->api->reasonCodeToString(rc);
    static_cast<Client::Handle*>(ctx)->owner->HandleConnectionLost(std::string("broker sent DISCONNECT: ") +
                                                                    (text != nullptr ? text : "?"));
  }
  static void ConnectSuccess(void* ctx, MQTTAsync_successData* d) {
    auto* handle = static_cast<Client::Handle*>(ctx);
    handle->owner->HandleConnected(handle, d != nullptr && d->alt.connect.sessionPresent != 0);
  }
  static void ConnectSuccess5(void* ctx, MQTTAsync_successData5* d) {
    auto* handle = static_cast<Client::Handle*>(ctx);
    handle->owner->HandleConnected(handle, d != nullptr && d->alt.connect.sessionPresent != 0);
  }
  static void ConnectFailure(void* ctx, MQTTAsync_failureData* d) {
    const PahoApi* api = static_cast<Client::Handle*>(ctx)->api;
    int code = d != nullptr ? d->code : MQTTASYNC_FAILURE;
    std::string msg;
    if (const char* t = ConnackText(code)) {
      msg = t;
    } else {
      msg = PahoError(api, code);
    }
    if (d != nullptr && d->message != nullptr) msg += std::string(": ") + d->message;
    Status st = (code == 4 || code == 5) ? Status::PermissionDenied(msg) : Status::Unavailable(msg);
    static_cast<Client::Handle*>(ctx)->owner->HandleConnectFailure(st, code == 1);
  }
  static void ConnectFailure5(void* ctx, MQTTAsync_failureData5* d) {
    const PahoApi* api = static_cast<Client::Handle*>(ctx)->api;
    int code = d != nullptr ? d->code : MQTTASYNC_FAILURE;
    int reason = d != nullptr ? static_cast<int>(d->reasonCode) : 0;
    if (reason == 0 && code >= 0x80) reason = code;  // Paho passes a CONNACK reason code as `code`
    std::string msg;
    if (reason >= 0x80) {
      const char* t = api->reasonCodeToString(static_cast<enum MQTTReasonCodes>(reason));
      msg = std::string("connection refused: ") + (t != nullptr ? t : "?") + " (reason code " + std::to_string(reason) +
            ")";
    } else if (const char* t = ConnackText(code)) {
      msg = t;
    } else {
      msg = PahoError(api, code);
    }
    if (d != nullptr && d->message != nullptr && reason < 0x80) msg += std::string(": ") + d->message;
    bool auth = reason == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD || reason == MQTTREASONCODE_NOT_AUTHORIZED ||
                code == 4 || code == 5;
    bool refused_version = reason == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION || code == 1;
    static_cast<Client::Handle*>(ctx)->owner->HandleConnectFailure(
        auth ? Status::PermissionDenied(msg) : Status::Unavailable(msg), refused_version);
  }
  static void PublishSuccess(void* ctx, MQTTAsync_successData* d) {
    auto* pc = static_cast<Client::PublishContext*>(ctx);
    pc->client->CompletePublish(pc, d != nullptr ? d->token : 0, Status::Ok());
  }
  static void PublishFailure(void* ctx, MQTTAsync_failureData* d) {
    auto* pc = static_cast<Client::PublishContext*>(ctx);
    const PahoApi* api = pc->client->paho_;
    int code = d != nullptr ? d->code : MQTTASYNC_FAILURE;
    pc->client->CompletePublish(pc, d != nullptr ? d->token : 0,
                                Status::Unavailable("publish not acknowledged: " + PahoError(api, code)));
  }
  static void PublishSuccess5(void* ctx, MQTTAsync_successData5* d) {
    auto* pc = static_cast<Client::PublishContext*>(ctx);
    pc->client->CompletePublish(pc, d != nullptr ? d->token : 0, Status::Ok());
  }
  static void PublishFailure5(void* ctx, MQTTAsync_failureData5* d) {
    auto* pc = static_cast<Client::PublishContext*>(ctx);
    const PahoApi* api = pc->client->paho_;
    std::string msg = "publish not acknowledged: ";
    int reason = d != nullptr ? static_cast<int>(d->reasonCode) : 0;
    if (reason >= 0x80) {
      const char* t = api->reasonCodeToString(static_cast<enum MQTTReasonCodes>(reason));
      msg += std::string("broker refused it: ") + (t != nullptr ? t : "?") + " (reason code " + std::to_string(reason) +
             ")";
    } else {
      msg += PahoError(api, d != nullptr ? d->code : MQTTASYNC_FAILURE);
    }
    pc->client->CompletePublish(pc, d != nullptr ? d->token : 0,
                                reason >= 0x80 ? Status::PermissionDenied(msg) : Status::Unavailable(msg));
  }
  static void DisconnectDone(void* ctx, MQTTAsync_successData* /*d*/) {
    static_cast<std::promise<void>*>(ctx)->set_value();
  }
  static void DisconnectFailed(void* ctx, MQTTAsync_failureData* /*d*/) {
    static_cast<std::promise<void>*>(ctx)->set_value();
  }
  static void DisconnectDone5(void* ctx, MQTTAsync_successData5* /*d*/) {
    static_cast<std::promise<void>*>(ctx)->set_value();
  }
  static void DisconnectFailed5(void* ctx, MQTTAsync_failureData5* /*d*/) {
    static_cast<std::promise<void>*>(ctx)->set_value();
  }
};

Client::Client(ClientOptions options, ClientCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options, ClientCallbacks callbacks) {
  const std::string& uri = options.server_uri;
  if (!(StartsWith(uri, "tcp://") || StartsWith(uri, "mqtt://") || StartsWith(uri, "ssl://") ||
        StartsWith(uri, "mqtts://") || StartsWith(uri, "ws://") || StartsWith(uri, "wss://"))) {
    return Status::InvalidArgument("mqtt: server URI '" + uri +
                                   "' must start with tcp://, mqtt://, ssl://, mqtts://, ws:// or wss://");
  }
  if (options.client_id.empty() || options.client_id.size() > 128) {
    return Status::InvalidArgument("mqtt: client id must be 1..128 characters");
  }
  if (options.will && options.will->topic.empty()) return Status::InvalidArgument("mqtt: will topic is empty");
  if (options.min_retry_ms < 1 || options.max_retry_ms < options.min_retry_ms) {
    return Status::InvalidArgument("mqtt: need 1 <= min_retry_ms <= max_retry_ms");
  }
  EL_ASSIGN_OR_RETURN(const PahoApi* paho, LoadPaho(IsTlsUri(uri)));
  std::unique_ptr<Client> c(new Client(std::move(options), std::move(callbacks)));
  c->paho_ = paho;
  EL_RETURN_IF_ERROR(c->CreateHandle(c->options_.version == ProtocolVersion::kV311 ? 4 : 5));
  return c;
}

Status Client::CreateHandle(int mqtt_version) {
  auto handle = std::make_unique<Handle>();
  handle->owner = this;
  handle->api = paho_;
  handle->version = mqtt_version;
  MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
  co.MQTTVersion = mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
  co.sendWhileDisconnected = 0;
  int rc = paho_->createWithOptions(&handle->h, options_.server_uri.c_str(), options_.client_id.c_str(),
                                       MQTTCLIENT_PERSISTENCE_NONE, nullptr, &co);
  if (rc != MQTTASYNC_SUCCESS) {
    handle->h = nullptr;
    return Status::InvalidArgument("mqtt: cannot create client for '" + options_.server_uri + "': " + PahoError(paho_, rc));
  }
  rc = paho_->setCallbacks(handle->h, handle.get(), &ClientTrampolines::ConnectionLost,
                              &ClientTrampolines::MessageArrived, nullptr);
  if (rc == MQTTASYNC_SUCCESS && mqtt_version == 5) {
    rc = paho_->setDisconnected(handle->h, handle.get(), &ClientTrampolines::Disconnected);
  }
  if (rc != MQTTASYNC_SUCCESS) return Status::InvalidArgument("mqtt: cannot set callbacks: " + PahoError(paho_, rc));
  current_ = handle.get();
  handles_.push_back(std::move(handle));
  return Status::Ok();
}

Client::~Client() {
  destroying_ = true;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_ = State::kStopping;
  }
  state_cv_.notify_all();
  if (reconnect_thread_.joinable()) reconnect_thread_.join();
  // MQTTAsync_destroy closes the socket without DISCONNECT, so the broker publishes the will.
  current_ = nullptr;
  handles_.clear();
  std::lock_guard<std::mutex> lock(ctx_mu_);
  contexts_.clear();
}

Status Client::Connect() {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (state_ == State::kStopping) return Status::InvalidArgument("mqtt: client was disconnected for good");
  if (state_ != State::kIdle) return Status::Ok();
  state_ = State::kWaiting;
  next_attempt_ms_ = SteadyMs();
  if (!reconnect_thread_.joinable()) reconnect_thread_ = std::thread([this] { ReconnectLoop(); });
  state_cv_.notify_all();
  return Status::Ok();
}

void Client::ReconnectLoop() {
  std::unique_lock<std::mutex> lock(state_mu_);
  while (state_ != State::kStopping) {
    if (state_ != State::kWaiting) {
      state_cv_.wait(lock);
      continue;
    }
    int64_t now = SteadyMs();
    if (now < next_attempt_ms_) {
      state_cv_.wait_for(lock, std::chrono::milliseconds(next_attempt_ms_ - now));
      continue;
    }
    bool downgrade = downgrade_;
    downgrade_ = false;
    state_ = State::kConnecting;
    lock.unlock();
    Status st;
    if (downgrade) st = CreateHandle(4);
    if (st.ok()) st = StartConnect();
    lock.lock();
    if (!st.ok() && state_ == State::kConnecting) {
      state_ = State::kWaiting;
      int delay = NextDelayMs();
      next_attempt_ms_ = SteadyMs() + delay;
      if (callbacks_.on_connect_failure && !destroying_) {
        lock.unlock();
        callbacks_.on_connect_failure(st, delay);
        lock.lock();
      }
    }
  }
}

int Client::NextDelayMs() {
  backoff_ms_ = backoff_ms_ == 0 ? options_.min_retry_ms : std::min(backoff_ms_ * 2, options_.max_retry_ms);
  static thread_local std::minstd_rand rng(static_cast<unsigned>(SteadyMs()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::max(1, static_cast<int>(backoff_ms_ * jitter(rng)));
}

Status Client::StartConnect() {
  Handle* handle = current_.load();
  if (handle == nullptr) return Status::Unavailable("mqtt: no client handle");
  const bool v5 = handle->version == 5;
  MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
  if (v5) {
    MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
    o = o5;
  }
  o.keepAliveInterval = options_.keep_alive_s;
  o.connectTimeout = options_.connect_timeout_s;
  o.maxInflight = options_.max_inflight;
  o.automaticReconnect = 0;  // the reconnect thread does it, so that every failure is seen
  o.context = handle;
  o.username = options_.username.empty() ? nullptr : options_.username.c_str();
  o.password = options_.password.empty() ? nullptr : options_.password.c_str();
  MQTTProperties props = MQTTProperties_initializer;
  if (v5) {
    o.MQTTVersion = MQTTVERSION_5;
    o.cleansession = 0;
    o.cleanstart = options_.clean_start ? 1 : 0;
    MQTTProperty expiry;
    expiry.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    expiry.value.integer4 = options_.session_expiry_s;
    paho_->propertiesAdd(&props, &expiry);
    o.connectProperties = &props;
    o.onSuccess5 = &ClientTrampolines::ConnectSuccess5;
    o.onFailure5 = &ClientTrampolines::ConnectFailure5;
  } else {
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.cleansession = options_.clean_start ? 1 : 0;
    o.onSuccess = &ClientTrampolines::ConnectSuccess;
    o.onFailure = &ClientTrampolines::ConnectFailure;
  }
  MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
  MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
  SetWillAndTls(options_, &will, &ssl, &o);
  // Paho copies everything it keeps (properties, will, credentials, TLS settings).
  int rc = paho_->connect(handle->h, &o);
  paho_->propertiesFree(&props);
  if (rc != MQTTASYNC_SUCCESS) return Status::Unavailable("mqtt: connect: " + PahoError(paho_, rc));
  return Status::Ok();
}

void Client::HandleConnected(Handle* handle, bool session_present) {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kStopping) return;
    state_ = State::kConnected;
    backoff_ms_ = 0;
  }
  negotiated_version_ = handle->version;
  SubscribeAll(handle);
  if (callbacks_.on_connected && !destroying_) callbacks_.on_connected(session_present);
}

void Client::HandleConnectFailure(Status why, bool protocol_refused) {
  int delay = 0;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ == State::kStopping) return;
    state_ = State::kWaiting;
    Handle* handle = current_.load();
    if (protocol_refused && options_.version == ProtocolVersion::kAuto && !downgrade_ && handle != nullptr &&
        handle->version == 5) {
      downgrade_ = true;  // the reconnect thread recreates the handle for MQTT 3.1.1 and retries now
      why = Status::Unavailable(why.message() + "; falling back to MQTT 3.1.1");
    } else {
      delay = NextDelayMs();
    }
    next_attempt_ms_ = SteadyMs() + delay;
  }
  state_cv_.notify_all();
  if (callbacks_.on_connect_failure && !destroying_) callbacks_.on_connect_failure(why, delay);
}

void Client::HandleConnectionLost(const std::string& cause) {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kConnected) return;  // Disconnected and ConnectionLost may both report it
    state_ = State::kWaiting;
    next_attempt_ms_ = SteadyMs();  // the first retry at once, then with backoff
  }
  state_cv_.notify_all();
  if (callbacks_.on_connection_lost && !destroying_) callbacks_.on_connection_lost(cause);
}

Status Client::Disconnect(int timeout_ms) {
  bool was_connected;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    was_connected = state_ == State::kConnected;
    state_ = State::kStopping;
  }
  state_cv_.notify_all();
  if (reconnect_thread_.joinable()) reconnect_thread_.join();
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  {
    Handle* handle = current_.load();
    if (handle == nullptr || !was_connected || !paho_->isConnected(handle->h)) return Status::Ok();
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    if (handle->version == 5) {
      MQTTAsync_disconnectOptions d5 = MQTTAsync_disconnectOptions_initializer5;
      d = d5;
      d.onSuccess5 = &ClientTrampolines::DisconnectDone5;
      d.onFailure5 = &ClientTrampolines::DisconnectFailed5;
    } else {
      d.onSuccess = &ClientTrampolines::DisconnectDone;
      d.onFailure = &ClientTrampolines::DisconnectFailed;
    }
    d.timeout = timeout_ms;
    d.context = &done;
    int rc = paho_->disconnect(handle->h, &d);
    if (rc != MQTTASYNC_SUCCESS) return Status::Unavailable("mqtt: disconnect: " + PahoError(paho_, rc));
  }
  if (finished.wait_for(std::chrono::milliseconds(timeout_ms + 2000)) != std::future_status::ready) {
    return Status::Unavailable("mqtt: disconnect did not complete in time");
  }
  negotiated_version_ = 0;
  return Status::Ok();
}

bool Client::connected() const {
  Handle* handle = current_.load();
  return handle != nullptr && paho_->isConnected(handle->h);
}

Result<int> Client::Publish(const std::string& topic, std::string_view payload, int qos, bool retained,
                            uint64_t tag) {
  if (qos < 0 || qos > 2) return Status::InvalidArgument("mqtt: QoS must be 0, 1 or 2");
  if (topic.empty() || topic.find_first_of("+#") != std::string::npos) {
    return Status::InvalidArgument("mqtt: cannot publish to topic '" + topic + "'");
  }
  if (payload.size() > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument("mqtt: payload too large");
  Handle* handle = current_.load();
  if (handle == nullptr || !paho_->isConnected(handle->h)) return Status::Unavailable("mqtt: not connected");
  auto owned = std::make_unique<PublishContext>(PublishContext{this, tag});
  PublishContext* pc = owned.get();
  {
    std::lock_guard<std::mutex> cl(ctx_mu_);
    contexts_.push_back(std::move(owned));
  }
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.context = pc;
  if (handle->version == 5) {
    ro.onSuccess5 = &ClientTrampolines::PublishSuccess5;
    ro.onFailure5 = &ClientTrampolines::PublishFailure5;
  } else {
    ro.onSuccess = &ClientTrampolines::PublishSuccess;
    ro.onFailure = &ClientTrampolines::PublishFailure;
  }
  MQTTAsync_message msg = MQTTAsync_message_initializer;
  msg.payload = const_cast<char*>(payload.data());  // Paho copies it
  msg.payloadlen = static_cast<int>(payload.size());
  msg.qos = qos;
  msg.retained = retained ? 1 : 0;
  int rc = paho_->sendMessage(handle->h, topic.c_str(), &msg, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    std::lock_guard<std::mutex> cl(ctx_mu_);
    for (auto it = contexts_.begin(); it != contexts_.end(); ++it) {
      if (it->get() == pc) {
        contexts_.erase(it);
        break;
      }
    }
    if (rc == MQTTASYNC_DISCONNECTED || rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT || rc == MQTTASYNC_NO_MORE_MSGIDS) {
      return Status::Unavailable("mqtt: publish: " + PahoError(paho_, rc));
    }
    return Status::InvalidArgument("mqtt: publish to '" + topic + "': " + PahoError(paho_, rc));
  }
  return ro.token;
}

void Client::CompletePublish(PublishContext* pc, int token, Status status) {
  uint64_t tag = pc->tag;
  {
    std::lock_guard<std::mutex> lock(ctx_mu_);
    for (auto it = contexts_.begin(); it != contexts_.end(); ++it) {
      if (it->get() == pc) {
        contexts_.erase(it);
        break;
      }
    }
  }
  if (destroying_ || !callbacks_.on_publish_complete) return;
  PublishCompletion c;
  c.tag = tag;
  c.token = token;
  c.status = std::move(status);
  callbacks_.on_publish_complete(c);
}

Status Client::Subscribe(const std::string& filter, int qos) {
  if (qos < 0 || qos > 2) return Status::InvalidArgument("mqtt: QoS must be 0, 1 or 2");
  if (filter.empty()) return Status::InvalidArgument("mqtt: empty topic filter");
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subscriptions_.emplace_back(filter, qos);
  }
  Handle* handle = current_.load();
  if (handle != nullptr && paho_->isConnected(handle->h)) {
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc = paho_->subscribe(handle->h, filter.c_str(), qos, &ro);
    if (rc != MQTTASYNC_SUCCESS && rc != MQTTASYNC_DISCONNECTED) {
      return Status::InvalidArgument("mqtt: subscribe '" + filter + "': " + PahoError(paho_, rc));
    }
  }
  return Status::Ok();
}

// Runs inside the connect success callback, where `handle` is alive.
void Client::SubscribeAll(Handle* handle) {
  std::vector<std::pair<std::string, int>> subs;
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subs = subscriptions_;
  }
  for (const auto& [filter, qos] : subs) {
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    paho_->subscribe(handle->h, filter.c_str(), qos, &ro);
  }
}

}  // namespace edgeloop::mqtt
