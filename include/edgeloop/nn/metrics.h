// Classification metrics shared by training reports and `edgeloop eval`: accuracy, per-class
// precision / recall / F1, macro averages and the confusion matrix.
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_NN_METRICS_H_
#define EDGELOOP_NN_METRICS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace edgeloop::nn {

struct ClassMetrics {
  double precision = 0;  // 0 when the class is never predicted
  double recall = 0;     // 0 when the class never occurs
  double f1 = 0;
  int64_t support = 0;   // windows of this class
};

struct ClassificationMetrics {
  int64_t total = 0;
  double accuracy = 0;
  double balanced_accuracy = 0;  // mean recall over classes that occur
  double macro_f1 = 0;           // mean F1 over classes that occur
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]
  std::vector<ClassMetrics> per_class;
};

// Labels and predictions must be in [0, num_classes); others are ignored.
ClassificationMetrics ComputeMetrics(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                                     int num_classes);

// A fixed-width text table: the confusion matrix with row/column names, then precision, recall,
// F1 and support per class.
std::string FormatMetrics(const ClassificationMetrics& m, const std::vector<std::string>& labels);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_METRICS_H_
