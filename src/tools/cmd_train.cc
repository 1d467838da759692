// edgeloop train / eval: thin wrappers over nn::RunTrainJob and nn::EvaluateModelOnCsv.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "edgeloop/nn/metrics.h"
#include "edgeloop/nn/train_job.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Train(int argc, char** argv) {
  nn::TrainJob job;
  std::string model_spec;
  int64_t epochs = 50, batch = 32, patience = 5, seed = 0, threads = 0, channels = 0;
  double split = 0.2, learning_rate = 1e-3;
  bool quiet = false;
  Flags flags("edgeloop train data.csv -o model.tflite [--model spec.json] [--epochs N] [--seed S] [--threads T]\n"
              "               [--report report.json] [--curves curves.svg]",
              "Trains a sequential 1-D CNN on labelled windows (CSV, wide or features layout) and writes it as a\n"
              "float TFLite model with its labels and input normalisation in the `edgeloop` metadata. Adam,\n"
              "cross-entropy, early stopping on the validation loss with the best weights restored. The default model\n"
              "is the reference one: Conv1D(16,3,relu,same) MaxPool1D(2) Conv1D(32,3,relu,same) MaxPool1D(2) Flatten\n"
              "Dense(64,relu) Dropout(0.3) Dense(classes,softmax). The same --seed and data give the same weights\n"
              "for any --threads.");
  flags.String("--output", &job.output_path, "the .tflite model to write (required)", "-o");
  flags.String("--model", &model_spec, "model spec JSON (layers; see include/edgeloop/nn/spec_json.h)");
  flags.Int("--epochs", &epochs, "maximum number of epochs");
  flags.Int("--batch-size", &batch, "windows per step");
  flags.Double("--learning-rate", &learning_rate, "Adam learning rate");
  flags.Double("--validation-split", &split, "fraction held out for validation (stratified; 0 = none)");
  flags.String("--validation", &job.validation_path, "validation CSV instead of a split");
  flags.Int("--patience", &patience, "epochs without a better val_loss before stopping (0 = never stop early)");
  flags.String("--class-weights", &job.class_weights, "balanced, or weights in label order (1,2,4) or by name (failure=4)");
  flags.Int("--seed", &seed, "seed for initialisation, split, shuffling and dropout");
  flags.Int("--threads", &threads, "training threads (0 = all cores)");
  flags.Int("--channels", &channels, "readings per time step in the CSV (default: the spec's input, else 1)");
  flags.Bool("--skip-bad-rows", &job.skip_bad_rows, "skip malformed CSV rows (and report them) instead of failing");
  flags.String("--report", &job.report_path, "write a JSON training report here");
  flags.String("--curves", &job.curves_path, "write an SVG of loss and accuracy per epoch here");
  flags.Bool("--quiet", &quiet, "no per-epoch output");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "training data CSV");
  if (!s.ok()) return UsageError(argv[0], s);
  if (job.output_path.empty()) return UsageError(argv[0], Status::InvalidArgument("-o model.tflite is required"));
  if (epochs < 1 || epochs > 100000) return UsageError(argv[0], Status::InvalidArgument("--epochs must be in [1, 100000]"));
  if (batch < 1 || batch > 65536) return UsageError(argv[0], Status::InvalidArgument("--batch-size must be in [1, 65536]"));
  if (patience < 0) return UsageError(argv[0], Status::InvalidArgument("--patience must be >= 0"));
  if (threads < 0 || threads > 256) return UsageError(argv[0], Status::InvalidArgument("--threads must be in [0, 256]"));
  if (channels < 0 || channels > 4096) return UsageError(argv[0], Status::InvalidArgument("--channels must be in [1, 4096]"));
  if (seed < 0) return UsageError(argv[0], Status::InvalidArgument("--seed must be >= 0"));
  if (!(split >= 0 && split < 1)) return UsageError(argv[0], Status::InvalidArgument("--validation-split must be in [0, 1)"));
  if (!job.validation_path.empty() && flags.WasSet("--validation-split")) {
    return UsageError(argv[0], Status::InvalidArgument("--validation and --validation-split exclude each other"));
  }
  job.data_path = flags.positional()[0];
  job.spec_path = model_spec;
  job.validation_split = split;
  job.channels = static_cast<int>(channels);
  job.train.epochs = static_cast<int>(epochs);
  job.train.batch_size = static_cast<int>(batch);
  job.train.learning_rate = learning_rate;
  job.train.patience = static_cast<int>(patience);
  job.train.seed = static_cast<uint64_t>(seed);
  job.train.threads = static_cast<int>(threads);
  job.console = quiet ? nullptr : stdout;
  job.progress_bar = !quiet && isatty(STDOUT_FILENO) == 1;
  Result<nn::TrainJobResult> r = nn::RunTrainJob(job);
  if (!r.ok()) return Fail(argv[0], r.status());
  if (!quiet) {
    const nn::TrainHistory& h = r->history;
    std::printf("%s after %zu epochs (%.1fs, %d threads, %s kernels); model holds epoch %d\n",
                h.early_stopped ? "stopped early" : "finished", h.epochs.size(), h.seconds, h.threads, h.kernel,
                h.weights_epoch);
    if (r->validation_windows > 0) {
      std::printf("validation (%zu windows):\n%s", r->validation_windows,
                  nn::FormatMetrics(r->validation, r->labels).c_str());
    }
    std::printf("wrote %s\n", job.output_path.c_str());
  }
  return 0;
}

int Eval(int argc, char** argv) {
  bool json = false, skip = false;
  Flags flags("edgeloop eval model.tflite data.csv [--json]",
              "Classifies every window of a labelled CSV with a model (float32 or INT8; the model's metadata gives\n"
              "labels, window shape and normalisation) and prints accuracy, the confusion matrix and per-class\n"
              "precision, recall and F1.");
  flags.Bool("--json", &json, "print JSON (accuracy, confusion_matrix, per_class, labels, ...)");
  flags.Bool("--skip-bad-rows", &skip, "skip malformed CSV rows (and report them) instead of failing");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(2, 2, "model file and data CSV");
  if (!s.ok()) return UsageError(argv[0], s);
  Result<nn::EvalResult> r = nn::EvaluateModelOnCsv(flags.positional()[0], flags.positional()[1], skip);
  if (!r.ok()) return Fail(argv[0], r.status());
  if (!r->skipped_summary.empty()) std::fprintf(stderr, "%s\n", r->skipped_summary.c_str());
  const std::string out = json ? nn::EvalJson(*r) : nn::FormatMetrics(r->metrics, r->labels);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

EL_COMMAND("train", "train a 1-D CNN on labelled windows and write a float .tflite", Train);
EL_COMMAND("eval", "accuracy, confusion matrix and per-class metrics of a model on a labelled CSV", Eval);

}  // namespace edgeloop::tools
