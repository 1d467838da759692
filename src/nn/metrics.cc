#include "edgeloop/nn/metrics.h"

#include <algorithm>
#include <cstdio>

namespace edgeloop::nn {

ClassificationMetrics ComputeMetrics(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                                     int num_classes) {
  ClassificationMetrics m;
  const size_t k = static_cast<size_t>(num_classes > 0 ? num_classes : 0);
  m.confusion.assign(k, std::vector<int64_t>(k, 0));
  m.per_class.assign(k, ClassMetrics());
  const size_t n = std::min(truth.size(), predicted.size());
  int64_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    if (truth[i] < 0 || predicted[i] < 0 || static_cast<size_t>(truth[i]) >= k || static_cast<size_t>(predicted[i]) >= k) {
      continue;
    }
    ++m.confusion[truth[i]][predicted[i]];
    ++m.total;
    correct += truth[i] == predicted[i];
  }
  m.accuracy = m.total > 0 ? static_cast<double>(correct) / static_cast<double>(m.total) : 0;
  int present = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = m.confusion[c][c], predicted_c = 0, actual_c = 0;
    for (size_t o = 0; o < k; ++o) {
      predicted_c += m.confusion[o][c];
      actual_c += m.confusion[c][o];
    }
    ClassMetrics& cm = m.per_class[c];
    cm.support = actual_c;
    cm.precision = predicted_c > 0 ? static_cast<double>(tp) / static_cast<double>(predicted_c) : 0;
    cm.recall = actual_c > 0 ? static_cast<double>(tp) / static_cast<double>(actual_c) : 0;
    cm.f1 = cm.precision + cm.recall > 0 ? 2 * cm.precision * cm.recall / (cm.precision + cm.recall) : 0;
    if (actual_c > 0) {
      ++present;
      m.balanced_accuracy += cm.recall;
      m.macro_f1 += cm.f1;
    }
  }
  if (present > 0) {
    m.balanced_accuracy /= present;
    m.macro_f1 /= present;
  }
  return m;
}

std::string FormatMetrics(const ClassificationMetrics& m, const std::vector<std::string>& labels) {
  const size_t k = m.confusion.size();
  size_t width = 9;
  for (const std::string& l : labels) width = std::max(width, l.size() + 1);
  auto name = [&](size_t c) { return c < labels.size() ? labels[c] : std::to_string(c); };
  auto pad = [](const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; };
  std::string out = pad("true \\ predicted", width + 8);
  for (size_t c = 0; c < k; ++c) out += pad(name(c), width);
  out += '\n';
  for (size_t r = 0; r < k; ++r) {
    out += pad(name(r), width + 8);
    for (size_t c = 0; c < k; ++c) out += pad(std::to_string(m.confusion[r][c]), width);
    out += '\n';
  }
  out += '\n' + pad("class", width + 8) + pad("precision", 11) + pad("recall", 9) + pad("f1", 9) + pad("support", 9) + '\n';
  char buf[96];
  for (size_t c = 0; c < k; ++c) {
    const ClassMetrics& cm = m.per_class[c];
    std::snprintf(buf, sizeof(buf), "%11.4f%9.4f%9.4f%9lld", cm.precision, cm.recall, cm.f1,
                  static_cast<long long>(cm.support));
    out += pad(name(c), width + 8) + buf + '\n';
  }
  std::snprintf(buf, sizeof(buf), "accuracy %.4f, balanced accuracy %.4f, macro F1 %.4f (%lld windows)\n", m.accuracy,
                m.balanced_accuracy, m.macro_f1, static_cast<long long>(m.total));
  out += buf;
  return out;
}

}  // namespace edgeloop::nn
