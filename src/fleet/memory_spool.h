// An in-memory agent::Spool for the fleet simulator: the agent's spool contract (per-stream seqs
// from 1, ids in Put order, ReadAfter/Remove/DropExpired, byte and age bounds dropping the oldest
// first) without the durability. A simulated device lives as long as the simulator process, so
// a crash of the simulator ends its devices too; what is tested is the publish/ack/resend logic,
// which is the agent's own Publisher running over this spool.
//
// Thread-safety: none; one shard thread owns each device's spool.
#ifndef EDGELOOP_FLEET_MEMORY_SPOOL_H_
#define EDGELOOP_FLEET_MEMORY_SPOOL_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "agent/spool.h"

namespace edgeloop::fleet {

class MemorySpool final : public agent::Spool {
 public:
  MemorySpool(int64_t max_bytes, int64_t max_age_ms) : max_bytes_(max_bytes), max_age_ms_(max_age_ms) {}

  int64_t NextSeq(agent::Stream stream) const override { return next_seq_[static_cast<int>(stream)]; }
  Result<int64_t> Put(agent::Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                      int64_t created_ms) override;
  Result<std::vector<agent::SpoolRecord>> ReadAfter(int64_t after_id, size_t limit) override;
  Status Remove(std::span<const int64_t> ids) override;
  Result<int64_t> DropExpired(int64_t now_ms) override;
  Status Sync() override { return Status::Ok(); }  // nothing to make durable: memory only
  agent::SpoolStats stats() const override { return stats_; }

 private:
  int64_t max_bytes_;
  int64_t max_age_ms_;
  int64_t next_id_ = 1;
  int64_t next_seq_[agent::kStreamCount] = {1, 1};
  std::map<int64_t, agent::SpoolRecord> records_;  // by id
  agent::SpoolStats stats_;
};

}  // namespace edgeloop::fleet

#endif  // EDGELOOP_FLEET_MEMORY_SPOOL_H_
