// Where the agent's sensor windows come from:
//   synthetic  generated vibration windows; a schedule switches the condition (normal, warning,
//              failure) and adds drift over time. Paced by the agent at rate_hz.
//   csv        replay of a training CSV (wide "label,f0..fN-1" or the tutorial's "features,label"
//              with a JSON list), looping at the end. Paced at rate_hz.
//   stdin      one window per line: comma-separated numbers or a JSON list. Clocked by the
//              writer; end of input stops the agent.
//   file       a file or FIFO in the stdin line format, followed like `tail -f` (appends, and a
//              truncated or replaced file is reopened from its start).
// Bad lines are not fatal: Next reports kBadInput with a message naming the source, line and
// column, the agent counts it and goes on with the next line (a sensor feed must keep running).
// Numbers beyond the float range saturate to +-FLT_MAX; "nan"/"inf" are bad input.
//
// Thread-safety: a Source is used by the agent's loop thread only.
#ifndef EDGELOOP_AGENT_SOURCES_H_
#define EDGELOOP_AGENT_SOURCES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "edgeloop/common/status.h"

namespace edgeloop::agent {

enum class ReadStatus {
  kWindow,     // *window holds the next window
  kNotReady,   // nothing complete yet (push sources); poll again
  kEnd,        // no more input, ever
  kBadInput,   // a line was rejected; `error` says where and why
};

struct ReadResult {
  ReadStatus status = ReadStatus::kNotReady;
  std::string where;  // "stdin:12", "data.csv:40", "synthetic"
  std::string error;  // for kBadInput
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;
  // True for sources the agent paces at rate_hz (synthetic, csv); false for push sources.
  virtual bool paced() const = 0;
  // Push sources: a descriptor to poll for input, or -1 to poll every poll_interval_ms().
  virtual int poll_fd() const { return -1; }
  virtual int poll_interval_ms() const { return 200; }
  // The next window. `window_size` is what the model wants (the synthetic source generates that
  // many readings; the others return what the line holds and the agent checks the size).
  // `elapsed_s` is the time since the agent started (for the synthetic schedule).
  virtual ReadResult Next(size_t window_size, double elapsed_s, std::vector<float>* window) = 0;
};

// Creates the source the configuration asks for. Errors: the file cannot be opened, a CSV header
// that is neither format.
Result<std::unique_ptr<Source>> CreateSource(const AgentConfig::Source& config);

// Parses one line of the stdin/file format into `values`. "" on success, else what is wrong
// ("column 5: 'abc' is not a number"). Empty lines and '#' comments yield no values and "".
std::string ParseReadingsLine(std::string_view line, std::vector<float>* values);

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_SOURCES_H_
