// Bias correction for post-training quantization: rounding the weights to int8 and the
// activations to their steps shifts the mean of each output channel of a CONV_2D /
// DEPTHWISE_CONV_2D / FULLY_CONNECTED away from the float model's. Measured on the calibration
// windows, that shift is taken out of the layer's int32 bias (layer by layer in execution order,
// so each layer is measured with the layers before it already corrected).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::quant {

// `g`: the int8 graph (int8 input, before the interface is wrapped). `layers`: operator indices of
// the layers to correct, in execution order. `float_outputs`: for each layer's output tensor, the
// float model's values on the calibration windows, window after window. `calibration`: the float
// input windows. Elements clamped in either model (fused activation, range edge) are left out of
// the mean. Adds a note per corrected layer.
Status CorrectBiases(tflite::Graph* g, const std::vector<int>& layers,
                     const std::map<int32_t, std::vector<float>>& float_outputs, std::span<const float> calibration,
                     std::vector<std::string>* notes);

}  // namespace edgeloop::quant
