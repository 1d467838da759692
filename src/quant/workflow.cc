#include "edgeloop/quant/workflow.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/tflite/io.h"

namespace edgeloop::quant {
namespace {

std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Top-1 indices of `d`'s windows under `c`.
Result<std::vector<int>> Top1(classifier::Classifier& c, const data::Dataset& d) {
  EL_ASSIGN_OR_RETURN(std::vector<classifier::Prediction> preds, c.ClassifyBatch(d.x));
  std::vector<int> out;
  out.reserve(preds.size());
  for (const classifier::Prediction& p : preds) out.push_back(p.index);
  return out;
}

double Accuracy(const std::vector<int>& pred, const std::vector<int32_t>& truth) {
  size_t ok = 0;
  for (size_t i = 0; i < pred.size() && i < truth.size(); ++i) ok += pred[i] == truth[i];
  return pred.empty() ? 0 : static_cast<double>(ok) / static_cast<double>(pred.size());
}

}  // namespace

Result<QuantizeSummary> QuantizeFile(const QuantizeFileOptions& o) {
  QuantizeSummary s;
  s.io = o.quantize.io;
  EL_ASSIGN_OR_RETURN(std::string float_bytes, Env::Default()->ReadFile(o.model_path));
  s.float_bytes = float_bytes.size();
  auto float_graph = tflite::ReadModel(AsBytes(float_bytes));
  if (!float_graph.ok()) return float_graph.status().WithPrefix(o.model_path);
  auto float_model = classifier::Classifier::Load(AsBytes(float_bytes));
  if (!float_model.ok()) return float_model.status().WithPrefix(o.model_path);
  const classifier::ModelMetadata meta = (*float_model)->metadata();

  data::CsvReadOptions csv;
  csv.channels = meta.channels;
  if ((*float_model)->has_metadata()) csv.labels = meta.labels;
  EL_ASSIGN_OR_RETURN(data::Dataset all, data::ReadCsvFile(o.calibration_path, csv));
  if (all.window_size() != (*float_model)->window_size()) {
    return Status::InvalidArgument(o.calibration_path + ": windows of " + std::to_string(all.window_size()) +
                                   " readings, but " + o.model_path + " takes " +
                                   std::to_string((*float_model)->window_size()));
  }
  data::Dataset calibration_pool, validation;
  if (!o.validation_path.empty()) {
    calibration_pool = std::move(all);
    EL_ASSIGN_OR_RETURN(validation, data::ReadCsvFile(o.validation_path, csv));
    if (validation.window_size() != (*float_model)->window_size()) {
      return Status::InvalidArgument(o.validation_path + ": windows of " + std::to_string(validation.window_size()) +
                                     " readings, but the model takes " + std::to_string((*float_model)->window_size()));
    }
    s.validation_source = o.validation_path;
  } else {
    auto split = data::StratifiedSplit(all, o.validation_fraction, o.seed);
    if (!split.ok()) return split.status().WithPrefix(o.calibration_path);
    calibration_pool = std::move(split->train);
    validation = std::move(split->validation);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.0f%% split of ", o.validation_fraction * 100);
    s.validation_source = buf + o.calibration_path + " (seed " + std::to_string(o.seed) + ")";
  }
  if (o.samples == 0) return Status::InvalidArgument("--samples must be at least 1");
  const data::Dataset cal = data::Sample(calibration_pool, o.samples, o.seed);
  // Normalise exactly as the classifier does before its input tensor.
  std::vector<float> values = cal.x;
  if (!meta.mean.empty()) {
    const size_t channels = static_cast<size_t>(meta.channels);
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t c = i % channels;
      values[i] = (values[i] - meta.mean[c]) / meta.std[c];
    }
  }
  auto q = QuantizeGraph(*float_graph, {values}, o.quantize);
  if (!q.ok()) return q.status().WithPrefix(o.model_path);
  s.result = std::move(*q);
  s.calibration_windows = s.result.calibration_windows;
  auto found = s.result.graph.metadata.find(tflite::kEdgeloopMetadataName);
  if (found != s.result.graph.metadata.end()) {
    auto m = classifier::MetadataFromJson(found->second);
    if (m.ok()) {
      m->quantization = "int8";
      found->second = classifier::MetadataToJson(*m);
    }
  }
  EL_ASSIGN_OR_RETURN(std::vector<uint8_t> int8_bytes, tflite::WriteModel(s.result.graph));
  s.int8_bytes = int8_bytes.size();
  auto int8_model = classifier::Classifier::Load(int8_bytes);
  if (!int8_model.ok()) return int8_model.status().WithPrefix("the quantized model");
  s.validation_windows = validation.size();
  if (validation.size() > 0) {
    EL_ASSIGN_OR_RETURN(std::vector<int> pf, Top1(**float_model, validation));
    EL_ASSIGN_OR_RETURN(std::vector<int> pq, Top1(**int8_model, validation));
    s.float_accuracy = Accuracy(pf, validation.y);
    s.int8_accuracy = Accuracy(pq, validation.y);
    std::vector<int32_t> pf32(pf.begin(), pf.end());
    s.agreement = Accuracy(pq, pf32);
  }
  EL_RETURN_IF_ERROR(Env::Default()->WriteFileAtomic(
      o.output_path, std::string_view(reinterpret_cast<const char*>(int8_bytes.data()), int8_bytes.size())));
  return s;
}

std::string SummaryText(const QuantizeSummary& s) {
  std::string out = RangesTable(s.result);
  char line[512];
  std::snprintf(line, sizeof(line),
                "calibration: %zu windows\nsize: float %zu bytes -> int8 %zu bytes (%.1f%%)\n"
                "validation: %zu windows (%s)\naccuracy: float %.2f%%, int8 %.2f%% (%+.2f points)\n"
                "top-1 agreement float vs int8: %.2f%%\n",
                s.calibration_windows, s.float_bytes, s.int8_bytes,
                s.float_bytes ? 100.0 * static_cast<double>(s.int8_bytes) / static_cast<double>(s.float_bytes) : 0.0,
                s.validation_windows, s.validation_source.c_str(), 100 * s.float_accuracy, 100 * s.int8_accuracy,
                100 * (s.int8_accuracy - s.float_accuracy), 100 * s.agreement);
  return out + line;
}

std::string SummaryJson(const QuantizeSummary& s) {
  nlohmann::json j;
  j["float_bytes"] = s.float_bytes;
  j["int8_bytes"] = s.int8_bytes;
  j["io"] = IoTypeName(s.io);
  j["calibration_windows"] = s.calibration_windows;
  j["validation_windows"] = s.validation_windows;
  j["validation_source"] = s.validation_source;
  j["float_accuracy"] = s.float_accuracy;
  j["int8_accuracy"] = s.int8_accuracy;
  j["accuracy_drop"] = s.float_accuracy - s.int8_accuracy;
  j["top1_agreement"] = s.agreement;
  j["notes"] = s.result.notes;
  nlohmann::json tensors = nlohmann::json::array();
  for (const TensorQuantReport& t : s.result.tensors) {
    tensors.push_back({{"index", t.index},
                       {"name", t.name},
                       {"type", t.type},
                       {"role", t.role},
                       {"min", t.min},
                       {"max", t.max},
                       {"scale", t.scale},
                       {"zero_point", t.zero_point},
                       {"source", t.source}});
  }
  j["tensors"] = std::move(tensors);
  return j.dump(2) + "\n";
}

}  // namespace edgeloop::quant
