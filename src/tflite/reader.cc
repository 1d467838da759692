// ReadModel: untrusted bytes -> Graph. The FlatBuffers Verifier runs first (every offset, length and
// table inside the buffer), then the structural checks only the file form has (buffer and opcode
// indices, options tables), then ValidateGraph for everything the Graph IR itself can express.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/tflite/io.h"
#include "schema_generated.h"
#include "tflite/op_spec.h"
#include "tflite/validate.h"

namespace edgeloop::tflite {
namespace {

static_assert(FLATBUFFERS_LITTLEENDIAN, "the reader copies vector bytes as they are: little-endian hosts only");

constexpr uint32_t kSupportedSchemaVersion = 3;
constexpr int32_t kCustomOpCode = 32;                 // BuiltinOperator CUSTOM
constexpr size_t kMaxModelBytes = size_t{1} << 31;    // FlatBuffers' own limit (2 GB)

// Copies a vector's elements bytewise: the Verifier checks a vector's alignment only to its
// 4-byte length prefix, so the elements of a [long] in a hostile file may sit at a 4-byte boundary
// where a typed 8-byte load would be misaligned.
template <typename T>
std::vector<T> ToVector(const flatbuffers::Vector<T>* v) {
  if (v == nullptr) return {};
  std::vector<T> out(v->size());
  if (!out.empty()) std::memcpy(out.data(), reinterpret_cast<const uint8_t*>(v->Data()), out.size() * sizeof(T));
  return out;
}

std::string ToString(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

Activation ToActivation(int8_t v) { return static_cast<Activation>(v); }
Padding ToPadding(int8_t v) { return static_cast<Padding>(v); }

// Options tables hold enums as bytes; a value outside the official enum is a corrupt file.
Status CheckEnum(int value, int max, const std::string& where, const char* field) {
  if (value < 0 || value > max) {
    return Status::Corruption(where + ": " + field + " " + std::to_string(value) + " is not a valid value");
  }
  return Status::Ok();
}
Status CheckActivation(int8_t v, const std::string& where) {
  return CheckEnum(v, static_cast<int>(Activation::kTanh), where, "fused_activation_function");
}
Status CheckPadding(int8_t v, const std::string& where) {
  return CheckEnum(v, static_cast<int>(Padding::kValid), where, "padding");
}

// Fills op.options from the operator's BuiltinOptions table (schema defaults when absent).
Status ReadOptions(const fb::Operator* src, const OpSpec& spec, const std::string& where, Operator& op) {
  const auto type = static_cast<uint8_t>(src->builtin_options_type());
  if (type != 0 && type != spec.options_type) {
    return Status::Corruption(where + ": builtin_options has union type " + std::to_string(type) + ", expected " +
                              (spec.options_type == 0 ? std::string("none")
                                                      : std::to_string(spec.options_type) + " (" +
                                                            OptionsName(spec.options_index) + ")"));
  }
  switch (spec.op) {
    case BuiltinOp::kConv2D: {
      Conv2DOptions o;
      if (const auto* t = src->builtin_options_as_Conv2DOptions()) {
        EL_RETURN_IF_ERROR(CheckPadding(t->padding(), where));
        EL_RETURN_IF_ERROR(CheckActivation(t->fused_activation_function(), where));
        o.padding = ToPadding(t->padding());
        o.stride_w = t->stride_w();
        o.stride_h = t->stride_h();
        o.activation = ToActivation(t->fused_activation_function());
        o.dilation_w = t->dilation_w_factor();
        o.dilation_h = t->dilation_h_factor();
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kDepthwiseConv2D: {
      DepthwiseConv2DOptions o;
      if (const auto* t = src->builtin_options_as_DepthwiseConv2DOptions()) {
        EL_RETURN_IF_ERROR(CheckPadding(t->padding(), where));
        EL_RETURN_IF_ERROR(CheckActivation(t->fused_activation_function(), where));
        o.padding = ToPadding(t->padding());
        o.stride_w = t->stride_w();
        o.stride_h = t->stride_h();
        o.depth_multiplier = t->depth_multiplier();
        o.activation = ToActivation(t->fused_activation_function());
        o.dilation_w = t->dilation_w_factor();
        o.dilation_h = t->dilation_h_factor();
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kAveragePool2D:
    case BuiltinOp::kMaxPool2D: {
      Pool2DOptions o;
      if (const auto* t = src->builtin_options_as_Pool2DOptions()) {
        EL_RETURN_IF_ERROR(CheckPadding(t->padding(), where));
        EL_RETURN_IF_ERROR(CheckActivation(t->fused_activation_function(), where));
        o.padding = ToPadding(t->padding());
        o.stride_w = t->stride_w();
        o.stride_h = t->stride_h();
        o.filter_w = t->filter_width();
        o.filter_h = t->filter_height();
        o.activation = ToActivation(t->fused_activation_function());
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kFullyConnected: {
      FullyConnectedOptions o;
      if (const auto* t = src->builtin_options_as_FullyConnectedOptions()) {
        EL_RETURN_IF_ERROR(CheckActivation(t->fused_activation_function(), where));
        if (t->weights_format() != 0) {
          return Status::InvalidArgument(where + ": weights_format " + std::to_string(t->weights_format()) +
                                         " (shuffled weights) is not supported");
        }
        o.activation = ToActivation(t->fused_activation_function());
        o.keep_num_dims = t->keep_num_dims();
        o.asymmetric_quantize_inputs = t->asymmetric_quantize_inputs();
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kSoftmax: {
      SoftmaxOptions o;
      if (const auto* t = src->builtin_options_as_SoftmaxOptions()) o.beta = t->beta();
      op.options = o;
      break;
    }
    case BuiltinOp::kConcatenation: {
      ConcatenationOptions o;
      if (const auto* t = src->builtin_options_as_ConcatenationOptions()) {
        EL_RETURN_IF_ERROR(CheckActivation(t->fused_activation_function(), where));
        o.axis = t->axis();
        o.activation = ToActivation(t->fused_activation_function());
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kAdd:
    case BuiltinOp::kMul:
    case BuiltinOp::kSub: {
      AddOptions o;
      int8_t activation = 0;
      if (const auto* t = src->builtin_options_as_AddOptions()) activation = t->fused_activation_function();
      if (const auto* t = src->builtin_options_as_MulOptions()) activation = t->fused_activation_function();
      if (const auto* t = src->builtin_options_as_SubOptions()) activation = t->fused_activation_function();
      EL_RETURN_IF_ERROR(CheckActivation(activation, where));
      o.activation = ToActivation(activation);
      op.options = o;
      break;
    }
    case BuiltinOp::kReshape: {
      ReshapeOptions o;
      if (const auto* t = src->builtin_options_as_ReshapeOptions()) o.new_shape = ToVector(t->new_shape());
      op.options = o;
      break;
    }
    case BuiltinOp::kMean: {
      ReducerOptions o;
      if (const auto* t = src->builtin_options_as_ReducerOptions()) o.keep_dims = t->keep_dims();
      op.options = o;
      break;
    }
    case BuiltinOp::kSqueeze: {
      SqueezeOptions o;
      if (const auto* t = src->builtin_options_as_SqueezeOptions()) o.squeeze_dims = ToVector(t->squeeze_dims());
      op.options = o;
      break;
    }
    case BuiltinOp::kStridedSlice: {
      StridedSliceOptions o;
      if (const auto* t = src->builtin_options_as_StridedSliceOptions()) {
        if (t->offset()) return Status::InvalidArgument(where + ": offset=true is not supported");
        o.begin_mask = t->begin_mask();
        o.end_mask = t->end_mask();
        o.ellipsis_mask = t->ellipsis_mask();
        o.new_axis_mask = t->new_axis_mask();
        o.shrink_axis_mask = t->shrink_axis_mask();
      }
      op.options = o;
      break;
    }
    case BuiltinOp::kShape: {
      ShapeOptions o;
      if (const auto* t = src->builtin_options_as_ShapeOptions()) o.out_type = static_cast<TensorType>(t->out_type());
      op.options = o;
      break;
    }
    case BuiltinOp::kPack: {
      PackOptions o;
      if (const auto* t = src->builtin_options_as_PackOptions()) {
        o.values_count = t->values_count();
        o.axis = t->axis();
      }
      op.options = o;
      break;
    }
    default:
      op.options = std::monostate{};  // ops without options, or with empty options tables
      break;
  }
  return Status::Ok();
}

Status ReadTensor(const fb::Model* model, const fb::Tensor* src, int index, Tensor& t) {
  const std::string where = "tensor " + std::to_string(index) + " ('" + ToString(src->name()) + "')";
  t.name = ToString(src->name());
  t.type = static_cast<TensorType>(src->type());
  t.shape = ToVector(src->shape());
  t.shape_signature = ToVector(src->shape_signature());
  t.is_variable = src->is_variable();
  if (src->sparsity() != nullptr) return Status::InvalidArgument(where + ": sparse tensors are not supported");
  if (const auto* q = src->quantization()) {
    if (q->details_type() != fb::QuantizationDetails::NONE) {
      return Status::InvalidArgument(where + ": custom quantization details are not supported");
    }
    t.quant.scale = ToVector(q->scale());
    t.quant.zero_point = ToVector(q->zero_point());
    t.quant.min = ToVector(q->min());
    t.quant.max = ToVector(q->max());
    t.quant.quantized_dimension = q->quantized_dimension();
  }
  const uint32_t buffer = src->buffer();
  const auto* buffers = model->buffers();
  if (buffer != 0) {
    if (buffers == nullptr || buffer >= buffers->size()) {
      return Status::Corruption(where + ": buffer index " + std::to_string(buffer) + " is out of range (" +
                                std::to_string(buffers == nullptr ? 0 : buffers->size()) + " buffers)");
    }
    const fb::Buffer* b = buffers->Get(buffer);
    if (b->offset() > 1) {  // TFLite: offset/size are in use only when offset > 1
      return Status::InvalidArgument(where + ": buffer " + std::to_string(buffer) +
                                     " is stored outside the flatbuffer (models over 2 GB are not supported)");
    }
    t.data = ToVector(b->data());
  }
  return Status::Ok();
}

Status ReadOperator(const fb::Model* model, const fb::Operator* src, int index, Operator& op) {
  std::string where = "operator " + std::to_string(index);
  const auto* codes = model->operator_codes();
  const uint32_t opcode_index = src->opcode_index();
  if (codes == nullptr || opcode_index >= codes->size()) {
    return Status::Corruption(where + ": opcode_index " + std::to_string(opcode_index) + " is out of range (" +
                              std::to_string(codes == nullptr ? 0 : codes->size()) + " operator codes)");
  }
  const fb::OperatorCode* code = codes->Get(opcode_index);
  // TFLite's rule: the real code is the larger of the deprecated byte field and the int field.
  const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), code->builtin_code());
  if (builtin == kCustomOpCode || code->custom_code() != nullptr) {
    return Status::InvalidArgument(where + ": custom operator '" + ToString(code->custom_code()) +
                                   "' is not supported");
  }
  if (builtin < 0) return Status::Corruption(where + ": builtin code " + std::to_string(builtin) + " is not valid");
  op.op = static_cast<BuiltinOp>(builtin);
  op.version = code->version();
  where += std::string(" (") + BuiltinOpName(op.op) + ")";
  op.inputs = ToVector(src->inputs());
  op.outputs = ToVector(src->outputs());
  if (src->intermediates() != nullptr && src->intermediates()->size() > 0) {
    return Status::InvalidArgument(where + ": intermediate tensors are not supported");
  }
  if (src->custom_options() != nullptr && src->custom_options()->size() > 0) {
    return Status::InvalidArgument(where + ": custom_options on a builtin operator are not supported");
  }
  if (const OpSpec* spec = FindOpSpec(op.op)) return ReadOptions(src, *spec, where, op);
  op.options = std::monostate{};  // unknown op: kept as its number, rejected by the runtime
  return Status::Ok();
}

Result<Graph> Convert(const fb::Model* model) {
  Graph g;
  g.schema_version = model->version();
  if (g.schema_version != kSupportedSchemaVersion) {
    return Status::InvalidArgument("schema version " + std::to_string(g.schema_version) + " is not supported (" +
                                   std::to_string(kSupportedSchemaVersion) + " is)");
  }
  g.description = ToString(model->description());
  const auto* subgraphs = model->subgraphs();
  if (subgraphs == nullptr || subgraphs->size() == 0) return Status::Corruption("the model has no subgraph");
  if (subgraphs->size() > 1) {
    return Status::InvalidArgument("the model has " + std::to_string(subgraphs->size()) +
                                   " subgraphs; only single-subgraph models are supported");
  }
  const fb::SubGraph* sg = subgraphs->Get(0);
  g.subgraph_name = ToString(sg->name());
  if (const auto* tensors = sg->tensors()) {
    g.tensors.resize(tensors->size());
    for (uint32_t i = 0; i < tensors->size(); ++i) {
      EL_RETURN_IF_ERROR(ReadTensor(model, tensors->Get(i), static_cast<int>(i), g.tensors[i]));
    }
  }
  if (const auto* ops = sg->operators()) {
    g.operators.resize(ops->size());
    for (uint32_t i = 0; i < ops->size(); ++i) {
      EL_RETURN_IF_ERROR(ReadOperator(model, ops->Get(i), static_cast<int>(i), g.operators[i]));
    }
  }
  g.inputs = ToVector(sg->inputs());
  g.outputs = ToVector(sg->outputs());
  if (const auto* metadata = model->metadata()) {
    const auto* buffers = model->buffers();
    for (uint32_t i = 0; i < metadata->size(); ++i) {
      const fb::Metadata* m = metadata->Get(i);
      const std::string where = "metadata " + std::to_string(i) + " ('" + ToString(m->name()) + "')";
      if (m->name() == nullptr || m->name()->size() == 0) return Status::Corruption(where + ": no name");
      if (buffers == nullptr || m->buffer() >= buffers->size()) {
        return Status::Corruption(where + ": buffer index " + std::to_string(m->buffer()) + " is out of range");
      }
      const auto* data = buffers->Get(m->buffer())->data();
      g.metadata[m->name()->str()] =
          data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data->data()), data->size());
    }
  }
  EL_RETURN_IF_ERROR(ValidateGraph(g, StatusCode::kCorruption));
  return g;
}

}  // namespace

Result<Graph> ReadModel(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8) {
    return Status::Corruption("not a TFLite model: " + std::to_string(bytes.size()) + " bytes is too short");
  }
  if (bytes.size() >= kMaxModelBytes) return Status::InvalidArgument("models of 2 GB or more are not supported");
  if (!fb::ModelBufferHasIdentifier(bytes.data())) {
    std::string id(reinterpret_cast<const char*>(bytes.data()) + 4, 4);
    for (char& c : id) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return Status::Corruption("not a TFLite model: file identifier is '" + id + "', expected 'TFL3'");
  }
  // FlatBuffers reads scalars in place, so the buffer must be aligned as it was written (16 bytes
  // for tensor data); copy when the caller's bytes are not.
  std::vector<uint8_t> aligned_copy;
  const uint8_t* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % 16 != 0) {
    aligned_copy.assign(bytes.begin(), bytes.end());  // operator new aligns to at least 16
    data = aligned_copy.data();
  }
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!fb::VerifyModelBuffer(verifier)) {
    return Status::Corruption("not a valid TFLite flatbuffer: the FlatBuffers verifier rejects it "
                              "(truncated, or an offset or length points outside the " +
                              std::to_string(bytes.size()) + " bytes)");
  }
  return Convert(fb::GetModel(data));
}

Result<Graph> ReadModelFile(const std::string& path) {
  EL_ASSIGN_OR_RETURN(std::string bytes, Env::Default()->ReadFile(path));
  Result<Graph> g = ReadModel(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (!g.ok()) return g.status().WithPrefix(path);
  return g;
}

}  // namespace edgeloop::tflite
