// A model plus its `edgeloop` metadata as one thing that names classes: normalise a window of raw
// sensor readings per channel, put it into the input tensor (quantizing with round-to-nearest and
// saturation for INT8/UINT8 inputs: readings out of range clamp, never wrap), invoke, dequantize the
// output to float scores and pick the top class. Used by `edgeloop eval/predict`, the agent and the
// retraining loop.
//
// Models without `edgeloop` metadata still work: labels "class0".."classN-1", the window length
// from the input shape (channels 3 when the last dimension is 3, else 1), no normalisation.
// Thread-safety: a Classifier is used by one thread at a time.
#ifndef EDGELOOP_CLASSIFIER_CLASSIFIER_H_
#define EDGELOOP_CLASSIFIER_CLASSIFIER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/status.h"
#include "edgeloop/runtime/interpreter.h"

namespace edgeloop::classifier {

struct Prediction {
  int index = -1;             // top class
  std::string label;          // labels[index]
  float confidence = 0;       // scores[index]
  std::vector<float> scores;  // one per label, dequantized model outputs (probabilities after softmax)
};

struct ClassifierOptions {
  runtime::KernelSet kernels = runtime::KernelSet::kAuto;
  int max_batch = 64;  // windows per Invoke on the batch path
};

class Classifier {
 public:
  // Reads and verifies the model, parses its `edgeloop` metadata (if any) and prepares it.
  // Errors: those of ReadModel / Interpreter::Create; InvalidArgument when the metadata does not
  // fit the model (window size vs input shape, label count vs output size), naming both numbers.
  static Result<std::unique_ptr<Classifier>> Load(std::span<const uint8_t> model,
                                                  const ClassifierOptions& options = {});
  static Result<std::unique_ptr<Classifier>> LoadFile(const std::string& path, const ClassifierOptions& options = {});

  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // One window: window_size() raw readings (length x channels, interleaved time-major).
  // InvalidArgument when the size is wrong.
  Result<Prediction> Classify(std::span<const float> window);
  // Several windows back to back (a multiple of window_size() readings), run max_batch at a time
  // (one at a time for models whose input has no batch dimension).
  Result<std::vector<Prediction>> ClassifyBatch(std::span<const float> windows);

  // Normalises and quantizes one window into `input` exactly as Classify does (for tools that
  // need the raw input bytes). `input.bytes` must be one window of the input tensor.
  Status FillInput(std::span<const float> window, const runtime::TensorInfo& input) const;

  const ModelMetadata& metadata() const { return metadata_; }
  const std::vector<std::string>& labels() const { return metadata_.labels; }
  size_t window_size() const { return static_cast<size_t>(metadata_.length) * metadata_.channels; }
  bool has_metadata() const { return has_metadata_; }
  runtime::Interpreter& interpreter() { return *single_; }

 private:
  Classifier() = default;
  void PredictionsFromOutput(const runtime::TensorInfo& output, size_t windows, std::vector<Prediction>* out) const;

  ModelMetadata metadata_;
  bool has_metadata_ = false;
  ClassifierOptions options_;
  std::unique_ptr<runtime::Interpreter> single_;   // batch 1
  std::unique_ptr<runtime::Interpreter> batched_;  // batch options_.max_batch, built from single_'s graph on first use
  bool batch_unsupported_ = false;                 // the model cannot batch: ClassifyBatch runs windows one by one
};

}  // namespace edgeloop::classifier

#endif  // EDGELOOP_CLASSIFIER_CLASSIFIER_H_
