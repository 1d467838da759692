// Rng: edgeloop's own seeded random numbers (xoshiro256** seeded through splitmix64), so that a
// data set generated or a model trained with a given seed is the same on every machine and with
// every standard library (std::mt19937 is portable but std::*_distribution are not).
//
// The integer stream is identical everywhere. Normal() uses only std::log and std::sqrt (the
// Marsaglia polar method), so floating-point results are identical wherever libm's log agrees
// (glibc on x86-64 and ARM64 does).
// Thread-safety: an Rng is a value; use one per thread (derive streams with DeriveSeed).
#ifndef EDGELOOP_COMMON_RANDOM_H_
#define EDGELOOP_COMMON_RANDOM_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace edgeloop {

// splitmix64 step: a good 64-bit mixer, used for seeding and for deriving independent seeds.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A seed for a sub-stream (epoch, step, shard, ...) derived from a base seed: distinct inputs
// give statistically independent streams.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = seed;
  uint64_t h = SplitMix64(&s);
  for (uint64_t v : {a, b, c}) {
    s = h ^ (v * 0xD1B54A32D192ED03ull);
    h = SplitMix64(&s);
  }
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) {
    uint64_t s = seed;
    for (uint64_t& w : state_) w = SplitMix64(&s);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform in [0, 1) with 24 random bits, for float work (dropout masks, init).
  float UniformFloat() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }

  // Uniform integer in [0, n), unbiased (Lemire's method). n must be > 0.
  uint64_t Below(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Standard normal (Marsaglia polar method; the second value of each pair is kept for the next
  // call).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(Below(i));
      std::swap(items[i - 1], items[j]);
    }
  }

  // Index drawn with the given (non-negative, not all zero) weights.
  template <typename W>
  size_t Choice(std::span<const W> weights) {
    double total = 0;
    for (W w : weights) total += static_cast<double>(w);
    double r = Uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      r -= static_cast<double>(weights[i]);
      if (r < 0) return i;
    }
    // Rounding can leave r at or just above 0: the last class with a positive weight.
    for (size_t i = weights.size(); i > 0; --i) {
      if (weights[i - 1] > 0) return i - 1;
    }
    return 0;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace edgeloop

#endif  // EDGELOOP_COMMON_RANDOM_H_
