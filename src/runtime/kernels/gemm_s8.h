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

  // Per channel, n_blocks * block entries each.
  const int32_t* bias(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + bias_at); }
  const int32_t* multiplier(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + mult_at); }
  const int32_t* left_shift(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + lshift_at); }
  const int32_t* right_shift(const uint8_t* base) const { return reinterpret_cast<const int32_t*>(base + rshift_at); }
  const uint8_t* weights(const uint8_t* base) const { return base + weights_at; }
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

inline const GemmS8Info& Info(const Node& node) { return *reinterpret_cast<const GemmS8Info*>(node.packed.get()); }

// Bytes readable past the last patch byte a microkernel touches (k rounded up to 4, loads of 4).
inline constexpr int kPatchSlack = 64;

}  // namespace edgeloop::runtime::optimized

#endif  // EDGELOOP_RUNTIME_KERNELS_GEMM_S8_H_
