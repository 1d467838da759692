// Conv1D as im2col + GEMM (layers.h). Weights [kernel * in_channels, filters]: the im2col row of
// output position t is the kernel's input taps k = 0..K-1, each in_channels wide, so the product
// needs no reordering, and its gradient is one GEMM too.
#include <cstring>

#include "nn/gemm.h"
#include "nn/layers.h"

namespace edgeloop::nn {

bool ConvIsPointwise(const LayerCtx& l) { return l.spec.kernel == 1 && l.spec.stride == 1; }

size_t ConvColsSize(const LayerCtx& l, int n) {
  if (ConvIsPointwise(l)) return 0;
  // The padded copy (stride 1, no dilation) is never larger: out + kernel - 1 <= out * kernel rows.
  return static_cast<size_t>(n) * l.out.length * l.spec.kernel * l.in.channels;
}

namespace {

// Stride 1 and no dilation: output position t reads the kernel * in_channels values of padded
// rows t .. t + kernel - 1, which are contiguous in a padded copy of each window (zero rows for
// the padding). The GEMMs then read that copy in place (one per window) instead of an im2col
// matrix kernel times larger; they see the same values in the same order, so the bits match.
bool ConvReadsPadded(const LayerCtx& l) { return l.spec.stride == 1 && l.spec.dilation == 1; }

// Rows of one window's padded copy.
int PaddedRows(const LayerCtx& l) { return l.out.length + l.spec.kernel - 1; }

void PadInput(const LayerCtx& l, int n, const float* x, float* xp) {
  const int len = l.in.length, cin = l.in.channels, rows = PaddedRows(l);
  const int pad = PadBefore(len, l.spec.kernel, 1, 1, l.spec.padding);
  for (int s = 0; s < n; ++s) {
    const float* xs = x + static_cast<size_t>(s) * len * cin;
    float* dst = xp + static_cast<size_t>(s) * rows * cin;
    const int first = pad < 0 ? 0 : pad;                      // padded row of input position 0
    const int lead = first, real_end = first + len < rows ? first + len : rows;
    std::memset(dst, 0, static_cast<size_t>(lead) * cin * sizeof(float));
    std::memcpy(dst + static_cast<size_t>(lead) * cin, xs, static_cast<size_t>(real_end - lead) * cin * sizeof(float));
    std::memset(dst + static_cast<size_t>(real_end) * cin, 0, static_cast<size_t>(rows - real_end) * cin * sizeof(float));
  }
}

void Im2Col(const LayerCtx& l, int n, const float* x, float* cols) {
  const int len = l.in.length, cin = l.in.channels, lo = l.out.length, k = l.spec.kernel;
  const int stride = l.spec.stride, dil = l.spec.dilation;
  const int pad = PadBefore(len, k, stride, dil, l.spec.padding);
  const size_t kc = static_cast<size_t>(k) * cin;
  for (int s = 0; s < n; ++s) {
    const float* xs = x + static_cast<size_t>(s) * len * cin;
    float* row = cols + static_cast<size_t>(s) * lo * kc;
    for (int t = 0; t < lo; ++t, row += kc) {
      const int pos0 = t * stride - pad;
      if (dil == 1 && pos0 >= 0 && pos0 + k <= len) {  // the taps are contiguous
        // A loop, not memcpy: rows are often a few floats (3 for a 1-channel kernel of 3), and
        // a library call per row cost more than the copy.
        const float* src = xs + static_cast<size_t>(pos0) * cin;
        for (size_t q = 0; q < kc; ++q) row[q] = src[q];
        continue;
      }
      for (int kk = 0; kk < k; ++kk) {
        const int pos = pos0 + kk * dil;
        float* dst = row + static_cast<size_t>(kk) * cin;
        if (pos < 0 || pos >= len) {
          std::memset(dst, 0, cin * sizeof(float));
        } else {
          std::memcpy(dst, xs + static_cast<size_t>(pos) * cin, cin * sizeof(float));
        }
      }
    }
  }
}

// dx = sum of the dcols taps that read each input position (in t, k order).
void Col2Im(const LayerCtx& l, int n, const float* dcols, float* dx) {
  const int len = l.in.length, cin = l.in.channels, lo = l.out.length, k = l.spec.kernel;
  const int stride = l.spec.stride, dil = l.spec.dilation;
  const int pad = PadBefore(len, k, stride, dil, l.spec.padding);
  const size_t kc = static_cast<size_t>(k) * cin;
  std::memset(dx, 0, static_cast<size_t>(n) * len * cin * sizeof(float));
  for (int s = 0; s < n; ++s) {
    float* dxs = dx + static_cast<size_t>(s) * len * cin;
    const float* row = dcols + static_cast<size_t>(s) * lo * kc;
    for (int t = 0; t < lo; ++t, row += kc) {
      for (int kk = 0; kk < k; ++kk) {
        const int pos = t * stride - pad + kk * dil;
        if (pos < 0 || pos >= len) continue;
        float* d = dxs + static_cast<size_t>(pos) * cin;
        const float* g = row + static_cast<size_t>(kk) * cin;
        for (int c = 0; c < cin; ++c) d[c] += g[c];
      }
    }
  }
}

}  // namespace

void ConvForward(const LayerCtx& l, const float* params, int n, const float* x, float* y, float* cols) {
  const bool pointwise = ConvIsPointwise(l);
  const int kc = l.spec.kernel * l.in.channels;
  if (!pointwise && ConvReadsPadded(l)) {
    PadInput(l, n, x, cols);
    const size_t in_step = static_cast<size_t>(PaddedRows(l)) * l.in.channels;
    const size_t out_step = static_cast<size_t>(l.out.length) * l.spec.filters;
    GemmParams g;
    g.m = l.out.length;
    g.n = l.spec.filters;
    g.k = kc;
    g.a_row = l.in.channels;
    g.a_col = 1;
    g.b = params + l.layout.weights;
    g.ldb = l.spec.filters;
    g.ldc = l.spec.filters;
    g.bias = l.layout.bias_size ? params + l.layout.bias : nullptr;
    ActivationBounds(l.spec.activation, &g.lo, &g.hi);
    for (int s = 0; s < n; ++s) {
      g.a = cols + s * in_step;
      g.c = y + s * out_step;
      Gemm(g);
    }
    return;
  }
  if (!pointwise) Im2Col(l, n, x, cols);
  GemmParams g;
  g.m = n * l.out.length;
  g.n = l.spec.filters;
  g.k = kc;
  g.a = pointwise ? x : cols;
  g.a_row = kc;
  g.a_col = 1;
  g.b = params + l.layout.weights;
  g.ldb = l.spec.filters;
  g.c = y;
  g.ldc = l.spec.filters;
  g.bias = l.layout.bias_size ? params + l.layout.bias : nullptr;
  ActivationBounds(l.spec.activation, &g.lo, &g.hi);
  Gemm(g);
}

void ConvBackward(const LayerCtx& l, const float* wt, int n, const float* x, const float* y, float* dy,
                  bool dy_is_preactivation, float* dx, float* grads, const float* cols, float* dcols) {
  const int rows = n * l.out.length;
  const int f = l.spec.filters;
  const int kc = l.spec.kernel * l.in.channels;
  const bool pointwise = ConvIsPointwise(l);
  if (!dy_is_preactivation) ActivationBackward(l.spec.activation, y, dy, static_cast<size_t>(rows) * f);
  // dW = cols^T * dz
  GemmParams g;
  g.m = kc;
  g.n = f;
  g.b = dy;
  g.ldb = f;
  g.c = grads + l.layout.weights;
  g.ldc = f;
  if (!pointwise && ConvReadsPadded(l)) {
    // One GEMM per window on its padded copy, each continuing the previous one's sums: every
    // element is still one fma chain over all rows in order.
    const size_t in_step = static_cast<size_t>(PaddedRows(l)) * l.in.channels;
    g.k = l.out.length;
    g.a_row = 1;
    g.a_col = l.in.channels;
    for (int s = 0; s < n; ++s) {
      g.a = cols + s * in_step;
      g.b = dy + static_cast<size_t>(s) * l.out.length * f;
      g.accumulate = s > 0;
      Gemm(g);
    }
  } else {
    g.k = rows;
    g.a = pointwise ? x : cols;
    g.a_row = 1;
    g.a_col = kc;
    Gemm(g);
  }
  if (l.layout.bias_size) BiasGradient(dy, rows, f, grads + l.layout.bias);
  if (dx == nullptr) return;
  // dcols = dz * W^T, then scattered back onto the input positions.
  GemmParams h;
  h.m = rows;
  h.n = kc;
  h.k = f;
  h.a = dy;
  h.a_row = f;
  h.a_col = 1;
  h.b = wt + l.layout.weights;
  h.ldb = kc;
  h.c = pointwise ? dx : dcols;
  h.ldc = kc;
  Gemm(h);
  if (!pointwise) Col2Im(l, n, dcols, dx);
}

}  // namespace edgeloop::nn
