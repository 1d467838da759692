// Reference kernels that move or reduce data without arithmetic on its encoding: RESHAPE /
// EXPAND_DIMS / SQUEEZE (a copy), STRIDED_SLICE, PACK, SHAPE and PAD for any element size, and
// MEAN on float32.
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime::reference {

void Copy(const Node& node) {
  const RtTensor& in = node.in(0);
  if (in.bytes > 0 && in.data != node.out(0).data) std::memcpy(node.out(0).data, in.data, in.bytes);
}

void StridedSlice(const Node& node) {
  const auto& p = node.p<StridedSliceParams>();
  const RtTensor& in = node.in(0);
  const size_t size = static_cast<size_t>(tflite::TensorTypeSize(in.type));
  const uint8_t* src = in.data;
  uint8_t* dst = node.out(0).data;
  auto done = [](int32_t i, int32_t stop, int32_t stride) { return stride > 0 ? i >= stop : i <= stop; };
  const auto& d = p.in_dims;
  for (int32_t i0 = p.start[0]; !done(i0, p.stop[0], p.stride[0]); i0 += p.stride[0]) {
    for (int32_t i1 = p.start[1]; !done(i1, p.stop[1], p.stride[1]); i1 += p.stride[1]) {
      for (int32_t i2 = p.start[2]; !done(i2, p.stop[2], p.stride[2]); i2 += p.stride[2]) {
        for (int32_t i3 = p.start[3]; !done(i3, p.stop[3], p.stride[3]); i3 += p.stride[3]) {
          for (int32_t i4 = p.start[4]; !done(i4, p.stop[4], p.stride[4]); i4 += p.stride[4]) {
            const int64_t index = (((static_cast<int64_t>(i0) * d[1] + i1) * d[2] + i2) * d[3] + i3) * d[4] + i4;
            std::memcpy(dst, src + index * size, size);
            dst += size;
          }
        }
      }
    }
  }
}

void Pack(const Node& node) {
  const auto& p = node.p<PackParams>();
  const size_t values = node.inputs.size();
  uint8_t* dst = node.out(0).data;
  for (int64_t o = 0; o < p.outer; ++o) {
    for (size_t v = 0; v < values; ++v) {
      std::memcpy(dst, node.in(v).data + o * p.inner_bytes, static_cast<size_t>(p.inner_bytes));
      dst += p.inner_bytes;
    }
  }
}

void Shape(const Node& node) {
  const auto& p = node.p<ShapeParams>();
  const std::vector<int32_t>& dims = node.in(0).shape;
  const RtTensor& out = node.out(0);
  for (size_t i = 0; i < dims.size(); ++i) {
    if (p.out_type == tflite::TensorType::kInt64) {
      out.as<int64_t>()[i] = dims[i];
    } else {
      out.as<int32_t>()[i] = dims[i];
    }
  }
}

void Pad(const Node& node) {
  const auto& p = node.p<PadParams>();
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  const size_t size = static_cast<size_t>(tflite::TensorTypeSize(in.type));
  // Fill with the pad value (one byte for the quantized 8-bit types, all-zero bits otherwise).
  std::memset(out.data, size == 1 ? static_cast<uint8_t>(p.pad_value) : 0, out.bytes);
  const size_t rank = p.in_dims.size();
  if (in.elements == 0) return;
  std::vector<int64_t> out_strides(rank, 1);
  for (size_t d = rank; d-- > 1;) out_strides[d - 1] = out_strides[d] * out.shape[d];
  std::vector<int32_t> index(rank, 0);
  for (int64_t i = 0; i < in.elements; ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) o += (index[d] + p.before[d]) * out_strides[d];
    std::memcpy(out.data + o * size, in.data + i * size, size);
    for (size_t d = rank; d-- > 0;) {  // next input index, last dimension fastest
      if (++index[d] < p.in_dims[d]) break;
      index[d] = 0;
    }
  }
}

void MeanF32(const Node& node) {
  const auto& p = node.p<MeanParams>();
  const RtTensor& in = node.in(0);
  const RtTensor& out = node.out(0);
  const float* x = in.as<float>();
  float* y = out.as<float>();
  for (int64_t i = 0; i < out.elements; ++i) y[i] = 0.f;
  const size_t rank = p.in_dims.size();
  // Output strides over the kept dimensions (a reduced dimension maps every index to 0).
  std::vector<int64_t> out_strides(rank, 0);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    if (p.reduced[d]) continue;
    out_strides[d] = stride;
    stride *= p.in_dims[d];
  }
  std::vector<int32_t> index(rank, 0);
  for (int64_t i = 0; i < in.elements; ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) o += index[d] * out_strides[d];
    y[o] += x[i];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < p.in_dims[d]) break;
      index[d] = 0;
    }
  }
  const float count = static_cast<float>(p.count);
  for (int64_t i = 0; i < out.elements; ++i) y[i] = p.count == 0 ? 0.f : y[i] / count;
}

}  // namespace edgeloop::runtime::reference
