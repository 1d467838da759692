// `edgeloop retrain`: original training data plus labelled field windows from the store -> train
// (nn) -> quantize (quant) -> evaluate candidate and champion on a held-out golden set -> publish
// the candidate to the canary channel only if it beats the champion by `margin`. Every decision is
// recorded in the store (GET /v1/retrain/decisions) and returned.
// CheckCanary then judges the canary period and promotes (or rolls back).
// Thread-safety: one call at a time per work directory.
#ifndef EDGELOOP_LOOP_RETRAIN_H_
#define EDGELOOP_LOOP_RETRAIN_H_

#include <cstdint>
#include <string>

#include "edgeloop/collector/dataset_export.h"
#include "edgeloop/common/status.h"
#include "edgeloop/store/store.h"

namespace edgeloop::loop {

struct RetrainOptions {
  std::string model = "vib";       // registry model name
  std::string original_csv;        // the original training data (required)
  std::string golden_csv;          // held-out golden set (required; never trained on)
  std::string champion_path;       // the current stable model file (required)
  int64_t champion_version = 0;    // recorded with the decision
  std::string work_dir;            // candidate files land here
  double margin = 0.01;            // candidate accuracy must be >= champion's + margin
  int epochs = 30;
  uint64_t seed = 1;
  collector::ExportOptions field;  // which field windows join the training data
  std::string server_url, token;   // registry for the canary publish; "" = decide only
  double canary_share = 0.1;
};

struct RetrainOutcome {
  store::RetrainDecision decision;
  std::string candidate_path;     // the INT8 candidate
  int64_t field_windows = 0;
  int64_t training_windows = 0;
};

// Errors: reading or training failures (naming the file). A refused candidate is not an error.
Result<RetrainOutcome> Retrain(store::Store& store, const RetrainOptions& options);

}  // namespace edgeloop::loop


namespace edgeloop::loop {

// The canary period's verdict: devices running the canary version since `since_ms` against those
// running the stable version, from the store. Held while the canary has fewer than `min_results`.
// Rolled back when any check fails (the canary channel is pointed at the stable version, so the
// canary devices return to what the rest run), otherwise promoted to stable:
//   - confidence: the canary's mean confidence is lower by more than `max_confidence_drop`;
//   - distribution: the canary's confidence distribution sits lower than the stable one's by more
//     than `max_confidence_shift`, measured as the one-sided Kolmogorov-Smirnov distance
//     max_x (F_canary(x) - F_stable(x)) over 20-bin histograms on [0, 1] (the share of results that
//     moved to lower confidence; a canary that is merely more confident passes). The population
//     stability index of the two histograms is reported alongside;
//   - latency: the canary's median inference time is more than `max_latency_ratio` times stable's;
//   - errors: what the devices report as errors, per result: the increase of their status
//     counters (spool_errors, dropped, overruns, bad_inputs, alarm_command_failures) between two
//     status messages, attributed to the model version the later one names, plus dead letters from
//     their topics (attributed to the version the device ran then). Fails when the canary's rate
//     exceeds stable's by more than `max_error_rate_increase`;
//   - OTA: more than `max_ota_failures` devices report a failed or refused install of the canary.
// The reason lists every measurement and names the failed checks with their numbers. Recorded like
// the retrain decisions (the accuracy fields carry the mean confidences).
struct CanaryOptions {
  std::string model = "vib";
  std::string server_url, token;  // the registry (required)
  int64_t since_ms = 0;
  int64_t min_results = 50;
  double max_confidence_drop = 0.05;
  double max_confidence_shift = 0.2;
  double max_latency_ratio = 1.5;
  double max_error_rate_increase = 0.01;
  int64_t max_ota_failures = 0;
};
Result<store::RetrainDecision> CheckCanary(store::Store& store, const CanaryOptions& options);

}  // namespace edgeloop::loop

#endif  // EDGELOOP_LOOP_RETRAIN_H_
