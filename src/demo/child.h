// Child processes for the demo: background services (Mosquitto, the server, the collector) with
// their output in log files, and commands run to completion with their output captured.
// Thread-safety: none.
#ifndef EDGELOOP_DEMO_CHILD_H_
#define EDGELOOP_DEMO_CHILD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::demo {

class Service {
 public:
  // Starts argv (argv[0] searched on PATH), stdout and stderr appended to `log_path`.
  static Result<std::unique_ptr<Service>> Start(const std::string& name, const std::vector<std::string>& argv,
                                                const std::string& log_path);
  ~Service();  // Stop(5000)
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  // SIGTERM, then SIGKILL after timeout_ms. Returns the exit status text ("exit 0", "signal 9").
  std::string Stop(int timeout_ms);
  bool Running();
  const std::string& log_path() const { return log_path_; }

 private:
  Service(std::string name, pid_t pid, std::string log) : name_(std::move(name)), pid_(pid), log_path_(std::move(log)) {}
  std::string name_;
  pid_t pid_;
  std::string log_path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs argv to completion; stdout/stderr captured through files in `scratch_dir`.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& scratch_dir);

// A TCP port on 127.0.0.1 that was free a moment ago; WaitForPort polls until something listens.
int FreePort();
bool WaitForPort(int port, int timeout_ms);

}  // namespace edgeloop::demo

#endif  // EDGELOOP_DEMO_CHILD_H_
