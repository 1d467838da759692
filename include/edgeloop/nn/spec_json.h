// The JSON form of a ModelSpec (`edgeloop train --model spec.json`), with Keras' names:
//
//   {"input": {"length": 128, "channels": 1},          optional: the data decides otherwise
//    "layers": [
//      {"type": "conv1d", "filters": 16, "kernel_size": 3, "activation": "relu", "padding": "same",
//       "strides": 1, "dilation_rate": 1, "use_bias": true},
//      {"type": "maxpool1d", "pool_size": 2, "strides": 2, "padding": "valid"},
//      {"type": "averagepool1d", ...}, {"type": "globalaveragepool1d"}, {"type": "flatten"},
//      {"type": "dense", "units": 64, "activation": "relu"},   last dense: units may be left out
//      {"type": "dropout", "rate": 0.3},
//      {"type": "batchnorm", "momentum": 0.99, "epsilon": 0.001},
//      {"type": "relu"}, {"type": "relu6"}, {"type": "softmax"}]}
//
// Also accepted: Keras class names ("Conv1D", "MaxPooling1D", "BatchNormalization", ...) and the
// short keys "kernel", "stride", "dilation", "pool". Unknown keys and wrong types are errors naming
// the file, the layer and the key: "spec.json: layers[2] (dense): unknown key 'unit'".
// Part of edgeloop_nn_training (it needs nlohmann-json; edgeloop_nn itself does not).
// Thread-safety: free functions.
#ifndef EDGELOOP_NN_SPEC_JSON_H_
#define EDGELOOP_NN_SPEC_JSON_H_

#include <string>
#include <string_view>

#include "edgeloop/common/status.h"
#include "edgeloop/nn/spec.h"

namespace edgeloop::nn {

// Parses `json`; `name` (usually the path) prefixes every message. Length and channels are 0 when
// the file has no "input" (the caller fills them from the data). Shapes are not checked here
// (ResolveSpec does that). Errors: InvalidArgument.
Result<ModelSpec> ModelSpecFromJson(std::string_view json, const std::string& name);

// The spec as JSON in the form above (canonical names), for reports.
std::string ModelSpecToJson(const ModelSpec& spec);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_SPEC_JSON_H_
