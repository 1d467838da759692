// Measures a model with edgeloop's runtime: one-window latency percentiles on one thread, batched
// windows per second on one and on N threads (each thread its own Interpreter), the arena, and the
// process's peak resident memory. Used by `edgeloop bench`. Inputs are seeded pseudo-random bytes
// (random values in [-1, 1] for float inputs) so runs are repeatable.
// Thread-safety: BenchModel starts and joins its own threads; call it from one thread.
#ifndef EDGELOOP_CLASSIFIER_BENCH_H_
#define EDGELOOP_CLASSIFIER_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "edgeloop/common/status.h"
#include "edgeloop/runtime/interpreter.h"

namespace edgeloop::classifier {

struct BenchOptions {
  int iterations = 20000;  // one-window invokes timed one by one
  int threads = 0;         // N for the multi-thread figure; 0: std::thread::hardware_concurrency()
  int batch = 64;          // windows per Invoke for the batched figures
  double seconds = 0.5;    // wall time of each batched measurement
  runtime::KernelSet kernels = runtime::KernelSet::kAuto;
};

struct BenchReport {
  std::string kernels;     // the resolved level ("vnni")
  int iterations = 0, threads = 0, batch = 0;
  double min_us = 0, median_us = 0, p90_us = 0, p99_us = 0, mean_us = 0;
  double windows_per_s = 0;          // one thread, batched
  double windows_per_s_threads = 0;  // `threads` threads, batched, all together
  size_t arena_bytes = 0;            // batch 1
  size_t batch_arena_bytes = 0;      // batch `batch`
  size_t parameter_bytes = 0;
  size_t peak_rss_bytes = 0;         // the process's peak resident set (getrusage)
};

// Errors: those of Interpreter::CreateFromBytes / Resize; InvalidArgument for options out of range.
Result<BenchReport> BenchModel(std::span<const uint8_t> model, const BenchOptions& options);

std::string BenchReportText(const BenchReport& r);
// {"median_us", "p90_us", "p99_us", "min_us", "mean_us", "windows_per_s", "windows_per_s_threads",
//  "threads", "batch", "iterations", "arena_bytes", "batch_arena_bytes", "parameter_bytes",
//  "peak_rss_bytes", "kernels"}
std::string BenchReportJson(const BenchReport& r);

}  // namespace edgeloop::classifier

#endif  // EDGELOOP_CLASSIFIER_BENCH_H_
