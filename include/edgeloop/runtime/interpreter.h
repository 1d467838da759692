// edgeloop's TFLite interpreter: takes a tflite::Graph (or .tflite bytes), validates every operator
// and plans one static arena in Prepare, then runs the graph with Invoke, which allocates nothing.
//
// Kernels: the reference kernels are the specification (bit-exact with TFLite's reference kernels
// for INT8); KernelSet::kAuto may pick optimized kernels that are bit-exact with them.
// Batching: a graph input whose leading dimension is 1 (or -1 in shape_signature) takes
// `options.batch` windows at once; RESHAPE targets from the file that start with 1 (or -1) scale
// with it, so converter-written 1-D CNNs run N windows per Invoke.
//
// Thread-safety: an Interpreter is used by one thread at a time (Invoke writes its arena). Separate
// Interpreters share nothing and may run concurrently.
#ifndef EDGELOOP_RUNTIME_INTERPRETER_H_
#define EDGELOOP_RUNTIME_INTERPRETER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::runtime {

// Which kernels Prepare picks. A level uses its own optimized kernels and those of the levels below
// it on the same architecture, the reference kernel for everything else. Forcing a level the CPU
// lacks fails Create with InvalidArgument. kAuto reads the environment variable EDGELOOP_KERNELS
// (reference | avx2 | vnni | neon | neondot | auto) so tests and benchmarks can pin a level
// without code changes; unset or "auto" means the best level the CPU supports.
enum class KernelSet {
  kAuto,        // the fastest kernels this CPU supports, reference where there is none
  kReference,   // reference kernels only
  kAvx2,        // x86-64 AVX2
  kAvx512Vnni,  // x86-64 AVX-512 (F, BW, VL) with VNNI, and AVX2 where there is no VNNI kernel
  kNeon,        // ARM64 Advanced SIMD
  kNeonDot,     // ARM64 with the dot-product extension, and NEON where there is no dot kernel
};

// "reference", "avx2", "vnni", "neon", "neondot", "auto".
const char* KernelSetName(KernelSet set);
// Parses a KernelSetName; false on anything else.
bool ParseKernelSet(std::string_view name, KernelSet* set);
// Whether this CPU can run `set`'s kernels (kAuto and kReference: always).
bool KernelSetSupported(KernelSet set);
// What kAuto resolves to now: EDGELOOP_KERNELS when set (InvalidArgument when it names no level
// or one the CPU lacks), else the best supported level.
Result<KernelSet> ResolveKernelSet(KernelSet set);

struct InterpreterOptions {
  KernelSet kernels = KernelSet::kAuto;
  int batch = 1;  // windows per Invoke; >= 1
  // Prepare refuses plans needing a larger arena (a defence against hostile shapes).
  size_t max_arena_bytes = size_t{1} << 30;
};

// One graph input or output, as the model holds it. Non-owning: valid until the Interpreter is
// destroyed or re-prepared by Resize.
struct TensorInfo {
  std::string_view name;
  tflite::TensorType type = tflite::TensorType::kFloat32;
  std::span<const int32_t> shape;  // batch applied
  float scale = 0;                 // 0 when the tensor is not quantized
  int32_t zero_point = 0;
  uint8_t* data = nullptr;  // inputs: write here before Invoke; outputs: read here after
  size_t bytes = 0;

  template <typename T>
  std::span<T> as() const {
    return std::span<T>(reinterpret_cast<T*>(data), bytes / sizeof(T));
  }
};

class Interpreter {
 public:
  // Takes the graph (move it in to avoid a copy), validates it and prepares it. Errors:
  // InvalidArgument naming the operator (index and opcode) or tensor for anything unsupported or
  // inconsistent (opcode, version, types, shapes, quantization), or a plan above max_arena_bytes.
  static Result<std::unique_ptr<Interpreter>> Create(tflite::Graph graph, const InterpreterOptions& options = {});
  // ReadModel(bytes), then Create. Errors: those of ReadModel (Corruption, InvalidArgument) too.
  static Result<std::unique_ptr<Interpreter>> CreateFromBytes(std::span<const uint8_t> model,
                                                              const InterpreterOptions& options = {});

  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs the graph on the current input bytes. Allocates nothing. Inputs are never overwritten,
  // so Invoke may be repeated on the same inputs.
  Status Invoke();

  // Re-prepares for another batch size (allocates a new arena; input contents are lost and every
  // TensorInfo taken before is invalid).
  Status Resize(int batch);

  size_t input_count() const;
  size_t output_count() const;
  // i < input_count() / output_count() (asserted).
  TensorInfo input(size_t i) const;
  TensorInfo output(size_t i) const;

  int batch() const;
  // Bytes of the one arena holding every activation and scratch buffer.
  size_t arena_bytes() const;
  // Bytes of constant data (weights, biases, shape arguments) the model carries.
  size_t parameter_bytes() const;
  const tflite::Graph& graph() const;
  // The kernel operator `op` runs ("conv_s8_ref"), or "folded" when Prepare computed its output.
  const char* kernel_name(size_t op) const;

 private:
  struct State;
  explicit Interpreter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Runs `model` once on raw bytes for input 0 (other inputs zero) and returns output 0's bytes, both
// exactly as the model's tensors hold them. `input` may hold k whole windows of input 0; k > 1 runs
// as batch k. Errors: those of CreateFromBytes; InvalidArgument when the size is not a multiple of
// one window.
Result<std::vector<uint8_t>> InvokeRaw(std::span<const uint8_t> model, std::span<const uint8_t> input,
                                       KernelSet kernels = KernelSet::kAuto);

}  // namespace edgeloop::runtime

#endif  // EDGELOOP_RUNTIME_INTERPRETER_H_
