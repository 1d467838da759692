// Runs Coral's `edgetpu_compiler` on a model when it is installed (it is x86-64 Linux only and
// comes from Coral's apt repository, package edgetpu-compiler). Thread-safety: free functions;
// RunCompiler starts a child process.
#ifndef EDGELOOP_EDGETPU_COMPILE_H_
#define EDGELOOP_EDGETPU_COMPILE_H_

#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::edgetpu {

inline constexpr const char* kCompilerName = "edgetpu_compiler";

// The full path of `name` found in the directories of $PATH, or "" when it is not there.
std::string FindOnPath(const std::string& name);

// Runs `edgetpu_compiler -s -o out_dir model_path extra...` with its output going to ours and
// returns its exit code. Errors: NotFound ("edgetpu_compiler is not installed: ...") when it is not
// on PATH; IOError when it cannot be started.
Result<int> RunCompiler(const std::string& model_path, const std::string& out_dir,
                        const std::vector<std::string>& extra_args = {});

}  // namespace edgeloop::edgetpu

#endif  // EDGELOOP_EDGETPU_COMPILE_H_
