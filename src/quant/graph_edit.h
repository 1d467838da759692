// Small editing helpers on tflite::Graph used by the quantizer's rewrites: who produces and who
// consumes a tensor, removing operators, dropping tensors nothing refers to, adding tensors and
// constants. Internal to src/quant. Thread-safety: free functions on values.
#ifndef EDGELOOP_QUANT_GRAPH_EDIT_H_
#define EDGELOOP_QUANT_GRAPH_EDIT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "edgeloop/tflite/model.h"

namespace edgeloop::quant {

// producers[t] = index of the operator writing tensor t, or -1 (graph input, constant, unused).
std::vector<int> TensorProducers(const tflite::Graph& g);
// consumers[t] = indices of the operators reading tensor t (in execution order; repeated when an
// operator reads it twice).
std::vector<std::vector<int>> TensorConsumers(const tflite::Graph& g);
bool IsGraphOutput(const tflite::Graph& g, int tensor);
bool IsGraphInput(const tflite::Graph& g, int tensor);

// Removes the operators whose flag is set (tensors stay; see CompactTensors).
void RemoveOperators(tflite::Graph* g, const std::vector<bool>& remove);
// Removes operators none of whose outputs is read by another operator or is a graph output,
// repeatedly. Returns how many were removed.
int RemoveDeadOperators(tflite::Graph* g);
// Drops tensors no operator and no graph input/output refers to, renumbering the rest. Returns
// old index -> new index (-1 for dropped tensors).
std::vector<int32_t> CompactTensors(tflite::Graph* g);

// Appends a tensor; returns its index.
int AddTensor(tflite::Graph* g, tflite::Tensor t);
template <typename T>
int AddConstant(tflite::Graph* g, const std::string& name, tflite::TensorType type, std::vector<int32_t> shape,
                const std::vector<T>& values) {
  tflite::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return AddTensor(g, std::move(t));
}

// Typed copies of a constant tensor's data (little-endian host assumed, as the tflite module).
std::vector<float> FloatData(const tflite::Tensor& t);
std::vector<int32_t> Int32Data(const tflite::Tensor& t);
template <typename T>
void SetData(tflite::Tensor* t, const std::vector<T>& values) {
  t->data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t->data.data(), values.data(), t->data.size());
}

// IEEE 754 binary16 bits to float.
float HalfToFloat(uint16_t h);

}  // namespace edgeloop::quant

#endif  // EDGELOOP_QUANT_GRAPH_EDIT_H_
