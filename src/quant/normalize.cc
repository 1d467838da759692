#include "quant/normalize.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "quant/graph_edit.h"

namespace edgeloop::quant {
namespace {

using tflite::BuiltinOp;
using tflite::Graph;
using tflite::Operator;
using tflite::Tensor;
using tflite::TensorType;

std::string OpName(const Graph& g, size_t i) { return tflite::OperatorLabel(g, static_cast<int>(i)); }

// Ops that normalisation removes or rewrites (they need not be quantizable themselves).
bool IsRewrittenOp(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kDequantize:
    case BuiltinOp::kShape:
    case BuiltinOp::kStridedSlice:
    case BuiltinOp::kPack:
    case BuiltinOp::kMean:
    case BuiltinOp::kRelu:
    case BuiltinOp::kRelu6:
      return true;
    default:
      return false;
  }
}

// The float32 values of a constant weight tensor stored as float32, float16 or dequantizable int8.
Result<std::vector<float>> ConstantAsFloat(const Graph& g, int index) {
  const Tensor& t = g.tensors[index];
  const int64_t n = tflite::NumElements(t.shape);
  if (n < 0) return Status::InvalidArgument(tflite::TensorLabel(g, index) + ": invalid shape");
  std::vector<float> out(static_cast<size_t>(n));
  switch (t.type) {
    case TensorType::kFloat32:
      if (t.data.size() != out.size() * 4) break;
      return FloatData(t);
    case TensorType::kFloat16: {
      if (t.data.size() != out.size() * 2) break;
      for (size_t i = 0; i < out.size(); ++i) {
        out[i] = HalfToFloat(static_cast<uint16_t>(t.data[2 * i] | (t.data[2 * i + 1] << 8)));
      }
      return out;
    }
    case TensorType::kInt8: {
      if (t.data.size() != out.size() || t.quant.scale.empty()) break;
      const auto& q = t.quant;
      size_t channels = q.scale.size(), inner = 1;
      if (channels > 1) {
        if (q.quantized_dimension < 0 || static_cast<size_t>(q.quantized_dimension) >= t.shape.size()) break;
        for (size_t d = q.quantized_dimension + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
      }
      for (size_t i = 0; i < out.size(); ++i) {
        const size_t c = channels > 1 ? (i / inner) % channels : 0;
        const int64_t zp = c < q.zero_point.size() ? q.zero_point[c] : 0;
        out[i] = q.scale[c] * static_cast<float>(static_cast<int8_t>(t.data[i]) - zp);
      }
      return out;
    }
    default:
      break;
  }
  return Status::InvalidArgument(tflite::TensorLabel(g, index) + ": constant of type " +
                                 tflite::TensorTypeName(t.type) + " cannot be read as float weights");
}

void MakeFloatConstant(Tensor* t, const std::vector<float>& values) {
  t->type = TensorType::kFloat32;
  t->quant = {};
  SetData(t, values);
}

// DEQUANTIZE of a constant (float16 or int8 weights) becomes a float32 constant.
Status FoldConstantDequantize(Graph* g, std::vector<std::string>* notes) {
  std::vector<bool> remove(g->operators.size(), false);
  int folded = 0;
  for (size_t i = 0; i < g->operators.size(); ++i) {
    const Operator& op = g->operators[i];
    if (op.op != BuiltinOp::kDequantize || op.inputs.empty() || op.outputs.empty()) continue;
    const int in = op.inputs[0], out = op.outputs[0];
    if (in < 0 || !g->tensors[in].is_constant()) continue;
    EL_ASSIGN_OR_RETURN(std::vector<float> values, ConstantAsFloat(*g, in));
    MakeFloatConstant(&g->tensors[out], values);
    remove[i] = true;
    ++folded;
  }
  RemoveOperators(g, remove);
  if (folded > 0) notes->push_back("folded " + std::to_string(folded) + " DEQUANTIZE of constant weights into float32");
  return Status::Ok();
}

// int8 weights of dynamic-range layers become float32 again.
Status DequantizeHybridWeights(Graph* g, std::vector<std::string>* notes) {
  int converted = 0;
  for (Operator& op : g->operators) {
    if (op.op != BuiltinOp::kConv2D && op.op != BuiltinOp::kDepthwiseConv2D && op.op != BuiltinOp::kFullyConnected) {
      continue;
    }
    if (op.inputs.size() < 2 || op.inputs[1] < 0) continue;
    Tensor& w = g->tensors[op.inputs[1]];
    if (w.type != TensorType::kInt8 || !w.is_constant()) continue;
    EL_ASSIGN_OR_RETURN(std::vector<float> values, ConstantAsFloat(*g, op.inputs[1]));
    MakeFloatConstant(&w, values);
    if (auto* fc = std::get_if<tflite::FullyConnectedOptions>(&op.options)) fc->asymmetric_quantize_inputs = false;
    ++converted;
  }
  if (converted > 0) notes->push_back("dequantized the int8 weights of " + std::to_string(converted) + " dynamic-range layers");
  return Status::Ok();
}

// RESHAPE targets computed in the graph (SHAPE / STRIDED_SLICE / PACK) become constants: the output
// tensor's static shape with batch 1.
void ConstantReshapeTargets(Graph* g, std::vector<std::string>* notes) {
  int rewritten = 0;
  for (Operator& op : g->operators) {
    if (op.op != BuiltinOp::kReshape || op.inputs.empty() || op.outputs.empty()) continue;
    const bool has_const_target = op.inputs.size() > 1 && op.inputs[1] >= 0 && g->tensors[op.inputs[1]].is_constant();
    if (has_const_target) continue;
    std::vector<int32_t> shape = g->tensors[op.outputs[0]].shape;
    if (!shape.empty()) shape[0] = 1;
    if (std::any_of(shape.begin(), shape.end(), [](int32_t d) { return d < 0; })) continue;
    const int target = AddConstant<int32_t>(g, g->tensors[op.outputs[0]].name + "/shape", TensorType::kInt32,
                                            {static_cast<int32_t>(shape.size())}, shape);
    op.inputs.resize(2);
    op.inputs[1] = target;
    op.options = tflite::ReshapeOptions{shape};
    ++rewritten;
  }
  if (rewritten > 0) notes->push_back("replaced " + std::to_string(rewritten) + " computed RESHAPE targets by constants");
}

// MEAN over the spatial axes of [N, L, C] or [N, H, W, C] becomes RESHAPE -> AVERAGE_POOL_2D ->
// RESHAPE (what TFLite's int8 kernels and the Edge TPU run).
Status MeanToAveragePool(Graph* g, std::vector<std::string>* notes) {
  std::vector<Operator> ops;
  int rewritten = 0;
  for (size_t i = 0; i < g->operators.size(); ++i) {
    Operator op = g->operators[i];
    if (op.op != BuiltinOp::kMean) {
      ops.push_back(std::move(op));
      continue;
    }
    const std::string where = OpName(*g, i);
    if (op.inputs.size() < 2 || op.inputs[1] < 0 || !g->tensors[op.inputs[1]].is_constant()) {
      return Status::InvalidArgument(where + ": MEAN axes must be constant to quantize");
    }
    const std::vector<int32_t> in_shape = g->tensors[op.inputs[0]].shape;
    std::vector<int32_t> axes = Int32Data(g->tensors[op.inputs[1]]);
    const int rank = static_cast<int>(in_shape.size());
    for (int32_t& a : axes) a = a < 0 ? a + rank : a;
    std::sort(axes.begin(), axes.end());
    const bool spatial3 = rank == 3 && axes == std::vector<int32_t>{1};
    const bool spatial4 = rank == 4 && axes == std::vector<int32_t>{1, 2};
    if (!spatial3 && !spatial4) {
      return Status::InvalidArgument(where + ": only MEAN over the spatial axes of a [N,L,C] or [N,H,W,C] tensor " +
                                     "can be quantized (input " + tflite::ShapeToString(in_shape) + ")");
    }
    const int32_t h = spatial4 ? in_shape[1] : 1, w = spatial4 ? in_shape[2] : in_shape[1], c = in_shape[rank - 1];
    const std::string base = g->tensors[op.outputs[0]].name;
    Tensor act;
    act.type = TensorType::kFloat32;
    act.name = base + "/mean_in";
    act.shape = {1, h, w, c};
    const int pool_in = AddTensor(g, act);
    act.name = base + "/mean_pool";
    act.shape = {1, 1, 1, c};
    const int pool_out = AddTensor(g, act);
    auto reshape = [&](int from, int to, std::vector<int32_t> shape) {
      Operator r;
      r.op = BuiltinOp::kReshape;
      const int target = AddConstant<int32_t>(g, g->tensors[to].name + "/shape", TensorType::kInt32,
                                              {static_cast<int32_t>(shape.size())}, shape);
      r.inputs = {from, target};
      r.outputs = {to};
      r.options = tflite::ReshapeOptions{shape};
      return r;
    };
    ops.push_back(reshape(op.inputs[0], pool_in, {1, h, w, c}));
    Operator pool;
    pool.op = BuiltinOp::kAveragePool2D;
    pool.inputs = {pool_in};
    pool.outputs = {pool_out};
    tflite::Pool2DOptions po;
    po.padding = tflite::Padding::kValid;
    po.filter_h = h;
    po.filter_w = w;
    pool.options = po;
    ops.push_back(pool);
    std::vector<int32_t> out_shape = g->tensors[op.outputs[0]].shape;
    if (!out_shape.empty()) out_shape[0] = 1;
    ops.push_back(reshape(pool_out, op.outputs[0], out_shape));
    ++rewritten;
  }
  g->operators = std::move(ops);
  if (rewritten > 0) notes->push_back("rewrote " + std::to_string(rewritten) + " spatial MEAN as AVERAGE_POOL_2D");
  return Status::Ok();
}

tflite::Activation* FusedActivation(Operator& op) {
  if (auto* o = std::get_if<tflite::Conv2DOptions>(&op.options)) return &o->activation;
  if (auto* o = std::get_if<tflite::DepthwiseConv2DOptions>(&op.options)) return &o->activation;
  if (auto* o = std::get_if<tflite::FullyConnectedOptions>(&op.options)) return &o->activation;
  if (auto* o = std::get_if<tflite::AddOptions>(&op.options)) return &o->activation;
  return nullptr;
}

tflite::Activation CombineClamps(tflite::Activation first, BuiltinOp then) {
  // relu6(relu(x)) = relu6(x); relu(relu6(x)) = relu6(x).
  if (then == BuiltinOp::kRelu6 || first == tflite::Activation::kRelu6) return tflite::Activation::kRelu6;
  return tflite::Activation::kRelu;
}

// Ops a ReLU commutes with: it can move from their output to their input.
bool CommutesWithRelu(BuiltinOp op) {
  return op == BuiltinOp::kMaxPool2D || op == BuiltinOp::kReshape || op == BuiltinOp::kSqueeze ||
         op == BuiltinOp::kExpandDims;
}

// Standalone RELU / RELU6 fused into the CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / ADD that
// produces their input, directly or through max pools and reshapes (which commute with a ReLU), when
// nothing else reads the tensors in between.
Status FuseStandaloneRelu(Graph* g, std::vector<std::string>* notes) {
  int fused = 0;
  for (;;) {
    const std::vector<int> producers = TensorProducers(*g);
    const std::vector<std::vector<int>> consumers = TensorConsumers(*g);
    bool changed = false;
    for (size_t i = 0; i < g->operators.size() && !changed; ++i) {
      const Operator& relu = g->operators[i];
      if (relu.op != BuiltinOp::kRelu && relu.op != BuiltinOp::kRelu6) continue;
      // Walk back through commuting ops to the producer that can take the clamp.
      int t = relu.inputs.empty() ? -1 : relu.inputs[0];
      tflite::Activation* act = nullptr;
      while (t >= 0 && producers[t] >= 0 && consumers[t].size() == 1 && !IsGraphOutput(*g, t)) {
        Operator& p = g->operators[producers[t]];
        act = FusedActivation(p);
        if (act != nullptr || !CommutesWithRelu(p.op)) break;
        t = p.inputs.empty() ? -1 : p.inputs[0];
      }
      if (act == nullptr || (*act != tflite::Activation::kNone && *act != tflite::Activation::kRelu &&
                             *act != tflite::Activation::kRelu6)) {
        return Status::InvalidArgument(OpName(*g, i) + ": a standalone " + tflite::BuiltinOpName(relu.op) +
                                       " can be quantized only after a CONV_2D, DEPTHWISE_CONV_2D, "
                                       "FULLY_CONNECTED or ADD (directly or through MAX_POOL_2D and reshapes) "
                                       "whose output nothing else reads");
      }
      *act = *act == tflite::Activation::kNone
                 ? (relu.op == BuiltinOp::kRelu ? tflite::Activation::kRelu : tflite::Activation::kRelu6)
                 : CombineClamps(*act, relu.op);
      // The op that produced the ReLU's input now produces its output.
      const int in = relu.inputs[0], out = relu.outputs[0];
      g->operators[producers[in]].outputs[0] = out;
      std::vector<bool> remove(g->operators.size(), false);
      remove[i] = true;
      RemoveOperators(g, remove);
      ++fused;
      changed = true;
    }
    if (!changed) break;
  }
  if (fused > 0) notes->push_back("fused " + std::to_string(fused) + " standalone RELU/RELU6 into their producers");
  return Status::Ok();
}

// A dilation along a kernel axis of size 1 has no effect; make it equal the other axis'.
void EqualiseDilations(Graph* g, std::vector<std::string>* notes) {
  int changed = 0;
  for (Operator& op : g->operators) {
    if (op.inputs.size() < 2 || op.inputs[1] < 0) continue;
    const std::vector<int32_t>& ws = g->tensors[op.inputs[1]].shape;
    if (ws.size() != 4) continue;
    auto fix = [&](int32_t* dh, int32_t* dw) {
      if (ws[1] == 1 && *dh != *dw) {
        *dh = *dw;
        ++changed;
      } else if (ws[2] == 1 && *dh != *dw) {
        *dw = *dh;
        ++changed;
      }
    };
    if (auto* o = std::get_if<tflite::Conv2DOptions>(&op.options)) fix(&o->dilation_h, &o->dilation_w);
    if (auto* o = std::get_if<tflite::DepthwiseConv2DOptions>(&op.options)) fix(&o->dilation_h, &o->dilation_w);
  }
  if (changed > 0) notes->push_back("equalised the dilation of " + std::to_string(changed) + " size-1 kernel axes");
}

}  // namespace

bool IsQuantizableOp(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kConv2D:
    case BuiltinOp::kDepthwiseConv2D:
    case BuiltinOp::kFullyConnected:
    case BuiltinOp::kMaxPool2D:
    case BuiltinOp::kAveragePool2D:
    case BuiltinOp::kReshape:
    case BuiltinOp::kSqueeze:
    case BuiltinOp::kExpandDims:
    case BuiltinOp::kSoftmax:
    case BuiltinOp::kLogistic:
    case BuiltinOp::kAdd:
      return true;
    default:
      return false;
  }
}

Status NormalizeFloatGraph(Graph* g, std::vector<std::string>* notes) {
  if (g->inputs.size() != 1) {
    return Status::InvalidArgument("the quantizer takes graphs with exactly one input (this one has " +
                                   std::to_string(g->inputs.size()) + ")");
  }
  if (g->outputs.empty()) return Status::InvalidArgument("the graph has no outputs");
  for (size_t i = 0; i < g->operators.size(); ++i) {
    const Operator& op = g->operators[i];
    if (!IsQuantizableOp(op.op) && !IsRewrittenOp(op.op)) {
      return Status::InvalidArgument(OpName(*g, i) + ": " + tflite::BuiltinOpName(op.op) +
                                     " cannot be quantized (supported: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, "
                                     "MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, RESHAPE, SQUEEZE, EXPAND_DIMS, SOFTMAX, "
                                     "LOGISTIC, ADD, RELU, RELU6)");
    }
    for (int32_t t : op.outputs) {
      if (t >= 0 && g->tensors[t].type != TensorType::kFloat32 && op.op != BuiltinOp::kShape &&
          op.op != BuiltinOp::kStridedSlice && op.op != BuiltinOp::kPack) {
        return Status::InvalidArgument(OpName(*g, i) + ": output " + tflite::TensorLabel(*g, t) + " is " +
                                       tflite::TensorTypeName(g->tensors[t].type) +
                                       "; the quantizer takes float32 models");
      }
    }
  }
  for (int32_t t : g->inputs) {
    if (g->tensors[t].type != TensorType::kFloat32) {
      return Status::InvalidArgument("input " + tflite::TensorLabel(*g, t) + " is " +
                                     tflite::TensorTypeName(g->tensors[t].type) + "; the quantizer takes float32 models");
    }
  }
  EL_RETURN_IF_ERROR(FoldConstantDequantize(g, notes));
  EL_RETURN_IF_ERROR(DequantizeHybridWeights(g, notes));
  ConstantReshapeTargets(g, notes);
  EL_RETURN_IF_ERROR(MeanToAveragePool(g, notes));
  EL_RETURN_IF_ERROR(FuseStandaloneRelu(g, notes));
  EqualiseDilations(g, notes);
  const int dead = RemoveDeadOperators(g);
  if (dead > 0) notes->push_back("removed " + std::to_string(dead) + " operators whose results were unused");
  CompactTensors(g);
  bool had_signature = false;
  for (Tensor& t : g->tensors) {
    had_signature |= !t.shape_signature.empty();
    t.shape_signature.clear();
    if (!t.shape.empty() && !t.is_constant() && t.shape[0] < 0) t.shape[0] = 1;
  }
  if (had_signature) notes->push_back("dropped shape_signature (static batch 1)");
  for (size_t i = 0; i < g->operators.size(); ++i) {
    if (!IsQuantizableOp(g->operators[i].op)) {
      return Status::InvalidArgument(OpName(*g, i) + " (after normalisation): " +
                                     tflite::BuiltinOpName(g->operators[i].op) + " cannot be quantized here");
    }
  }
  return Status::Ok();
}

}  // namespace edgeloop::quant
