#include "runtime/kernels/gemm_s8.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace edgeloop::runtime::optimized {
namespace {

// FULLY_CONNECTED rows whose length is not a multiple of 4 are copied this many at a time into
// scratch with a padded stride, so no load runs past the input tensor.
constexpr int kRowChunk = 16;

size_t AlignUp(size_t n) { return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment; }

int32_t WrapAdd(int32_t a, int64_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(static_cast<uint64_t>(b)));
}

// Packs weights [n][k] (row-major, int8), the corrected biases and the requantization constants.
bool Pack(Node& node, GemmS8Info info, GemmLayout layout, const int8_t* w, const int32_t* bias, int32_t input_offset,
          int32_t a_bias, const std::vector<int32_t>& multipliers, const std::vector<int32_t>& shifts) {
  info.k_stride = (info.k + 3) / 4 * 4;
  info.block = layout == GemmLayout::kK4N16S8 ? 16 : 8;
  info.n_blocks = (info.n + info.block - 1) / info.block;
  const size_t channels = static_cast<size_t>(info.n_blocks) * info.block;
  const size_t elem = layout == GemmLayout::kK4N16S8 ? 1 : 2;
  size_t at = AlignUp(sizeof(GemmS8Info));
  info.bias_at = static_cast<uint32_t>(at), at += AlignUp(channels * 4);
  info.mult_at = static_cast<uint32_t>(at), at += AlignUp(channels * 4);
  info.lshift_at = static_cast<uint32_t>(at), at += AlignUp(channels * 4);
  info.rshift_at = static_cast<uint32_t>(at), at += AlignUp(channels * 4);
  info.weights_at = static_cast<uint32_t>(at);
  const size_t weight_bytes = channels * static_cast<size_t>(info.k_stride) * elem;
  if (at + weight_bytes > UINT32_MAX) return false;
  AlignedBuffer buffer = AllocateAligned(at + weight_bytes);
  if (!buffer) return false;
  uint8_t* base = buffer.get();
  std::memset(base, 0, at + weight_bytes);
  auto* b = reinterpret_cast<int32_t*>(base + info.bias_at);
  auto* m = reinterpret_cast<int32_t*>(base + info.mult_at);
  auto* ls = reinterpret_cast<int32_t*>(base + info.lshift_at);
  auto* rs = reinterpret_cast<int32_t*>(base + info.rshift_at);
  const bool per_channel = multipliers.size() > 1;
  for (int c = 0; c < info.n; ++c) {
    int64_t sum = 0;
    for (int i = 0; i < info.k; ++i) sum += w[static_cast<int64_t>(c) * info.k + i];
    b[c] = WrapAdd(bias ? bias[c] : 0, sum * (static_cast<int64_t>(input_offset) + a_bias));
    const int32_t shift = shifts[per_channel ? c : 0];
    m[c] = multipliers[per_channel ? c : 0];
    ls[c] = shift > 0 ? shift : 0;
    rs[c] = shift > 0 ? 0 : -shift;
  }
  const int ks = info.k_stride, bl = info.block;
  for (int c = 0; c < info.n; ++c) {
    const int j = c / bl, cc = c % bl;
    for (int i = 0; i < info.k; ++i) {
      const int8_t v = w[static_cast<int64_t>(c) * info.k + i];
      size_t index = 0;
      switch (layout) {
        case GemmLayout::kK4N16S8: index = ((static_cast<size_t>(j) * (ks / 4) + i / 4) * bl + cc) * 4 + i % 4; break;
        case GemmLayout::kK2N8S16: index = ((static_cast<size_t>(j) * (ks / 2) + i / 2) * bl + cc) * 2 + i % 2; break;
        case GemmLayout::kK1N8S16: index = (static_cast<size_t>(j) * ks + i) * bl + cc; break;
      }
      if (elem == 1) {
        reinterpret_cast<int8_t*>(base + info.weights_at)[index] = v;
      } else {
        reinterpret_cast<int16_t*>(base + info.weights_at)[index] = v;
      }
    }
  }
  std::memcpy(base, &info, sizeof(info));
  node.packed = std::move(buffer);
  node.packed_bytes = at + weight_bytes;
  return true;
}

}  // namespace

bool PackConvS8(Node& node, GemmLayout layout, int32_t a_bias) {
  const auto& p = node.p<ConvParams>();
  const auto& in = node.in(0).shape;
  const auto& f = node.in(1).shape;
  const auto& out = node.out(0).shape;
  if (in.size() != 4 || f.size() != 4 || out.size() != 4 || f[3] != in[3]) return false;  // grouped: reference
  if (!node.in(1).is_constant() || (node.in_opt(2) && !node.in(2).is_constant())) return false;
  GemmS8Info info;
  info.batches = in[0], info.in_h = in[1], info.in_w = in[2], info.in_c = in[3];
  info.out_h = out[1], info.out_w = out[2], info.n = out[3];
  info.filter_h = f[1], info.filter_w = f[2];
  info.stride_h = p.stride_h, info.stride_w = p.stride_w, info.dilation_h = p.dilation_h, info.dilation_w = p.dilation_w;
  info.pad_h = p.pad_h, info.pad_w = p.pad_w;
  info.output_offset = p.output_offset, info.act_min = p.q_act_min, info.act_max = p.q_act_max;
  info.input_zero_point = -p.input_offset;
  const int64_t k = static_cast<int64_t>(f[1]) * f[2] * f[3];
  if (k <= 0 || k > (1 << 24) || info.n <= 0) return false;
  info.k = static_cast<int32_t>(k);
  const int64_t k_stride = (k + 3) / 4 * 4;
  // A 1-row filter without vertical padding reads one input row per output row; with no dilation
  // along x the patches of one output row are overlapping runs of that row, padded at both ends.
  if (info.filter_h == 1 && info.pad_h == 0 && info.dilation_w == 1) {
    info.mode = PatchMode::kRowRun;
    const int64_t span = static_cast<int64_t>(info.out_w - 1) * info.stride_w + info.filter_w;
    const int64_t width = std::max<int64_t>(span, static_cast<int64_t>(info.pad_w) + info.in_w);
    if (width * info.in_c > (1 << 26)) return false;
    info.row_bytes = static_cast<int32_t>(width * info.in_c);
    node.scratch_bytes = static_cast<size_t>(info.row_bytes) + kPatchSlack;
  } else {
    info.mode = PatchMode::kIm2col;
    if (static_cast<int64_t>(info.out_w) * k_stride > (1 << 26)) return false;
    node.scratch_bytes = static_cast<size_t>(info.out_w) * static_cast<size_t>(k_stride) + kPatchSlack;
  }
  const int32_t* bias = node.in_opt(2) ? node.in(2).as<int32_t>() : nullptr;
  return Pack(node, info, layout, node.in(1).as<int8_t>(), bias, p.input_offset, a_bias, p.multipliers, p.shifts);
}

bool PackFullyConnectedS8(Node& node, GemmLayout layout, int32_t a_bias) {
  const auto& p = node.p<FullyConnectedParams>();
  if (p.filter_offset != 0 || p.accum_depth <= 0 || p.units <= 0 || p.multipliers.empty()) return false;
  if (!node.in(1).is_constant() || (node.in_opt(2) && !node.in(2).is_constant())) return false;
  GemmS8Info info;
  info.mode = PatchMode::kRows;
  info.batches = p.batches, info.k = p.accum_depth, info.n = p.units;
  info.output_offset = p.output_offset, info.act_min = p.q_act_min, info.act_max = p.q_act_max;
  info.input_zero_point = -p.input_offset;
  const int64_t k_stride = (static_cast<int64_t>(p.accum_depth) + 3) / 4 * 4;
  node.scratch_bytes = p.accum_depth % 4 == 0 ? 0 : static_cast<size_t>(kRowChunk * k_stride) + kPatchSlack;
  const int32_t* bias = node.in_opt(2) ? node.in(2).as<int32_t>() : nullptr;
  return Pack(node, info, layout, node.in(1).as<int8_t>(), bias, p.input_offset, a_bias, p.multipliers, p.shifts);
}

void RunConvS8(const Node& node, GemmRowsFn rows, bool flip_input) {
  const GemmS8Info& info = Info(node);
  const uint8_t* packed = node.packed.get();
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  auto* scratch = reinterpret_cast<int8_t*>(node.scratch);
  const int64_t image = static_cast<int64_t>(info.in_h) * info.in_w * info.in_c;
  const int64_t out_row = static_cast<int64_t>(info.out_w) * info.n;
  for (int b = 0; b < info.batches; ++b) {
    int8_t* out = output + static_cast<int64_t>(b) * info.out_h * out_row;
    ForEachConvRow(info, input + b * image, scratch, flip_input, [&](const int8_t* a, ptrdiff_t a_stride, int oy) {
      rows(a, a_stride, info.out_w, info, packed, out + oy * out_row);
    });
  }
}

bool FuseMaxPool(Node& conv, const Node& pool) {
  if (!conv.packed || conv.outputs.size() != 1 || pool.inputs.empty() || pool.outputs.size() != 1) return false;
  // A copy: the packed buffer is replaced below (and left untouched when fusion declines).
  GemmS8Info info = Info(conv);
  const auto& pp = pool.p<PoolParams>();
  const auto& in = pool.in(0).shape;
  const auto& out = pool.out(0).shape;
  if (in.size() != 4 || out.size() != 4 || in[0] != info.batches || in[3] != info.n || out[0] != in[0] ||
      out[3] != in[3]) {
    return false;
  }
  if (static_cast<int64_t>(in[1]) * in[2] != static_cast<int64_t>(info.out_h) * info.out_w) return false;
  const RtTensor& conv_out = conv.out(0);
  if (pool.in(0).scale != conv_out.scale || pool.in(0).zero_point != conv_out.zero_point ||
      pool.out(0).scale != conv_out.scale || pool.out(0).zero_point != conv_out.zero_point) {
    return false;
  }
  // The monotonicity proof in gemm_s8.h: positive multipliers, and no int32 step can wrap.
  const auto& cp = conv.p<ConvParams>();
  const int8_t* w = conv.in(1).as<int8_t>();
  const int32_t* bias = conv.in_opt(2) ? conv.in(2).as<int32_t>() : nullptr;
  const bool per_channel = cp.multipliers.size() > 1;
  for (int c = 0; c < info.n; ++c) {
    const size_t i = per_channel ? static_cast<size_t>(c) : 0;
    if (i >= cp.multipliers.size() || i >= cp.shifts.size() || cp.multipliers[i] <= 0) return false;
    int64_t bound = bias ? std::abs(static_cast<int64_t>(bias[c])) : 0;
    for (int j = 0; j < info.k; ++j) bound += 255 * std::abs(static_cast<int64_t>(w[static_cast<int64_t>(c) * info.k + j]));
    const int left_shift = cp.shifts[i] > 0 ? cp.shifts[i] : 0;
    const int right_shift = cp.shifts[i] > 0 ? 0 : -cp.shifts[i];
    if (bound > ((int64_t{1} << 31) - 257) >> left_shift) return false;
    // The kernels add 2^(e-1) + output_offset * 2^e before the right shift e: that must not wrap
    // either (|high| <= bound * 2^left_shift).
    const int64_t half = right_shift > 0 ? int64_t{1} << (right_shift - 1) : 0;
    const int64_t addend = half + static_cast<int64_t>(cp.output_offset) * (int64_t{1} << right_shift);
    if ((bound << left_shift) + std::abs(addend) + 1 > INT32_MAX) return false;
  }
  const int64_t acc = static_cast<int64_t>(info.out_h) * info.out_w * info.n_blocks * info.block * 4;
  if (acc > (1 << 28)) return false;
  info.pool_fused = 1;
  info.pool_in_h = in[1], info.pool_in_w = in[2], info.pool_out_h = out[1], info.pool_out_w = out[2];
  info.pool_filter_h = pp.filter_h, info.pool_filter_w = pp.filter_w;
  info.pool_stride_h = pp.stride_h, info.pool_stride_w = pp.stride_w;
  info.pool_pad_h = pp.pad_h, info.pool_pad_w = pp.pad_w;
  info.pool_act_min = pp.q_act_min, info.pool_act_max = pp.q_act_max;
  info.acc_bytes = static_cast<uint32_t>(AlignUp(static_cast<size_t>(acc)));
  const int p_count = info.out_h * info.out_w;
  const bool along_w = in[1] == 1 && pp.filter_h == 1 && pp.pad_h == 0 && out[1] == 1 && pp.filter_w == 2 &&
                       pp.stride_w == 2 && pp.pad_w == 0 && out[2] == p_count / 2;
  const bool along_h = in[2] == 1 && pp.filter_w == 1 && pp.pad_w == 0 && out[2] == 1 && pp.filter_h == 2 &&
                       pp.stride_h == 2 && pp.pad_h == 0 && out[1] == p_count / 2;
  info.pool_pairs = info.out_h == 1 && (along_w || along_h) ? 1 : 0;
  if (info.pool_pairs) info.acc_bytes = 0;  // pooled in registers: no accumulator image
  // The requantization constants of the fused kernels, appended to the packed data.
  const size_t channels = static_cast<size_t>(info.n_blocks) * info.block;
  const size_t old_bytes = AlignUp(conv.packed_bytes), array = AlignUp(channels * 4);
  AlignedBuffer buffer = AllocateAligned(old_bytes + 3 * array);
  if (!buffer || old_bytes + 3 * array > UINT32_MAX) return false;
  std::memset(buffer.get(), 0, old_bytes + 3 * array);
  std::memcpy(buffer.get(), conv.packed.get(), conv.packed_bytes);
  info.mult_odd_at = static_cast<uint32_t>(old_bytes);
  info.addend_at = static_cast<uint32_t>(old_bytes + array);
  info.sign_mask_at = static_cast<uint32_t>(old_bytes + 2 * array);
  const uint8_t* base = buffer.get();
  auto* mult_odd = const_cast<int32_t*>(info.mult_odd(base));
  auto* addend = const_cast<int32_t*>(info.addend(base));
  auto* sign_mask = const_cast<int32_t*>(info.sign_mask(base));
  const int32_t* mult = info.multiplier(base);
  const int32_t* rshift = info.right_shift(base);
  bool shift_left = false, all_round = true;
  for (int c = 0; c < info.n; ++c) {
    mult_odd[c] = c + 1 < info.n ? mult[c + 1] : 0;
    const int e = rshift[c];
    addend[c] = static_cast<int32_t>((e > 0 ? int64_t{1} << (e - 1) : 0) + static_cast<int64_t>(info.output_offset) * (int64_t{1} << e));
    sign_mask[c] = e > 0 ? -1 : 0;
    shift_left = shift_left || info.left_shift(base)[c] > 0;
    all_round = all_round && e > 0;
  }
  info.pool_shift_left = shift_left, info.pool_all_round = all_round;
  info.pool_lo = std::clamp(info.act_min, info.pool_act_min, info.pool_act_max);
  info.pool_hi = std::clamp(info.act_max, info.pool_act_min, info.pool_act_max);
  info.pool_clamps = info.pool_lo > -128 || info.pool_hi < 127;
  std::memcpy(buffer.get(), &info, sizeof(info));
  conv.packed = std::move(buffer);
  conv.packed_bytes = old_bytes + 3 * array;
  conv.scratch_bytes += info.acc_bytes;
  return true;
}

void RunFullyConnectedS8(const Node& node, GemmRowsFn rows) {
  const GemmS8Info& info = Info(node);
  const uint8_t* packed = node.packed.get();
  const int8_t* input = node.in(0).as<int8_t>();
  int8_t* output = node.out(0).as<int8_t>();
  if (info.k == info.k_stride) {
    rows(input, info.k, info.batches, info, packed, output);
    return;
  }
  auto* scratch = reinterpret_cast<int8_t*>(node.scratch);
  for (int b0 = 0; b0 < info.batches; b0 += kRowChunk) {
    const int count = std::min(kRowChunk, info.batches - b0);
    for (int r = 0; r < count; ++r) {
      int8_t* dst = scratch + static_cast<int64_t>(r) * info.k_stride;
      std::memcpy(dst, input + static_cast<int64_t>(b0 + r) * info.k, static_cast<size_t>(info.k));
      std::memset(dst + info.k, 0, static_cast<size_t>(info.k_stride - info.k));
    }
    rows(scratch, info.k_stride, count, info, packed, output + static_cast<int64_t>(b0) * info.n);
  }
}

}  // namespace edgeloop::runtime::optimized
