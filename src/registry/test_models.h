// Model bytes for registry and server tests. Test-only (header, no library).
#ifndef EDGELOOP_REGISTRY_TEST_MODELS_H_
#define EDGELOOP_REGISTRY_TEST_MODELS_H_

#include <cstdint>
#include <random>
#include <string>

namespace edgeloop::registry::testing {

// `size` bytes (>= 16) that pass the TFLite header check: root offset 8, identifier "TFL3", then
// seeded random filler so every seed gives a different artifact.
inline std::string TfliteLikeBytes(size_t size, uint32_t seed) {
  std::string b(size < 16 ? 16 : size, '\0');
  b[0] = 8;
  b.replace(4, 4, "TFL3");
  std::mt19937 rng(seed);
  for (size_t i = 8; i < b.size(); ++i) b[i] = static_cast<char>(rng() & 0xff);
  return b;
}

}  // namespace edgeloop::registry::testing

#endif  // EDGELOOP_REGISTRY_TEST_MODELS_H_
