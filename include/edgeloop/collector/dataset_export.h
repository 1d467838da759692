// From the store back to training data: `edgeloop dataset export` (labelled field windows as the
// training CSV) and `edgeloop label import` (maintenance records as time-range labels).
// Thread-safety: free functions over a Store (which serialises itself).
#ifndef EDGELOOP_COLLECTOR_DATASET_EXPORT_H_
#define EDGELOOP_COLLECTOR_DATASET_EXPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/store/store.h"

namespace edgeloop::collector {

struct ExportOptions {
  store::ResultQuery query;                // device, since, until (limit ignored)
  bool operator_labels = true;             // operator labels and confirmed alarms
  bool maintenance_labels = true;          // maintenance time ranges
  std::optional<double> min_confidence;    // also confident predictions (>= this)
  std::vector<std::string> labels;         // class order (e.g. the model's); "" = sorted labels seen
  bool balance = false;                    // cap every class at the smallest class's count
  uint64_t seed = 1;                       // which windows the balancing keeps
};

struct ExportReport {
  int64_t windows = 0;
  int64_t skipped_length = 0;  // windows whose length differs from the first one's
  int64_t skipped_label = 0;   // labels not in ExportOptions::labels
  int64_t dropped_balance = 0;
  std::vector<std::pair<std::string, int64_t>> per_source;
  std::vector<std::pair<std::string, int64_t>> per_class;
};

// Errors: the store's; InvalidArgument when nothing matches (an empty training set is useless).
Result<data::Dataset> ExportDataset(store::Store& store, const ExportOptions& options, ExportReport* report);

// Reads "device_id,start,end,label" (a header line, RFC 3339 times) and stores one maintenance
// label per row. All rows are checked before any is stored. Errors name the file, line and field.
Result<int64_t> ImportMaintenanceCsv(store::Store& store, const std::string& path, const std::string& by);

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_DATASET_EXPORT_H_
