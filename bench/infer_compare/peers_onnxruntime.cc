// ONNX Runtime through its C API, loaded with dlopen from the libonnxruntime.so that the npm
// package onnxruntime-node bundles (the package ships no C headers, so the few entries of the
// OrtApi function table used here are declared by their documented positions).
#include <dlfcn.h>

#include <cstring>

#include "bench/infer_compare/onnx_writer.h"
#include "bench/infer_compare/peers.h"

namespace edgeloop::bench {
namespace {

struct OrtStatus;
struct OrtEnv;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtMemoryInfo;
struct OrtRunOptions;

// Positions in OrtApi (onnxruntime_c_api.h: the table only ever grows at its end).
constexpr int kGetErrorMessage = 2, kCreateEnv = 3, kCreateSessionFromArray = 8, kRun = 9,
              kCreateSessionOptions = 10, kSetGraphOptimizationLevel = 23, kSetIntraOpNumThreads = 24,
              kSetInterOpNumThreads = 25, kCreateTensorWithDataAsOrtValue = 49, kCreateCpuMemoryInfo = 69;
constexpr uint32_t kOrtApiVersion = 20;  // onnxruntime-node 1.20
constexpr int kOrtEnableAll = 99, kOrtLoggingWarning = 2, kOrtArenaAllocator = 1, kOrtMemTypeDefault = 0;
constexpr int kTypeFloat = 1, kTypeInt8 = 3;

struct OrtApiBase {
  const void* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};

class Ort {
 public:
  explicit Ort(const void* api) : table_(static_cast<void* const*>(api)) {}
  template <typename Fn>
  Fn At(int i) const {
    return reinterpret_cast<Fn>(table_[i]);
  }
  // Empty string on success, else the error message.
  std::string Check(OrtStatus* s) const {
    if (s == nullptr) return "";
    return At<const char* (*)(const OrtStatus*)>(kGetErrorMessage)(s);
  }

 private:
  void* const* table_;
};

struct Session {
  OrtSession* session = nullptr;
  OrtValue* input = nullptr;
  OrtValue* output = nullptr;
  std::vector<int8_t> in;
  std::vector<float> out;
};

std::string MakeSession(const Ort& ort, OrtEnv* env, OrtMemoryInfo* memory, const DefaultModel& m, int batch,
                        const std::vector<int8_t>& window, Session* s) {
  OrtSessionOptions* options = nullptr;
  std::string e = ort.Check(ort.At<OrtStatus* (*)(OrtSessionOptions**)>(kCreateSessionOptions)(&options));
  if (e.empty()) e = ort.Check(ort.At<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetIntraOpNumThreads)(options, 1));
  if (e.empty()) e = ort.Check(ort.At<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetInterOpNumThreads)(options, 1));
  if (e.empty()) {
    e = ort.Check(ort.At<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetGraphOptimizationLevel)(options, kOrtEnableAll));
  }
  const std::string onnx = DefaultModelOnnx(m, batch);
  if (e.empty()) {
    e = ort.Check(ort.At<OrtStatus* (*)(const OrtEnv*, const void*, size_t, const OrtSessionOptions*, OrtSession**)>(
        kCreateSessionFromArray)(env, onnx.data(), onnx.size(), options, &s->session));
  }
  if (!e.empty()) return e;
  s->in.resize(static_cast<size_t>(batch) * m.window);
  for (size_t i = 0; i < s->in.size(); ++i) s->in[i] = window[i % window.size()];
  s->out.resize(static_cast<size_t>(batch) * 3);
  const int64_t in_shape[] = {batch, 1, m.window}, out_shape[] = {batch, 3};
  using CreateTensor = OrtStatus* (*)(const OrtMemoryInfo*, void*, size_t, const int64_t*, size_t, int, OrtValue**);
  e = ort.Check(ort.At<CreateTensor>(kCreateTensorWithDataAsOrtValue)(memory, s->in.data(), s->in.size(), in_shape, 3,
                                                                       kTypeInt8, &s->input));
  if (e.empty()) {
    e = ort.Check(ort.At<CreateTensor>(kCreateTensorWithDataAsOrtValue)(
        memory, s->out.data(), s->out.size() * sizeof(float), out_shape, 2, kTypeFloat, &s->output));
  }
  return e;
}

}  // namespace

PeerResult RunOnnxRuntime(const DefaultModel& m, const std::vector<int8_t>& window, int runs, int batch,
                          const std::string& library) {
  PeerResult r;
  r.name = "ONNX Runtime (C API, QLinear ops)";
  if (library.empty()) {
    r.error = "no --onnxruntime library given (npm install --ignore-scripts in bench/infer_compare)";
    return r;
  }
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept loaded until exit
  if (handle == nullptr) {
    r.error = std::string("dlopen: ") + dlerror();
    return r;
  }
  auto get_base = reinterpret_cast<const OrtApiBase* (*)()>(dlsym(handle, "OrtGetApiBase"));
  if (get_base == nullptr) {
    r.error = "OrtGetApiBase not found in " + library;
    return r;
  }
  const void* api = get_base()->GetApi(kOrtApiVersion);
  if (api == nullptr) {
    r.error = std::string("the library (") + get_base()->GetVersionString() + ") lacks C API version 20";
    return r;
  }
  r.name = std::string("ONNX Runtime ") + get_base()->GetVersionString() + " (C API, QLinear)";
  const Ort ort(api);
  OrtEnv* env = nullptr;
  OrtMemoryInfo* memory = nullptr;
  std::string e = ort.Check(ort.At<OrtStatus* (*)(int, const char*, OrtEnv**)>(kCreateEnv)(kOrtLoggingWarning, "bench", &env));
  if (e.empty()) {
    e = ort.Check(ort.At<OrtStatus* (*)(int, int, OrtMemoryInfo**)>(kCreateCpuMemoryInfo)(kOrtArenaAllocator,
                                                                                           kOrtMemTypeDefault, &memory));
  }
  Session one, many;
  if (e.empty()) e = MakeSession(ort, env, memory, m, 1, window, &one);
  if (e.empty()) e = MakeSession(ort, env, memory, m, batch, window, &many);
  if (!e.empty()) {
    r.error = e;
    return r;
  }
  using RunFn = OrtStatus* (*)(OrtSession*, const OrtRunOptions*, const char* const*, const OrtValue* const*, size_t,
                               const char* const*, size_t, OrtValue**);
  const auto run_fn = ort.At<RunFn>(kRun);
  const char* in_name = "x";
  const char* out_name = "probs";
  std::string run_error;
  const auto run = [&](Session& s) {
    OrtStatus* st = run_fn(s.session, nullptr, &in_name, &s.input, 1, &out_name, 1, &s.output);
    if (st != nullptr && run_error.empty()) run_error = ort.Check(st);
  };
  r.median_us = MedianMicros([&] { run(one); }, runs);
  r.windows_per_s = batch / (MedianMicros([&] { run(many); }, std::max(200, runs / batch)) * 1e-6);
  if (!run_error.empty()) r.error = "Run: " + run_error;
  return r;
}

}  // namespace edgeloop::bench
