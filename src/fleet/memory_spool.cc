#include "fleet/memory_spool.h"

namespace edgeloop::fleet {

Result<int64_t> MemorySpool::Put(agent::Stream stream, int64_t seq, const std::string& topic,
                                 const std::string& payload, int64_t created_ms) {
  const int s = static_cast<int>(stream);
  if (s < 0 || s >= agent::kStreamCount) return Status::InvalidArgument("spool: unknown stream");
  if (seq != next_seq_[s]) {
    return Status::InvalidArgument("spool: seq " + std::to_string(seq) + " given, " + std::to_string(next_seq_[s]) +
                                   " expected");
  }
  const int64_t bytes = static_cast<int64_t>(topic.size() + payload.size());
  if (bytes > max_bytes_) {
    return Status::InvalidArgument("spool: message of " + std::to_string(bytes) + " bytes exceeds max_bytes " +
                                   std::to_string(max_bytes_));
  }
  while (stats_.bytes + bytes > max_bytes_ && !records_.empty()) {  // drop oldest first
    auto it = records_.begin();
    stats_.bytes -= static_cast<int64_t>(it->second.topic.size() + it->second.payload.size());
    --stats_.count;
    ++stats_.dropped;
    records_.erase(it);
  }
  agent::SpoolRecord r{next_id_++, stream, seq, created_ms, topic, payload};
  const int64_t id = r.id;
  records_.emplace(id, std::move(r));
  ++next_seq_[s];
  ++stats_.count;
  stats_.bytes += bytes;
  return id;
}

Result<std::vector<agent::SpoolRecord>> MemorySpool::ReadAfter(int64_t after_id, size_t limit) {
  std::vector<agent::SpoolRecord> out;
  for (auto it = records_.upper_bound(after_id); it != records_.end() && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status MemorySpool::Remove(std::span<const int64_t> ids) {
  for (int64_t id : ids) {
    auto it = records_.find(id);
    if (it == records_.end()) continue;
    stats_.bytes -= static_cast<int64_t>(it->second.topic.size() + it->second.payload.size());
    --stats_.count;
    records_.erase(it);
  }
  return Status::Ok();
}

Result<int64_t> MemorySpool::DropExpired(int64_t now_ms) {
  int64_t n = 0;
  while (!records_.empty() && records_.begin()->second.created_ms < now_ms - max_age_ms_) {
    auto it = records_.begin();
    stats_.bytes -= static_cast<int64_t>(it->second.topic.size() + it->second.payload.size());
    --stats_.count;
    ++stats_.dropped;
    records_.erase(it);
    ++n;
  }
  return n;
}

}  // namespace edgeloop::fleet
