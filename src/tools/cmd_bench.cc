// edgeloop bench: a thin wrapper over classifier::BenchModel.
#include <cstdio>
#include <string>

#include "edgeloop/classifier/bench.h"
#include "edgeloop/common/env.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Bench(int argc, char** argv) {
  int64_t threads = 0, iterations = 20000, batch = 64;
  double seconds = 0.5;
  std::string kernels = "auto";
  bool json = false;
  Flags flags("edgeloop bench model.tflite [--threads N] [--iterations N] [--batch N] [--kernels LEVEL] [--json]",
              "Measures the model in edgeloop's runtime: one-window latency (median, p90, p99) on one thread over\n"
              "--iterations invokes, windows/s with --batch windows per invoke on one thread and on --threads\n"
              "threads (one interpreter each), the arena and the process's peak resident memory. Inputs are seeded\n"
              "random bytes. --kernels (reference, avx2, vnni, neon, neondot, auto) pins the kernel level.");
  flags.Int("--threads", &threads, "threads for the multi-thread figure (default: all cores)");
  flags.Int("--iterations", &iterations, "one-window invokes timed (default 20000)");
  flags.Int("--batch", &batch, "windows per invoke for the batched figures (default 64)");
  flags.Double("--seconds", &seconds, "wall time of each batched measurement (default 0.5)");
  flags.String("--kernels", &kernels, "kernel level (default auto, or EDGELOOP_KERNELS)");
  flags.Bool("--json", &json, "print JSON instead of text");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  classifier::BenchOptions options;
  if (!runtime::ParseKernelSet(kernels, &options.kernels)) {
    return UsageError(argv[0], Status::InvalidArgument("--kernels '" + kernels +
                                                       "': expected reference, avx2, vnni, neon, neondot or auto"));
  }
  if (iterations < 1 || iterations > 100000000 || threads < 0 || threads > 1024 || batch < 1 || batch > 65536 ||
      !(seconds > 0 && seconds <= 600)) {
    return UsageError(argv[0], Status::InvalidArgument("--iterations, --threads, --batch or --seconds out of range"));
  }
  options.iterations = static_cast<int>(iterations);
  options.threads = static_cast<int>(threads);
  options.batch = static_cast<int>(batch);
  options.seconds = seconds;
  const std::string path = flags.positional()[0];
  Result<std::string> bytes = Env::Default()->ReadFile(path);
  if (!bytes.ok()) return Fail(argv[0], bytes.status());
  Result<classifier::BenchReport> report = classifier::BenchModel(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), options);
  if (!report.ok()) return Fail(argv[0], report.status().WithPrefix(path));
  const std::string text = json ? classifier::BenchReportJson(*report) : classifier::BenchReportText(*report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

EL_COMMAND("bench", "measure a model: latency percentiles, windows/s on 1 and N threads, arena, peak memory", Bench);

}  // namespace edgeloop::tools
