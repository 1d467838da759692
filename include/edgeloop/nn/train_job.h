// `edgeloop train` and `edgeloop eval` as library calls: read the CSV(s), split, fit the
// normalisation, train with console progress, export the float model with its `edgeloop` metadata,
// write the JSON report and the SVG curves; evaluate a model file on a CSV.
// Part of edgeloop_nn_training (data, classifier, nlohmann-json and libsodium's sha256 on top of
// edgeloop_nn), so the device and the core never link it.
// Thread-safety: each call is independent; training uses its own threads.
#ifndef EDGELOOP_NN_TRAIN_JOB_H_
#define EDGELOOP_NN_TRAIN_JOB_H_

#include <cstdio>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/nn/metrics.h"
#include "edgeloop/nn/train.h"

namespace edgeloop::nn {

struct TrainJob {
  std::string data_path;           // training CSV (wide or features layout)
  std::string validation_path;     // empty = a stratified split of data_path
  double validation_split = 0.2;   // used when validation_path is empty; 0 = no validation
  std::string spec_path;           // JSON (spec_json.h); empty = DefaultModelSpec
  int channels = 0;                // readings per time step; 0 = the spec's "input", else 1
  // "" (all 1), "balanced", or one weight per class: "1,2,4" in label order or "failure=4,warning=2".
  std::string class_weights;
  bool skip_bad_rows = false;
  TrainOptions train;              // epochs, batch size, patience, seed, threads, ...
  std::string output_path;         // the .tflite to write (required)
  std::string report_path;         // JSON report; empty = none
  std::string curves_path;         // SVG curves; empty = none
  FILE* console = stdout;          // epoch lines; null = quiet
  bool progress_bar = false;       // redraw a bar inside each epoch (only for a terminal)
};

struct TrainJobResult {
  TrainHistory history;
  std::vector<std::string> labels;
  size_t train_windows = 0, validation_windows = 0;
  ClassificationMetrics validation;  // of the held weights (empty without validation)
  std::string report_json;           // what --report writes
};

// Runs the whole job. Errors name the file and what is wrong: CSV errors (file:line: column ...),
// spec errors (spec.json: layers[2] ...), a validation file with other labels or window shape,
// bad class weights, and I/O errors writing the outputs.
Result<TrainJobResult> RunTrainJob(const TrainJob& job);

// The SVG picture of the loss and accuracy curves (train and validation per epoch).
std::string CurvesSvg(const TrainHistory& history, const std::string& title);

struct EvalResult {
  std::vector<std::string> labels;
  ClassificationMetrics metrics;
  size_t rows_skipped = 0;
  std::string skipped_summary;  // the CSV reader's report when rows were skipped
};

// Classifies every window of `csv_path` with the model (float or INT8; classifier::Classifier
// applies the metadata's normalisation and quantizes the input) and compares with the labels.
// The CSV's labels must be among the model's. Errors: model and CSV errors, naming the file.
Result<EvalResult> EvaluateModelOnCsv(const std::string& model_path, const std::string& csv_path,
                                      bool skip_bad_rows);

// {"accuracy":..,"balanced_accuracy":..,"macro_f1":..,"windows":..,"labels":[..],
//  "confusion_matrix":[[..]],"per_class":{"normal":{"precision":..,"recall":..,"f1":..,"support":..}}}
std::string EvalJson(const EvalResult& r);

// Classifies every window of `csv_path` and returns CSV text, one line per window:
//   window,label,predicted,confidence,p_<label>...   (label = the CSV's, predicted = the model's)
// skipped_summary (may be null) gets the reader's report when rows were skipped.
Result<std::string> PredictCsv(const std::string& model_path, const std::string& csv_path, bool skip_bad_rows,
                               std::string* skipped_summary = nullptr);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_TRAIN_JOB_H_
