#include "edgeloop/runtime/quantization.h"

#include "runtime/kernels/quant_math.h"
#include "runtime/ops/ops.h"

namespace edgeloop::runtime {

int32_t QuantizeValue(float value, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  return AffineQuantize(value, scale, zero_point, qmin, qmax);
}

int32_t QuantizeValue(float value, float scale, int32_t zero_point, tflite::TensorType type) {
  int32_t qmin = 0, qmax = 0;
  TypeRange(type, &qmin, &qmax);
  return AffineQuantize(value, scale, zero_point, qmin, qmax);
}

float DequantizeValue(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(static_cast<double>(scale) * (static_cast<int64_t>(q) - zero_point));
}

}  // namespace edgeloop::runtime
