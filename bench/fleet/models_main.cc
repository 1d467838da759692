// Writes two versions of a small INT8 classifier (the agent tests' mean classifier, for the
// tutorial's gaussian windows) as v1.tflite and v2.tflite into the directory given, so that the
// fleet benchmark can publish and promote real signed models without a training run.
#include <cstdio>
#include <fstream>
#include <string>

#include "agent/test_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_fleet_models DIR\n");
    return 2;
  }
  for (int v = 1; v <= 2; ++v) {
    std::string bytes = edgeloop::agent::test_models::MeanClassifier(/*int8=*/true, v);
    std::string path = std::string(argv[1]) + "/v" + std::to_string(v) + ".tflite";
    std::ofstream f(path, std::ios::binary);
    f << bytes;
    if (bytes.empty() || !f) {
      std::fprintf(stderr, "bench_fleet_models: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
