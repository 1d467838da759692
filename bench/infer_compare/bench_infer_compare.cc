// bench_infer_compare: one-window INT8 latency (one thread, median of --runs invokes) and batched
// windows/s of the default model in edgeloop and in the runtimes a user could pick instead, all
// in this one run: XNNPACK (operator API), ONNX Runtime (its C library, QLinear ONNX graph built
// here) and PyTorch INT8 (qnnpack, TorchScript, through /usr/bin/python3). Prints each figure, the
// ratios, the MAC count, edgeloop's MACs per cycle, and this core's measured int8 peak with the
// floor it sets for the model (machine_peak.h). A peer that cannot run prints why.
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
#include <vector>

#include "bench/infer_compare/default_model.h"
#include "bench/infer_compare/machine_peak.h"
#include "bench/infer_compare/peers.h"
#include "edgeloop/runtime/interpreter.h"
#include "edgeloop/tflite/io.h"

namespace edgeloop::bench {
namespace {

struct Args {
  int runs = 100000, batch = 64;
  std::string onnxruntime, torch_script, model_out, model;
};

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
  // The floor: the model's MACs at this core's measured int8 peak and nothing else.
  const MachinePeak peak = MeasureMachinePeak();
  const double floor_us = peak.int8_macs_per_ns > 0 ? static_cast<double>(m.macs) / peak.int8_macs_per_ns / 1000 : 0;
  if (peak.core_ghz > 0) {
    std::printf("edgeloop: %.1f MACs per core cycle one window, %.1f batched; this core: %.2f GHz (dependent adds)",
                static_cast<double>(m.macs) / (ours.median_us * peak.core_ghz * 1000),
                static_cast<double>(m.macs) * ours.windows_per_s / (peak.core_ghz * 1e9), peak.core_ghz);
  }
  if (floor_us > 0) {
    std::printf(", int8 peak %.0f MACs/ns (512-bit vpdpbusd, %.2f per cycle)\n", peak.int8_macs_per_ns,
                peak.int8_macs_per_ns / (64 * peak.core_ghz));
    std::printf("floor at that peak: %.3f us one window, %.0f windows/s; edgeloop reaches %.0f%% of it one window, "
                "%.0f%% batched\n",
                floor_us, 1e6 / floor_us, 100 * floor_us / ours.median_us, 100 * ours.windows_per_s * floor_us / 1e6);
  } else if (peak.core_ghz > 0) {
    std::printf("\n");
  }
  const auto verdict = [&](bool met, double needed_us) {
    if (met) return "met";
    return floor_us > 0 && needed_us < floor_us ? "NOT met; above this core's int8 peak" : "NOT met";
  };
  std::printf("targets: <= 1 us one window (%s), >= 1.5 M windows/s per core batched (%s)\n",
              verdict(ours.median_us <= 1.0, 1.0), verdict(ours.windows_per_s >= 1.5e6, 1e6 / 1.5e6));
  return 0;
}

}  // namespace
}  // namespace edgeloop::bench

int main(int argc, char** argv) { return edgeloop::bench::Main(argc, argv); }
