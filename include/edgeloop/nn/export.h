// Export of a trained float Model as a TFLite graph (DESIGN.md "Model files"), written the way
// TFLite writes Keras Conv1D models so that any TFLite/LiteRT runtime, Netron and the Edge TPU
// tool chain take it:
//   input [1, length, channels] float32 (normalised readings; the normalisation itself is in the
//   `edgeloop` metadata, applied by whoever fills the input, e.g. classifier::Classifier)
//   conv1d                 RESHAPE [1,1,L,C] -> CONV_2D with a [F,1,K,C] kernel (stride_w,
//                          dilation_w, SAME/VALID) -> RESHAPE [1,L',F]
//   maxpool1d / avgpool1d  MAX_POOL_2D / AVERAGE_POOL_2D with a 1xP filter (between reshapes)
//   globalaveragepool1d    AVERAGE_POOL_2D over the whole length -> RESHAPE [1,C]
//   flatten                RESHAPE [1, L*C] (time-major, as Keras flattens)
//   dense                  FULLY_CONNECTED with [units, in] weights
//   batchnorm              folded into the conv1d / dense before it
//   relu / relu6           fused into the conv / dense before it, else RELU / RELU6
//   dropout                nothing (inference)
//   softmax                SOFTMAX (beta 1) on [1, classes]
// A RESHAPE back to [1,L,C] followed directly by one to [1,1,L,C] is left out (consecutive
// CONV_2D / pools stay in the 2-D form). Batch 1 everywhere and no shape_signature, so no -1.
// Thread-safety: free functions on values.
#ifndef EDGELOOP_NN_EXPORT_H_
#define EDGELOOP_NN_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/nn/model.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::nn {

struct ExportOptions {
  // The `edgeloop` metadata entry (classifier::MetadataToJson); empty = none.
  std::string metadata_json;
  std::string description = "edgeloop float model";
};

// The graph of `model` as described above. Errors: InvalidArgument for a model whose spec cannot
// be written (none that ResolveSpec accepts today; the check guards later layer types).
Result<tflite::Graph> ExportGraph(const Model& model, const ExportOptions& options = {});

// ExportGraph, then tflite::WriteModel.
Result<std::vector<uint8_t>> ExportModel(const Model& model, const ExportOptions& options = {});

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_EXPORT_H_
