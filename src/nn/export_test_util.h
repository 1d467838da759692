// Internal to src/nn tests: small trained models with every layer type, for the export tests.
#ifndef EDGELOOP_SRC_NN_EXPORT_TEST_UTIL_H_
#define EDGELOOP_SRC_NN_EXPORT_TEST_UTIL_H_

#include <cmath>
#include <string>
#include <vector>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/random.h"
#include "edgeloop/nn/export.h"
#include "edgeloop/nn/train.h"

namespace edgeloop::nn::testing {

struct Windows {
  std::vector<float> x;
  std::vector<int32_t> y;
};

// Three classes of noisy sinusoids at different frequencies around an offset, so that the
// normalisation matters.
inline Windows MakeWindows(int n, int length, int channels, uint64_t seed) {
  Windows w;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.Below(3));
    const double freq = 0.03 + 0.05 * label, phase = rng.Uniform(0, 6.28);
    for (int s = 0; s < length; ++s) {
      for (int c = 0; c < channels; ++c) {
        w.x.push_back(static_cast<float>(3.0 * std::sin(6.2832 * freq * s + phase + c) + rng.Normal(0, 0.5) + 5.0 + c));
      }
    }
    w.y.push_back(label);
  }
  return w;
}

inline LayerSpec Layer(LayerType type) {
  LayerSpec l;
  l.type = type;
  return l;
}

inline LayerSpec Conv(int filters, int kernel, Activation act, Padding pad, int stride = 1, int dilation = 1) {
  LayerSpec l = Layer(LayerType::kConv1D);
  l.filters = filters;
  l.kernel = kernel;
  l.activation = act;
  l.padding = pad;
  l.stride = stride;
  l.dilation = dilation;
  return l;
}

inline LayerSpec Pool(LayerType type, int pool, Padding pad, int stride = 0) {
  LayerSpec l = Layer(type);
  l.pool = pool;
  l.padding = pad;
  l.stride = stride;
  return l;
}

inline LayerSpec Dense(int units, Activation act) {
  LayerSpec l = Layer(LayerType::kDense);
  l.units = units;
  l.activation = act;
  return l;
}

// Named architectures covering every layer, padding, stride, dilation and fusion case.
struct NamedSpec {
  std::string name;
  ModelSpec spec;
};

inline std::vector<NamedSpec> ExportSpecs() {
  std::vector<NamedSpec> out;
  out.push_back({"reference", DefaultModelSpec(64, 1)});
  out.push_back({"reference_3ch", DefaultModelSpec(48, 3)});
  {
    // conv (valid, dilation 2, no bias) + batchnorm + relu6 layer; same-padded average pool with
    // an odd window; strided same conv; valid max pool; global average pool; dense + batchnorm +
    // dropout + relu; softmax as a layer.
    ModelSpec s;
    s.length = 50;
    s.channels = 3;
    LayerSpec c1 = Conv(8, 3, Activation::kNone, Padding::kValid, 1, 2);
    c1.use_bias = false;
    LayerSpec drop = Layer(LayerType::kDropout);
    drop.rate = 0.2f;
    s.layers = {c1,
                Layer(LayerType::kBatchNorm),
                Layer(LayerType::kReLU6),
                Pool(LayerType::kAveragePool1D, 3, Padding::kSame, 2),
                Conv(12, 5, Activation::kReLU, Padding::kSame, 2),
                Pool(LayerType::kMaxPool1D, 2, Padding::kValid),
                Layer(LayerType::kGlobalAveragePool1D),
                Dense(16, Activation::kNone),
                Layer(LayerType::kBatchNorm),
                drop,
                Layer(LayerType::kReLU),
                Dense(3, Activation::kNone),
                Layer(LayerType::kSoftmax)};
    out.push_back({"every_layer", s});
  }
  {
    // relu6 fused activation, a standalone relu after a pool (a RELU op), same max pool with a
    // remainder, flatten after a conv.
    ModelSpec s;
    s.length = 33;
    s.channels = 1;
    s.layers = {Conv(6, 4, Activation::kReLU6, Padding::kSame),
                Pool(LayerType::kMaxPool1D, 2, Padding::kSame),
                Layer(LayerType::kReLU),
                Conv(4, 3, Activation::kNone, Padding::kValid),
                Layer(LayerType::kFlatten),
                Dense(3, Activation::kSoftmax)};
    out.push_back({"fusions", s});
  }
  return out;
}

// Creates, normalises and trains (two short epochs, so batch-norm statistics and weights are
// far from their initial values) a model for `spec` on `data`.
inline Result<Model> TrainedModel(const ModelSpec& spec, const Windows& data) {
  EL_ASSIGN_OR_RETURN(Model m, Model::Create(spec, 3, 5));
  std::vector<float> mean, stdv;
  FitNormalization(data.x, spec.length, spec.channels, &mean, &stdv);
  EL_RETURN_IF_ERROR(m.SetNormalization(mean, stdv));
  TrainOptions o;
  o.epochs = 2;
  o.threads = 1;
  o.learning_rate = 3e-3;
  EL_ASSIGN_OR_RETURN(TrainHistory h, Train(&m, Samples{data.x, data.y}, Samples{}, o));
  (void)h;
  return m;
}

inline std::string MetadataFor(const Model& m) {
  classifier::ModelMetadata meta;
  meta.labels = {"normal", "warning", "failure"};
  meta.length = m.input_length();
  meta.channels = m.input_channels();
  meta.mean = m.norm_mean();
  meta.std = m.norm_std();
  meta.created = "2026-11-24T00:00:00Z";
  return classifier::MetadataToJson(meta);
}

}  // namespace edgeloop::nn::testing

#endif  // EDGELOOP_SRC_NN_EXPORT_TEST_UTIL_H_
