// edgeloop inspect / predict: thin wrappers over classifier::InspectModel and runtime::InvokeRaw.
#include <cstdio>
#include <string>

#include "edgeloop/classifier/inspect.h"
#include "edgeloop/common/env.h"
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
  std::string raw_in, raw_out, csv;
  bool reference = false;
  Flags flags("edgeloop predict model.tflite (--raw-in in.bin --raw-out out.bin | --csv data.csv)",
              "Runs a model. --raw-in/--raw-out: the bytes of input 0 and output 0 exactly as the model's tensors\n"
              "hold them (several whole windows in in.bin run as one batch), so any other runtime can be compared\n"
              "byte for byte.");
  flags.String("--raw-in", &raw_in, "raw bytes for input 0");
  flags.String("--raw-out", &raw_out, "where to write the raw bytes of output 0");
  flags.String("--csv", &csv, "windows to classify (needs the data module; not available in this build)");
  flags.Bool("--reference", &reference, "use the reference kernels only");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  if (!csv.empty()) return UsageError(argv[0], Status::InvalidArgument("--csv is not available in this build yet"));
  if (raw_in.empty() || raw_out.empty()) {
    return UsageError(argv[0], Status::InvalidArgument("--raw-in and --raw-out are both needed"));
  }
  const std::string path = flags.positional()[0];
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
