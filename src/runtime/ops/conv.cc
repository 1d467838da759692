// Prepare for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: float32, full INT8 (per-tensor or
// per-channel weights, int32 bias) and dynamic-range "hybrid" (int8 weights, float activations).
#include <cmath>
#include <string>
#include <variant>

#include "runtime/ops/ops.h"

namespace edgeloop::runtime {
namespace {

using tflite::TensorType;

enum class Flavor { kFloat, kInt8, kHybrid };

// Which arithmetic the operand types ask for; errors for any other combination.
Result<Flavor> ClassifyTypes(const Node& node, const RtTensor& input, const RtTensor& filter, const RtTensor* bias,
                             const RtTensor& output) {
  auto describe = [&] {
    return std::string("types input ") + tflite::TensorTypeName(input.type) + ", filter " +
           tflite::TensorTypeName(filter.type) + ", bias " + (bias ? tflite::TensorTypeName(bias->type) : "none") +
           ", output " + tflite::TensorTypeName(output.type);
  };
  if (input.type == TensorType::kFloat32 && output.type == TensorType::kFloat32 &&
      (bias == nullptr || bias->type == TensorType::kFloat32)) {
    if (filter.type == TensorType::kFloat32) return Flavor::kFloat;
    if (filter.type == TensorType::kInt8) return Flavor::kHybrid;
  }
  if (input.type == TensorType::kInt8 && filter.type == TensorType::kInt8 && output.type == TensorType::kInt8 &&
      (bias == nullptr || bias->type == TensorType::kInt32)) {
    return Flavor::kInt8;
  }
  return OpError(node, describe() + " are not a supported combination (float32, int8 with int32 bias, or float32 "
                                    "with int8 weights)");
}

// Filter scales: one, or one per output channel along `channel_dim`; zero points must be 0 unless
// `allow_offset` (FULLY_CONNECTED's filter_offset).
Status CheckFilterQuantization(const Node& node, const RtTensor& filter, int channel_dim, int channels,
                               bool allow_offset) {
  const tflite::Quantization& q = filter.src->quant;
  const std::string where = "filter " + filter.label();
  if (q.scale.empty()) return OpError(node, where + " is not quantized");
  if (q.scale.size() != 1) {
    if (static_cast<int>(q.scale.size()) != channels || q.quantized_dimension != channel_dim) {
      return OpError(node, where + " has " + std::to_string(q.scale.size()) + " scales on dimension " +
                               std::to_string(q.quantized_dimension) + "; expected 1, or " +
                               std::to_string(channels) + " on dimension " + std::to_string(channel_dim));
    }
  }
  for (size_t c = 0; c < q.scale.size(); ++c) {
    if (!std::isfinite(q.scale[c]) || !(q.scale[c] > 0)) {
      return OpError(node, where + ": scale[" + std::to_string(c) + "] = " + std::to_string(q.scale[c]) +
                               " is not a finite value > 0");
    }
    if (q.zero_point[c] < -128 || q.zero_point[c] > 127 || (!allow_offset && q.zero_point[c] != 0)) {
      return OpError(node, where + ": zero_point[" + std::to_string(c) + "] = " + std::to_string(q.zero_point[c]) +
                               (allow_offset ? " is outside INT8" : "; int8 weights must be symmetric (0)"));
    }
  }
  return Status::Ok();
}

Status CheckBias(const Node& node, const RtTensor* bias, int channels) {
  if (bias == nullptr) return Status::Ok();
  if (bias->elements != channels) {
    return OpError(node, "bias " + bias->label() + " has shape " + tflite::ShapeToString(bias->shape) + ", expected " +
                             std::to_string(channels) + " values");
  }
  return Status::Ok();
}

float FilterScale(const RtTensor& filter, int channel) {
  const auto& s = filter.src->quant.scale;
  return s.size() == 1 ? s[0] : s[channel];
}

// Per-output-channel requantization as TFLite's conv kernels compute it:
// double(input_scale) * double(filter_scale[c]) / double(output_scale).
Status PerChannelMultipliers(const Node& node, const RtTensor& input, const RtTensor& filter, const RtTensor& output,
                             int channels, std::vector<int32_t>* multipliers, std::vector<int32_t>* shifts) {
  multipliers->resize(channels);
  shifts->resize(channels);
  for (int c = 0; c < channels; ++c) {
    const double m = static_cast<double>(input.scale) * static_cast<double>(FilterScale(filter, c)) /
                     static_cast<double>(output.scale);
    EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, m, "output multiplier", &(*multipliers)[c], &(*shifts)[c]));
  }
  return Status::Ok();
}

Status PrepareQuantizedIo(const Node& node, const RtTensor& input, const RtTensor& output) {
  EL_RETURN_IF_ERROR(ExpectQuantized(node, input, "input"));
  return ExpectQuantized(node, output, "output");
}

std::vector<float> ChannelScales(const RtTensor& filter) { return filter.src->quant.scale; }

template <typename Options>
Status PrepareConvCommon(Node& node, const PrepareContext& /*ctx*/, bool depthwise) {
  const Options& o = *std::get_if<Options>(&node.op->options);
  const RtTensor& input = node.in(0);
  const RtTensor& filter = node.in(1);
  const RtTensor* bias = node.in_opt(2);
  const RtTensor& output = node.out(0);
  EL_RETURN_IF_ERROR(ExpectRank(node, input, 4, "input"));
  EL_RETURN_IF_ERROR(ExpectRank(node, filter, 4, "filter"));
  const int batches = input.shape[0], in_h = input.shape[1], in_w = input.shape[2], in_c = input.shape[3];
  const int filter_h = filter.shape[1], filter_w = filter.shape[2];
  int out_c = 0;
  ConvParams p;
  if (depthwise) {
    out_c = filter.shape[3];
    if (filter.shape[0] != 1 || in_c == 0 || out_c % in_c != 0) {
      return OpError(node, "filter " + filter.label() + " has shape " + tflite::ShapeToString(filter.shape) +
                               "; expected [1, h, w, k x " + std::to_string(in_c) + "]");
    }
    p.depth_multiplier = out_c / in_c;
  } else {
    out_c = filter.shape[0];
    const int filter_c = filter.shape[3];
    if (filter_c <= 0 || in_c < filter_c || in_c % filter_c != 0 || out_c % (in_c / filter_c) != 0) {
      return OpError(node, "filter " + filter.label() + " has shape " + tflite::ShapeToString(filter.shape) +
                               ", which does not divide the " + std::to_string(in_c) + " input channels into groups");
    }
  }
  EL_ASSIGN_OR_RETURN(Flavor flavor, ClassifyTypes(node, input, filter, bias, output));
  EL_RETURN_IF_ERROR(CheckBias(node, bias, out_c));
  p.stride_w = o.stride_w;
  p.stride_h = o.stride_h;
  p.dilation_w = o.dilation_w;
  p.dilation_h = o.dilation_h;
  int out_h = 0, out_w = 0;
  EL_RETURN_IF_ERROR(ComputeWindow(node, o.padding, in_h, filter_h, o.stride_h, o.dilation_h, "height", &out_h, &p.pad_h));
  EL_RETURN_IF_ERROR(ComputeWindow(node, o.padding, in_w, filter_w, o.stride_w, o.dilation_w, "width", &out_w, &p.pad_w));
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, {batches, out_h, out_w, out_c}));
  const int channel_dim = depthwise ? 3 : 0;
  switch (flavor) {
    case Flavor::kFloat:
      EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
      node.kernel_id = depthwise ? KernelId::kDepthwiseConvF32 : KernelId::kConvF32;
      break;
    case Flavor::kInt8:
      EL_RETURN_IF_ERROR(PrepareQuantizedIo(node, input, output));
      EL_RETURN_IF_ERROR(CheckFilterQuantization(node, filter, channel_dim, out_c, false));
      EL_RETURN_IF_ERROR(PerChannelMultipliers(node, input, filter, output, out_c, &p.multipliers, &p.shifts));
      EL_RETURN_IF_ERROR(QuantizedActivationRange(node, o.activation, output, &p.q_act_min, &p.q_act_max));
      p.input_offset = -input.zero_point;
      p.output_offset = output.zero_point;
      node.kernel_id = depthwise ? KernelId::kDepthwiseConvS8 : KernelId::kConvS8;
      break;
    case Flavor::kHybrid:
      EL_RETURN_IF_ERROR(CheckFilterQuantization(node, filter, channel_dim, out_c, false));
      EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
      p.channel_scales = ChannelScales(filter);
      node.scratch_bytes = HybridScratch::Bytes(batches, input.elements / std::max(batches, 1));
      node.kernel_id = depthwise ? KernelId::kDepthwiseConvHybrid : KernelId::kConvHybrid;
      break;
  }
  node.params = std::move(p);
  return Status::Ok();
}

}  // namespace

Status PrepareConv2D(Node& node, const PrepareContext& ctx) {
  return PrepareConvCommon<tflite::Conv2DOptions>(node, ctx, false);
}

Status PrepareDepthwiseConv2D(Node& node, const PrepareContext& ctx) {
  return PrepareConvCommon<tflite::DepthwiseConv2DOptions>(node, ctx, true);
}

Status PrepareFullyConnected(Node& node, const PrepareContext& /*ctx*/) {
  const auto& o = *std::get_if<tflite::FullyConnectedOptions>(&node.op->options);
  const RtTensor& input = node.in(0);
  const RtTensor& filter = node.in(1);
  const RtTensor* bias = node.in_opt(2);
  const RtTensor& output = node.out(0);
  EL_RETURN_IF_ERROR(ExpectRank(node, filter, 2, "filter"));
  FullyConnectedParams p;
  p.units = filter.shape[0];
  p.accum_depth = filter.shape[1];
  if (p.accum_depth <= 0 || input.shape.empty() || input.elements % p.accum_depth != 0) {
    return OpError(node, "input " + input.label() + " of shape " + tflite::ShapeToString(input.shape) +
                             " cannot be split into rows of " + std::to_string(p.accum_depth) + " (filter " +
                             tflite::ShapeToString(filter.shape) + ")");
  }
  p.batches = static_cast<int>(input.elements / p.accum_depth);
  EL_ASSIGN_OR_RETURN(Flavor flavor, ClassifyTypes(node, input, filter, bias, output));
  EL_RETURN_IF_ERROR(CheckBias(node, bias, p.units));
  std::vector<int32_t> out_shape;
  if (o.keep_num_dims) {
    if (input.shape.back() != p.accum_depth) {
      return OpError(node, "keep_num_dims needs the input's last dimension (" + std::to_string(input.shape.back()) +
                               ") to equal the filter's depth " + std::to_string(p.accum_depth));
    }
    out_shape = input.shape;
    out_shape.back() = p.units;
  } else {
    out_shape = {p.batches, p.units};
  }
  EL_RETURN_IF_ERROR(SetOutputShape(node, 0, std::move(out_shape)));
  switch (flavor) {
    case Flavor::kFloat:
      EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
      node.kernel_id = KernelId::kFullyConnectedF32;
      break;
    case Flavor::kInt8: {
      EL_RETURN_IF_ERROR(PrepareQuantizedIo(node, input, output));
      EL_RETURN_IF_ERROR(CheckFilterQuantization(node, filter, 0, p.units, true));
      const tflite::Quantization& fq = filter.src->quant;
      if (fq.scale.size() == 1) {
        // TFLite's per-tensor path multiplies the scales in float first, then divides in double.
        const double product = static_cast<double>(input.scale * filter.scale);
        if (bias != nullptr && bias->src->quant.scale.size() == 1) {
          const double diff = std::abs(product - static_cast<double>(bias->src->quant.scale[0]));
          if (diff / static_cast<double>(output.scale) > 0.02) {
            return OpError(node, "bias " + bias->label() + " scale " + std::to_string(bias->src->quant.scale[0]) +
                                     " is not input scale x filter scale (" + std::to_string(product) + ")");
          }
        }
        p.multipliers.resize(1);
        p.shifts.resize(1);
        EL_RETURN_IF_ERROR(QuantizeMultiplierOrError(node, product / static_cast<double>(output.scale),
                                                     "output multiplier", &p.multipliers[0], &p.shifts[0]));
      } else {
        EL_RETURN_IF_ERROR(PerChannelMultipliers(node, input, filter, output, p.units, &p.multipliers, &p.shifts));
      }
      EL_RETURN_IF_ERROR(QuantizedActivationRange(node, o.activation, output, &p.q_act_min, &p.q_act_max));
      p.input_offset = -input.zero_point;
      p.filter_offset = -static_cast<int32_t>(fq.zero_point[0]);
      if (fq.scale.size() != 1) {
        for (int64_t zp : fq.zero_point) {
          if (zp != 0) return OpError(node, "per-channel int8 weights must be symmetric (zero point 0)");
        }
      }
      p.output_offset = output.zero_point;
      node.kernel_id = KernelId::kFullyConnectedS8;
      break;
    }
    case Flavor::kHybrid:
      EL_RETURN_IF_ERROR(CheckFilterQuantization(node, filter, 0, p.units, false));
      EL_RETURN_IF_ERROR(FloatActivationRange(node, o.activation, &p.act_min, &p.act_max));
      p.channel_scales = ChannelScales(filter);
      p.asymmetric_inputs = o.asymmetric_quantize_inputs;
      node.scratch_bytes = HybridScratch::Bytes(p.batches, p.accum_depth);
      node.kernel_id = KernelId::kFullyConnectedHybrid;
      break;
  }
  node.params = std::move(p);
  return Status::Ok();
}

}  // namespace edgeloop::runtime
