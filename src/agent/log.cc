#include "agent/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

#include "edgeloop/common/env.h"

namespace edgeloop::agent {
namespace {

std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}
std::string& Device() {
  static std::string device = "-";
  return device;
}

}  // namespace

void SetLogDevice(const std::string& device_id) {
  std::lock_guard<std::mutex> lock(LogMutex());
  Device() = device_id;
}

void Log(LogLevel level, const std::string& message) {
  int64_t ms = Env::Default()->NowUnixMillis();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  const char* lv = level == LogLevel::kInfo ? "info" : level == LogLevel::kWarn ? "warn" : "error";
  std::lock_guard<std::mutex> lock(LogMutex());
  std::fprintf(stderr, "%s %s %s: %s\n", stamp, Device().c_str(), lv, message.c_str());
  std::fflush(stderr);
}

void RepeatedLog::Log(LogLevel level, const std::string& message) {
  int64_t n = ++count_;
  if (n <= kBurst) {
    agent::Log(level, message);
  } else if (n % kEvery == 0) {
    agent::Log(level, message + " (" + std::to_string(n) + " times so far)");
  }
}

}  // namespace edgeloop::agent
