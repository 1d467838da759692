// Every GEMM and element-wise kernel this CPU can run against the portable specification, at
// tolerance 0, over random shapes with odd tails, strides, bias, accumulation and clamps.
#include "nn/gemm.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "edgeloop/common/random.h"
#include "nn/layers.h"
#include "nn/vec.h"

namespace edgeloop::nn {
namespace {

std::vector<GemmIsa> AvailableIsas() {
  std::vector<GemmIsa> isas;
  for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (GemmIsaAvailable(isa)) isas.push_back(isa);
  }
  return isas;
}

std::vector<float> Random(Rng& rng, size_t n, float scale = 1.0f) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Normal()) * scale;
  return v;
}

TEST(Gemm, EveryIsaMatchesThePortableKernelBitForBit) {
  if (AvailableIsas().empty()) GTEST_SKIP() << "only the portable kernel on this machine";
  Rng rng(42);
  const int kDims[] = {1, 2, 3, 5, 7, 8, 13, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 100, 129};
  for (int trial = 0; trial < 400; ++trial) {
    const int m = kDims[rng.Below(std::size(kDims))];
    const int n = kDims[rng.Below(std::size(kDims))];
    const int k = trial % 50 == 0 ? 0 : kDims[rng.Below(std::size(kDims))];
    const bool transposed_a = rng.Below(2) == 1;  // A(i, p) with rows or columns contiguous
    const int pad = static_cast<int>(rng.Below(3));
    std::vector<float> a = Random(rng, static_cast<size_t>(m + pad) * (k + pad) + 1);
    std::vector<float> b = Random(rng, static_cast<size_t>(k + 1) * (n + pad) + 1);
    std::vector<float> bias = Random(rng, static_cast<size_t>(n));
    std::vector<float> c0 = Random(rng, static_cast<size_t>(m) * (n + pad) + 1);
    GemmParams g;
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a.data();
    g.a_row = transposed_a ? 1 : k + pad;
    g.a_col = transposed_a ? m + pad : 1;
    g.b = b.data();
    g.ldb = n + pad;
    g.ldc = n + pad;
    g.accumulate = rng.Below(3) == 0;
    g.bias = !g.accumulate && rng.Below(2) ? bias.data() : nullptr;
    switch (rng.Below(4)) {
      case 0: g.lo = 0; break;
      case 1: g.lo = 0, g.hi = 6; break;
      case 2: g.lo = -0.5f, g.hi = 0.25f; break;
      default: break;
    }
    std::vector<float> want = c0;
    g.c = want.data();
    GemmPortable(g);
    for (GemmIsa isa : AvailableIsas()) {
      std::vector<float> got = c0;
      g.c = got.data();
      GemmFor(isa)(g);
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
            << GemmIsaName(isa) << " m=" << m << " n=" << n << " k=" << k << " transposed_a=" << transposed_a
            << " accumulate=" << g.accumulate << " bias=" << (g.bias != nullptr) << " at row " << i / g.ldc
            << " col " << i % g.ldc << ": got " << got[i] << ", want " << want[i];
      }
    }
  }
}

TEST(Gemm, PortableComputesTheProduct) {
  // [2x3] * [3x2] + bias, relu.
  const float a[] = {1, 2, 3, 4, 5, 6};
  const float b[] = {1, -1, 0, 1, 2, -1};
  const float bias[] = {0.5f, -10};
  float c[4];
  GemmParams g;
  g.m = 2, g.n = 2, g.k = 3;
  g.a = a, g.a_row = 3, g.a_col = 1;
  g.b = b, g.ldb = 2;
  g.c = c, g.ldc = 2;
  g.bias = bias;
  g.lo = 0;
  GemmPortable(g);
  EXPECT_FLOAT_EQ(c[0], 1 + 0 + 6 + 0.5f);
  EXPECT_FLOAT_EQ(c[1], 0.0f);  // -1 + 2 - 3 - 10 clamped
  EXPECT_FLOAT_EQ(c[2], 4 + 12 + 0.5f);
  EXPECT_FLOAT_EQ(c[3], 0.0f);
}

TEST(VecKernels, EveryIsaMatchesPortable) {
  Rng rng(7);
  for (GemmIsa isa : AvailableIsas()) {
    const VecKernels& want = VecKernelsFor(static_cast<int>(GemmIsa::kPortable));
    const VecKernels& got = VecKernelsFor(static_cast<int>(isa));
    for (int rows : {1, 7, 8, 9, 33, 1024}) {
      for (int cols : {1, 3, 8, 16, 17, 64}) {
        std::vector<float> w = Random(rng, static_cast<size_t>(rows) * cols);
        std::vector<float> t1(w.size(), -1), t2(w.size(), -1);
        const int r0 = rows / 3, r1 = rows;
        want.transpose(w.data(), rows, cols, r0, r1, t1.data());
        got.transpose(w.data(), rows, cols, r0, r1, t2.data());
        ASSERT_EQ(t1, t2) << GemmIsaName(isa) << " " << rows << "x" << cols;
        for (int r = r0; r < r1; ++r) {
          for (int c = 0; c < cols; ++c) ASSERT_EQ(t1[static_cast<size_t>(c) * rows + r], w[static_cast<size_t>(r) * cols + c]);
        }
      }
    }
    for (int num_grads : {1, 2, 3}) {
      const size_t n = 1000;
      std::vector<float> p = Random(rng, n), m = Random(rng, n, 0.1f), v = Random(rng, n, 0.1f);
      for (float& x : v) x = x * x;
      std::vector<std::vector<float>> g(3, std::vector<float>());
      for (auto& x : g) x = Random(rng, n);
      auto run = [&](const VecKernels& k, std::vector<float> pp, std::vector<float> mm, std::vector<float> vv) {
        std::vector<std::vector<float>> gg = g;
        float* ptrs[3] = {gg[0].data(), gg[1].data(), gg[2].data()};
        AdamArgs a{1e-3f, 0.1f, 0.001f, 1e-7f, pp.data(), mm.data(), vv.data(), ptrs, num_grads};
        k.adam(a, 3, n - 5);
        pp.insert(pp.end(), mm.begin(), mm.end());
        pp.insert(pp.end(), vv.begin(), vv.end());
        return pp;
      };
      ASSERT_EQ(run(want, p, m, v), run(got, p, m, v)) << GemmIsaName(isa) << " grads=" << num_grads;
    }
  }
}

}  // namespace
}  // namespace edgeloop::nn

namespace edgeloop::nn {
namespace {

// DenseBackward computes dx as (W dz^T)^T to avoid a transposed weight copy; that must be the
// same bits as the direct product dz W^T (the same fma chain per element), at every ISA.
TEST(DenseBackward, InputGradientIsTheSameBitsAsDzTimesWTransposed) {
  const int n = 13, in = 37, units = 21;
  LayerSpec spec;
  spec.type = LayerType::kDense;
  spec.units = units;
  spec.activation = Activation::kNone;
  const Shape in_shape{1, in, true}, out_shape{1, units, true};
  ParamLayout layout;
  layout.weights_size = static_cast<size_t>(in) * units;
  layout.weight_rows = in;
  layout.weight_cols = units;
  layout.bias = layout.weights_size;
  layout.bias_size = units;
  const LayerCtx l{spec, in_shape, out_shape, layout};
  Rng rng(77);
  std::vector<float> params(layout.weights_size + units), x(static_cast<size_t>(n) * in),
      dy(static_cast<size_t>(n) * units);
  for (float& v : params) v = static_cast<float>(rng.Normal());
  for (float& v : x) v = static_cast<float>(rng.Normal());
  for (float& v : dy) v = static_cast<float>(rng.Normal());
  std::vector<float> wt(layout.weights_size);
  for (int r = 0; r < in; ++r) {
    for (int c = 0; c < units; ++c) wt[static_cast<size_t>(c) * in + r] = params[static_cast<size_t>(r) * units + c];
  }
  const GemmIsa selected = SelectedGemmIsa();
  for (GemmIsa isa : {GemmIsa::kPortable, GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (!GemmIsaAvailable(isa)) continue;
    SetGemmIsaForTesting(isa);
    std::vector<float> expected(static_cast<size_t>(n) * in), dx(expected.size()), grads(params.size()),
        scratch(DenseScratchSize(l, n)), dy_copy = dy;
    GemmParams g;
    g.m = n;
    g.n = in;
    g.k = units;
    g.a = dy.data();
    g.a_row = units;
    g.b = wt.data();
    g.ldb = in;
    g.c = expected.data();
    g.ldc = in;
    Gemm(g);
    DenseBackward(l, params.data(), n, x.data(), nullptr, dy_copy.data(), true, dx.data(), grads.data(), scratch.data());
    EXPECT_EQ(0, std::memcmp(expected.data(), dx.data(), dx.size() * sizeof(float))) << GemmIsaName(isa);
  }
  SetGemmIsaForTesting(selected);
}

}  // namespace
}  // namespace edgeloop::nn
