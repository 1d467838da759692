#include "nn/thread_team.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace edgeloop::nn {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits until `value` differs from `old`: spins first, then sleeps in the kernel.
void WaitChange(const std::atomic<uint32_t>& value, uint32_t old) {
  for (int i = 0; i < 4000; ++i) {
    if (value.load(std::memory_order_acquire) != old) return;
    CpuRelax();
  }
  while (value.load(std::memory_order_acquire) == old) value.wait(old, std::memory_order_acquire);
}

}  // namespace

ThreadTeam::ThreadTeam(int size) : size_(size < 1 ? 1 : size) {
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { Worker(i); });
}

ThreadTeam::~ThreadTeam() {
  stop_.store(true, std::memory_order_release);
  job_generation_.fetch_add(1, std::memory_order_acq_rel);
  job_generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadTeam::Worker(int id) {
  uint32_t seen = 0;
  while (true) {
    WaitChange(job_generation_, seen);
    seen = job_generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    (*job_)(id);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_ - 1) done_.notify_one();
  }
}

void ThreadTeam::Run(const std::function<void(int)>& fn) {
  if (size_ == 1) {
    fn(0);
    return;
  }
  job_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  job_generation_.fetch_add(1, std::memory_order_acq_rel);
  job_generation_.notify_all();
  fn(0);
  for (int i = 0; i < 4000; ++i) {
    if (done_.load(std::memory_order_acquire) == size_ - 1) break;
    CpuRelax();
  }
  while (true) {
    int d = done_.load(std::memory_order_acquire);
    if (d == size_ - 1) break;
    done_.wait(d, std::memory_order_acquire);
  }
  job_ = nullptr;
}

void ThreadTeam::Barrier() {
  if (size_ == 1) return;
  const uint32_t gen = barrier_generation_.load(std::memory_order_acquire);
  if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
    barrier_count_.store(0, std::memory_order_relaxed);
    barrier_generation_.fetch_add(1, std::memory_order_acq_rel);
    barrier_generation_.notify_all();
    return;
  }
  WaitChange(barrier_generation_, gen);
}

}  // namespace edgeloop::nn
