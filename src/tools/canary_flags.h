// The canary check's thresholds as command-line options, one definition for the three commands
// that take them: `retrain canary-check` (--min-results, --max-...), and `serve --retrain-every` and
// `retrain --schedule` (the same names after "--canary-").
#pragma once

#include <string>

#include "edgeloop/common/flags.h"
#include "edgeloop/loop/retrain.h"

namespace edgeloop::tools {

// prefix "" gives --min-results, --max-confidence-drop, ...; "canary-" gives --canary-min-results, ...
inline void AddCanaryCheckFlags(Flags& flags, loop::CanaryOptions* o, const std::string& prefix) {
  const std::string p = "--" + prefix;
  flags.Int(p + "min-results", &o->min_results, "canary results needed before judging (else: held)");
  flags.Double(p + "max-confidence-drop", &o->max_confidence_drop, "largest tolerated drop of mean confidence");
  flags.Double(p + "max-latency-ratio", &o->max_latency_ratio,
               "largest tolerated canary/stable median inference time ratio");
  flags.Double(p + "max-confidence-shift", &o->max_confidence_shift,
               "largest tolerated share of results moved to lower confidence (one-sided KS of the distributions)");
  flags.Double(p + "max-error-rate-increase", &o->max_error_rate_increase,
               "largest tolerated rise of device errors per result (status counters, dead letters) over stable's");
  flags.Int(p + "max-ota-failures", &o->max_ota_failures, "devices allowed to fail installing the canary");
}

}  // namespace edgeloop::tools
