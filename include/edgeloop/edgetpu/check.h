// Edge TPU readiness of a .tflite model, following Coral's documented requirements for the Edge TPU
// compiler: every tensor 8-bit quantized (int8/uint8; int32 only for biases and shape arguments),
// static shapes, batch 1, constant weights and biases, at most 3 dimensions (a tensor with more may have only
// its 3 innermost dimensions larger than 1), and only the supported operations with their known
// limitations (no fused activation on pools, equal x/y dilation, 1-D softmax of at most 16,000
// elements, MEAN/PAD along x/y only, ...). The compiler maps a prefix of the graph: from the first
// operator it cannot map, every later operator runs on the CPU too. Parameters (constant data of
// the mapped operators) are compared with the ~8 MB of on-chip memory; beyond it they stream from
// host memory on every inference (slower, still correct).
//
// Depends on tflite, common and nlohmann-json (for ReportJson). Thread-safety: free functions.
#ifndef EDGELOOP_EDGETPU_CHECK_H_
#define EDGELOOP_EDGETPU_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::edgetpu {

// On-chip parameter memory of the Edge TPU (Coral: "about 8 MB" of SRAM).
inline constexpr size_t kOnChipBytes = size_t{8} * 1024 * 1024;

struct OpCheck {
  int index = 0;
  std::string op;            // "CONV_2D"
  bool edgetpu = false;      // maps to the Edge TPU
  std::string reason;        // why it falls back to the CPU ("" when it maps)
  size_t parameter_bytes = 0;
};

struct CheckReport {
  std::vector<OpCheck> ops;
  int first_unmapped = -1;       // index of the first operator that cannot map, -1 if none
  size_t edgetpu_ops = 0, cpu_ops = 0;
  size_t parameter_bytes = 0;    // constant data of the mapped operators
  size_t on_chip_bytes = kOnChipBytes;
  bool fits_on_chip = true;
  bool maps = false;             // every operator maps
  std::vector<std::string> model_issues;  // problems not tied to one operator (e.g. several subgraphs)
  std::string verdict;           // one line for people
};

CheckReport CheckGraph(const tflite::Graph& graph);
// Reads and verifies the bytes first. Errors: those of tflite::ReadModel.
Result<CheckReport> CheckModel(std::span<const uint8_t> model);
// For gates: OK when the whole model maps; otherwise InvalidArgument with the verdict and the
// first unmapped operator and its reason.
Status Check(std::span<const uint8_t> model);

// A table (operator, placement, reason), the parameter bytes against on-chip memory, the verdict.
std::string ReportText(const CheckReport& report);
// {"maps", "verdict", "edgetpu_ops", "cpu_ops", "first_unmapped", "parameter_bytes", "on_chip_bytes",
//  "fits_on_chip", "model_issues", "ops": [{"index", "op", "placement": "edgetpu"|"cpu", "reason",
//  "parameter_bytes"}]}
std::string ReportJson(const CheckReport& report);

}  // namespace edgeloop::edgetpu

#endif  // EDGELOOP_EDGETPU_CHECK_H_
