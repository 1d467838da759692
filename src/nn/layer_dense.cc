// Dense and Dropout (layers.h).
#include "nn/gemm.h"
#include "nn/layers.h"

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

void DenseBackward(const LayerCtx& l, const float* wt, int n, const float* x, const float* y, float* dy,
                   bool dy_is_preactivation, float* dx, float* grads) {
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
  // dx = dz * W^T
  GemmParams h;
  h.m = n;
  h.n = in;
  h.k = units;
  h.a = dy;
  h.a_row = units;
  h.a_col = 1;
  h.b = wt + l.layout.weights;
  h.ldb = in;
  h.c = dx;
  h.ldc = in;
  Gemm(h);
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
