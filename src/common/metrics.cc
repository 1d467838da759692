#include "edgeloop/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace edgeloop {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string RenderLabels(const Labels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabel(v) + "\"";
  }
  if (!extra.empty()) {
    if (!first) out += ",";
    out += extra;
  }
  out += "}";
  return out;
}

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// "{a=\"b\"}" -> "a=\"b\"" so that le="..." can be appended inside the braces.
std::string Inner(const std::string& rendered) {
  return rendered.empty() ? "" : rendered.substr(1, rendered.size() - 2);
}

}  // namespace

void Counter::Increment(double by) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

void Gauge::Add(double by) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

uint64_t Histogram::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

double Histogram::sum() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_;
}

double Histogram::Quantile(double q) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return 0;
  double rank = q * static_cast<double>(count_);
  uint64_t cum = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    if (static_cast<double>(cum + counts_[i]) >= rank) {
      double lo = i == 0 ? 0 : bounds_[i - 1];
      double hi = i < bounds_.size() ? bounds_[i] : (bounds_.empty() ? 0 : bounds_.back());
      double frac = (rank - static_cast<double>(cum)) / static_cast<double>(counts_[i]);
      return lo + (hi - lo) * std::clamp(frac, 0.0, 1.0);
    }
    cum += counts_[i];
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(const std::string& name, Type type, const std::string& help) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(name, Family{type, help, {}, {}, {}}).first;
  return it->second;
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyFor(name, Type::kCounter, help).counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyFor(name, Type::kGauge, help).gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyFor(name, Type::kHistogram, help).histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

std::string MetricsRegistry::RenderText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream os;
  for (const auto& [name, f] : families_) {
    os << "# HELP " << name << " " << f.help << "\n";
    switch (f.type) {
      case Type::kCounter:
        os << "# TYPE " << name << " counter\n";
        for (const auto& [l, c] : f.counters) os << name << l << " " << Num(c->value()) << "\n";
        break;
      case Type::kGauge:
        os << "# TYPE " << name << " gauge\n";
        for (const auto& [l, g] : f.gauges) os << name << l << " " << Num(g->value()) << "\n";
        break;
      case Type::kHistogram:
        os << "# TYPE " << name << " histogram\n";
        for (const auto& [l, h] : f.histograms) {
          std::lock_guard<std::mutex> hl(h->mu_);
          std::string inner = Inner(l);
          std::string sep = inner.empty() ? "" : ",";
          uint64_t cum = 0;
          for (size_t i = 0; i < h->counts_.size(); ++i) {
            cum += h->counts_[i];
            std::string le = i < h->bounds_.size() ? Num(h->bounds_[i]) : "+Inf";
            os << name << "_bucket{" << inner << sep << "le=\"" << le << "\"} " << cum << "\n";
          }
          os << name << "_sum" << l << " " << Num(h->sum_) << "\n";
          os << name << "_count" << l << " " << h->count_ << "\n";
        }
        break;
    }
  }
  return os.str();
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace edgeloop
