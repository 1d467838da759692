// EvaluateModelOnCsv, EvalJson and PredictCsv (edgeloop/nn/train_job.h): a model file run over
// a CSV through classifier::Classifier (float or INT8).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/nn/train_job.h"
#include "nn/job_util.h"

namespace edgeloop::nn {
namespace {

using Json = nlohmann::json;

struct Classified {
  std::unique_ptr<classifier::Classifier> model;
  data::Dataset data;
  data::CsvReadReport report;
  std::vector<classifier::Prediction> predictions;
};

Result<Classified> ClassifyCsv(const std::string& model_path, const std::string& csv_path, bool skip_bad_rows) {
  Classified c;
  Result<std::unique_ptr<classifier::Classifier>> loaded = classifier::Classifier::LoadFile(model_path);
  if (!loaded.ok()) return loaded.status().WithPrefix(model_path);
  c.model = std::move(*loaded);
  const classifier::ModelMetadata& meta = c.model->metadata();
  data::CsvReadOptions ro;
  ro.channels = meta.channels;
  ro.length = meta.length;
  ro.labels = meta.labels;  // a label the model does not know is an error naming the line
  ro.skip_bad_rows = skip_bad_rows;
  EL_ASSIGN_OR_RETURN(c.data, data::ReadCsvFile(csv_path, ro, &c.report));
  Result<std::vector<classifier::Prediction>> p = c.model->ClassifyBatch(c.data.x);
  if (!p.ok()) return p.status().WithPrefix(model_path);
  c.predictions = std::move(*p);
  return c;
}

// "" when nothing was skipped; else the file's summary line and the first messages.
std::string SkippedSummary(const std::string& path, const data::CsvReadReport& report) {
  if (report.rows_skipped == 0) return "";
  std::string s = path + ": " + report.Summary();
  for (const std::string& e : report.examples) s += "\n  " + e;
  return s;
}

}  // namespace

Result<EvalResult> EvaluateModelOnCsv(const std::string& model_path, const std::string& csv_path, bool skip_bad_rows) {
  EL_ASSIGN_OR_RETURN(Classified c, ClassifyCsv(model_path, csv_path, skip_bad_rows));
  std::vector<int32_t> predicted;
  predicted.reserve(c.predictions.size());
  for (const classifier::Prediction& p : c.predictions) predicted.push_back(p.index);
  EvalResult r;
  r.labels = c.model->labels();
  r.metrics = ComputeMetrics(c.data.y, predicted, static_cast<int>(r.labels.size()));
  r.rows_skipped = c.report.rows_skipped;
  if (c.report.rows_skipped > 0) r.skipped_summary = SkippedSummary(csv_path, c.report);
  return r;
}

std::string EvalJson(const EvalResult& r) {
  Json j = MetricsJson(r.metrics, r.labels);
  j["labels"] = r.labels;
  j["rows_skipped"] = r.rows_skipped;
  return j.dump(2) + "\n";
}

Result<std::string> PredictCsv(const std::string& model_path, const std::string& csv_path, bool skip_bad_rows,
                               std::string* skipped_summary) {
  EL_ASSIGN_OR_RETURN(Classified c, ClassifyCsv(model_path, csv_path, skip_bad_rows));
  if (skipped_summary != nullptr) *skipped_summary = SkippedSummary(csv_path, c.report);
  const std::vector<std::string>& labels = c.model->labels();
  std::string out = "window,label,predicted,confidence";
  for (const std::string& l : labels) out += ",p_" + l;
  out += '\n';
  char buf[32];
  for (size_t i = 0; i < c.predictions.size(); ++i) {
    const classifier::Prediction& p = c.predictions[i];
    out += std::to_string(i) + ',' + c.data.labels[static_cast<size_t>(c.data.y[i])] + ',' + p.label;
    std::snprintf(buf, sizeof(buf), ",%.6f", p.confidence);
    out += buf;
    for (float s : p.scores) {
      std::snprintf(buf, sizeof(buf), ",%.6f", s);
      out += buf;
    }
    out += '\n';
  }
  return out;
}

}  // namespace edgeloop::nn
