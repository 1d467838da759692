// The retraining loop on a clock: `edgeloop serve --retrain-every 6h` (and `edgeloop retrain
// --schedule 6h`). Every period the scheduler fetches the model's current stable version from the
// registry (the champion), runs Retrain against it and, when a candidate went to the canary
// channel, runs CheckCanary once the canary period has passed (again every canary period while it
// holds). No new retrain starts while a canary of ours is still being judged. A run that fails
// (no stable version yet, download or training error, registry unreachable) is logged and
// recorded as a decision "failed" with the reason; it never stops the scheduler or its host.
// Thread-safety: Start/Stop from one thread; the scheduler runs on its own thread.
#ifndef EDGELOOP_LOOP_SCHEDULE_H_
#define EDGELOOP_LOOP_SCHEDULE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "edgeloop/loop/retrain.h"

namespace edgeloop::loop {

// "6h", "30m", "45s", "500ms", "1d" (a positive integer and a unit) -> milliseconds.
// Errors: InvalidArgument quoting the text.
Result<int64_t> ParseDurationMs(std::string_view text);

struct ScheduleOptions {
  // champion_path and champion_version are filled in on every run from the stable channel; the
  // champion file is downloaded into retrain.work_dir. server_url and token are required.
  RetrainOptions retrain;
  // model, server_url and token are taken from `retrain`; since_ms is the canary publish time.
  CanaryOptions canary;
  int64_t every_ms = 6 * 3600 * 1000;
  int64_t canary_period_ms = 3600 * 1000;
  std::function<void(const std::string&)> log;  // one line per event; default: stderr
};

class RetrainScheduler {
 public:
  // Validates the options and starts the thread; the first retrain runs `every_ms` after this.
  static Result<std::unique_ptr<RetrainScheduler>> Start(store::Store* store, ScheduleOptions options);
  ~RetrainScheduler();
  // Waits for a run in progress to finish (training is not interrupted), then joins the thread.
  void Stop();
  int64_t runs() const;  // retrains and canary checks done (including failed ones)

 private:
  RetrainScheduler(store::Store* store, ScheduleOptions options);
  void Loop();
  void RunRetrain();
  void RunCanaryCheck();
  void Record(const std::string& decision, const std::string& reason, int64_t candidate = 0, int64_t champion = 0);
  void Log(const std::string& line);

  store::Store* store_;  // must outlive the scheduler
  ScheduleOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  int64_t runs_ = 0;   // GUARDED_BY(mu_)
  // The canary under evaluation (scheduler thread only).
  int64_t canary_version_ = 0, canary_since_ms_ = 0, canary_due_ms_ = 0, skip_recorded_ = 0;
  std::thread thread_;
};

}  // namespace edgeloop::loop

#endif  // EDGELOOP_LOOP_SCHEDULE_H_
