// Absolute-deadline pacing for the agent's periodic loop: ticks are due at start + k * period,
// however long each iteration took, so the rate does not drift (sleep(period) would add the work
// time to every period). When the loop falls a whole period or more behind, the missed ticks are
// skipped rather than bursted, and counted as overruns. Thread-safety: none.
#ifndef EDGELOOP_AGENT_PACER_H_
#define EDGELOOP_AGENT_PACER_H_

#include <cstdint>

namespace edgeloop::agent {

class Pacer {
 public:
  Pacer(int64_t period_us, int64_t start_us) : period_us_(period_us), next_us_(start_us) {}
  int64_t next_deadline_us() const { return next_us_; }
  int64_t period_us() const { return period_us_; }
  // True when a tick is due at `now_us`; then advances to the next deadline.
  bool Due(int64_t now_us) {
    if (now_us < next_us_) return false;
    int64_t missed = (now_us - next_us_) / period_us_;  // whole periods behind: skipped
    overruns_ += missed;
    next_us_ += (missed + 1) * period_us_;
    return true;
  }
  int64_t overruns() const { return overruns_; }

 private:
  int64_t period_us_;
  int64_t next_us_;
  int64_t overruns_ = 0;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_PACER_H_
