// Internal to src/nn: running a Model's layers on a block of windows. A Workspace holds every
// buffer one block needs (activations, gradients, im2col columns, masks, batch-norm statistics),
// sized once for `max_rows` windows; Forward/Loss/Backward allocate nothing.
// Thread-safety: one Workspace per thread; the Model and parameters are only read.
#ifndef EDGELOOP_SRC_NN_NETWORK_H_
#define EDGELOOP_SRC_NN_NETWORK_H_

#include <cstdint>
#include <vector>

#include "edgeloop/nn/model.h"
#include "edgeloop/common/random.h"
#include "nn/aligned.h"

namespace edgeloop::nn {

struct Workspace {
  int max_rows = 0;
  std::vector<AlignedVector> act;      // act[0] = input block, act[i + 1] = output of layer i
  std::vector<AlignedVector> scratch;  // per layer: conv columns, dropout mask, bn stats, logits
  AlignedVector grad_a, grad_b;        // ping-pong activation gradients
  AlignedVector dcols;                 // conv input-gradient columns (largest conv)
  AlignedVector dlogits;
  AlignedVector dense_scratch;         // dense input-gradient transposes (largest dense layer)
  const float* input_grad = nullptr;   // after Backward(want_input_grad): d loss / d input
};

// Sizes every buffer for blocks of up to max_rows windows.
void InitWorkspace(const Model& model, int max_rows, Workspace* ws);

// Runs all layers on the n windows in ws->act[0] (already normalised). `params`/`state` are
// the model's layout (a trainer passes its working copy). Dropout draws from `rng` in training.
void Forward(const Model& model, const float* params, const float* state, Workspace* ws, int n, bool training,
             Rng* rng);
// The class probabilities of the last Forward: n x num_classes.
const float* Probabilities(const Model& model, const Workspace& ws);

struct LossResult {
  double loss_sum = 0;  // sum of class-weighted per-window losses
  int correct = 0;      // windows whose arg-max matches the label
};
// Softmax cross-entropy of the last Forward. Writes ws->dlogits = grad_scale * weight[y] *
// (p - onehot(y)) (the gradient w.r.t. the logits before the final softmax). class_weights may
// be null (all 1). per_window_loss / predictions may be null.
LossResult SoftmaxCrossEntropy(const Model& model, Workspace* ws, const int32_t* labels, int n,
                               const float* class_weights, float grad_scale, float* per_window_loss,
                               int32_t* predictions);

// Back-propagates ws->dlogits through the layers, writing parameter gradients into `grads`
// (model layout, written not accumulated). `wt` holds each conv weight matrix transposed
// at its weights offset (conv layers only; dense layers read W). With want_input_grad, ws->input_grad points at d loss / d input.
void Backward(const Model& model, const float* params, const float* wt, Workspace* ws, int n, float* grads,
              bool want_input_grad);

// Writes W^T of every conv layer into wt (same offsets), rows [row_begin, row_end) of each
// W scaled to its size as fractions part/parts (so threads can split the work).
void TransposeWeights(const Model& model, const float* params, float* wt, int part, int parts);

// Copies n windows (normalised with the model's mean/std) into ws->act[0]; `index` maps block
// row to window (null = consecutive from `first`).
void GatherInput(const Model& model, const float* windows, const uint32_t* index, size_t first, int n,
                 Workspace* ws);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_NETWORK_H_
