// A small RAII wrapper over the Paho MQTT C asynchronous client (MQTTAsync), shared by the edge
// agent, the collector and the fleet simulator. It does what those three need and no more:
//   - connect with MQTT 5 (clean_start=false + a session expiry, so the broker keeps the session
//     and queued QoS 1 messages across a disconnect) or MQTT 3.1.1 (clean_session=false); in
//     kAuto mode MQTT 5 first and 3.1.1 when the broker refuses the protocol version;
//     username/password; TLS with a CA file (ssl:// or mqtts:// URIs); a last will;
//   - automatic reconnect with exponential backoff and jitter, driven by the wrapper's own small
//     thread (not Paho's automaticReconnect, which reports nothing about failed attempts): every
//     failed attempt is reported with its reason; subscriptions are renewed on every reconnect;
//   - publish with QoS 0/1 (retained or not) and a completion callback that carries the caller's
//     tag, Paho's token (the MQTT packet id) and the outcome (PUBACK received, or why not);
//   - subscribe, including MQTT 5 shared subscriptions ("$share/group/filter").
//
// No message store: Paho runs with MQTTCLIENT_PERSISTENCE_NONE and does not queue while
// disconnected (Publish returns Unavailable). Durability is the caller's job (the agent's spool);
// a QoS 1 message counts as delivered only when its completion reports OK.
//
// Thread-safety: Publish, Subscribe, Connect, connected() and protocol_version() may be called
// from any thread, including from inside the callbacks. Disconnect and the destructor must not
// be called inside a callback (Paho forbids MQTTAsync_destroy there) nor race with other calls. Callbacks run on Paho's internal
// threads or the reconnect thread; keep them short and non-blocking (hand work to your own
// thread). No callback runs after the destructor returns.
#ifndef EDGELOOP_MQTT_CLIENT_H_
#define EDGELOOP_MQTT_CLIENT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::mqtt {

struct PahoApi;

enum class ProtocolVersion { kAuto, kV5, kV311 };

struct Will {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retained = true;
};

struct ClientOptions {
  std::string server_uri;  // tcp://host:port, mqtt://, ssl://host:port, mqtts://
  std::string client_id;   // must be unique per broker; a persistent session is keyed by it
  std::string username;    // "" = none
  std::string password;
  std::string ca_file;     // PEM trust store for TLS; "" = the system's default trust store
  ProtocolVersion version = ProtocolVersion::kAuto;
  bool clean_start = false;
  uint32_t session_expiry_s = 7 * 24 * 3600;  // MQTT 5: how long the broker keeps the session
  int keep_alive_s = 30;
  int connect_timeout_s = 10;
  int min_retry_ms = 500;     // reconnect: first delay, doubled after each failed attempt...
  int max_retry_ms = 30000;   // ...up to this (each delay has +-20% jitter)
  int max_inflight = 64;   // unacknowledged QoS 1 publishes Paho allows at once
  std::optional<Will> will;
};

// An incoming message.
struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

// The outcome of one Publish.
struct PublishCompletion {
  uint64_t tag = 0;  // the caller's tag from Publish
  int token = 0;     // Paho's token = the MQTT packet id for QoS 1
  Status status;     // OK: PUBACK received (QoS 1) or written (QoS 0). Otherwise why not: the
                     // broker refused it (MQTT 5 reason code >= 0x80) or the session was lost
                     // before the PUBACK; the message may or may not have reached the broker.
};

struct ClientCallbacks {
  // Every successful (re)connect; `session_present` is the broker's CONNACK flag.
  std::function<void(bool session_present)> on_connected;
  std::function<void(const std::string& cause)> on_connection_lost;
  // A failed connection attempt and the delay before the next one.
  std::function<void(const Status& why, int retry_in_ms)> on_connect_failure;
  std::function<void(Message)> on_message;
  std::function<void(const PublishCompletion&)> on_publish_complete;
};

class Client {
 public:
  // Validates the options and creates the Paho handle; does not connect. Errors:
  // InvalidArgument (bad URI, empty client id, TLS URI without TLS support...).
  static Result<std::unique_ptr<Client>> Create(ClientOptions options, ClientCallbacks callbacks);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting and returns at once; the client then retries with backoff until connected,
  // and reconnects after every loss, until Disconnect or destruction.
  Status Connect();
  // Sends DISCONNECT, waiting up to timeout_ms for in-flight QoS 1 messages; stops reconnecting.
  // With MQTT 5 the session (and its expiry) stays on the broker; the will is not published.
  Status Disconnect(int timeout_ms);
  bool connected() const;
  // 5 or 4 (3.1.1) once connected (kAuto may have fallen back); 0 before.
  int protocol_version() const { return negotiated_version_.load(); }

  // Queues one message. Returns Paho's token, or Unavailable when not connected (nothing is
  // queued then), InvalidArgument for a bad topic/QoS. on_publish_complete is called exactly once
  // for every publish that returned a token, unless the client is destroyed first.
  Result<int> Publish(const std::string& topic, std::string_view payload, int qos, bool retained, uint64_t tag);

  // Subscribes now when connected and again after every reconnect. Errors only for arguments.
  Status Subscribe(const std::string& filter, int qos);

 private:
  friend struct ClientTrampolines;
  struct Handle;
  struct PublishContext;
  enum class State { kIdle, kWaiting, kConnecting, kConnected, kStopping };

  Client(ClientOptions options, ClientCallbacks callbacks);
  Status CreateHandle(int mqtt_version);  // only before the reconnect thread starts, or on it
  Status StartConnect();
  void ReconnectLoop();
  void SubscribeAll(Handle* handle);
  void HandleConnected(Handle* handle, bool session_present);
  void HandleConnectFailure(Status why, bool protocol_refused);
  void HandleConnectionLost(const std::string& cause);
  void CompletePublish(PublishContext* pc, int token, Status status);
  int NextDelayMs();  // REQUIRES: state_mu_ held

  const ClientOptions options_;
  const ClientCallbacks callbacks_;
  std::atomic<int> negotiated_version_{0};
  std::atomic<bool> destroying_{false};
  const PahoApi* paho_ = nullptr;  // the plain or the TLS Paho library (paho_api.h), set by Create

  // Paho handles. Only the constructor and the reconnect thread add one (a 3.1.1 fallback retires
  // the MQTT 5 handle); a retired handle is destroyed with the client, so `current_` can be read
  // without a lock and no lock of ours is ever held across a Paho call (Paho calls back with its
  // own lock held, and callbacks may call Publish).
  std::vector<std::unique_ptr<Handle>> handles_;
  std::atomic<Handle*> current_{nullptr};

  std::mutex state_mu_;
  std::condition_variable state_cv_;
  State state_ = State::kIdle;       // GUARDED_BY(state_mu_)
  int64_t next_attempt_ms_ = 0;      // GUARDED_BY(state_mu_): steady clock
  int backoff_ms_ = 0;               // GUARDED_BY(state_mu_)
  bool downgrade_ = false;           // GUARDED_BY(state_mu_): recreate as 3.1.1 before next try
  std::thread reconnect_thread_;

  std::mutex subs_mu_;
  std::vector<std::pair<std::string, int>> subscriptions_;  // GUARDED_BY(subs_mu_)

  std::mutex ctx_mu_;
  std::vector<std::unique_ptr<PublishContext>> contexts_;  // GUARDED_BY(ctx_mu_): outstanding
};

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_MQTT_CLIENT_H_
