#include "bench/infer_compare/machine_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeloop::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

#if defined(__x86_64__)
// Four dependent adds per iteration: one cycle each, whatever the width of the core.
double CoreGhz() {
  constexpr int64_t kAdds = 200'000'000;
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    int64_t x = 0;
    const auto start = Clock::now();
    for (int64_t i = 0; i < kAdds; i += 4) {
      __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    }
    best = std::max(best, static_cast<double>(kAdds) / Seconds(start) / 1e9);
  }
  return best;
}

// Ten independent accumulators hide vpdpbusd's latency, so the loop runs at its throughput.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double VnniMacsPerNs() {
  constexpr int64_t kIterations = 20'000'000;
  // Different starting values: equal accumulators would be folded into one.
  __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2),
          a3 = _mm512_set1_epi32(3), a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5),
          a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7), a8 = _mm512_set1_epi32(8),
          a9 = _mm512_set1_epi32(9);
  __m512i x = _mm512_set1_epi8(3);
  const __m512i y = _mm512_set1_epi8(5);
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int64_t i = 0; i < kIterations; ++i) {
      a0 = _mm512_dpbusd_epi32(a0, x, y);
      a1 = _mm512_dpbusd_epi32(a1, x, y);
      a2 = _mm512_dpbusd_epi32(a2, x, y);
      a3 = _mm512_dpbusd_epi32(a3, x, y);
      a4 = _mm512_dpbusd_epi32(a4, x, y);
      a5 = _mm512_dpbusd_epi32(a5, x, y);
      a6 = _mm512_dpbusd_epi32(a6, x, y);
      a7 = _mm512_dpbusd_epi32(a7, x, y);
      a8 = _mm512_dpbusd_epi32(a8, x, y);
      a9 = _mm512_dpbusd_epi32(a9, x, y);
      __asm__ volatile("" : "+v"(x));  // keeps the compiler from folding the loop
    }
    best = std::max(best, static_cast<double>(kIterations) * 10 * 64 / Seconds(start) / 1e9);
  }
  const __m512i sum = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
      _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(_mm512_add_epi32(a6, a7), _mm512_add_epi32(a8, a9))));
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  int32_t total = 0;
  for (int32_t lane : lanes) total += lane;
  volatile int32_t sink = total;  // every accumulator is used: the loop is not dead code
  (void)sink;
  return best;
}
#endif

}  // namespace

MachinePeak MeasureMachinePeak() {
  MachinePeak peak;
#if defined(__x86_64__)
  peak.core_ghz = CoreGhz();
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni")) peak.int8_macs_per_ns = VnniMacsPerNs();
#endif
  return peak;
}

}  // namespace edgeloop::bench
