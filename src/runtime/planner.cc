#include "runtime/planner.h"

#include <algorithm>
#include <numeric>

namespace edgeloop::runtime {

ArenaPlan PlanArena(const std::vector<BufferRequest>& requests, size_t alignment) {
  auto align = [alignment](size_t n) { return (n + alignment - 1) & ~(alignment - 1); };
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first_use < requests[b].first_use;
  });
  struct Placed {
    size_t offset, end;
  };
  std::vector<size_t> placed;  // request indices already given an offset
  std::vector<Placed> conflicts;
  for (size_t r : order) {
    const BufferRequest& req = requests[r];
    const size_t size = align(std::max<size_t>(req.bytes, 1));
    conflicts.clear();
    for (size_t q : placed) {
      const BufferRequest& other = requests[q];
      if (other.first_use <= req.last_use && req.first_use <= other.last_use) {
        conflicts.push_back({plan.offsets[q], plan.offsets[q] + align(std::max<size_t>(other.bytes, 1))});
      }
    }
    std::sort(conflicts.begin(), conflicts.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    size_t offset = 0;
    for (const Placed& c : conflicts) {
      if (offset + size <= c.offset) break;  // fits in the gap before c
      offset = std::max(offset, c.end);
    }
    plan.offsets[r] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + size);
    placed.push_back(r);
  }
  return plan;
}

}  // namespace edgeloop::runtime
