// A small builder for tflite::Graph values in tests: tensors (activations, constants of any type,
// quantization), operators and the graph's inputs/outputs, so a test states a model in a few lines.
// Header-only: it only fills the IR's plain structs. Not thread-safe.
#ifndef EDGELOOP_TEST_SUPPORT_GRAPH_BUILDER_H_
#define EDGELOOP_TEST_SUPPORT_GRAPH_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "edgeloop/tflite/model.h"

namespace edgeloop::testing_support {

inline tflite::Quantization Quant(float scale, int64_t zero_point) {
  tflite::Quantization q;
  q.scale = {scale};
  q.zero_point = {zero_point};
  return q;
}

inline tflite::Quantization PerChannelQuant(std::vector<float> scales, int32_t dimension) {
  tflite::Quantization q;
  q.zero_point.assign(scales.size(), 0);
  q.scale = std::move(scales);
  q.quantized_dimension = dimension;
  return q;
}

template <typename T>
std::vector<uint8_t> ToBytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

class GraphBuilder {
 public:
  // An activation tensor (no data).
  int Tensor(const std::string& name, tflite::TensorType type, std::vector<int32_t> shape,
             tflite::Quantization quant = {}) {
    tflite::Tensor t;
    t.name = name;
    t.type = type;
    t.shape = std::move(shape);
    t.quant = std::move(quant);
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  // An activation tensor that is also a graph input.
  int Input(const std::string& name, tflite::TensorType type, std::vector<int32_t> shape,
            tflite::Quantization quant = {}) {
    const int t = Tensor(name, type, std::move(shape), std::move(quant));
    graph_.inputs.push_back(t);
    return t;
  }
  // A constant tensor holding `values` (little-endian, as the host is).
  template <typename T>
  int Const(const std::string& name, tflite::TensorType type, std::vector<int32_t> shape, const std::vector<T>& values,
            tflite::Quantization quant = {}) {
    const int t = Tensor(name, type, std::move(shape), std::move(quant));
    graph_.tensors[t].data = ToBytes(values);
    return t;
  }
  int ConstF32(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& values) {
    return Const(name, tflite::TensorType::kFloat32, std::move(shape), values);
  }
  int ConstI32(const std::string& name, std::vector<int32_t> shape, const std::vector<int32_t>& values,
               tflite::Quantization quant = {}) {
    return Const(name, tflite::TensorType::kInt32, std::move(shape), values, std::move(quant));
  }
  int ConstI8(const std::string& name, std::vector<int32_t> shape, const std::vector<int8_t>& values,
              tflite::Quantization quant) {
    return Const(name, tflite::TensorType::kInt8, std::move(shape), values, std::move(quant));
  }
  void Op(tflite::BuiltinOp op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          tflite::OpOptions options = {}, int32_t version = 1) {
    tflite::Operator o;
    o.op = op;
    o.inputs = std::move(inputs);
    o.outputs = std::move(outputs);
    o.options = std::move(options);
    o.version = version;
    graph_.operators.push_back(std::move(o));
  }
  void Output(int tensor) { graph_.outputs.push_back(tensor); }

  tflite::Graph& graph() { return graph_; }
  tflite::Graph Build() const { return graph_; }

 private:
  tflite::Graph graph_;
};

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_GRAPH_BUILDER_H_
