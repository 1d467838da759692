// Finite-difference checks of every layer's backward pass (and of the fused softmax +
// cross-entropy with class weights): d loss / d parameter and d loss / d input, analytic against
// central differences of the mean loss of a small batch.
#include <gtest/gtest.h>

#include <cmath>

#include "edgeloop/common/random.h"
#include "edgeloop/nn/model.h"
#include "nn/network.h"

namespace edgeloop::nn {
namespace {

LayerSpec Conv(int filters, int kernel, Activation act = Activation::kNone, Padding pad = Padding::kSame,
               int stride = 1, int dilation = 1, bool bias = true) {
  LayerSpec l;
  l.type = LayerType::kConv1D;
  l.filters = filters;
  l.kernel = kernel;
  l.activation = act;
  l.padding = pad;
  l.stride = stride;
  l.dilation = dilation;
  l.use_bias = bias;
  return l;
}
LayerSpec Pool(LayerType t, int pool, int stride = 0, Padding pad = Padding::kValid) {
  LayerSpec l;
  l.type = t;
  l.pool = pool;
  l.stride = stride;
  l.padding = pad;
  return l;
}
LayerSpec Dense(int units, Activation act = Activation::kNone) {
  LayerSpec l;
  l.type = LayerType::kDense;
  l.units = units;
  l.activation = act;
  return l;
}
LayerSpec Simple(LayerType t, float rate = 0) {
  LayerSpec l;
  l.type = t;
  l.rate = rate;
  return l;
}

struct GradCase {
  std::string name;
  int length, channels;
  std::vector<LayerSpec> layers;  // a softmax head is appended unless the last is a softmax layer
  bool class_weights = false;
  float input_scale = 1.0f;
};

// Mean class-weighted loss of the batch at `params` (dropout masks from a fixed seed).
double Loss(const Model& m, const std::vector<float>& params, const std::vector<float>& x,
            const std::vector<int32_t>& y, const float* weights, Workspace* ws) {
  const int n = static_cast<int>(y.size());
  std::copy(x.begin(), x.end(), ws->act[0].begin());
  Rng rng(99);
  Forward(m, params.data(), m.state().data(), ws, n, true, &rng);
  LossResult r = SoftmaxCrossEntropy(m, ws, y.data(), n, weights, 1.0f / n, nullptr, nullptr);
  return r.loss_sum / n;
}

void CheckGradients(const GradCase& c) {
  SCOPED_TRACE(c.name);
  ModelSpec spec;
  spec.length = c.length;
  spec.channels = c.channels;
  spec.layers = c.layers;
  const LayerSpec& last = spec.layers.back();
  if (last.type != LayerType::kSoftmax && last.activation != Activation::kSoftmax) {
    bool flat = false;
    for (const LayerSpec& l : spec.layers) {
      if (l.type == LayerType::kFlatten || l.type == LayerType::kGlobalAveragePool1D || l.type == LayerType::kDense) flat = true;
    }
    if (!flat) spec.layers.push_back(Simple(LayerType::kFlatten));
    spec.layers.push_back(Dense(3, Activation::kSoftmax));
  }
  auto created = Model::Create(spec, 3, 5);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Model m = std::move(*created);
  Rng rng(1234);
  // Non-trivial biases and batch-norm parameters.
  std::vector<float> params(m.parameters().begin(), m.parameters().end());
  for (const ParamLayout& p : m.layouts()) {
    for (size_t i = 0; i < p.bias_size; ++i) params[p.bias + i] = static_cast<float>(rng.Normal(0, 0.1));
    for (size_t i = 0; i < p.norm_size; ++i) {
      params[p.gamma + i] = static_cast<float>(rng.Uniform(0.5, 1.5));
      params[p.beta + i] = static_cast<float>(rng.Normal(0, 0.2));
    }
  }
  const int n = 4;
  std::vector<float> x(static_cast<size_t>(n) * m.input_size());
  for (float& v : x) v = static_cast<float>(rng.Normal()) * c.input_scale;
  std::vector<int32_t> y = {0, 2, 1, 2};
  const std::vector<float> weights = {0.5f, 2.0f, 1.5f};
  const float* w = c.class_weights ? weights.data() : nullptr;

  Workspace ws;
  InitWorkspace(m, n, &ws);
  // Analytic.
  std::vector<float> wt(params.size());
  std::copy(params.begin(), params.end(), m.mutable_parameters().begin());
  TransposeWeights(m, params.data(), wt.data(), 0, 1);
  Loss(m, params, x, y, w, &ws);
  std::vector<float> grads(params.size(), 0.0f);
  Backward(m, params.data(), wt.data(), &ws, n, grads.data(), true);
  ASSERT_NE(ws.input_grad, nullptr);
  std::vector<float> input_grad(ws.input_grad, ws.input_grad + x.size());

  // Central differences; a point where the one-sided slopes disagree sits on a kink (ReLU,
  // max-pool ties) that the step crossed, and is skipped. Few may be.
  const double f0 = Loss(m, params, x, y, w, &ws);
  const double h = 2e-3;
  int checked = 0, skipped = 0;
  auto check = [&](const char* what, size_t i, double analytic, double up, double down, double delta) {
    const double tol = 2e-3 + 2e-2 * std::fabs(analytic);
    const double forward = (up - f0) / (delta / 2), backward = (f0 - down) / (delta / 2);
    if (std::fabs(forward - backward) > tol) {
      ++skipped;
      return;
    }
    ++checked;
    EXPECT_NEAR(analytic, (up - down) / delta, tol) << what << " " << i;
  };
  // Every parameter when there are few, else an even sample of 300.
  const size_t step = std::max<size_t>(1, params.size() / 300);
  for (size_t i = 0; i < params.size(); i += step) {
    std::vector<float> p = params;
    p[i] = params[i] + static_cast<float>(h);
    const double up = Loss(m, p, x, y, w, &ws);
    p[i] = params[i] - static_cast<float>(h);
    const double down = Loss(m, p, x, y, w, &ws);
    const double delta = static_cast<double>(params[i] + static_cast<float>(h)) - (params[i] - static_cast<float>(h));
    check("parameter", i, grads[i], up, down, delta);
  }
  const size_t xstep = std::max<size_t>(1, x.size() / 200);
  for (size_t i = 0; i < x.size(); i += xstep) {
    std::vector<float> xp = x;
    xp[i] = x[i] + static_cast<float>(h);
    const double up = Loss(m, params, xp, y, w, &ws);
    xp[i] = x[i] - static_cast<float>(h);
    const double down = Loss(m, params, xp, y, w, &ws);
    const double delta = static_cast<double>(x[i] + static_cast<float>(h)) - (x[i] - static_cast<float>(h));
    check("input", i, input_grad[i], up, down, delta);
  }
  EXPECT_LE(skipped * 10, checked) << skipped << " points on kinks, " << checked << " checked";
}

TEST(Gradients, Conv1D) {
  CheckGradients({"same relu k3", 12, 1, {Conv(4, 3, Activation::kReLU)}});
  CheckGradients({"valid stride 2, 2 channels", 13, 2, {Conv(3, 3, Activation::kNone, Padding::kValid, 2)}});
  CheckGradients({"same stride 3", 11, 2, {Conv(3, 4, Activation::kNone, Padding::kSame, 3)}});
  CheckGradients({"dilation 2 same relu6", 12, 2, {Conv(3, 3, Activation::kReLU6, Padding::kSame, 1, 2)}, false, 4.0f});
  CheckGradients({"dilation 3 valid", 14, 1, {Conv(2, 3, Activation::kNone, Padding::kValid, 1, 3)}});
  CheckGradients({"pointwise", 6, 3, {Conv(4, 1, Activation::kReLU)}});
  CheckGradients({"no bias, even kernel same", 9, 2, {Conv(3, 4, Activation::kNone, Padding::kSame, 1, 1, false)}});
  CheckGradients({"two convs", 10, 1, {Conv(4, 3, Activation::kReLU), Conv(3, 3, Activation::kReLU, Padding::kValid)}});
}

TEST(Gradients, Pools) {
  CheckGradients({"max 2 tiling", 8, 2, {Conv(3, 3, Activation::kNone), Pool(LayerType::kMaxPool1D, 2)}});
  CheckGradients({"max 2 odd length", 9, 2, {Pool(LayerType::kMaxPool1D, 2)}});
  CheckGradients({"max 3 stride 2 same", 10, 2, {Pool(LayerType::kMaxPool1D, 3, 2, Padding::kSame)}});
  CheckGradients({"max 3 stride 1 (overlapping)", 7, 1, {Pool(LayerType::kMaxPool1D, 3, 1)}});
  CheckGradients({"average 2", 8, 2, {Pool(LayerType::kAveragePool1D, 2)}});
  CheckGradients({"average 3 stride 2 same", 9, 3, {Pool(LayerType::kAveragePool1D, 3, 2, Padding::kSame)}});
  CheckGradients({"global average", 8, 3, {Conv(4, 3, Activation::kReLU), Simple(LayerType::kGlobalAveragePool1D)}});
}

TEST(Gradients, DenseDropoutFlatten) {
  CheckGradients({"dense relu", 6, 2, {Simple(LayerType::kFlatten), Dense(5, Activation::kReLU)}});
  CheckGradients({"dense relu6", 6, 1, {Simple(LayerType::kFlatten), Dense(5, Activation::kReLU6)}, false, 6.0f});
  CheckGradients({"dense linear", 4, 1, {Simple(LayerType::kFlatten), Dense(5)}});
  CheckGradients({"dropout", 6, 1,
                  {Simple(LayerType::kFlatten), Dense(8, Activation::kReLU), Simple(LayerType::kDropout, 0.5f)}});
}

TEST(Gradients, BatchNorm) {
  CheckGradients({"after conv", 8, 2,
                  {Conv(3, 3), Simple(LayerType::kBatchNorm), Simple(LayerType::kReLU)}});
  CheckGradients({"after dense", 5, 1,
                  {Simple(LayerType::kFlatten), Dense(6), Simple(LayerType::kBatchNorm), Simple(LayerType::kReLU6)}});
}

TEST(Gradients, ActivationLayersSoftmaxAndClassWeights) {
  CheckGradients({"relu layer", 6, 2, {Conv(3, 3), Simple(LayerType::kReLU)}});
  CheckGradients({"relu6 layer", 6, 2, {Conv(3, 3), Simple(LayerType::kReLU6)}, false, 5.0f});
  CheckGradients({"softmax layer", 5, 1, {Simple(LayerType::kFlatten), Dense(3), Simple(LayerType::kSoftmax)}});
  CheckGradients({"class weights", 6, 1, {Simple(LayerType::kFlatten), Dense(4, Activation::kReLU)}, true});
  CheckGradients({"class weights, softmax layer", 5, 2,
                  {Simple(LayerType::kFlatten), Dense(3), Simple(LayerType::kSoftmax)}, true});
}

TEST(Gradients, ReferenceModel) {
  ModelSpec spec = DefaultModelSpec(32, 1);
  CheckGradients({"reference model", 32, 1, spec.layers, true});
}

}  // namespace
}  // namespace edgeloop::nn
