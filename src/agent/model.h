// What the agent needs from a model: its class labels, its window size, and scores for a raw
// window. The production implementation wraps classifier::Classifier (normalisation, clamped
// input quantization, dequantized scores); tests may inject their own loader.
// Thread-safety: a Model is used by one thread at a time (the loop, or the OTA thread for its
// smoke test before the hand-over).
#ifndef EDGELOOP_AGENT_MODEL_H_
#define EDGELOOP_AGENT_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::agent {

class Model {
 public:
  virtual ~Model() = default;
  virtual const std::vector<std::string>& labels() const = 0;
  // Raw readings per window (length x channels, interleaved time-major).
  virtual size_t window_size() const = 0;
  // Scores (probabilities) in label order into `scores` (size == labels().size()). Raw readings of
  // any magnitude are accepted; out-of-range inputs saturate. Errors only for a wrong window size
  // or an internal failure.
  virtual Status Classify(std::span<const float> window, std::span<float> scores) = 0;
};

// Turns the bytes of a model file into a ready Model. Bytes are untrusted (a corrupt or hostile
// file gives an error, never a crash).
using ModelLoader = std::function<Result<std::unique_ptr<Model>>(const std::string& bytes)>;

// The loader of the real runtime (classifier::Classifier).
ModelLoader DefaultModelLoader();

// Loads and checks a model: runs one smoke inference on a neutral window and requires finite
// scores in [0, 1], one per label. Errors name the step.
Result<std::unique_ptr<Model>> LoadAndSmokeTest(const ModelLoader& loader, const std::string& bytes);

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_MODEL_H_
