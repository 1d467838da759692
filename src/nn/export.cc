// ExportGraph (edgeloop/nn/export.h): a Model as a TFLite graph.
#include "edgeloop/nn/export.h"

#include <cmath>
#include <cstring>

#include "edgeloop/tflite/io.h"

namespace edgeloop::nn {
namespace {

using tflite::BuiltinOp;
using tflite::TensorType;

// The tensor the next layer reads: a sequence as [1,L,C] or in the 2-D form [1,1,L,C] that
// CONV_2D and the pools take, or a vector [1,N].
struct Current {
  int tensor = -1;
  Shape shape;
  bool planar = false;
};

class Writer {
 public:
  int Activation(const std::string& name, std::vector<int32_t> shape) {
    tflite::Tensor t;
    t.name = name;
    t.type = TensorType::kFloat32;
    t.shape = std::move(shape);
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }
  template <typename T>
  int Constant(const std::string& name, TensorType type, std::vector<int32_t> shape, const std::vector<T>& values) {
    tflite::Tensor t;
    t.name = name;
    t.type = type;
    t.shape = std::move(shape);
    t.data.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }
  void Op(BuiltinOp op, std::vector<int32_t> inputs, std::vector<int32_t> outputs, tflite::OpOptions options = {},
          int version = 1) {
    tflite::Operator o;
    o.op = op;
    o.version = version;
    o.inputs = std::move(inputs);
    o.outputs = std::move(outputs);
    o.options = std::move(options);
    g_.operators.push_back(std::move(o));
  }
  // RESHAPE `in` to `shape` (the shape as a constant int32 input, as the converter writes it).
  int Reshape(int in, const std::string& name, const std::vector<int32_t>& shape) {
    const int s = Constant(name + "/shape", TensorType::kInt32, {static_cast<int32_t>(shape.size())}, shape);
    const int out = Activation(name, shape);
    Op(BuiltinOp::kReshape, {in, s}, {out}, tflite::ReshapeOptions{});
    return out;
  }
  tflite::Graph& graph() { return g_; }

 private:
  tflite::Graph g_;
};

std::string LayerName(size_t i, const LayerSpec& l) { return std::string(LayerTypeName(l.type)) + "_" + std::to_string(i); }

void ToPlanar(Writer* w, Current* cur, const std::string& name) {
  if (cur->planar) return;
  cur->tensor = w->Reshape(cur->tensor, name + "/2d", {1, 1, cur->shape.length, cur->shape.channels});
  cur->planar = true;
}

void ToNatural(Writer* w, Current* cur, const std::string& name) {
  if (!cur->planar) return;
  cur->tensor = w->Reshape(cur->tensor, name, {1, cur->shape.length, cur->shape.channels});
  cur->planar = false;
}

std::vector<int32_t> NaturalShape(const Shape& s) {
  if (s.flat) return {1, s.size()};
  return {1, s.length, s.channels};
}

tflite::Padding PaddingOf(Padding p) { return p == Padding::kSame ? tflite::Padding::kSame : tflite::Padding::kValid; }

tflite::Activation FusedOf(Activation a) {
  switch (a) {
    case Activation::kReLU: return tflite::Activation::kRelu;
    case Activation::kReLU6: return tflite::Activation::kRelu6;
    default: return tflite::Activation::kNone;
  }
}

}  // namespace

Result<tflite::Graph> ExportGraph(const Model& model, const ExportOptions& options) {
  const ModelSpec& spec = model.spec();
  const std::vector<Shape>& shapes = model.shapes();
  const std::span<const float> params = model.parameters();
  const std::span<const float> state = model.state();
  Writer w;
  Current cur;
  cur.shape = Shape{spec.length, spec.channels, false};
  cur.tensor = w.Activation("input", {1, spec.length, spec.channels});
  w.graph().inputs.push_back(cur.tensor);

  const size_t n = spec.layers.size();
  for (size_t i = 0; i < n; ++i) {
    const LayerSpec& l = spec.layers[i];
    const ParamLayout& p = model.layouts()[i];
    const Shape& out = shapes[i];
    const std::string name = LayerName(i, l);
    switch (l.type) {
      case LayerType::kConv1D:
      case LayerType::kDense: {
        const bool conv = l.type == LayerType::kConv1D;
        // Ours: [rows, cols] = [kernel * in_channels, filters] or [in, units]; TFLite wants the
        // output channel first: [F, 1, K, C] / [units, in], i.e. the transpose.
        const int rows = p.weight_rows, cols = p.weight_cols;
        std::vector<double> wt(static_cast<size_t>(rows) * cols), bias(static_cast<size_t>(cols), 0.0);
        for (int r = 0; r < rows; ++r) {
          for (int c = 0; c < cols; ++c) wt[static_cast<size_t>(c) * rows + r] = params[p.weights + static_cast<size_t>(r) * cols + c];
        }
        if (p.bias_size > 0) {
          for (int c = 0; c < cols; ++c) bias[c] = params[p.bias + c];
        }
        Activation act = l.activation;
        size_t j = i + 1;
        // Fold a following batch norm: y = gamma * (x - mean) / sqrt(var + eps) + beta.
        if (act == Activation::kNone && j < n && spec.layers[j].type == LayerType::kBatchNorm) {
          const ParamLayout& b = model.layouts()[j];
          const double eps = spec.layers[j].epsilon;
          for (int c = 0; c < cols; ++c) {
            const double scale = params[b.gamma + c] / std::sqrt(static_cast<double>(state[b.moving_variance + c]) + eps);
            for (int r = 0; r < rows; ++r) wt[static_cast<size_t>(c) * rows + r] *= scale;
            bias[c] = (bias[c] - state[b.moving_mean + c]) * scale + params[b.beta + c];
          }
          ++j;
        }
        // Fuse a following ReLU / ReLU6 (dropout in between is the identity at inference).
        if (act == Activation::kNone) {
          size_t k = j;
          while (k < n && spec.layers[k].type == LayerType::kDropout) ++k;
          if (k < n && (spec.layers[k].type == LayerType::kReLU || spec.layers[k].type == LayerType::kReLU6)) {
            act = spec.layers[k].type == LayerType::kReLU ? Activation::kReLU : Activation::kReLU6;
            j = k + 1;
          }
        }
        std::vector<float> wf(wt.begin(), wt.end()), bf(bias.begin(), bias.end());
        const Shape& result = shapes[j - 1];
        if (conv) {
          ToPlanar(&w, &cur, name);
          const int wi = w.Constant(name + "/kernel", TensorType::kFloat32, {cols, 1, l.kernel, cur.shape.channels}, wf);
          const int bi = w.Constant(name + "/bias", TensorType::kFloat32, {cols}, bf);
          const int o = w.Activation(name, {1, 1, out.length, out.channels});
          tflite::Conv2DOptions co;
          co.padding = PaddingOf(l.padding);
          co.stride_w = l.stride;
          co.stride_h = 1;
          co.dilation_w = l.dilation;
          co.dilation_h = 1;
          co.activation = FusedOf(act);
          // Version 2 is the first with dilation (as the TFLite converter numbers it).
          w.Op(BuiltinOp::kConv2D, {cur.tensor, wi, bi}, {o}, co, l.dilation > 1 ? 2 : 1);
          cur.tensor = o;
          cur.planar = true;
        } else {
          const int wi = w.Constant(name + "/kernel", TensorType::kFloat32, {cols, rows}, wf);
          const int bi = w.Constant(name + "/bias", TensorType::kFloat32, {cols}, bf);
          const int o = w.Activation(name, {1, cols});
          tflite::FullyConnectedOptions fo;
          fo.activation = FusedOf(act);
          w.Op(BuiltinOp::kFullyConnected, {cur.tensor, wi, bi}, {o}, fo);
          cur.tensor = o;
        }
        cur.shape = result;
        if (act == Activation::kSoftmax) {
          ToNatural(&w, &cur, name + "/seq");
          const int o = w.Activation(name + "/softmax", NaturalShape(cur.shape));
          w.Op(BuiltinOp::kSoftmax, {cur.tensor}, {o}, tflite::SoftmaxOptions{1.0f});
          cur.tensor = o;
        }
        i = j - 1;
        break;
      }
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D: {
        ToPlanar(&w, &cur, name);
        const int o = w.Activation(name, {1, 1, out.length, out.channels});
        tflite::Pool2DOptions po;
        po.padding = PaddingOf(l.padding);
        po.stride_w = l.stride;
        po.stride_h = 1;
        po.filter_w = l.pool;
        po.filter_h = 1;
        w.Op(l.type == LayerType::kMaxPool1D ? BuiltinOp::kMaxPool2D : BuiltinOp::kAveragePool2D, {cur.tensor}, {o}, po);
        cur.tensor = o;
        cur.shape = out;
        break;
      }
      case LayerType::kGlobalAveragePool1D: {
        ToPlanar(&w, &cur, name);
        const int o = w.Activation(name + "/pool", {1, 1, 1, out.channels});
        tflite::Pool2DOptions po;
        po.padding = tflite::Padding::kValid;
        po.stride_w = 1;
        po.stride_h = 1;
        po.filter_w = cur.shape.length;
        po.filter_h = 1;
        w.Op(BuiltinOp::kAveragePool2D, {cur.tensor}, {o}, po);
        cur.tensor = w.Reshape(o, name, {1, out.size()});
        cur.planar = false;
        cur.shape = out;
        break;
      }
      case LayerType::kFlatten:
        if (!cur.shape.flat) {
          cur.tensor = w.Reshape(cur.tensor, name, {1, cur.shape.size()});
          cur.planar = false;
        }
        cur.shape = out;
        break;
      case LayerType::kDropout:
        break;
      case LayerType::kReLU:
      case LayerType::kReLU6: {
        const int o = w.Activation(name, cur.planar ? std::vector<int32_t>{1, 1, cur.shape.length, cur.shape.channels}
                                                    : NaturalShape(cur.shape));
        w.Op(l.type == LayerType::kReLU ? BuiltinOp::kRelu : BuiltinOp::kRelu6, {cur.tensor}, {o});
        cur.tensor = o;
        break;
      }
      case LayerType::kSoftmax: {
        ToNatural(&w, &cur, name + "/seq");
        const int o = w.Activation(name, NaturalShape(cur.shape));
        w.Op(BuiltinOp::kSoftmax, {cur.tensor}, {o}, tflite::SoftmaxOptions{1.0f});
        cur.tensor = o;
        break;
      }
      case LayerType::kBatchNorm:
        return Status::InvalidArgument("export: layer " + std::to_string(i) +
                                       " (batchnorm) does not follow a conv1d or dense it can fold into");
    }
  }
  // The output is [1, classes]: the last softmax of a model whose final shape is a vector.
  if (cur.planar || !cur.shape.flat) {
    return Status::InvalidArgument("export: the model's output " + ShapeToString(cur.shape) +
                                   " is not a vector of class probabilities");
  }
  w.graph().tensors[cur.tensor].name = "probabilities";
  w.graph().outputs.push_back(cur.tensor);
  w.graph().subgraph_name = "main";
  w.graph().description = options.description;
  if (!options.metadata_json.empty()) w.graph().metadata[tflite::kEdgeloopMetadataName] = options.metadata_json;
  return std::move(w.graph());
}

Result<std::vector<uint8_t>> ExportModel(const Model& model, const ExportOptions& options) {
  EL_ASSIGN_OR_RETURN(tflite::Graph g, ExportGraph(model, options));
  return tflite::WriteModel(g);
}

}  // namespace edgeloop::nn
