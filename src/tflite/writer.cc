// WriteModel: Graph -> TFLite flatbuffer bytes, in the form any TFLite/LiteRT runtime takes:
// buffer 0 is the empty sentinel, each constant tensor and each metadata entry has its own
// 16-byte-aligned buffer, operator codes carry both the deprecated byte code and the int code, and
// no shape_signature is written (a -1 in it makes LiteRT.js refuse the model; shapes are batch 1).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/tflite/io.h"
#include "schema_generated.h"
#include "tflite/op_spec.h"
#include "tflite/validate.h"

namespace edgeloop::tflite {
namespace {

constexpr int32_t kPlaceholderForGreaterOpCodes = 127;
constexpr uint32_t kSchemaVersion = 3;

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> AlignedBytes(FlatBufferBuilder& fbb, const uint8_t* data,
                                                                 size_t size) {
  fbb.ForceVectorAlignment(size, sizeof(uint8_t), 16);
  return fbb.CreateVector(data, size);
}

int8_t Act(Activation a) { return static_cast<int8_t>(a); }
int8_t Pad(Padding p) { return static_cast<int8_t>(p); }

// The options table for `op` (its type is spec.options_type), or a null offset for ops without one.
Offset<void> WriteOptions(FlatBufferBuilder& fbb, const Operator& op) {
  switch (op.op) {
    case BuiltinOp::kConv2D: {
      const auto& o = std::get<Conv2DOptions>(op.options);
      return fb::CreateConv2DOptions(fbb, Pad(o.padding), o.stride_w, o.stride_h, Act(o.activation), o.dilation_w,
                                     o.dilation_h)
          .Union();
    }
    case BuiltinOp::kDepthwiseConv2D: {
      const auto& o = std::get<DepthwiseConv2DOptions>(op.options);
      return fb::CreateDepthwiseConv2DOptions(fbb, Pad(o.padding), o.stride_w, o.stride_h, o.depth_multiplier,
                                              Act(o.activation), o.dilation_w, o.dilation_h)
          .Union();
    }
    case BuiltinOp::kAveragePool2D:
    case BuiltinOp::kMaxPool2D: {
      const auto& o = std::get<Pool2DOptions>(op.options);
      return fb::CreatePool2DOptions(fbb, Pad(o.padding), o.stride_w, o.stride_h, o.filter_w, o.filter_h,
                                     Act(o.activation))
          .Union();
    }
    case BuiltinOp::kFullyConnected: {
      const auto& o = std::get<FullyConnectedOptions>(op.options);
      return fb::CreateFullyConnectedOptions(fbb, Act(o.activation), 0, o.keep_num_dims, o.asymmetric_quantize_inputs)
          .Union();
    }
    case BuiltinOp::kSoftmax:
      return fb::CreateSoftmaxOptions(fbb, std::get<SoftmaxOptions>(op.options).beta).Union();
    case BuiltinOp::kConcatenation: {
      const auto& o = std::get<ConcatenationOptions>(op.options);
      return fb::CreateConcatenationOptions(fbb, o.axis, Act(o.activation)).Union();
    }
    case BuiltinOp::kAdd:
      return fb::CreateAddOptions(fbb, Act(std::get<AddOptions>(op.options).activation)).Union();
    case BuiltinOp::kMul:
      return fb::CreateMulOptions(fbb, Act(std::get<AddOptions>(op.options).activation)).Union();
    case BuiltinOp::kSub:
      return fb::CreateSubOptions(fbb, Act(std::get<AddOptions>(op.options).activation)).Union();
    case BuiltinOp::kReshape: {
      const auto& o = std::get<ReshapeOptions>(op.options);
      return fb::CreateReshapeOptions(fbb, o.new_shape.empty() ? 0 : fbb.CreateVector(o.new_shape)).Union();
    }
    case BuiltinOp::kPad:
      return fb::CreatePadOptions(fbb).Union();
    case BuiltinOp::kMean:
      return fb::CreateReducerOptions(fbb, std::get<ReducerOptions>(op.options).keep_dims).Union();
    case BuiltinOp::kSqueeze: {
      const auto& o = std::get<SqueezeOptions>(op.options);
      return fb::CreateSqueezeOptions(fbb, o.squeeze_dims.empty() ? 0 : fbb.CreateVector(o.squeeze_dims)).Union();
    }
    case BuiltinOp::kStridedSlice: {
      const auto& o = std::get<StridedSliceOptions>(op.options);
      return fb::CreateStridedSliceOptions(fbb, o.begin_mask, o.end_mask, o.ellipsis_mask, o.new_axis_mask,
                                           o.shrink_axis_mask)
          .Union();
    }
    case BuiltinOp::kDequantize:
      return fb::CreateDequantizeOptions(fbb).Union();
    case BuiltinOp::kExpandDims:
      return fb::CreateExpandDimsOptions(fbb).Union();
    case BuiltinOp::kShape:
      return fb::CreateShapeOptions(fbb, static_cast<int8_t>(std::get<ShapeOptions>(op.options).out_type)).Union();
    case BuiltinOp::kPack: {
      const auto& o = std::get<PackOptions>(op.options);
      return fb::CreatePackOptions(fbb, o.values_count, o.axis).Union();
    }
    case BuiltinOp::kQuantize:
      return fb::CreateQuantizeOptions(fbb).Union();
    default:
      return 0;
  }
}

Offset<fb::QuantizationParameters> WriteQuantization(FlatBufferBuilder& fbb, const Quantization& q) {
  if (q.scale.empty() && q.min.empty()) return 0;
  auto floats = [&](const std::vector<float>& v) { return v.empty() ? 0 : fbb.CreateVector(v); };
  const auto min = floats(q.min);
  const auto max = floats(q.max);
  const auto scale = floats(q.scale);
  const auto zero_point = q.zero_point.empty() ? 0 : fbb.CreateVector(q.zero_point);
  return fb::CreateQuantizationParameters(fbb, min, max, scale, zero_point, fb::QuantizationDetails::NONE, 0,
                                          q.quantized_dimension);
}

}  // namespace

Result<std::vector<uint8_t>> WriteModel(const Graph& graph) {
  EL_RETURN_IF_ERROR(ValidateGraph(graph, StatusCode::kInvalidArgument));
  if (graph.schema_version != kSchemaVersion) {
    return Status::InvalidArgument("schema_version " + std::to_string(graph.schema_version) + ": only " +
                                   std::to_string(kSchemaVersion) + " can be written");
  }
  for (size_t i = 0; i < graph.operators.size(); ++i) {
    if (FindOpSpec(graph.operators[i].op) == nullptr) {
      return Status::InvalidArgument(OperatorLabel(graph, static_cast<int>(i)) +
                                     ": edgeloop does not know this operator and cannot write it");
    }
  }
  size_t data_bytes = 0;
  for (const Tensor& t : graph.tensors) data_bytes += t.data.size() + 16;
  for (const auto& [name, value] : graph.metadata) data_bytes += value.size() + 16;
  FlatBufferBuilder fbb(data_bytes + 4096);

  // Buffers first (the bulk of the file): 0 is the empty sentinel.
  std::vector<Offset<fb::Buffer>> buffers;
  buffers.push_back(fb::CreateBuffer(fbb));
  std::vector<uint32_t> tensor_buffer(graph.tensors.size(), 0);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const Tensor& t = graph.tensors[i];
    if (!t.is_constant()) continue;
    tensor_buffer[i] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(fb::CreateBuffer(fbb, AlignedBytes(fbb, t.data.data(), t.data.size())));
  }
  std::vector<Offset<fb::Metadata>> metadata;
  for (const auto& [name, value] : graph.metadata) {
    const auto bytes = AlignedBytes(fbb, reinterpret_cast<const uint8_t*>(value.data()), value.size());
    const uint32_t index = static_cast<uint32_t>(buffers.size());
    buffers.push_back(fb::CreateBuffer(fbb, bytes));
    metadata.push_back(fb::CreateMetadata(fbb, fbb.CreateString(name), index));
  }

  std::vector<Offset<fb::Tensor>> tensors;
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const Tensor& t = graph.tensors[i];
    const auto shape = fbb.CreateVector(t.shape);
    const auto name = fbb.CreateString(t.name);
    const auto quant = WriteQuantization(fbb, t.quant);
    tensors.push_back(fb::CreateTensor(fbb, shape, static_cast<int8_t>(t.type), tensor_buffer[i], name, quant,
                                       t.is_variable));
  }

  // Operator codes: one per (op, version), in order of first use.
  std::map<std::pair<int32_t, int32_t>, uint32_t> code_index;
  std::vector<Offset<fb::OperatorCode>> codes;
  std::vector<Offset<fb::Operator>> operators;
  for (const Operator& op : graph.operators) {
    const int32_t code = static_cast<int32_t>(op.op);
    auto [it, inserted] = code_index.emplace(std::make_pair(code, op.version), static_cast<uint32_t>(codes.size()));
    if (inserted) {
      const auto deprecated = static_cast<int8_t>(std::min(code, kPlaceholderForGreaterOpCodes));
      codes.push_back(fb::CreateOperatorCode(fbb, deprecated, 0, op.version, code));
    }
    const OpSpec* spec = FindOpSpec(op.op);
    const auto inputs = fbb.CreateVector(op.inputs);
    const auto outputs = fbb.CreateVector(op.outputs);
    const auto options = WriteOptions(fbb, op);
    operators.push_back(fb::CreateOperator(fbb, it->second, inputs, outputs,
                                           static_cast<fb::BuiltinOptions>(spec->options_type), options));
  }

  const auto subgraph = fb::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(graph.inputs),
                                           fbb.CreateVector(graph.outputs), fbb.CreateVector(operators),
                                           fbb.CreateString(graph.subgraph_name));
  const auto model = fb::CreateModel(fbb, graph.schema_version, fbb.CreateVector(codes),
                                     fbb.CreateVector(std::vector<Offset<fb::SubGraph>>{subgraph}),
                                     fbb.CreateString(graph.description), fbb.CreateVector(buffers),
                                     fbb.CreateVector(metadata));
  fb::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

Status WriteModelFile(const Graph& graph, const std::string& path) {
  EL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, WriteModel(graph));
  return Env::Default()
      ->WriteFileAtomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))
      .WithPrefix(path);
}

}  // namespace edgeloop::tflite
