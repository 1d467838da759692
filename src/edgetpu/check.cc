#include "edgeloop/edgetpu/check.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "edgeloop/tflite/io.h"

namespace edgeloop::edgetpu {
namespace {

using tflite::BuiltinOp;
using tflite::Graph;
using tflite::Operator;
using tflite::Tensor;
using tflite::TensorType;

constexpr int64_t kMaxSoftmaxElements = 16000;

// Operations the Edge TPU compiler maps (Coral's supported-operations table, as far as edgeloop's
// schema subset names them).
bool Supported(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kAdd:
    case BuiltinOp::kAveragePool2D:
    case BuiltinOp::kConcatenation:
    case BuiltinOp::kConv2D:
    case BuiltinOp::kDepthwiseConv2D:
    case BuiltinOp::kFullyConnected:
    case BuiltinOp::kLogistic:
    case BuiltinOp::kMaxPool2D:
    case BuiltinOp::kMul:
    case BuiltinOp::kRelu:
    case BuiltinOp::kRelu6:
    case BuiltinOp::kReshape:
    case BuiltinOp::kSoftmax:
    case BuiltinOp::kTanh:
    case BuiltinOp::kPad:
    case BuiltinOp::kMean:
    case BuiltinOp::kSub:
    case BuiltinOp::kSqueeze:
    case BuiltinOp::kStridedSlice:
    case BuiltinOp::kExpandDims:
    case BuiltinOp::kPack:
    case BuiltinOp::kQuantize:
      return true;
    default:
      return false;
  }
}

// Inputs that are int32 arguments rather than data: biases and shape/axis/padding arguments.
bool IsInt32Argument(BuiltinOp op, size_t input) {
  switch (op) {
    case BuiltinOp::kConv2D:
    case BuiltinOp::kDepthwiseConv2D:
    case BuiltinOp::kFullyConnected:
      return input == 2;
    case BuiltinOp::kReshape:
    case BuiltinOp::kExpandDims:
    case BuiltinOp::kMean:
    case BuiltinOp::kPad:
      return input == 1;
    case BuiltinOp::kStridedSlice:
      return input >= 1;
    default:
      return false;
  }
}

bool Is8Bit(TensorType t) { return t == TensorType::kInt8 || t == TensorType::kUInt8; }

// Dimensions larger than 1 outside the 3 innermost.
bool TooManyDims(const std::vector<int32_t>& shape) {
  if (shape.size() <= 3) return false;
  for (size_t d = 0; d + 3 < shape.size(); ++d) {
    if (shape[d] > 1) return true;
  }
  return false;
}

int DimsAboveOne(const std::vector<int32_t>& shape) {
  return static_cast<int>(std::count_if(shape.begin(), shape.end(), [](int32_t d) { return d > 1; }));
}

std::string TensorWhy(const Graph& g, int t, const std::string& what) { return tflite::TensorLabel(g, t) + " " + what; }

// Why operator `i` cannot map on its own ("" when it can).
std::string Unmappable(const Graph& g, size_t i) {
  const Operator& op = g.operators[i];
  if (!Supported(op.op)) return std::string("operation ") + tflite::BuiltinOpName(op.op) + " is not supported";
  auto tensor_issue = [&](int t, bool is_output, size_t slot) -> std::string {
    if (t < 0 || static_cast<size_t>(t) >= g.tensors.size()) return "";
    const Tensor& x = g.tensors[t];
    for (int32_t d : x.shape_signature) {
      if (d < 0) return TensorWhy(g, t, "has a dynamic shape " + tflite::ShapeToString(x.shape_signature));
    }
    for (int32_t d : x.shape) {
      if (d < 0) return TensorWhy(g, t, "has a dynamic shape");
    }
    if (!is_output && IsInt32Argument(op.op, slot)) {
      if (!x.is_constant()) return TensorWhy(g, t, "(bias or shape argument) is not a compile-time constant");
      if (x.type != TensorType::kInt32 && x.type != TensorType::kInt64) {
        return TensorWhy(g, t, std::string("is ") + tflite::TensorTypeName(x.type) + ", not INT32");
      }
      return "";
    }
    if (op.op == BuiltinOp::kQuantize && !is_output && x.type == TensorType::kFloat32) {
      return TensorWhy(g, t, "is FLOAT32: the Edge TPU only takes 8-bit tensors (quantize the input on the CPU)");
    }
    if (!Is8Bit(x.type)) {
      return TensorWhy(g, t, std::string("is ") + tflite::TensorTypeName(x.type) + ", not 8-bit quantized");
    }
    if (x.quant.empty()) return TensorWhy(g, t, "has no quantization parameters");
    if (!x.is_constant() && x.shape.size() >= 2 && x.shape[0] > 1) {
      return TensorWhy(g, t, "has batch " + std::to_string(x.shape[0]) + ": the Edge TPU runs batch 1");
    }
    if (!x.is_constant() && TooManyDims(x.shape)) {
      return TensorWhy(g, t, "has shape " + tflite::ShapeToString(x.shape) +
                                 ": more than 3 dimensions, and one outside the 3 innermost is larger than 1");
    }
    return "";
  };
  if (op.op == BuiltinOp::kConv2D || op.op == BuiltinOp::kDepthwiseConv2D || op.op == BuiltinOp::kFullyConnected) {
    for (size_t k = 1; k < op.inputs.size() && k < 3; ++k) {
      if (op.inputs[k] >= 0 && !g.tensors[op.inputs[k]].is_constant()) {
        return TensorWhy(g, op.inputs[k], k == 1 ? "(weights) is not a compile-time constant"
                                                 : "(bias) is not a compile-time constant");
      }
    }
  }
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    std::string why = tensor_issue(op.inputs[k], false, k);
    if (!why.empty()) return why;
  }
  for (int32_t t : op.outputs) {
    std::string why = tensor_issue(t, true, 0);
    if (!why.empty()) return why;
  }
  const auto input_shape = [&](size_t k) -> const std::vector<int32_t>& { return g.tensors[op.inputs[k]].shape; };
  switch (op.op) {
    case BuiltinOp::kConv2D:
    case BuiltinOp::kDepthwiseConv2D:
    case BuiltinOp::kFullyConnected: {
      if (const auto* o = std::get_if<tflite::Conv2DOptions>(&op.options); o && o->dilation_h != o->dilation_w) {
        return "dilation differs between x (" + std::to_string(o->dilation_w) + ") and y (" +
               std::to_string(o->dilation_h) + ")";
      }
      if (const auto* o = std::get_if<tflite::DepthwiseConv2DOptions>(&op.options);
          o && o->dilation_h != o->dilation_w) {
        return "dilation differs between x (" + std::to_string(o->dilation_w) + ") and y (" +
               std::to_string(o->dilation_h) + ")";
      }
      if (op.op == BuiltinOp::kFullyConnected && !op.outputs.empty() &&
          DimsAboveOne(g.tensors[op.outputs[0]].shape) > 1) {
        return "output " + tflite::ShapeToString(g.tensors[op.outputs[0]].shape) + " is not one-dimensional";
      }
      break;
    }
    case BuiltinOp::kMaxPool2D:
    case BuiltinOp::kAveragePool2D: {
      const auto* o = std::get_if<tflite::Pool2DOptions>(&op.options);
      if (o && o->activation != tflite::Activation::kNone) {
        return std::string("fused activation ") + tflite::ActivationName(o->activation) + " on a pool";
      }
      break;
    }
    case BuiltinOp::kConcatenation: {
      const auto* o = std::get_if<tflite::ConcatenationOptions>(&op.options);
      if (o && o->activation != tflite::Activation::kNone) return "fused activation on CONCATENATION";
      break;
    }
    case BuiltinOp::kSoftmax: {
      const auto& s = input_shape(0);
      if (DimsAboveOne(s) > 1) return "input " + tflite::ShapeToString(s) + " is not one-dimensional";
      if (tflite::NumElements(s) > kMaxSoftmaxElements) return "input has more than 16,000 elements";
      break;
    }
    case BuiltinOp::kMean:
    case BuiltinOp::kPad: {
      if (op.inputs.size() < 2 || op.inputs[1] < 0) break;
      const Tensor& arg = g.tensors[op.inputs[1]];
      const auto& s = input_shape(0);
      std::vector<int32_t> v(arg.data.size() / 4);
      std::memcpy(v.data(), arg.data.data(), v.size() * 4);
      if (op.op == BuiltinOp::kMean) {
        for (int32_t a : v) {
          const int axis = a < 0 ? a + static_cast<int>(s.size()) : a;
          if (axis == 0 || axis == static_cast<int>(s.size()) - 1) return "MEAN reduces along an axis other than x/y";
        }
      } else if (v.size() >= 2 && (v[0] != 0 || v[1] != 0)) {
        return "PAD pads the batch dimension";
      }
      break;
    }
    case BuiltinOp::kPack: {
      const auto* o = std::get_if<tflite::PackOptions>(&op.options);
      if (o && o->axis == 0) return "PACK along the batch dimension";
      break;
    }
    default:
      break;
  }
  return "";
}

size_t ParameterBytes(const Graph& g, const Operator& op, std::set<int>* counted) {
  size_t bytes = 0;
  for (int32_t t : op.inputs) {
    if (t >= 0 && g.tensors[t].is_constant() && counted->insert(t).second) bytes += g.tensors[t].data.size();
  }
  return bytes;
}

std::string Mb(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

CheckReport CheckGraph(const Graph& g) {
  CheckReport r;
  std::set<int> counted;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    OpCheck c;
    c.index = static_cast<int>(i);
    c.op = tflite::BuiltinOpName(g.operators[i].op);
    c.parameter_bytes = ParameterBytes(g, g.operators[i], &counted);
    if (r.first_unmapped < 0) {
      c.reason = Unmappable(g, i);
      if (!c.reason.empty()) r.first_unmapped = static_cast<int>(i);
    } else {
      c.reason = "after the first unmapped operator (" + tflite::OperatorLabel(g, r.first_unmapped) +
                 "), everything runs on the CPU";
    }
    c.edgetpu = c.reason.empty();
    if (c.edgetpu) {
      ++r.edgetpu_ops;
      r.parameter_bytes += c.parameter_bytes;
    } else {
      ++r.cpu_ops;
    }
    r.ops.push_back(std::move(c));
  }
  if (g.operators.empty()) r.model_issues.push_back("the model has no operators");
  r.fits_on_chip = r.parameter_bytes <= r.on_chip_bytes;
  r.maps = r.first_unmapped < 0 && r.model_issues.empty();
  if (r.maps) {
    r.verdict = "maps to the Edge TPU: all " + std::to_string(r.edgetpu_ops) + " operators, parameters " +
                Mb(r.parameter_bytes) + (r.fits_on_chip ? " fit on chip" : " exceed the ~8 MB on chip (streamed from host memory, slower)");
  } else if (r.first_unmapped >= 0) {
    r.verdict = "does not map fully: " + std::to_string(r.edgetpu_ops) + " of " + std::to_string(r.ops.size()) +
                " operators on the Edge TPU; " + tflite::OperatorLabel(g, r.first_unmapped) + ": " +
                r.ops[r.first_unmapped].reason;
  } else {
    r.verdict = "does not map: " + r.model_issues.front();
  }
  return r;
}

Result<CheckReport> CheckModel(std::span<const uint8_t> model) {
  EL_ASSIGN_OR_RETURN(tflite::Graph g, tflite::ReadModel(model));
  return CheckGraph(g);
}

Status Check(std::span<const uint8_t> model) {
  EL_ASSIGN_OR_RETURN(CheckReport r, CheckModel(model));
  if (r.maps) return Status::Ok();
  return Status::InvalidArgument("Edge TPU check: " + r.verdict);
}

std::string ReportText(const CheckReport& r) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%5s  %-20s  %-8s  %10s  %s\n", "index", "operator", "runs on", "param B",
                "reason");
  out += line;
  for (const OpCheck& c : r.ops) {
    std::snprintf(line, sizeof(line), "%5d  %-20s  %-8s  %10zu  ", c.index, c.op.c_str(),
                  c.edgetpu ? "EdgeTPU" : "CPU", c.parameter_bytes);
    out += line + c.reason + "\n";
  }
  for (const std::string& issue : r.model_issues) out += "model: " + issue + "\n";
  out += "parameters on the Edge TPU: " + std::to_string(r.parameter_bytes) + " bytes of " +
         std::to_string(r.on_chip_bytes) + " on chip\n";
  out += std::string("verdict: ") + r.verdict + "\n";
  return out;
}

std::string ReportJson(const CheckReport& r) {
  nlohmann::json j;
  j["maps"] = r.maps;
  j["verdict"] = r.verdict;
  j["edgetpu_ops"] = r.edgetpu_ops;
  j["cpu_ops"] = r.cpu_ops;
  j["first_unmapped"] = r.first_unmapped;
  j["parameter_bytes"] = r.parameter_bytes;
  j["on_chip_bytes"] = r.on_chip_bytes;
  j["fits_on_chip"] = r.fits_on_chip;
  j["model_issues"] = r.model_issues;
  nlohmann::json ops = nlohmann::json::array();
  for (const OpCheck& c : r.ops) {
    ops.push_back({{"index", c.index},
                   {"op", c.op},
                   {"placement", c.edgetpu ? "edgetpu" : "cpu"},
                   {"reason", c.reason},
                   {"parameter_bytes", c.parameter_bytes}});
  }
  j["ops"] = std::move(ops);
  return j.dump(2) + "\n";
}

}  // namespace edgeloop::edgetpu
