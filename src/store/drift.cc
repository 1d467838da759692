#include "edgeloop/store/drift.h"

#include <algorithm>
#include <cmath>

namespace edgeloop::store {
namespace {

constexpr int kBins = 10;
constexpr double kFloor = 1e-4;

double Psi(const std::vector<double>& expected, const std::vector<double>& actual) {
  double psi = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double e = std::max(expected[i], kFloor), a = std::max(actual[i], kFloor);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

int BinOf(const std::vector<double>& edges, double v) {
  return static_cast<int>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
}

}  // namespace

const char* DriftStatName(int i) {
  static const char* kNames[kDriftStats] = {"mean", "std", "band0", "band1", "band2", "band3"};
  return i >= 0 && i < kDriftStats ? kNames[i] : "?";
}

std::vector<double> WindowStats(const std::vector<float>& w) {
  std::vector<double> s(kDriftStats, 0.0);
  const size_t n = w.size();
  if (n == 0) return s;
  double mean = 0;
  for (float v : w) mean += v;
  mean /= static_cast<double>(n);
  double var = 0;
  for (float v : w) var += (v - mean) * (v - mean);
  s[0] = mean;
  s[1] = std::sqrt(var / static_cast<double>(n));
  // Energy of the mean-removed window's DFT bins 1..n/2, in four equal bands, as shares.
  const size_t half = n / 2;
  std::vector<double> band(4, 0.0);
  double total = 0;
  for (size_t k = 1; k <= half; ++k) {
    double re = 0, im = 0;
    for (size_t t = 0; t < n; ++t) {
      double ang = -2.0 * M_PI * static_cast<double>(k * t % n) / static_cast<double>(n);
      re += (w[t] - mean) * std::cos(ang);
      im += (w[t] - mean) * std::sin(ang);
    }
    double e = re * re + im * im;
    size_t b = std::min<size_t>(3, (k - 1) * 4 / std::max<size_t>(1, half));
    band[b] += e;
    total += e;
  }
  for (int b = 0; b < 4; ++b) s[2 + b] = total > 0 ? band[b] / total : 0.0;
  return s;
}

nlohmann::json DriftBaseline::ToJson() const {
  return nlohmann::json{{"model", model}, {"class_mix", class_mix}, {"edges", edges}, {"expected", expected},
                        {"windows", windows}};
}

Result<DriftBaseline> DriftBaseline::FromJson(const nlohmann::json& j) {
  try {
    DriftBaseline b;
    b.model = j.at("model").get<std::string>();
    b.class_mix = j.at("class_mix").get<std::map<std::string, double>>();
    b.edges = j.at("edges").get<std::vector<std::vector<double>>>();
    b.expected = j.at("expected").get<std::vector<std::vector<double>>>();
    b.windows = j.at("windows").get<int64_t>();
    if (b.edges.size() != kDriftStats || b.expected.size() != kDriftStats) {
      return Status::Corruption("drift baseline: expected " + std::to_string(kDriftStats) + " statistics");
    }
    for (int i = 0; i < kDriftStats; ++i) {
      if (b.edges[i].size() != kBins - 1 || b.expected[i].size() != kBins) {
        return Status::Corruption(std::string("drift baseline: statistic '") + DriftStatName(i) + "' has bad bins");
      }
    }
    return b;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("drift baseline: ") + e.what());
  }
}

Result<DriftBaseline> ComputeBaseline(const data::Dataset& d, const std::string& model) {
  if (d.size() < static_cast<size_t>(kBins)) {
    return Status::InvalidArgument("drift baseline: need at least " + std::to_string(kBins) + " training windows");
  }
  DriftBaseline b;
  b.model = model;
  b.windows = static_cast<int64_t>(d.size());
  std::vector<int64_t> counts = data::ClassCounts(d);
  for (size_t i = 0; i < d.labels.size(); ++i) b.class_mix[d.labels[i]] = static_cast<double>(counts[i]) / static_cast<double>(d.size());
  std::vector<std::vector<double>> values(kDriftStats);
  for (size_t i = 0; i < d.size(); ++i) {
    auto w = d.window(i);
    std::vector<double> s = WindowStats(std::vector<float>(w.begin(), w.end()));
    for (int k = 0; k < kDriftStats; ++k) values[k].push_back(s[k]);
  }
  for (int k = 0; k < kDriftStats; ++k) {
    std::vector<double> sorted = values[k];
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> edges;
    for (int q = 1; q < kBins; ++q) edges.push_back(sorted[sorted.size() * q / kBins]);
    std::vector<double> share(kBins, 0.0);
    for (double v : values[k]) share[BinOf(edges, v)] += 1.0 / static_cast<double>(values[k].size());
    b.edges.push_back(std::move(edges));
    b.expected.push_back(std::move(share));
  }
  return b;
}

nlohmann::json DriftReport::ToJson() const {
  nlohmann::json bands = nlohmann::json::array();
  for (int i = 2; i < kDriftStats; ++i) bands.push_back(psi.size() > static_cast<size_t>(i) ? psi[i] : 0.0);
  return nlohmann::json{
      {"class_mix", {{"training", training_mix}, {"recent", recent_mix}, {"psi", class_mix_psi}}},
      {"psi", {{"mean", psi.empty() ? 0.0 : psi[0]}, {"std", psi.size() > 1 ? psi[1] : 0.0}, {"bands", bands}}},
      {"results", results},
      {"windows", windows},
      {"status", status}};
}

Result<DriftReport> ComputeDrift(Store& store, const DriftBaseline& b, const std::string& device_id, int64_t since_ms,
                                 int64_t min_windows) {
  DriftReport r;
  r.training_mix = b.class_mix;
  ResultQuery q;
  q.device_id = device_id;
  q.since_ms = since_ms;
  q.limit = 0;
  EL_ASSIGN_OR_RETURN(auto rows, store.Results(q));
  std::map<std::string, double> mix;
  std::vector<std::vector<double>> shares(kDriftStats, std::vector<double>(kBins, 0.0));
  for (const ResultRow& row : rows) {
    mix[row.msg.prediction] += 1;
    ++r.results;
    if (row.msg.window.empty()) continue;
    ++r.windows;
    std::vector<double> s = WindowStats(row.msg.window);
    for (int k = 0; k < kDriftStats; ++k) shares[k][BinOf(b.edges[k], s[k])] += 1;
  }
  for (auto& [k, v] : mix) v /= std::max<double>(1, static_cast<double>(r.results));
  r.recent_mix = mix;
  std::vector<double> e, a;
  for (const auto& [k, v] : b.class_mix) {
    e.push_back(v);
    a.push_back(mix.count(k) ? mix[k] : 0.0);
  }
  for (const auto& [k, v] : mix) {
    if (!b.class_mix.count(k)) {  // a class the training set never had
      e.push_back(0);
      a.push_back(v);
    }
  }
  r.class_mix_psi = r.results > 0 ? Psi(e, a) : 0.0;
  double worst = r.class_mix_psi;
  for (int k = 0; k < kDriftStats; ++k) {
    for (double& v : shares[k]) v /= std::max<double>(1, static_cast<double>(r.windows));
    double p = r.windows > 0 ? Psi(b.expected[k], shares[k]) : 0.0;
    r.psi.push_back(p);
    worst = std::max(worst, p);
  }
  r.status = r.windows < min_windows ? "insufficient" : worst < 0.1 ? "ok" : worst < 0.25 ? "warning" : "drift";
  return r;
}

}  // namespace edgeloop::store
