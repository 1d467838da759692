// Prometheus metrics: counters, gauges and histograms with fixed label sets, rendered in the
// Prometheus text exposition format (version 0.0.4). Used by the server, the collector and the
// agent for their `/metrics` endpoints.
//
// Thread-safety: every method is safe from any thread. Counter/Gauge updates are lock-free atomics;
// Histogram::Observe takes a per-histogram mutex. Metrics are owned by their Registry and live as
// long as it; the returned references stay valid (must not outlive the registry).
#ifndef EDGELOOP_COMMON_METRICS_H_
#define EDGELOOP_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace edgeloop {

// Label pairs in the order given, e.g. {{"model","vib"},{"channel","stable"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  // Estimated quantile (0..1) by linear interpolation inside the bucket; 0 when empty.
  double Quantile(double q) const;
  uint64_t count() const;
  double sum() const;

 private:
  friend class MetricsRegistry;
  mutable std::mutex mu_;
  std::vector<double> bounds_;    // ascending; +Inf implied
  std::vector<uint64_t> counts_;  // GUARDED_BY(mu_): per bucket (not cumulative), last = +Inf
  double sum_ = 0;                // GUARDED_BY(mu_)
  uint64_t count_ = 0;            // GUARDED_BY(mu_)
};

class MetricsRegistry {
 public:
  // Returns the metric with this name and labels, creating it on first use. The same name must
  // always be used with the same type and help text (the first registration wins).
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                          const Labels& labels = {});

  // Prometheus text format: "# HELP", "# TYPE", then one line per series.
  std::string RenderText() const;

  // Default latency buckets in seconds (100 us .. 10 s).
  static std::vector<double> LatencyBuckets();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    // Series by rendered label string ("{a=\"b\"}").
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyFor(const std::string& name, Type type, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // GUARDED_BY(mu_)
};

}  // namespace edgeloop

#endif  // EDGELOOP_COMMON_METRICS_H_
