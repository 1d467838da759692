// The `edgeloop quantize` workflow on files: read a float .tflite and a CSV of labelled windows,
// calibrate on `samples` windows drawn seeded and shuffled (normalised with the model's metadata as
// the classifier does), write the INT8 model (metadata copied, "quantization": "int8"), and measure
// float vs INT8 accuracy and top-1 agreement on validation windows (a separate file, or a stratified
// split of the calibration file that calibration never sees).
//
// Lives in its own library (edgeloop_quant_workflow) because it uses the data and classifier
// modules and nlohmann-json, which the core quantizer must not depend on.
// Thread-safety: free functions on values.
#ifndef EDGELOOP_QUANT_WORKFLOW_H_
#define EDGELOOP_QUANT_WORKFLOW_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "edgeloop/common/status.h"
#include "edgeloop/quant/quantize.h"

namespace edgeloop::quant {

struct QuantizeFileOptions {
  std::string model_path;        // float .tflite
  std::string calibration_path;  // CSV (either layout, see data/csv.h)
  std::string validation_path;   // CSV; empty = split validation_fraction off the calibration file
  std::string output_path;       // the INT8 .tflite
  size_t samples = 200;          // calibration windows
  uint64_t seed = 1;
  double validation_fraction = 0.2;
  QuantizeOptions quantize;
};

struct QuantizeSummary {
  QuantizeResult result;
  IoType io = IoType::kUInt8;
  size_t float_bytes = 0, int8_bytes = 0;
  size_t calibration_windows = 0, validation_windows = 0;
  std::string validation_source;  // "file.csv" or "20% split of data.csv (seed 1)"
  double float_accuracy = 0, int8_accuracy = 0, agreement = 0;
};

// Errors: those of reading the files (naming them), of QuantizeGraph, of the classifier; and
// InvalidArgument when a window does not fit the model input (naming both sizes).
Result<QuantizeSummary> QuantizeFile(const QuantizeFileOptions& options);

// For people: sizes, the ranges table, accuracies and agreement.
std::string SummaryText(const QuantizeSummary& s);
// For machines (--report): {"float_bytes", "int8_bytes", "io", "calibration_windows",
// "validation_windows", "validation_source", "float_accuracy", "int8_accuracy", "accuracy_drop",
// "top1_agreement", "notes", "tensors": [{index, name, type, role, min, max, scale, zero_point, source}]}.
std::string SummaryJson(const QuantizeSummary& s);

}  // namespace edgeloop::quant

#endif  // EDGELOOP_QUANT_WORKFLOW_H_
