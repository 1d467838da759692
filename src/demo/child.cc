#include "demo/child.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace edgeloop::demo {
namespace {

Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
                    bool append) {
  if (argv.empty()) return Status::InvalidArgument("empty command");
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int out = open(out_path.c_str(), flags, 0644);
  if (out < 0) return Status::IOError(out_path + ": cannot open");
  int err = err_path == out_path ? out : open(err_path.c_str(), flags, 0644);
  if (err < 0) {
    close(out);
    return Status::IOError(err_path + ": cannot open");
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    setpgid(0, 0);  // Ctrl-C in the terminal goes to the demo, which stops its children in order
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out);
  if (err != out) close(err);
  return pid;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<std::unique_ptr<Service>> Service::Start(const std::string& name, const std::vector<std::string>& argv,
                                                const std::string& log_path) {
  EL_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, log_path, log_path, /*append=*/true));
  return std::unique_ptr<Service>(new Service(name, pid, log_path));
}

Service::~Service() { Stop(5000); }

bool Service::Running() {
  if (pid_ <= 0) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string Service::Stop(int timeout_ms) {
  if (pid_ <= 0) return "stopped";
  kill(pid_, SIGTERM);
  int st = 0;
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st)) : "signal " + std::to_string(WTERMSIG(st));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &st, 0);
  pid_ = -1;
  return "killed after " + std::to_string(timeout_ms) + " ms";
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& scratch_dir) {
  const std::string out = scratch_dir + "/.cmd.out", err = scratch_dir + "/.cmd.err";
  EL_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, out, err, /*append=*/false));
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  CommandResult r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

bool WaitForPort(int port, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace edgeloop::demo
