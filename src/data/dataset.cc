#include "edgeloop/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "edgeloop/common/random.h"

namespace edgeloop::data {

void Dataset::Add(std::span<const float> window, int32_t label) {
  x.insert(x.end(), window.begin(), window.end());
  y.push_back(label);
}

Status Dataset::Validate() const {
  if (length <= 0) return Status::InvalidArgument("dataset: length must be > 0");
  if (channels <= 0) return Status::InvalidArgument("dataset: channels must be > 0");
  if (labels.empty()) return Status::InvalidArgument("dataset: no labels");
  std::set<std::string> seen;
  for (const std::string& l : labels) {
    if (l.empty()) return Status::InvalidArgument("dataset: empty label name");
    if (!seen.insert(l).second) return Status::InvalidArgument("dataset: duplicate label '" + l + "'");
  }
  if (x.size() != size() * window_size()) {
    return Status::InvalidArgument("dataset: " + std::to_string(x.size()) + " readings for " +
                                   std::to_string(size()) + " windows of " + std::to_string(window_size()));
  }
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] < 0 || static_cast<size_t>(y[i]) >= labels.size()) {
      return Status::InvalidArgument("dataset: window " + std::to_string(i) + ": label index " +
                                     std::to_string(y[i]) + " out of range");
    }
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return Status::InvalidArgument("dataset: window " + std::to_string(i / window_size()) + ", reading " +
                                     std::to_string(i % window_size()) + " is not finite");
    }
  }
  return Status::Ok();
}

std::vector<int64_t> ClassCounts(const Dataset& d) {
  std::vector<int64_t> counts(d.labels.size(), 0);
  for (int32_t label : d.y) {
    if (label >= 0 && static_cast<size_t>(label) < counts.size()) ++counts[label];
  }
  return counts;
}

Dataset Subset(const Dataset& d, std::span<const size_t> indices) {
  Dataset out;
  out.length = d.length;
  out.channels = d.channels;
  out.labels = d.labels;
  out.x.reserve(indices.size() * d.window_size());
  out.y.reserve(indices.size());
  for (size_t i : indices) out.Add(d.window(i), d.y[i]);
  return out;
}

Result<Split> StratifiedSplit(const Dataset& d, double validation_fraction, uint64_t seed) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    return Status::InvalidArgument("validation split " + std::to_string(validation_fraction) + " is not in [0, 1)");
  }
  std::vector<std::vector<size_t>> by_class(d.labels.size());
  for (size_t i = 0; i < d.size(); ++i) by_class[d.y[i]].push_back(i);
  std::vector<bool> in_validation(d.size(), false);
  for (size_t c = 0; c < by_class.size(); ++c) {
    std::vector<size_t>& members = by_class[c];
    // One stream per class, so adding windows of one class does not reshuffle the others.
    Rng rng(DeriveSeed(seed, 0x5b117, c));
    rng.Shuffle(std::span<size_t>(members));
    size_t take = static_cast<size_t>(std::llround(validation_fraction * static_cast<double>(members.size())));
    if (take == 0 && validation_fraction > 0 && members.size() >= 2) take = 1;
    // Every class keeps at least one training window.
    if (take >= members.size()) take = members.empty() ? 0 : members.size() - 1;
    for (size_t k = 0; k < take; ++k) in_validation[members[k]] = true;
  }
  std::vector<size_t> train_idx, val_idx;
  for (size_t i = 0; i < d.size(); ++i) (in_validation[i] ? val_idx : train_idx).push_back(i);
  if (train_idx.empty()) return Status::InvalidArgument("validation split leaves no training windows");
  Split split;
  split.train = Subset(d, train_idx);
  split.validation = Subset(d, val_idx);
  return split;
}

void Shuffle(Dataset* d, uint64_t seed) {
  std::vector<size_t> order(d->size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  rng.Shuffle(std::span<size_t>(order));
  *d = Subset(*d, order);
}

Dataset Sample(const Dataset& d, size_t n, uint64_t seed) {
  std::vector<size_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  rng.Shuffle(std::span<size_t>(order));
  order.resize(std::min(n, order.size()));
  return Subset(d, order);
}

Result<Dataset> Concat(const Dataset& a, const Dataset& b) {
  if (a.length != b.length || a.channels != b.channels) {
    return Status::InvalidArgument("cannot concatenate windows of " + std::to_string(a.length) + "x" +
                                   std::to_string(a.channels) + " and " + std::to_string(b.length) + "x" +
                                   std::to_string(b.channels));
  }
  Dataset out = a;
  std::vector<int32_t> remap(b.labels.size());
  for (size_t i = 0; i < b.labels.size(); ++i) {
    auto it = std::find(out.labels.begin(), out.labels.end(), b.labels[i]);
    if (it == out.labels.end()) {
      out.labels.push_back(b.labels[i]);
      remap[i] = static_cast<int32_t>(out.labels.size() - 1);
    } else {
      remap[i] = static_cast<int32_t>(it - out.labels.begin());
    }
  }
  out.x.insert(out.x.end(), b.x.begin(), b.x.end());
  for (int32_t label : b.y) out.y.push_back(remap[label]);
  return out;
}

namespace {

bool IsInteger(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> CanonicalLabelOrder(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  static const std::map<std::string, int> kSeverity = {{"normal", 0}, {"warning", 1}, {"failure", 2}};
  bool all_severity = !names.empty() && std::all_of(names.begin(), names.end(), [](const std::string& n) {
    return kSeverity.count(n) > 0;
  });
  if (all_severity) {
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return kSeverity.at(a) < kSeverity.at(b); });
    return names;
  }
  if (!names.empty() && std::all_of(names.begin(), names.end(), IsInteger)) {
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  }
  return names;
}

}  // namespace edgeloop::data
