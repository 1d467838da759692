#include "agent/alarms.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace edgeloop::agent {

AlarmDebouncer::AlarmDebouncer(int n, int m) : n_(n), m_(m), ring_(static_cast<size_t>(m), 0) {}

AlarmDebouncer::Update AlarmDebouncer::Observe(bool exceeded) {
  count_ -= ring_[pos_];
  ring_[pos_] = exceeded ? 1 : 0;
  count_ += ring_[pos_];
  pos_ = (pos_ + 1) % static_cast<size_t>(m_);
  Update u;
  if (!active_ && count_ >= n_) {
    active_ = true;
    u.changed = true;
  } else if (active_ && count_ == 0) {
    active_ = false;
    u.changed = true;
  }
  u.active = active_;
  u.count = count_;
  return u;
}

CommandRunner::CommandRunner(size_t max_running, int64_t timeout_ms)
    : max_running_(max_running), timeout_ms_(timeout_ms) {}

CommandRunner::~CommandRunner() {
  for (const Child& c : children_) {
    ::kill(-c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
  }
}

Status CommandRunner::Start(const std::string& command, const std::vector<std::pair<std::string, std::string>>& env,
                            int64_t now_ms) {
  if (children_.size() >= max_running_) {
    return Status::Unavailable("alarm command: " + std::to_string(children_.size()) +
                               " still running; not starting another");
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "EDGELOOP_ALARM_", 15) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // no spool, socket or FIFO leaks into it
  posix_spawnattr_setpgroup(&attr, 0);                // its own group, so a timeout kills it all
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t deflt;
  sigemptyset(&deflt);
  sigaddset(&deflt, SIGTERM);
  sigaddset(&deflt, SIGINT);
  sigaddset(&deflt, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &deflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::IOError(std::string("alarm command: cannot start /bin/sh: ") + std::strerror(rc));
  children_.push_back({pid, now_ms, false});
  return Status::Ok();
}

std::vector<std::string> CommandRunner::Reap(int64_t now_ms) {
  std::vector<std::string> failures;
  for (size_t i = 0; i < children_.size();) {
    Child& c = children_[i];
    int status = 0;
    pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == 0) {
      if (!c.killed && now_ms - c.started_ms > timeout_ms_) {
        ::kill(-c.pid, SIGKILL);
        c.killed = true;
        failures.push_back("alarm command (pid " + std::to_string(c.pid) + ") ran longer than " +
                           std::to_string(timeout_ms_ / 1000) + " s and was killed");
      }
      ++i;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && !c.killed) {
      if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        failures.push_back("alarm command (pid " + std::to_string(c.pid) + ") exited with status " +
                           std::to_string(WEXITSTATUS(status)));
      } else if (WIFSIGNALED(status)) {
        failures.push_back("alarm command (pid " + std::to_string(c.pid) + ") was killed by signal " +
                           std::to_string(WTERMSIG(status)));
      }
    }
    children_.erase(children_.begin() + static_cast<long>(i));
  }
  return failures;
}

}  // namespace edgeloop::agent
