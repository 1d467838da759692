#include "agent/model.h"

#include <cmath>

namespace edgeloop::agent {

Result<std::unique_ptr<Model>> LoadAndSmokeTest(const ModelLoader& loader, const std::string& bytes) {
  auto model = loader(bytes);
  if (!model.ok()) return model.status().WithPrefix("load");
  Model& m = **model;
  if (m.labels().empty()) return Status::InvalidArgument("load: the model has no labels");
  if (m.window_size() == 0 || m.window_size() > (1u << 16)) {
    return Status::InvalidArgument("load: unusable window size " + std::to_string(m.window_size()));
  }
  std::vector<float> window(m.window_size(), 0.0f);
  std::vector<float> scores(m.labels().size(), -1.0f);
  Status st = m.Classify(window, scores);
  if (!st.ok()) return st.WithPrefix("smoke inference");
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i]) || scores[i] < 0.0f || scores[i] > 1.0f) {
      return Status::InvalidArgument("smoke inference: score " + std::to_string(i) + " ('" + m.labels()[i] +
                                     "') is " + std::to_string(scores[i]) + ", not a probability");
    }
  }
  return model;
}

}  // namespace edgeloop::agent
