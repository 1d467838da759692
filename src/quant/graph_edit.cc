#include "quant/graph_edit.h"

#include <algorithm>
#include <cmath>

namespace edgeloop::quant {

std::vector<int> TensorProducers(const tflite::Graph& g) {
  std::vector<int> producers(g.tensors.size(), -1);
  for (size_t i = 0; i < g.operators.size(); ++i) {
    for (int32_t t : g.operators[i].outputs) {
      if (t >= 0 && static_cast<size_t>(t) < producers.size()) producers[t] = static_cast<int>(i);
    }
  }
  return producers;
}

std::vector<std::vector<int>> TensorConsumers(const tflite::Graph& g) {
  std::vector<std::vector<int>> consumers(g.tensors.size());
  for (size_t i = 0; i < g.operators.size(); ++i) {
    for (int32_t t : g.operators[i].inputs) {
      if (t >= 0 && static_cast<size_t>(t) < consumers.size()) consumers[t].push_back(static_cast<int>(i));
    }
  }
  return consumers;
}

bool IsGraphOutput(const tflite::Graph& g, int tensor) {
  return std::find(g.outputs.begin(), g.outputs.end(), tensor) != g.outputs.end();
}

bool IsGraphInput(const tflite::Graph& g, int tensor) {
  return std::find(g.inputs.begin(), g.inputs.end(), tensor) != g.inputs.end();
}

void RemoveOperators(tflite::Graph* g, const std::vector<bool>& remove) {
  std::vector<tflite::Operator> kept;
  kept.reserve(g->operators.size());
  for (size_t i = 0; i < g->operators.size(); ++i) {
    if (i >= remove.size() || !remove[i]) kept.push_back(std::move(g->operators[i]));
  }
  g->operators = std::move(kept);
}

int RemoveDeadOperators(tflite::Graph* g) {
  int removed = 0;
  for (;;) {
    const std::vector<std::vector<int>> consumers = TensorConsumers(*g);
    std::vector<bool> dead(g->operators.size(), false);
    bool any = false;
    for (size_t i = 0; i < g->operators.size(); ++i) {
      bool used = false;
      for (int32_t t : g->operators[i].outputs) {
        if (t >= 0 && (!consumers[t].empty() || IsGraphOutput(*g, t))) used = true;
      }
      if (!used) {
        dead[i] = true;
        any = true;
        ++removed;
      }
    }
    if (!any) return removed;
    RemoveOperators(g, dead);
  }
}

std::vector<int32_t> CompactTensors(tflite::Graph* g) {
  std::vector<bool> used(g->tensors.size(), false);
  auto mark = [&](int32_t t) {
    if (t >= 0 && static_cast<size_t>(t) < used.size()) used[t] = true;
  };
  for (const tflite::Operator& op : g->operators) {
    for (int32_t t : op.inputs) mark(t);
    for (int32_t t : op.outputs) mark(t);
  }
  for (int32_t t : g->inputs) mark(t);
  for (int32_t t : g->outputs) mark(t);
  std::vector<int32_t> remap(g->tensors.size(), -1);
  std::vector<tflite::Tensor> kept;
  for (size_t i = 0; i < g->tensors.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int32_t>(kept.size());
    kept.push_back(std::move(g->tensors[i]));
  }
  g->tensors = std::move(kept);
  auto apply = [&](std::vector<int32_t>& v) {
    for (int32_t& t : v) {
      if (t >= 0) t = remap[t];
    }
  };
  for (tflite::Operator& op : g->operators) {
    apply(op.inputs);
    apply(op.outputs);
  }
  apply(g->inputs);
  apply(g->outputs);
  return remap;
}

int AddTensor(tflite::Graph* g, tflite::Tensor t) {
  g->tensors.push_back(std::move(t));
  return static_cast<int>(g->tensors.size()) - 1;
}

std::vector<float> FloatData(const tflite::Tensor& t) {
  std::vector<float> v(t.data.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
  return v;
}

std::vector<int32_t> Int32Data(const tflite::Tensor& t) {
  std::vector<int32_t> v(t.data.size() / sizeof(int32_t));
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(int32_t));
  return v;
}

float HalfToFloat(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float value;
  if (exponent == 0) {
    value = std::ldexp(static_cast<float>(mantissa), -24);  // zero and subnormals
  } else if (exponent == 31) {
    value = mantissa == 0 ? INFINITY : NAN;
  } else {
    value = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  }
  return sign ? -value : value;
}

}  // namespace edgeloop::quant
