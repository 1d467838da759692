// The agent's MQTT link: Paho's synchronous client (MQTTClient, libpaho-mqtt3c / 3cs for TLS)
// used without its callbacks thread, driven by the agent's own loop. A publish is one write()
// on the loop thread and the PUBACKs are read by Poll() on the same thread: no hand-off to
// Paho's send and receive threads (MQTTAsync wakes both and takes its global mutex per message,
// which cost more CPU than everything else the agent does per window).
//
//   - MQTT 5 (clean_start=false + session expiry: a persistent session) or, when the broker
//     refuses version 5, MQTT 3.1.1 (clean_session=false); username/password; TLS with a CA file;
//     a last will; the subscriptions renewed on every connect.
//   - Connecting blocks in Paho (up to connect_timeout_s), so it runs on a small connector thread
//     of its own with backoff and jitter; the loop thread does not touch the Paho handle while it
//     connects and takes it over once connected. That thread sleeps while the link is up.
//   - Completions: MQTT 5 PUBACKs come with their reason code through Paho's `published` hook,
//     which Paho calls inside MQTTClient_receive (on the loop thread, or on the connector thread
//     while it subscribes); a token that leaves Paho's pending list without a failure reason is a
//     success (MQTT 3.1.1 has no reasons). A token of an earlier connection is forgotten, not
//     reported: the Publisher sends everything unacknowledged again after a reconnect.
//   - Publish never blocks: it refuses (Unavailable) when the link is down or when Paho's
//     in-flight window (the broker's Receive Maximum) is full, as MQTTClient_publish would block.
//
// Thread-safety: everything on the loop thread (Create, Start, Poll, Publish, Disconnect); the
// `wake` function given to Create is called from the connector thread. Paho's synchronous client
// keeps process-wide state: with several links in one process, one link's Poll may read another's
// packets (they still reach the right client) and a socket error of one can make another
// reconnect once. The agent binary has one.
#ifndef EDGELOOP_AGENT_MQTT_LINK_H_
#define EDGELOOP_AGENT_MQTT_LINK_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/publisher.h"
#include "agent/tcp_batch.h"
#include "edgeloop/common/status.h"
#include "edgeloop/mqtt/client.h"

namespace edgeloop::agent {

struct MqttLinkOptions {
  std::string server_uri;
  std::string client_id;
  std::string username;
  std::string password;
  std::string ca_file;
  uint32_t session_expiry_s = 7 * 24 * 3600;
  int keep_alive_s = 30;
  int connect_timeout_s = 10;
  int min_retry_ms = 500;
  int max_retry_ms = 30000;
  int max_inflight = 64;  // asked of Paho; the broker's Receive Maximum may lower it
  std::optional<mqtt::Will> will;
  std::vector<std::pair<std::string, int>> subscriptions;  // filter, QoS
};

// Called on the loop thread, from Poll (and Publish for nothing: completions only come from Poll).
struct MqttLinkCallbacks {
  // `session_present`: the CONNACK flag; Paho's MQTTClient 1.3 reports it for MQTT 3.1.1 only.
  std::function<void(bool session_present)> on_connected;
  std::function<void(const std::string& cause)> on_connection_lost;
  std::function<void(const Status& why, int retry_in_ms)> on_connect_failure;
  std::function<void(mqtt::Message)> on_message;
  std::function<void(const mqtt::PublishCompletion&)> on_publish_complete;
};

class MqttLink final : public MessageSink {
 public:
  // Validates the options and loads Paho; does not connect. `wake` must make the loop call Poll
  // soon (it is called from the connector thread when a connection is ready or an attempt failed).
  static Result<std::unique_ptr<MqttLink>> Create(MqttLinkOptions options, MqttLinkCallbacks callbacks,
                                                  std::function<void()> wake);
  ~MqttLink() override;
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Starts connecting (in the background) and keeps reconnecting until Disconnect.
  void Start();
  // Takes over a new connection, reads what the broker sent (PUBACKs, messages, pings), reports
  // completions and a lost connection. Cheap when nothing arrived (one poll of Paho's socket).
  void Poll();
  bool connected() const override { return state_ == State::kUp; }
  // QoS 1, not retained (MessageSink).
  Status Publish(const std::string& topic, const std::string& payload, uint64_t tag) override;
  // The PUBLISHes between these two go out as one TCP segment (tcp_batch.h): they are held in
  // the socket (TCP_CORK) until EndBatch. No-ops when Paho's socket was not found.
  void BeginBatch() override;
  void EndBatch() override;
  // Paho's socket of this connection, as found at connect (unknown: batches are not corked).
  const SocketId& batch_socket() const { return socket_; }
  // Any QoS / retained; returns Paho's token (0 for QoS 0).
  Result<int> Publish(const std::string& topic, const std::string& payload, int qos, bool retained, uint64_t tag);
  // Messages sent and not yet acknowledged (Paho's pending deliveries of this connection).
  size_t inflight() const { return tokens_.size(); }
  int protocol_version() const { return version_; }
  // Stops reconnecting; when connected, waits up to timeout_ms for in-flight messages and sends
  // DISCONNECT (the session stays; the will is not published).
  Status Disconnect(int timeout_ms);

 // Paho's entry points (mqtt_link.cc).
  struct Api;

 private:
  enum class State { kDown, kUp };
  struct Notice {  // from the connector thread
    bool connected = false;
    bool session_present = false;
    Status failure;
    int retry_ms = 0;
    SocketId socket;  // Paho's socket of the new connection, when found
  };
  MqttLink(MqttLinkOptions options, MqttLinkCallbacks callbacks, std::function<void()> wake);
  void ConnectorLoop();
  Status ConnectOnce(bool* session_present, SocketId* socket);  // connector thread
  void Lost(const std::string& cause);
  // Reports the tokens that left Paho's pending list; `refresh`: also when none of ours is pending.
  void CollectCompletions(bool refresh);

 public:
  // Paho's `published` hook (MQTT 5): keeps the reason of a refused message for its completion.
  void RecordReason(int token, int reason);

 private:

  const MqttLinkOptions options_;
  const MqttLinkCallbacks callbacks_;
  const std::function<void()> wake_;
  const Api* api_ = nullptr;
  void* handle_ = nullptr;  // MQTTClient
  int version_ = 0;         // 5 or 4 once connected
  int window_ = 0;          // in-flight limit of the current connection
  State state_ = State::kDown;
  SocketId socket_;     // Paho's socket of this connection, when found
  bool corked_ = false;
  std::map<int, uint64_t> tokens_;  // pending token -> tag, this connection
  size_t paho_pending_ = 0;         // Paho's pending deliveries (ours + resends of older ones)
  std::vector<int> pending_buf_;
  std::vector<mqtt::PublishCompletion> done_buf_;

  std::mutex mu_;  // the connector thread's state, and failures Paho reports through Published
  std::condition_variable cv_;
  bool need_connect_ = false;  // GUARDED_BY(mu_)
  bool stop_ = false;          // GUARDED_BY(mu_)
  std::vector<Notice> notices_;                  // GUARDED_BY(mu_)
  std::map<int, int> failed_;                    // GUARDED_BY(mu_): token -> MQTT 5 reason >= 0x80
  int negotiated_window_ = 0;                    // GUARDED_BY(mu_)
  int negotiated_version_ = 0;                   // GUARDED_BY(mu_)
  std::thread connector_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_MQTT_LINK_H_
