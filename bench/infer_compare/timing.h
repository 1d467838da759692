// Timing helpers of bench_infer_compare (included by peers.h).
#ifndef EDGELOOP_BENCH_INFER_COMPARE_TIMING_H_
#define EDGELOOP_BENCH_INFER_COMPARE_TIMING_H_

#include <algorithm>
#include <chrono>
#include <vector>

namespace edgeloop::bench {

template <typename Fn>
double MedianMicros(Fn&& fn, int runs) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < std::min(runs, 2000); ++i) fn();  // warm up caches and branch predictors
  std::vector<double> us(static_cast<size_t>(runs));
  for (double& t : us) {
    const auto start = Clock::now();
    fn();
    t = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

}  // namespace edgeloop::bench

#endif  // EDGELOOP_BENCH_INFER_COMPARE_TIMING_H_
