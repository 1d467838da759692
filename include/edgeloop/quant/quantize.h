// Full-integer post-training quantization in TFLite's INT8 scheme: a float32 .tflite graph plus
// calibration windows in, an INT8 graph out that TFLite/LiteRT, edgeloop's runtime and the Edge TPU
// compiler take.
//
//   weights      CONV_2D / DEPTHWISE_CONV_2D: int8, symmetric (zero point 0, values in [-127, 127]),
//                one scale per output channel = max|w| / 127. FULLY_CONNECTED: the same, one scale
//                per tensor (what the Edge TPU compiler and every TFLite version accept).
//   bias         int32, scale = input scale x weight scale (per channel), zero point 0.
//   activations  int8, per tensor, asymmetric; range = min/max over the calibration windows
//                (TFLite's default), widened to contain 0 and nudged so 0 is exactly representable.
//                The input of a SOFTMAX may get a narrower range when that makes the quantized
//                softmax agree better with the float one on the calibration windows (logits far
//                below the top do not matter at an output step of 1/256; rare extreme logits would
//                otherwise make the step between close classes coarse enough to tie them). Before
//                that, a FULLY_CONNECTED feeding the SOFTMAX gets a term common to all classes
//                taken out of its weights and bias (softmax unchanged) so that every window's two
//                leading logits sit around 0; its range may then lose its top as well.
//                SOFTMAX and LOGISTIC outputs are fixed at scale 1/256, zero point -128. Ops that
//                move data without requantizing (pools, RESHAPE, SQUEEZE, EXPAND_DIMS, PAD,
//                STRIDED_SLICE) share one set of parameters between input and output.
//   activations  RELU / RELU6 are fused as output clamps (standalone ones are folded into the op
//                that produces their input, through max pools and reshapes, which commute with them).
//   interface    uint8 (the Coral convention), int8 or float32 with QUANTIZE / DEQUANTIZE at the
//                edges, as TFLite's converter writes for inference_input/output_type.
//
// Before calibrating, the float graph is normalised: constant shape computations (the converter's
// SHAPE / STRIDED_SLICE / PACK flatten) fold into constant RESHAPE targets, float16 weights behind
// DEQUANTIZE and int8 weights of dynamic-range layers become float32 again, MEAN over the spatial
// axes becomes AVERAGE_POOL_2D, and a dilation along a size-1 kernel axis is set equal to the other
// axis' (it has no effect there, and the Edge TPU wants equal dilations). What was rewritten is
// listed in QuantizeResult::notes.
//
// Depends on the standard library, common, tflite and runtime (which runs the float graph for
// calibration and prepares the result as a check). No exceptions.
// Thread-safety: free functions on values.
#ifndef EDGELOOP_QUANT_QUANTIZE_H_
#define EDGELOOP_QUANT_QUANTIZE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::quant {

// Type of the quantized model's inputs and outputs.
enum class IoType { kUInt8, kInt8, kFloat32 };
const char* IoTypeName(IoType io);  // "uint8", "int8", "float32"
// Errors: InvalidArgument naming the text and the choices.
Result<IoType> ParseIoType(std::string_view text);

// Calibration windows exactly as input 0 of the float graph takes them (normalised float32), back
// to back: `values.size()` must be a positive multiple of the input's element count.
struct CalibrationSet {
  std::span<const float> values;
};

struct QuantizeOptions {
  IoType io = IoType::kUInt8;
  int batch = 32;  // windows per calibration Invoke (1 is used for graphs that cannot batch)
  // Narrow the range of a SOFTMAX input where that makes the quantized softmax agree better with
  // the float one on the calibration windows (top-1 first, then squared error); see quantize.cc.
  // Off: plain min/max everywhere, as TFLite's converter.
  bool softmax_aware_ranges = true;
  // With softmax_aware_ranges: a FULLY_CONNECTED feeding a SOFTMAX gets a term common to all
  // classes (u . x + c, fitted on the calibration windows) taken out of its weights and bias, so
  // that each window's two leading logits sit around 0 and the logits' INT8 range narrows (the
  // float probabilities do not change; see src/quant/logit_shift.h). Off: the weights stay.
  bool shift_logits = true;
  // Shift each CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED int32 bias by the mean error its
  // quantized output shows against the float one on the calibration windows (per output channel).
  // Off: the bias is the float bias rounded, as TFLite's converter.
  bool bias_correction = true;
  // Choose each computed activation range (not the model input, not a SOFTMAX input) among min/max and ranges shrunk
  // from it for the smallest squared quantization error on the calibration values (see
  // MseActivationParams in params.h). Off: min/max.
  bool mse_ranges = true;
};

// One row of the ranges table: a tensor of the quantized graph and where its parameters came from.
struct TensorQuantReport {
  int index = 0;            // tensor index in QuantizeResult::graph
  std::string name;
  std::string type;         // "INT8", "INT32", "UINT8", "FLOAT32"
  std::string role;         // "activation", "input", "output", "weights", "bias", "constant"
  float min = 0, max = 0;   // the range the parameters cover (calibrated, or of the constant's values)
  std::vector<float> scale;             // one, or one per channel
  std::vector<int64_t> zero_point;
  std::string source;       // "calibrated", "shared with tensor 3 ('x')", "fixed: softmax output", ...
};

struct QuantizeResult {
  tflite::Graph graph;                     // the INT8 graph; metadata copied verbatim
  std::vector<TensorQuantReport> tensors;  // every quantized tensor, by index
  std::vector<std::string> notes;          // graph rewrites done, in order
  size_t calibration_windows = 0;
};

// Quantizes `float_graph` (exactly one input; every activation float32; weights float32, float16
// behind DEQUANTIZE, or int8 of dynamic-range layers). The result is prepared by edgeloop's runtime
// before it is returned. Errors: InvalidArgument naming the operator (index and opcode) that cannot
// be quantized and why, or the tensor; naming the calibration size when it does not fit the input;
// those of the runtime when the float graph does not run.
Result<QuantizeResult> QuantizeGraph(const tflite::Graph& float_graph, const CalibrationSet& calibration,
                                     const QuantizeOptions& options = {});

// The ranges table for people: one line per quantized tensor (index, name, type, min, max, scale or
// scale range, zero point, source), then the notes.
std::string RangesTable(const QuantizeResult& result);

}  // namespace edgeloop::quant

#endif  // EDGELOOP_QUANT_QUANTIZE_H_
