// Softmax-invariant shift of the logits before quantizing them. SOFTMAX(z) = SOFTMAX(z - s) for any
// s common to all classes of a row, so a FULLY_CONNECTED layer feeding a SOFTMAX may have the same
// vector u taken out of every weight row and the same c out of every bias: each row's logits then
// move by s = u . x + c and the float probabilities do not change. With u, c fitted on the
// calibration windows so that s follows the mean of each row's two leading logits, the values that
// decide top-1 sit near 0 for every window, the extreme logits of confident windows can be clipped
// without tying their leading classes, and the INT8 logit range (256 steps) becomes much narrower:
// close classes are resolved in finer steps. The graph stays plain TFLite (only constants change).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::quant {

// A FULLY_CONNECTED operator whose float output feeds only a SOFTMAX (no fused activation, not a
// graph output, float32 constant weights [classes, depth] and bias, at least 2 classes).
struct LogitLayer {
  int op = -1;          // the FULLY_CONNECTED
  int32_t input = -1;   // its activation input (an operator's output)
  int32_t output = -1;  // the logits
};
std::vector<LogitLayer> FindLogitLayers(const tflite::Graph& g);

// Fits u, c by ridge least squares on the calibration values (`kept`: the float values of each
// layer's input and output tensors, window after window) and rewrites the layer's weights and bias
// in `g`. A layer is left unchanged (with a note saying why) when the shift would not narrow the
// range the rows' leading-two means span on the calibration windows. Returns the logits tensors of the layers shifted; adds a
// note per layer.
std::vector<int32_t> ShiftLogits(tflite::Graph* g, const std::vector<LogitLayer>& layers,
                const std::map<int32_t, std::vector<float>>& kept, std::vector<std::string>* notes);

}  // namespace edgeloop::quant
