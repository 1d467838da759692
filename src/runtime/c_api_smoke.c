/* Compiled as C: proof that c_api.h is a plain C header. Used by c_api_test.cc. */
#include <string.h>

#include "edgeloop/runtime/c_api.h"

/* Loads a model, zero-fills input 0, invokes, and returns output 0's size in bytes (-1 on any
 * failure). */
long el_smoke_run_zero(const void* bytes, size_t size) {
  long result = -1;
  el_model* model = el_model_load(bytes, size);
  if (model == NULL) return -1;
  const el_tensor* input = el_input(model, 0);
  if (input != NULL) {
    memset(el_tensor_data(input), 0, el_tensor_bytes(input));
    if (el_invoke(model) == 0) result = (long)el_tensor_bytes(el_output(model, 0));
  }
  el_model_free(model);
  return result;
}
