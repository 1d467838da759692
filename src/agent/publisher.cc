#include "agent/publisher.h"

#include <cstdint>
#include <limits>
#include <utility>

namespace edgeloop::agent {
namespace {

// The sends of one pass go together (MessageSink::BeginBatch), when there are several.
class SinkBatch {
 public:
  SinkBatch(MessageSink* sink, bool several) : sink_(several ? sink : nullptr) {
    if (sink_ != nullptr) sink_->BeginBatch();
  }
  ~SinkBatch() {
    if (sink_ != nullptr) sink_->EndBatch();
  }
  SinkBatch(const SinkBatch&) = delete;
  SinkBatch& operator=(const SinkBatch&) = delete;

 private:
  MessageSink* sink_;
};

}  // namespace

Publisher::Publisher(Spool* spool, MessageSink* sink, Options options)
    : spool_(spool), sink_(sink), options_(options) {}

int64_t Publisher::depth() const {
  return spool_->stats().count - static_cast<int64_t>(acked_.size());
}

void Publisher::OnConnected(int64_t now_ms) {
  // Everything unacknowledged goes again, in spool order. Completions of the old epoch may still
  // arrive: successes still count (the broker has it), failures are ignored (resent anyway).
  (void)FlushAcks(now_ms, true);  // on failure the acked set still keeps them from being resent
  ++epoch_;
  if (epoch_ >= (1u << 23)) epoch_ = 1;
  inflight_.clear();
  retry_.clear();
  held_.clear();  // in the spool: resent from its start below
  cursor_ = 0;
  backlog_ = true;
  link_up_ = true;
}

void Publisher::OnComplete(uint64_t tag, const Status& status, int64_t now_ms) {
  const int64_t id = static_cast<int64_t>(tag & ((uint64_t{1} << 40) - 1));
  const uint32_t epoch = static_cast<uint32_t>(tag >> 40);
  if (status.ok()) {
    inflight_.erase(id);
    retry_.erase(id);
    if (acked_set_.insert(id).second) {
      acked_.push_back(id);
      ++acked_total_;
    }
    return;
  }
  auto it = inflight_.find(id);
  if (it == inflight_.end() || it->second != epoch) return;  // an old epoch: resent already
  inflight_.erase(it);
  ++refused_total_;
  retry_[id] = now_ms + options_.retry_after_ms;
}

bool Publisher::Send(const SpoolRecord& r, int64_t /*now_ms*/) {
  Status st = sink_->Publish(r.topic, r.payload, Tag(r.id, epoch_));
  if (!st.ok()) return false;
  inflight_[r.id] = epoch_;
  return true;
}

void Publisher::OnStored(SpoolRecord record, int64_t now_ms) {
  if (backlog_ || !CanSend() || record.id <= cursor_) {
    backlog_ = true;
    held_.clear();  // behind them in the spool: the backlog path reads them from there
    return;
  }
  if (options_.coalesce_ms > 0 && record.stream == Stream::kResults) {
    if (held_.empty()) held_since_ms_ = now_ms;
    held_.push_back(std::move(record));
    return;
  }
  SendHeld(now_ms);  // the older results first: spool order
  if (backlog_) return;
  if (Send(record, now_ms)) {
    cursor_ = record.id;
  } else {
    backlog_ = true;
  }
}

void Publisher::SyncBeforeSend(int64_t now_ms) {
  if (!options_.sync_before_send) return;
  Status st = spool_->Sync();  // cheap when nothing was written since the last one
  last_sync_ms_ = now_ms;
  if (!st.ok() && sync_status_.ok()) sync_status_ = st;
}

void Publisher::SendHeld(int64_t now_ms) {
  if (!held_.empty() && CanSend()) SyncBeforeSend(now_ms);
  SinkBatch batch(sink_, held_.size() > 1);
  for (const SpoolRecord& r : held_) {
    if (!CanSend() || !Send(r, now_ms)) {
      backlog_ = true;  // this one and the rest are read from the spool when the window allows
      break;
    }
    cursor_ = r.id;
  }
  held_.clear();
}

int64_t Publisher::next_send_ms() const {
  return held_.empty() ? std::numeric_limits<int64_t>::max() : held_since_ms_ + options_.coalesce_ms;
}

Status Publisher::Pump(int64_t now_ms, bool force_flush) {
  Status flush = FlushAcks(now_ms, force_flush);
  if (flush.ok() && !sync_status_.ok()) flush = std::exchange(sync_status_, Status::Ok());
  if (!link_up_ || !sink_->connected()) return flush;
  if (!held_.empty() && (force_flush || now_ms >= next_send_ms())) SendHeld(now_ms);
  // Refused messages whose retry time has come.
  for (auto it = retry_.begin(); it != retry_.end() && inflight_.size() < options_.max_inflight;) {
    if (it->second > now_ms) {
      ++it;
      continue;
    }
    auto recs = spool_->ReadAfter(it->first - 1, 1);
    if (!recs.ok()) return recs.status();
    if (recs->empty() || recs->front().id != it->first) {  // dropped by the bounds meanwhile
      it = retry_.erase(it);
      continue;
    }
    SyncBeforeSend(now_ms);
    if (!Send(recs->front(), now_ms)) return flush;
    it = retry_.erase(it);
  }
  while (backlog_ && inflight_.size() < options_.max_inflight) {
    auto recs = spool_->ReadAfter(cursor_, options_.max_inflight - inflight_.size());
    if (!recs.ok()) return recs.status();
    if (recs->empty()) {
      backlog_ = false;
      break;
    }
    SyncBeforeSend(now_ms);
    SinkBatch batch(sink_, recs->size() > 1);
    for (const SpoolRecord& r : *recs) {
      if (!acked_set_.count(r.id) && !retry_.count(r.id) && !inflight_.count(r.id)) {
        if (!Send(r, now_ms)) return flush;  // the link went down; try again later
      }
      cursor_ = r.id;
    }
  }
  return flush;
}

Status Publisher::FlushAcks(int64_t now_ms, bool force) {
  if (acked_.empty()) {
    last_flush_ms_ = now_ms;
    return Status::Ok();
  }
  if (!force && acked_.size() < options_.ack_batch && now_ms - last_flush_ms_ < options_.ack_flush_ms) {
    return Status::Ok();
  }
  last_flush_ms_ = now_ms;
  Status st = spool_->Remove(acked_);
  if (!st.ok()) return st;  // kept: tried again with the next flush, resent after a crash
  acked_.clear();
  acked_set_.clear();
  return Status::Ok();
}

}  // namespace edgeloop::agent
