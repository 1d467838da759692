#include "agent/synthetic.h"

namespace edgeloop::agent {

void VibrationGenerator::Generate(const std::string& condition, size_t n, float drift, std::vector<float>* out) {
  float mean = 0.5f, stddev = 0.1f;
  if (condition == "warning") {
    mean = 1.2f;
    stddev = 0.3f;
  } else if (condition == "failure") {
    mean = 2.5f;
    stddev = 0.8f;
  }
  std::normal_distribution<float> dist(mean + drift, stddev);
  out->resize(n);
  for (float& v : *out) v = dist(rng_);
}

}  // namespace edgeloop::agent
