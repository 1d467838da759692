// edgeloop inspect / predict: thin wrappers over classifier::InspectModel, runtime::InvokeRaw and
// nn::PredictCsv.
#include <cstdio>
#include <string>

#include "edgeloop/classifier/inspect.h"
#include "edgeloop/common/env.h"
#include "edgeloop/nn/train_job.h"
#include "edgeloop/runtime/interpreter.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

std::span<const uint8_t> AsBytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

int Inspect(int argc, char** argv) {
  bool json = false;
  Flags flags("edgeloop inspect model.tflite [--json]",
              "Shows a .tflite model: operators with their options and the kernel the runtime picks, tensors with\n"
              "type, shape, bytes and quantization, the metadata (edgeloop's JSON included), the arena the runtime\n"
              "plans and the bytes of parameters. Exits 1 if the file is not a valid model.");
  flags.Bool("--json", &json, "print JSON instead of text");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  const std::string path = flags.positional()[0];
  Result<std::string> bytes = Env::Default()->ReadFile(path);
  if (!bytes.ok()) return Fail(argv[0], bytes.status());
  Result<classifier::ModelReport> report = classifier::InspectModel(AsBytes(*bytes));
  if (!report.ok()) return Fail(argv[0], report.status().WithPrefix(path));
  const std::string text = json ? classifier::ModelReportJson(*report) : classifier::ModelReportText(*report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

int Predict(int argc, char** argv) {
  std::string raw_in, raw_out, csv, out_path;
  bool reference = false, skip = false;
  Flags flags("edgeloop predict model.tflite (--raw-in in.bin --raw-out out.bin | --csv data.csv [-o out.csv])",
              "Runs a model. --raw-in/--raw-out: the bytes of input 0 and output 0 exactly as the model's tensors\n"
              "hold them (several whole windows in in.bin run as one batch), so any other runtime can be compared\n"
              "byte for byte. --csv: classifies each window of a labelled CSV (normalised and quantized as the\n"
              "model's metadata says) and prints window,label,predicted,confidence,p_<label>... per window.");
  flags.String("--raw-in", &raw_in, "raw bytes for input 0");
  flags.String("--raw-out", &raw_out, "where to write the raw bytes of output 0");
  flags.String("--csv", &csv, "labelled windows to classify (CSV, wide or features layout)");
  flags.String("--output", &out_path, "with --csv: write the predictions here instead of stdout", "-o");
  flags.Bool("--skip-bad-rows", &skip, "with --csv: skip malformed rows (and report them) instead of failing");
  flags.Bool("--reference", &reference, "use the reference kernels only");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  const std::string path = flags.positional()[0];
  if (!csv.empty()) {
    if (!raw_in.empty() || !raw_out.empty()) {
      return UsageError(argv[0], Status::InvalidArgument("--csv excludes --raw-in/--raw-out"));
    }
    std::string skipped;
    Result<std::string> text = nn::PredictCsv(path, csv, skip, &skipped);
    if (!text.ok()) return Fail(argv[0], text.status());
    if (!skipped.empty()) std::fprintf(stderr, "%s\n", skipped.c_str());
    if (out_path.empty()) {
      std::fwrite(text->data(), 1, text->size(), stdout);
      return 0;
    }
    s = Env::Default()->WriteFileAtomic(out_path, *text);
    return s.ok() ? 0 : Fail(argv[0], s);
  }
  if (raw_in.empty() || raw_out.empty()) {
    return UsageError(argv[0], Status::InvalidArgument("--raw-in and --raw-out are both needed (or --csv)"));
  }
  Result<std::string> model = Env::Default()->ReadFile(path);
  if (!model.ok()) return Fail(argv[0], model.status());
  Result<std::string> input = Env::Default()->ReadFile(raw_in);
  if (!input.ok()) return Fail(argv[0], input.status());
  Result<std::vector<uint8_t>> output = runtime::InvokeRaw(
      AsBytes(*model), AsBytes(*input), reference ? runtime::KernelSet::kReference : runtime::KernelSet::kAuto);
  if (!output.ok()) return Fail(argv[0], output.status().WithPrefix(path));
  s = Env::Default()->WriteFileAtomic(
      raw_out, std::string_view(reinterpret_cast<const char*>(output->data()), output->size()));
  if (!s.ok()) return Fail(argv[0], s);
  return 0;
}

}  // namespace

EL_COMMAND("inspect", "show a .tflite model: operators, tensors, quantization, metadata, arena", Inspect);
EL_COMMAND("predict", "run a model on raw tensor bytes (or CSV windows)", Predict);

}  // namespace edgeloop::tools
