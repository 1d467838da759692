// Internal to src/nn: the Adam update exactly as TensorFlow's ResourceApplyAdam / Keras compute
// it (epsilon added to sqrt(v) after the bias correction is folded into the step size):
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1);  v += (g * g - v) * (1 - beta2);  p -= lr_t * m / (sqrt(v) + eps)
// where g is the sum of `num_grads` gradient buffers, added in buffer order.
// Thread-safety: pure over the given ranges.
#ifndef EDGELOOP_SRC_NN_ADAM_H_
#define EDGELOOP_SRC_NN_ADAM_H_

#include <cstddef>
#include <cstdint>

namespace edgeloop::nn {

struct AdamConfig {
  double learning_rate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;
};

// The step size lr_t for update number `step` (1-based).
float AdamStepSize(const AdamConfig& c, int64_t step);

// Updates params/m/v over [begin, end) with g = grads[0][i] + grads[1][i] + ... (the selected
// ISA's kernel, vec.h; the gradients are only read).
void AdamUpdate(const AdamConfig& c, float lr_t, float* params, float* m, float* v, const float* const* grads,
                int num_grads, size_t begin, size_t end);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_ADAM_H_
