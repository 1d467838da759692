#include "nn/network.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/layers.h"
#include "nn/vec.h"

namespace edgeloop::nn {
namespace {

Shape InputShape(const Model& m) { return Shape{m.input_length(), m.input_channels(), false}; }

LayerCtx Ctx(const Model& m, const Shape& input_shape, size_t i) {
  const Shape& in = i == 0 ? input_shape : m.shapes()[i - 1];
  return LayerCtx{m.spec().layers[i], in, m.shapes()[i], m.layouts()[i]};
}

bool HasParams(const LayerSpec& l) {
  return l.type == LayerType::kConv1D || l.type == LayerType::kDense || l.type == LayerType::kBatchNorm;
}

// Flatten only reinterprets [length, channels] as one vector, so its output is its input's buffer
// (no copy forward or backward): the block that holds act[i], the input of layer i.
size_t ActIndex(const Model& m, size_t i) {
  while (i > 0 && m.spec().layers[i - 1].type == LayerType::kFlatten) --i;
  return i;
}

// The final softmax is a layer of its own (true) or a dense/conv activation (false).
bool FinalSoftmaxIsLayer(const Model& m) { return m.spec().layers.back().type == LayerType::kSoftmax; }

}  // namespace

void InitWorkspace(const Model& model, int max_rows, Workspace* ws) {
  const size_t rows = static_cast<size_t>(max_rows);
  const size_t num_layers = model.spec().layers.size();
  const Shape input = InputShape(model);
  ws->max_rows = max_rows;
  ws->act.assign(num_layers + 1, AlignedVector());
  ws->scratch.assign(num_layers, AlignedVector());
  ws->act[0].assign(rows * input.size(), 0.0f);
  size_t max_act = rows * input.size(), max_dcols = 0, max_dense = 0;
  for (size_t i = 0; i < num_layers; ++i) {
    const LayerCtx l = Ctx(model, input, i);
    if (l.spec.type != LayerType::kFlatten) ws->act[i + 1].assign(rows * l.out.size(), 0.0f);  // see ActIndex
    max_act = std::max(max_act, rows * l.out.size());
    size_t scratch = 0;
    switch (l.spec.type) {
      case LayerType::kConv1D:
        scratch = ConvColsSize(l, max_rows);
        max_dcols = std::max(max_dcols, scratch);
        break;
      case LayerType::kDense:
        if (l.spec.activation == Activation::kSoftmax) scratch = rows * l.out.size();
        max_dense = std::max(max_dense, DenseScratchSize(l, max_rows));
        break;
      case LayerType::kDropout:
        scratch = rows * l.in.size();
        break;
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D:
        scratch = PoolScratchSize(l, max_rows);
        break;
      case LayerType::kBatchNorm:
        scratch = BatchNormStatsSize(l);
        break;
      default:
        break;
    }
    ws->scratch[i].assign(scratch, 0.0f);
  }
  ws->grad_a.assign(max_act, 0.0f);
  ws->grad_b.assign(max_act, 0.0f);
  ws->dcols.assign(max_dcols, 0.0f);
  ws->dense_scratch.assign(max_dense, 0.0f);
  ws->dlogits.assign(rows * static_cast<size_t>(model.num_classes()), 0.0f);
}

void GatherInput(const Model& model, const float* windows, const uint32_t* index, size_t first, int n,
                 Workspace* ws) {
  const size_t w = model.input_size();
  const int c = model.input_channels();
  const std::vector<float>& mean = model.norm_mean();
  const std::vector<float>& stdv = model.norm_std();
  float* dst = ws->act[0].data();
  for (int b = 0; b < n; ++b) {
    const size_t src_index = index != nullptr ? index[first + b] : first + b;
    const float* src = windows + src_index * w;
    float* d = dst + static_cast<size_t>(b) * w;
    if (mean.empty()) {
      std::memcpy(d, src, w * sizeof(float));
      continue;
    }
    // Position by position (no k % c per element, so the loops vectorise); the same
    // subtraction and division per reading.
    const float* mu = mean.data();
    const float* sd = stdv.data();
    if (c == 1) {
      const float m0 = mu[0], s0 = sd[0];
      for (size_t k = 0; k < w; ++k) d[k] = (src[k] - m0) / s0;
      continue;
    }
    for (size_t t = 0; t < w; t += static_cast<size_t>(c)) {
      for (int ch = 0; ch < c; ++ch) d[t + ch] = (src[t + ch] - mu[ch]) / sd[ch];
    }
  }
}

void Forward(const Model& model, const float* params, const float* state, Workspace* ws, int n, bool training,
             Rng* rng) {
  const Shape input = InputShape(model);
  for (size_t i = 0; i < model.spec().layers.size(); ++i) {
    const LayerCtx l = Ctx(model, input, i);
    const float* x = ws->act[ActIndex(model, i)].data();
    float* y = ws->act[i + 1].data();
    float* scratch = ws->scratch[i].data();
    switch (l.spec.type) {
      case LayerType::kConv1D:
        ConvForward(l, params, n, x, y, scratch);
        break;
      case LayerType::kDense:
        DenseForward(l, params, n, x, y, scratch);
        break;
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D:
        PoolForward(l, n, x, y, scratch);
        break;
      case LayerType::kGlobalAveragePool1D:
        GlobalAveragePoolForward(l, n, x, y);
        break;
      case LayerType::kFlatten:  // nothing to do: see ActIndex
        break;
      case LayerType::kDropout:
        DropoutForward(l, n, training, rng, x, y, scratch);
        break;
      case LayerType::kBatchNorm:
        BatchNormForward(l, params, state, n, training, x, y, scratch);
        break;
      case LayerType::kReLU:
      case LayerType::kReLU6:
      case LayerType::kSoftmax:
        ActivationLayerForward(l, n, x, y);
        break;
    }
  }
}

const float* Probabilities(const Model& model, const Workspace& ws) {
  return ws.act[ActIndex(model, ws.act.size() - 1)].data();
}

LossResult SoftmaxCrossEntropy(const Model& model, Workspace* ws, const int32_t* labels, int n,
                               const float* class_weights, float grad_scale, float* per_window_loss,
                               int32_t* predictions) {
  const int k = model.num_classes();
  const size_t last = model.spec().layers.size() - 1;
  const float* logits = FinalSoftmaxIsLayer(model) ? ws->act[ActIndex(model, last)].data() : ws->scratch[last].data();
  const float* probs = Probabilities(model, *ws);
  LossResult result;
  for (int r = 0; r < n; ++r) {
    const float* z = logits + static_cast<size_t>(r) * k;
    const float* p = probs + static_cast<size_t>(r) * k;
    const int y = labels[r];
    float max = z[0];
    int arg = 0;
    for (int j = 1; j < k; ++j) {
      if (z[j] > max) {
        max = z[j];
        arg = j;
      }
    }
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += std::exp(static_cast<double>(z[j]) - max);
    const float w = class_weights != nullptr ? class_weights[y] : 1.0f;
    const double loss = (std::log(sum) + max - z[y]) * w;
    result.loss_sum += loss;
    if (arg == y) ++result.correct;
    if (per_window_loss != nullptr) per_window_loss[r] = static_cast<float>(loss);
    if (predictions != nullptr) predictions[r] = arg;
    float* d = ws->dlogits.data() + static_cast<size_t>(r) * k;
    const float scale = grad_scale * w;
    for (int j = 0; j < k; ++j) d[j] = (p[j] - (j == y ? 1.0f : 0.0f)) * scale;
  }
  return result;
}

void Backward(const Model& model, const float* params, const float* wt, Workspace* ws, int n, float* grads,
              bool want_input_grad) {
  const Shape input = InputShape(model);
  const auto& layers = model.spec().layers;
  const int num_layers = static_cast<int>(layers.size());
  const int k = model.num_classes();
  int first_param = num_layers;
  for (int i = 0; i < num_layers; ++i) {
    if (HasParams(layers[i])) {
      first_param = i;
      break;
    }
  }
  float* dy = ws->grad_a.data();
  float* dx = ws->grad_b.data();
  std::memcpy(dy, ws->dlogits.data(), static_cast<size_t>(n) * k * sizeof(float));
  int start = num_layers - 1;
  bool preactivation = true;  // dy is d loss / d logits for the layer with the softmax activation
  if (FinalSoftmaxIsLayer(model)) {
    --start;  // the softmax layer itself is folded into the loss gradient
    preactivation = false;
  }
  ws->input_grad = nullptr;
  bool relu_done = false;  // a max pool above already applied layer i's ReLU to dy
  for (int i = start; i >= 0; --i) {
    const LayerCtx l = Ctx(model, input, static_cast<size_t>(i));
    const bool need_dx = want_input_grad || i > first_param;
    if (!need_dx && !HasParams(l.spec)) break;  // nothing below needs a gradient
    float* out_dx = need_dx ? dx : nullptr;
    const float* x = ws->act[ActIndex(model, static_cast<size_t>(i))].data();
    const float* y = ws->act[ActIndex(model, static_cast<size_t>(i) + 1)].data();
    float* scratch = ws->scratch[i].data();
    const bool pre = (preactivation && i == num_layers - 1) || relu_done;
    relu_done = false;
    switch (l.spec.type) {
      case LayerType::kConv1D:
        ConvBackward(l, wt, n, x, y, dy, pre, out_dx, grads, scratch, ws->dcols.data());
        break;
      case LayerType::kDense:
        DenseBackward(l, params, n, x, y, dy, pre, out_dx, grads, ws->dense_scratch.data());
        break;
      case LayerType::kMaxPool1D:
      case LayerType::kAveragePool1D:
        if (out_dx) {
          // A max pool over a ReLU layer's output drops the gradient of windows whose maximum is
          // 0 itself, which saves the ReLU's pass over its (twice as large) output.
          const bool over_relu = l.spec.type == LayerType::kMaxPool1D && i > 0 &&
                                 (layers[i - 1].type == LayerType::kConv1D || layers[i - 1].type == LayerType::kDense) &&
                                 layers[i - 1].activation == Activation::kReLU;
          relu_done = PoolBackward(l, n, dy, out_dx, scratch, over_relu ? y : nullptr);
        }
        break;
      case LayerType::kGlobalAveragePool1D:
        if (out_dx) GlobalAveragePoolBackward(l, n, dy, out_dx);
        break;
      case LayerType::kFlatten:  // the gradient passes through unchanged (see ActIndex)
        continue;
      case LayerType::kDropout:
        if (out_dx) DropoutBackward(l, n, dy, out_dx, scratch);
        break;
      case LayerType::kBatchNorm:
        BatchNormBackward(l, params, n, x, dy, out_dx, grads, scratch);
        break;
      case LayerType::kReLU:
      case LayerType::kReLU6:
      case LayerType::kSoftmax:
        if (out_dx) ActivationLayerBackward(l, n, y, dy, out_dx);
        break;
    }
    if (!need_dx) break;
    std::swap(dy, dx);
  }
  if (want_input_grad) ws->input_grad = dy;
}

void TransposeWeights(const Model& model, const float* params, float* wt, int part, int parts) {
  const auto& layers = model.spec().layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    const ParamLayout& p = model.layouts()[i];
    if (p.weights_size == 0 || layers[i].type != LayerType::kConv1D) continue;
    const int rows = p.weight_rows, cols = p.weight_cols;
    const int r0 = static_cast<int>(static_cast<int64_t>(rows) * part / parts);
    const int r1 = static_cast<int>(static_cast<int64_t>(rows) * (part + 1) / parts);
    if (r1 > r0) SelectedVecKernels().transpose(params + p.weights, rows, cols, r0, r1, wt + p.weights);
  }
}

}  // namespace edgeloop::nn
