// The interpreter's contracts: Invoke allocates nothing, batching gives the same bytes as one window
// at a time, one arena sized by tensor lifetimes, inputs survive Invoke, Resize, and Prepare errors
// that name the operator and opcode.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>

#include "runtime/planner.h"
#include "runtime/test_util.h"
#include "test/support/fixture_cases.h"
#include "test/support/sample_graphs.h"

// Counts every allocation in this test binary while g_counting is set. All the unaligned forms of
// new and delete are replaced together (malloc/free underneath), so they always pair up; the
// aligned forms keep the library's pair.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<int> g_allocations{0};

void* CountedAlloc(size_t n) {
  if (g_counting) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(size_t n) {
  void* p = CountedAlloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
// noinline: once inlined, GCC pairs new-expressions with free() and warns of a mismatch.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace edgeloop::runtime {
namespace {

using testing_support::FixtureDir;
using testing_support::GraphBuilder;
using testing_support::ReadBytes;
using tflite::BuiltinOp;
using tflite::TensorType;
constexpr TensorType kF32 = TensorType::kFloat32;

std::vector<uint8_t> Fixture(const std::string& name) { return ReadBytes(FixtureDir() + "/" + name); }

TEST(Interpreter, InvokeAllocatesNothing) {
  for (const char* name : {"micro_speech_quantized.tflite", "hello_world_float.tflite"}) {
    auto interp = Interpreter::CreateFromBytes(Fixture(name));
    ASSERT_TRUE(interp.ok()) << interp.status().ToString();
    Interpreter& i = **interp;
    g_allocations = 0;
    g_counting = true;
    const Status s = i.Invoke();
    const Status s2 = i.Invoke();
    g_counting = false;
    EXPECT_TRUE(s.ok() && s2.ok());
    EXPECT_EQ(g_allocations.load(), 0) << name;
  }
}

// Running N windows in one batch gives each window's bytes exactly as N single runs do.
TEST(Interpreter, BatchEqualsOneWindowAtATime) {
  const auto cases = testing_support::LoadFixtureCases();
  for (const char* model : {"hello_world_int8.tflite", "hello_world_float.tflite", "micro_speech_quantized.tflite"}) {
    SCOPED_TRACE(model);
    std::vector<std::vector<uint8_t>> inputs, outputs;
    for (const auto& c : cases) {
      if (c.model != model) continue;
      inputs.push_back(ReadBytes(FixtureDir() + "/" + c.input));
      outputs.push_back(ReadBytes(FixtureDir() + "/" + c.expected));
    }
    const int n = static_cast<int>(inputs.size());
    ASSERT_EQ(n, 8);
    InterpreterOptions options;
    options.batch = n;
    auto interp = Interpreter::CreateFromBytes(Fixture(model), options);
    ASSERT_TRUE(interp.ok()) << interp.status().ToString();
    TensorInfo in = (*interp)->input(0);
    ASSERT_EQ(in.bytes, inputs[0].size() * n);
    EXPECT_EQ(in.shape[0], n);
    for (int k = 0; k < n; ++k) std::memcpy(in.data + k * inputs[0].size(), inputs[k].data(), inputs[k].size());
    ASSERT_TRUE((*interp)->Invoke().ok());
    TensorInfo out = (*interp)->output(0);
    ASSERT_EQ(out.bytes, outputs[0].size() * n);
    for (int k = 0; k < n; ++k) {
      const std::vector<uint8_t> got(out.data + k * outputs[k].size(), out.data + (k + 1) * outputs[k].size());
      if (std::string(model).find("float") != std::string::npos) {
        const auto g = As<float>(got), w = As<float>(outputs[k]);
        for (size_t j = 0; j < w.size(); ++j) EXPECT_NEAR(g[j], w[j], 1e-5f);
      } else {
        EXPECT_EQ(got, outputs[k]) << "window " << k;
      }
    }
  }
}

tflite::Graph DenseChain(int layers, int width) {
  GraphBuilder b;
  int x = b.Input("x", kF32, {1, width});
  std::vector<float> identity(static_cast<size_t>(width) * width, 0.f);
  for (int i = 0; i < width; ++i) identity[static_cast<size_t>(i) * width + i] = 1.f;
  for (int l = 0; l < layers; ++l) {
    const int w = b.ConstF32(std::string("w") + std::to_string(l), {width, width}, identity);
    const int y = b.Tensor(std::string("y") + std::to_string(l), kF32, {1, width});
    b.Op(BuiltinOp::kFullyConnected, {x, w, -1}, {y}, tflite::FullyConnectedOptions{tflite::Activation::kRelu});
    x = y;
  }
  b.Output(x);
  return b.Build();
}

TEST(Interpreter, OneArenaReusedAlongTheChain) {
  const int width = 256, layers = 6;
  auto interp = Interpreter::Create(DenseChain(layers, width));
  ASSERT_TRUE(interp.ok()) << interp.status().ToString();
  const size_t tensor = width * sizeof(float);
  // The input is kept for the whole run; of the intermediates only producer and consumer overlap.
  EXPECT_EQ((*interp)->arena_bytes(), 3 * tensor);
  EXPECT_LT((*interp)->arena_bytes(), (layers + 1) * tensor);
  EXPECT_EQ((*interp)->parameter_bytes(), static_cast<size_t>(layers) * width * width * sizeof(float));
  // Inputs survive Invoke, so a second Invoke gives the same output.
  std::vector<float> x(width);
  for (int i = 0; i < width; ++i) x[i] = static_cast<float>(i % 7) - 3;
  std::memcpy((*interp)->input(0).data, x.data(), tensor);
  ASSERT_TRUE((*interp)->Invoke().ok());
  const std::vector<float> first((*interp)->output(0).as<float>().begin(), (*interp)->output(0).as<float>().end());
  ASSERT_TRUE((*interp)->Invoke().ok());
  const std::vector<float> second((*interp)->output(0).as<float>().begin(), (*interp)->output(0).as<float>().end());
  EXPECT_EQ(first, second);
  for (int i = 0; i < width; ++i) EXPECT_EQ(first[i], std::max(x[i], 0.f));
}

// RESHAPE between two layers moves no bytes: its output shares the input's buffer, the node is
// skipped, and the arena holds no copy. A RESHAPE writing a graph output still copies.
TEST(Interpreter, ReshapeAliasesItsInputUnlessItWritesAGraphOutput) {
  const int width = 64;
  GraphBuilder b;
  const int x = b.Input("x", kF32, {1, width});
  std::vector<float> identity(static_cast<size_t>(width) * width, 0.f);
  for (int i = 0; i < width; ++i) identity[static_cast<size_t>(i) * width + i] = 1.f;
  const int y = b.Tensor("y", kF32, {1, width});
  b.Op(BuiltinOp::kFullyConnected, {x, b.ConstF32("w0", {width, width}, identity), -1}, {y},
       tflite::FullyConnectedOptions{tflite::Activation::kRelu});
  const int r = b.Tensor("r", kF32, {1, 2, width / 2});
  b.Op(BuiltinOp::kReshape, {y}, {r}, tflite::ReshapeOptions{{1, 2, width / 2}});
  const int f = b.Tensor("f", kF32, {1, width});
  b.Op(BuiltinOp::kReshape, {r}, {f}, tflite::ReshapeOptions{{1, width}});
  const int z = b.Tensor("z", kF32, {1, width});
  b.Op(BuiltinOp::kFullyConnected, {f, b.ConstF32("w1", {width, width}, identity), -1}, {z},
       tflite::FullyConnectedOptions{tflite::Activation::kNone});
  const int out = b.Tensor("out", kF32, {1, 2, width / 2});
  b.Op(BuiltinOp::kReshape, {z}, {out}, tflite::ReshapeOptions{{1, 2, width / 2}});
  b.Output(out);
  auto interp = Interpreter::Create(b.Build());
  ASSERT_TRUE(interp.ok()) << interp.status().ToString();
  EXPECT_STREQ((*interp)->kernel_name(1), "alias");
  EXPECT_STREQ((*interp)->kernel_name(2), "alias");
  EXPECT_STREQ((*interp)->kernel_name(4), "copy_ref");
  const size_t tensor = width * sizeof(float);
  // x (kept), y = r = f (alive until z is computed), z; out reuses y's room.
  EXPECT_EQ((*interp)->arena_bytes(), 3 * tensor);
  std::vector<float> in(width);
  for (int i = 0; i < width; ++i) in[i] = static_cast<float>(i % 5) - 2;
  std::memcpy((*interp)->input(0).data, in.data(), tensor);
  ASSERT_TRUE((*interp)->Invoke().ok());
  const auto got = (*interp)->output(0).as<float>();
  ASSERT_EQ(got.size(), static_cast<size_t>(width));
  for (int i = 0; i < width; ++i) EXPECT_EQ(got[i], std::max(in[i], 0.f)) << i;
}

TEST(Interpreter, ResizeChangesTheBatchAndAFailedResizeKeepsTheOldState) {
  auto interp = Interpreter::CreateFromBytes(Fixture("hello_world_float.tflite"));
  ASSERT_TRUE(interp.ok());
  Interpreter& i = **interp;
  ASSERT_TRUE(i.Resize(5).ok());
  EXPECT_EQ(i.batch(), 5);
  EXPECT_EQ(i.input(0).bytes, 5 * sizeof(float));
  EXPECT_EQ(i.output(0).shape[0], 5);
  const Status bad = i.Resize(0);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(i.batch(), 5);
  EXPECT_TRUE(i.Invoke().ok());
  EXPECT_EQ(i.graph().operators.size(), 3u);
}

tflite::Graph WithOp(BuiltinOp op, int version, tflite::OpOptions options) {
  GraphBuilder b;
  const int x = b.Input("x", kF32, {1, 4});
  const int y = b.Tensor("y", kF32, {1, 4});
  b.Op(BuiltinOp::kRelu, {x}, {y});
  const int z = b.Tensor("z", kF32, {1, 8});
  b.Op(op, {y, y}, {z}, std::move(options), version);
  b.Output(z);
  return b.Build();
}

TEST(Interpreter, PrepareErrorsNameOperatorIndexAndOpcode) {
  struct Case {
    const char* name;
    tflite::Graph graph;
    InterpreterOptions options;
    const char* expected;
  };
  InterpreterOptions batch4;
  batch4.batch = 4;
  InterpreterOptions tiny;
  tiny.max_arena_bytes = 16;
  GraphBuilder no_batch;
  const int nx = no_batch.Input("x", kF32, {3, 4});
  const int ny = no_batch.Tensor("y", kF32, {3, 4});
  no_batch.Op(BuiltinOp::kRelu, {nx}, {ny});
  no_batch.Output(ny);
  tflite::Graph unknown = WithOp(BuiltinOp::kAdd, 1, tflite::AddOptions{});
  unknown.operators[1].op = static_cast<BuiltinOp>(150);
  unknown.operators[1].options = std::monostate{};
  tflite::Graph wrong_shape = WithOp(BuiltinOp::kAdd, 1, tflite::AddOptions{});
  Case cases[] = {
      {"unsupported op", WithOp(BuiltinOp::kConcatenation, 1, tflite::ConcatenationOptions{1}), {},
       "operator 1 (CONCATENATION): operator not supported by the runtime"},
      {"unknown code", unknown, {}, "operator 1 (BUILTIN_OP_150): operator not supported"},
      {"version", WithOp(BuiltinOp::kAdd, 9, tflite::AddOptions{}), {}, "operator 1 (ADD): version 9 is not supported (1..5)"},
      {"declared shape", wrong_shape, {}, "operator 1 (ADD): output tensor 2 ('z') computes to [1,4] but the model declares [1,8]"},
      {"no batch dim", no_batch.Build(), batch4, "graph input tensor 0 ('x') of shape [3,4] has no leading batch dimension"},
      {"arena limit", DenseChain(2, 64), tiny, "above the limit of 16"},
      {"no input channels", [] {
         GraphBuilder g;
         const int x = g.Input("x", kF32, {1, 2, 2, 0});
         const int w = g.ConstF32("w", {4, 1, 1, 3}, std::vector<float>(12, 1.f));
         const int y = g.Tensor("y", kF32, {1, 2, 2, 4});
         g.Op(BuiltinOp::kConv2D, {x, w, -1}, {y}, tflite::Conv2DOptions{});
         g.Output(y);
         return g.Build();
       }(), {}, "operator 0 (CONV_2D): filter tensor 1 ('w') has shape [4,1,1,3], which does not divide the 0 input"},
      {"invalid graph", [] { tflite::Graph g = DenseChain(1, 4); g.operators[0].inputs[0] = 42; return g; }(), {},
       "operator 0 (FULLY_CONNECTED): input 0 refers to tensor 42"},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto interp = Interpreter::Create(c.graph, c.options);
    ASSERT_FALSE(interp.ok());
    EXPECT_EQ(interp.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(interp.status().message().find(c.expected), std::string::npos) << interp.status().message();
  }
}

TEST(Interpreter, CorruptBytesGiveTheReaderError) {
  std::vector<uint8_t> bytes = Fixture("hello_world_int8.tflite");
  bytes.resize(bytes.size() / 2);
  auto interp = Interpreter::CreateFromBytes(bytes);
  ASSERT_FALSE(interp.ok());
  EXPECT_EQ(interp.status().code(), StatusCode::kCorruption);
}

TEST(Planner, OverlappingLifetimesNeverShareBytes) {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<BufferRequest> requests(1 + rng() % 30);
    for (BufferRequest& r : requests) {
      r.bytes = rng() % 5000;
      r.first_use = static_cast<int>(rng() % 20) - 1;
      r.last_use = r.first_use + static_cast<int>(rng() % 6);
    }
    const ArenaPlan plan = PlanArena(requests, 64);
    size_t sum = 0;
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(plan.offsets[i] % 64, 0u);
      EXPECT_LE(plan.offsets[i] + requests[i].bytes, plan.total_bytes);
      sum += (requests[i].bytes + 63) / 64 * 64 + (requests[i].bytes == 0 ? 64 : 0);
      for (size_t j = 0; j < i; ++j) {
        const bool live_together =
            requests[i].first_use <= requests[j].last_use && requests[j].first_use <= requests[i].last_use;
        const bool bytes_overlap = plan.offsets[i] < plan.offsets[j] + requests[j].bytes &&
                                   plan.offsets[j] < plan.offsets[i] + requests[i].bytes;
        EXPECT_FALSE(live_together && bytes_overlap) << "round " << round << ": " << i << " and " << j;
      }
    }
    EXPECT_LE(plan.total_bytes, sum);
  }
}

}  // namespace
}  // namespace edgeloop::runtime

namespace edgeloop::runtime {
namespace {

// The sample graphs (also the fuzzing seeds) prepare and run, alone and as a batch of 3, and the
// batch gives each window what a single run gives.
TEST(Interpreter, SampleGraphsRunAloneAndBatched) {
  for (auto& [name, graph] : testing_support::SampleGraphs()) {
    SCOPED_TRACE(name);
    auto one = Interpreter::Create(graph);
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    InterpreterOptions options;
    options.batch = 3;
    auto three = Interpreter::Create(graph, options);
    ASSERT_TRUE(three.ok()) << three.status().ToString();
    std::mt19937 rng(3);
    const TensorInfo in1 = (*one)->input(0), in3 = (*three)->input(0);
    ASSERT_EQ(in3.bytes, 3 * in1.bytes);
    for (size_t i = 0; i < in3.bytes; ++i) in3.data[i] = static_cast<uint8_t>(rng() % 64);  // finite floats too
    ASSERT_TRUE((*three)->Invoke().ok());
    for (size_t k = 0; k < (*one)->output_count(); ++k) {
      const TensorInfo out3 = (*three)->output(k);
      for (int w = 0; w < 3; ++w) {
        std::memcpy(in1.data, in3.data + w * in1.bytes, in1.bytes);
        ASSERT_TRUE((*one)->Invoke().ok());
        const TensorInfo out1 = (*one)->output(k);
        ASSERT_EQ(out3.bytes, 3 * out1.bytes);
        EXPECT_EQ(0, std::memcmp(out1.data, out3.data + w * out1.bytes, out1.bytes)) << "output " << k << " window " << w;
      }
    }
  }
}

}  // namespace
}  // namespace edgeloop::runtime
