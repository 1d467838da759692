// Child processes for tests: start a real program (our binaries, mosquitto, postgres), wait with a
// timeout, send signals (SIGKILL for crash tests). The destructor kills and reaps what is still
// running, so a failed assertion leaves no stray processes.
#ifndef EDGELOOP_TEST_SUPPORT_PROCESS_H_
#define EDGELOOP_TEST_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace edgeloop::testing_support {

struct ProcessOptions {
  std::vector<std::string> env;  // extra "NAME=value" entries on top of the inherited environment
  std::string stdout_path;       // "" = inherit; otherwise stdout is written to this file
  std::string stderr_path;       // "" = inherit; "stdout" = same as stdout
  std::string stdin_path;        // "" = /dev/null
  std::string cwd;
  std::string run_as_user;       // when running as root: drop to this user (e.g. "postgres")
};

class Process {
 public:
  // Starts argv[0] (searched on PATH) with the arguments. Throws std::runtime_error if it cannot
  // start.
  Process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout_ms` (-1: forever). Returns the exit code (128+signal if killed), or
  // nullopt on timeout.
  std::optional<int> Wait(int timeout_ms = -1);
  bool Running();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs to completion (killed after timeout_ms, then exit_code is -1) and captures output.
RunResult RunCommand(const std::vector<std::string>& argv, int timeout_ms = 120000, const ProcessOptions& options = {});

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// Polls until something accepts TCP connections on 127.0.0.1:port. False after timeout_ms.
bool WaitForPort(int port, int timeout_ms = 10000);

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_PROCESS_H_
