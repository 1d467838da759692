// The default model of edgeloop (Conv1D(16,3,same) -> MaxPool(2) -> Conv1D(32,3,same) -> MaxPool(2)
// -> Flatten -> Dense(64, relu) -> Dense(3) -> Softmax on a 128x1 window) as a full-INT8 TFLite
// graph, written the way the TensorFlow converter writes it (RESHAPE around CONV_2D 1xK and
// MAX_POOL_2D). Until `edgeloop quantize` lands on main the weights are seeded random int8 values
// with per-channel scales of the size a trained model has; every peer gets the same numbers.
#ifndef EDGELOOP_BENCH_INFER_COMPARE_DEFAULT_MODEL_H_
#define EDGELOOP_BENCH_INFER_COMPARE_DEFAULT_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::bench {

struct QuantLayer {
  int out = 0, in = 0, k = 1;       // weights [out][k][in] (OHWI with H = 1), or [out][in] for dense
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  std::vector<float> weight_scales;  // per output channel (size out) or per tensor (size 1)
  float out_scale = 1;
  int32_t out_zero_point = 0;
  bool relu = false;
};

struct DefaultModel {
  int window = 128;
  float in_scale = 0;
  int32_t in_zero_point = 0;
  QuantLayer conv1, conv2, dense1, dense2;  // maxpool keeps the quantization of its input
  tflite::Graph graph;                      // INT8 in, INT8 out (softmax 1/256, -128)
  int64_t macs = 0;                         // multiply-accumulates of one window
};

DefaultModel MakeDefaultModel(uint32_t seed);

// The layers of a real quantized default model (`edgeloop train` + `edgeloop quantize --io int8`):
// the graph as read, and its two CONV_2D and two FULLY_CONNECTED operators' weights, biases and
// scales for the peers. Errors name what does not have the default model's shape.
Result<DefaultModel> LoadDefaultModel(const std::string& path);

// Writes the weights for the PyTorch peer as JSON.
std::string DefaultModelJson(const DefaultModel& m);

}  // namespace edgeloop::bench

#endif  // EDGELOOP_BENCH_INFER_COMPARE_DEFAULT_MODEL_H_
