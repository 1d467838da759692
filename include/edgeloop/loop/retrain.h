// `edgeloop retrain`: original training data plus labelled field windows from the store -> train
// (nn) -> quantize (quant) -> evaluate candidate and champion on a held-out golden set -> publish
// the candidate to the canary channel only if it beats the champion by `margin`. Every decision is
// recorded in the store (GET /v1/retrain/decisions) and returned.
// Not done yet: the canary-period health check and promotion to stable (see src/loop/README.md).
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

#endif  // EDGELOOP_LOOP_RETRAIN_H_
