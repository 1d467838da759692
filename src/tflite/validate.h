// Semantic checks of a Graph, shared by the reader (which reports Corruption) and the writer (which
// reports InvalidArgument): indices in range, constant data sizes equal to shape x type, operator
// input/output counts and option alternatives per opcode, quantization vectors consistent.
// Thread-safety: a free function on a value.
#ifndef EDGELOOP_TFLITE_VALIDATE_H_
#define EDGELOOP_TFLITE_VALIDATE_H_

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::tflite {

// Returns OK, or a Status with `code` whose message names the tensor, operator or field.
Status ValidateGraph(const Graph& graph, StatusCode code);

// A Status with the given code (Status only has named constructors).
Status MakeStatus(StatusCode code, std::string message);

}  // namespace edgeloop::tflite

#endif  // EDGELOOP_TFLITE_VALIDATE_H_
