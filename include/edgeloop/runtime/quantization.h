// TFLite's affine quantization of single values, for code that fills or reads quantized tensors
// outside a kernel (the classifier's input and output, tools): exactly the arithmetic the runtime's
// QUANTIZE / DEQUANTIZE kernels use. Thread-safety: pure functions.
#ifndef EDGELOOP_RUNTIME_QUANTIZATION_H_
#define EDGELOOP_RUNTIME_QUANTIZATION_H_

#include <cstdint>

#include "edgeloop/tflite/model.h"

namespace edgeloop::runtime {

// zero_point + round(value / scale), rounding half away from zero, saturated to [qmin, qmax]
// (values out of range clamp, never wrap; NaN gives the zero point). scale > 0.
int32_t QuantizeValue(float value, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);
// The same with the range of `type` (INT8: [-128, 127], UINT8: [0, 255], INT16, INT32).
int32_t QuantizeValue(float value, float scale, int32_t zero_point, tflite::TensorType type);
// scale * (q - zero_point), computed in double as TFLite's DEQUANTIZE does.
float DequantizeValue(int32_t q, float scale, int32_t zero_point);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_QUANTIZATION_H_
