// Static arena planning: every buffer (activation tensor or scratch) is live from the operator
// that first needs it to the last one that reads it; buffers whose lifetimes overlap get disjoint
// byte ranges. Greedy by size, largest first, each at the lowest offset that fits (the strategy of
// TFLite Micro's GreedyMemoryPlanner). Thread-safety: a pure function.
#ifndef EDGELOOP_RUNTIME_PLANNER_H_
#define EDGELOOP_RUNTIME_PLANNER_H_

#include <cstddef>
#include <vector>

namespace edgeloop::runtime {

struct BufferRequest {
  size_t bytes = 0;
  int first_use = 0;  // operator index; -1 = before the first operator (graph inputs)
  int last_use = 0;   // inclusive
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per request, multiples of `alignment`
  size_t total_bytes = 0;
};

// alignment: a power of two.
ArenaPlan PlanArena(const std::vector<BufferRequest>& requests, size_t alignment);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_PLANNER_H_
