#include "edgeloop/nn/train.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "edgeloop/common/random.h"
#include "nn/gemm.h"

namespace edgeloop::nn {
namespace {

// Three classes of noisy sinusoids at different frequencies, channel-interleaved.
struct Toy {
  std::vector<float> x;
  std::vector<int32_t> y;
  Samples samples() const { return {x, y}; }
};

Toy MakeToy(int n, int length, int channels, uint64_t seed, bool random_labels = false) {
  Toy t;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.Below(3));
    const double freq = 0.03 + 0.05 * label, phase = rng.Uniform(0, 6.28);
    for (int s = 0; s < length; ++s) {
      for (int c = 0; c < channels; ++c) {
        t.x.push_back(static_cast<float>(std::sin(6.2832 * freq * s + phase + c) + rng.Normal(0, 0.3) + 2.0));
      }
    }
    t.y.push_back(random_labels ? static_cast<int32_t>(rng.Below(3)) : label);
  }
  return t;
}

Model MakeModel(const ModelSpec& spec, const Toy& train) {
  auto m = Model::Create(spec, 3, 17);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> mean, stdv;
  FitNormalization(train.x, spec.length, spec.channels, &mean, &stdv);
  EXPECT_TRUE(m->SetNormalization(mean, stdv).ok());
  return std::move(*m);
}

// A model with every layer type, so reproducibility covers all of them.
ModelSpec EveryLayerSpec() {
  ModelSpec s = DefaultModelSpec(32, 3);
  LayerSpec conv = s.layers[0];
  conv.activation = Activation::kNone;
  LayerSpec bn;
  bn.type = LayerType::kBatchNorm;
  LayerSpec relu6;
  relu6.type = LayerType::kReLU6;
  LayerSpec avg;
  avg.type = LayerType::kAveragePool1D;
  avg.pool = 2;
  LayerSpec conv2 = s.layers[2];
  conv2.stride = 2;
  conv2.dilation = 1;
  LayerSpec gap;
  gap.type = LayerType::kGlobalAveragePool1D;
  LayerSpec dense = s.layers[5];
  dense.units = 16;
  dense.activation = Activation::kNone;
  LayerSpec relu;
  relu.type = LayerType::kReLU;
  LayerSpec drop = s.layers[6];
  LayerSpec out;
  out.type = LayerType::kDense;
  out.units = 3;
  LayerSpec softmax;
  softmax.type = LayerType::kSoftmax;
  s.layers = {conv, bn, relu6, avg, conv2, s.layers[1], gap, dense, bn, relu, drop, out, softmax};
  return s;
}

TEST(Train, LearnsAndReportsEveryEpoch) {
  Toy train = MakeToy(600, 32, 1, 1), val = MakeToy(200, 32, 1, 2);
  Model m = MakeModel(DefaultModelSpec(32, 1), train);
  TrainOptions o;
  o.epochs = 8;
  o.threads = 2;
  auto h = Train(&m, train.samples(), val.samples(), o);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->epochs.size(), 8u);
  EXPECT_LT(h->epochs.back().loss, h->epochs.front().loss);
  EXPECT_GT(h->epochs[h->best_epoch - 1].val_accuracy, 0.95);
  for (const EpochStats& e : h->epochs) EXPECT_GT(e.seconds, 0);
  // The held weights' validation predictions are what Predict says.
  std::vector<float> probs(val.y.size() * 3);
  ASSERT_TRUE(m.Predict(val.x, probs, 1).ok());
  ASSERT_EQ(h->val_probabilities.size(), probs.size());
  for (size_t i = 0; i < probs.size(); ++i) ASSERT_EQ(probs[i], h->val_probabilities[i]) << i;
}

std::vector<float> TrainedParams(const ModelSpec& spec, int threads, TrainHistory* history = nullptr) {
  Toy train = MakeToy(300, 32, spec.channels, 3), val = MakeToy(64, 32, spec.channels, 4);
  Model m = MakeModel(spec, train);
  TrainOptions o;
  o.epochs = 2;
  o.threads = threads;
  o.seed = 9;
  o.batch_size = 40;  // 3 shards of 16, 16, 8
  auto h = Train(&m, train.samples(), val.samples(), o);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (history != nullptr) *history = *h;
  std::vector<float> out(m.parameters().begin(), m.parameters().end());
  out.insert(out.end(), m.state().begin(), m.state().end());
  return out;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Train, SameSeedSameBitsForAnyThreadCount) {
  const ModelSpec spec = EveryLayerSpec();
  TrainHistory h1, h3;
  const std::vector<float> one = TrainedParams(spec, 1, &h1);
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 1)));
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 2)));
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 3, &h3)));
  EXPECT_EQ(h1.epochs[1].loss, h3.epochs[1].loss);
  EXPECT_EQ(h1.epochs[1].val_loss, h3.epochs[1].val_loss);
  // Another seed trains differently.
  Toy train = MakeToy(300, 32, 3, 3);
  Model m = MakeModel(spec, train);
  TrainOptions o;
  o.epochs = 2;
  o.seed = 10;
  o.batch_size = 40;
  ASSERT_TRUE(Train(&m, train.samples(), {}, o).ok());
  std::vector<float> other(m.parameters().begin(), m.parameters().end());
  other.insert(other.end(), m.state().begin(), m.state().end());
  EXPECT_FALSE(SameBits(one, other));
}

// Without batch norm every thread keeps its own parameter copy and applies the whole update
// (train.cc); the copies must stay bit-identical to the single-threaded run, including with
// three gradient buffers per step (batch 40 = shards of 16, 16, 8) and more threads than shards.
TEST(Train, SameBitsForAnyThreadCountWithReplicatedParameters) {
  const ModelSpec spec = DefaultModelSpec(32, 1);
  TrainHistory h1, h2;
  const std::vector<float> one = TrainedParams(spec, 1, &h1);
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 2, &h2)));
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 3)));
  EXPECT_TRUE(SameBits(one, TrainedParams(spec, 5)));
  EXPECT_EQ(h1.epochs[1].loss, h2.epochs[1].loss);
  EXPECT_EQ(h1.epochs[1].val_loss, h2.epochs[1].val_loss);
}

TEST(Train, SameBitsWithEveryKernelIsa) {
  // Every layer type, and the default model (tiled max pooling, replicated parameters).
  for (const ModelSpec& spec : {EveryLayerSpec(), DefaultModelSpec(32, 1)}) {
    const GemmIsa selected = SelectedGemmIsa();
    SetGemmIsaForTesting(GemmIsa::kPortable);
    const std::vector<float> portable = TrainedParams(spec, 2);
    for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
      if (!GemmIsaAvailable(isa)) continue;
      SetGemmIsaForTesting(isa);
      EXPECT_TRUE(SameBits(portable, TrainedParams(spec, 2))) << GemmIsaName(isa) << " " << spec.layers.size();
    }
    SetGemmIsaForTesting(selected);
  }
}

TEST(Train, EarlyStoppingRestoresTheBestEpoch) {
  // Labels that are noise: the model can only overfit, so the validation loss soon rises.
  Toy train = MakeToy(200, 32, 1, 5, true), val = MakeToy(200, 32, 1, 6, true);
  Model m = MakeModel(DefaultModelSpec(32, 1), train);
  TrainOptions o;
  o.epochs = 60;
  o.patience = 3;
  o.learning_rate = 3e-3;
  auto h = Train(&m, train.samples(), val.samples(), o);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->early_stopped);
  EXPECT_LT(h->epochs.size(), 60u);
  EXPECT_EQ(static_cast<int>(h->epochs.size()), h->best_epoch + 3);
  EXPECT_EQ(h->weights_epoch, h->best_epoch);
  for (const EpochStats& e : h->epochs) EXPECT_GE(e.val_loss, h->epochs[h->best_epoch - 1].val_loss);
  // The model holds the best epoch's weights: its validation loss is that epoch's.
  std::vector<float> probs(val.y.size() * 3);
  ASSERT_TRUE(m.Predict(val.x, probs).ok());
  double loss = 0;
  for (size_t i = 0; i < val.y.size(); ++i) loss -= std::log(probs[i * 3 + val.y[i]]);
  EXPECT_NEAR(loss / val.y.size(), h->epochs[h->best_epoch - 1].val_loss, 1e-4);
}

class StopAfter : public TrainObserver {
 public:
  explicit StopAfter(int epochs) : epochs_(epochs) {}
  void OnStep(int step, int steps, double, double) override {
    EXPECT_LE(step, steps);
    ++steps_seen;
  }
  bool OnEpochEnd(const EpochStats& s) override { return s.epoch < epochs_; }
  int steps_seen = 0;

 private:
  int epochs_;
};

TEST(Train, ObserverSeesStepsAndCanStop) {
  Toy train = MakeToy(100, 16, 1, 7);
  Model m = MakeModel(DefaultModelSpec(16, 1), train);
  StopAfter stop(2);
  TrainOptions o;
  o.epochs = 10;
  auto h = Train(&m, train.samples(), {}, o, &stop);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->epochs.size(), 2u);
  EXPECT_TRUE(h->stopped_by_observer);
  EXPECT_EQ(stop.steps_seen, 2 * 4);  // 100 windows in batches of 32
  EXPECT_TRUE(std::isnan(h->epochs[0].val_loss));
}

TEST(Train, RejectsBadInput) {
  Toy train = MakeToy(50, 16, 1, 8);
  Model m = MakeModel(DefaultModelSpec(16, 1), train);
  TrainOptions o;
  o.epochs = 0;
  EXPECT_FALSE(Train(&m, train.samples(), {}, o).ok());
  o = TrainOptions();
  o.class_weights = {1, 2};
  EXPECT_NE(Train(&m, train.samples(), {}, o).status().message().find("2 given for 3 classes"), std::string::npos);
  o = TrainOptions();
  Toy bad = train;
  bad.y[7] = 3;
  EXPECT_NE(Train(&m, bad.samples(), {}, o).status().message().find("window 7 has label 3"), std::string::npos);
  bad = train;
  bad.x.pop_back();
  EXPECT_FALSE(Train(&m, bad.samples(), {}, o).ok());
  EXPECT_FALSE(Train(&m, {}, {}, o).ok());
}

TEST(Train, BalancedClassWeights) {
  const std::vector<int32_t> y = {0, 0, 0, 1};
  EXPECT_EQ(BalancedClassWeights(y, 3), (std::vector<float>{4.0f / 6, 2.0f, 0.0f}));
}

}  // namespace
}  // namespace edgeloop::nn
