// edgeloop quantize: a thin wrapper over quant::QuantizeFile.
#include <cstdio>
#include <string>

#include "edgeloop/common/env.h"
#include "edgeloop/quant/workflow.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Quantize(int argc, char** argv) {
  quant::QuantizeFileOptions o;
  std::string io = "uint8", report;
  int64_t samples = 200, seed = 1;
  double split = 0.2;
  Flags flags("edgeloop quantize model.tflite --calibration data.csv [--samples 200] [--io uint8|int8|float32] "
              "-o model_int8.tflite [--validation val.csv] [--report report.json]",
              "Full-integer post-training quantization in TFLite's INT8 scheme: per-channel symmetric int8 weights,\n"
              "per-tensor asymmetric int8 activations calibrated on real windows (drawn seeded and shuffled, normalised\n"
              "with the model's metadata), int32 biases, softmax output 1/256 / -128, ReLU fused as a clamp.\n"
              "--io sets the model interface (uint8, as the Coral examples use; int8; float32) with QUANTIZE /\n"
              "DEQUANTIZE at the edges. Prints the file sizes, each tensor's range and parameters, and float vs INT8\n"
              "accuracy and top-1 agreement on validation windows (--validation, or a stratified split of the\n"
              "calibration file that calibration never sees).");
  flags.String("--calibration", &o.calibration_path, "CSV of labelled windows to calibrate on");
  flags.String("--output", &o.output_path, "where to write the INT8 model", "-o");
  flags.Int("--samples", &samples, "calibration windows (default 200)");
  flags.String("--io", &io, "model interface type: uint8 (default), int8 or float32");
  flags.String("--validation", &o.validation_path, "CSV of validation windows (default: split off --calibration)");
  flags.Double("--split", &split, "validation fraction split off --calibration when --validation is absent (0.2)");
  flags.Int("--seed", &seed, "seed for the split and the calibration sample (default 1)");
  flags.String("--report", &report, "also write the summary as JSON here");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  if (o.calibration_path.empty()) return UsageError(argv[0], Status::InvalidArgument("--calibration is required"));
  if (o.output_path.empty()) return UsageError(argv[0], Status::InvalidArgument("-o/--output is required"));
  if (samples < 1) return UsageError(argv[0], Status::InvalidArgument("--samples must be at least 1"));
  Result<quant::IoType> io_type = quant::ParseIoType(io);
  if (!io_type.ok()) return UsageError(argv[0], io_type.status());
  o.model_path = flags.positional()[0];
  o.samples = static_cast<size_t>(samples);
  o.seed = static_cast<uint64_t>(seed);
  o.validation_fraction = split;
  o.quantize.io = *io_type;
  Result<quant::QuantizeSummary> summary = quant::QuantizeFile(o);
  if (!summary.ok()) return Fail(argv[0], summary.status());
  const std::string text = quant::SummaryText(*summary);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("wrote %s\n", o.output_path.c_str());
  if (!report.empty()) {
    s = Env::Default()->WriteFileAtomic(report, quant::SummaryJson(*summary));
    if (!s.ok()) return Fail(argv[0], s);
  }
  return 0;
}

}  // namespace

EL_COMMAND("quantize", "full-integer INT8 post-training quantization of a float .tflite, calibrated on real data",
           Quantize);

}  // namespace edgeloop::tools
