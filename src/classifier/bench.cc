#include "edgeloop/classifier/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace edgeloop::classifier {
namespace {

using Clock = std::chrono::steady_clock;

void FillInputs(runtime::Interpreter& interp, uint32_t seed) {
  std::mt19937 rng(seed);
  for (size_t i = 0; i < interp.input_count(); ++i) {
    const runtime::TensorInfo in = interp.input(i);
    if (in.type == tflite::TensorType::kFloat32) {
      std::uniform_real_distribution<float> d(-1.f, 1.f);
      for (float& v : in.as<float>()) v = d(rng);
    } else {
      for (size_t b = 0; b < in.bytes; ++b) in.data[b] = static_cast<uint8_t>(rng());
    }
  }
}

// Windows per second of one interpreter invoked repeatedly for about `seconds`.
double BatchedRate(runtime::Interpreter& interp, double seconds) {
  const auto start = Clock::now();
  int64_t invokes = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) (void)interp.Invoke();
    invokes += 16;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(invokes) * interp.batch() / elapsed;
}

double Percentile(const std::vector<double>& sorted, double q) {
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return sorted[i];
}

}  // namespace

Result<BenchReport> BenchModel(std::span<const uint8_t> model, const BenchOptions& options) {
  if (options.iterations < 1) return Status::InvalidArgument("--iterations must be >= 1");
  if (options.threads < 0 || options.threads > 1024) return Status::InvalidArgument("--threads must be in 0..1024");
  if (options.batch < 1) return Status::InvalidArgument("--batch must be >= 1");
  EL_ASSIGN_OR_RETURN(runtime::KernelSet level, runtime::ResolveKernelSet(options.kernels));
  runtime::InterpreterOptions io;
  io.kernels = level;
  EL_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Interpreter> one, runtime::Interpreter::CreateFromBytes(model, io));
  BenchReport r;
  r.kernels = runtime::KernelSetName(level);
  r.iterations = options.iterations;
  r.batch = options.batch;
  r.threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  r.arena_bytes = one->arena_bytes();
  r.parameter_bytes = one->parameter_bytes();
  FillInputs(*one, 1);

  for (int i = 0; i < std::min(options.iterations, 1000); ++i) (void)one->Invoke();  // warm caches
  std::vector<double> us(static_cast<size_t>(options.iterations));
  for (double& t : us) {
    const auto start = Clock::now();
    (void)one->Invoke();
    t = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  }
  double total = 0;
  for (double t : us) total += t;
  std::sort(us.begin(), us.end());
  r.min_us = us.front();
  r.median_us = Percentile(us, 0.5);
  r.p90_us = Percentile(us, 0.9);
  r.p99_us = Percentile(us, 0.99);
  r.mean_us = total / static_cast<double>(us.size());

  // Batched: one interpreter per thread, each with its own arena.
  std::vector<std::unique_ptr<runtime::Interpreter>> interps;
  for (int t = 0; t < r.threads; ++t) {
    EL_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Interpreter> interp, runtime::Interpreter::CreateFromBytes(model, io));
    if (options.batch > 1) {
      Status s = interp->Resize(options.batch);
      if (!s.ok()) return s.WithPrefix("batch " + std::to_string(options.batch));
    }
    FillInputs(*interp, static_cast<uint32_t>(t + 2));
    interps.push_back(std::move(interp));
  }
  r.batch_arena_bytes = interps[0]->arena_bytes();
  r.windows_per_s = BatchedRate(*interps[0], options.seconds);
  std::vector<double> rates(interps.size());
  std::vector<std::thread> workers;
  std::atomic<int> ready{0};
  for (size_t t = 0; t < interps.size(); ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < static_cast<int>(interps.size())) std::this_thread::yield();
      rates[t] = BatchedRate(*interps[t], options.seconds);
    });
  }
  for (std::thread& w : workers) w.join();
  for (double rate : rates) r.windows_per_s_threads += rate;

  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) == 0) r.peak_rss_bytes = static_cast<size_t>(usage.ru_maxrss) * 1024;
  return r;
}

std::string BenchReportText(const BenchReport& r) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(3);
  os << "kernels " << r.kernels << "\n";
  os << "one window, one thread (" << r.iterations << " runs): median " << r.median_us << " us, p90 " << r.p90_us
     << " us, p99 " << r.p99_us << " us, min " << r.min_us << " us, mean " << r.mean_us << " us\n";
  os.precision(0);
  os << "batched (" << r.batch << " windows per invoke): " << r.windows_per_s << " windows/s on 1 thread, "
     << r.windows_per_s_threads << " windows/s on " << r.threads << " threads\n";
  os << "arena " << r.arena_bytes << " bytes (batch " << r.batch << ": " << r.batch_arena_bytes << "), parameters "
     << r.parameter_bytes << " bytes, peak resident " << r.peak_rss_bytes << " bytes\n";
  return os.str();
}

std::string BenchReportJson(const BenchReport& r) {
  nlohmann::json j;
  j["kernels"] = r.kernels;
  j["iterations"] = r.iterations;
  j["threads"] = r.threads;
  j["batch"] = r.batch;
  j["min_us"] = r.min_us;
  j["median_us"] = r.median_us;
  j["p90_us"] = r.p90_us;
  j["p99_us"] = r.p99_us;
  j["mean_us"] = r.mean_us;
  j["windows_per_s"] = r.windows_per_s;
  j["windows_per_s_threads"] = r.windows_per_s_threads;
  j["arena_bytes"] = r.arena_bytes;
  j["batch_arena_bytes"] = r.batch_arena_bytes;
  j["parameter_bytes"] = r.parameter_bytes;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  return j.dump(2) + "\n";
}

}  // namespace edgeloop::classifier
