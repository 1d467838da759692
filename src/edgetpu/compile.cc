#include "edgeloop/edgetpu/compile.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace edgeloop::edgetpu {

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    if (!dir.empty()) {
      const std::string candidate = dir + "/" + name;
      struct stat st;
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    start = end + 1;
  }
  return "";
}

Result<int> RunCompiler(const std::string& model_path, const std::string& out_dir,
                        const std::vector<std::string>& extra_args) {
  const std::string compiler = FindOnPath(kCompilerName);
  if (compiler.empty()) {
    return Status::NotFound(std::string(kCompilerName) +
                            " is not installed (not found on PATH). It comes from Coral's apt repository (package "
                            "edgetpu-compiler, x86-64 Linux only); `edgeloop edgetpu check` tells without it whether "
                            "the model maps");
  }
  std::vector<std::string> args = {compiler, "-s", "-o", out_dir};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.push_back(model_path);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::execv(compiler.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::IOError(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 127) return Status::IOError("could not run " + compiler);
    return WEXITSTATUS(status);
  }
  return Status::IOError(compiler + " was killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace edgeloop::edgetpu
