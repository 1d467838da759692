// The ISA-independent half of the optimized INT8 CONV_2D and FULLY_CONNECTED kernels: both become
// rows of int8 "patches" (an input row for FULLY_CONNECTED, the receptive field of one output pixel
// for CONV_2D) multiplied by a weight matrix that Prepare packed once into the layout the ISA's
// microkernel wants, then requantized per output channel exactly as the reference does.
//
// The arithmetic that keeps them bit-exact: the reference sums w * (x + input_offset) in a wrapping
// int32. The kernels sum w * x (w * (x ^ 0x80) for the unsigned-times-signed VNNI instruction)
// and start from a packed bias that already holds bias + (input_offset + a_bias) * sum(w), all
// modulo 2^32, which is the same number. Taps outside the image read the input zero point, whose
// term cancels against that correction just as the reference's skipped taps contribute nothing.
//
// Layouts (n = output channels, k = patch length, k_stride = k rounded up to 4; pad entries zero):
//   kK4N16S8:  int8  [n/16][k_stride/4][16 channels][4 k]   (AVX-512 VNNI, NEON dot product)
//   kK2N8S16:  int16 [n/8][k_stride/2][8 channels][2 k]     (AVX2 vpmaddwd)
//   kK1N8S16:  int16 [n/8][k_stride][8 channels]            (NEON widening multiply-accumulate)
// Thread-safety: Pack* runs in Prepare; Run* only read the node's packed data and write its
// output and scratch.
#ifndef EDGELOOP_RUNTIME_KERNELS_GEMM_S8_H_
#define EDGELOOP_RUNTIME_KERNELS_GEMM_S8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "runtime/node.h"

namespace edgeloop::runtime::optimized {

enum class GemmLayout { kK4N16S8, kK2N8S16, kK1N8S16 };

enum class PatchMode : int32_t {
  kRows,    // FULLY_CONNECTED: patches are the input rows
  kRowRun,  // CONV_2D with a 1-row filter, no dilation along x: patches overlap in a padded input row
  kIm2col,  // any other CONV_2D: patches gathered per output row
};

// Lives at the start of node.packed, followed by the arrays it points at (by byte offset).
struct GemmS8Info {
  int32_t k = 0, k_stride = 0, n = 0, n_blocks = 0, block = 0;  // block: channels per block
  int32_t output_offset = 0, act_min = 0, act_max = 0;
  uint32_t bias_at = 0, mult_at = 0, lshift_at = 0, rshift_at = 0, weights_at = 0;
  PatchMode mode = PatchMode::kRows;
  int32_t batches = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0;
  int32_t filter_h = 0, filter_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int32_t pad_h = 0, pad_w = 0, row_bytes = 0;  // row_bytes: padded input row (kRowRun)
  int32_t input_zero_point = 0;
  // A MAX_POOL_2D fused into this CONV_2D (FuseMaxPool; pool_fused 0 when none): the pool's view of
  // one image of the conv output ([pool_in_h][pool_in_w][n]), its window and its clamp. The kernel
  // keeps one image's int32 accumulators ([out_h * out_w][n_blocks * block]) in the first
  // acc_bytes of scratch (0 with pool_pairs) and gathers its patches after them.
  int32_t pool_fused = 0, pool_in_h = 0, pool_in_w = 0, pool_out_h = 0, pool_out_w = 0;
  int32_t pool_filter_h = 0, pool_filter_w = 0, pool_stride_h = 1, pool_stride_w = 1, pool_pad_h = 0, pool_pad_w = 0;
  int32_t pool_act_min = 0, pool_act_max = 0;
  uint32_t acc_bytes = 0;
  // Fused requantization, precomputed by FuseMaxPool: per channel the multiplier of the next lane
  // (for the odd lanes' 64-bit products), 2^(e-1) + output_offset * 2^e, and -1 where e > 0; per
  // node whether any channel shifts left, whether every e > 0, and the merged clamp [pool_lo,
  // pool_hi] (pool_clamps 0 when it is the whole int8 range). pool_pairs: the pool takes pairs of
  // consecutive conv outputs (one conv output row, window 2, stride 2, no padding, along the
  // flattened pixels), so a kernel may pool in registers.
  int32_t pool_pairs = 0, pool_shift_left = 0, pool_all_round = 0, pool_clamps = 0, pool_lo = 0, pool_hi = 0;
  uint32_t mult_odd_at = 0, addend_at = 0, sign_mask_at = 0;

  // Per channel, n_blocks * block entries each.
  const int32_t* bias(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + bias_at); }
  const int32_t* multiplier(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + mult_at); }
  const int32_t* left_shift(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + lshift_at); }
  const int32_t* right_shift(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + rshift_at); }
  const uint8_t* weights(const uint8_t* base) const { return base + weights_at; }
  const int32_t* mult_odd(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + mult_odd_at); }
  const int32_t* addend(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + addend_at); }
  const int32_t* sign_mask(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + sign_mask_at); }
};

// Computes `rows` output rows: row r reads k_stride bytes at a + r * a_stride (bytes past k are
// multiplied by zero weights but must be readable) and writes n int8 values at out + r * n.
using GemmRowsFn = void (*)(const int8_t* a, ptrdiff_t a_stride, int rows, const GemmS8Info& info,
                            const uint8_t* packed, int8_t* out);

// Fill node.packed (and node.scratch_bytes) for `layout`. `a_bias` is added to every input byte by
// the microkernel (-128 when it flips int8 to uint8, else 0). False when the node is one these
// kernels do not handle (grouped convolution, a FULLY_CONNECTED filter zero point, ...), or when
// memory runs out: the caller then keeps the reference kernel.
bool PackConvS8(Node& node, GemmLayout layout, int32_t a_bias);
bool PackFullyConnectedS8(Node& node, GemmLayout layout, int32_t a_bias);

// Run a packed node with one ISA's row kernel. Allocate nothing (scratch comes from the arena).
// `flip_input`: the patches handed to `rows` hold x ^ 0x80 (uint8 x + 128) instead of x, so an
// unsigned-times-signed kernel needs no per-load conversion (CONV_2D always gathers its patches).
void RunConvS8(const Node& node, GemmRowsFn rows, bool flip_input = false);
void RunFullyConnectedS8(const Node& node, GemmRowsFn rows);

// CONV_2D + MAX_POOL_2D in one kernel: max-pool the int32 accumulators (bias included) and
// requantize once per pooled output. Bit-exact with the two reference kernels because, on every
// accumulator the conv can produce, requantization followed by the conv's and the pool's clamps is
// a non-decreasing function g, and max(g(a), g(b)) == g(max(a, b)) for any non-decreasing g:
//   - the accumulator is bias + sum w * (x - zp) with |x - zp| <= 255, so |acc| <= B, where
//     B = |bias| + 255 * sum |w| per channel. FuseMaxPool requires B * 2^left_shift <= 2^31 - 257,
//     so neither the accumulator, nor x * 2^left_shift, nor adding the output offset later wraps;
//   - SaturatingRoundingDoublingHighMul(x, q) is floor((x * q + 2^30) / 2^31) for q >= 0 (the
//     saturating case needs q == INT32_MIN): non-decreasing in x when q >= 0; FuseMaxPool requires
//     q > 0 for every channel;
//   - RoundingDivideByPOT rounds x / 2^e to nearest with ties away from zero: non-decreasing;
//   - adding the output offset (no wrap, see above) and clamping to [act_min, act_max], then to the
//     pool's [act_min, act_max], are non-decreasing.
// The kernels then compute RoundingDivideByPOT(h, e) + offset as (h + 2^(e-1) - (h < 0) +
// offset * 2^e) >> e (exact for e > 0: adding a multiple of 2^e commutes with the floor), so
// FuseMaxPool also requires bound * 2^left_shift + |2^(e-1) + offset * 2^e| < 2^31, and apply the two
// clamps as one: clamp(clamp(v, a, b), c, d) == clamp(v, clamp(a, c, d), clamp(b, c, d)).
// Windows are clipped exactly as the reference pool clips them; an empty window gives the
// reference's max of nothing, -128, clamped by the pool. Returns false (the caller keeps both
// nodes as they are) unless `conv` holds packed data from PackConvS8 and `pool` reads exactly this
// conv's output bytes as [batches][h][w][n] with h * w == out_h * out_w and the same quantization.
bool FuseMaxPool(Node& conv, const Node& pool);

// One image's CONV_2D patches, one output row at a time: sink(patches, patch_stride, oy) gets
// info.out_w patches (each k_stride bytes readable, plus kPatchSlack), gathered in `scratch`.
template <typename Sink>
void ForEachConvRow(const GemmS8Info& info, const int8_t* image, int8_t* scratch, bool flip_input, Sink sink);

inline const GemmS8Info& Info(const Node& node) { return *reinterpret_cast<const GemmS8Info*>(node.packed.get()); }

// Bytes readable past the last patch byte a microkernel touches (k rounded up to 4, loads of 4).
inline constexpr int kPatchSlack = 64;

inline void FlipBytes(int8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<int8_t>(static_cast<uint8_t>(bytes[i]) ^ 0x80u);
}

template <typename Sink>
void ForEachConvRow(const GemmS8Info& info, const int8_t* image, int8_t* scratch, bool flip_input, Sink sink) {
  const int8_t zp = static_cast<int8_t>(info.input_zero_point);
  const int64_t in_row = static_cast<int64_t>(info.in_w) * info.in_c;
  const size_t c = static_cast<size_t>(info.in_c);
  for (int oy = 0; oy < info.out_h; ++oy) {
    if (info.mode == PatchMode::kRowRun) {
      const int8_t* src = image + static_cast<int64_t>(oy) * info.stride_h * in_row;
      const size_t left = static_cast<size_t>(info.pad_w) * c;
      std::memset(scratch, zp, left);
      std::memcpy(scratch + left, src, static_cast<size_t>(in_row));
      std::memset(scratch + left + in_row, zp, static_cast<size_t>(info.row_bytes) - left - in_row + kPatchSlack);
      if (flip_input) FlipBytes(scratch, static_cast<size_t>(info.row_bytes) + kPatchSlack);
      sink(static_cast<const int8_t*>(scratch), static_cast<ptrdiff_t>(info.stride_w) * info.in_c, oy);
      continue;
    }
    for (int ox = 0; ox < info.out_w; ++ox) {
      int8_t* patch = scratch + static_cast<int64_t>(ox) * info.k_stride;
      for (int fy = 0; fy < info.filter_h; ++fy) {
        const int iy = oy * info.stride_h - info.pad_h + fy * info.dilation_h;
        for (int fx = 0; fx < info.filter_w; ++fx) {
          const int ix = ox * info.stride_w - info.pad_w + fx * info.dilation_w;
          int8_t* dst = patch + (static_cast<int64_t>(fy) * info.filter_w + fx) * info.in_c;
          if (iy < 0 || iy >= info.in_h || ix < 0 || ix >= info.in_w) {
            std::memset(dst, zp, c);
          } else {
            std::memcpy(dst, image + (static_cast<int64_t>(iy) * info.in_w + ix) * info.in_c, c);
          }
        }
      }
      std::memset(patch + info.k, zp, static_cast<size_t>(info.k_stride - info.k));
    }
    if (flip_input) FlipBytes(scratch, static_cast<size_t>(info.out_w) * static_cast<size_t>(info.k_stride));
    sink(static_cast<const int8_t*>(scratch), static_cast<ptrdiff_t>(info.k_stride), oy);
  }
}

}  // namespace edgeloop::runtime::optimized

#endif  // EDGELOOP_RUNTIME_KERNELS_GEMM_S8_H_
