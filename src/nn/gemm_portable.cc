// The specification GEMM: plain loops, one std::fma chain per element (see gemm.h).
#include <cmath>

#include "nn/gemm.h"

namespace edgeloop::nn {

void GemmPortable(const GemmParams& g) {
  for (int i = 0; i < g.m; ++i) {
    float* c = g.c + i * g.ldc;
    if (!g.accumulate) {
      for (int j = 0; j < g.n; ++j) c[j] = 0.0f;
    }
    const float* a = g.a + i * g.a_row;
    // p outer, j inner: each c[j] still sees its products in p order.
    for (int p = 0; p < g.k; ++p) {
      const float av = a[p * g.a_col];
      const float* b = g.b + p * g.ldb;
      for (int j = 0; j < g.n; ++j) c[j] = std::fma(av, b[j], c[j]);
    }
    for (int j = 0; j < g.n; ++j) {
      float v = c[j];
      if (g.bias != nullptr) v = v + g.bias[j];
      v = v > g.lo ? v : g.lo;
      v = v < g.hi ? v : g.hi;
      c[j] = v;
    }
  }
}

}  // namespace edgeloop::nn
