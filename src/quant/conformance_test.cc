// Conformance of quantized models with an independent TFLite runtime, LiteRT.js: a generated family
// of float 1-D CNNs (kernel sizes, channels, paddings, strides, dilations, depthwise, pools, both
// graph layouts, every interface type) with random weights is quantized with calibration windows;
// our INT8 logits must equal LiteRT.js's within one quantization step on held-out windows (also on
// windows far out of the calibrated range, where input quantization must saturate), and so must the
// model output when our softmax (and interface tail) runs on LiteRT.js's logits: one step in the
// logits moves a softmax output by several 1/256 steps, so comparing only end to end would blur
// which part differs. Also the reference architecture trained by src/nn. One node process per run (~0.3 s), hence the integration label.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "edgeloop/nn/export.h"
#include "edgeloop/quant/quantize.h"
#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/runtime/quantization.h"
#include "edgeloop/tflite/io.h"
#include "nn/export_test_util.h"
#include "test/support/float_cnn.h"
#include "test/support/litert.h"

namespace edgeloop::quant {
namespace {

using testing_support::FloatCnnSpec;
using tflite::Padding;
using tflite::TensorType;

struct Case {
  const char* name;
  FloatCnnSpec spec;
  IoType io;
};

std::vector<Case> Family() {
  std::vector<Case> cases;
  auto add = [&](const char* name, IoType io, auto edit) {
    FloatCnnSpec s;
    s.seed = static_cast<uint32_t>(cases.size() + 1);
    edit(s);
    cases.push_back({name, s, io});
  };
  add("k3_valid_uint8", IoType::kUInt8, [](FloatCnnSpec& s) { s.kernel = 3; });
  add("k8_same_stride2_int8", IoType::kInt8, [](FloatCnnSpec& s) {
    s.kernel = 8;
    s.padding = Padding::kSame;
    s.stride = 2;
  });
  add("k5_dilation2_float32", IoType::kFloat32, [](FloatCnnSpec& s) {
    s.dilation = 2;
    s.filters = 16;
  });
  add("3ch_k7_same_avgpool_uint8", IoType::kUInt8, [](FloatCnnSpec& s) {
    s.channels = 3;
    s.kernel = 7;
    s.padding = Padding::kSame;
    s.average_pool = true;
  });
  add("depthwise_3ch_x4_uint8", IoType::kUInt8, [](FloatCnnSpec& s) {
    s.channels = 3;
    s.filters = 12;
    s.depthwise = true;
    s.pool = 4;
  });
  add("keras_mean_relu_uint8", IoType::kUInt8, [](FloatCnnSpec& s) {
    s.keras_layout = true;
    s.standalone_relu = true;
    s.filters = 24;
    s.kernel = 9;
  });
  add("keras_3ch_stride3_float32", IoType::kFloat32, [](FloatCnnSpec& s) {
    s.keras_layout = true;
    s.channels = 3;
    s.stride = 3;
    s.hidden = 0;
  });
  add("wide_32f_no_pool_int8", IoType::kInt8, [](FloatCnnSpec& s) {
    s.filters = 32;
    s.pool = 0;
    s.classes = 5;
    s.length = 48;
  });
  return cases;
}

// The graph cut at the input of its SOFTMAX (the logits): head = everything up to it (its only
// output), tail = the SOFTMAX and what follows (the logits its only input).
struct Cut {
  tflite::Graph head, tail;
};
Cut CutAtSoftmax(const tflite::Graph& g) {
  Cut c{g, g};
  for (size_t i = 0; i < g.operators.size(); ++i) {
    if (g.operators[i].op != tflite::BuiltinOp::kSoftmax) continue;
    const int t = g.operators[i].inputs[0];
    c.head.outputs = {t};
    c.head.operators.resize(i);
    c.tail.inputs = {t};
    c.tail.operators.erase(c.tail.operators.begin(), c.tail.operators.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return c;
}

void ExpectWithinOneStep(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs, TensorType type) {
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    if (type == TensorType::kFloat32) {
      float a, b;
      std::memcpy(&a, ours.data() + i, 4);
      std::memcpy(&b, theirs.data() + i, 4);
      // Dequantized softmax output: one step is 1/256.
      EXPECT_LE(std::abs(a - b), 1.0f / 256 + 1e-6f) << "value " << i / 4 << ": ours " << a << ", LiteRT " << b;
      i += 3;
    } else if (type == TensorType::kInt8) {
      EXPECT_LE(std::abs(static_cast<int8_t>(ours[i]) - static_cast<int8_t>(theirs[i])), 1)
          << "byte " << i << ": ours " << int{static_cast<int8_t>(ours[i])} << ", LiteRT "
          << int{static_cast<int8_t>(theirs[i])};
    } else {
      EXPECT_LE(std::abs(static_cast<int>(ours[i]) - static_cast<int>(theirs[i])), 1)
          << "byte " << i << ": ours " << int{ours[i]} << ", LiteRT " << int{theirs[i]};
    }
  }
}

std::vector<uint8_t> InputBytes(const runtime::TensorInfo& in, const std::vector<float>& window) {
  std::vector<uint8_t> bytes(in.bytes);
  for (size_t i = 0; i < window.size(); ++i) {
    if (in.type == TensorType::kFloat32) {
      std::memcpy(bytes.data() + 4 * i, &window[i], 4);
    } else {
      bytes[i] = static_cast<uint8_t>(runtime::QuantizeValue(window[i], in.scale, in.zero_point, in.type));
    }
  }
  return bytes;
}

// Runs `q` on each window (float readings, already normalised) in our runtime and in LiteRT.js:
// logits within one step, our softmax tail on LiteRT's logits within one step of LiteRT's output,
// and end to end within one step whenever the logits came out the same.
void ExpectAgreesWithLiteRt(const tflite::Graph& q, const std::vector<float>& windows, size_t window) {
  const Cut cut = CutAtSoftmax(q);
  ASSERT_EQ(cut.tail.inputs.size(), 1u);
  ASSERT_EQ(cut.tail.operators.front().op, tflite::BuiltinOp::kSoftmax);
  auto bytes = tflite::WriteModel(q);
  auto head = tflite::WriteModel(cut.head);
  ASSERT_TRUE(bytes.ok() && head.ok()) << bytes.status().ToString() << head.status().ToString();
  auto interp = runtime::Interpreter::CreateFromBytes(*bytes);
  ASSERT_TRUE(interp.ok()) << interp.status().ToString();
  auto tail = runtime::Interpreter::Create(cut.tail, {.kernels = runtime::KernelSet::kReference});
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  const runtime::TensorInfo in = (*interp)->input(0);
  const runtime::TensorInfo out = (*interp)->output(0);
  for (size_t w = 0; w * window < windows.size(); ++w) {
    SCOPED_TRACE("window " + std::to_string(w));
    const std::vector<float> x(windows.begin() + static_cast<std::ptrdiff_t>(w * window),
                               windows.begin() + static_cast<std::ptrdiff_t>((w + 1) * window));
    const std::vector<uint8_t> input = InputBytes(in, x);
    auto our_logits = runtime::InvokeRaw(*head, input, runtime::KernelSet::kReference);
    ASSERT_TRUE(our_logits.ok()) << our_logits.status().ToString();
    const testing_support::LiteRtRun their_logits = testing_support::RunLiteRt(*head, input);
    ASSERT_TRUE(their_logits.ok) << their_logits.error;
    ExpectWithinOneStep(*our_logits, their_logits.output, TensorType::kInt8);
    const testing_support::LiteRtRun theirs = testing_support::RunLiteRt(*bytes, input);
    ASSERT_TRUE(theirs.ok) << theirs.error;
    const runtime::TensorInfo tail_in = (*tail)->input(0);
    ASSERT_EQ(tail_in.bytes, their_logits.output.size());
    std::memcpy(tail_in.data, their_logits.output.data(), tail_in.bytes);
    ASSERT_TRUE((*tail)->Invoke().ok());
    const runtime::TensorInfo tail_out = (*tail)->output(0);
    ExpectWithinOneStep(std::vector<uint8_t>(tail_out.data, tail_out.data + tail_out.bytes), theirs.output, out.type);
    // The selected (optimized) kernels give the reference's bytes.
    auto ours = runtime::InvokeRaw(*bytes, input, runtime::KernelSet::kReference);
    auto fast = runtime::InvokeRaw(*bytes, input, runtime::KernelSet::kAuto);
    ASSERT_TRUE(ours.ok() && fast.ok()) << ours.status().ToString() << fast.status().ToString();
    EXPECT_EQ(*fast, *ours);
    if (*our_logits == their_logits.output) ExpectWithinOneStep(*ours, theirs.output, out.type);
  }
}

TEST(QuantizedConformance, GeneratedFamilyAgreesWithLiteRtWithinOneStep) {
  const std::string why = testing_support::LiteRtUnavailableReason();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const Case& c : Family()) {
    SCOPED_TRACE(c.name);
    const FloatCnnSpec& s = c.spec;
    QuantizeOptions options;
    options.io = c.io;
    auto q = QuantizeGraph(testing_support::FloatCnn(s),
                           {testing_support::VibrationWindows(200, s.length, s.channels, 1000 + s.seed)}, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    // A held-out window, and one at ten times the calibrated amplitude (saturates on input).
    std::vector<float> held = testing_support::VibrationWindows(1, s.length, s.channels, 7 + s.seed);
    std::vector<float> loud = testing_support::VibrationWindows(1, s.length, s.channels, 99);
    for (float& v : loud) v *= 10;
    held.insert(held.end(), loud.begin(), loud.end());
    ExpectAgreesWithLiteRt(q->graph, held, static_cast<size_t>(s.length) * s.channels);
  }
}

// The reference (default) architecture, trained by src/nn and exported, then quantized.
TEST(QuantizedConformance, TrainedDefaultModelAgreesWithLiteRt) {
  const std::string why = testing_support::LiteRtUnavailableReason();
  if (!why.empty()) GTEST_SKIP() << why;
  const nn::ModelSpec spec = nn::DefaultModelSpec(128, 1);
  const nn::testing::Windows data = nn::testing::MakeWindows(300, spec.length, spec.channels, 8);
  auto model = nn::testing::TrainedModel(spec, data);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto fg = nn::ExportGraph(*model);
  ASSERT_TRUE(fg.ok()) << fg.status().ToString();
  std::vector<float> x = data.x;
  for (size_t i = 0; i < x.size(); ++i) x[i] = (x[i] - model->norm_mean()[0]) / model->norm_std()[0];
  const size_t window = model->input_size();
  const std::vector<float> cal(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(200 * window));
  const std::vector<float> held(x.begin() + static_cast<std::ptrdiff_t>(200 * window),
                                x.begin() + static_cast<std::ptrdiff_t>(204 * window));
  for (IoType io : {IoType::kUInt8, IoType::kInt8, IoType::kFloat32}) {
    SCOPED_TRACE(IoTypeName(io));
    QuantizeOptions options;
    options.io = io;
    auto q = QuantizeGraph(*fg, {cal}, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    ExpectAgreesWithLiteRt(q->graph, held, window);
  }
}

}  // namespace
}  // namespace edgeloop::quant
