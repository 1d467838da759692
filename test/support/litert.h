// LiteRT.js (npm @litertjs/core, the official TFLite runtime built to WASM) as an independent
// oracle: runs `node test/tools/run_litert.mjs MODEL IN OUT` on raw tensor bytes. Needs node and
// test/tools/node_modules (scripts/install-test-tools); tests skip with the reason when either is
// missing. Each call starts one node process (~0.3 s).
#ifndef EDGELOOP_TEST_SUPPORT_LITERT_H_
#define EDGELOOP_TEST_SUPPORT_LITERT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace edgeloop::testing_support {

// "" when LiteRT.js can run here; otherwise why not (for GTEST_SKIP).
std::string LiteRtUnavailableReason();

struct LiteRtRun {
  bool ok = false;
  std::vector<uint8_t> output;  // raw bytes of output tensor 0
  std::string error;            // node's stderr when !ok
};

// Runs `model` (.tflite bytes) on `input` (raw bytes of input tensor 0).
LiteRtRun RunLiteRt(const std::vector<uint8_t>& model, const std::vector<uint8_t>& input);

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_LITERT_H_
