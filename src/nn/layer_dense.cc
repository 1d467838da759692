// Dense and Dropout (layers.h).
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/vec.h"

namespace edgeloop::nn {

void DenseForward(const LayerCtx& l, const float* params, int n, const float* x, float* y, float* logits) {
  const int in = l.in.size(), units = l.spec.units;
  const bool softmax = l.spec.activation == Activation::kSoftmax;
  GemmParams g;
  g.m = n;
  g.n = units;
  g.k = in;
  g.a = x;
  g.a_row = in;
  g.a_col = 1;
  g.b = params + l.layout.weights;
  g.ldb = units;
  g.c = softmax ? logits : y;
  g.ldc = units;
  g.bias = l.layout.bias_size ? params + l.layout.bias : nullptr;
  ActivationBounds(l.spec.activation, &g.lo, &g.hi);
  Gemm(g);
  if (softmax) SoftmaxRows(logits, y, n, units);
}

size_t DenseScratchSize(const LayerCtx& l, int n) {
  return static_cast<size_t>(n) * (static_cast<size_t>(l.in.size()) + static_cast<size_t>(l.spec.units));
}

void DenseBackward(const LayerCtx& l, const float* params, int n, const float* x, const float* y, float* dy,
                   bool dy_is_preactivation, float* dx, float* grads, float* scratch) {
  const int in = l.in.size(), units = l.spec.units;
  if (!dy_is_preactivation) ActivationBackward(l.spec.activation, y, dy, static_cast<size_t>(n) * units);
  // dW = x^T * dz
  GemmParams g;
  g.m = in;
  g.n = units;
  g.k = n;
  g.a = x;
  g.a_row = 1;
  g.a_col = in;
  g.b = dy;
  g.ldb = units;
  g.c = grads + l.layout.weights;
  g.ldc = units;
  Gemm(g);
  if (l.layout.bias_size) BiasGradient(dy, n, units, grads + l.layout.bias);
  if (dx == nullptr) return;
  // dx^T = W * dz^T (in x n), then transposed into dx.
  float* dz_t = scratch;                                  // units x n
  float* dx_t = scratch + static_cast<size_t>(units) * n;  // in x n
  const VecKernels& vk = SelectedVecKernels();
  vk.transpose(dy, n, units, 0, n, dz_t);
  GemmParams h;
  h.m = in;
  h.n = n;
  h.k = units;
  h.a = params + l.layout.weights;
  h.a_row = units;
  h.a_col = 1;
  h.b = dz_t;
  h.ldb = n;
  h.c = dx_t;
  h.ldc = n;
  Gemm(h);
  vk.transpose(dx_t, in, n, 0, in, dx);
}

void DropoutForward(const LayerCtx& l, int n, bool training, Rng* rng, const float* x, float* y, float* mask) {
  const size_t count = static_cast<size_t>(n) * l.in.size();
  const float rate = l.spec.rate;
  if (!training || rate == 0) {
    for (size_t i = 0; i < count; ++i) y[i] = x[i];
    return;
  }
  const float keep_scale = 1.0f / (1.0f - rate);
  for (size_t i = 0; i < count; ++i) {
    mask[i] = rng->UniformFloat() >= rate ? keep_scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

void DropoutBackward(const LayerCtx& l, int n, const float* dy, float* dx, const float* mask) {
  const size_t count = static_cast<size_t>(n) * l.in.size();
  if (l.spec.rate == 0) {
    for (size_t i = 0; i < count; ++i) dx[i] = dy[i];
    return;
  }
  for (size_t i = 0; i < count; ++i) dx[i] = dy[i] * mask[i];
}

}  // namespace edgeloop::nn
