// What the TFLite schema says about each builtin operator edgeloop knows: how many inputs and
// outputs it takes, which BuiltinOptions table carries its options, and which OpOptions alternative
// holds them in the Graph IR. One table shared by the reader, the writer and ValidateGraph.
// Thread-safety: immutable data.
#ifndef EDGELOOP_TFLITE_OP_SPEC_H_
#define EDGELOOP_TFLITE_OP_SPEC_H_

#include <cstddef>
#include <cstdint>

#include "edgeloop/tflite/model.h"

namespace edgeloop::tflite {

inline constexpr int kVariadic = -1;
inline constexpr int kNoOptional = 1 << 30;

struct OpSpec {
  BuiltinOp op;
  int min_inputs;
  int max_inputs;           // kVariadic: any number >= min_inputs
  int optional_from;        // inputs at positions >= this may be -1 (absent); kNoOptional: none
  int outputs;
  uint8_t options_type;     // official BuiltinOptions union value; 0 = the op has no options table
  size_t options_index;     // OpOptions alternative (0 = std::monostate)
};

// nullptr for codes edgeloop does not know (kept by the reader, rejected by the runtime).
const OpSpec* FindOpSpec(BuiltinOp op);

// Name of an OpOptions alternative, for messages: "Conv2DOptions", "none".
const char* OptionsName(size_t options_index);

}  // namespace edgeloop::tflite

#endif  // EDGELOOP_TFLITE_OP_SPEC_H_
