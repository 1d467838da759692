// A tiny protobuf writer and the default model as an ONNX graph of QLinear operators (opset 13):
// QLinearConv (per-channel weights) / MaxPool (int8) / Reshape / QLinearMatMul, then
// DequantizeLinear + Softmax. ONNX is NCW where TFLite is NWC, so the flatten order differs: the
// graph has the same operators, shapes and MAC count, not the same numbers. QLinearMatMul has no
// bias input; the dense layers' 67 bias additions are left out.
#ifndef EDGELOOP_BENCH_INFER_COMPARE_ONNX_WRITER_H_
#define EDGELOOP_BENCH_INFER_COMPARE_ONNX_WRITER_H_

#include <cstdint>
#include <string>

#include "bench/infer_compare/default_model.h"

namespace edgeloop::bench {

// The serialized ModelProto for a fixed batch.
std::string DefaultModelOnnx(const DefaultModel& m, int batch);

}  // namespace edgeloop::bench

#endif  // EDGELOOP_BENCH_INFER_COMPARE_ONNX_WRITER_H_
