// The `edgeloop` metadata entry every model edgeloop writes carries (DESIGN.md "Model files"):
// class labels, input shape, the normalisation fitted on the training split, training metrics,
// the training data's sha256 and the creation time, as JSON.
//
// {"format":"edgeloop/1","labels":["normal","warning","failure"],"input":{"length":128,"channels":1},
//  "normalization":{"mean":[0.71],"std":[0.62]},"metrics":{"val_accuracy":0.99,...},
//  "dataset_sha256":"<hex>","created":"2026-11-24T15:42:00Z","quantization":"float32"}
//
// Normalisation is per channel: x' = (x - mean[c]) / std[c], applied to raw readings before the
// model's input tensor (and before input quantization for INT8 models).
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_CLASSIFIER_METADATA_H_
#define EDGELOOP_CLASSIFIER_METADATA_H_

#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::classifier {

struct ModelMetadata {
  std::vector<std::string> labels;
  int length = 0;    // readings per channel in one window
  int channels = 1;  // 1, or 3 for x/y/z axes; windows are interleaved time-major
  std::vector<float> mean;  // per channel; empty = no normalisation
  std::vector<float> std;   // per channel
  std::string metrics_json = "{}";  // an object, kept verbatim (training report summary)
  std::string dataset_sha256;
  std::string created;      // RFC 3339 UTC
  std::string quantization = "float32";  // "float32", "int8", "dynamic-range"
};

// Serialises to the JSON above (keys sorted, compact).
std::string MetadataToJson(const ModelMetadata& m);
// Parses and validates: labels non-empty and unique, length > 0, channels in {1, 3}, mean/std
// either empty or one per channel with std > 0. Errors name the field: "metadata 'edgeloop':
// normalization.std[0]: must be > 0".
Result<ModelMetadata> MetadataFromJson(const std::string& json);

}  // namespace edgeloop::classifier

#endif  // EDGELOOP_CLASSIFIER_METADATA_H_
