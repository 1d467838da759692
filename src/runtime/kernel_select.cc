#include "runtime/kernel_select.h"

#include <cstdlib>
#include <string>

#include "runtime/kernels/cpu_features.h"
#include "runtime/kernels/gemm_s8.h"
#include "runtime/kernels/softmax_s8.h"
#include "runtime/kernels/reference/reference_kernels.h"
#if defined(__x86_64__)
#include "runtime/kernels/x86/x86_kernels.h"
#elif defined(__aarch64__)
#include "runtime/kernels/arm/arm_kernels.h"
#endif

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

// Optimized kernels, best first. Each passes the bit-exact comparison against ReferenceKernel(id)
// (optimized_kernels_test.cc). `prepare` packs what the kernel needs and returns false for nodes
// it does not handle, which then keep the reference kernel.
struct OptimizedEntry {
  KernelId id;
  KernelSet level;
  KernelChoice choice;
  bool (*prepare)(Node& node);
};

bool NoPacking(Node&) { return true; }

#if defined(__x86_64__)
bool PackConvK4N16U8(Node& n) { return optimized::PackConvS8(n, optimized::GemmLayout::kK4N16S8, -128); }
bool PackFcK4N16U8(Node& n) { return optimized::PackFullyConnectedS8(n, optimized::GemmLayout::kK4N16S8, -128); }
bool PackConvK2N8(Node& n) { return optimized::PackConvS8(n, optimized::GemmLayout::kK2N8S16, 0); }
bool PackFcK2N8(Node& n) { return optimized::PackFullyConnectedS8(n, optimized::GemmLayout::kK2N8S16, 0); }

const OptimizedEntry kOptimized[] = {
    {KernelId::kConvS8, KernelSet::kAvx512Vnni, {x86::ConvS8Avx512Vnni, "conv_s8_k4n16_avx512vnni"}, PackConvK4N16U8},
    {KernelId::kFullyConnectedS8, KernelSet::kAvx512Vnni, {x86::FullyConnectedS8Avx512Vnni, "fc_s8_k4n16_avx512vnni"},
     PackFcK4N16U8},
    {KernelId::kConvS8, KernelSet::kAvx2, {x86::ConvS8Avx2, "conv_s8_k2n8_avx2"}, PackConvK2N8},
    {KernelId::kFullyConnectedS8, KernelSet::kAvx2, {x86::FullyConnectedS8Avx2, "fc_s8_k2n8_avx2"}, PackFcK2N8},
    {KernelId::kMaxPoolS8, KernelSet::kAvx2, {x86::MaxPoolS8Avx2, "maxpool_s8_c32_avx2"}, NoPacking},
    {KernelId::kSoftmaxS8, KernelSet::kAvx2, {optimized::SoftmaxS8Lut, "softmax_s8_lut"}, optimized::PackSoftmaxS8Lut},
};

// Levels whose kernels `set` may use.
bool Allows(KernelSet set, KernelSet level) {
  if (set == level) return true;
  return set == KernelSet::kAvx512Vnni && level == KernelSet::kAvx2;
}

// CONV_2D kernels with a MAX_POOL_2D variant (same packing).
struct FusedEntry {
  KernelFn conv;
  KernelChoice fused;
};
const FusedEntry kFusedMaxPool[] = {
    {x86::ConvS8Avx512Vnni, {x86::ConvMaxPoolS8Avx512Vnni, "conv_maxpool_s8_k4n16_avx512vnni"}},
};
#elif defined(__aarch64__)
bool PackConvK4N16(Node& n) { return optimized::PackConvS8(n, optimized::GemmLayout::kK4N16S8, 0); }
bool PackFcK4N16(Node& n) { return optimized::PackFullyConnectedS8(n, optimized::GemmLayout::kK4N16S8, 0); }
bool PackConvK1N8(Node& n) { return optimized::PackConvS8(n, optimized::GemmLayout::kK1N8S16, 0); }
bool PackFcK1N8(Node& n) { return optimized::PackFullyConnectedS8(n, optimized::GemmLayout::kK1N8S16, 0); }

const OptimizedEntry kOptimized[] = {
    {KernelId::kConvS8, KernelSet::kNeonDot, {arm::ConvS8NeonDot, "conv_s8_k4n16_neondot"}, PackConvK4N16},
    {KernelId::kFullyConnectedS8, KernelSet::kNeonDot, {arm::FullyConnectedS8NeonDot, "fc_s8_k4n16_neondot"},
     PackFcK4N16},
    {KernelId::kConvS8, KernelSet::kNeon, {arm::ConvS8Neon, "conv_s8_k1n8_neon"}, PackConvK1N8},
    {KernelId::kFullyConnectedS8, KernelSet::kNeon, {arm::FullyConnectedS8Neon, "fc_s8_k1n8_neon"}, PackFcK1N8},
    {KernelId::kMaxPoolS8, KernelSet::kNeon, {arm::MaxPoolS8Neon, "maxpool_s8_c16_neon"}, NoPacking},
    {KernelId::kSoftmaxS8, KernelSet::kNeon, {optimized::SoftmaxS8Lut, "softmax_s8_lut"}, optimized::PackSoftmaxS8Lut},
};

bool Allows(KernelSet set, KernelSet level) {
  if (set == level) return true;
  return set == KernelSet::kNeonDot && level == KernelSet::kNeon;
}

struct FusedEntry {
  KernelFn conv;
  KernelChoice fused;
};
const FusedEntry kFusedMaxPool[] = {{nullptr, {}}};  // NEON: conv and pool stay two kernels
#else
const OptimizedEntry kOptimized[] = {
    {KernelId::kNone, KernelSet::kReference, {}, NoPacking},
};
struct FusedEntry {
  KernelFn conv;
  KernelChoice fused;
};
const FusedEntry kFusedMaxPool[] = {{nullptr, {}}};
bool Allows(KernelSet, KernelSet) { return false; }
#endif

}  // namespace

KernelChoice ReferenceKernel(KernelId id) {
  for (const Entry& e : kReference) {
    if (e.id == id) return e.choice;
  }
  return {};
}

bool SelectKernel(Node& node, KernelSet set) {
  node.packed.reset();
  if (set != KernelSet::kReference && set != KernelSet::kAuto && KernelSetSupported(set)) {
    for (const OptimizedEntry& e : kOptimized) {
      if (e.id != node.kernel_id || !Allows(set, e.level)) continue;
      const size_t scratch = node.scratch_bytes;
      if (!e.prepare(node)) {
        node.packed.reset();
        node.scratch_bytes = scratch;
        continue;
      }
      node.kernel = e.choice.fn;
      node.kernel_name = e.choice.name;
      return true;
    }
  }
  const KernelChoice ref = ReferenceKernel(node.kernel_id);
  node.kernel = ref.fn;
  node.kernel_name = ref.name;
  return ref.fn != nullptr;
}

bool FuseConvMaxPool(Node& conv, const Node& pool) {
  if (conv.kernel_id != KernelId::kConvS8 || pool.kernel_id != KernelId::kMaxPoolS8 || conv.kernel == nullptr) {
    return false;
  }
  for (const FusedEntry& e : kFusedMaxPool) {
    if (e.conv != conv.kernel || e.fused.fn == nullptr) continue;
    if (!optimized::FuseMaxPool(conv, pool)) return false;
    conv.kernel = e.fused.fn;
    conv.kernel_name = e.fused.name;
    return true;
  }
  return false;
}

const char* KernelSetName(KernelSet set) {
  switch (set) {
    case KernelSet::kAuto: return "auto";
    case KernelSet::kReference: return "reference";
    case KernelSet::kAvx2: return "avx2";
    case KernelSet::kAvx512Vnni: return "vnni";
    case KernelSet::kNeon: return "neon";
    case KernelSet::kNeonDot: return "neondot";
  }
  return "?";
}

bool ParseKernelSet(std::string_view name, KernelSet* set) {
  for (KernelSet s : {KernelSet::kAuto, KernelSet::kReference, KernelSet::kAvx2, KernelSet::kAvx512Vnni,
                      KernelSet::kNeon, KernelSet::kNeonDot}) {
    if (name == KernelSetName(s)) {
      *set = s;
      return true;
    }
  }
  return false;
}

bool KernelSetSupported(KernelSet set) {
  const CpuFeatures& cpu = GetCpuFeatures();
  switch (set) {
    case KernelSet::kAuto:
    case KernelSet::kReference: return true;
    case KernelSet::kAvx2: return cpu.avx2;
    case KernelSet::kAvx512Vnni: return cpu.avx512_vnni;
    case KernelSet::kNeon: return cpu.neon;
    case KernelSet::kNeonDot: return cpu.neon_dot;
  }
  return false;
}

Result<KernelSet> ResolveKernelSet(KernelSet set) {
  if (set == KernelSet::kAuto) {
    const char* env = std::getenv("EDGELOOP_KERNELS");
    if (env != nullptr && *env != '\0' && !ParseKernelSet(env, &set)) {
      return Status::InvalidArgument(std::string("EDGELOOP_KERNELS='") + env +
                                     "' names no kernel level (reference, avx2, vnni, neon, neondot, auto)");
    }
  }
  if (set == KernelSet::kAuto) {
    for (KernelSet s : {KernelSet::kAvx512Vnni, KernelSet::kAvx2, KernelSet::kNeonDot, KernelSet::kNeon}) {
      if (KernelSetSupported(s)) return s;
    }
    return KernelSet::kReference;
  }
  if (!KernelSetSupported(set)) {
    return Status::InvalidArgument(std::string("kernel level '") + KernelSetName(set) + "' is not supported by this CPU");
  }
  return set;
}

}  // namespace edgeloop::runtime
