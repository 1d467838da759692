#include "edgeloop/collector/dataset_export.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "edgeloop/registry/manifest.h"

namespace edgeloop::collector {

Result<data::Dataset> ExportDataset(store::Store& store, const ExportOptions& o, ExportReport* report) {
  ExportReport rep;
  store::ResultQuery q = o.query;
  q.limit = 0;
  EL_ASSIGN_OR_RETURN(auto windows, store.LabelledWindows(q, o.min_confidence));
  std::vector<store::LabelledWindow> kept;
  for (auto& w : windows) {
    if (w.source == "operator" && !o.operator_labels) continue;
    if (w.source == "maintenance" && !o.maintenance_labels) continue;
    kept.push_back(std::move(w));
  }
  data::Dataset d;
  d.labels = o.labels;
  if (d.labels.empty()) {
    for (const auto& w : kept) {
      if (std::find(d.labels.begin(), d.labels.end(), w.label) == d.labels.end()) d.labels.push_back(w.label);
    }
    std::sort(d.labels.begin(), d.labels.end());
  }
  std::map<std::string, int64_t> sources;
  std::vector<std::vector<size_t>> by_class(d.labels.size());
  std::vector<const store::LabelledWindow*> accepted;
  for (const auto& w : kept) {
    auto it = std::find(d.labels.begin(), d.labels.end(), w.label);
    if (it == d.labels.end()) {
      ++rep.skipped_label;
      continue;
    }
    if (d.length == 0) d.length = static_cast<int>(w.window.size());
    if (static_cast<int>(w.window.size()) != d.length) {
      ++rep.skipped_length;
      continue;
    }
    by_class[static_cast<size_t>(it - d.labels.begin())].push_back(accepted.size());
    accepted.push_back(&w);
  }
  std::vector<bool> take(accepted.size(), true);
  if (o.balance) {
    size_t cap = SIZE_MAX;
    for (const auto& c : by_class) {
      if (!c.empty()) cap = std::min(cap, c.size());
    }
    std::mt19937_64 rng(o.seed);
    for (auto& c : by_class) {
      if (c.size() <= cap) continue;
      std::shuffle(c.begin(), c.end(), rng);
      for (size_t i = cap; i < c.size(); ++i) take[c[i]] = false;
      rep.dropped_balance += static_cast<int64_t>(c.size() - cap);
    }
  }
  std::vector<int64_t> counts(d.labels.size(), 0);
  for (size_t i = 0; i < accepted.size(); ++i) {
    if (!take[i]) continue;
    const auto* w = accepted[i];
    int32_t cls = static_cast<int32_t>(std::find(d.labels.begin(), d.labels.end(), w->label) - d.labels.begin());
    d.Add(w->window, cls);
    ++counts[static_cast<size_t>(cls)];
    ++sources[w->source];
  }
  rep.windows = static_cast<int64_t>(d.size());
  for (size_t i = 0; i < d.labels.size(); ++i) rep.per_class.emplace_back(d.labels[i], counts[i]);
  rep.per_source.assign(sources.begin(), sources.end());
  if (report != nullptr) *report = rep;
  if (d.size() == 0) {
    return Status::InvalidArgument("dataset export: no labelled windows match (windows are stored only for results "
                                   "the agent uploaded with 'window'; label some, or pass --min-confidence)");
  }
  return d;
}

Result<int64_t> ImportMaintenanceCsv(store::Store& store, const std::string& path, const std::string& by) {
  std::ifstream in(path);
  if (!in) return Status::IOError("label import: cannot read '" + path + "'");
  std::vector<store::Label> labels;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (lineno == 1) {
      if (f != std::vector<std::string>{"device_id", "start", "end", "label"}) {
        return Status::InvalidArgument(where + "the header must be 'device_id,start,end,label'");
      }
      continue;
    }
    if (f.size() != 4) return Status::InvalidArgument(where + "expected 4 columns, got " + std::to_string(f.size()));
    store::Label l;
    l.source = "maintenance";
    l.by = by;
    l.device_id = f[0];
    if (Status s = mqtt::ValidateName("device_id", f[0]); !s.ok()) return Status::InvalidArgument(where + "column 1 (device_id): " + s.message());
    auto start = registry::ParseRfc3339(f[1]);
    if (!start.ok()) return Status::InvalidArgument(where + "column 2 (start): '" + f[1] + "' is not an RFC 3339 time");
    auto end = registry::ParseRfc3339(f[2]);
    if (!end.ok()) return Status::InvalidArgument(where + "column 3 (end): '" + f[2] + "' is not an RFC 3339 time");
    if (*end <= *start) return Status::InvalidArgument(where + "column 3 (end): must be after start");
    if (Status s = mqtt::ValidateName("label", f[3]); !s.ok()) return Status::InvalidArgument(where + "column 4 (label): " + s.message());
    l.start_ms = *start;
    l.end_ms = *end;
    l.label = f[3];
    labels.push_back(std::move(l));
  }
  if (lineno == 0) return Status::InvalidArgument(path + ": empty file (expected the header 'device_id,start,end,label')");
  for (auto& l : labels) EL_RETURN_IF_ERROR(store.AddLabel(std::move(l)).status());
  return static_cast<int64_t>(labels.size());
}

}  // namespace edgeloop::collector
