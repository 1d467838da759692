// A minimal MQTT 5 client driven by its owner's loop thread (no threads of its own), for the two
// hot paths: the fleet simulator's shards (publish) and the collector (subscribe). QoS 1 PUBLISH
// packets are appended to an output buffer and written together (one write(2) for everything a
// loop round produced); what arrives (PUBACKs, PUBLISHes) is read in bulk (one read(2) for
// hundreds of packets). It exists because Paho's MQTTAsync serialises every client of a process
// through one send and one receive thread, with a per-message cost that grows with its queue, and
// acknowledges a message as soon as its callback returns (so a collector had to write its journal
// once per message); see src/fleet/README.md and bench/ingest for the numbers.
//
// Scope: tcp:// (and mqtt://) only, no will, no TLS; the CONNACK's Receive Maximum caps the
// window. What a device guarantees (store and forward, resend on reconnect) stays in the agent's
// Publisher above this, exactly as with mqtt::Client. Subscribers (the simulator's watcher, the
// collector) get incoming PUBLISH packets in bulk; their PUBACKs are written by the NEXT
// Service(), so a caller that makes the messages durable before calling Service again (the
// collector's journal) acknowledges only what it has kept.
//
// Thread-safety: none; one shard thread owns it.
#ifndef EDGELOOP_MQTT_WIRE_CLIENT_H_
#define EDGELOOP_MQTT_WIRE_CLIENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::mqtt {

struct WireAck {
  uint16_t packet_id = 0;
  int reason = 0;  // MQTT 5 PUBACK reason code; >= 0x80 = refused
};

struct WireMessage {
  std::string topic;
  std::string payload;
};

class WireClient {
 public:
  // Parses "tcp://host:port" or "mqtt://host:port" (port defaults to 1883). Errors name the URL.
  static Status ParseUrl(const std::string& url, std::string* host, int* port);

  // clean_start false + session_expiry_s > 0: the broker keeps the session (and queues QoS 1
  // messages for it) across a disconnect.
  WireClient(std::string host, int port, std::string client_id, int keep_alive_s, bool clean_start = true,
             uint32_t session_expiry_s = 0);
  ~WireClient();
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  // Sent with every CONNECT from now on ("" = none).
  void SetCredentials(std::string username, std::string password) {
    username_ = std::move(username);
    password_ = std::move(password);
  }
  // TCP connect, CONNECT (MQTT 5, clean start as constructed), wait for CONNACK; blocks up to timeout_ms. On
  // success the socket is non-blocking and `receive_maximum()` holds the broker's limit.
  Status Connect(int timeout_ms);
  // Writes what is buffered, sends DISCONNECT (best effort) and closes.
  void Disconnect();
  // Closes at once, dropping what is buffered (e.g. PUBACKs for messages the caller could not keep:
  // the broker delivers them again).
  void Abort() { Close("aborted"); }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  int receive_maximum() const { return receive_maximum_; }
  bool session_present() const { return session_present_; }
  int subacks() const { return subacks_; }  // SUBACKs received on this connection
  int subscribe_refusals() const { return subscribe_refusals_; }  // SUBACK reason codes >= 0x80
  // Queues a SUBSCRIBE (one filter, QoS 0/1); the SUBACK is read by Service. Not connected: error.
  Status Subscribe(const std::string& filter, int qos);
  const std::string& last_error() const { return last_error_; }

  // Appends a QoS 1 PUBLISH; returns its packet id (never 0). Unavailable when not connected or
  // when every packet id is in flight. The bytes go out with the next Service().
  Result<uint16_t> Publish(std::string_view topic, std::string_view payload, bool retained);
  bool want_write() const { return out_off_ < out_.size(); }

  // Writes what is buffered, reads what arrived (PUBACKs are appended to `acks`), sends PINGREQ
  // when the link was idle for half the keep-alive. An I/O or protocol error closes the
  // connection and returns the reason (then every packet id in flight is lost with it).
  // Incoming PUBLISH packets go to `messages` (when not null; otherwise they are acknowledged
  // and dropped); their PUBACKs are written by the next Service.
  Status Service(std::vector<WireAck>* acks, int64_t now_ms, std::vector<WireMessage>* messages = nullptr);

 private:
  void Close(const std::string& why);
  Status WriteSome(int64_t now_ms);

  std::string host_;
  int port_;
  std::string client_id_;
  int keep_alive_s_;
  bool clean_start_;
  uint32_t session_expiry_s_;
  bool session_present_ = false;
  int subacks_ = 0;
  int subscribe_refusals_ = 0;
  std::string username_, password_;
  int fd_ = -1;
  int receive_maximum_ = 65535;
  std::string out_;      // encoded packets not yet written
  size_t out_off_ = 0;   // bytes of out_ already written
  std::string in_;       // bytes read and not yet parsed
  std::vector<uint8_t> in_use_;  // by packet id: 1 while in flight
  uint16_t next_id_ = 0;
  int64_t last_write_ms_ = 0;
  std::string last_error_;
};

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_MQTT_WIRE_CLIENT_H_
