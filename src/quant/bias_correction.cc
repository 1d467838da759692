#include "quant/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/runtime/quantization.h"
#include "quant/graph_edit.h"

namespace edgeloop::quant {

using tflite::Graph;
using tflite::TensorType;

Status CorrectBiases(Graph* g, const std::vector<int>& layers, const std::map<int32_t, std::vector<float>>& float_outputs,
                     std::span<const float> calibration, std::vector<std::string>* notes) {
  const tflite::Tensor& input = g->tensors[g->inputs[0]];
  if (input.type != TensorType::kInt8 || input.quant.scale.empty()) {
    return Status::InvalidArgument("bias correction: the graph input is not int8");
  }
  const int64_t per_window = tflite::NumElements(input.shape);
  if (per_window <= 0 || calibration.size() % static_cast<size_t>(per_window) != 0) {
    return Status::InvalidArgument("bias correction: calibration data does not divide into input windows");
  }
  const size_t windows = calibration.size() / static_cast<size_t>(per_window);
  std::vector<int8_t> qin(calibration.size());
  for (size_t i = 0; i < calibration.size(); ++i) {
    qin[i] = static_cast<int8_t>(
        runtime::QuantizeValue(calibration[i], input.quant.scale[0], input.quant.zero_point[0], TensorType::kInt8));
  }
  for (int layer : layers) {
    const tflite::Operator& op = g->operators[layer];
    if (op.inputs.size() < 3 || op.inputs[2] < 0 || op.outputs.empty()) continue;
    const int out = op.outputs[0];
    const int bias_index = op.inputs[2];
    auto kept = float_outputs.find(out);
    if (kept == float_outputs.end()) continue;
    const tflite::Tensor& ot = g->tensors[out];
    if (ot.shape.empty() || ot.quant.scale.empty()) continue;
    const size_t channels = static_cast<size_t>(ot.shape.back());
    const size_t per_out = static_cast<size_t>(tflite::NumElements(ot.shape));
    if (channels == 0 || kept->second.size() != per_out * windows) continue;
    const float out_scale = ot.quant.scale[0];
    const int32_t out_zp = ot.quant.zero_point[0];
    Graph probe = *g;
    probe.outputs = {out};
    runtime::InterpreterOptions options;
    options.kernels = runtime::KernelSet::kReference;
    auto created = runtime::Interpreter::Create(std::move(probe), options);
    if (!created.ok()) return created.status().WithPrefix("bias correction: " + tflite::OperatorLabel(*g, layer));
    runtime::Interpreter& interp = **created;
    std::vector<double> sum(channels, 0.0);
    std::vector<size_t> count(channels, 0);
    const float lo = ot.quant.min.empty() ? -std::numeric_limits<float>::infinity() : ot.quant.min[0];
    const float hi = ot.quant.max.empty() ? std::numeric_limits<float>::infinity() : ot.quant.max[0];
    for (size_t w = 0; w < windows; ++w) {
      const runtime::TensorInfo in = interp.input(0);
      std::copy_n(qin.begin() + static_cast<std::ptrdiff_t>(w * per_window), per_window, reinterpret_cast<int8_t*>(in.data));
      EL_RETURN_IF_ERROR(interp.Invoke().WithPrefix("bias correction: " + tflite::OperatorLabel(*g, layer)));
      const int8_t* q = reinterpret_cast<const int8_t*>(interp.output(0).data);
      const float* f = kept->second.data() + w * per_out;
      for (size_t i = 0; i < per_out; ++i) {
        // A clamped element (ReLU floor, range edge) says nothing about the pre-activation mean.
        if (q[i] == -128 || q[i] == 127 || !(f[i] > lo + out_scale) || !(f[i] < hi - out_scale)) continue;
        const size_t c = i % channels;
        sum[c] += static_cast<double>(runtime::DequantizeValue(q[i], out_scale, out_zp)) - f[i];
        ++count[c];
      }
    }
    tflite::Tensor& bt = g->tensors[bias_index];
    std::vector<int32_t> bias = Int32Data(bt);
    if (bias.size() != channels || bt.quant.scale.empty()) continue;
    double moved = 0;
    for (size_t c = 0; c < channels; ++c) {
      if (count[c] == 0) continue;
      const double err = sum[c] / static_cast<double>(count[c]);
      const double scale = bt.quant.scale[std::min(c, bt.quant.scale.size() - 1)];
      const double shifted = std::round(static_cast<double>(bias[c]) - err / scale);
      bias[c] = static_cast<int32_t>(std::clamp(shifted, -2147483647.0, 2147483647.0));
      moved = std::max(moved, std::abs(err) / out_scale);
    }
    SetData(&bt, bias);
    char buf[200];
    std::snprintf(buf, sizeof(buf), "%s: bias corrected by the mean output error on %zu calibration windows (at most %.2f output steps)",
                  tflite::OperatorLabel(*g, layer).c_str(), windows, moved);
    notes->push_back(buf);
  }
  return Status::Ok();
}

}  // namespace edgeloop::quant
