#include "nn/adam.h"

#include <cmath>

#include "nn/vec.h"

namespace edgeloop::nn {

float AdamStepSize(const AdamConfig& c, int64_t step) {
  const double t = static_cast<double>(step);
  return static_cast<float>(c.learning_rate * std::sqrt(1.0 - std::pow(c.beta2, t)) / (1.0 - std::pow(c.beta1, t)));
}

void AdamUpdate(const AdamConfig& c, float lr_t, float* params, float* m, float* v, const float* const* grads,
                int num_grads, size_t begin, size_t end) {
  AdamArgs a;
  a.lr_t = lr_t;
  a.one_minus_b1 = static_cast<float>(1.0 - c.beta1);
  a.one_minus_b2 = static_cast<float>(1.0 - c.beta2);
  a.epsilon = static_cast<float>(c.epsilon);
  a.params = params;
  a.m = m;
  a.v = v;
  a.grads = grads;
  a.num_grads = num_grads;
  SelectedVecKernels().adam(a, begin, end);
}

}  // namespace edgeloop::nn
