// bench_infer_compare: one-window INT8 latency (one thread, median of --runs invokes) and batched
// windows/s of the default model in edgeloop and in the runtimes a user could pick instead, all
// in this one run: XNNPACK (operator API), ONNX Runtime (its C library, QLinear ONNX graph built
// here) and PyTorch INT8 (qnnpack, TorchScript, through /usr/bin/python3). Prints each figure, the
// ratios, the MAC count and edgeloop's MACs per cycle. A peer that cannot run prints why.
//   bench_infer_compare [--runs N] [--batch N] [--onnxruntime libonnxruntime.so] [--torch script.py]
//                       [--model model_int8.tflite | --model-out default_int8.tflite]
// --model: a trained, quantized default model (--io int8); without it the graph is built with
// seeded random weights (default_model.cc).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/infer_compare/default_model.h"
#include "bench/infer_compare/peers.h"
#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/tflite/io.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace edgeloop::bench {
namespace {

struct Args {
  int runs = 100000, batch = 64;
  std::string onnxruntime, torch_script, model_out, model;
};

// Cycles per microsecond of the time-stamp counter (x86), 0 elsewhere.
double CyclesPerMicro() {
#if defined(__x86_64__)
  const auto start = std::chrono::steady_clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const uint64_t c1 = __rdtsc();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(c1 - c0) / us;
#else
  return 0;
#endif
}

PeerResult RunEdgeloop(const std::vector<uint8_t>& model, const std::vector<int8_t>& window, int runs, int batch,
                       runtime::KernelSet kernels, std::string* kernel_names) {
  PeerResult r;
  runtime::InterpreterOptions options;
  options.kernels = kernels;
  auto one = runtime::Interpreter::CreateFromBytes(model, options);
  if (!one.ok()) {
    r.error = one.status().ToString();
    return r;
  }
  runtime::Interpreter& interp = **one;
  r.name = std::string("edgeloop (") + runtime::KernelSetName(*runtime::ResolveKernelSet(kernels)) + ")";
  std::memcpy(interp.input(0).data, window.data(), window.size());
  r.median_us = MedianMicros([&] { (void)interp.Invoke(); }, runs);
  const runtime::TensorInfo out = interp.output(0);
  for (size_t i = 0; i < out.bytes; ++i) r.logits.push_back(static_cast<int8_t>(out.data[i]));
  if (kernel_names != nullptr) {
    for (size_t i = 0; i < interp.graph().operators.size(); ++i) {
      *kernel_names += std::string(i ? " " : "") + interp.kernel_name(i);
    }
  }
  auto batched = runtime::Interpreter::CreateFromBytes(model, options);
  if (!batched.ok() || !(*batched)->Resize(batch).ok()) {
    r.error = "batch " + std::to_string(batch) + " failed";
    return r;
  }
  for (int b = 0; b < batch; ++b) std::memcpy((*batched)->input(0).data + b * window.size(), window.data(), window.size());
  r.windows_per_s = batch / (MedianMicros([&] { (void)(*batched)->Invoke(); }, std::max(200, runs / batch)) * 1e-6);
  return r;
}

// PyTorch runs in /usr/bin/python3 (Debian's python3-torch); the script prints one line
// "median_us=<x> windows_per_s=<y>" or "error=<why>".
PeerResult RunTorch(const DefaultModel& m, const std::vector<int8_t>& window, int runs, int batch,
                    const std::string& script) {
  PeerResult r;
  r.name = "PyTorch INT8 (qnnpack, TorchScript)";
  if (script.empty()) {
    r.error = "no --torch script given";
    return r;
  }
  char dir_template[] = "/tmp/edgeloop_bench_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    r.error = "mkdtemp failed";
    return r;
  }
  const std::string weights = std::string(dir) + "/weights.json";
  {
    std::ofstream f(weights);
    std::string json = DefaultModelJson(m);
    json.pop_back();  // "}\n" -> add the window
    json.pop_back();
    json += ",\"window_values\":[";
    for (size_t i = 0; i < window.size(); ++i) {
      if (i > 0) json += ',';
      json += std::to_string(int{window[i]});
    }
    json += "]}\n";
    f << json;
  }
  const std::string command = "/usr/bin/python3 " + script + " " + weights + " " + std::to_string(runs) + " " +
                              std::to_string(batch) + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  std::string output;
  if (p != nullptr) {
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) output += buf;
    pclose(p);
  }
  std::remove(weights.c_str());
  rmdir(dir);
  const size_t at = output.rfind("median_us=");
  if (at == std::string::npos) {
    r.error = output.empty() ? "python3 printed nothing" : output.substr(0, 400);
    while (!r.error.empty() && r.error.back() == '\n') r.error.pop_back();
    return r;
  }
  std::sscanf(output.c_str() + at, "median_us=%lf windows_per_s=%lf", &r.median_us, &r.windows_per_s);
  return r;
}

int Main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_infer_compare: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") args.runs = std::atoi(next().c_str());
    else if (a == "--batch") args.batch = std::atoi(next().c_str());
    else if (a == "--onnxruntime") args.onnxruntime = next();
    else if (a == "--torch") args.torch_script = next();
    else if (a == "--model-out") args.model_out = next();
    else if (a == "--model") args.model = next();
    else {
      std::fprintf(stderr, "bench_infer_compare: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (args.runs < 1000 || args.batch < 1) {
    std::fprintf(stderr, "bench_infer_compare: --runs must be >= 1000 and --batch >= 1\n");
    return 2;
  }
  DefaultModel m;
  if (args.model.empty()) {
    m = MakeDefaultModel(2024);
  } else {
    Result<DefaultModel> loaded = LoadDefaultModel(args.model);
    if (!loaded.ok()) {
      std::fprintf(stderr, "bench_infer_compare: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    m = std::move(*loaded);
  }
  auto bytes = tflite::WriteModel(m.graph);
  if (!bytes.ok()) {
    std::fprintf(stderr, "bench_infer_compare: writing the model: %s\n", bytes.status().ToString().c_str());
    return 1;
  }
  if (!args.model_out.empty()) {
    Status s = tflite::WriteModelFile(m.graph, args.model_out);
    if (!s.ok()) std::fprintf(stderr, "bench_infer_compare: %s\n", s.ToString().c_str());
  }
  std::mt19937 rng(7);
  std::vector<int8_t> window(128);
  for (int i = 0; i < 128; ++i) {  // a noisy vibration: sine plus noise, quantized
    const double v = 1.5 * std::sin(i * 0.37) + std::normal_distribution<double>(0, 0.4)(rng);
    window[i] = static_cast<int8_t>(std::clamp<long>(std::lround(v / m.in_scale) + m.in_zero_point, -128, 127));
  }
  std::printf("default model, INT8 (%s): %lld MACs per window, %zu bytes; one window = %d runs, batch %d\n",
              args.model.empty() ? "seeded random weights" : args.model.c_str(), static_cast<long long>(m.macs),
              bytes->size(), args.runs, args.batch);

  std::string kernels;
  const PeerResult reference = RunEdgeloop(*bytes, window, std::max(1000, args.runs / 20), args.batch,
                                           runtime::KernelSet::kReference, nullptr);
  const PeerResult ours = RunEdgeloop(*bytes, window, args.runs, args.batch, runtime::KernelSet::kAuto, &kernels);
  std::vector<PeerResult> peers;
  peers.push_back(RunXnnpack(m, window, args.runs, args.batch));
  peers.push_back(RunOnnxRuntime(m, window, args.runs, args.batch, args.onnxruntime));
  peers.push_back(RunTorch(m, window, args.runs / 5, args.batch, args.torch_script));

  const auto line = [](const PeerResult& r) {
    if (!r.error.empty()) {
      std::printf("  %-40s did not run: %s\n", r.name.c_str(), r.error.c_str());
      return;
    }
    std::printf("  %-40s %9.3f us/window   %12.0f windows/s batched\n", r.name.c_str(), r.median_us, r.windows_per_s);
  };
  std::printf("kernels: %s\n", kernels.c_str());
  if (!ours.error.empty() || !reference.error.empty()) {
    std::printf("edgeloop failed: %s %s\n", ours.error.c_str(), reference.error.c_str());
    return 1;
  }
  std::printf("output equals the reference kernels' byte for byte: %s\n", ours.logits == reference.logits ? "yes" : "NO");
  std::printf("one window, one thread (median):\n");
  line(ours);
  line(reference);
  for (const PeerResult& p : peers) line(p);
  std::printf("ratios (peer time / edgeloop time, one window; edgeloop windows/s / peer windows/s, batched):\n");
  for (const PeerResult& p : peers) {
    if (!p.error.empty()) continue;
    std::printf("  %-40s %6.2fx faster one window, %6.2fx batched\n", p.name.c_str(), p.median_us / ours.median_us,
                ours.windows_per_s / p.windows_per_s);
  }
  const double cycles_per_us = CyclesPerMicro();
  if (cycles_per_us > 0) {
    std::printf("edgeloop: %.1f MACs per TSC cycle one window (%.2f GHz TSC), %.1f batched\n",
                static_cast<double>(m.macs) / (ours.median_us * cycles_per_us), cycles_per_us / 1000,
                static_cast<double>(m.macs) * ours.windows_per_s / (cycles_per_us * 1e6));
  }
  std::printf("targets: <= 1 us one window (%s), >= 1.5 M windows/s per core batched (%s)\n",
              ours.median_us <= 1.0 ? "met" : "NOT met", ours.windows_per_s >= 1.5e6 ? "met" : "NOT met");
  return 0;
}

}  // namespace
}  // namespace edgeloop::bench

int main(int argc, char** argv) { return edgeloop::bench::Main(argc, argv); }
