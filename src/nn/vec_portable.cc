// Element-wise kernels (vec.h), baseline ISA.
#include "nn/vec.h"

namespace edgeloop::nn::vec_portable {
#include "nn/vec_impl.inc"
}  // namespace edgeloop::nn::vec_portable
