// ModelSpec: the architecture of a sequential 1-D model, as plain data (the JSON form lives in
// src/pipeline). Input is one window [length, channels] (time-major); layers run in order.
//
// Shapes: a layer sees either a sequence [length, channels] or a flat vector [features].
//   conv1d, maxpool1d, averagepool1d       sequence -> sequence
//   globalaveragepool1d, flatten           sequence -> vector
//   dense                                  vector -> vector (flatten or pool first)
//   batchnorm, dropout, relu, relu6, softmax  any -> same shape (per channel / feature)
// Padding and output lengths follow Keras/TFLite: valid: ceil((L - (K-1)*d) / s); same:
// ceil(L / s), zero padding split as TFLite does (the extra one at the end).
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_NN_SPEC_H_
#define EDGELOOP_NN_SPEC_H_

#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::nn {

enum class LayerType {
  kConv1D,
  kMaxPool1D,
  kAveragePool1D,
  kGlobalAveragePool1D,
  kDense,
  kDropout,
  kFlatten,
  kBatchNorm,
  kReLU,
  kReLU6,
  kSoftmax,
};
enum class Activation { kNone, kReLU, kReLU6, kSoftmax };
enum class Padding { kValid, kSame };

struct LayerSpec {
  LayerType type = LayerType::kDense;
  // conv1d
  int filters = 0;
  int kernel = 0;
  int stride = 0;     // 0 = the default: 1 for conv1d, the pool size for pools
  int dilation = 1;
  Padding padding = Padding::kValid;  // conv1d and pools (Keras' default)
  // pools
  int pool = 2;
  // dense (units 0 on the last dense layer = the number of classes)
  int units = 0;
  // conv1d, dense
  Activation activation = Activation::kNone;
  bool use_bias = true;
  // dropout
  float rate = 0;
  // batchnorm (Keras defaults)
  float momentum = 0.99f;
  float epsilon = 1e-3f;
};

struct ModelSpec {
  int length = 0;
  int channels = 1;
  std::vector<LayerSpec> layers;
};

// The shape between layers: a sequence [length, channels], or a vector of `channels` features
// (length 1, flat).
struct Shape {
  int length = 1;
  int channels = 1;
  bool flat = false;
  int size() const { return length * channels; }
  bool operator==(const Shape&) const = default;
};

// "conv1d", "maxpool1d", ... (the JSON names); "relu", "softmax", "none" for activations.
const char* LayerTypeName(LayerType t);
const char* ActivationName(Activation a);
// "[128, 16]" or "[64]".
std::string ShapeToString(const Shape& s);

// Output length of a convolution or pool over `length` (Keras/TFLite rules); <= 0 if the window
// is too short.
int OutputLength(int length, int kernel, int stride, int dilation, Padding padding);
// Zero padding before the first element for `padding` (TFLite: total / 2, the rest at the end).
int PadBefore(int length, int kernel, int stride, int dilation, Padding padding);

// Checks the spec against `num_classes` and fills in defaults (a 0 `units` on the last dense
// layer, pool strides). Returns the shape after every layer (shapes[i] = output of layer i).
// Rules: the model ends with softmax (an activation or a layer) over num_classes outputs; dense
// needs a vector input; conv/pools need a sequence and a window long enough; batchnorm directly
// follows a conv1d or dense with no activation (so that it folds into it on export); dropout
// rate in [0, 1). Errors: InvalidArgument naming the layer index, its type and the field:
// "layer 3 (conv1d): kernel: must be >= 1".
Result<std::vector<Shape>> ResolveSpec(ModelSpec* spec, int num_classes);

// The reference tutorial's model for windows of length x channels:
// Conv1D(16,3,relu,same) MaxPool1D(2) Conv1D(32,3,relu,same) MaxPool1D(2) Flatten Dense(64,relu)
// Dropout(0.3) Dense(num_classes, softmax).
ModelSpec DefaultModelSpec(int length, int channels);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_SPEC_H_
