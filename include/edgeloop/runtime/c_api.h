/* A small C API over the edgeloop interpreter, for firmware, other languages and FFI: load a
 * .tflite from bytes, fill input tensors, invoke, read output tensors. Built with the runtime core
 * (also as edgeloop_runtime_noexcept, compiled with -fno-exceptions -fno-rtti).
 *
 * Errors: functions that can fail return NULL or a non-zero int; el_last_error() then describes the
 * most recent failure on the calling thread (naming the operator or tensor, as the C++ API does).
 * Ownership: el_model_load returns a model the caller frees with el_model_free; tensor handles and
 * the pointers they return belong to the model and stay valid until it is freed.
 * Thread-safety: a model is used by one thread at a time; different models are independent. */
#ifndef EDGELOOP_RUNTIME_C_API_H_
#define EDGELOOP_RUNTIME_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct el_model el_model;
typedef struct el_tensor el_tensor;

/* Tensor element types: the TFLite schema's TensorType values. */
enum el_type {
  EL_FLOAT32 = 0,
  EL_FLOAT16 = 1,
  EL_INT32 = 2,
  EL_UINT8 = 3,
  EL_INT64 = 4,
  EL_BOOL = 6,
  EL_INT16 = 7,
  EL_INT8 = 9,
};

/* Verifies, loads and prepares a model (the bytes are copied; free them when this returns).
 * Returns NULL on failure. el_model_load_batch runs `batch` windows per invoke. */
el_model* el_model_load(const void* bytes, size_t size);
el_model* el_model_load_batch(const void* bytes, size_t size, int batch);
void el_model_free(el_model* model);

/* Runs the model on the current input bytes. 0 on success. Allocates nothing. */
int el_invoke(el_model* model);

/* Bytes of the model's arena (all activations and scratch). */
size_t el_model_arena_bytes(const el_model* model);

int el_input_count(const el_model* model);
int el_output_count(const el_model* model);
/* NULL (and an error) when index is out of range. */
const el_tensor* el_input(const el_model* model, int index);
const el_tensor* el_output(const el_model* model, int index);

const char* el_tensor_name(const el_tensor* tensor);
int el_tensor_type(const el_tensor* tensor); /* an el_type */
int el_tensor_rank(const el_tensor* tensor);
int el_tensor_dim(const el_tensor* tensor, int axis); /* -1 when axis is out of range */
float el_tensor_scale(const el_tensor* tensor);       /* 0 when not quantized */
int32_t el_tensor_zero_point(const el_tensor* tensor);
void* el_tensor_data(const el_tensor* tensor); /* inputs: write before el_invoke; outputs: read after */
size_t el_tensor_bytes(const el_tensor* tensor);

/* The last error on this thread ("" when there was none). Valid until the next call on it. */
const char* el_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDGELOOP_RUNTIME_C_API_H_ */
