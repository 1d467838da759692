// A 64-byte aligned byte buffer owned by a unique_ptr: the arena, folded constants and the packed
// weights of optimized kernels (cache-line aligned so SIMD loads never split a line).
// Thread-safety: plain owning values.
#ifndef EDGELOOP_RUNTIME_ALIGNED_BUFFER_H_
#define EDGELOOP_RUNTIME_ALIGNED_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace edgeloop::runtime {

inline constexpr size_t kBufferAlignment = 64;

struct AlignedFree {
  void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(kBufferAlignment)); }
};
using AlignedBuffer = std::unique_ptr<uint8_t[], AlignedFree>;

// nullptr when out of memory (never throws). Contents are uninitialised.
inline AlignedBuffer AllocateAligned(size_t bytes) {
  void* p = ::operator new[](std::max<size_t>(bytes, 1), std::align_val_t(kBufferAlignment), std::nothrow);
  return AlignedBuffer(static_cast<uint8_t*>(p));
}

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_ALIGNED_BUFFER_H_
