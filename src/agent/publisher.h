// Moves messages from the spool to MQTT and deletes them from the spool only when the broker has
// acknowledged them (QoS 1 PUBACK).
//
//   - A new message goes out at once when the link is up and nothing older is waiting; otherwise
//     it waits in the spool.
//   - On every (re)connect all unacknowledged messages are sent again in spool order (= seq
//     order per stream): duplicates are possible (a PUBACK lost with the connection), loss is not.
//   - At most `max_inflight` messages are unacknowledged at once.
//   - A message the broker refuses (MQTT 5 reason code >= 0x80) stays in the spool and is tried
//     again after `retry_after_ms` (and on reconnect); the spool's bounds decide when it goes.
//   - Acknowledged ids are deleted in batches (one transaction per `ack_batch` acks or per
//     `ack_flush_ms`): a crash before the delete only means those are sent once more.
//   - `coalesce_ms` > 0: new results (already in the spool) are held and sent together once the
//     oldest has waited that long, so a second's results cost one wake-up for their PUBACKs and
//     back-to-back sends instead of one round trip each. Still one result per MQTT message. Any
//     other stream (alarms) goes at once, after the held results so the spool order holds.
//   - `sync_before_send`: the spool is synced (Spool::Sync) before held results or messages read
//     back from the spool go out, so what the broker has is on disk first: after a power loss the
//     spool never knows less than the broker, and no seq is handed out twice (a collector would
//     take the second one for a duplicate). A message sent as it is stored (an alarm, or
//     everything with coalesce_ms 0) goes without waiting for the disk.
//
// Completions come from MQTT's threads; the owner forwards them to OnComplete on its own thread.
// Thread-safety: none; the agent's loop thread owns it.
#ifndef EDGELOOP_AGENT_PUBLISHER_H_
#define EDGELOOP_AGENT_PUBLISHER_H_

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/spool.h"
#include "edgeloop/common/status.h"

namespace edgeloop::agent {

// Where messages go: mqtt::Client in the agent (see agent.cc), something simpler in tests.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual bool connected() const = 0;
  // QoS 1, not retained. Errors: Unavailable when the link is down (nothing was queued).
  virtual Status Publish(const std::string& topic, const std::string& payload, uint64_t tag) = 0;
  // Around several Publish calls in a row: the sink may send them together (one TCP segment).
  virtual void BeginBatch() {}
  virtual void EndBatch() {}
};

class Publisher {
 public:
  struct Options {
    size_t max_inflight = 32;
    int64_t retry_after_ms = 30000;
    size_t ack_batch = 64;
    int64_t ack_flush_ms = 1000;
    int64_t coalesce_ms = 0;  // 0: every message goes as soon as it is stored
    bool sync_before_send = false;
  };
  // `spool` and `sink` must outlive the Publisher.
  Publisher(Spool* spool, MessageSink* sink, Options options);

  // The link came up: resend everything unacknowledged from the start of the spool. Nothing is
  // sent before the first OnConnected (a message sent in between would go twice).
  void OnConnected(int64_t now_ms);
  // The link went down: nothing is sent until the next OnConnected.
  void OnDisconnected() {
    link_up_ = false;
    held_.clear();  // still in the spool: OnConnected sends everything unacknowledged again
  }
  // A completion from the sink, with the tag given to Publish.
  void OnComplete(uint64_t tag, const Status& status, int64_t now_ms);
  // A message was just stored (`record` with its id): sends it now if nothing older waits.
  void OnStored(SpoolRecord record, int64_t now_ms);
  // Sends what the window allows, reading the spool when it is behind, and the held results when
  // they are due; deletes acknowledged messages when a batch is due. `force_flush`: both now.
  // Returns the spool's error if reading failed.
  Status Pump(int64_t now_ms, bool force_flush = false);
  // When the held results are due (for the owner's wait), or INT64_MAX when none are held.
  int64_t next_send_ms() const;
  // When sync_before_send last synced the spool (INT64_MIN: never), for the owner's own syncs.
  int64_t last_sync_ms() const { return last_sync_ms_; }

  // True while messages wait for a free in-flight slot or a retry (completions are then urgent).
  bool waiting() const { return backlog_ || !retry_.empty(); }
  int64_t sent() const { return acked_total_; }          // PUBACKs since start
  int64_t refused() const { return refused_total_; }     // failed completions since start
  size_t inflight() const { return inflight_.size(); }
  // Stored and not yet acknowledged (acknowledged ones may await their batched delete).
  int64_t depth() const;

 private:
  static uint64_t Tag(int64_t id, uint32_t epoch) { return (static_cast<uint64_t>(epoch) << 40) | static_cast<uint64_t>(id); }
  // The link is up and the in-flight window has room for one more.
  bool CanSend() const { return link_up_ && sink_->connected() && inflight_.size() < options_.max_inflight; }
  bool Send(const SpoolRecord& r, int64_t now_ms);
  // sync_before_send: Spool::Sync before messages not sent as they were stored go out. A failure is
  // kept for Pump to return; the messages go anyway (a device keeps reporting while it can).
  void SyncBeforeSend(int64_t now_ms);
  // Sends the held results in order; what the window or the link refuses waits in the spool.
  void SendHeld(int64_t now_ms);
  Status FlushAcks(int64_t now_ms, bool force);

  Spool* spool_;       // not owned
  MessageSink* sink_;  // not owned
  Options options_;
  bool link_up_ = false;
  uint32_t epoch_ = 1;
  int64_t cursor_ = 0;    // highest id handed to the sink in this epoch
  bool backlog_ = true;   // the spool may hold unsent messages after cursor_
  std::map<int64_t, uint32_t> inflight_;  // id -> epoch it was sent in
  std::map<int64_t, int64_t> retry_;      // id -> when to try again (ms)
  std::vector<SpoolRecord> held_;         // coalesce_ms: stored, after cursor_, not yet sent
  int64_t held_since_ms_ = 0;
  int64_t last_sync_ms_ = std::numeric_limits<int64_t>::min();
  Status sync_status_;
  std::vector<int64_t> acked_;            // acknowledged, not yet deleted
  std::set<int64_t> acked_set_;
  int64_t last_flush_ms_ = 0;
  int64_t acked_total_ = 0;
  int64_t refused_total_ = 0;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_PUBLISHER_H_
