// Local alarms: an n-of-m debounce with hysteresis over "the watched class's score exceeds the
// threshold" per window, and the operator's alarm command run without ever blocking the loop.
//
// Debounce: the alarm is RAISED when at least n of the last m windows exceed the threshold, and
// CLEARED only when none of the last m windows exceed it. Between the two it keeps its state, so
// a machine that fails intermittently (say every other window) keeps one raised alarm instead of
// flapping, and a clear means m consecutive quiet windows. With n = m = 1 it follows every
// window. The tutorial's rule ("failure" > 0.8, one window) is n = m = 1 with threshold 0.8.
//
// Thread-safety: none; the loop thread owns both classes.
#ifndef EDGELOOP_AGENT_ALARMS_H_
#define EDGELOOP_AGENT_ALARMS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::agent {

class AlarmDebouncer {
 public:
  AlarmDebouncer(int n, int m);

  struct Update {
    bool changed = false;  // raised or cleared by this window
    bool active = false;   // state after this window
    int count = 0;         // exceeding windows among the last m
  };
  Update Observe(bool exceeded);
  bool active() const { return active_; }
  int count() const { return count_; }

 private:
  int n_, m_;
  std::vector<uint8_t> ring_;  // the last m observations
  size_t pos_ = 0;
  int count_ = 0;
  bool active_ = false;
};

// Runs `/bin/sh -c command` in the background (posix_spawn, own process group, stdin from
// /dev/null, no inherited descriptors), with the alarm's details in EDGELOOP_ALARM_* variables.
// Never blocks: Start returns at once; Reap collects exits. A command that exits non-zero, dies
// by a signal or runs longer than `timeout_ms` (then its group is killed) is a failure.
class CommandRunner {
 public:
  explicit CommandRunner(size_t max_running = 4, int64_t timeout_ms = 60000);
  ~CommandRunner();  // kills what is still running
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  // Errors: Unavailable when max_running commands are still running, IOError when spawn fails.
  Status Start(const std::string& command, const std::vector<std::pair<std::string, std::string>>& env,
               int64_t now_ms);
  // Collects finished commands and kills overdue ones. Returns one message per failure.
  std::vector<std::string> Reap(int64_t now_ms);
  size_t running() const { return children_.size(); }

 private:
  struct Child {
    pid_t pid;
    int64_t started_ms;
    bool killed;
  };
  size_t max_running_;
  int64_t timeout_ms_;
  std::vector<Child> children_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_ALARMS_H_
