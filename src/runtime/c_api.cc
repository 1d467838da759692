// The C API (include/edgeloop/runtime/c_api.h) over runtime::Interpreter.
#include "edgeloop/runtime/c_api.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/runtime/interpreter.h"

struct el_tensor {
  std::string name;
  edgeloop::runtime::TensorInfo info;
};

struct el_model {
  std::unique_ptr<edgeloop::runtime::Interpreter> interpreter;
  std::vector<el_tensor> inputs, outputs;
};

namespace {

thread_local std::string g_last_error;

void SetError(std::string message) { g_last_error = std::move(message); }

std::vector<el_tensor> Views(const edgeloop::runtime::Interpreter& interp, bool inputs) {
  std::vector<el_tensor> views;
  const size_t n = inputs ? interp.input_count() : interp.output_count();
  for (size_t i = 0; i < n; ++i) {
    const edgeloop::runtime::TensorInfo info = inputs ? interp.input(i) : interp.output(i);
    views.push_back(el_tensor{std::string(info.name), info});
  }
  return views;
}

}  // namespace

extern "C" {

el_model* el_model_load(const void* bytes, size_t size) { return el_model_load_batch(bytes, size, 1); }

el_model* el_model_load_batch(const void* bytes, size_t size, int batch) {
  if (bytes == nullptr && size > 0) {
    SetError("el_model_load: bytes is NULL");
    return nullptr;
  }
  edgeloop::runtime::InterpreterOptions options;
  options.batch = batch;
  auto interp = edgeloop::runtime::Interpreter::CreateFromBytes(
      std::span<const uint8_t>(static_cast<const uint8_t*>(bytes), size), options);
  if (!interp.ok()) {
    SetError(interp.status().ToString());
    return nullptr;
  }
  auto model = std::make_unique<el_model>();
  model->interpreter = std::move(interp).value();
  model->inputs = Views(*model->interpreter, true);
  model->outputs = Views(*model->interpreter, false);
  g_last_error.clear();
  return model.release();
}

void el_model_free(el_model* model) { delete model; }

int el_invoke(el_model* model) {
  if (model == nullptr) {
    SetError("el_invoke: model is NULL");
    return 1;
  }
  const edgeloop::Status s = model->interpreter->Invoke();
  if (!s.ok()) {
    SetError(s.ToString());
    return 1;
  }
  return 0;
}

size_t el_model_arena_bytes(const el_model* model) { return model ? model->interpreter->arena_bytes() : 0; }

int el_input_count(const el_model* model) { return model ? static_cast<int>(model->inputs.size()) : 0; }
int el_output_count(const el_model* model) { return model ? static_cast<int>(model->outputs.size()) : 0; }

const el_tensor* el_input(const el_model* model, int index) {
  if (model == nullptr || index < 0 || static_cast<size_t>(index) >= model->inputs.size()) {
    SetError("el_input: no input " + std::to_string(index));
    return nullptr;
  }
  return &model->inputs[index];
}

const el_tensor* el_output(const el_model* model, int index) {
  if (model == nullptr || index < 0 || static_cast<size_t>(index) >= model->outputs.size()) {
    SetError("el_output: no output " + std::to_string(index));
    return nullptr;
  }
  return &model->outputs[index];
}

const char* el_tensor_name(const el_tensor* t) { return t ? t->name.c_str() : ""; }
int el_tensor_type(const el_tensor* t) { return t ? static_cast<int>(t->info.type) : -1; }
int el_tensor_rank(const el_tensor* t) { return t ? static_cast<int>(t->info.shape.size()) : 0; }
int el_tensor_dim(const el_tensor* t, int axis) {
  if (t == nullptr || axis < 0 || static_cast<size_t>(axis) >= t->info.shape.size()) return -1;
  return t->info.shape[axis];
}
float el_tensor_scale(const el_tensor* t) { return t ? t->info.scale : 0.0f; }
int32_t el_tensor_zero_point(const el_tensor* t) { return t ? t->info.zero_point : 0; }
void* el_tensor_data(const el_tensor* t) { return t ? t->info.data : nullptr; }
size_t el_tensor_bytes(const el_tensor* t) { return t ? t->info.bytes : 0; }

const char* el_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
