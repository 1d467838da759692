// Real TFLite models of a chosen size for registry and server tests (test-only header; link
// edgeloop_tflite). They pass tflite::ReadModel, so they get through the server's TFLite gate.
#ifndef EDGELOOP_REGISTRY_TEST_MODELS_H_
#define EDGELOOP_REGISTRY_TEST_MODELS_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "edgeloop/tflite/io.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::registry::testing {

// A float model, input [1, n] -> FULLY_CONNECTED (weights [4, n], bias [4]) -> output [1, 4], of
// about `approx_size` bytes (the weights), with seeded random weights so every seed gives
// different bytes.
inline std::string TfliteModelBytes(size_t approx_size, uint32_t seed) {
  const int32_t n = static_cast<int32_t>(std::max<size_t>(1, approx_size / 16));
  tflite::Graph g;
  auto tensor = [&](std::string name, std::vector<int32_t> shape, size_t data_bytes) {
    tflite::Tensor t;
    t.name = std::move(name);
    t.type = tflite::TensorType::kFloat32;
    t.shape = std::move(shape);
    t.data.resize(data_bytes);
    g.tensors.push_back(std::move(t));
    return static_cast<int32_t>(g.tensors.size() - 1);
  };
  int32_t in = tensor("input", {1, n}, 0);
  int32_t w = tensor("dense/weights", {4, n}, static_cast<size_t>(n) * 4 * 4);
  int32_t b = tensor("dense/bias", {4}, 16);
  int32_t out = tensor("output", {1, 4}, 0);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < g.tensors[w].data.size(); i += 4) {
    float v = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
    std::memcpy(&g.tensors[w].data[i], &v, 4);
  }
  tflite::Operator fc;
  fc.op = tflite::BuiltinOp::kFullyConnected;
  fc.inputs = {in, w, b};
  fc.outputs = {out};
  fc.options = tflite::FullyConnectedOptions{};
  g.operators.push_back(fc);
  g.inputs = {in};
  g.outputs = {out};
  auto bytes = tflite::WriteModel(g);
  if (!bytes.ok()) throw std::runtime_error("TfliteModelBytes: " + bytes.status().ToString());
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace edgeloop::registry::testing

#endif  // EDGELOOP_REGISTRY_TEST_MODELS_H_
