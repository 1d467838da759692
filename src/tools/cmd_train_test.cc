// `edgeloop train`, `eval` and `predict --csv`, run as the real executable on data the real
// `edgeloop data generate` writes: outputs, report and curves, float and INT8 models, error cases.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "edgeloop/classifier/classifier.h"
#include "edgeloop/tflite/io.h"
#include "test/support/process.h"
#include "test/support/sample_graphs.h"
#include "test/support/temp_dir.h"

namespace edgeloop::tools {
namespace {

using testing_support::BinaryPath;
using testing_support::RunCommand;
using testing_support::RunResult;
using testing_support::TempDir;

RunResult Edgeloop(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("edgeloop"));
  return RunCommand(args);
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  for (std::string l; std::getline(s, l);) lines.push_back(l);
  return lines;
}

// A small gaussian data set (the tutorial's generator): separable, so three epochs learn it.
class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Join("data.csv");
    RunResult r = Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "600", "--seed", "4", "-o", data_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult TrainSmall(std::vector<std::string> extra) {
    std::vector<std::string> args = {"train", data_, "-o", dir_.Join("m.tflite"), "--epochs", "3", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Edgeloop(args);
  }
  TempDir dir_;
  std::string data_;
};

TEST_F(TrainCli, TrainsWritesModelReportAndCurves) {
  RunResult r = TrainSmall({"--report", dir_.Join("r.json"), "--curves", dir_.Join("c.svg"), "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Keras-like epoch lines, no progress bar when stdout is not a terminal.
  EXPECT_NE(r.out.find("Epoch 1/3 - "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" - loss: "), std::string::npos);
  EXPECT_NE(r.out.find(" - val_accuracy: "), std::string::npos);
  EXPECT_NE(r.out.find("Epoch 3/3 - "), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_NE(r.out.find("true \\ predicted"), std::string::npos);

  const nlohmann::json rep = nlohmann::json::parse(Slurp(dir_.Join("r.json")));
  EXPECT_EQ(rep["labels"], nlohmann::json::array({"normal", "warning", "failure"}));
  ASSERT_EQ(rep["epochs"].size(), 3u);
  for (const auto& e : rep["epochs"]) {
    for (const char* k : {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}) EXPECT_TRUE(e.contains(k)) << k;
  }
  EXPECT_GT(rep["val_accuracy"].get<double>(), 0.9);
  EXPECT_TRUE(rep["val_loss"].is_number());
  EXPECT_EQ(rep["validation_windows"], 120);  // 20% of 600, stratified
  int64_t total = 0;
  for (const auto& row : rep["confusion_matrix"]) {
    for (const auto& v : row) total += v.get<int64_t>();
  }
  EXPECT_EQ(total, 120);
  EXPECT_EQ(rep["dataset_sha256"].get<std::string>().size(), 64u);

  const std::string svg = Slurp(dir_.Join("c.svg"));
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("Loss"), std::string::npos);
  EXPECT_NE(svg.find("Accuracy"), std::string::npos);
  EXPECT_NE(svg.find("validation"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);

  // The model names its classes and carries the normalisation and the training metrics.
  Result<std::unique_ptr<classifier::Classifier>> c = classifier::Classifier::LoadFile(dir_.Join("m.tflite"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->labels(), (std::vector<std::string>{"normal", "warning", "failure"}));
  EXPECT_EQ((*c)->metadata().length, 128);
  EXPECT_EQ((*c)->metadata().mean.size(), 1u);
  EXPECT_GT((*c)->metadata().mean[0], 0.5f);  // the gaussian data's mean, not the identity
  EXPECT_NE((*c)->metadata().metrics_json.find("val_accuracy"), std::string::npos);
  EXPECT_EQ((*c)->metadata().dataset_sha256, rep["dataset_sha256"]);
}

// On a terminal (util-linux `script` gives the command one) the epoch has a progress bar.
TEST_F(TrainCli, ProgressBarOnlyOnATerminal) {
  if (!std::ifstream("/usr/bin/script").good()) GTEST_SKIP() << "no /usr/bin/script to provide a terminal";
  const std::string cmd = BinaryPath("edgeloop") + " train " + data_ + " -o " + dir_.Join("t.tflite") + " --epochs 2";
  RunResult r = RunCommand({"/usr/bin/script", "-qec", cmd, "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\rEpoch 1/2 ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[==============================] 15/15"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Epoch 2/2 - "), std::string::npos);
}

TEST_F(TrainCli, EvalAndPredictCsvAgreeWithTheReport) {
  ASSERT_EQ(TrainSmall({"--quiet"}).exit_code, 0);
  RunResult e = Edgeloop({"eval", dir_.Join("m.tflite"), data_, "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const nlohmann::json j = nlohmann::json::parse(e.out);
  EXPECT_GT(j["accuracy"].get<double>(), 0.9);
  int64_t total = 0, correct = 0;
  for (size_t r = 0; r < j["confusion_matrix"].size(); ++r) {
    for (size_t c = 0; c < j["confusion_matrix"][r].size(); ++c) {
      total += j["confusion_matrix"][r][c].get<int64_t>();
      if (r == c) correct += j["confusion_matrix"][r][c].get<int64_t>();
    }
  }
  EXPECT_EQ(total, 600);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), static_cast<double>(correct) / 600);
  for (const char* label : {"normal", "warning", "failure"}) {
    ASSERT_TRUE(j["per_class"].contains(label)) << label;
    EXPECT_TRUE(j["per_class"][label].contains("f1"));
  }
  RunResult text = Edgeloop({"eval", dir_.Join("m.tflite"), data_});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("precision"), std::string::npos);

  RunResult p = Edgeloop({"predict", dir_.Join("m.tflite"), "--csv", data_});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::vector<std::string> lines = Lines(p.out);
  ASSERT_EQ(lines.size(), 601u);
  EXPECT_EQ(lines[0], "window,label,predicted,confidence,p_normal,p_warning,p_failure");
  int64_t agree = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells;
    std::stringstream s(lines[i]);
    for (std::string c; std::getline(s, c, ',');) cells.push_back(c);
    ASSERT_EQ(cells.size(), 7u) << lines[i];
    EXPECT_EQ(cells[0], std::to_string(i - 1));
    agree += cells[1] == cells[2];
  }
  EXPECT_EQ(agree, correct);  // predict and eval see the same predictions
  ASSERT_EQ(Edgeloop({"predict", dir_.Join("m.tflite"), "--csv", data_, "-o", dir_.Join("p.csv")}).exit_code, 0);
  EXPECT_EQ(Slurp(dir_.Join("p.csv")), p.out);
}

TEST_F(TrainCli, ModelSpecValidationFileAndClassWeights) {
  Write(dir_.Join("spec.json"), R"({"layers": [
      {"type": "Conv1D", "filters": 4, "kernel_size": 5, "strides": 2},
      {"type": "batchnorm"}, {"type": "relu"}, {"type": "globalaveragepool1d"},
      {"type": "dense", "activation": "softmax"}]})");
  ASSERT_EQ(Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "200", "--seed", "9", "-o",
                      dir_.Join("val.csv")})
                .exit_code,
            0);
  RunResult r = TrainSmall({"--model", dir_.Join("spec.json"), "--validation", dir_.Join("val.csv"), "--class-weights",
                            "balanced", "--report", dir_.Join("r.json"), "--patience", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(Slurp(dir_.Join("r.json")));
  EXPECT_EQ(rep["validation_windows"], 200);
  EXPECT_EQ(rep["train_windows"], 600);
  EXPECT_EQ(rep["spec"]["layers"].size(), 5u);
  EXPECT_EQ(rep["spec"]["layers"][0]["strides"], 2);
  EXPECT_EQ(rep["spec"]["layers"][4]["units"], 3);
  ASSERT_EQ(rep["options"]["class_weights"].size(), 3u);
  EXPECT_GT(rep["options"]["class_weights"][2].get<double>(), rep["options"]["class_weights"][0].get<double>());
  // Named weights.
  r = TrainSmall({"--class-weights", "failure=4,warning=2", "--report", dir_.Join("r2.json"), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(Slurp(dir_.Join("r2.json")))["options"]["class_weights"],
            nlohmann::json::array({1.0, 2.0, 4.0}));
}

TEST_F(TrainCli, ErrorsNameWhatAndWhere) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  Write(dir_.Join("bad_key.json"), R"({"layers": [{"type": "conv1d", "filters": 4, "kernel_size": 3}, {"type": "flatten"},
      {"type": "dense", "unit": 3}]})");
  Write(dir_.Join("bad_shape.json"), R"({"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]})");
  Write(dir_.Join("not_json.json"), "{layers");
  std::string text = Slurp(data_);
  // Line 5 of the file: a reading that is not a number.
  std::vector<std::string> lines = Lines(text);
  std::string bad = lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3] + "\n";
  std::string row = lines[4];
  row.replace(row.find(',') + 1, 0, "abc");
  bad += row + "\n";
  for (size_t i = 5; i < lines.size(); ++i) bad += lines[i] + "\n";
  Write(dir_.Join("bad.csv"), bad);
  // A known header and a row whose label is "broken".
  Write(dir_.Join("other_labels.csv"), lines[0] + "\nbroken" + lines[1].substr(lines[1].find(',')) + "\n");
  const std::string m = dir_.Join("m.tflite");
  const std::vector<Case> cases = {
      {{"train", data_}, 2, "-o model.tflite is required"},
      {{"train", "-o", m}, 2, "training data CSV"},
      {{"train", dir_.Join("missing.csv"), "-o", m}, 1, "missing.csv"},
      {{"train", dir_.Join("bad.csv"), "-o", m}, 1, "bad.csv:5: column"},
      {{"train", data_, "-o", m, "--model", dir_.Join("bad_key.json")}, 1, "layers[2] (dense): unknown key 'unit'"},
      {{"train", data_, "-o", m, "--model", dir_.Join("bad_shape.json")}, 1, "layer 0 (dense): needs a vector input"},
      {{"train", data_, "-o", m, "--model", dir_.Join("not_json.json")}, 1, "not_json.json: not valid JSON"},
      {{"train", data_, "-o", m, "--class-weights", "1,2"}, 1, "--class-weights: 2 weights for 3 classes"},
      {{"train", data_, "-o", m, "--class-weights", "broken=2"}, 1, "no class 'broken'"},
      {{"train", data_, "-o", m, "--validation", dir_.Join("other_labels.csv")}, 1, "other_labels.csv:2"},
      {{"train", data_, "-o", m, "--validation", data_, "--validation-split", "0.1"}, 2, "exclude each other"},
      {{"train", data_, "-o", m, "--epochs", "0"}, 2, "--epochs"},
      {{"train", data_, "-o", m, "--validation-split", "1.5"}, 2, "--validation-split"},
      {{"eval", m}, 2, "model file and data CSV"},
      {{"eval", dir_.Join("missing.tflite"), data_}, 1, "missing.tflite"},
      {{"eval", data_, data_}, 1, "data.csv"},
      {{"predict", dir_.Join("missing.tflite"), "--csv", data_}, 1, "missing.tflite"},
      {{"predict", data_, "--csv", data_, "--raw-in", "x"}, 2, "--csv excludes"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    SCOPED_TRACE(joined);
    RunResult r = Edgeloop(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::ifstream(m).good());  // no failed run left a model behind
  // A model trained here, and a CSV with a label it does not know.
  ASSERT_EQ(TrainSmall({"--quiet"}).exit_code, 0);
  RunResult r = Edgeloop({"eval", m, dir_.Join("other_labels.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("other_labels.csv:2"), std::string::npos) << r.err;
  // --skip-bad-rows goes on and says what it skipped.
  r = Edgeloop({"train", dir_.Join("bad.csv"), "-o", m, "--epochs", "1", "--skip-bad-rows"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bad.csv: 600 rows, 599 kept, 1 skipped (1 bad number)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad.csv:5: column"), std::string::npos) << r.out;
  r = Edgeloop({"eval", m, dir_.Join("bad.csv"), "--skip-bad-rows", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["windows"], 599);
  EXPECT_NE(r.err.find("1 skipped"), std::string::npos) << r.err;
}

// An INT8 model (the runtime's sample Conv1D graph, no metadata: labels class0..class2, input
// quantized by the classifier): eval and predict --csv give what the classifier gives in-process.
TEST(PredictCli, Int8ModelThroughEvalAndPredict) {
  TempDir dir;
  Result<std::vector<uint8_t>> bytes = tflite::WriteModel(testing_support::Conv1DGraph(true, 7));
  ASSERT_TRUE(bytes.ok());
  std::ofstream(dir.Join("q.tflite"), std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  Result<std::unique_ptr<classifier::Classifier>> c = classifier::Classifier::Load(*bytes);
  ASSERT_TRUE(c.ok());
  std::string csv = "label";
  for (int i = 0; i < 128; ++i) csv += ",f" + std::to_string(i);
  csv += '\n';
  std::vector<std::string> want;
  for (int w = 0; w < 12; ++w) {
    std::vector<float> x(128);
    std::string row = "class" + std::to_string(w % 3);
    for (int i = 0; i < 128; ++i) {
      x[i] = static_cast<float>(std::sin(0.1 * i * (w + 1)) * (1 + w % 3));
      char buf[32];
      std::snprintf(buf, sizeof(buf), ",%.9g", x[i]);
      row += buf;
    }
    csv += row + '\n';
    Result<classifier::Prediction> p = (*c)->Classify(x);
    ASSERT_TRUE(p.ok());
    want.push_back(p->label);
  }
  Write(dir.Join("d.csv"), csv);
  RunResult p = Edgeloop({"predict", dir.Join("q.tflite"), "--csv", dir.Join("d.csv")});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::vector<std::string> lines = Lines(p.out);
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0], "window,label,predicted,confidence,p_class0,p_class1,p_class2");
  int64_t correct = 0;
  for (int w = 0; w < 12; ++w) {
    const std::string prefix = std::to_string(w) + ",class" + std::to_string(w % 3) + "," + want[w] + ",";
    EXPECT_EQ(lines[w + 1].rfind(prefix, 0), 0u) << lines[w + 1];
    correct += want[w] == "class" + std::to_string(w % 3);
  }
  RunResult e = Edgeloop({"eval", dir.Join("q.tflite"), dir.Join("d.csv"), "--json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(e.out)["accuracy"].get<double>(), correct / 12.0);
}

}  // namespace
}  // namespace edgeloop::tools
