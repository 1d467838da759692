#include "edgeloop/quant/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/runtime/quantization.h"
#include "edgeloop/tflite/io.h"
#include "quant/logit_shift.h"
#include "test/support/fixture_cases.h"
#include "test/support/float_cnn.h"

namespace edgeloop::quant {
namespace {

using testing_support::FloatCnn;
using testing_support::FloatCnnSpec;
using testing_support::VibrationWindows;
using tflite::BuiltinOp;
using tflite::TensorType;

// Top-1 class of each window, running `g` one window at a time (float, int8 or uint8 interface).
std::vector<int> Top1(const tflite::Graph& g, const std::vector<float>& windows, size_t window_size) {
  auto interp = runtime::Interpreter::Create(g, {});
  EXPECT_TRUE(interp.ok()) << interp.status().ToString();
  std::vector<int> out;
  if (!interp.ok()) return out;
  for (size_t n = 0; n * window_size < windows.size(); ++n) {
    const runtime::TensorInfo in = (*interp)->input(0);
    for (size_t i = 0; i < window_size; ++i) {
      const float v = windows[n * window_size + i];
      if (in.type == TensorType::kFloat32) {
        in.as<float>()[i] = v;
      } else if (in.type == TensorType::kInt8) {
        in.as<int8_t>()[i] = static_cast<int8_t>(runtime::QuantizeValue(v, in.scale, in.zero_point, in.type));
      } else {
        in.as<uint8_t>()[i] = static_cast<uint8_t>(runtime::QuantizeValue(v, in.scale, in.zero_point, in.type));
      }
    }
    EXPECT_TRUE((*interp)->Invoke().ok());
    const runtime::TensorInfo o = (*interp)->output(0);
    std::vector<float> scores(o.bytes / tflite::TensorTypeSize(o.type));
    for (size_t i = 0; i < scores.size(); ++i) {
      if (o.type == TensorType::kFloat32) scores[i] = o.as<float>()[i];
      if (o.type == TensorType::kInt8) scores[i] = o.as<int8_t>()[i];
      if (o.type == TensorType::kUInt8) scores[i] = o.as<uint8_t>()[i];
    }
    out.push_back(static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin()));
  }
  return out;
}

double Agreement(const std::vector<int>& a, const std::vector<int>& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) same += a[i] == b[i];
  return a.empty() ? 0 : static_cast<double>(same) / static_cast<double>(a.size());
}

const tflite::Tensor* Named(const tflite::Graph& g, const std::string& name) {
  for (const tflite::Tensor& t : g.tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TEST(Quantize, ExporterLayoutFollowsTfliteInt8Scheme) {
  FloatCnnSpec spec;
  const tflite::Graph fg = FloatCnn(spec);
  const std::vector<float> cal = VibrationWindows(200, spec.length, 1, 11);
  auto r = QuantizeGraph(fg, {cal});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const tflite::Graph& g = r->graph;
  EXPECT_EQ(r->calibration_windows, 200u);
  // uint8 interface with QUANTIZE at both edges.
  EXPECT_EQ(g.tensors[g.inputs[0]].type, TensorType::kUInt8);
  EXPECT_EQ(g.tensors[g.outputs[0]].type, TensorType::kUInt8);
  EXPECT_EQ(g.operators.front().op, BuiltinOp::kQuantize);
  EXPECT_EQ(g.operators.back().op, BuiltinOp::kQuantize);
  // Conv weights: int8, symmetric, per output channel; bias int32 at input x weight scale.
  const tflite::Tensor* w = Named(g, "conv_weights");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, TensorType::kInt8);
  EXPECT_EQ(w->quant.scale.size(), static_cast<size_t>(spec.filters));
  for (int64_t zp : w->quant.zero_point) EXPECT_EQ(zp, 0);
  for (uint8_t byte : w->data) EXPECT_NE(static_cast<int8_t>(byte), -128);
  const tflite::Tensor* bias = Named(g, "conv_bias");
  const tflite::Tensor* in2d = Named(g, "input_2d");
  ASSERT_NE(bias, nullptr);
  ASSERT_NE(in2d, nullptr);
  EXPECT_EQ(bias->type, TensorType::kInt32);
  for (size_t c = 0; c < w->quant.scale.size(); ++c) {
    EXPECT_FLOAT_EQ(bias->quant.scale[c], in2d->quant.scale[0] * w->quant.scale[c]);
  }
  // Pooling and reshapes share their input's parameters; softmax output is 1/256, -128.
  const tflite::Tensor* conv = Named(g, "conv");
  const tflite::Tensor* pool = Named(g, "pool");
  const tflite::Tensor* flat = Named(g, "flatten");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->quant.scale, conv->quant.scale);
  EXPECT_EQ(pool->quant.zero_point, conv->quant.zero_point);
  EXPECT_EQ(flat->quant.scale, conv->quant.scale);
  EXPECT_EQ(conv->quant.zero_point[0], -128);  // fused ReLU: range starts at 0
  const tflite::Tensor* probs = Named(g, "probabilities_int8");
  ASSERT_NE(probs, nullptr);
  EXPECT_FLOAT_EQ(probs->quant.scale[0], 1.0f / 256);
  EXPECT_EQ(probs->quant.zero_point[0], -128);
  for (const tflite::Tensor& t : g.tensors) {
    if (t.data.empty() && t.type != TensorType::kUInt8) {
      EXPECT_EQ(t.type, TensorType::kInt8) << t.name;
    }
  }
  // Round trip through the writer and reader; agreement with the float model on other windows.
  auto bytes = tflite::WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = tflite::ReadModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const std::vector<float> val = VibrationWindows(300, spec.length, 1, 99);
  EXPECT_GE(Agreement(Top1(fg, val, spec.length), Top1(*back, val, spec.length)), 0.97);
  EXPECT_NE(RangesTable(*r).find("conv_weights"), std::string::npos);
}

TEST(Quantize, KerasLayoutWithMeanStandaloneReluAndInt8Io) {
  FloatCnnSpec spec;
  spec.keras_layout = true;
  spec.standalone_relu = true;
  spec.channels = 3;
  spec.filters = 12;
  spec.padding = tflite::Padding::kSame;
  spec.seed = 5;
  const tflite::Graph fg = FloatCnn(spec);
  const std::vector<float> cal = VibrationWindows(100, spec.length, 3, 3);
  QuantizeOptions options;
  options.io = IoType::kInt8;
  auto r = QuantizeGraph(fg, {cal}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const tflite::Graph& g = r->graph;
  EXPECT_EQ(g.tensors[g.inputs[0]].type, TensorType::kInt8);
  bool has_avg_pool = false;
  for (const tflite::Operator& op : g.operators) {
    EXPECT_NE(op.op, BuiltinOp::kMean);
    EXPECT_NE(op.op, BuiltinOp::kRelu);
    has_avg_pool |= op.op == BuiltinOp::kAveragePool2D;
  }
  EXPECT_TRUE(has_avg_pool);
  std::string notes;
  for (const std::string& n : r->notes) notes += n + "\n";
  EXPECT_NE(notes.find("MEAN"), std::string::npos) << notes;
  EXPECT_NE(notes.find("RELU"), std::string::npos) << notes;
  const std::vector<float> val = VibrationWindows(200, spec.length, 3, 77);
  EXPECT_GE(Agreement(Top1(fg, val, spec.length * 3), Top1(g, val, spec.length * 3)), 0.95);
}

TEST(Quantize, FloatInterfaceSaturatesOutOfRangeInputs) {
  FloatCnnSpec spec;
  spec.hidden = 0;
  const tflite::Graph fg = FloatCnn(spec);
  QuantizeOptions options;
  options.io = IoType::kFloat32;
  auto r = QuantizeGraph(fg, {VibrationWindows(50, spec.length, 1, 4)}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const tflite::Tensor& inner = r->graph.tensors[r->graph.operators[0].outputs[0]];
  const float top = inner.quant.scale[0] * (127 - inner.quant.zero_point[0]);
  const float bottom = inner.quant.scale[0] * (-128 - inner.quant.zero_point[0]);
  auto bytes = tflite::WriteModel(r->graph);
  ASSERT_TRUE(bytes.ok());
  auto run = [&](float a, float b) {
    std::vector<float> in(spec.length);
    for (int i = 0; i < spec.length; ++i) in[i] = i % 2 ? a : b;
    std::vector<uint8_t> raw(in.size() * 4);
    std::memcpy(raw.data(), in.data(), raw.size());
    auto out = runtime::InvokeRaw(*bytes, raw);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : std::vector<uint8_t>{};
  };
  // Far out of range saturates to exactly the edge values: wrapping would give something else.
  EXPECT_EQ(run(1e9f, -1e9f), run(top, bottom));
  EXPECT_EQ(run(top * 3, bottom * 3), run(top, bottom));
}

// The TensorFlow converter's float hello_world (three FULLY_CONNECTED, a -1 batch in
// shape_signature) quantized by us tracks the float model as closely as the converter's own INT8
// version does.
TEST(Quantize, ConverterWrittenHelloWorldTracksFloatLikeTheConvertersInt8) {
  auto fg = tflite::ReadModelFile(testing_support::FixtureDir() + "/hello_world_float.tflite");
  ASSERT_TRUE(fg.ok()) << fg.status().ToString();
  auto tf_int8 = tflite::ReadModelFile(testing_support::FixtureDir() + "/hello_world_int8.tflite");
  ASSERT_TRUE(tf_int8.ok());
  std::vector<float> cal;
  for (int i = 0; i < 500; ++i) cal.push_back(6.2832f * static_cast<float>(i) / 499.0f);
  QuantizeOptions options;
  options.io = IoType::kFloat32;
  auto r = QuantizeGraph(*fg, {cal}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string notes;
  for (const std::string& n : r->notes) notes += n;
  EXPECT_NE(notes.find("shape_signature"), std::string::npos) << notes;
  auto run = [](const tflite::Graph& g, float x) {
    auto interp = runtime::Interpreter::Create(g, {});
    EXPECT_TRUE(interp.ok()) << interp.status().ToString();
    const runtime::TensorInfo in = (*interp)->input(0), out = (*interp)->output(0);
    if (in.type == TensorType::kFloat32) {
      in.as<float>()[0] = x;
    } else {
      in.as<int8_t>()[0] = static_cast<int8_t>(runtime::QuantizeValue(x, in.scale, in.zero_point, in.type));
    }
    EXPECT_TRUE((*interp)->Invoke().ok());
    if (out.type == TensorType::kFloat32) return out.as<float>()[0];
    return runtime::DequantizeValue(out.as<int8_t>()[0], out.scale, out.zero_point);
  };
  double ours = 0, theirs = 0;
  for (int i = 0; i < 64; ++i) {
    const float x = 0.05f + 6.1f * static_cast<float>(i) / 63.0f;
    const float want = run(*fg, x);
    ours = std::max(ours, static_cast<double>(std::abs(run(r->graph, x) - want)));
    theirs = std::max(theirs, static_cast<double>(std::abs(run(*tf_int8, x) - want)));
  }
  EXPECT_LT(ours, 0.05);
  EXPECT_LE(ours, 2 * theirs + 0.01) << "ours " << ours << ", converter " << theirs;
}

TEST(Quantize, SoftmaxInputRangeOnlyRaisesItsMinimum) {
  FloatCnnSpec spec;
  spec.seed = 12;
  const tflite::Graph fg = FloatCnn(spec);
  const std::vector<float> cal = VibrationWindows(200, spec.length, 1, 5);
  QuantizeOptions plain;
  plain.softmax_aware_ranges = false;
  auto a = QuantizeGraph(fg, {cal}, plain);
  QuantizeOptions unshifted;  // the logit shift (tested below) moves the top too
  unshifted.shift_logits = false;
  auto b = QuantizeGraph(fg, {cal}, unshifted);
  ASSERT_TRUE(a.ok() && b.ok());
  const tflite::Tensor* la = Named(a->graph, "logits");
  const tflite::Tensor* lb = Named(b->graph, "logits");
  ASSERT_TRUE(la && lb);
  EXPECT_FLOAT_EQ(lb->quant.max[0], la->quant.max[0]);
  EXPECT_GE(lb->quant.min[0], la->quant.min[0]);
  EXPECT_LE(lb->quant.scale[0], la->quant.scale[0]);
  // Everything else is calibrated the same way.
  EXPECT_EQ(Named(a->graph, "dense")->quant, Named(b->graph, "dense")->quant);
  const std::vector<float> val = VibrationWindows(300, spec.length, 1, 6);
  const std::vector<int> want = Top1(fg, val, spec.length);
  EXPECT_GE(Agreement(want, Top1(b->graph, val, spec.length)), Agreement(want, Top1(a->graph, val, spec.length)) - 0.01);
}

// The float graph with the logit shift applied gives the same probabilities, its two leading logits
// sit around 0 for every window, and the INT8 logits get a finer step.
TEST(Quantize, LogitShiftKeepsProbabilitiesAndNarrowsTheLogitStep) {
  FloatCnnSpec spec;
  spec.seed = 12;
  const tflite::Graph fg = FloatCnn(spec);
  const std::vector<float> cal = VibrationWindows(200, spec.length, 1, 5);
  const std::vector<LogitLayer> layers = FindLogitLayers(fg);
  ASSERT_EQ(layers.size(), 1u);
  ASSERT_EQ(fg.tensors[layers[0].output].name, "logits");
  // The layer's input and logits on the calibration windows, as QuantizeGraph collects them.
  auto run = [&](const tflite::Graph& g, const std::vector<float>& windows, std::vector<int32_t> outputs) {
    tflite::Graph probe = g;
    probe.outputs = outputs;
    auto interp = runtime::Interpreter::Create(probe);
    EXPECT_TRUE(interp.ok()) << interp.status().ToString();
    std::vector<std::vector<float>> out(outputs.size());
    for (size_t n = 0; n * spec.length < windows.size(); ++n) {
      std::copy_n(windows.begin() + static_cast<std::ptrdiff_t>(n * spec.length), spec.length,
                  (*interp)->input(0).as<float>().begin());
      EXPECT_TRUE((*interp)->Invoke().ok());
      for (size_t o = 0; o < outputs.size(); ++o) {
        const std::span<const float> v = (*interp)->output(o).as<const float>();
        out[o].insert(out[o].end(), v.begin(), v.end());
      }
    }
    return out;
  };
  const std::vector<std::vector<float>> kept = run(fg, cal, {layers[0].input, layers[0].output});
  tflite::Graph shifted = fg;
  std::vector<std::string> notes;
  const std::vector<int32_t> done =
      ShiftLogits(&shifted, layers, {{layers[0].input, kept[0]}, {layers[0].output, kept[1]}}, &notes);
  ASSERT_EQ(done, std::vector<int32_t>{layers[0].output});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("logits shifted"), std::string::npos) << notes[0];
  const std::vector<float> val = VibrationWindows(300, spec.length, 1, 6);
  const int32_t probs = fg.outputs[0];
  const auto before = run(fg, val, {probs, layers[0].output});
  const auto after = run(shifted, val, {probs, layers[0].output});
  ASSERT_EQ(before[0].size(), after[0].size());
  for (size_t i = 0; i < before[0].size(); ++i) EXPECT_NEAR(before[0][i], after[0][i], 1e-5) << i;
  // Spread of the rows' leading-two means: much smaller after the shift.
  const size_t classes = static_cast<size_t>(spec.classes);
  auto spread = [&](const std::vector<float>& z) {
    float lo = 1e30f, hi = -1e30f;
    for (size_t r = 0; r * classes < z.size(); ++r) {
      std::vector<float> row(z.begin() + static_cast<std::ptrdiff_t>(r * classes),
                             z.begin() + static_cast<std::ptrdiff_t>((r + 1) * classes));
      std::sort(row.rbegin(), row.rend());
      lo = std::min(lo, (row[0] + row[1]) / 2);
      hi = std::max(hi, (row[0] + row[1]) / 2);
    }
    return hi - lo;
  };
  EXPECT_LT(spread(after[1]), 0.5f * spread(before[1]));
  // Through QuantizeGraph: a finer logit step, and agreement with float at least as good.
  QuantizeOptions off;
  off.shift_logits = false;
  auto a = QuantizeGraph(fg, {cal}, off);
  auto b = QuantizeGraph(fg, {cal});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(Named(b->graph, "logits")->quant.scale[0], Named(a->graph, "logits")->quant.scale[0]);
  const std::vector<int> want = Top1(fg, val, spec.length);
  EXPECT_GE(Agreement(want, Top1(b->graph, val, spec.length)), Agreement(want, Top1(a->graph, val, spec.length)) - 0.01);
}

TEST(Quantize, UnsupportedOpIsNamed) {
  testing_support::GraphBuilder b;
  const int in = b.Input("in", TensorType::kFloat32, {1, 4});
  const int mid = b.Tensor("mid", TensorType::kFloat32, {1, 4});
  const int out = b.Tensor("out", TensorType::kFloat32, {1, 4});
  b.Op(BuiltinOp::kSoftmax, {in}, {mid}, tflite::SoftmaxOptions{});
  b.Op(BuiltinOp::kTanh, {mid}, {out});
  b.Output(out);
  const std::vector<float> cal(8, 0.5f);
  auto r = QuantizeGraph(b.Build(), {cal});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("operator 1 (TANH)"), std::string::npos) << r.status().ToString();
}

TEST(Quantize, CalibrationSizeMustFitTheInput) {
  const tflite::Graph fg = FloatCnn({});
  const std::vector<float> cal(63, 0.0f);
  auto r = QuantizeGraph(fg, {cal});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("64 elements per window"), std::string::npos) << r.status().ToString();
}

TEST(Quantize, ParseIoType) {
  EXPECT_EQ(*ParseIoType("uint8"), IoType::kUInt8);
  EXPECT_EQ(*ParseIoType("float32"), IoType::kFloat32);
  EXPECT_FALSE(ParseIoType("int16").ok());
}

}  // namespace
}  // namespace edgeloop::quant
