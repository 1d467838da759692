// Drift: what the fleet sees now against what the model was trained on (`edgeloop drift`,
// GET /v1/drift).
//
// Baseline (decided here, documented in src/store/README.md): computed from the training CSV by
// `edgeloop drift baseline data.csv --model NAME` and kept in the store's models table (version 0
// row, JSON). It holds the training class mix and, for six per-window input statistics (mean,
// standard deviation, and the share of spectral energy in four equal frequency bands of the
// window's DFT), ten bins cut at the training deciles with the training share in each.
//
// Report: over the results since `since_ms` (one device, or the whole fleet): the predicted class
// mix against the training mix, and the population stability index of each statistic over the
// stored full windows, PSI = sum((a - e) * ln(a / e)) with shares floored at 1e-4. Status: "ok"
// when every PSI < 0.1, "warning" below 0.25, "drift" otherwise ("insufficient" with fewer than
// `min_windows` windows).
// Thread-safety: free functions.
#ifndef EDGELOOP_STORE_DRIFT_H_
#define EDGELOOP_STORE_DRIFT_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/store/store.h"

namespace edgeloop::store {

inline constexpr int kDriftStats = 6;  // mean, std, band0..band3
const char* DriftStatName(int i);      // "mean", "std", "band0", ...

// The six statistics of one window.
std::vector<double> WindowStats(const std::vector<float>& window);

struct DriftBaseline {
  std::string model;
  std::map<std::string, double> class_mix;         // label -> share of training windows
  std::vector<std::vector<double>> edges;           // per stat: 9 inner cut points (deciles)
  std::vector<std::vector<double>> expected;        // per stat: 10 shares
  int64_t windows = 0;
  nlohmann::json ToJson() const;
  static Result<DriftBaseline> FromJson(const nlohmann::json& j);
};

Result<DriftBaseline> ComputeBaseline(const data::Dataset& training, const std::string& model);

struct DriftReport {
  std::map<std::string, double> training_mix, recent_mix;
  double class_mix_psi = 0;
  std::vector<double> psi;  // per stat
  int64_t results = 0, windows = 0;
  std::string status;
  nlohmann::json ToJson() const;  // the GET /v1/drift shape
};

// `device_id` "" = fleet. `min_windows` below which the status is "insufficient".
Result<DriftReport> ComputeDrift(Store& store, const DriftBaseline& baseline, const std::string& device_id,
                                 int64_t since_ms, int64_t min_windows = 30);

}  // namespace edgeloop::store

#endif  // EDGELOOP_STORE_DRIFT_H_
