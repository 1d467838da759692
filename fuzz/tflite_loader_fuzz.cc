// libFuzzer target: untrusted bytes through ReadModel, then (when they load) the writer round trip
// and the interpreter: Create (Prepare) and Invoke on all-zero inputs, float and INT8 paths alike.
// Any crash, sanitizer report or broken round trip is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/tflite/io.h"

namespace {

// What we write we must read back, and writing that again must give the same bytes (a
// canonical form; comparing bytes also treats NaN scales in a hostile model as equal to themselves).
void CheckRoundTrip(const edgeloop::tflite::Graph& graph) {
  auto bytes = edgeloop::tflite::WriteModel(graph);
  if (!bytes.ok()) return;  // e.g. an operator code edgeloop cannot write
  auto back = edgeloop::tflite::ReadModel(*bytes);
  if (!back.ok()) __builtin_trap();
  auto again = edgeloop::tflite::WriteModel(*back);
  if (!again.ok() || *again != *bytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto graph = edgeloop::tflite::ReadModel(std::span<const uint8_t>(data, size));
  if (!graph.ok()) {
    if (graph.status().message().empty()) __builtin_trap();  // errors must say what is wrong
    return 0;
  }
  CheckRoundTrip(*graph);
  edgeloop::runtime::InterpreterOptions options;
  options.kernels = edgeloop::runtime::KernelSet::kReference;
  options.max_arena_bytes = size_t{1} << 20;  // keeps hostile shapes cheap to run
  auto interp = edgeloop::runtime::Interpreter::Create(std::move(*graph), options);
  if (!interp.ok()) return 0;
  (void)(*interp)->Invoke();  // inputs are zero: the arena starts zeroed
  return 0;
}
