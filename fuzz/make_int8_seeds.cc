// Writes the seed corpus of runtime_int8_fuzz (test/data/fuzz/runtime_int8/): models written by
// edgeloop's quantizer from generated float 1-D CNNs, one per interface type and layout.
// Usage: make_int8_seeds OUT_DIR
#include <cstdio>
#include <string>

#include "edgeloop/quant/quantize.h"
#include "edgeloop/tflite/io.h"
#include "test/support/float_cnn.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_int8_seeds OUT_DIR\n");
    return 2;
  }
  using edgeloop::quant::IoType;
  struct Seed {
    const char* name;
    bool keras, depthwise;
    IoType io;
  };
  const Seed seeds[] = {{"cnn_uint8", false, false, IoType::kUInt8},
                        {"cnn_int8", false, false, IoType::kInt8},
                        {"cnn_float_io", false, false, IoType::kFloat32},
                        {"keras_depthwise_uint8", true, true, IoType::kUInt8}};
  for (const Seed& s : seeds) {
    edgeloop::testing_support::FloatCnnSpec spec;
    spec.length = 32;
    spec.filters = s.depthwise ? 6 : 4;
    spec.channels = s.depthwise ? 3 : 1;
    spec.depthwise = s.depthwise;
    spec.keras_layout = s.keras;
    spec.hidden = 8;
    edgeloop::quant::QuantizeOptions o;
    o.io = s.io;
    auto q = edgeloop::quant::QuantizeGraph(
        edgeloop::testing_support::FloatCnn(spec),
        {edgeloop::testing_support::VibrationWindows(32, spec.length, spec.channels, 1)}, o);
    if (!q.ok()) {
      std::fprintf(stderr, "%s: %s\n", s.name, q.status().ToString().c_str());
      return 1;
    }
    const std::string path = std::string(argv[1]) + "/" + s.name + ".tflite";
    if (!edgeloop::tflite::WriteModelFile(q->graph, path).ok()) return 1;
    std::printf("wrote %s\n", path.c_str());
  }
  return 0;
}
