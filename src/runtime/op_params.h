// What Prepare computes once per operator so that a kernel only loops: padding, strides, activation
// ranges, and for INT8 the offsets and fixed-point multipliers (see kernels/quant_math.h).
// Thread-safety: plain values.
#ifndef EDGELOOP_RUNTIME_OP_PARAMS_H_
#define EDGELOOP_RUNTIME_OP_PARAMS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "edgeloop/tflite/model.h"

namespace edgeloop::runtime {

// Rank-6 view used by broadcasting element-wise kernels (shapes are right-aligned, padded with 1).
inline constexpr int kMaxBroadcastRank = 6;

// CONV_2D and DEPTHWISE_CONV_2D (float, INT8 per-channel, hybrid).
struct ConvParams {
  int stride_w = 1, stride_h = 1, dilation_w = 1, dilation_h = 1;
  int pad_w = 0, pad_h = 0;
  int depth_multiplier = 1;  // depthwise only
  float act_min = 0, act_max = 0;
  int32_t input_offset = 0;   // -input zero point
  int32_t output_offset = 0;  // output zero point
  int32_t q_act_min = 0, q_act_max = 0;
  std::vector<int32_t> multipliers, shifts;  // one per output channel
  std::vector<float> channel_scales;         // hybrid: filter scale per output channel
};

// FULLY_CONNECTED (float, INT8 per-tensor or per-channel, hybrid).
struct FullyConnectedParams {
  int batches = 0, accum_depth = 0, units = 0;
  float act_min = 0, act_max = 0;
  int32_t input_offset = 0, filter_offset = 0, output_offset = 0;
  int32_t q_act_min = 0, q_act_max = 0;
  std::vector<int32_t> multipliers, shifts;  // size 1 (per-tensor) or units (per-channel)
  std::vector<float> channel_scales;         // hybrid: size 1 or units
  bool asymmetric_inputs = false;            // hybrid
};

struct PoolParams {
  int stride_w = 1, stride_h = 1, filter_w = 1, filter_h = 1, pad_w = 0, pad_h = 0;
  float act_min = 0, act_max = 0;
  int32_t q_act_min = 0, q_act_max = 0;
};

struct SoftmaxParams {
  float beta = 1;
  int32_t input_multiplier = 0, input_left_shift = 0, diff_min = 0;
};

struct LogisticParams {
  int32_t input_zero_point = 0, input_range_radius = 0, input_multiplier = 0, input_left_shift = 0;
};

// ADD, SUB, MUL.
struct ElementwiseParams {
  bool broadcast = false;
  std::array<int32_t, kMaxBroadcastRank> out_dims{};
  std::array<int64_t, kMaxBroadcastRank> in1_strides{}, in2_strides{};  // 0 on broadcast dimensions
  float act_min = 0, act_max = 0;
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0, left_shift = 0;
  int32_t input1_multiplier = 0, input1_shift = 0, input2_multiplier = 0, input2_shift = 0;
  int32_t output_multiplier = 0, output_shift = 0;
  int32_t q_act_min = 0, q_act_max = 0;
};

// QUANTIZE (float -> int, or int -> int requantize) and DEQUANTIZE.
struct QuantizeParams {
  float scale = 1;            // float -> int: output scale
  double dequant_scale = 1;   // int -> float: input scale
  int32_t input_zero_point = 0, output_zero_point = 0;
  int32_t multiplier = 0, shift = 0;  // int -> int
  int32_t qmin = 0, qmax = 0;
};

// STRIDED_SLICE on a rank <= 5 tensor, padded at the front to rank 5.
struct StridedSliceParams {
  std::array<int32_t, 5> in_dims{}, start{}, stop{}, stride{};
};

struct PackParams {
  int64_t outer = 1;        // product of output dims before the axis
  int64_t inner_bytes = 0;  // bytes of one value's slice after the axis
};

struct MeanParams {
  std::vector<int32_t> in_dims;
  std::vector<bool> reduced;  // per input dim
  int64_t count = 1;          // elements averaged into each output
};

struct PadParams {
  std::vector<int32_t> in_dims, before, after;
  int32_t pad_value = 0;  // quantized tensors pad with their zero point; float with 0
};

struct ShapeParams {
  tflite::TensorType out_type = tflite::TensorType::kInt32;
};

// Scratch memory of the hybrid (dynamic-range) kernels: the inputs quantized to int8, row by row,
// then one scaling factor and one zero point per row. Prepare sizes it, the kernel carves it.
struct HybridScratch {
  static size_t Bytes(int64_t rows, int64_t row_size) {
    return AlignUp(static_cast<size_t>(rows * row_size)) + static_cast<size_t>(rows) * (sizeof(float) + sizeof(int32_t));
  }
  HybridScratch(uint8_t* base, int64_t rows, int64_t row_size)
      : quantized(reinterpret_cast<int8_t*>(base)),
        scales(reinterpret_cast<float*>(base + AlignUp(static_cast<size_t>(rows * row_size)))),
        offsets(reinterpret_cast<int32_t*>(scales + rows)) {}
  static size_t AlignUp(size_t n) { return (n + 15) / 16 * 16; }

  int8_t* quantized;
  float* scales;
  int32_t* offsets;
};

using OpParams = std::variant<std::monostate, ConvParams, FullyConnectedParams, PoolParams, SoftmaxParams,
                              LogisticParams, ElementwiseParams, QuantizeParams, StridedSliceParams, PackParams,
                              MeanParams, PadParams, ShapeParams>;

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_OP_PARAMS_H_
