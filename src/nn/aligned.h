// Internal to src/nn: a float vector on 64-byte (cache line / zmm) boundaries.
#ifndef EDGELOOP_SRC_NN_ALIGNED_H_
#define EDGELOOP_SRC_NN_ALIGNED_H_

#include <cstddef>
#include <new>
#include <vector>

namespace edgeloop::nn {

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

using AlignedVector = std::vector<float, AlignedAllocator<float>>;

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_ALIGNED_H_
