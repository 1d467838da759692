// Publish gates: the checks a model must pass before the registry gives it a version number.
// The server configures a list of gates at start (`edgeloop serve`):
//   "tflite"        the file is a valid TFLite model (always on);
//   "edgetpu"       the model maps onto the Edge TPU, for the model names configured as Edge
//                   TPU-targeted (`--edgetpu-models a,b`);
//   "metric-floor"  the published metrics meet configured floors (`--min-metric val_accuracy=0.9`).
// A gate refusal is an expected outcome (the server answers 422 naming the gate), not an error.
//
// The model checks are plain functions (ModelCheckFn) so the checkers from other modules plug in
// without the registry depending on them: serve.cc passes tflite::ReadModel (the FlatBuffers
// Verifier plus semantic checks) and, for Edge TPU, ServeOptions::edgetpu_check (see
// src/server/README.md).
// Thread-safety: gates are immutable after construction; Check may run on many threads at once.
#ifndef EDGELOOP_REGISTRY_GATE_H_
#define EDGELOOP_REGISTRY_GATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::registry {

// Checks model bytes. OK = acceptable; any error = refused, its message saying why.
using ModelCheckFn = std::function<Status(std::span<const uint8_t> model)>;

struct GateInput {
  const std::string& model;             // the model name being published
  std::span<const uint8_t> bytes;       // the whole artifact
  const std::string& metrics_json;      // canonical JSON object
};

class PublishGate {
 public:
  virtual ~PublishGate() = default;
  virtual std::string name() const = 0;
  // OK to let the version through; otherwise the refusal (its message names what failed).
  virtual Status Check(const GateInput& input) const = 0;
};

// "tflite": `check` verifies the bytes are a TFLite model.
std::unique_ptr<PublishGate> MakeTfliteGate(ModelCheckFn check);
// "edgetpu": runs `check` for models whose name is in `model_names`; others pass. A null `check`
// refuses those models ("no Edge TPU checker in this build"): fail closed, never wave through.
std::unique_ptr<PublishGate> MakeEdgeTpuGate(std::set<std::string> model_names, ModelCheckFn check);
// "metric-floor": every metric named in `floors` must be present in the published metrics as a
// number >= its floor.
std::unique_ptr<PublishGate> MakeMetricFloorGate(std::map<std::string, double> floors);

// Parses "val_accuracy=0.9" (from --min-metric) into floors. Errors: InvalidArgument naming it.
Status ParseMetricFloor(const std::string& text, std::map<std::string, double>* floors);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_GATE_H_
