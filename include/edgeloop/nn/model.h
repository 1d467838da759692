// Model: a sequential 1-D network (a resolved ModelSpec) with its float parameters, batch-norm
// statistics and the input normalisation fitted on the training data. Trained by nn::Train,
// exported by nn::ExportGraph, evaluated here with Predict.
//
// Parameter layout (all in one flat vector, layer by layer):
//   conv1d    weights [kernel * in_channels, filters] (row = k * in_channels + c), bias [filters]
//   dense     weights [in, units] (Keras' layout), bias [units]
//   batchnorm gamma [C], beta [C]; moving mean / variance [C] each in state()
// Initialisation as Keras: Glorot-uniform weights (conv fans: kernel * channels), zero biases,
// gamma 1, beta 0, moving mean 0, moving variance 1.
// Thread-safety: const methods may run concurrently; nothing else.
#ifndef EDGELOOP_NN_MODEL_H_
#define EDGELOOP_NN_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/nn/spec.h"

namespace edgeloop::nn {

// Where a layer's tensors live: offsets into parameters() / state(), sizes in floats (0 = none).
struct ParamLayout {
  size_t weights = 0, weights_size = 0;
  int weight_rows = 0, weight_cols = 0;  // weights as a row-major [rows, cols] matrix
  size_t bias = 0, bias_size = 0;
  size_t gamma = 0, beta = 0, norm_size = 0;            // batchnorm, in parameters()
  size_t moving_mean = 0, moving_variance = 0;          // batchnorm, in state()
};

class Model {
 public:
  // Resolves `spec` for `num_classes` (see ResolveSpec) and initialises the parameters from
  // `seed`. Errors: InvalidArgument from ResolveSpec.
  static Result<Model> Create(ModelSpec spec, int num_classes, uint64_t seed);

  const ModelSpec& spec() const { return spec_; }           // resolved (defaults filled in)
  const std::vector<Shape>& shapes() const { return shapes_; }  // output of each layer
  const std::vector<ParamLayout>& layouts() const { return layouts_; }
  int num_classes() const { return num_classes_; }
  int input_length() const { return spec_.length; }
  int input_channels() const { return spec_.channels; }
  size_t input_size() const { return static_cast<size_t>(spec_.length) * static_cast<size_t>(spec_.channels); }

  std::span<const float> parameters() const { return params_; }  // trainable
  std::span<float> mutable_parameters() { return params_; }
  std::span<const float> state() const { return state_; }  // batch-norm moving statistics
  std::span<float> mutable_state() { return state_; }
  // A layer's tensors as spans (empty when the layer has none).
  std::span<const float> weights(int layer) const;
  std::span<const float> bias(int layer) const;

  // Per-channel input normalisation x' = (x - mean[c]) / std[c], applied by Predict and Train.
  // Empty = identity. Errors: InvalidArgument unless both have one value per channel, std > 0.
  Status SetNormalization(std::vector<float> mean, std::vector<float> std);
  const std::vector<float>& norm_mean() const { return norm_mean_; }
  const std::vector<float>& norm_std() const { return norm_std_; }

  // Class probabilities for raw windows (time-major interleaved, input_size() readings each):
  // probs gets num_classes() values per window. Inference mode (no dropout, batch norm with the
  // moving statistics). `threads` 0 = all cores. Errors: InvalidArgument on size mismatches.
  Status Predict(std::span<const float> windows, std::span<float> probs, int threads = 1) const;

 private:
  ModelSpec spec_;
  std::vector<Shape> shapes_;
  std::vector<ParamLayout> layouts_;
  int num_classes_ = 0;
  std::vector<float> params_;
  std::vector<float> state_;
  std::vector<float> norm_mean_, norm_std_;
};

// Per-channel mean and standard deviation (population, floored at 1e-6 relative to the mean's
// scale so constant channels do not divide by zero) of `n` windows.
void FitNormalization(std::span<const float> windows, int length, int channels, std::vector<float>* mean,
                      std::vector<float>* std);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_MODEL_H_
