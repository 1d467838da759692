// Test helpers for the runtime: run a Graph on given input bytes and get the output bytes and
// shapes back; typed views of byte vectors. Test-only.
#ifndef EDGELOOP_RUNTIME_TEST_UTIL_H_
#define EDGELOOP_RUNTIME_TEST_UTIL_H_

#include <cstring>
#include <vector>

#include "edgeloop/runtime/interpreter.h"
#include "test/support/graph_builder.h"

namespace edgeloop::runtime {

struct RunOutput {
  Status status;
  std::vector<std::vector<uint8_t>> outputs;
  std::vector<std::vector<int32_t>> shapes;
};

inline RunOutput RunGraph(const tflite::Graph& graph, const std::vector<std::vector<uint8_t>>& inputs,
                          InterpreterOptions options = {}) {
  RunOutput r;
  auto interp = Interpreter::Create(graph, options);
  if (!interp.ok()) {
    r.status = interp.status();
    return r;
  }
  for (size_t i = 0; i < inputs.size() && i < (*interp)->input_count(); ++i) {
    TensorInfo in = (*interp)->input(i);
    if (in.bytes != inputs[i].size()) {
      r.status = Status::InvalidArgument("test input " + std::to_string(i) + " has " +
                                         std::to_string(inputs[i].size()) + " bytes, the tensor " +
                                         std::to_string(in.bytes));
      return r;
    }
    if (in.bytes > 0) std::memcpy(in.data, inputs[i].data(), in.bytes);
  }
  r.status = (*interp)->Invoke();
  for (size_t i = 0; i < (*interp)->output_count(); ++i) {
    TensorInfo out = (*interp)->output(i);
    r.outputs.emplace_back(out.data, out.data + out.bytes);
    r.shapes.emplace_back(out.shape.begin(), out.shape.end());
  }
  return r;
}

template <typename T>
std::vector<T> As(const std::vector<uint8_t>& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

using testing_support::ToBytes;

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_TEST_UTIL_H_
