// Reading and writing .tflite flatbuffers (file identifier "TFL3"), with edgeloop's own schema
// subset (src/tflite/schema.fbs) that keeps the official field ids and union values.
//
// Reading untrusted bytes: the FlatBuffers Verifier runs first, then semantic checks (exactly one
// subgraph, every tensor/buffer index in range, constant data sizes match shape x type, operator
// input/output counts and option tables match the opcode, quantization vectors consistent). Every
// error names the place: "tensor 7 ('conv1/weights'): buffer has 430 bytes, shape [16,1,3,1] x
// FLOAT32 needs 192". Nothing aborts on bad input.
// Thread-safety: free functions on values.
#ifndef EDGELOOP_TFLITE_IO_H_
#define EDGELOOP_TFLITE_IO_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/tflite/model.h"

namespace edgeloop::tflite {

// Parses and verifies `bytes`. Copies everything it keeps; `bytes` may be freed afterwards.
// Errors: Corruption for bytes that are not a valid TFLite flatbuffer or are internally
// inconsistent; InvalidArgument for valid files using features outside edgeloop's subset
// (several subgraphs, sparse tensors, custom ops), naming the feature.
Result<Graph> ReadModel(std::span<const uint8_t> bytes);
Result<Graph> ReadModelFile(const std::string& path);

// The consistency checks WriteModel (and, after the verifier, ReadModel) apply: every index in
// range, constant data sizes equal to shape x type, operator input/output counts and option types
// per opcode, quantization vectors consistent. InvalidArgument naming the tensor or operator.
Status ValidateGraph(const Graph& graph);

// Serialises `graph` (identifier "TFL3", buffer 0 the empty sentinel, one buffer per constant
// tensor and per metadata entry). Errors: InvalidArgument when the graph is inconsistent (an index
// out of range, data size not matching its shape), naming the tensor or operator.
Result<std::vector<uint8_t>> WriteModel(const Graph& graph);
// WriteModel, then an atomic replace of `path` (temp file, fsync, rename, directory fsync).
Status WriteModelFile(const Graph& graph, const std::string& path);

}  // namespace edgeloop::tflite

#endif  // EDGELOOP_TFLITE_IO_H_
