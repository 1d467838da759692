#include "tflite/op_spec.h"

#include <type_traits>
#include <variant>

namespace edgeloop::tflite {
namespace {

template <typename T, typename... Ts>
constexpr size_t IndexIn(const std::variant<Ts...>*) {
  size_t index = 0;
  bool found = false;
  ((found = found || std::is_same_v<T, Ts>, index += found ? 0 : 1), ...);
  return index;
}
template <typename T>
constexpr size_t Alt() {
  constexpr size_t index = IndexIn<T>(static_cast<const OpOptions*>(nullptr));
  static_assert(index < std::variant_size_v<OpOptions>, "not an OpOptions alternative");
  return index;
}

// Official `union BuiltinOptions` values (schema.fbs declares the same numbers).
constexpr uint8_t kConv2DOptions = 1, kDepthwiseConv2DOptions = 2, kPool2DOptions = 5, kFullyConnectedOptions = 8,
                  kSoftmaxOptions = 9, kConcatenationOptions = 10, kAddOptions = 11, kReshapeOptions = 17,
                  kMulOptions = 21, kPadOptions = 22, kReducerOptions = 27, kSubOptions = 28, kSqueezeOptions = 30,
                  kStridedSliceOptions = 32, kDequantizeOptions = 38, kExpandDimsOptions = 52, kShapeOptions = 55,
                  kPackOptions = 59, kQuantizeOptions = 89;

constexpr OpSpec kSpecs[] = {
    {BuiltinOp::kAdd, 2, 2, kNoOptional, 1, kAddOptions, Alt<AddOptions>()},
    {BuiltinOp::kAveragePool2D, 1, 1, kNoOptional, 1, kPool2DOptions, Alt<Pool2DOptions>()},
    {BuiltinOp::kConcatenation, 1, kVariadic, kNoOptional, 1, kConcatenationOptions, Alt<ConcatenationOptions>()},
    {BuiltinOp::kConv2D, 2, 3, 2, 1, kConv2DOptions, Alt<Conv2DOptions>()},
    {BuiltinOp::kDepthwiseConv2D, 2, 3, 2, 1, kDepthwiseConv2DOptions, Alt<DepthwiseConv2DOptions>()},
    {BuiltinOp::kDequantize, 1, 1, kNoOptional, 1, kDequantizeOptions, 0},
    {BuiltinOp::kFullyConnected, 2, 3, 2, 1, kFullyConnectedOptions, Alt<FullyConnectedOptions>()},
    {BuiltinOp::kLogistic, 1, 1, kNoOptional, 1, 0, 0},
    {BuiltinOp::kMaxPool2D, 1, 1, kNoOptional, 1, kPool2DOptions, Alt<Pool2DOptions>()},
    {BuiltinOp::kMul, 2, 2, kNoOptional, 1, kMulOptions, Alt<AddOptions>()},
    {BuiltinOp::kRelu, 1, 1, kNoOptional, 1, 0, 0},
    {BuiltinOp::kRelu6, 1, 1, kNoOptional, 1, 0, 0},
    {BuiltinOp::kReshape, 1, 2, kNoOptional, 1, kReshapeOptions, Alt<ReshapeOptions>()},
    {BuiltinOp::kSoftmax, 1, 1, kNoOptional, 1, kSoftmaxOptions, Alt<SoftmaxOptions>()},
    {BuiltinOp::kTanh, 1, 1, kNoOptional, 1, 0, 0},
    {BuiltinOp::kPad, 2, 2, kNoOptional, 1, kPadOptions, 0},
    {BuiltinOp::kMean, 2, 2, kNoOptional, 1, kReducerOptions, Alt<ReducerOptions>()},
    {BuiltinOp::kSub, 2, 2, kNoOptional, 1, kSubOptions, Alt<AddOptions>()},
    {BuiltinOp::kSqueeze, 1, 1, kNoOptional, 1, kSqueezeOptions, Alt<SqueezeOptions>()},
    {BuiltinOp::kStridedSlice, 4, 4, kNoOptional, 1, kStridedSliceOptions, Alt<StridedSliceOptions>()},
    {BuiltinOp::kExpandDims, 2, 2, kNoOptional, 1, kExpandDimsOptions, 0},
    {BuiltinOp::kShape, 1, 1, kNoOptional, 1, kShapeOptions, Alt<ShapeOptions>()},
    {BuiltinOp::kPack, 1, kVariadic, kNoOptional, 1, kPackOptions, Alt<PackOptions>()},
    {BuiltinOp::kQuantize, 1, 1, kNoOptional, 1, kQuantizeOptions, 0},
};

}  // namespace

const OpSpec* FindOpSpec(BuiltinOp op) {
  for (const OpSpec& s : kSpecs) {
    if (s.op == op) return &s;
  }
  return nullptr;
}

const char* OptionsName(size_t options_index) {
  switch (options_index) {
    case Alt<std::monostate>(): return "none";
    case Alt<Conv2DOptions>(): return "Conv2DOptions";
    case Alt<DepthwiseConv2DOptions>(): return "DepthwiseConv2DOptions";
    case Alt<Pool2DOptions>(): return "Pool2DOptions";
    case Alt<FullyConnectedOptions>(): return "FullyConnectedOptions";
    case Alt<SoftmaxOptions>(): return "SoftmaxOptions";
    case Alt<AddOptions>(): return "AddOptions";
    case Alt<ReshapeOptions>(): return "ReshapeOptions";
    case Alt<SqueezeOptions>(): return "SqueezeOptions";
    case Alt<StridedSliceOptions>(): return "StridedSliceOptions";
    case Alt<PackOptions>(): return "PackOptions";
    case Alt<ShapeOptions>(): return "ShapeOptions";
    case Alt<ReducerOptions>(): return "ReducerOptions";
    case Alt<ConcatenationOptions>(): return "ConcatenationOptions";
  }
  return "unknown options";
}

}  // namespace edgeloop::tflite
