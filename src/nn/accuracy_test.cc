// The acceptance figures of the default (reference) model on the synthetic data sets, through the
// same path `edgeloop train` takes: stratified 80/20 split, normalisation fitted on the training
// part, default options (Adam 1e-3, batch 32, early stopping with patience 5), then export and
// the validation accuracy again through our runtime. Slow: full training runs.
#include <gtest/gtest.h>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/data/generate.h"
#include "edgeloop/nn/export.h"
#include "edgeloop/nn/train.h"
#include "nn/export_test_util.h"

namespace edgeloop::nn {
namespace {

struct Outcome {
  double val_accuracy = 0;      // the trainer's, for the held weights
  double runtime_accuracy = 0;  // the exported model's through classifier::Classifier
  int epochs = 0;
};

Outcome TrainDefault(const data::Dataset& all, int max_epochs) {
  Outcome out;
  Result<data::Split> split = data::StratifiedSplit(all, 0.2, 1);
  EXPECT_TRUE(split.ok());
  const data::Dataset& train = split->train;
  const data::Dataset& val = split->validation;
  Result<Model> m = Model::Create(DefaultModelSpec(all.length, all.channels), static_cast<int>(all.labels.size()), 1);
  EXPECT_TRUE(m.ok());
  std::vector<float> mean, stdv;
  FitNormalization(train.x, train.length, train.channels, &mean, &stdv);
  EXPECT_TRUE(m->SetNormalization(mean, stdv).ok());
  TrainOptions o;
  o.epochs = max_epochs;
  o.seed = 1;
  Result<TrainHistory> h = Train(&*m, Samples{train.x, train.y}, Samples{val.x, val.y}, o);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (!h.ok()) return out;
  out.epochs = static_cast<int>(h->epochs.size());
  out.val_accuracy = h->epochs[static_cast<size_t>(h->weights_epoch - 1)].val_accuracy;
  ExportOptions eo;
  eo.metadata_json = testing::MetadataFor(*m);
  Result<std::vector<uint8_t>> bytes = ExportModel(*m, eo);
  EXPECT_TRUE(bytes.ok());
  Result<std::unique_ptr<classifier::Classifier>> c = classifier::Classifier::Load(*bytes);
  EXPECT_TRUE(c.ok());
  Result<std::vector<classifier::Prediction>> p = (*c)->ClassifyBatch(val.x);
  EXPECT_TRUE(p.ok());
  size_t correct = 0;
  for (size_t i = 0; i < val.size(); ++i) correct += (*p)[i].index == val.y[i];
  out.runtime_accuracy = static_cast<double>(correct) / static_cast<double>(val.size());
  return out;
}

TEST(Accuracy, GaussianWindowsReach99Percent) {
  data::GaussianOptions g;
  g.samples = 10000;
  g.seed = 7;
  Result<data::Dataset> d = data::GenerateGaussian(g);
  ASSERT_TRUE(d.ok());
  const Outcome o = TrainDefault(*d, 50);
  RecordProperty("val_accuracy", std::to_string(o.val_accuracy));
  EXPECT_GE(o.val_accuracy, 0.99) << "after " << o.epochs << " epochs";
  EXPECT_NEAR(o.runtime_accuracy, o.val_accuracy, 0.001);  // a near-tie may flip one window
}

// At the generator's default settings (severity 1.0; the classes are not separable by a window's
// mean or standard deviation, see data/generate_test.cc).
TEST(Accuracy, WaveformWindowsReach95Percent) {
  data::WaveformOptions w;
  w.samples = 10000;
  w.seed = 7;
  Result<data::Dataset> d = data::GenerateWaveform(w);
  ASSERT_TRUE(d.ok());
  const Outcome o = TrainDefault(*d, 50);
  RecordProperty("val_accuracy", std::to_string(o.val_accuracy));
  EXPECT_GE(o.val_accuracy, 0.95) << "after " << o.epochs << " epochs";
  EXPECT_NEAR(o.runtime_accuracy, o.val_accuracy, 0.001);  // a near-tie may flip one window
}

}  // namespace
}  // namespace edgeloop::nn
