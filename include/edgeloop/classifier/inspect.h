// What `edgeloop inspect` shows about a .tflite file: operators with their options and the kernel the
// runtime picks, tensors with type, shape, bytes and quantization, metadata (the `edgeloop` JSON
// verbatim), the arena the runtime plans and the bytes of parameters. As text for people and JSON
// for machines. Thread-safety: free functions on values.
#ifndef EDGELOOP_CLASSIFIER_INSPECT_H_
#define EDGELOOP_CLASSIFIER_INSPECT_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::classifier {

struct OperatorReport {
  int index = 0;
  std::string opcode;  // "CONV_2D"
  int version = 1;
  std::vector<int32_t> inputs, outputs;
  std::vector<std::pair<std::string, std::string>> options;  // {"padding", "SAME"}, ...
  std::string kernel;  // "conv_s8_ref", "folded", or "" when the runtime cannot prepare the model
};

struct TensorReport {
  int index = 0;
  std::string name, type;
  std::vector<int32_t> shape, shape_signature;
  size_t bytes = 0;
  bool constant = false;
  std::vector<float> scale;  // empty when not quantized
  std::vector<int64_t> zero_point;
  int quantized_dimension = 0;
};

struct ModelReport {
  uint32_t schema_version = 0;
  std::string description, subgraph_name;
  std::vector<OperatorReport> operators;
  std::vector<TensorReport> tensors;
  std::vector<int32_t> inputs, outputs;
  std::map<std::string, std::string> metadata;  // name -> bytes (JSON text for `edgeloop`)
  size_t parameter_bytes = 0;  // constant tensor data
  size_t arena_bytes = 0;      // planned by the runtime (batch 1)
  std::string runtime_error;   // why the runtime cannot run it; empty when it can
};

// Reads and verifies the model, then prepares it in the runtime (the best kernel level this CPU has,
// or EDGELOOP_KERNELS) for the arena
// size and kernels. A model the runtime refuses still gets a report, with runtime_error set.
// Errors: those of ReadModel.
Result<ModelReport> InspectModel(std::span<const uint8_t> model);

std::string ModelReportText(const ModelReport& report);
// {"operators":[...],"tensors":[...],"inputs":[...],"outputs":[...],"metadata":{...},
//  "edgeloop_metadata":{...}|null,"arena_bytes":N,"parameter_bytes":N,"runtime_error":null|"..."}
std::string ModelReportJson(const ModelReport& report);

}  // namespace edgeloop::classifier

#endif  // EDGELOOP_CLASSIFIER_INSPECT_H_
