#include "quant/logit_shift.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <variant>

#include "quant/graph_edit.h"

namespace edgeloop::quant {

using tflite::BuiltinOp;
using tflite::Graph;
using tflite::TensorType;

namespace {

// Solves A x = b (A symmetric positive definite, n x n row-major) by Gaussian elimination with
// partial pivoting; false if singular.
bool Solve(std::vector<double> a, std::vector<double> b, size_t n, std::vector<double>* x) {
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r) {
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    }
    if (!(std::abs(a[pivot * n + col]) > 1e-300)) return false;
    if (pivot != col) {
      for (size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
      std::swap(b[col], b[pivot]);
    }
    for (size_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / a[col * n + col];
      if (f == 0) continue;
      for (size_t k = col; k < n; ++k) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  x->assign(n, 0.0);
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[i * n + k] * (*x)[k];
    (*x)[i] = s / a[i * n + i];
  }
  return true;
}

// Mean of the two largest of z[0..k).
double TopTwoMean(const float* z, size_t k) {
  float a = -std::numeric_limits<float>::infinity(), b = a;
  for (size_t c = 0; c < k; ++c) {
    if (z[c] > a) {
      b = a;
      a = z[c];
    } else if (z[c] > b) {
      b = z[c];
    }
  }
  return 0.5 * (static_cast<double>(a) + static_cast<double>(b));
}

// The range the rows' leading-two means (`target`) span once each row is moved by -shift[row].
std::pair<double, double> MeanSpan(const std::vector<double>& target, const std::vector<double>& shift) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t r = 0; r < target.size(); ++r) {
    lo = std::min(lo, target[r] - shift[r]);
    hi = std::max(hi, target[r] - shift[r]);
  }
  return {lo, hi};
}

}  // namespace

std::vector<LogitLayer> FindLogitLayers(const Graph& g) {
  const std::vector<std::vector<int>> consumers = TensorConsumers(g);
  const std::vector<int> producers = TensorProducers(g);
  std::vector<LogitLayer> out;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    const tflite::Operator& op = g.operators[i];
    if (op.op != BuiltinOp::kFullyConnected || op.inputs.size() < 3 || op.outputs.size() != 1) continue;
    const auto* fo = std::get_if<tflite::FullyConnectedOptions>(&op.options);
    if (fo != nullptr && fo->activation != tflite::Activation::kNone) continue;
    const int32_t x = op.inputs[0], w = op.inputs[1], b = op.inputs[2], z = op.outputs[0];
    if (x < 0 || w < 0 || b < 0 || z < 0 || producers[x] < 0 || IsGraphOutput(g, z)) continue;
    if (consumers[z].size() != 1 || g.operators[consumers[z][0]].op != BuiltinOp::kSoftmax) continue;
    const tflite::Tensor& wt = g.tensors[w];
    const tflite::Tensor& bt = g.tensors[b];
    if (wt.type != TensorType::kFloat32 || bt.type != TensorType::kFloat32 || !wt.is_constant() || !bt.is_constant() ||
        wt.shape.size() != 2 || wt.shape[0] < 2 || bt.shape.size() != 1 || bt.shape[0] != wt.shape[0]) {
      continue;
    }
    if (g.tensors[z].shape.empty() || g.tensors[z].shape.back() != wt.shape[0]) continue;
    out.push_back({static_cast<int>(i), x, z});
  }
  return out;
}

std::vector<int32_t> ShiftLogits(Graph* g, const std::vector<LogitLayer>& layers, const std::map<int32_t, std::vector<float>>& kept,
                std::vector<std::string>* notes) {
  std::vector<int32_t> shifted;
  for (const LogitLayer& l : layers) {
    const tflite::Operator& op = g->operators[l.op];
    tflite::Tensor& wt = g->tensors[op.inputs[1]];
    tflite::Tensor& bt = g->tensors[op.inputs[2]];
    const size_t k = static_cast<size_t>(wt.shape[0]), d = static_cast<size_t>(wt.shape[1]);
    const auto xs = kept.find(l.input);
    const auto zs = kept.find(l.output);
    const std::string label = tflite::OperatorLabel(*g, l.op);
    if (xs == kept.end() || zs == kept.end() || xs->second.size() % d != 0 || zs->second.size() % k != 0 ||
        xs->second.size() / d != zs->second.size() / k || xs->second.size() / d < 2) {
      notes->push_back(label + ": logits not shifted (calibration values do not fit its shapes)");
      continue;
    }
    const size_t rows = xs->second.size() / d;
    const std::vector<float>& x = xs->second;
    const std::vector<float>& z = zs->second;
    // Centred ridge regression of each row's top-two mean on the layer's input.
    std::vector<double> mean_x(d, 0.0), target(rows);
    double mean_t = 0;
    for (size_t r = 0; r < rows; ++r) {
      target[r] = TopTwoMean(&z[r * k], k);
      mean_t += target[r];
      for (size_t j = 0; j < d; ++j) mean_x[j] += x[r * d + j];
    }
    mean_t /= static_cast<double>(rows);
    for (double& m : mean_x) m /= static_cast<double>(rows);
    std::vector<double> a(d * d, 0.0), rhs(d, 0.0), xc(d);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < d; ++j) xc[j] = x[r * d + j] - mean_x[j];
      const double t = target[r] - mean_t;
      for (size_t i = 0; i < d; ++i) {
        if (xc[i] == 0) continue;
        rhs[i] += xc[i] * t;
        for (size_t j = 0; j < d; ++j) a[i * d + j] += xc[i] * xc[j];
      }
    }
    double trace = 0;
    for (size_t i = 0; i < d; ++i) trace += a[i * d + i];
    const double ridge = 1e-3 * std::max(trace / static_cast<double>(d), 1e-12);
    for (size_t i = 0; i < d; ++i) a[i * d + i] += ridge;
    std::vector<double> u;
    if (!Solve(a, rhs, d, &u)) {
      notes->push_back(label + ": logits not shifted (the fit is singular)");
      continue;
    }
    double c = mean_t;
    for (size_t j = 0; j < d; ++j) c -= u[j] * mean_x[j];
    std::vector<double> none(rows, 0.0), shift(rows);
    for (size_t r = 0; r < rows; ++r) {
      double s = c;
      for (size_t j = 0; j < d; ++j) s += u[j] * x[r * d + j];
      shift[r] = s;
    }
    const auto before = MeanSpan(target, none);
    const auto after = MeanSpan(target, shift);
    char buf[240];
    if (!(after.second - after.first < before.second - before.first)) {
      std::snprintf(buf, sizeof(buf), "%s: logits not shifted (the rows' leading-two means span [%.3g, %.3g], shifted [%.3g, %.3g])",
                    label.c_str(), before.first, before.second, after.first, after.second);
      notes->push_back(buf);
      continue;
    }
    std::vector<float> w = FloatData(wt), b = FloatData(bt);
    for (size_t cls = 0; cls < k; ++cls) {
      for (size_t j = 0; j < d; ++j) w[cls * d + j] = static_cast<float>(w[cls * d + j] - u[j]);
      b[cls] = static_cast<float>(b[cls] - c);
    }
    SetData(&wt, w);
    SetData(&bt, b);
    shifted.push_back(l.output);
    std::snprintf(buf, sizeof(buf),
                  "%s: logits shifted by a term common to all classes (softmax unchanged), fitted on %zu calibration "
                  "windows: the rows' leading-two means span [%.3g, %.3g] instead of [%.3g, %.3g]",
                  label.c_str(), rows, after.first, after.second, before.first, before.second);
    notes->push_back(buf);
  }
  return shifted;
}

}  // namespace edgeloop::quant
