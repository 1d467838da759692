#include "agent/mqtt_link.h"

#include <MQTTClient.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include "mqtt/paho_connect.h"

namespace edgeloop::agent {

// The MQTTClient entry points, loaded with dlopen like the MQTTAsync ones of the mqtt module: the
// plain library for tcp://, the TLS one (and with it OpenSSL) only for ssl:// brokers.
struct MqttLink::Api {
  decltype(&MQTTClient_createWithOptions) createWithOptions;
  decltype(&MQTTClient_setPublished) setPublished;
  decltype(&MQTTClient_connect) connect;
  decltype(&MQTTClient_connect5) connect5;
  decltype(&MQTTClient_disconnect) disconnect;
  decltype(&MQTTClient_disconnect5) disconnect5;
  decltype(&MQTTClient_isConnected) isConnected;
  decltype(&MQTTClient_publish) publish;
  decltype(&MQTTClient_publish5) publish5;
  decltype(&MQTTClient_subscribe) subscribe;
  decltype(&MQTTClient_subscribe5) subscribe5;
  decltype(&MQTTClient_receive) receive;
  decltype(&MQTTClient_getPendingDeliveryTokens) getPending;
  decltype(&MQTTClient_freeMessage) freeMessage;
  decltype(&MQTTClient_free) free;
  decltype(&MQTTClient_destroy) destroy;
  decltype(&MQTTClient_strerror) strerror;
  decltype(&MQTTResponse_free) responseFree;
  decltype(&MQTTProperties_add) propertiesAdd;
  decltype(&MQTTProperties_free) propertiesFree;
  decltype(&MQTTProperties_hasProperty) propertiesHas;
  decltype(&MQTTProperties_getNumericValue) propertiesGet;
  decltype(&MQTTReasonCode_toString) reasonText;
};

namespace {

template <typename F>
void Bind(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr && missing->empty()) *missing = name;
}

struct Loaded {
  MqttLink::Api* api = nullptr;
  Status status;
};

void PublishedHook(void* ctx, int token, int /*packet_type*/, MQTTProperties* /*props*/, enum MQTTReasonCodes reason) {
  static_cast<MqttLink*>(ctx)->RecordReason(token, static_cast<int>(reason));
}

}  // namespace

namespace {
Loaded LoadApi(bool tls) {
  static std::once_flag once[2];
  static Loaded loaded[2];
  static MqttLink::Api apis[2];
  const int i = tls ? 1 : 0;
  std::call_once(once[i], [&] {
    const char* file = tls ? EDGELOOP_PAHO_SYNC_TLS_LIB : EDGELOOP_PAHO_SYNC_PLAIN_LIB;
    void* lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      loaded[i].status = Status::IOError(std::string("mqtt: cannot load ") + file + ": " + (e != nullptr ? e : "?"));
      return;
    }
    MqttLink::Api& a = apis[i];
    std::string missing;
    Bind(lib, "MQTTClient_createWithOptions", &a.createWithOptions, &missing);
    Bind(lib, "MQTTClient_setPublished", &a.setPublished, &missing);
    Bind(lib, "MQTTClient_connect", &a.connect, &missing);
    Bind(lib, "MQTTClient_connect5", &a.connect5, &missing);
    Bind(lib, "MQTTClient_disconnect", &a.disconnect, &missing);
    Bind(lib, "MQTTClient_disconnect5", &a.disconnect5, &missing);
    Bind(lib, "MQTTClient_isConnected", &a.isConnected, &missing);
    Bind(lib, "MQTTClient_publish", &a.publish, &missing);
    Bind(lib, "MQTTClient_publish5", &a.publish5, &missing);
    Bind(lib, "MQTTClient_subscribe", &a.subscribe, &missing);
    Bind(lib, "MQTTClient_subscribe5", &a.subscribe5, &missing);
    Bind(lib, "MQTTClient_receive", &a.receive, &missing);
    Bind(lib, "MQTTClient_getPendingDeliveryTokens", &a.getPending, &missing);
    Bind(lib, "MQTTClient_freeMessage", &a.freeMessage, &missing);
    Bind(lib, "MQTTClient_free", &a.free, &missing);
    Bind(lib, "MQTTClient_destroy", &a.destroy, &missing);
    Bind(lib, "MQTTClient_strerror", &a.strerror, &missing);
    Bind(lib, "MQTTResponse_free", &a.responseFree, &missing);
    Bind(lib, "MQTTProperties_add", &a.propertiesAdd, &missing);
    Bind(lib, "MQTTProperties_free", &a.propertiesFree, &missing);
    Bind(lib, "MQTTProperties_hasProperty", &a.propertiesHas, &missing);
    Bind(lib, "MQTTProperties_getNumericValue", &a.propertiesGet, &missing);
    Bind(lib, "MQTTReasonCode_toString", &a.reasonText, &missing);
    if (!missing.empty()) {
      loaded[i].status = Status::IOError(std::string("mqtt: ") + file + " has no symbol " + missing);
      return;
    }
    loaded[i].api = &a;
  });
  return loaded[i];
}
}  // namespace

MqttLink::MqttLink(MqttLinkOptions options, MqttLinkCallbacks callbacks, std::function<void()> wake)
    : options_(std::move(options)), callbacks_(std::move(callbacks)), wake_(std::move(wake)) {}

Result<std::unique_ptr<MqttLink>> MqttLink::Create(MqttLinkOptions options, MqttLinkCallbacks callbacks,
                                                   std::function<void()> wake) {
  const std::string& uri = options.server_uri;
  if (uri.rfind("tcp://", 0) != 0 && uri.rfind("mqtt://", 0) != 0 && !mqtt::IsTlsUri(uri)) {
    return Status::InvalidArgument("mqtt: '" + uri + "' is not a tcp://, mqtt://, ssl:// or mqtts:// URI");
  }
  if (options.client_id.empty()) return Status::InvalidArgument("mqtt: empty client id");
  if (options.will && options.will->topic.empty()) return Status::InvalidArgument("mqtt: will topic is empty");
  // Paho knows tcp:// and ssl:// only.
  if (uri.rfind("mqtt://", 0) == 0) options.server_uri = "tcp://" + uri.substr(7);
  if (uri.rfind("mqtts://", 0) == 0) options.server_uri = "ssl://" + uri.substr(8);
  Loaded l = LoadApi(mqtt::IsTlsUri(uri));
  if (!l.status.ok()) return l.status;
  std::unique_ptr<MqttLink> link(new MqttLink(std::move(options), std::move(callbacks), std::move(wake)));
  link->api_ = l.api;
  return link;
}

MqttLink::~MqttLink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (connector_.joinable()) connector_.join();
  // Without DISCONNECT: the broker publishes the will (as after a crash).
  if (handle_ != nullptr) api_->destroy(&handle_);
}

void MqttLink::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    need_connect_ = true;
  }
  if (!connector_.joinable()) connector_ = std::thread([this] { ConnectorLoop(); });
  cv_.notify_all();
}

void MqttLink::ConnectorLoop() {
  std::mt19937 rng(std::random_device{}());
  int backoff_ms = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || need_connect_; });
    if (stop_) return;
    lock.unlock();
    bool session_present = false;
    SocketId socket;
    Status st = ConnectOnce(&session_present, &socket);
    lock.lock();
    Notice n;
    if (st.ok()) {
      backoff_ms = 0;
      need_connect_ = false;
      n.connected = true;
      n.session_present = session_present;
      n.socket = socket;
    } else {
      backoff_ms = backoff_ms == 0 ? options_.min_retry_ms : std::min(options_.max_retry_ms, backoff_ms * 2);
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      n.failure = st;
      n.retry_ms = static_cast<int>(backoff_ms * jitter(rng));
    }
    notices_.push_back(n);
    lock.unlock();
    wake_();
    lock.lock();
    if (!st.ok()) cv_.wait_for(lock, std::chrono::milliseconds(n.retry_ms), [&] { return stop_; });
  }
}

Status MqttLink::ConnectOnce(bool* session_present, SocketId* socket) {
  int version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    version = negotiated_version_ == 4 ? 4 : 5;
  }
  if (handle_ == nullptr) {
    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.MQTTVersion = version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    MQTTClient h = nullptr;
    int rc = api_->createWithOptions(&h, options_.server_uri.c_str(), options_.client_id.c_str(),
                                     MQTTCLIENT_PERSISTENCE_NONE, nullptr, &co);
    if (rc != MQTTCLIENT_SUCCESS) return Status::InvalidArgument("mqtt: create: " + std::string(api_->strerror(rc)));
    handle_ = h;
    if (version == 5) api_->setPublished(handle_, this, &PublishedHook);
  }
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  if (version == 5) {
    MQTTClient_connectOptions o5 = MQTTClient_connectOptions_initializer5;
    o = o5;
  }
  o.keepAliveInterval = options_.keep_alive_s;
  o.connectTimeout = options_.connect_timeout_s;
  o.reliable = 0;  // more than one message in flight
  o.maxInflightMessages = options_.max_inflight;
  o.username = options_.username.empty() ? nullptr : options_.username.c_str();
  o.password = options_.password.empty() ? nullptr : options_.password.c_str();
  MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  mqtt::SetWillAndTls(options_, &will, &ssl, &o);
  int window = options_.max_inflight;
  int rc;
  std::string refused;
  const std::vector<ino_t> sockets_before = OpenSockets();
  if (version == 5) {
    o.cleansession = 0;
    o.cleanstart = 0;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty expiry;
    expiry.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    expiry.value.integer4 = options_.session_expiry_s;
    api_->propertiesAdd(&props, &expiry);
    MQTTResponse r = api_->connect5(handle_, &o, &props, nullptr);
    api_->propertiesFree(&props);
    // Paho stores its own failure codes (e.g. -1) in this enum field: read the bits as an int
    // (loading a value outside the enum's range is undefined behaviour).
    static_assert(sizeof(r.reasonCode) == sizeof(int));
    std::memcpy(&rc, &r.reasonCode, sizeof rc);
    if (rc == MQTTCLIENT_SUCCESS && r.properties != nullptr &&
        api_->propertiesHas(r.properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)) {
      window = std::min<int>(window, static_cast<int>(api_->propertiesGet(r.properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)));
    }
    api_->responseFree(r);
    if (rc >= 0x80 || rc == 1) {
      // A 3.1.1 broker answers an MQTT 5 CONNECT with its CONNACK code 1 (unacceptable protocol
      // version), a version 5 broker that refuses with reason code 0x84.
      const char* t = rc == 1 ? "unacceptable protocol version" : api_->reasonText(static_cast<enum MQTTReasonCodes>(rc));
      refused = std::string("connection refused: ") + (t != nullptr ? t : "?") + " (reason code " + std::to_string(rc) + ")";
      if (rc == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION || rc == 1) {
        // An MQTT 3.1.1 broker: the next attempt uses 3.1.1.
        api_->destroy(&handle_);
        handle_ = nullptr;
        std::lock_guard<std::mutex> lock(mu_);
        negotiated_version_ = 4;
      }
    }
  } else {
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.cleansession = 0;
    rc = api_->connect(handle_, &o);
    static const char* kConnack[] = {"", "unacceptable protocol version", "identifier rejected", "server unavailable",
                                     "bad user name or password", "not authorized"};
    if (rc >= 1 && rc <= 5) refused = std::string("connection refused: ") + kConnack[rc];
  }
  if (rc != MQTTCLIENT_SUCCESS) {
    std::string msg = !refused.empty() ? refused : "connect: " + std::string(api_->strerror(rc));
    const bool denied = rc == 4 || rc == 5 || rc == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD || rc == MQTTREASONCODE_NOT_AUTHORIZED;
    return denied ? Status::PermissionDenied("mqtt: " + msg) : Status::Unavailable("mqtt: " + msg);
  }
  // Subscriptions (the retained messages they bring wait in Paho's queue for Poll).
  for (const auto& [filter, qos] : options_.subscriptions) {
    int src;
    if (version == 5) {
      MQTTResponse r = api_->subscribe5(handle_, filter.c_str(), qos, nullptr, nullptr);
      src = static_cast<int>(r.reasonCode);
      api_->responseFree(r);
    } else {
      src = api_->subscribe(handle_, filter.c_str(), qos);
    }
    if (src < 0) return Status::Unavailable("mqtt: subscribe " + filter + ": " + api_->strerror(src));
  }
  *session_present = o.returned.sessionPresent != 0;
  *socket = FindNewPeerSocket(sockets_before, UriPort(options_.server_uri));
  std::lock_guard<std::mutex> lock(mu_);
  negotiated_version_ = version;
  negotiated_window_ = std::max(2, window);
  return Status::Ok();
}

void MqttLink::RecordReason(int token, int reason) {
  if (reason < 0x80) return;
  std::lock_guard<std::mutex> lock(mu_);
  failed_[token] = reason;
}

void MqttLink::Lost(const std::string& cause) {
  state_ = State::kDown;
  EndBatch();
  socket_ = SocketId{};
  tokens_.clear();  // the Publisher sends everything unacknowledged again after the reconnect
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed_.clear();
    need_connect_ = true;
  }
  cv_.notify_all();
  if (callbacks_.on_connection_lost) callbacks_.on_connection_lost(cause);
}

void MqttLink::CollectCompletions(bool refresh) {
  if (!refresh && tokens_.empty()) return;
  MQTTClient_deliveryToken* pending = nullptr;
  if (api_->getPending(handle_, &pending) != MQTTCLIENT_SUCCESS) return;
  pending_buf_.clear();
  for (MQTTClient_deliveryToken* p = pending; p != nullptr && *p != -1; ++p) pending_buf_.push_back(*p);
  if (pending != nullptr) api_->free(pending);
  std::sort(pending_buf_.begin(), pending_buf_.end());
  paho_pending_ = pending_buf_.size();
  done_buf_.clear();
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    if (std::binary_search(pending_buf_.begin(), pending_buf_.end(), it->first)) {
      ++it;
      continue;
    }
    mqtt::PublishCompletion c;
    c.tag = it->second;
    c.token = it->first;
    int reason = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto f = failed_.find(it->first); f != failed_.end()) {
        reason = f->second;
        failed_.erase(f);
      }
    }
    if (reason >= 0x80) {
      const char* t = api_->reasonText(static_cast<enum MQTTReasonCodes>(reason));
      c.status = Status::Unavailable(std::string("the broker refused the message: ") + (t != nullptr ? t : "?") +
                                     " (reason code " + std::to_string(reason) + ")");
    }
    done_buf_.push_back(std::move(c));
    it = tokens_.erase(it);
  }
  if (callbacks_.on_publish_complete) {
    for (const auto& c : done_buf_) callbacks_.on_publish_complete(c);
  }
}

void MqttLink::Poll() {
  std::vector<Notice> notices;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notices.swap(notices_);
  }
  for (const Notice& n : notices) {
    if (n.connected) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        version_ = negotiated_version_;
        window_ = negotiated_window_;
      }
      state_ = State::kUp;
      socket_ = n.socket;
      tokens_.clear();
      CollectCompletions(/*refresh=*/true);  // Paho's resends of older messages use window slots
      if (callbacks_.on_connected) callbacks_.on_connected(n.session_present);
    } else if (callbacks_.on_connect_failure) {
      callbacks_.on_connect_failure(n.failure, n.retry_ms);
    }
  }
  if (state_ != State::kUp) return;
  // One packet per receive: go on while something arrives (bounded, so a flood cannot starve the loop).
  for (int i = 0; i < 256; ++i) {
    char* topic = nullptr;
    int topic_len = 0;
    MQTTClient_message* msg = nullptr;
    const size_t before = paho_pending_;
    int rc = api_->receive(handle_, &topic, &topic_len, &msg, 0);
    if (msg != nullptr) {
      mqtt::Message m;
      m.topic = topic_len > 0 ? std::string(topic, static_cast<size_t>(topic_len)) : std::string(topic);
      if (msg->payloadlen > 0) m.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
      m.qos = msg->qos;
      m.retained = msg->retained != 0;
      api_->freeMessage(&msg);
      api_->free(topic);
      if (callbacks_.on_message) callbacks_.on_message(std::move(m));
      continue;
    }
    if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
      if (!api_->isConnected(handle_)) {
        Lost(std::string("connection lost (") + api_->strerror(rc) + ")");
        return;
      }
      break;
    }
    CollectCompletions(/*refresh=*/paho_pending_ > 0);
    // Nothing was acknowledged: the socket is drained. Nothing left in flight: what else may come
    // (a pushed manifest, a ping response) is read at the next Poll.
    if (paho_pending_ >= before || paho_pending_ == 0) break;
  }
  if (!api_->isConnected(handle_)) Lost("connection lost");
}

Status MqttLink::Publish(const std::string& topic, const std::string& payload, uint64_t tag) {
  auto r = Publish(topic, payload, 1, false, tag);
  return r.ok() ? Status::Ok() : r.status();
}

Result<int> MqttLink::Publish(const std::string& topic, const std::string& payload, int qos, bool retained,
                              uint64_t tag) {
  if (state_ != State::kUp) return Status::Unavailable("mqtt: not connected");
  if (qos < 0 || qos > 1) return Status::InvalidArgument("mqtt: QoS " + std::to_string(qos) + " is not supported");
  // MQTTClient_publish would block (in 100 ms sleeps) with the window full: refuse instead.
  if (qos > 0 && paho_pending_ + 1 >= static_cast<size_t>(window_)) {
    return Status::Unavailable("mqtt: in-flight window full");
  }
  MQTTClient_deliveryToken token = 0;
  int rc;
  if (version_ == 5) {
    MQTTResponse r = api_->publish5(handle_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                                    retained ? 1 : 0, nullptr, &token);
    // Paho stores its own failure codes (e.g. -1) in this enum field: read the bits as an int
    // (loading a value outside the enum's range is undefined behaviour).
    static_assert(sizeof(r.reasonCode) == sizeof(int));
    std::memcpy(&rc, &r.reasonCode, sizeof rc);
  } else {
    rc = api_->publish(handle_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retained ? 1 : 0,
                       &token);
  }
  if (rc != MQTTCLIENT_SUCCESS) return Status::Unavailable(std::string("mqtt: publish: ") + api_->strerror(rc));
  if (qos > 0) {
    tokens_[token] = tag;
    ++paho_pending_;
  }
  return static_cast<int>(token);
}

void MqttLink::BeginBatch() {
  if (!corked_ && state_ == State::kUp) corked_ = SetCork(socket_, true);
}

void MqttLink::EndBatch() {
  if (corked_) SetCork(socket_, false);
  corked_ = false;
}

Status MqttLink::Disconnect(int timeout_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    need_connect_ = false;
  }
  cv_.notify_all();
  if (connector_.joinable()) connector_.join();
  EndBatch();
  socket_ = SocketId{};
  if (handle_ == nullptr || !api_->isConnected(handle_)) {
    state_ = State::kDown;
    return Status::Ok();
  }
  int version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    version = negotiated_version_;
  }
  int rc = version == 5 ? api_->disconnect5(handle_, timeout_ms, MQTTREASONCODE_NORMAL_DISCONNECTION, nullptr)
                        : api_->disconnect(handle_, timeout_ms);
  state_ = State::kDown;
  if (rc != MQTTCLIENT_SUCCESS) return Status::Unavailable(std::string("mqtt: disconnect: ") + api_->strerror(rc));
  return Status::Ok();
}

}  // namespace edgeloop::agent
