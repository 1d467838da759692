// edgeloop edgetpu check / compile: thin wrappers over edgetpu::CheckModel and RunCompiler.
#include <cstdio>
#include <string>

#include "edgeloop/common/env.h"
#include "edgeloop/edgetpu/check.h"
#include "edgeloop/edgetpu/compile.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Check(int argc, char** argv) {
  bool json = false;
  Flags flags("edgeloop edgetpu check model.tflite [--json]",
              "Per operator: does it map to the Edge TPU or fall back to the CPU, and why (Coral's requirements:\n"
              "supported operations and their limitations, 8-bit quantized tensors, static shapes, constant weights,\n"
              "at most 3 dimensions; everything after the first unmapped operator runs on the CPU). Also the\n"
              "parameter bytes against the ~8 MB on chip and a verdict. Exit 0 only when the whole model maps.");
  flags.Bool("--json", &json, "print JSON");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  const std::string path = flags.positional()[0];
  Result<std::string> bytes = Env::Default()->ReadFile(path);
  if (!bytes.ok()) return Fail(argv[0], bytes.status());
  Result<edgetpu::CheckReport> r = edgetpu::CheckModel(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
  if (!r.ok()) return Fail(argv[0], r.status().WithPrefix(path));
  const std::string text = json ? edgetpu::ReportJson(*r) : edgetpu::ReportText(*r);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return r->maps ? 0 : 1;
}

int Compile(int argc, char** argv) {
  std::string out_dir = ".";
  Flags flags("edgeloop edgetpu compile model.tflite [-o dir]",
              "Runs Coral's edgetpu_compiler on the model when it is installed (on PATH); says so and fails when\n"
              "it is not. Its output (model_edgetpu.tflite and a log) goes to -o.");
  flags.String("--output-dir", &out_dir, "directory for the compiled model (default .)", "-o");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  Status s = flags.ExpectPositional(1, 1, "model file");
  if (!s.ok()) return UsageError(argv[0], s);
  Result<int> rc = edgetpu::RunCompiler(flags.positional()[0], out_dir);
  if (!rc.ok()) return Fail(argv[0], rc.status());
  if (*rc != 0) std::fprintf(stderr, "%s: error: %s exited with %d\n", argv[0], edgetpu::kCompilerName, *rc);
  return *rc == 0 ? 0 : 1;
}

}  // namespace

EL_COMMAND("edgetpu check", "would the model map to the Edge TPU? per operator, with reasons; exit 0 only if all",
           Check);
EL_COMMAND("edgetpu compile", "run edgetpu_compiler on a model when it is installed", Compile);

}  // namespace edgeloop::tools
