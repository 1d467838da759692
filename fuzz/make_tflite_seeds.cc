// Writes the sample graphs of test/support/sample_graphs.h as .tflite seeds for tflite_loader_fuzz.
// Usage: make_tflite_seeds OUT_DIR   (the fixtures in test/data/tflite/fixtures are copied by hand)
#include <cstdio>
#include <string>

#include "edgeloop/tflite/io.h"
#include "test/support/sample_graphs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  for (const auto& [name, graph] : edgeloop::testing_support::SampleGraphs()) {
    const edgeloop::Status s = edgeloop::tflite::WriteModelFile(graph, std::string(argv[1]) + "/" + name);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
