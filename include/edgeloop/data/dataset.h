// Dataset: labelled windows of sensor readings, the unit every edgeloop step trains, evaluates and
// exports. A window is `length` readings of `channels` axes, stored time-major interleaved:
// x[(n * length + t) * channels + c]. Labels are class indices into `labels`.
//
// Also: a stratified seeded train/validation split, seeded shuffle and sampling, subsets and
// concatenation (for retraining on original + field data).
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_DATA_DATASET_H_
#define EDGELOOP_DATA_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::data {

struct Dataset {
  int length = 0;    // readings per channel in one window
  int channels = 1;  // 1, or e.g. 3 for x/y/z axes
  std::vector<std::string> labels;  // class names; a label value is an index into this
  std::vector<float> x;             // size() * window_size() readings
  std::vector<int32_t> y;           // one class index per window

  size_t size() const { return y.size(); }
  size_t window_size() const { return static_cast<size_t>(length) * static_cast<size_t>(channels); }
  std::span<const float> window(size_t i) const { return {x.data() + i * window_size(), window_size()}; }

  // Appends one window (window_size() readings) with class `label`.
  void Add(std::span<const float> window, int32_t label);

  // Checks the invariants: length > 0, channels > 0, labels non-empty and unique, x.size() ==
  // size() * window_size(), every label index in range, every reading finite.
  Status Validate() const;
};

// Number of windows per class (labels.size() entries).
std::vector<int64_t> ClassCounts(const Dataset& d);

// The windows at `indices` (in that order), same labels and shape. Indices must be < d.size().
Dataset Subset(const Dataset& d, std::span<const size_t> indices);

struct Split {
  Dataset train;
  Dataset validation;
};

// Stratified split: from each class, round(fraction * count) windows (at least one when the class
// has two or more and fraction > 0; never its last one) go to validation, chosen with `seed`. Both parts keep the
// original order of their windows and all labels. Errors: InvalidArgument if fraction is not in
// [0, 1) or the result would leave the training part empty.
Result<Split> StratifiedSplit(const Dataset& d, double validation_fraction, uint64_t seed);

// Reorders the windows with a seeded Fisher-Yates shuffle.
void Shuffle(Dataset* d, uint64_t seed);

// `n` windows drawn without replacement (all of them, shuffled, when n >= size()).
Dataset Sample(const Dataset& d, size_t n, uint64_t seed);

// a followed by b. Shapes must match. The label list is a's, followed by b's labels a lacks (in
// b's order); b's label indices are remapped. Errors: InvalidArgument on a shape mismatch.
Result<Dataset> Concat(const Dataset& a, const Dataset& b);

// Orders a set of class names deterministically, independent of row order:
//   1. names that are all in {normal, warning, failure}: by severity (normal, warning, failure);
//   2. names that are all integers: numerically;
//   3. otherwise: lexicographically (byte order).
std::vector<std::string> CanonicalLabelOrder(std::vector<std::string> names);

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_DATASET_H_
