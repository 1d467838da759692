#include "test/support/litert.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::testing_support {
namespace {

std::string ToolsDir() { return SourceDir() + "/test/tools"; }

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void Write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

std::string LiteRtUnavailableReason() {
  if (!Exists(ToolsDir() + "/node_modules/@litertjs/core/package.json")) {
    return "LiteRT.js is not installed (run scripts/install-test-tools)";
  }
  try {
    const RunResult r = RunCommand({"node", "--version"}, 20000);
    if (r.exit_code != 0) return "node does not run: " + r.err;
  } catch (const std::exception& e) {
    return std::string("node is not available: ") + e.what();
  }
  return "";
}

LiteRtRun RunLiteRt(const std::vector<uint8_t>& model, const std::vector<uint8_t>& input) {
  TempDir dir;
  Write(dir.Join("model.tflite"), model);
  Write(dir.Join("in.bin"), input);
  LiteRtRun run;
  RunResult r;
  try {
    r = RunCommand({"node", ToolsDir() + "/run_litert.mjs", dir.Join("model.tflite"), dir.Join("in.bin"),
                    dir.Join("out.bin")},
                   120000);
  } catch (const std::exception& e) {
    run.error = e.what();
    return run;
  }
  if (r.exit_code != 0) {
    run.error = "exit " + std::to_string(r.exit_code) + ": " + r.err;
    return run;
  }
  std::ifstream out(dir.Join("out.bin"), std::ios::binary);
  run.output.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
  run.ok = true;
  return run;
}

}  // namespace edgeloop::testing_support
