// The interpreter's working form of a graph: tensors with resolved shapes and data pointers into the
// arena (or into constant storage), and nodes carrying their prepared parameters and the kernel
// picked for them. Kernels see only a Node. Thread-safety: owned by one Interpreter; not shared.
#ifndef EDGELOOP_RUNTIME_NODE_H_
#define EDGELOOP_RUNTIME_NODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/tflite/model.h"
#include "runtime/aligned_buffer.h"
#include "runtime/op_params.h"

namespace edgeloop::runtime {

struct RtTensor {
  enum class Kind {
    kActivation,  // lives in the arena
    kConstant,    // data from the model file
    kFolded,      // computed in Prepare (shape arithmetic, constant inputs only)
  };

  int index = -1;
  const tflite::Tensor* src = nullptr;  // the graph's tensor; must outlive this (owned by Interpreter)
  tflite::TensorType type = tflite::TensorType::kFloat32;
  std::vector<int32_t> shape;  // resolved (batch applied)
  int64_t elements = 0;
  size_t bytes = 0;
  uint8_t* data = nullptr;
  Kind kind = Kind::kActivation;
  // Per-tensor quantization (channel 0 when per-channel); scale 0 when the tensor is not quantized.
  float scale = 0;
  int32_t zero_point = 0;

  bool is_constant() const { return kind != Kind::kActivation; }
  bool quantized() const { return scale != 0; }
  template <typename T>
  T* as() const {
    return reinterpret_cast<T*>(data);
  }
  std::string label() const { return "tensor " + std::to_string(index) + " ('" + (src ? src->name : "") + "')"; }
};

// Every kernel variant the runtime has. A kernel set maps each to a function (kernel_select.cc).
enum class KernelId {
  kNone,  // folded in Prepare or nothing to run
  kConvF32, kConvS8, kConvHybrid,
  kDepthwiseConvF32, kDepthwiseConvS8, kDepthwiseConvHybrid,
  kFullyConnectedF32, kFullyConnectedS8, kFullyConnectedHybrid,
  kMaxPoolF32, kMaxPoolS8, kAveragePoolF32, kAveragePoolS8,
  kSoftmaxF32, kSoftmaxS8,
  kLogisticF32, kLogisticS8, kTanhF32, kReluF32, kRelu6F32,
  kAddF32, kAddS8, kSubF32, kMulF32, kMulS8,
  kMeanF32, kPad,
  kCopy,  // RESHAPE, EXPAND_DIMS, SQUEEZE: same bytes, new shape
  kStridedSlice, kPack, kShape,
  kQuantizeF32, kRequantize, kDequantize,
  kCount,
};

struct Node;
// Runs one prepared node. Must not allocate, fail or read outside the node's tensors and scratch.
using KernelFn = void (*)(const Node& node);

struct Node {
  int index = -1;
  const tflite::Operator* op = nullptr;  // the graph's operator; must outlive this (owned by Interpreter)
  std::string label;                     // "operator 3 (CONV_2D)"
  std::vector<RtTensor*> inputs;         // nullptr where an optional input is absent
  std::vector<RtTensor*> outputs;
  OpParams params;
  KernelId kernel_id = KernelId::kNone;
  KernelFn kernel = nullptr;
  const char* kernel_name = "";
  size_t scratch_bytes = 0;  // requested by Prepare; planned in the arena for this node only
  uint8_t* scratch = nullptr;
  bool folded = false;  // evaluated once in Prepare; skipped by Invoke
  // Not run by Invoke: a RESHAPE-like copy whose output shares its input's bytes ("alias"), or an
  // operator an optimized kernel of an earlier node computes as well ("fused").
  bool skipped = false;
  // Prepare-time data of an optimized kernel (packed weights, folded biases, requantization
  // constants), in a layout the kernel defines. Empty for reference kernels.
  AlignedBuffer packed;
  size_t packed_bytes = 0;
  // Counts this node's runs for kernels that vary their traversal order between invokes to reuse
  // what the last one left in cache; never changes a result. Owned by the interpreter's one thread.
  mutable uint32_t invocations = 0;

  const RtTensor& in(size_t i) const { return *inputs[i]; }
  const RtTensor* in_opt(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  RtTensor& out(size_t i) const { return *outputs[i]; }
  template <typename P>
  const P& p() const {
    return *std::get_if<P>(&params);
  }
};

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_NODE_H_
