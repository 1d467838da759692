// BatchNorm (layers.h): statistics per channel over every window and position of the batch
// (of the shard, in data-parallel training: "ghost" batch normalisation, see train.h).
#include <cmath>

#include "nn/layers.h"

namespace edgeloop::nn {

size_t BatchNormStatsSize(const LayerCtx& l) { return 4 * static_cast<size_t>(l.in.channels); }

void BatchNormForward(const LayerCtx& l, const float* params, const float* state, int n, bool training,
                      const float* x, float* y, float* stats) {
  const int c = l.in.channels;
  const size_t rows = static_cast<size_t>(n) * l.in.length;
  const float* gamma = params + l.layout.gamma;
  const float* beta = params + l.layout.beta;
  const float eps = l.spec.epsilon;
  float* mean = stats;
  float* invstd = stats + c;
  float* var_unbiased = stats + 2 * c;
  if (training) {
    // Two passes in double: the batch can be thousands of positions.
    for (int ch = 0; ch < c; ++ch) {
      double sum = 0;
      for (size_t r = 0; r < rows; ++r) sum += x[r * c + ch];
      const double m = sum / static_cast<double>(rows);
      double sq = 0;
      for (size_t r = 0; r < rows; ++r) {
        const double d = x[r * c + ch] - m;
        sq += d * d;
      }
      const double var = sq / static_cast<double>(rows);
      mean[ch] = static_cast<float>(m);
      invstd[ch] = static_cast<float>(1.0 / std::sqrt(var + eps));
      var_unbiased[ch] = static_cast<float>(rows > 1 ? sq / static_cast<double>(rows - 1) : var);
    }
  } else {
    const float* mm = state + l.layout.moving_mean;
    const float* mv = state + l.layout.moving_variance;
    for (int ch = 0; ch < c; ++ch) {
      mean[ch] = mm[ch];
      invstd[ch] = 1.0f / std::sqrt(mv[ch] + eps);
    }
  }
  for (size_t r = 0; r < rows; ++r) {
    for (int ch = 0; ch < c; ++ch) {
      y[r * c + ch] = gamma[ch] * ((x[r * c + ch] - mean[ch]) * invstd[ch]) + beta[ch];
    }
  }
}

void BatchNormBackward(const LayerCtx& l, const float* params, int n, const float* x, const float* dy, float* dx,
                       float* grads, const float* stats) {
  const int c = l.in.channels;
  const size_t rows = static_cast<size_t>(n) * l.in.length;
  const float* gamma = params + l.layout.gamma;
  const float* mean = stats;
  const float* invstd = stats + c;
  float* dgamma = grads + l.layout.gamma;
  float* dbeta = grads + l.layout.beta;
  for (int ch = 0; ch < c; ++ch) {
    dgamma[ch] = 0;
    dbeta[ch] = 0;
  }
  for (size_t r = 0; r < rows; ++r) {
    for (int ch = 0; ch < c; ++ch) {
      const float xhat = (x[r * c + ch] - mean[ch]) * invstd[ch];
      dgamma[ch] += dy[r * c + ch] * xhat;
      dbeta[ch] += dy[r * c + ch];
    }
  }
  if (dx == nullptr) return;
  const float inv_rows = 1.0f / static_cast<float>(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (int ch = 0; ch < c; ++ch) {
      const float xhat = (x[r * c + ch] - mean[ch]) * invstd[ch];
      dx[r * c + ch] = gamma[ch] * invstd[ch] * (dy[r * c + ch] - (dbeta[ch] + xhat * dgamma[ch]) * inv_rows);
    }
  }
}

}  // namespace edgeloop::nn
