#include "bench/infer_compare/default_model.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <random>
#include <sstream>

#include "edgeloop/tflite/io.h"
#include "test/support/graph_builder.h"

namespace edgeloop::bench {
namespace {

using testing_support::GraphBuilder;
using testing_support::PerChannelQuant;
using testing_support::Quant;
using tflite::BuiltinOp;
using tflite::TensorType;

QuantLayer MakeLayer(std::mt19937& rng, int out, int in, int k, bool per_channel, float in_scale, float out_scale,
                     int32_t out_zp, bool relu) {
  QuantLayer l;
  l.out = out, l.in = in, l.k = k, l.out_scale = out_scale, l.out_zero_point = out_zp, l.relu = relu;
  std::normal_distribution<float> w(0.f, 45.f);
  l.weights.resize(static_cast<size_t>(out) * in * k);
  for (int8_t& v : l.weights) v = static_cast<int8_t>(std::clamp(static_cast<int>(std::lround(w(rng))), -127, 127));
  std::uniform_real_distribution<float> s(0.004f, 0.012f);
  l.weight_scales.resize(per_channel ? out : 1);
  for (float& v : l.weight_scales) v = s(rng) / std::sqrt(static_cast<float>(in * k) / 16.f);
  std::uniform_int_distribution<int> b(-2000, 2000);
  l.bias.resize(out);
  for (int32_t& v : l.bias) v = b(rng);
  (void)in_scale;
  return l;
}

std::vector<float> BiasScales(const QuantLayer& l, float in_scale) {
  std::vector<float> s;
  for (float w : l.weight_scales) s.push_back(w * in_scale);
  return s;
}

tflite::Quantization WeightQuant(const QuantLayer& l) {
  return l.weight_scales.size() > 1 ? PerChannelQuant(l.weight_scales, 0) : Quant(l.weight_scales[0], 0);
}

}  // namespace

DefaultModel MakeDefaultModel(uint32_t seed) {
  std::mt19937 rng(seed);
  DefaultModel m;
  m.in_scale = 0.025f, m.in_zero_point = 3;
  m.conv1 = MakeLayer(rng, 16, 1, 3, true, m.in_scale, 0.021f, -128, true);
  m.conv2 = MakeLayer(rng, 32, 16, 3, true, m.conv1.out_scale, 0.034f, -128, true);
  m.dense1 = MakeLayer(rng, 64, 1024, 1, false, m.conv2.out_scale, 0.047f, -128, true);
  m.dense2 = MakeLayer(rng, 3, 64, 1, false, m.dense1.out_scale, 0.11f, 9, false);
  m.macs = 128LL * 3 * 16 + 64LL * 3 * 16 * 32 + 1024LL * 64 + 64LL * 3;

  GraphBuilder b;
  const TensorType i8 = TensorType::kInt8;
  const auto reshape = [&](int in, std::vector<int32_t> shape, const tflite::Quantization& q, const std::string& name) {
    const int out = b.Tensor(name, i8, shape, q);
    b.Op(BuiltinOp::kReshape, {in, b.ConstI32(name + "/shape", {static_cast<int32_t>(shape.size())}, shape)}, {out},
         tflite::ReshapeOptions{shape});
    return out;
  };
  const auto conv = [&](int in, float in_scale, const QuantLayer& l, int width, const std::string& name) {
    const int w = b.ConstI8(name + "/kernel", {l.out, 1, l.k, l.in}, l.weights, WeightQuant(l));
    const int bias = b.ConstI32(name + "/bias", {l.out}, l.bias, PerChannelQuant(BiasScales(l, in_scale), 0));
    const int out = b.Tensor(name, i8, {1, 1, width, l.out}, Quant(l.out_scale, l.out_zero_point));
    b.Op(BuiltinOp::kConv2D, {in, w, bias}, {out},
         tflite::Conv2DOptions{tflite::Padding::kSame, 1, 1, tflite::Activation::kRelu}, 3);
    return out;
  };
  const auto pool = [&](int in, const QuantLayer& l, int width, const std::string& name) {
    const int out = b.Tensor(name, i8, {1, 1, width, l.out}, Quant(l.out_scale, l.out_zero_point));
    b.Op(BuiltinOp::kMaxPool2D, {in}, {out}, tflite::Pool2DOptions{tflite::Padding::kValid, 2, 1, 2, 1}, 2);
    return out;
  };
  const auto dense = [&](int in, float in_scale, const QuantLayer& l, const std::string& name) {
    const int w = b.ConstI8(name + "/kernel", {l.out, l.in}, l.weights, WeightQuant(l));
    const int bias = b.ConstI32(name + "/bias", {l.out}, l.bias, Quant(l.weight_scales[0] * in_scale, 0));
    const int out = b.Tensor(name, i8, {1, l.out}, Quant(l.out_scale, l.out_zero_point));
    b.Op(BuiltinOp::kFullyConnected, {in, w, bias}, {out},
         tflite::FullyConnectedOptions{l.relu ? tflite::Activation::kRelu : tflite::Activation::kNone}, 4);
    return out;
  };
  const tflite::Quantization qin = Quant(m.in_scale, m.in_zero_point);
  const tflite::Quantization q1 = Quant(m.conv1.out_scale, m.conv1.out_zero_point);
  const tflite::Quantization q2 = Quant(m.conv2.out_scale, m.conv2.out_zero_point);
  int x = b.Input("window", i8, {1, 128, 1}, qin);
  x = reshape(x, {1, 1, 128, 1}, qin, "conv1d/expand");
  x = conv(x, m.in_scale, m.conv1, 128, "conv1d/conv2d");
  x = reshape(x, {1, 128, 16}, q1, "conv1d/squeeze");
  x = reshape(x, {1, 1, 128, 16}, q1, "max_pooling1d/expand");
  x = pool(x, m.conv1, 64, "max_pooling1d/pool");
  x = reshape(x, {1, 64, 16}, q1, "max_pooling1d/squeeze");
  x = reshape(x, {1, 1, 64, 16}, q1, "conv1d_1/expand");
  x = conv(x, m.conv1.out_scale, m.conv2, 64, "conv1d_1/conv2d");
  x = reshape(x, {1, 64, 32}, q2, "conv1d_1/squeeze");
  x = reshape(x, {1, 1, 64, 32}, q2, "max_pooling1d_1/expand");
  x = pool(x, m.conv2, 32, "max_pooling1d_1/pool");
  x = reshape(x, {1, 32, 32}, q2, "max_pooling1d_1/squeeze");
  x = reshape(x, {1, 1024}, q2, "flatten");
  x = dense(x, m.conv2.out_scale, m.dense1, "dense");
  x = dense(x, m.dense1.out_scale, m.dense2, "dense_1");
  const int probs = b.Tensor("softmax", i8, {1, 3}, Quant(1.f / 256.f, -128));
  b.Op(BuiltinOp::kSoftmax, {x}, {probs}, tflite::SoftmaxOptions{1.f});
  b.Output(probs);
  m.graph = b.Build();
  m.graph.description = "edgeloop default model, INT8, seeded random weights (bench/infer_compare)";
  return m;
}

Result<DefaultModel> LoadDefaultModel(const std::string& path) {
  EL_ASSIGN_OR_RETURN(tflite::Graph g, tflite::ReadModelFile(path));
  DefaultModel m;
  if (g.inputs.size() != 1 || g.tensors[g.inputs[0]].type != tflite::TensorType::kInt8 ||
      tflite::NumElements(g.tensors[g.inputs[0]].shape) != 128 || g.tensors[g.inputs[0]].quant.scale.empty()) {
    return Status::InvalidArgument(path + ": input 0 must be one INT8 window of 128 values (quantize with --io int8)");
  }
  m.in_scale = g.tensors[g.inputs[0]].quant.scale[0];
  m.in_zero_point = static_cast<int32_t>(g.tensors[g.inputs[0]].quant.zero_point[0]);
  std::vector<QuantLayer*> layers = {&m.conv1, &m.conv2, &m.dense1, &m.dense2};
  const int want_out[] = {16, 32, 64, 3}, want_in[] = {1, 16, 1024, 64}, want_k[] = {3, 3, 1, 1};
  size_t next = 0;
  for (const tflite::Operator& op : g.operators) {
    const bool conv = op.op == BuiltinOp::kConv2D, fc = op.op == BuiltinOp::kFullyConnected;
    if (!conv && !fc) continue;
    if (next == layers.size() || (conv != (next < 2)) || op.inputs.size() < 3 || op.inputs[2] < 0) {
      return Status::InvalidArgument(path + ": expected CONV_2D, CONV_2D, FULLY_CONNECTED, FULLY_CONNECTED with biases");
    }
    QuantLayer& l = *layers[next];
    const tflite::Tensor& w = g.tensors[op.inputs[1]];
    const tflite::Tensor& b = g.tensors[op.inputs[2]];
    const tflite::Tensor& out = g.tensors[op.outputs[0]];
    l.out = want_out[next], l.in = want_in[next], l.k = want_k[next];
    if (w.type != tflite::TensorType::kInt8 || tflite::NumElements(w.shape) != int64_t{l.out} * l.in * l.k ||
        w.shape[0] != l.out || b.type != tflite::TensorType::kInt32 || out.quant.scale.empty()) {
      return Status::InvalidArgument(path + ": layer " + std::to_string(next) + " has weights " +
                                     tflite::ShapeToString(w.shape) + ", not the default model's");
    }
    l.weights.resize(w.data.size());
    std::memcpy(l.weights.data(), w.data.data(), w.data.size());
    l.bias.resize(static_cast<size_t>(l.out));
    std::memcpy(l.bias.data(), b.data.data(), l.bias.size() * 4);
    l.weight_scales = w.quant.scale;
    if (fc && l.weight_scales.size() != 1) return Status::InvalidArgument(path + ": dense weights must be per-tensor");
    l.out_scale = out.quant.scale[0];
    l.out_zero_point = static_cast<int32_t>(out.quant.zero_point[0]);
    const tflite::Activation act = conv ? std::get<tflite::Conv2DOptions>(op.options).activation
                                        : std::get<tflite::FullyConnectedOptions>(op.options).activation;
    l.relu = act == tflite::Activation::kRelu;
    ++next;
  }
  if (next != layers.size()) return Status::InvalidArgument(path + ": fewer than 2 CONV_2D and 2 FULLY_CONNECTED");
  m.macs = 128LL * 3 * 16 + 64LL * 3 * 16 * 32 + 1024LL * 64 + 64LL * 3;
  m.graph = std::move(g);
  return m;
}

std::string DefaultModelJson(const DefaultModel& m) {
  std::ostringstream os;
  const auto list = [&](const auto& v) {
    os << "[";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << +v[i];
    os << "]";
  };
  const auto layer = [&](const char* name, const QuantLayer& l) {
    os << "\"" << name << "\":{\"out\":" << l.out << ",\"in\":" << l.in << ",\"k\":" << l.k << ",\"out_scale\":"
       << l.out_scale << ",\"out_zero_point\":" << l.out_zero_point << ",\"relu\":" << (l.relu ? "true" : "false")
       << ",\"weight_scales\":";
    list(l.weight_scales);
    os << ",\"bias\":";
    list(l.bias);
    os << ",\"weights\":";
    list(l.weights);
    os << "}";
  };
  os.precision(9);
  os << "{\"window\":" << m.window << ",\"in_scale\":" << m.in_scale << ",\"in_zero_point\":" << m.in_zero_point << ",";
  layer("conv1", m.conv1);
  os << ",";
  layer("conv2", m.conv2);
  os << ",";
  layer("dense1", m.dense1);
  os << ",";
  layer("dense2", m.dense2);
  os << "}\n";
  return os.str();
}

}  // namespace edgeloop::bench
