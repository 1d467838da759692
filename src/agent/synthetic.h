// Synthetic vibration windows for the agent's synthetic source: for each condition the
// distribution of the reference tutorial's generator (normal N(0.5, 0.1), warning N(1.2, 0.3),
// failure N(2.5, 0.8) per reading), plus an optional drift added to every reading.
// Deterministic for a seed. Thread-safety: none.
#ifndef EDGELOOP_AGENT_SYNTHETIC_H_
#define EDGELOOP_AGENT_SYNTHETIC_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace edgeloop::agent {

class VibrationGenerator {
 public:
  explicit VibrationGenerator(uint64_t seed) : rng_(seed) {}
  // Fills `out` with `n` readings of `condition` ("normal", "warning", "failure"; anything else
  // is treated as normal) shifted by `drift`.
  void Generate(const std::string& condition, size_t n, float drift, std::vector<float>* out);

 private:
  std::mt19937_64 rng_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_SYNTHETIC_H_
