#include "edgeloop/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "edgeloop/runtime/interpreter.h"
#include "quant/bias_correction.h"
#include "quant/graph_edit.h"
#include "quant/logit_shift.h"
#include "quant/normalize.h"
#include "quant/params.h"

namespace edgeloop::quant {
namespace {

using tflite::BuiltinOp;
using tflite::Graph;
using tflite::Operator;
using tflite::Tensor;
using tflite::TensorType;

struct Range {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool seen() const { return min <= max; }
};

// Runs the float graph over the calibration windows with every activation as an output and records
// each tensor's min/max.
Result<std::vector<Range>> Calibrate(const Graph& g, const CalibrationSet& calibration, int batch,
                                     size_t* windows_out, std::map<int32_t, std::vector<float>>* keep) {
  Graph probe = g;
  std::vector<int32_t> watched;
  std::set<int32_t> seen;
  for (int32_t t : g.inputs) {
    if (seen.insert(t).second) watched.push_back(t);
  }
  for (const Operator& op : g.operators) {
    for (int32_t t : op.outputs) {
      if (t >= 0 && seen.insert(t).second) watched.push_back(t);
    }
  }
  probe.outputs.assign(watched.begin() + static_cast<std::ptrdiff_t>(g.inputs.size()), watched.end());
  const int64_t per_window = tflite::NumElements(g.tensors[g.inputs[0]].shape);
  if (per_window <= 0) return Status::InvalidArgument("the model input has no static shape");
  if (calibration.values.empty() || calibration.values.size() % static_cast<size_t>(per_window) != 0) {
    return Status::InvalidArgument("calibration data: " + std::to_string(calibration.values.size()) +
                                   " values is not a positive multiple of the input's " + std::to_string(per_window) +
                                   " elements per window");
  }
  const size_t windows = calibration.values.size() / static_cast<size_t>(per_window);
  runtime::InterpreterOptions options;
  options.kernels = runtime::KernelSet::kReference;
  options.batch = std::max(1, std::min<int>(batch, static_cast<int>(windows)));
  auto created = runtime::Interpreter::Create(probe, options);
  if (!created.ok() && options.batch > 1) {
    options.batch = 1;
    created = runtime::Interpreter::Create(probe, options);
  }
  if (!created.ok()) return created.status().WithPrefix("running the float model for calibration");
  runtime::Interpreter& interp = **created;
  std::vector<Range> ranges(g.tensors.size());
  auto record = [&](int32_t tensor, std::span<const float> values) {
    Range& r = ranges[tensor];
    for (float v : values) {
      if (!std::isfinite(v)) continue;
      r.min = std::min(r.min, v);
      r.max = std::max(r.max, v);
    }
  };
  const size_t b = static_cast<size_t>(options.batch);
  for (size_t start = 0; start < windows; start += b) {
    const size_t n = std::min(b, windows - start);
    const runtime::TensorInfo in = interp.input(0);
    std::span<float> dst = in.as<float>();
    std::fill(dst.begin(), dst.end(), 0.0f);
    std::copy_n(calibration.values.begin() + static_cast<std::ptrdiff_t>(start * per_window), n * per_window,
                dst.begin());
    EL_RETURN_IF_ERROR(interp.Invoke().WithPrefix("running the float model for calibration"));
    record(g.inputs[0], dst.subspan(0, n * per_window));
    for (size_t o = 0; o < probe.outputs.size(); ++o) {
      const runtime::TensorInfo out = interp.output(o);
      if (out.type != TensorType::kFloat32) continue;
      std::span<const float> v = out.as<const float>();
      const std::span<const float> real = v.subspan(0, v.size() / b * n);  // only the windows that were real
      record(probe.outputs[o], real);
      auto kept = keep->find(probe.outputs[o]);
      if (kept != keep->end()) kept->second.insert(kept->second.end(), real.begin(), real.end());
    }
  }
  *windows_out = windows;
  return ranges;
}

// Parameters for the input of a SOFTMAX: the output only resolves steps of 1/256, so logits far
// below the top of their row do not matter, and a range stretched by very negative logits makes
// the step between close classes coarse enough to tie them. Among ranges whose minimum is raised
// towards 0 (and, with `clip_top`, whose maximum is lowered towards 0), pick the one whose quantized
// softmax (output steps included) disagrees least with the float softmax on the calibration rows in
// top-1, then in squared error. When no such range scores better, min/max stays (TFLite's default).
AffineParams SoftmaxInputParams(const std::vector<float>& values, int classes, float beta, const Range& r,
                                bool clip_top) {
  const AffineParams full = ActivationParams(r.seen() ? r.min : 0, r.seen() ? r.max : 0);
  if (classes < 2 || values.size() < static_cast<size_t>(classes)) return full;
  const size_t rows = values.size() / static_cast<size_t>(classes);
  std::vector<float> ref(values.size());
  std::vector<int> ref_top(rows);
  auto softmax = [&](const float* x, float* out) {
    const float m = *std::max_element(x, x + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(beta) * (x[c] - m));
    for (int c = 0; c < classes; ++c) out[c] = static_cast<float>(std::exp(static_cast<double>(beta) * (x[c] - m)) / sum);
  };
  for (size_t i = 0; i < rows; ++i) {
    softmax(&values[i * classes], &ref[i * classes]);
    ref_top[i] = static_cast<int>(std::max_element(&ref[i * classes], &ref[i * classes] + classes) - &ref[i * classes]);
  }
  std::vector<float> deq(static_cast<size_t>(classes)), prob(static_cast<size_t>(classes));
  auto score = [&](const AffineParams& p, size_t* wrong, double* sq) {
    *wrong = 0;
    *sq = 0;
    for (size_t i = 0; i < rows; ++i) {
      for (int c = 0; c < classes; ++c) {
        const float q = std::clamp(std::round(values[i * classes + c] / p.scale) + static_cast<float>(p.zero_point),
                                   -128.0f, 127.0f);
        deq[c] = (q - static_cast<float>(p.zero_point)) * p.scale;
      }
      softmax(deq.data(), prob.data());
      for (int c = 0; c < classes; ++c) {
        prob[c] = std::min(std::round(prob[c] * 256.0f), 255.0f) / 256.0f;
        const double d = prob[c] - ref[i * classes + c];
        *sq += d * d;
      }
      *wrong += static_cast<int>(std::max_element(prob.begin(), prob.end()) - prob.begin()) != ref_top[i];
    }
  };
  AffineParams best = full;
  size_t best_wrong = 0;
  double best_sq = 0;
  score(full, &best_wrong, &best_sq);
  // Without `clip_top` only the bottom of the range moves: clipping the top would tie the leading
  // classes of windows more extreme than the calibration set (seen in practice), clipping the
  // bottom only merges classes that are far from the top anyway. Logits shifted so that each row's
  // two leading ones sit around 0 (logit_shift.h) may lose their top too: only a row's leading
  // logit reaches far above 0, and clamping it keeps it above the second.
  for (int hi = 20; hi >= (clip_top ? 1 : 20); --hi) {
    for (int lo = 20; lo >= 1; --lo) {
      const AffineParams p = ActivationParams(full.min * lo / 20.0f, full.max * hi / 20.0f);
      size_t wrong = 0;
      double sq = 0;
      score(p, &wrong, &sq);
      if (wrong < best_wrong || (wrong == best_wrong && sq < best_sq * (1 - 1e-6))) {
        best = p;
        best_wrong = wrong;
        best_sq = sq;
      }
    }
  }
  return best;
}

bool SharesInputParams(BuiltinOp op) {
  return op == BuiltinOp::kMaxPool2D || op == BuiltinOp::kAveragePool2D || op == BuiltinOp::kReshape ||
         op == BuiltinOp::kSqueeze || op == BuiltinOp::kExpandDims;
}

// The operator-code version TFLite gives the INT8 form of each op.
int Int8Version(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kConv2D:
    case BuiltinOp::kDepthwiseConv2D:
      return 3;
    case BuiltinOp::kFullyConnected:
      return 4;
    case BuiltinOp::kSoftmax:
    case BuiltinOp::kLogistic:
    case BuiltinOp::kMaxPool2D:
    case BuiltinOp::kAveragePool2D:
    case BuiltinOp::kAdd:
    case BuiltinOp::kDequantize:
    case BuiltinOp::kQuantize:
      return 2;
    default:
      return 1;
  }
}

void SetActivation(Tensor* t, const AffineParams& p) {
  t->type = TensorType::kInt8;
  t->quant = {};
  t->quant.scale = {p.scale};
  t->quant.zero_point = {p.zero_point};
  t->quant.min = {p.min};
  t->quant.max = {p.max};
}

std::string Quoted(const Graph& g, int t) { return "tensor " + std::to_string(t) + " ('" + g.tensors[t].name + "')"; }

TensorQuantReport Row(const Graph& g, int index, std::string role, float min, float max, std::string source) {
  TensorQuantReport r;
  r.index = index;
  r.name = g.tensors[index].name;
  r.type = tflite::TensorTypeName(g.tensors[index].type);
  r.role = std::move(role);
  r.min = min;
  r.max = max;
  r.scale = g.tensors[index].quant.scale;
  r.zero_point = g.tensors[index].quant.zero_point;
  r.source = std::move(source);
  return r;
}

std::pair<float, float> MinMax(std::span<const float> v) {
  float lo = 0, hi = 0;
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return {lo, hi};
}

// Quantizes the weights and bias of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED operator `op`.
Status QuantizeWeights(Graph* g, int op_index, std::set<int>* done, std::vector<TensorQuantReport>* rows) {
  Operator& op = g->operators[op_index];
  const std::string where = tflite::OperatorLabel(*g, op_index);
  if (op.inputs.size() < 2 || op.inputs[1] < 0 || !g->tensors[op.inputs[1]].is_constant()) {
    return Status::InvalidArgument(where + ": weights must be constant to quantize");
  }
  const float input_scale = g->tensors[op.inputs[0]].quant.scale.at(0);
  int channel_dim = -1;
  if (op.op == BuiltinOp::kConv2D) channel_dim = 0;
  if (op.op == BuiltinOp::kDepthwiseConv2D) channel_dim = 3;
  const int w_index = op.inputs[1];
  if (done->count(w_index)) {
    return Status::InvalidArgument(where + ": weights " + Quoted(*g, w_index) +
                                   " are shared with another operator; the quantizer needs one copy per operator");
  }
  Tensor& w = g->tensors[w_index];
  if (w.type != TensorType::kFloat32) return Status::InvalidArgument(where + ": weights " + Quoted(*g, w_index) + " are not float32");
  const std::vector<float> wf = FloatData(w);
  const size_t channels = channel_dim >= 0 && static_cast<size_t>(channel_dim) < w.shape.size()
                              ? static_cast<size_t>(w.shape[channel_dim])
                              : 1;
  std::vector<float> bias;
  const int b_index = op.inputs.size() > 2 ? op.inputs[2] : -1;
  if (b_index >= 0) {
    if (!g->tensors[b_index].is_constant() || g->tensors[b_index].type != TensorType::kFloat32) {
      return Status::InvalidArgument(where + ": bias " + Quoted(*g, b_index) + " must be a float32 constant");
    }
    bias = FloatData(g->tensors[b_index]);
  }
  const std::vector<float> floors = MinWeightScalesForBias(bias, input_scale, channels);
  const SymmetricWeights q = QuantizeSymmetric(wf, w.shape, channel_dim, floors);
  const auto [wmin, wmax] = MinMax(wf);
  w.type = TensorType::kInt8;
  SetData(&w, q.values);
  w.quant = {};
  w.quant.scale = q.scales;
  w.quant.zero_point.assign(q.scales.size(), 0);
  w.quant.quantized_dimension = channel_dim >= 0 ? channel_dim : 0;
  done->insert(w_index);
  rows->push_back(Row(*g, w_index, "weights", wmin, wmax,
                      q.scales.size() > 1 ? "symmetric, per channel" : "symmetric, per tensor"));
  if (b_index >= 0) {
    std::vector<float> bias_scales;
    const std::vector<int32_t> qb = QuantizeBias(bias, input_scale, q.scales, &bias_scales);
    Tensor& bt = g->tensors[b_index];
    bt.type = TensorType::kInt32;
    SetData(&bt, qb);
    bt.quant = {};
    bt.quant.scale = bias_scales;
    bt.quant.zero_point.assign(bias_scales.size(), 0);
    bt.quant.quantized_dimension = 0;
    const auto [bmin, bmax] = MinMax(bias);
    rows->push_back(Row(*g, b_index, "bias", bmin, bmax, "input scale x weight scale"));
  }
  return Status::Ok();
}

// Wraps the int8 graph input/output in QUANTIZE / DEQUANTIZE for the requested interface.
void WrapInterface(Graph* g, IoType io, std::vector<TensorQuantReport>* rows) {
  if (io == IoType::kInt8) return;
  const int in = g->inputs[0];
  Tensor outer_in = g->tensors[in];
  outer_in.name = g->tensors[in].name;
  g->tensors[in].name += "_int8";
  if (io == IoType::kFloat32) {
    outer_in.type = TensorType::kFloat32;
    outer_in.quant = {};
  } else {
    outer_in.type = TensorType::kUInt8;
    outer_in.quant.zero_point[0] += 128;
  }
  const int new_in = AddTensor(g, std::move(outer_in));
  Operator quantize;
  quantize.op = BuiltinOp::kQuantize;
  quantize.version = io == IoType::kFloat32 ? 1 : 2;
  quantize.inputs = {new_in};
  quantize.outputs = {in};
  g->operators.insert(g->operators.begin(), quantize);
  g->inputs[0] = new_in;
  rows->push_back(Row(*g, new_in, "input", 0, 0, std::string("model interface (") + IoTypeName(io) + ")"));
  for (int32_t& out : g->outputs) {
    Tensor outer_out = g->tensors[out];
    g->tensors[out].name += "_int8";
    Operator op;
    if (io == IoType::kFloat32) {
      outer_out.type = TensorType::kFloat32;
      outer_out.quant = {};
      op.op = BuiltinOp::kDequantize;
    } else {
      outer_out.type = TensorType::kUInt8;
      outer_out.quant.zero_point[0] += 128;
      op.op = BuiltinOp::kQuantize;
    }
    op.version = Int8Version(op.op);
    const int new_out = AddTensor(g, std::move(outer_out));
    op.inputs = {out};
    op.outputs = {new_out};
    g->operators.push_back(op);
    out = new_out;
    rows->push_back(Row(*g, new_out, "output", 0, 0, std::string("model interface (") + IoTypeName(io) + ")"));
  }
}

}  // namespace

const char* IoTypeName(IoType io) {
  switch (io) {
    case IoType::kUInt8:
      return "uint8";
    case IoType::kInt8:
      return "int8";
    case IoType::kFloat32:
      return "float32";
  }
  return "?";
}

Result<IoType> ParseIoType(std::string_view text) {
  if (text == "uint8") return IoType::kUInt8;
  if (text == "int8") return IoType::kInt8;
  if (text == "float32") return IoType::kFloat32;
  return Status::InvalidArgument("--io '" + std::string(text) + "': expected uint8, int8 or float32");
}

Result<QuantizeResult> QuantizeGraph(const Graph& float_graph, const CalibrationSet& calibration,
                                     const QuantizeOptions& options) {
  QuantizeResult result;
  Graph g = float_graph;
  EL_RETURN_IF_ERROR(NormalizeFloatGraph(&g, &result.notes));
  // The inputs of SOFTMAX keep their calibration values (see SoftmaxInputParams), and so do the
  // outputs of the layers whose bias gets corrected (see bias_correction.h).
  std::set<int32_t> shifted_logits;
  if (options.shift_logits && options.softmax_aware_ranges) {
    const std::vector<LogitLayer> logit_layers = FindLogitLayers(g);
    if (!logit_layers.empty()) {
      std::map<int32_t, std::vector<float>> values;
      for (const LogitLayer& l : logit_layers) {
        values[l.input];
        values[l.output];
      }
      size_t windows = 0;
      EL_RETURN_IF_ERROR(Calibrate(g, calibration, options.batch, &windows, &values).status());
      const std::vector<int32_t> shifted = ShiftLogits(&g, logit_layers, values, &result.notes);
      shifted_logits.insert(shifted.begin(), shifted.end());
    }
  }
  std::map<int32_t, std::vector<float>> kept_values;
  std::map<int32_t, float> softmax_beta;
  std::vector<int> layers;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    const Operator& op = g.operators[i];
    const bool layer =
        op.op == BuiltinOp::kConv2D || op.op == BuiltinOp::kDepthwiseConv2D || op.op == BuiltinOp::kFullyConnected;
    if (layer && options.bias_correction && op.inputs.size() > 2 && op.inputs[2] >= 0 && !op.outputs.empty()) {
      layers.push_back(static_cast<int>(i));
      kept_values[op.outputs[0]];
    }
    if (options.mse_ranges && op.op != BuiltinOp::kSoftmax && op.op != BuiltinOp::kLogistic && !SharesInputParams(op.op)) {
      for (int32_t t : op.outputs) {
        if (t >= 0) kept_values[t];
      }
    }
    if (op.op != BuiltinOp::kSoftmax || op.inputs.empty() || !options.softmax_aware_ranges) continue;
    kept_values[op.inputs[0]];
    const auto* so = std::get_if<tflite::SoftmaxOptions>(&op.options);
    softmax_beta[op.inputs[0]] = so ? so->beta : 1.0f;
  }
  EL_ASSIGN_OR_RETURN(std::vector<Range> ranges,
                      Calibrate(g, calibration, options.batch, &result.calibration_windows, &kept_values));

  std::vector<bool> assigned(g.tensors.size(), false);
  auto calibrated = [&](int t, const std::string& role) {
    const Range& r = ranges[t];
    AffineParams p = ActivationParams(r.seen() ? r.min : 0, r.seen() ? r.max : 0);
    std::string source = r.seen() ? "calibrated" : "calibrated (never seen: 0)";
    auto kept = kept_values.find(t);
    if (kept != kept_values.end() && options.mse_ranges && !softmax_beta.count(t) && r.seen()) {
      const AffineParams m = MseActivationParams(kept->second, r.min, r.max);
      if (m.min != p.min || m.max != p.max) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "calibrated, MSE-optimal: range [%g, %g] narrowed", p.min, p.max);
        source = buf;
      }
      p = m;
    }
    if (kept != kept_values.end() && softmax_beta.count(t) && !g.tensors[t].shape.empty()) {
      const AffineParams s = SoftmaxInputParams(kept->second, g.tensors[t].shape.back(), softmax_beta[t], r,
                                                 shifted_logits.count(t) > 0);
      if (s.min != p.min || s.max != p.max) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "calibrated, softmax input: range [%g, %g] narrowed", p.min, p.max);
        source = buf;
      }
      p = s;
    }
    SetActivation(&g.tensors[t], p);
    assigned[t] = true;
    result.tensors.push_back(Row(g, t, role, p.min, p.max, source));
  };
  const int input = g.inputs[0];
  calibrated(input, "input");
  std::set<int> weights_done;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    Operator& op = g.operators[i];
    const std::string where = tflite::OperatorLabel(g, static_cast<int>(i));
    // Activation inputs must have parameters by now (graph order is execution order); constant
    // operands of ADD get their own.
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const int t = op.inputs[k];
      if (t < 0 || assigned[t]) continue;
      if (!g.tensors[t].is_constant()) {
        return Status::InvalidArgument(where + ": input " + Quoted(g, t) + " is neither computed before nor constant");
      }
      if (op.op == BuiltinOp::kAdd) {
        const std::vector<float> v = FloatData(g.tensors[t]);
        const auto [lo, hi] = MinMax(v);
        const AffineParams p = ActivationParams(lo, hi);
        const std::vector<int8_t> q = QuantizeAffine(v, p);
        SetActivation(&g.tensors[t], p);
        SetData(&g.tensors[t], q);
        assigned[t] = true;
        result.tensors.push_back(Row(g, t, "constant", p.min, p.max, "asymmetric from its values"));
      }
    }
    if (op.op == BuiltinOp::kConv2D || op.op == BuiltinOp::kDepthwiseConv2D || op.op == BuiltinOp::kFullyConnected) {
      EL_RETURN_IF_ERROR(QuantizeWeights(&g, static_cast<int>(i), &weights_done, &result.tensors));
      assigned[op.inputs[1]] = true;
      if (op.inputs.size() > 2 && op.inputs[2] >= 0) assigned[op.inputs[2]] = true;
    }
    Operator& cur = g.operators[i];  // QuantizeWeights may have added tensors, never operators
    cur.version = Int8Version(cur.op);
    for (int32_t out : cur.outputs) {
      if (out < 0 || assigned[out]) continue;
      if (cur.op == BuiltinOp::kSoftmax || cur.op == BuiltinOp::kLogistic) {
        AffineParams p;
        p.scale = 1.0f / 256.0f;
        p.zero_point = -128;
        p.min = 0;
        p.max = 255.0f / 256.0f;
        SetActivation(&g.tensors[out], p);
        assigned[out] = true;
        result.tensors.push_back(Row(g, out, "activation", p.min, p.max,
                                     std::string("fixed: ") + tflite::BuiltinOpName(cur.op) + " output"));
      } else if (SharesInputParams(cur.op)) {
        const int src = cur.inputs[0];
        Tensor& t = g.tensors[out];
        t.type = TensorType::kInt8;
        t.quant = g.tensors[src].quant;
        assigned[out] = true;
        const float lo = t.quant.min.empty() ? 0 : t.quant.min[0], hi = t.quant.max.empty() ? 0 : t.quant.max[0];
        result.tensors.push_back(Row(g, out, "activation", lo, hi, "shared with " + Quoted(g, src)));
      } else {
        calibrated(out, "activation");
      }
    }
  }
  for (int32_t out : g.outputs) {
    for (TensorQuantReport& r : result.tensors) {
      if (r.index == out && r.role == "activation") r.role = "output";
    }
  }
  if (!layers.empty()) EL_RETURN_IF_ERROR(CorrectBiases(&g, layers, kept_values, calibration.values, &result.notes));
  WrapInterface(&g, options.io, &result.tensors);
  std::sort(result.tensors.begin(), result.tensors.end(),
            [](const TensorQuantReport& a, const TensorQuantReport& b) { return a.index < b.index; });
  // Prepare it once: anything the runtime (and so TFLite's kernels) would refuse shows up here.
  auto check = runtime::Interpreter::Create(g, {});
  if (!check.ok()) return check.status().WithPrefix("the quantized graph does not prepare");
  result.graph = std::move(g);
  return result;
}

std::string RangesTable(const QuantizeResult& result) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%5s  %-7s  %-10s  %12s  %12s  %-25s  %-9s  %s\n", "index", "type", "role", "min",
                "max", "scale", "zero_pt", "name / source");
  out += line;
  for (const TensorQuantReport& r : result.tensors) {
    std::string scale, zp;
    if (r.scale.size() == 1) {
      std::snprintf(line, sizeof(line), "%.6g", r.scale[0]);
      scale = line;
    } else if (!r.scale.empty()) {
      const auto [lo, hi] = std::minmax_element(r.scale.begin(), r.scale.end());
      std::snprintf(line, sizeof(line), "%.4g..%.4g (%zu ch)", *lo, *hi, r.scale.size());
      scale = line;
    }
    if (!r.zero_point.empty()) {
      zp = std::to_string(r.zero_point[0]);
      if (r.zero_point.size() > 1) zp += " (x" + std::to_string(r.zero_point.size()) + ")";
    }
    std::snprintf(line, sizeof(line), "%5d  %-7s  %-10s  %12.6g  %12.6g  %-25s  %-9s  %s: %s\n", r.index, r.type.c_str(),
                  r.role.c_str(), r.min, r.max, scale.c_str(), zp.c_str(), r.name.c_str(), r.source.c_str());
    out += line;
  }
  for (const std::string& n : result.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace edgeloop::quant
