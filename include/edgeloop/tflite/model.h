// The in-memory form of a TFLite model (one subgraph): what the reader produces, the writer
// consumes, and the runtime, quantizer, exporter, inspector and Edge TPU checker work on.
//
// It mirrors the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs) for the subset edgeloop
// reads and writes; enum values are the official ones, so a value read from a file can be stored
// here unchanged. Tensor data is owned (copied out of the file), so a Graph outlives its bytes.
// Thread-safety: a plain value type.
#ifndef EDGELOOP_TFLITE_MODEL_H_
#define EDGELOOP_TFLITE_MODEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace edgeloop::tflite {

// schema.fbs `enum TensorType : byte`.
enum class TensorType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
};

// schema.fbs `enum BuiltinOperator : int32` (the ones edgeloop knows by name; any other value read
// from a file is kept as its number and rejected by the runtime with that number in the message).
enum class BuiltinOp : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kRelu6 = 21,
  kReshape = 22,
  kSoftmax = 25,
  kTanh = 28,
  kPad = 34,
  kMean = 40,
  kSub = 41,
  kSqueeze = 43,
  kStridedSlice = 45,
  kExpandDims = 70,
  kShape = 77,
  kPack = 83,
  kQuantize = 114,
};

// schema.fbs `enum Padding : byte`.
enum class Padding : int8_t { kSame = 0, kValid = 1 };

// schema.fbs `enum ActivationFunctionType : byte`.
enum class Activation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3, kTanh = 4 };

// Builtin options, one struct per schema table edgeloop uses. Defaults are the schema defaults.
struct Conv2DOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  Activation activation = Activation::kNone;
  int32_t dilation_w = 1, dilation_h = 1;
  bool operator==(const Conv2DOptions&) const = default;
};
struct DepthwiseConv2DOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t depth_multiplier = 1;
  Activation activation = Activation::kNone;
  int32_t dilation_w = 1, dilation_h = 1;
  bool operator==(const DepthwiseConv2DOptions&) const = default;
};
struct Pool2DOptions {  // MAX_POOL_2D, AVERAGE_POOL_2D
  Padding padding = Padding::kValid;
  int32_t stride_w = 1, stride_h = 1;
  int32_t filter_w = 1, filter_h = 1;
  Activation activation = Activation::kNone;
  bool operator==(const Pool2DOptions&) const = default;
};
struct FullyConnectedOptions {
  Activation activation = Activation::kNone;
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = false;  // dynamic-range models
  bool operator==(const FullyConnectedOptions&) const = default;
};
struct SoftmaxOptions {
  float beta = 1.0f;
  bool operator==(const SoftmaxOptions&) const = default;
};
struct AddOptions {  // also used for MUL and SUB (same fields)
  Activation activation = Activation::kNone;
  bool operator==(const AddOptions&) const = default;
};
struct ReshapeOptions {
  std::vector<int32_t> new_shape;  // may be empty: then the shape comes from input 1
  bool operator==(const ReshapeOptions&) const = default;
};
struct SqueezeOptions {
  std::vector<int32_t> squeeze_dims;
  bool operator==(const SqueezeOptions&) const = default;
};
struct StridedSliceOptions {
  int32_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool operator==(const StridedSliceOptions&) const = default;
};
struct PackOptions {
  int32_t values_count = 0;
  int32_t axis = 0;
  bool operator==(const PackOptions&) const = default;
};
struct ShapeOptions {
  TensorType out_type = TensorType::kInt32;
  bool operator==(const ShapeOptions&) const = default;
};
struct ReducerOptions {  // MEAN
  bool keep_dims = false;
  bool operator==(const ReducerOptions&) const = default;
};
struct ConcatenationOptions {
  int32_t axis = 0;
  Activation activation = Activation::kNone;
  bool operator==(const ConcatenationOptions&) const = default;
};

using OpOptions = std::variant<std::monostate, Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions,
                               FullyConnectedOptions, SoftmaxOptions, AddOptions, ReshapeOptions,
                               SqueezeOptions, StridedSliceOptions, PackOptions, ShapeOptions,
                               ReducerOptions, ConcatenationOptions>;

// schema.fbs `table QuantizationParameters`. Empty `scale` means "not quantized".
// Real value = scale[c] * (q - zero_point[c]); c indexes `quantized_dimension` when per-channel.
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::vector<float> min, max;  // informational, as the converter writes them
  bool empty() const { return scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
  bool operator==(const Quantization&) const = default;
};

struct Tensor {
  std::string name;
  TensorType type = TensorType::kFloat32;
  std::vector<int32_t> shape;            // batch first; edgeloop writes batch 1
  std::vector<int32_t> shape_signature;  // empty, or `shape` with -1 for unknown dims (read only)
  Quantization quant;
  std::vector<uint8_t> data;  // constant contents (little-endian); empty for activations
  bool is_variable = false;

  bool is_constant() const { return !data.empty(); }
  bool operator==(const Tensor&) const = default;
};

struct Operator {
  BuiltinOp op = BuiltinOp::kAdd;
  int32_t version = 1;          // the operator-code version written/read with the opcode
  std::vector<int32_t> inputs;  // tensor indices; -1 = optional input absent
  std::vector<int32_t> outputs;
  OpOptions options;
  bool operator==(const Operator&) const = default;
};

// One model = one subgraph plus the model-level description and named metadata buffers.
struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;  // in execution order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::string subgraph_name;
  std::string description;                     // Model.description
  uint32_t schema_version = 3;                 // Model.version
  std::map<std::string, std::string> metadata;  // Model.metadata name -> buffer bytes
  bool operator==(const Graph&) const = default;
};

// Name of the metadata entry that holds edgeloop's JSON (labels, input shape, normalisation,
// training metrics, dataset sha256, creation time).
inline constexpr const char* kEdgeloopMetadataName = "edgeloop";

// Human-readable names for messages and `inspect`: "CONV_2D", "INT8", "SAME", "RELU6".
const char* BuiltinOpName(BuiltinOp op);  // "BUILTIN_OP_<n>" for values edgeloop has no name for
const char* TensorTypeName(TensorType type);
const char* ActivationName(Activation a);
const char* PaddingName(Padding p);
// Bytes of one element; 0 for kString and unknown types.
int TensorTypeSize(TensorType type);
// Product of dims (1 for a scalar); -1 if any dim is negative or the product overflows int32.
int64_t NumElements(const std::vector<int32_t>& shape);

// "[1,128,1]" for messages and `inspect`.
std::string ShapeToString(const std::vector<int32_t>& shape);
// How messages name a tensor and an operator: "tensor 7 ('conv1/weights')", "operator 3 (CONV_2D)".
// Indices out of range are named without the details ("tensor 99").
std::string TensorLabel(const Graph& graph, int index);
std::string OperatorLabel(const Graph& graph, int index);

}  // namespace edgeloop::tflite

#endif  // EDGELOOP_TFLITE_MODEL_H_
