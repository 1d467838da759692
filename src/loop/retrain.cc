#include "edgeloop/loop/retrain.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "edgeloop/data/csv.h"
#include "edgeloop/nn/train_job.h"
#include "edgeloop/quant/workflow.h"
#include "edgeloop/registry/client.h"

namespace edgeloop::loop {

Result<RetrainOutcome> Retrain(store::Store& store, const RetrainOptions& o) {
  if (o.original_csv.empty() || o.golden_csv.empty() || o.champion_path.empty() || o.work_dir.empty()) {
    return Status::InvalidArgument("retrain: original data, golden set, champion model and work directory are required");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.work_dir, ec);
  if (ec) return Status::IOError("retrain: cannot create '" + o.work_dir + "': " + ec.message());
  RetrainOutcome out;
  // 1. Assemble: the original data plus labelled field windows of the same shape and label set.
  EL_ASSIGN_OR_RETURN(data::Dataset train, data::ReadCsvFile(o.original_csv, data::CsvReadOptions{}));
  collector::ExportOptions fo = o.field;
  fo.labels = train.labels;
  collector::ExportReport rep;
  auto field = collector::ExportDataset(store, fo, &rep);
  if (field.ok() && field->length == train.length && field->channels == train.channels) {
    for (size_t i = 0; i < field->size(); ++i) train.Add(field->window(i), field->y[i]);
    out.field_windows = static_cast<int64_t>(field->size());
  }
  out.training_windows = static_cast<int64_t>(train.size());
  const std::string train_csv = o.work_dir + "/train.csv";
  EL_RETURN_IF_ERROR(data::WriteCsvFile(train, train_csv));
  // 2. Train the float model.
  nn::TrainJob job;
  job.data_path = train_csv;
  job.output_path = o.work_dir + "/candidate_float.tflite";
  job.train.epochs = o.epochs;
  job.train.seed = o.seed;
  job.console = nullptr;
  EL_RETURN_IF_ERROR(nn::RunTrainJob(job).status().WithPrefix("retrain: train"));
  // 3. Quantize, calibrated on the assembled data.
  quant::QuantizeFileOptions qo;
  qo.model_path = job.output_path;
  qo.calibration_path = train_csv;
  qo.output_path = o.work_dir + "/candidate_int8.tflite";
  qo.seed = o.seed;
  EL_RETURN_IF_ERROR(quant::QuantizeFile(qo).status().WithPrefix("retrain: quantize"));
  out.candidate_path = qo.output_path;
  // 4. Judge both on the golden set.
  EL_ASSIGN_OR_RETURN(nn::EvalResult cand, nn::EvaluateModelOnCsv(qo.output_path, o.golden_csv, false));
  EL_ASSIGN_OR_RETURN(nn::EvalResult champ, nn::EvaluateModelOnCsv(o.champion_path, o.golden_csv, false));
  store::RetrainDecision& d = out.decision;
  d.model = o.model;
  d.champion_version = o.champion_version;
  d.candidate_accuracy = cand.metrics.accuracy;
  d.champion_accuracy = champ.metrics.accuracy;
  char why[256];
  if (d.candidate_accuracy < d.champion_accuracy + o.margin) {
    d.decision = "refused";
    std::snprintf(why, sizeof(why), "candidate %.4f < champion %.4f + margin %.4f on the golden set", d.candidate_accuracy,
                  d.champion_accuracy, o.margin);
    d.reason = why;
  } else if (o.server_url.empty()) {
    d.decision = "accepted";
    std::snprintf(why, sizeof(why), "candidate %.4f >= champion %.4f + margin %.4f; no registry given, not published",
                  d.candidate_accuracy, d.champion_accuracy, o.margin);
    d.reason = why;
  } else {
    registry::ClientOptions co;
    co.server_url = o.server_url;
    co.token = o.token;
    EL_ASSIGN_OR_RETURN(auto client, registry::RegistryClient::Create(co));
    registry::PublishOptions po;
    po.channel = "canary";
    po.share = o.canary_share;
    char metrics[128];
    std::snprintf(metrics, sizeof(metrics), "{\"golden_accuracy\":%.6f}", d.candidate_accuracy);
    po.metrics_json = metrics;
    auto manifest = client->PublishFile(o.model, qo.output_path, po);
    if (!manifest.ok()) {
      d.decision = "publish_failed";
      d.reason = manifest.status().message();
    } else {
      auto j = nlohmann::json::parse(*manifest, nullptr, false);
      if (j.is_object() && j.contains("version") && j["version"].is_number_integer()) d.candidate_version = j["version"];
      d.decision = "published_canary";
      std::snprintf(why, sizeof(why), "candidate %.4f >= champion %.4f + margin %.4f; canary share %.2f",
                    d.candidate_accuracy, d.champion_accuracy, o.margin, o.canary_share);
      d.reason = why;
    }
  }
  EL_RETURN_IF_ERROR(store.AddRetrainDecision(d));
  return out;
}

}  // namespace edgeloop::loop
