// The quantizer on models trained and exported by edgeloop's nn module: every architecture the
// exporter's own tests use (MEAN, standalone RELU after a pool, ReLU6, strides, dilation, batch
// norm folded) quantizes, runs and maps to the Edge TPU; and the reference (default) model trained
// on generated vibration windows keeps its accuracy: over five data seeds INT8 accuracy within 0.5
// points of float and top-1 agreement with float >= 99% on held-out windows, through the `quantize`
// workflow on files (see the test for what holds per seed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/data/dataset.h"
#include "edgeloop/data/generate.h"
#include "edgeloop/edgetpu/check.h"
#include "edgeloop/nn/export.h"
#include "edgeloop/nn/train.h"
#include "edgeloop/quant/quantize.h"
#include "edgeloop/quant/workflow.h"
#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/runtime/quantization.h"
#include "edgeloop/tflite/io.h"
#include "nn/export_test_util.h"
#include "test/support/temp_dir.h"

namespace edgeloop::quant {
namespace {

std::vector<float> Normalised(const nn::Model& m, std::span<const float> x) {
  std::vector<float> out(x.begin(), x.end());
  const auto& mean = m.norm_mean();
  const auto& stdv = m.norm_std();
  if (mean.empty()) return out;
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t c = i % mean.size();
    out[i] = (out[i] - mean[c]) / stdv[c];
  }
  return out;
}

TEST(QuantizeTrained, EveryExportedArchitectureQuantizesRunsAndMaps) {
  for (const nn::testing::NamedSpec& ns : nn::testing::ExportSpecs()) {
    SCOPED_TRACE(ns.name);
    const nn::testing::Windows data = nn::testing::MakeWindows(400, ns.spec.length, ns.spec.channels, 3);
    auto model = nn::testing::TrainedModel(ns.spec, data);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    nn::ExportOptions eo;
    eo.metadata_json = nn::testing::MetadataFor(*model);
    auto fg = nn::ExportGraph(*model, eo);
    ASSERT_TRUE(fg.ok()) << fg.status().ToString();
    const std::vector<float> cal = Normalised(*model, std::span<const float>(data.x).subspan(0, 200 * model->input_size()));
    auto q = QuantizeGraph(*fg, {cal});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    const edgetpu::CheckReport tpu = edgetpu::CheckGraph(q->graph);
    EXPECT_TRUE(tpu.maps) << edgetpu::ReportText(tpu);
    // Top-1 of the INT8 model against the float model's own prediction, on windows not calibrated on.
    auto interp = runtime::Interpreter::Create(q->graph);
    ASSERT_TRUE(interp.ok()) << interp.status().ToString();
    const size_t n = 200, size = model->input_size();
    std::vector<float> probs(n * 3);
    ASSERT_TRUE(model->Predict(std::span<const float>(data.x).subspan(200 * size, n * size), probs).ok());
    const std::vector<float> val = Normalised(*model, std::span<const float>(data.x).subspan(200 * size, n * size));
    size_t agree = 0;
    for (size_t w = 0; w < n; ++w) {
      const runtime::TensorInfo in = (*interp)->input(0);
      for (size_t i = 0; i < size; ++i) {
        in.data[i] = static_cast<uint8_t>(runtime::QuantizeValue(val[w * size + i], in.scale, in.zero_point, in.type));
      }
      ASSERT_TRUE((*interp)->Invoke().ok());
      const runtime::TensorInfo out = (*interp)->output(0);
      const int ours = static_cast<int>(std::max_element(out.data, out.data + 3) - out.data);
      const int want = static_cast<int>(std::max_element(&probs[w * 3], &probs[w * 3] + 3) - &probs[w * 3]);
      agree += ours == want;
    }
    EXPECT_GE(static_cast<double>(agree) / n, 0.95) << agree << " of " << n;
  }
}

// The reference model trained on generated waveform windows (data seed `seed`), exported, quantized
// through the `quantize` workflow on files (200 calibration windows from the training part, the
// held-out quarter validates). Checks the INT8 file maps to the Edge TPU.
void QuantizeDefaultModel(uint64_t seed, QuantizeSummary* out) {
  testing_support::TempDir dir;
  data::WaveformOptions wo;
  wo.samples = 5000;
  wo.seed = seed;
  auto all = data::GenerateWaveform(wo);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto split = data::StratifiedSplit(*all, 0.25, 5);
  ASSERT_TRUE(split.ok());
  const data::Dataset& train = split->train;
  const data::Dataset& val = split->validation;
  auto model = nn::Model::Create(nn::DefaultModelSpec(wo.length, 1), 3, 7);
  ASSERT_TRUE(model.ok());
  std::vector<float> mean, stdv;
  nn::FitNormalization(train.x, wo.length, 1, &mean, &stdv);
  ASSERT_TRUE(model->SetNormalization(mean, stdv).ok());
  nn::TrainOptions to;
  to.epochs = 20;
  to.patience = 3;
  to.seed = 1;
  to.threads = 2;
  auto history = nn::Train(&*model, nn::Samples{train.x, train.y}, nn::Samples{val.x, val.y}, to);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  classifier::ModelMetadata meta;
  meta.labels = all->labels;
  meta.length = wo.length;
  meta.mean = mean;
  meta.std = stdv;
  nn::ExportOptions eo;
  eo.metadata_json = classifier::MetadataToJson(meta);
  auto fg = nn::ExportGraph(*model, eo);
  ASSERT_TRUE(fg.ok()) << fg.status().ToString();
  ASSERT_TRUE(tflite::WriteModelFile(*fg, dir.Join("float.tflite")).ok());
  ASSERT_TRUE(data::WriteCsvFile(train, dir.Join("train.csv")).ok());
  ASSERT_TRUE(data::WriteCsvFile(val, dir.Join("val.csv")).ok());
  QuantizeFileOptions o;
  o.model_path = dir.Join("float.tflite");
  o.calibration_path = dir.Join("train.csv");
  o.validation_path = dir.Join("val.csv");
  o.output_path = dir.Join("int8.tflite");
  auto s = QuantizeFile(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::printf("default model, data seed %llu: %zu validation windows, float %.2f%%, int8 %.2f%%, agreement %.2f%%, "
              "%zu -> %zu bytes\n",
              static_cast<unsigned long long>(seed), s->validation_windows, 100 * s->float_accuracy,
              100 * s->int8_accuracy, 100 * s->agreement, s->float_bytes, s->int8_bytes);
  EXPECT_GT(s->float_accuracy, 0.9) << "the float model should have learned the task";
  auto bytes = Env::Default()->ReadFile(o.output_path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(edgetpu::Check(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()))
                  .ok());
  *out = std::move(*s);
}

// Five data seeds. The line is float vs INT8 top-1 agreement >= 99%: it holds over all
// windows of the five (measured 99.25%: 47 of 6,254 differ) and on seeds 22, 23 and 25, but not on
// every seed alone (21: 98.96%, 24: 98.80%). What limits it there is the 8-bit model input, not the
// quantizer's choices: on seed 21, rounding only the input to its step (every layer float) already
// flips 9 windows, 7 validation windows have their two leading float logits within 0.01 of each
// other, and narrowing the input range only makes it worse (src/quant/README.md). Per seed, this
// guards against regressions from there (>= 98.5%, accuracy within 1 point).
TEST(QuantizeTrained, DefaultModelKeepsItsAccuracy) {
  size_t windows = 0;
  double agree = 0, float_right = 0, int8_right = 0;
  for (uint64_t seed : {21, 22, 23, 24, 25}) {
    SCOPED_TRACE("data seed " + std::to_string(seed));
    QuantizeSummary s;
    QuantizeDefaultModel(seed, &s);
    if (HasFatalFailure()) return;
    EXPECT_GE(s.agreement, 0.985);
    EXPECT_LE(std::abs(s.float_accuracy - s.int8_accuracy), 0.01);
    const double n = static_cast<double>(s.validation_windows);
    windows += s.validation_windows;
    agree += s.agreement * n;
    float_right += s.float_accuracy * n;
    int8_right += s.int8_accuracy * n;
  }
  const double n = static_cast<double>(windows);
  std::printf("all seeds: %zu windows, agreement %.2f%%, float %.2f%%, int8 %.2f%%\n", windows, 100 * agree / n,
              100 * float_right / n, 100 * int8_right / n);
  EXPECT_GE(agree / n, 0.99);
  EXPECT_LE(std::abs(float_right - int8_right) / n, 0.005);
}

}  // namespace
}  // namespace edgeloop::quant
