// The runtimes bench_infer_compare measures side by side on the default model. Each returns its
// median one-window latency and batched windows/s, or a reason it could not run.
#ifndef EDGELOOP_BENCH_INFER_COMPARE_PEERS_H_
#define EDGELOOP_BENCH_INFER_COMPARE_PEERS_H_

#include <string>
#include <vector>

#include "bench/infer_compare/default_model.h"

namespace edgeloop::bench {

struct PeerResult {
  std::string name;
  std::string error;  // non-empty: the peer did not run, and why
  double median_us = 0;
  double windows_per_s = 0;
  std::vector<int> logits;  // the last layer's int8 outputs for the test window (when available)
};

// Median wall time in microseconds of `fn` over `runs` calls, each timed on its own.
template <typename Fn>
double MedianMicros(Fn&& fn, int runs);

PeerResult RunXnnpack(const DefaultModel& m, const std::vector<int8_t>& window, int runs, int batch);
PeerResult RunOnnxRuntime(const DefaultModel& m, const std::vector<int8_t>& window, int runs, int batch,
                          const std::string& library);

}  // namespace edgeloop::bench

#include "bench/infer_compare/timing.h"

#endif  // EDGELOOP_BENCH_INFER_COMPARE_PEERS_H_
