#include "edgeloop/nn/model.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "edgeloop/common/random.h"
#include "nn/network.h"
#include "nn/thread_team.h"

namespace edgeloop::nn {

Result<Model> Model::Create(ModelSpec spec, int num_classes, uint64_t seed) {
  EL_ASSIGN_OR_RETURN(std::vector<Shape> shapes, ResolveSpec(&spec, num_classes));
  Model m;
  m.spec_ = std::move(spec);
  m.shapes_ = std::move(shapes);
  m.num_classes_ = num_classes;
  size_t params = 0, state = 0;
  Shape in{m.spec_.length, m.spec_.channels, false};
  for (size_t i = 0; i < m.spec_.layers.size(); ++i) {
    const LayerSpec& l = m.spec_.layers[i];
    ParamLayout p;
    if (l.type == LayerType::kConv1D || l.type == LayerType::kDense) {
      p.weight_rows = l.type == LayerType::kConv1D ? l.kernel * in.channels : in.size();
      p.weight_cols = l.type == LayerType::kConv1D ? l.filters : l.units;
      p.weights = params;
      p.weights_size = static_cast<size_t>(p.weight_rows) * p.weight_cols;
      params += p.weights_size;
      if (l.use_bias) {
        p.bias = params;
        p.bias_size = static_cast<size_t>(p.weight_cols);
        params += p.bias_size;
      }
    } else if (l.type == LayerType::kBatchNorm) {
      const size_t c = static_cast<size_t>(in.channels);
      p.norm_size = c;
      p.gamma = params;
      p.beta = params + c;
      params += 2 * c;
      p.moving_mean = state;
      p.moving_variance = state + c;
      state += 2 * c;
    }
    m.layouts_.push_back(p);
    in = m.shapes_[i];
  }
  m.params_.assign(params, 0.0f);
  m.state_.assign(state, 0.0f);
  // Keras' initialisers: Glorot-uniform weights, zero bias, gamma 1, beta 0, moving var 1.
  Rng rng(DeriveSeed(seed, 0x1417));
  in = Shape{m.spec_.length, m.spec_.channels, false};
  for (size_t i = 0; i < m.spec_.layers.size(); ++i) {
    const LayerSpec& l = m.spec_.layers[i];
    const ParamLayout& p = m.layouts_[i];
    if (p.weights_size > 0) {
      const double receptive = l.type == LayerType::kConv1D ? l.kernel : 1;
      const double fan_in = l.type == LayerType::kConv1D ? receptive * in.channels : in.size();
      const double fan_out = l.type == LayerType::kConv1D ? receptive * l.filters : l.units;
      const double limit = std::sqrt(6.0 / (fan_in + fan_out));
      for (size_t k = 0; k < p.weights_size; ++k) {
        m.params_[p.weights + k] = static_cast<float>(rng.Uniform(-limit, limit));
      }
    }
    if (p.norm_size > 0) {
      for (size_t c = 0; c < p.norm_size; ++c) {
        m.params_[p.gamma + c] = 1.0f;
        m.state_[p.moving_variance + c] = 1.0f;
      }
    }
    in = m.shapes_[i];
  }
  return m;
}

std::span<const float> Model::weights(int layer) const {
  const ParamLayout& p = layouts_.at(static_cast<size_t>(layer));
  return std::span<const float>(params_).subspan(p.weights, p.weights_size);
}

std::span<const float> Model::bias(int layer) const {
  const ParamLayout& p = layouts_.at(static_cast<size_t>(layer));
  return std::span<const float>(params_).subspan(p.bias, p.bias_size);
}

Status Model::SetNormalization(std::vector<float> mean, std::vector<float> std) {
  if (mean.empty() && std.empty()) {
    norm_mean_.clear();
    norm_std_.clear();
    return Status::Ok();
  }
  const size_t c = static_cast<size_t>(spec_.channels);
  if (mean.size() != c || std.size() != c) {
    return Status::InvalidArgument("normalization: need one mean and one std per channel (" + std::to_string(c) + ")");
  }
  for (size_t i = 0; i < c; ++i) {
    if (!std::isfinite(mean[i]) || !(std[i] > 0) || !std::isfinite(std[i])) {
      return Status::InvalidArgument("normalization: channel " + std::to_string(i) + ": mean must be finite, std > 0");
    }
  }
  norm_mean_ = std::move(mean);
  norm_std_ = std::move(std);
  return Status::Ok();
}

Status Model::Predict(std::span<const float> windows, std::span<float> probs, int threads) const {
  const size_t w = input_size();
  if (w == 0 || windows.size() % w != 0) {
    return Status::InvalidArgument("predict: " + std::to_string(windows.size()) + " readings is not a whole number of " +
                                   std::to_string(w) + "-reading windows");
  }
  const size_t n = windows.size() / w;
  if (probs.size() != n * static_cast<size_t>(num_classes_)) {
    return Status::InvalidArgument("predict: output has room for " + std::to_string(probs.size()) + " values, need " +
                                   std::to_string(n * num_classes_));
  }
  if (n == 0) return Status::Ok();
  constexpr int kBlock = 32;
  const size_t blocks = (n + kBlock - 1) / kBlock;
  int t = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  t = static_cast<int>(std::min<size_t>(static_cast<size_t>(t), blocks));
  ThreadTeam team(t);
  std::vector<Workspace> ws(static_cast<size_t>(t));
  team.Run([&](int id) {
    Workspace& mine = ws[static_cast<size_t>(id)];
    InitWorkspace(*this, kBlock, &mine);
    for (size_t b = static_cast<size_t>(id); b < blocks; b += static_cast<size_t>(t)) {
      const size_t first = b * kBlock;
      const int rows = static_cast<int>(std::min<size_t>(kBlock, n - first));
      GatherInput(*this, windows.data(), nullptr, first, rows, &mine);
      Forward(*this, params_.data(), state_.data(), &mine, rows, false, nullptr);
      const float* p = Probabilities(*this, mine);
      std::copy(p, p + static_cast<size_t>(rows) * num_classes_, probs.data() + first * num_classes_);
    }
  });
  return Status::Ok();
}

void FitNormalization(std::span<const float> windows, int length, int channels, std::vector<float>* mean,
                      std::vector<float>* std) {
  const size_t c = static_cast<size_t>(channels);
  mean->assign(c, 0.0f);
  std->assign(c, 1.0f);
  (void)length;
  const size_t count = windows.size() / c;
  if (count == 0) return;
  for (size_t ch = 0; ch < c; ++ch) {
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += windows[i * c + ch];
    const double m = sum / static_cast<double>(count);
    double sq = 0;
    for (size_t i = 0; i < count; ++i) {
      const double d = windows[i * c + ch] - m;
      sq += d * d;
    }
    const double s = std::sqrt(sq / static_cast<double>(count));
    (*mean)[ch] = static_cast<float>(m);
    (*std)[ch] = s > 1e-12 ? static_cast<float>(s) : 1.0f;
  }
}

}  // namespace edgeloop::nn
