// The agent's log: one line per event on stderr, "2026-11-24T15:42:00.123Z edge-001 warn: ...",
// for journald or a file. A repeated failure (a broker that stays down, a feed of bad lines) is
// logged the first kBurst times and then every kEvery-th time, with the running count, so a
// stuck condition cannot fill the disk. Thread-safety: safe from any thread.
#ifndef EDGELOOP_AGENT_LOG_H_
#define EDGELOOP_AGENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace edgeloop::agent {

enum class LogLevel { kInfo, kWarn, kError };

// Sets the device id shown on every line (once, at startup).
void SetLogDevice(const std::string& device_id);
void Log(LogLevel level, const std::string& message);

// Logs occurrences of one kind of repeated event with rate limiting.
class RepeatedLog {
 public:
  static constexpr int64_t kBurst = 10;
  static constexpr int64_t kEvery = 1000;
  void Log(LogLevel level, const std::string& message);
  int64_t count() const { return count_.load(); }

 private:
  std::atomic<int64_t> count_{0};
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_LOG_H_
