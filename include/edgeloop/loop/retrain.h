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

// The canary period's verdict: the results of devices running the canary version since `since_ms`
// against those running the stable version, from the store. Held while the canary has fewer than
// `min_results`; rolled back (canary channel) when its mean confidence is lower by more than
// `max_confidence_drop` or its mean inference time is more than `max_latency_ratio` times the
// stable one's; otherwise promoted to stable. Recorded like the retrain decisions (the accuracy
// fields carry the mean confidences).
struct CanaryOptions {
  std::string model = "vib";
  std::string server_url, token;  // the registry (required)
  int64_t since_ms = 0;
  int64_t min_results = 50;
  double max_confidence_drop = 0.05;
  double max_latency_ratio = 1.5;
};
Result<store::RetrainDecision> CheckCanary(store::Store& store, const CanaryOptions& options);

}  // namespace edgeloop::loop

#endif  // EDGELOOP_LOOP_RETRAIN_H_
