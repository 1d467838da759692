// ReLU, ReLU6 and Softmax, as fused activations and as layers (layers.h).
#include <cmath>
#include <limits>

#include "nn/layers.h"

namespace edgeloop::nn {

void ActivationBounds(Activation a, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (a == Activation::kReLU || a == Activation::kReLU6) *lo = 0.0f;
  if (a == Activation::kReLU6) *hi = 6.0f;
}

void ActivationBackward(Activation a, const float* y, float* dy, size_t count) {
  if (a == Activation::kReLU) {
    for (size_t i = 0; i < count; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  } else if (a == Activation::kReLU6) {
    for (size_t i = 0; i < count; ++i) dy[i] = (y[i] > 0.0f && y[i] < 6.0f) ? dy[i] : 0.0f;
  }
}

void SoftmaxRows(const float* in, float* out, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const float* z = in + static_cast<size_t>(r) * cols;
    float* p = out + static_cast<size_t>(r) * cols;
    float max = z[0];
    for (int j = 1; j < cols; ++j) max = z[j] > max ? z[j] : max;
    float sum = 0;
    for (int j = 0; j < cols; ++j) {
      p[j] = std::exp(z[j] - max);
      sum += p[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < cols; ++j) p[j] *= inv;
  }
}

void ActivationLayerForward(const LayerCtx& l, int n, const float* x, float* y) {
  const size_t count = static_cast<size_t>(n) * l.in.size();
  switch (l.spec.type) {
    case LayerType::kReLU:
      for (size_t i = 0; i < count; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case LayerType::kReLU6:
      for (size_t i = 0; i < count; ++i) {
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        y[i] = v < 6.0f ? v : 6.0f;
      }
      break;
    case LayerType::kSoftmax:
      // Over the last axis: features of a vector, channels of each position of a sequence.
      SoftmaxRows(x, y, n * l.in.length, l.in.channels);
      break;
    default:
      break;
  }
}

void ActivationLayerBackward(const LayerCtx& l, int n, const float* y, float* dy, float* dx) {
  const size_t count = static_cast<size_t>(n) * l.in.size();
  if (l.spec.type == LayerType::kSoftmax) {
    // dx = y * (dy - sum(dy * y)) per row. (The final softmax is fused with the loss instead.)
    const int rows = n * l.in.length, cols = l.in.channels;
    for (int r = 0; r < rows; ++r) {
      const float* yr = y + static_cast<size_t>(r) * cols;
      const float* g = dy + static_cast<size_t>(r) * cols;
      float* d = dx + static_cast<size_t>(r) * cols;
      float dot = 0;
      for (int j = 0; j < cols; ++j) dot += g[j] * yr[j];
      for (int j = 0; j < cols; ++j) d[j] = yr[j] * (g[j] - dot);
    }
    return;
  }
  ActivationBackward(l.spec.type == LayerType::kReLU ? Activation::kReLU : Activation::kReLU6, y, dy, count);
  for (size_t i = 0; i < count; ++i) dx[i] = dy[i];
}

}  // namespace edgeloop::nn
