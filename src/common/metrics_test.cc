#include "edgeloop/common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace edgeloop {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("edgeloop_results_total", "Results stored.", {{"device", "edge-1"}}).Increment(3);
  r.GetCounter("edgeloop_results_total", "Results stored.", {{"device", "edge-1"}}).Increment();
  r.GetGauge("edgeloop_spool_depth", "Spooled results.").Set(7);
  auto& h = r.GetHistogram("edgeloop_latency_seconds", "Latency.", {0.1, 1}, {{"op", "x\"y"}});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.RenderText();
  EXPECT_NE(text.find("# TYPE edgeloop_results_total counter\nedgeloop_results_total{device=\"edge-1\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("edgeloop_spool_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("edgeloop_latency_seconds_bucket{op=\"x\\\"y\",le=\"0.10000000000000001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("edgeloop_latency_seconds_count{op=\"x\\\"y\"} 3\n"), std::string::npos);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_NEAR(h.Quantile(0.5), 0.55, 1e-12);  // rank 1.5 lies halfway through (0.1, 1]
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry r;
  Counter& c = r.GetCounter("c", "c");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000);
}

}  // namespace
}  // namespace edgeloop
