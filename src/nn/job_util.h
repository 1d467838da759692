// Internal to edgeloop_nn_training: helpers shared by the train and eval jobs.
#ifndef EDGELOOP_SRC_NN_JOB_UTIL_H_
#define EDGELOOP_SRC_NN_JOB_UTIL_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeloop/nn/metrics.h"

namespace edgeloop::nn {

// accuracy, balanced_accuracy, macro_f1, windows, confusion_matrix, per_class{label: {...}}.
nlohmann::json MetricsJson(const ClassificationMetrics& m, const std::vector<std::string>& labels);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_SRC_NN_JOB_UTIL_H_
