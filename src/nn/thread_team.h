// Internal to src/nn: a fixed team of threads for data-parallel training. Run(fn) executes
// fn(0..size-1) concurrently (thread 0 is the caller) and returns when all are done; inside,
// Barrier() synchronises the team. Waiting spins briefly (a training step is ~100 us), then sleeps
// on the futex behind std::atomic::wait, so an oversubscribed machine is not burnt.
// Thread-safety: Run is called by one thread at a time; Barrier only from inside Run.
#ifndef EDGELOOP_SRC_NN_THREAD_TEAM_H_
#define EDGELOOP_SRC_NN_THREAD_TEAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace edgeloop::nn {

class ThreadTeam {
 public:
  explicit ThreadTeam(int size);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int size() const { return size_; }
  void Run(const std::function<void(int)>& fn);
  void Barrier();

 private:
  void Worker(int id);

  int size_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;  // valid during Run
  std::atomic<uint32_t> job_generation_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> barrier_count_{0};
  std::atomic<uint32_t> barrier_generation_{0};
};

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_THREAD_TEAM_H_
