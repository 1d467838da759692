// MaxPool1D, AveragePool1D and GlobalAveragePool1D (layers.h). Windows that overhang the input
// (same padding) only cover the real positions: max over them, average over their count (TFLite).
#include <cstring>

#include "nn/layers.h"

namespace edgeloop::nn {
namespace {

struct Window {
  int begin, end;  // input positions [begin, end)
};

Window PoolWindow(const LayerCtx& l, int pad, int t) {
  int begin = t * l.spec.stride - pad;
  int end = begin + l.spec.pool;
  if (begin < 0) begin = 0;
  if (end > l.in.length) end = l.in.length;
  return {begin, end};
}

// One max-pool window of `count` positions: out/idx get the maximum and its first offset.
void MaxWindow(const float* __restrict in, int count, int c, float* __restrict out, float* __restrict idx) {
  for (int ch = 0; ch < c; ++ch) {
    out[ch] = in[ch];
    idx[ch] = 0.0f;
  }
  for (int p = 1; p < count; ++p) {
    const float* __restrict row = in + static_cast<size_t>(p) * c;
    const float offset = static_cast<float>(p);
    // Written in exactly this form because GCC 12 if-converts and vectorises it (several
    // equivalent forms stay scalar). Strict '>': the first maximum wins.
    for (int ch = 0; ch < c; ++ch) {
      float o = out[ch], v = row[ch], i = idx[ch];
      o = v > o ? v : o;
      i = v > out[ch] ? offset : i;
      out[ch] = o;
      idx[ch] = i;
    }
  }
}

// The gradient of one max-pool window (assigned, or added when windows overlap).
void MaxWindowBackward(const float* __restrict g, const float* __restrict idx, int count, int c, bool add,
                       float* __restrict d) {
  for (int p = 0; p < count; ++p) {
    float* __restrict row = d + static_cast<size_t>(p) * c;
    const float offset = static_cast<float>(p);
    const float zero = 0.0f;
    if (add) {
      for (int ch = 0; ch < c; ++ch) {
        const float gv = g[ch];
        row[ch] = row[ch] + (idx[ch] == offset ? gv : zero);
      }
    } else {
      for (int ch = 0; ch < c; ++ch) {
        const float gv = g[ch];
        row[ch] = idx[ch] == offset ? gv : zero;
      }
    }
  }
}

// Windows that neither overlap nor leave gaps nor overhang: output row r (over all windows of all
// samples, samples back to back) reads input rows r * pool .. r * pool + pool - 1.
bool Tiling(const LayerCtx& l, int pad) {
  return l.spec.stride == l.spec.pool && pad == 0 && l.out.length * l.spec.pool == l.in.length;
}

// Max pool of 2 over tiling windows as one flat pass (the common case; no call per window). Same
// result as MaxWindow: the first maximum wins.
void MaxPool2Forward(size_t rows, int c, const float* __restrict x, float* __restrict y, float* __restrict idx) {
  for (size_t r = 0; r < rows; ++r) {
    const float* __restrict a = x + 2 * r * c;
    const float* __restrict b = a + c;
    float* __restrict out = y + r * c;
    float* __restrict i = idx + r * c;
    for (int ch = 0; ch < c; ++ch) {
      const float av = a[ch], bv = b[ch];
      out[ch] = bv > av ? bv : av;
      i[ch] = bv > av ? 1.0f : 0.0f;
    }
  }
}

// With kRelu, `y` is the pool's output over a ReLU: a maximum not above 0 passes nothing (the
// ReLU's backward). Loads are unconditional and the selects plain so that GCC vectorises both forms.
template <bool kRelu>
void MaxPool2Backward(size_t rows, int c, const float* __restrict dy, const float* __restrict idx,
                      const float* __restrict y, float* __restrict dx) {
  const float zero = 0.0f;
  for (size_t r = 0; r < rows; ++r) {
    const float* __restrict g = dy + r * c;
    const float* __restrict i = idx + r * c;
    const float* __restrict yr = kRelu ? y + r * c : g;
    float* __restrict d0 = dx + 2 * r * c;
    float* __restrict d1 = d0 + c;
    for (int ch = 0; ch < c; ++ch) {
      const float gv = g[ch], yv = yr[ch], sel = i[ch];
      const bool pass = kRelu ? yv > 0.0f : true;
      const bool second = sel != 0.0f;
      d0[ch] = (pass & !second) ? gv : zero;
      d1[ch] = (pass & second) ? gv : zero;
    }
  }
}

}  // namespace

size_t PoolScratchSize(const LayerCtx& l, int n) {
  return l.spec.type == LayerType::kMaxPool1D ? static_cast<size_t>(n) * l.out.size() : 0;
}

void PoolForward(const LayerCtx& l, int n, const float* x, float* y, float* argmax) {
  const int len = l.in.length, c = l.in.channels, lo = l.out.length;
  const int pad = PadBefore(len, l.spec.pool, l.spec.stride, 1, l.spec.padding);
  const bool is_max = l.spec.type == LayerType::kMaxPool1D;
  if (is_max && l.spec.pool == 2 && Tiling(l, pad)) {
    MaxPool2Forward(static_cast<size_t>(n) * lo, c, x, y, argmax);
    return;
  }
  for (int s = 0; s < n; ++s) {
    const float* xs = x + static_cast<size_t>(s) * len * c;
    for (int t = 0; t < lo; ++t) {
      const Window w = PoolWindow(l, pad, t);
      const size_t o = (static_cast<size_t>(s) * lo + t) * c;
      float* out = y + o;
      const float* first = xs + static_cast<size_t>(w.begin) * c;
      if (!is_max) {
        for (int ch = 0; ch < c; ++ch) out[ch] = first[ch];
      }
      if (is_max) {
        MaxWindow(first, w.end - w.begin, c, out, argmax + o);
      } else {
        for (int p = w.begin + 1; p < w.end; ++p) {
          const float* in = xs + static_cast<size_t>(p) * c;
          for (int ch = 0; ch < c; ++ch) out[ch] += in[ch];
        }
        const float inv = 1.0f / static_cast<float>(w.end - w.begin);
        for (int ch = 0; ch < c; ++ch) out[ch] *= inv;
      }
    }
  }
}

bool PoolBackward(const LayerCtx& l, int n, const float* dy, float* dx, const float* argmax, const float* relu_y) {
  const int len = l.in.length, c = l.in.channels, lo = l.out.length;
  const int pad = PadBefore(len, l.spec.pool, l.spec.stride, 1, l.spec.padding);
  const bool is_max = l.spec.type == LayerType::kMaxPool1D;
  // Windows that neither overlap nor leave gaps can assign instead of accumulate.
  const bool tiling = Tiling(l, pad);
  if (is_max && l.spec.pool == 2 && tiling) {
    if (relu_y != nullptr) {
      MaxPool2Backward<true>(static_cast<size_t>(n) * lo, c, dy, argmax, relu_y, dx);
    } else {
      MaxPool2Backward<false>(static_cast<size_t>(n) * lo, c, dy, argmax, nullptr, dx);
    }
    return relu_y != nullptr;
  }
  if (!tiling) std::memset(dx, 0, static_cast<size_t>(n) * len * c * sizeof(float));
  for (int s = 0; s < n; ++s) {
    float* dxs = dx + static_cast<size_t>(s) * len * c;
    for (int t = 0; t < lo; ++t) {
      const Window w = PoolWindow(l, pad, t);
      const size_t o = (static_cast<size_t>(s) * lo + t) * c;
      const float* g = dy + o;
      if (is_max) {
        MaxWindowBackward(g, argmax + o, w.end - w.begin, c, !tiling, dxs + static_cast<size_t>(w.begin) * c);
      } else {
        const float inv = 1.0f / static_cast<float>(w.end - w.begin);
        for (int p = w.begin; p < w.end; ++p) {
          float* d = dxs + static_cast<size_t>(p) * c;
          if (tiling) {
            for (int ch = 0; ch < c; ++ch) d[ch] = g[ch] * inv;
          } else {
            for (int ch = 0; ch < c; ++ch) d[ch] += g[ch] * inv;
          }
        }
      }
    }
  }
  return false;
}

void GlobalAveragePoolForward(const LayerCtx& l, int n, const float* x, float* y) {
  const int len = l.in.length, c = l.in.channels;
  const float inv = 1.0f / static_cast<float>(len);
  for (int s = 0; s < n; ++s) {
    const float* xs = x + static_cast<size_t>(s) * len * c;
    float* out = y + static_cast<size_t>(s) * c;
    for (int ch = 0; ch < c; ++ch) out[ch] = 0;
    for (int t = 0; t < len; ++t) {
      for (int ch = 0; ch < c; ++ch) out[ch] += xs[static_cast<size_t>(t) * c + ch];
    }
    for (int ch = 0; ch < c; ++ch) out[ch] *= inv;
  }
}

void GlobalAveragePoolBackward(const LayerCtx& l, int n, const float* dy, float* dx) {
  const int len = l.in.length, c = l.in.channels;
  const float inv = 1.0f / static_cast<float>(len);
  for (int s = 0; s < n; ++s) {
    const float* g = dy + static_cast<size_t>(s) * c;
    float* dxs = dx + static_cast<size_t>(s) * len * c;
    for (int t = 0; t < len; ++t) {
      for (int ch = 0; ch < c; ++ch) dxs[static_cast<size_t>(t) * c + ch] = g[ch] * inv;
    }
  }
}

}  // namespace edgeloop::nn
