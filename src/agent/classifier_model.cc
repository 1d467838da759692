// DefaultModelLoader over the real runtime: classifier::Classifier (normalisation, clamped input
// quantization, dequantized scores).
#include <cstring>

#include "agent/model.h"
#include "edgeloop/classifier/classifier.h"

namespace edgeloop::agent {
namespace {

class ClassifierModel final : public Model {
 public:
  explicit ClassifierModel(std::unique_ptr<classifier::Classifier> c) : c_(std::move(c)) {}
  const std::vector<std::string>& labels() const override { return c_->labels(); }
  size_t window_size() const override { return c_->window_size(); }
  Status Classify(std::span<const float> window, std::span<float> scores) override {
    auto p = c_->Classify(window);
    if (!p.ok()) return p.status();
    if (p->scores.size() != scores.size()) {
      return Status::InvalidArgument("model gave " + std::to_string(p->scores.size()) + " scores for " +
                                     std::to_string(scores.size()) + " labels");
    }
    std::memcpy(scores.data(), p->scores.data(), scores.size() * sizeof(float));
    return Status::Ok();
  }

 private:
  std::unique_ptr<classifier::Classifier> c_;
};

}  // namespace

ModelLoader DefaultModelLoader() {
  return [](const std::string& bytes) -> Result<std::unique_ptr<Model>> {
    auto c = classifier::Classifier::Load(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!c.ok()) return c.status();
    return std::unique_ptr<Model>(new ClassifierModel(std::move(*c)));
  };
}

}  // namespace edgeloop::agent
