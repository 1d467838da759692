// Internal to src/nn: forward and backward kernels of each layer type, on `n` windows at a time.
// Activations are row-major [n, length, channels] (channels last; a vector is [n, features]).
//
// Contracts shared by every Backward:
//   - `dy` is the loss gradient w.r.t. the layer output; it may be overwritten (activation masks
//     are applied in place).
//   - `dx` (gradient w.r.t. the input) is written, not accumulated; null = not needed.
//   - parameter gradients are written (not accumulated) at the layer's offsets in `grads`.
// Nothing here allocates; scratch sizes come from the *ScratchSize functions.
#ifndef EDGELOOP_SRC_NN_LAYERS_H_
#define EDGELOOP_SRC_NN_LAYERS_H_

#include <cstddef>
#include <cstdint>

#include "edgeloop/common/random.h"
#include "edgeloop/nn/model.h"
#include "edgeloop/nn/spec.h"

namespace edgeloop::nn {

struct LayerCtx {
  const LayerSpec& spec;
  const Shape& in;
  const Shape& out;
  const ParamLayout& layout;
};

// Clamp bounds of a fused activation (relu: [0, inf), relu6: [0, 6], else none).
void ActivationBounds(Activation a, float* lo, float* hi);
// dy *= activation'(y) for relu / relu6 (from the output y); no-op for none.
void ActivationBackward(Activation a, const float* y, float* dy, size_t count);
// Row-wise softmax of `rows` x `cols` (in may equal out).
void SoftmaxRows(const float* in, float* out, int rows, int cols);

// Conv1D through im2col: cols [n * out.length, kernel * in.channels].
size_t ConvColsSize(const LayerCtx& l, int n);
void ConvForward(const LayerCtx& l, const float* params, int n, const float* x, float* y, float* cols);
// `dy_is_preactivation`: dy already is the gradient before the activation (fused softmax loss).
// `wt` holds the transposed weights [filters, kernel * in.channels] at the weights offset.
// A pointwise conv (kernel 1, stride 1) uses x itself as cols; then cols/dcols may be null.
bool ConvIsPointwise(const LayerCtx& l);
void ConvBackward(const LayerCtx& l, const float* wt, int n, const float* x, const float* y, float* dy,
                  bool dy_is_preactivation, float* dx, float* grads, const float* cols, float* dcols);

// Dense: `logits` (n x units) receives the pre-softmax output when the activation is softmax.
void DenseForward(const LayerCtx& l, const float* params, int n, const float* x, float* y, float* logits);
// The input gradient dz * W^T is computed as (W * dz^T)^T, reading W itself (no transposed copy
// of the weights per step; transposing dz and the product is far less data): `scratch` holds
// DenseScratchSize floats. Each dx element is the same fma chain over the units as dz * W^T.
size_t DenseScratchSize(const LayerCtx& l, int n);
void DenseBackward(const LayerCtx& l, const float* params, int n, const float* x, const float* y, float* dy,
                   bool dy_is_preactivation, float* dx, float* grads, float* scratch);

// Max / average pooling over time, per channel (padding positions are skipped, as TFLite does).
// Max pooling records in `argmax` (n x out.size(), max pooling only) the offset of the first
// maximum within each window, which is where Backward sends the gradient.
size_t PoolScratchSize(const LayerCtx& l, int n);
void PoolForward(const LayerCtx& l, int n, const float* x, float* y, float* argmax);
// `relu_y`: when not null, the pool's output and its input is a ReLU's output: the gradient of
// positions whose maximum is not above 0 is dropped here too, and true is returned when that was
// done (the ReLU's own backward can then be skipped); false: dx is the plain pool gradient.
bool PoolBackward(const LayerCtx& l, int n, const float* dy, float* dx, const float* argmax,
                  const float* relu_y = nullptr);
void GlobalAveragePoolForward(const LayerCtx& l, int n, const float* x, float* y);
void GlobalAveragePoolBackward(const LayerCtx& l, int n, const float* dy, float* dx);

// Dropout (inverted): mask holds 0 or 1 / (1 - rate) per element.
void DropoutForward(const LayerCtx& l, int n, bool training, Rng* rng, const float* x, float* y, float* mask);
void DropoutBackward(const LayerCtx& l, int n, const float* dy, float* dx, const float* mask);

// ReLU / ReLU6 / Softmax layers.
void ActivationLayerForward(const LayerCtx& l, int n, const float* x, float* y);
void ActivationLayerBackward(const LayerCtx& l, int n, const float* y, float* dy, float* dx);

// Batch normalisation over all positions of a channel. `stats` (4 * C floats) receives the batch
// mean, 1/sqrt(var + eps), and the unbiased batch variance (for the moving statistics) in training.
size_t BatchNormStatsSize(const LayerCtx& l);
void BatchNormForward(const LayerCtx& l, const float* params, const float* state, int n, bool training,
                      const float* x, float* y, float* stats);
void BatchNormBackward(const LayerCtx& l, const float* params, int n, const float* x, const float* dy, float* dx,
                       float* grads, const float* stats);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_LAYERS_H_
