// Reference QUANTIZE (float32 -> int8/uint8; int8/uint8 -> int8/uint8) and DEQUANTIZE
// (int8/uint8/int16 -> float32 with TFLite's double-precision scale; float16 -> float32).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/kernels/quant_math.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {
namespace {

using tflite::TensorType;

int32_t LoadQuantized(const RtTensor& t, int64_t i) {
  switch (t.type) {
    case TensorType::kInt8: return t.as<int8_t>()[i];
    case TensorType::kUInt8: return t.as<uint8_t>()[i];
    case TensorType::kInt16: return t.as<int16_t>()[i];
    default: return 0;  // Prepare admits no other type
  }
}

void StoreQuantized(const RtTensor& t, int64_t i, int32_t v) {
  if (t.type == TensorType::kUInt8) {
    t.as<uint8_t>()[i] = static_cast<uint8_t>(v);
  } else {
    t.as<int8_t>()[i] = static_cast<int8_t>(v);
  }
}

// IEEE 754 binary16 -> binary32, exact for every value (subnormals, infinities, NaN).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits = 0;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {
    int e = 113;  // normalise the subnormal
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mantissa & 0x3ffu) << 13);
  } else {
    bits = sign;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

void QuantizeF32(const Node& node) {
  const auto& p = node.p<QuantizeParams>();
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  const float* x = in.as<float>();
  for (int64_t i = 0; i < in.elements; ++i) {
    StoreQuantized(out, i, AffineQuantize(x[i], p.scale, p.output_zero_point, p.qmin, p.qmax));
  }
}

void Requantize(const Node& node) {
  const auto& p = node.p<QuantizeParams>();
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  for (int64_t i = 0; i < in.elements; ++i) {
    const int32_t v = MultiplyByQuantizedMultiplier(LoadQuantized(in, i) - p.input_zero_point, p.multiplier, p.shift);
    StoreQuantized(out, i, std::clamp(WrappingAdd(v, p.output_zero_point), p.qmin, p.qmax));
  }
}

void Dequantize(const Node& node) {
  const auto& p = node.p<QuantizeParams>();
  const RtTensor& in = node.in(0);
  float* y = node.out(0).as<float>();
  if (in.type == TensorType::kFloat16) {
    const uint8_t* bytes = in.data;
    for (int64_t i = 0; i < in.elements; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * i, 2);
      y[i] = HalfToFloat(h);
    }
    return;
  }
  for (int64_t i = 0; i < in.elements; ++i) {
    y[i] = static_cast<float>(p.dequant_scale * (LoadQuantized(in, i) - p.input_zero_point));
  }
}

}  // namespace edgeloop::runtime::reference
