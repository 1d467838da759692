// The reference kernels: plain loops that are the specification of every operator (as TFLite's
// reference kernels are for TFLite). Optimized kernels must match them bit for bit. Each reads a
// Node whose Prepare has validated shapes, types and parameters; none allocates or fails.
// Thread-safety: stateless functions; a Node must not be run by two threads at once.
#ifndef EDGELOOP_RUNTIME_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
#define EDGELOOP_RUNTIME_KERNELS_REFERENCE_REFERENCE_KERNELS_H_

#include <cstdint>

#include "runtime/node.h"

namespace edgeloop::runtime::reference {

// conv.cc
void ConvF32(const Node& node);
void ConvS8(const Node& node);
void ConvHybrid(const Node& node);
void DepthwiseConvF32(const Node& node);
void DepthwiseConvS8(const Node& node);
void DepthwiseConvHybrid(const Node& node);
// fully_connected.cc
void FullyConnectedF32(const Node& node);
void FullyConnectedS8(const Node& node);
void FullyConnectedHybrid(const Node& node);
// Quantizes `size` floats to int8 the way TFLite's hybrid kernels do: symmetric (offset 0, values
// in [-127, 127]) or asymmetric (a zero point, values in [-128, 127]). scale = real per unit.
void QuantizeRowForHybrid(const float* values, int64_t size, bool asymmetric, int8_t* quantized, float* scale,
                          int32_t* offset);
// pooling.cc
void MaxPoolF32(const Node& node);
void MaxPoolS8(const Node& node);
void AveragePoolF32(const Node& node);
void AveragePoolS8(const Node& node);
// activations.cc
void SoftmaxF32(const Node& node);
void SoftmaxS8(const Node& node);
void LogisticF32(const Node& node);
void LogisticS8(const Node& node);
void TanhF32(const Node& node);
void ReluF32(const Node& node);
void Relu6F32(const Node& node);
// elementwise.cc
void AddF32(const Node& node);
void AddS8(const Node& node);
void SubF32(const Node& node);
void MulF32(const Node& node);
void MulS8(const Node& node);
// quantize.cc
void QuantizeF32(const Node& node);
void Requantize(const Node& node);
void Dequantize(const Node& node);
// data_movement.cc
void Copy(const Node& node);
void StridedSlice(const Node& node);
void Pack(const Node& node);
void Shape(const Node& node);
void Pad(const Node& node);
void MeanF32(const Node& node);

}  // namespace edgeloop::runtime::reference

#endif  // EDGELOOP_RUNTIME_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
