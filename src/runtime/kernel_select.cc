#include "runtime/kernel_select.h"

#include "runtime/kernels/reference/reference_kernels.h"

namespace edgeloop::runtime {
namespace {

namespace ref = reference;

struct Entry {
  KernelId id;
  KernelChoice choice;
};

constexpr Entry kReference[] = {
    {KernelId::kConvF32, {ref::ConvF32, "conv_f32_ref"}},
    {KernelId::kConvS8, {ref::ConvS8, "conv_s8_ref"}},
    {KernelId::kConvHybrid, {ref::ConvHybrid, "conv_hybrid_ref"}},
    {KernelId::kDepthwiseConvF32, {ref::DepthwiseConvF32, "dwconv_f32_ref"}},
    {KernelId::kDepthwiseConvS8, {ref::DepthwiseConvS8, "dwconv_s8_ref"}},
    {KernelId::kDepthwiseConvHybrid, {ref::DepthwiseConvHybrid, "dwconv_hybrid_ref"}},
    {KernelId::kFullyConnectedF32, {ref::FullyConnectedF32, "fc_f32_ref"}},
    {KernelId::kFullyConnectedS8, {ref::FullyConnectedS8, "fc_s8_ref"}},
    {KernelId::kFullyConnectedHybrid, {ref::FullyConnectedHybrid, "fc_hybrid_ref"}},
    {KernelId::kMaxPoolF32, {ref::MaxPoolF32, "maxpool_f32_ref"}},
    {KernelId::kMaxPoolS8, {ref::MaxPoolS8, "maxpool_s8_ref"}},
    {KernelId::kAveragePoolF32, {ref::AveragePoolF32, "avgpool_f32_ref"}},
    {KernelId::kAveragePoolS8, {ref::AveragePoolS8, "avgpool_s8_ref"}},
    {KernelId::kSoftmaxF32, {ref::SoftmaxF32, "softmax_f32_ref"}},
    {KernelId::kSoftmaxS8, {ref::SoftmaxS8, "softmax_s8_ref"}},
    {KernelId::kLogisticF32, {ref::LogisticF32, "logistic_f32_ref"}},
    {KernelId::kLogisticS8, {ref::LogisticS8, "logistic_s8_ref"}},
    {KernelId::kTanhF32, {ref::TanhF32, "tanh_f32_ref"}},
    {KernelId::kReluF32, {ref::ReluF32, "relu_f32_ref"}},
    {KernelId::kRelu6F32, {ref::Relu6F32, "relu6_f32_ref"}},
    {KernelId::kAddF32, {ref::AddF32, "add_f32_ref"}},
    {KernelId::kAddS8, {ref::AddS8, "add_s8_ref"}},
    {KernelId::kSubF32, {ref::SubF32, "sub_f32_ref"}},
    {KernelId::kMulF32, {ref::MulF32, "mul_f32_ref"}},
    {KernelId::kMulS8, {ref::MulS8, "mul_s8_ref"}},
    {KernelId::kMeanF32, {ref::MeanF32, "mean_f32_ref"}},
    {KernelId::kPad, {ref::Pad, "pad_ref"}},
    {KernelId::kCopy, {ref::Copy, "copy_ref"}},
    {KernelId::kStridedSlice, {ref::StridedSlice, "strided_slice_ref"}},
    {KernelId::kPack, {ref::Pack, "pack_ref"}},
    {KernelId::kShape, {ref::Shape, "shape_ref"}},
    {KernelId::kQuantizeF32, {ref::QuantizeF32, "quantize_f32_ref"}},
    {KernelId::kRequantize, {ref::Requantize, "requantize_ref"}},
    {KernelId::kDequantize, {ref::Dequantize, "dequantize_ref"}},
};
static_assert(sizeof(kReference) / sizeof(kReference[0]) == static_cast<size_t>(KernelId::kCount) - 1,
              "every KernelId needs a reference kernel");

// Optimized kernels: {id, {fn, name}, required CPU features}. Empty until the x86/ARM kernels land;
// each must pass the bit-exact comparison against ReferenceKernel(id) before it is listed here.
struct OptimizedEntry {
  KernelId id;
  KernelChoice choice;
  bool (*cpu_supports)();
};
constexpr OptimizedEntry* kOptimized = nullptr;
constexpr size_t kOptimizedCount = 0;

}  // namespace

KernelChoice ReferenceKernel(KernelId id) {
  for (const Entry& e : kReference) {
    if (e.id == id) return e.choice;
  }
  return {};
}

KernelChoice SelectKernel(KernelId id, KernelSet set) {
  if (set == KernelSet::kAuto) {
    for (size_t i = 0; i < kOptimizedCount; ++i) {
      if (kOptimized[i].id == id && kOptimized[i].cpu_supports()) return kOptimized[i].choice;
    }
  }
  return ReferenceKernel(id);
}

}  // namespace edgeloop::runtime
