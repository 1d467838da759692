// RunTrainJob (edgeloop/nn/train_job.h): data -> split -> normalisation -> training with console
// progress -> export with metadata -> report.
#include "edgeloop/nn/train_job.h"

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/nn/export.h"
#include "edgeloop/nn/spec_json.h"
#include "edgeloop/registry/manifest.h"
#include "edgeloop/tflite/io.h"
#include "nn/job_util.h"

namespace edgeloop::nn {
namespace {

using Json = nlohmann::json;

// NaN (no validation) becomes null in JSON.
Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

std::string Rfc3339Now() {
  const std::time_t t = static_cast<std::time_t>(Env::Default()->NowUnixMillis() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Keras-like console output: "Epoch 3/50 - 0.09s - loss: ... - val_accuracy: ...", with a bar
// redrawn inside the epoch when `bar` (stdout is a terminal).
class ConsoleObserver : public TrainObserver {
 public:
  ConsoleObserver(FILE* out, bool bar) : out_(out), bar_(bar) {}
  void OnEpochBegin(int epoch, int epochs) override {
    epoch_ = epoch;
    epochs_ = epochs;
    last_draw_us_ = 0;
  }
  void OnStep(int step, int steps, double loss, double accuracy) override {
    if (!bar_ || out_ == nullptr) return;
    const int64_t now = Env::Default()->NowMicros();
    if (step != steps && now - last_draw_us_ < 100'000) return;  // ~10 redraws a second
    last_draw_us_ = now;
    constexpr int kWidth = 30;
    const int filled = steps > 0 ? step * kWidth / steps : kWidth;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    std::fprintf(out_, "\rEpoch %d/%d [%s] %d/%d - loss: %.4f - accuracy: %.4f", epoch_, epochs_, bar.c_str(), step,
                 steps, loss, accuracy);
    std::fflush(out_);
  }
  bool OnEpochEnd(const EpochStats& s) override {
    if (out_ == nullptr) return true;
    if (bar_) std::fprintf(out_, "\r\033[K");
    std::fprintf(out_, "Epoch %d/%d - %.2fs - loss: %.4f - accuracy: %.4f", s.epoch, epochs_, s.seconds, s.loss,
                 s.accuracy);
    if (std::isfinite(s.val_loss)) std::fprintf(out_, " - val_loss: %.4f - val_accuracy: %.4f", s.val_loss, s.val_accuracy);
    std::fprintf(out_, "\n");
    std::fflush(out_);
    return true;
  }

 private:
  FILE* out_;
  bool bar_;
  int epoch_ = 0, epochs_ = 0;
  int64_t last_draw_us_ = 0;
};

// "data.csv: 600 rows, 599 kept, 1 skipped (1 bad number)" and the first messages.
void PrintSkipped(FILE* out, const std::string& path, const data::CsvReadReport& report) {
  if (report.rows_skipped == 0) return;
  std::fprintf(out, "%s: %s\n", path.c_str(), report.Summary().c_str());
  for (const std::string& e : report.examples) std::fprintf(out, "  %s\n", e.c_str());
}

Result<std::vector<float>> ParseClassWeights(const std::string& text, const data::Dataset& train) {
  const size_t k = train.labels.size();
  if (text.empty()) return std::vector<float>();
  if (text == "balanced") return BalancedClassWeights(train.y, static_cast<int>(k));
  std::vector<float> w;
  bool named = text.find('=') != std::string::npos;
  if (named) w.assign(k, 1.0f);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    std::string name, value = item;
    if (named) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument("--class-weights: '" + item + "' is not label=weight");
      name = item.substr(0, eq);
      value = item.substr(eq + 1);
    }
    char* stop = nullptr;
    const float v = std::strtof(value.c_str(), &stop);
    if (value.empty() || stop != value.c_str() + value.size() || !std::isfinite(v) || v < 0) {
      return Status::InvalidArgument("--class-weights: '" + value + "' is not a weight >= 0");
    }
    if (named) {
      size_t c = 0;
      while (c < k && train.labels[c] != name) ++c;
      if (c == k) return Status::InvalidArgument("--class-weights: no class '" + name + "' in the training data");
      w[c] = v;
    } else {
      w.push_back(v);
    }
    pos = end + 1;
  }
  if (w.size() != k) {
    return Status::InvalidArgument("--class-weights: " + std::to_string(w.size()) + " weights for " +
                                   std::to_string(k) + " classes");
  }
  return w;
}

}  // namespace

nlohmann::json MetricsJson(const ClassificationMetrics& m, const std::vector<std::string>& labels) {
  Json per = Json::object();
  for (size_t c = 0; c < m.per_class.size() && c < labels.size(); ++c) {
    const ClassMetrics& cm = m.per_class[c];
    per[labels[c]] = {{"precision", cm.precision}, {"recall", cm.recall}, {"f1", cm.f1}, {"support", cm.support}};
  }
  return {{"accuracy", m.accuracy},           {"balanced_accuracy", m.balanced_accuracy},
          {"macro_f1", m.macro_f1},           {"windows", m.total},
          {"confusion_matrix", m.confusion},  {"per_class", per}};
}

Result<TrainJobResult> RunTrainJob(const TrainJob& job) {
  if (job.data_path.empty()) return Status::InvalidArgument("no training data given");
  if (job.output_path.empty()) return Status::InvalidArgument("no output model path given (-o model.tflite)");
  if (!(job.validation_split >= 0 && job.validation_split < 1)) {
    return Status::InvalidArgument("--validation-split must be in [0, 1)");
  }
  // The architecture first: a bad spec should not wait for a large CSV.
  ModelSpec spec;
  bool have_spec = false;
  if (!job.spec_path.empty()) {
    EL_ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(job.spec_path));
    EL_ASSIGN_OR_RETURN(spec, ModelSpecFromJson(text, job.spec_path));
    have_spec = true;
  }
  data::CsvReadOptions ro;
  ro.channels = job.channels > 0 ? job.channels : (have_spec && spec.channels > 0 ? spec.channels : 1);
  ro.length = have_spec ? spec.length : 0;
  ro.skip_bad_rows = job.skip_bad_rows;
  data::CsvReadReport report;
  EL_ASSIGN_OR_RETURN(data::Dataset all, data::ReadCsvFile(job.data_path, ro, &report));
  if (job.console != nullptr) PrintSkipped(job.console, job.data_path, report);
  if (all.labels.size() < 2) {
    return Status::InvalidArgument(job.data_path + ": only one class ('" + all.labels[0] + "'); training needs two or more");
  }

  data::Dataset train, validation;
  if (!job.validation_path.empty()) {
    data::CsvReadOptions vo = ro;
    vo.labels = all.labels;
    vo.length = all.length;
    data::CsvReadReport vreport;
    EL_ASSIGN_OR_RETURN(validation, data::ReadCsvFile(job.validation_path, vo, &vreport));
    if (job.console != nullptr) PrintSkipped(job.console, job.validation_path, vreport);
    train = std::move(all);
  } else if (job.validation_split > 0) {
    EL_ASSIGN_OR_RETURN(data::Split split, data::StratifiedSplit(all, job.validation_split, job.train.seed));
    train = std::move(split.train);
    validation = std::move(split.validation);
  } else {
    train = std::move(all);
  }

  if (!have_spec) spec = DefaultModelSpec(train.length, train.channels);
  spec.length = train.length;
  spec.channels = train.channels;
  const int k = static_cast<int>(train.labels.size());
  Result<Model> created = Model::Create(spec, k, job.train.seed);
  if (!created.ok()) {
    return created.status().WithPrefix(job.spec_path.empty() ? std::string("default model") : job.spec_path);
  }
  Model model = std::move(*created);
  std::vector<float> mean, stdv;
  FitNormalization(train.x, train.length, train.channels, &mean, &stdv);
  EL_RETURN_IF_ERROR(model.SetNormalization(mean, stdv));

  TrainOptions o = job.train;
  EL_ASSIGN_OR_RETURN(o.class_weights, ParseClassWeights(job.class_weights, train));
  if (job.console != nullptr) {
    std::fprintf(job.console, "training on %zu windows of %d x %d, validating on %zu; %d classes (", train.size(),
                 train.length, train.channels, validation.size(), k);
    for (int c = 0; c < k; ++c) std::fprintf(job.console, "%s%s", c ? ", " : "", train.labels[c].c_str());
    std::fprintf(job.console, ")\n");
    std::fflush(job.console);
  }
  ConsoleObserver console(job.console, job.progress_bar);
  EL_ASSIGN_OR_RETURN(TrainHistory history,
                      Train(&model, Samples{train.x, train.y}, Samples{validation.x, validation.y}, o, &console));

  TrainJobResult result;
  result.labels = train.labels;
  result.train_windows = train.size();
  result.validation_windows = validation.size();
  if (!validation.y.empty()) result.validation = ComputeMetrics(validation.y, history.val_predictions, k);
  const EpochStats& held = history.epochs[static_cast<size_t>(history.weights_epoch - 1)];

  // The model file, with the metadata that makes it self-describing.
  EL_ASSIGN_OR_RETURN(std::string data_bytes, Env::Default()->ReadFile(job.data_path));
  classifier::ModelMetadata meta;
  meta.labels = train.labels;
  meta.length = train.length;
  meta.channels = train.channels;
  meta.mean = model.norm_mean();
  meta.std = model.norm_std();
  meta.dataset_sha256 = registry::Sha256Hex(data_bytes);
  meta.created = Rfc3339Now();
  meta.quantization = "float32";
  Json summary = {{"val_accuracy", Num(held.val_accuracy)},
                  {"val_loss", Num(held.val_loss)},
                  {"accuracy", held.accuracy},
                  {"loss", held.loss},
                  {"epoch", history.weights_epoch},
                  {"train_windows", train.size()},
                  {"validation_windows", validation.size()}};
  meta.metrics_json = summary.dump();
  ExportOptions eo;
  eo.metadata_json = classifier::MetadataToJson(meta);
  eo.description = "edgeloop float model (" + std::to_string(k) + " classes)";
  EL_ASSIGN_OR_RETURN(tflite::Graph graph, ExportGraph(model, eo));
  EL_RETURN_IF_ERROR(tflite::WriteModelFile(graph, job.output_path));

  Json epochs = Json::array();
  for (const EpochStats& e : history.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"loss", e.loss},
                      {"accuracy", e.accuracy},
                      {"val_loss", Num(e.val_loss)},
                      {"val_accuracy", Num(e.val_accuracy)},
                      {"seconds", e.seconds}});
  }
  Json r;
  r["model"] = job.output_path;
  r["data"] = job.data_path;
  r["dataset_sha256"] = meta.dataset_sha256;
  if (!job.validation_path.empty()) r["validation_data"] = job.validation_path;
  r["labels"] = train.labels;
  r["input"] = {{"length", train.length}, {"channels", train.channels}};
  r["normalization"] = {{"mean", meta.mean}, {"std", meta.std}};
  r["spec"] = Json::parse(ModelSpecToJson(model.spec()));
  r["parameters"] = model.parameters().size();
  r["train_windows"] = train.size();
  r["validation_windows"] = validation.size();
  r["options"] = {{"epochs", o.epochs},         {"batch_size", o.batch_size}, {"learning_rate", o.learning_rate},
                  {"patience", o.patience},     {"seed", o.seed},             {"threads", history.threads},
                  {"class_weights", o.class_weights}};
  r["kernel"] = history.kernel;
  r["val_accuracy"] = Num(held.val_accuracy);
  r["val_loss"] = Num(held.val_loss);
  r["best_epoch"] = history.best_epoch;
  r["weights_epoch"] = history.weights_epoch;
  r["early_stopped"] = history.early_stopped;
  r["seconds"] = history.seconds;
  double epoch_seconds = 0;
  for (const EpochStats& e : history.epochs) epoch_seconds += e.seconds;
  r["seconds_per_epoch"] = epoch_seconds / static_cast<double>(history.epochs.size());
  if (!validation.y.empty()) {
    const Json m = MetricsJson(result.validation, train.labels);
    r["confusion_matrix"] = m["confusion_matrix"];
    r["per_class"] = m["per_class"];
    r["macro_f1"] = m["macro_f1"];
  } else {
    r["confusion_matrix"] = nullptr;
  }
  r["epochs"] = std::move(epochs);
  r["created"] = meta.created;
  result.report_json = r.dump(2) + "\n";
  if (!job.report_path.empty()) EL_RETURN_IF_ERROR(Env::Default()->WriteFileAtomic(job.report_path, result.report_json));
  if (!job.curves_path.empty()) {
    EL_RETURN_IF_ERROR(Env::Default()->WriteFileAtomic(job.curves_path, CurvesSvg(history, job.data_path)));
  }
  result.history = std::move(history);
  return result;
}

}  // namespace edgeloop::nn
