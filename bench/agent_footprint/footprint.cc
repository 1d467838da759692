// bench_agent_footprint: runs the real edgeloop-agent binary at 10 Hz (synthetic source, an INT8
// Conv1D classifier, every result over MQTT QoS 1 through the durable spool) against a real
// Mosquitto, and prints what the device pays for it. The model (--model) is the product's default
// one, trained and quantized by the edgeloop CLI as `make demo` does (its results carry their 128
// readings only when unsure, for the 1% random sample or an alarm), or a random-weight one that is
// unsure of every window, so every result carries its window (the worst case: 4x the bytes).
// What is printed:
//   RSS      VmHWM (peak) and VmRSS (at the end) from /proc/<pid>/status
//   CPU      (utime + stime) / wall time from /proc/<pid>/stat over the measured interval, and the
//            same from the tasks' schedstat (nanoseconds: finer than the 10 ms ticks of stat)
//   binary   size of a stripped copy of the agent binary
// against the targets of DESIGN.md (8 MB, 0.1 % of one core, 3 MB) as ratios, with Mosquitto's own
// RSS and CPU in the same run as the peer (the broker every device talks to), the delivery check
// (every seq arrived, none missing), and the machine's floor measured next to the agent by
// bench_footprint_floor (floor_peer.cc): a loop that only wakes at the rate, and a hand-written
// durable QoS 1 publisher with one result per send and with a second's results per send. The agent
// runs its default config (mqtt.coalesce_ms 1000; --coalesce-ms 0 sends each result at once).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "edgeloop/classifier/metadata.h"
#include "edgeloop/common/flags.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/tflite/io.h"
#include "test/support/process.h"
#include "test/support/sample_graphs.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop {
namespace {

using testing_support::MosquittoServer;
using testing_support::Process;
using testing_support::ProcessOptions;
using testing_support::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TaskSample {
  std::string comm;
  int64_t ns = 0;      // schedstat: time on the CPU
  int64_t slices = 0;  // schedstat: times it was scheduled in (~ wake-ups)
};

struct CpuSample {
  double wall_s = 0;
  int64_t ticks = 0;     // utime + stime, clock ticks
  int64_t sched_ns = 0;  // sum of the live tasks' schedstat run times
  std::map<std::string, TaskSample> tasks;  // by tid
};

CpuSample SampleCpu(pid_t pid) {
  CpuSample s;
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');  // the comm field may hold spaces
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  // Fields from 3 (state) on; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) s.ticks += std::stoll(f);
  }
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(task_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::istringstream ss(ReadFile(task_dir + "/" + e->d_name + "/schedstat"));
      int64_t ns = 0, wait = 0, slices = 0;
      if (ss >> ns) s.sched_ns += ns;
      ss >> wait >> slices;
      std::string comm = ReadFile(task_dir + "/" + e->d_name + "/comm");
      while (!comm.empty() && comm.back() == '\n') comm.pop_back();
      s.tasks[e->d_name] = TaskSample{comm, ns, slices};
    }
    ::closedir(d);
  }
  return s;
}

// Percent of one core between two samples of the same process (schedstat run time over wall time).
double SchedPercent(const CpuSample& a, const CpuSample& b) {
  return 100.0 * static_cast<double>(b.sched_ns - a.sched_ns) / 1e9 / (b.wall_s - a.wall_s);
}

// kB of a /proc/<pid>/status or smaps_rollup line ("VmHWM:     1234 kB").
int64_t StatusKb(pid_t pid, const std::string& key, const char* file = "status") {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/" + file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  }
  return -1;
}

// The Mosquitto that MosquittoServer started (its command line names its config file).
pid_t FindProcessWithArg(const std::string& arg) {
  DIR* d = ::opendir("/proc");
  pid_t found = -1;
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string cmdline = ReadFile(std::string("/proc/") + e->d_name + "/cmdline");
    if (cmdline.find(arg) != std::string::npos) found = std::stoi(e->d_name);
  }
  if (d) ::closedir(d);
  return found;
}

std::string ReferenceModel() {
  tflite::Graph graph = testing_support::Conv1DGraph(/*int8=*/true, 7);
  classifier::ModelMetadata meta;
  meta.labels = {"normal", "warning", "failure"};
  meta.length = 128;
  meta.channels = 1;
  meta.quantization = "int8";
  graph.metadata[tflite::kEdgeloopMetadataName] = classifier::MetadataToJson(meta);
  auto bytes = tflite::WriteModel(graph);
  if (!bytes.ok()) throw std::runtime_error("model: " + bytes.status().ToString());
  return std::string(bytes->begin(), bytes->end());
}

// The product's default model as a device gets it: `edgeloop data generate` (the agent's synthetic
// source draws from the same generator), `edgeloop train` (the default architecture) and
// `edgeloop quantize` (INT8), in about a second.
std::string TrainedModel(const std::string& edgeloop, const TempDir& dir) {
  const std::string data = dir.Join("train.csv"), float_model = dir.Join("float.tflite");
  const std::string int8_model = dir.Join("model.tflite"), log = dir.Join("train.log");
  const std::vector<std::vector<std::string>> steps = {
      {edgeloop, "data", "generate", "--samples", "3000", "--seed", "1", "-o", data},
      {edgeloop, "train", data, "-o", float_model, "--epochs", "8", "--seed", "1", "--quiet"},
      {edgeloop, "quantize", float_model, "--calibration", data, "-o", int8_model}};
  for (const auto& args : steps) {
    ProcessOptions po;
    po.stdout_path = log;
    po.stderr_path = log;
    Process step(args, po);
    auto rc = step.Wait(120000);
    if (!rc || *rc != 0) throw std::runtime_error("model: '" + args[1] + "' failed:\n" + ReadFile(log));
  }
  return int8_model;
}

// Counts the results that reach the broker (seqs seen).
class ResultCounter {
 public:
  ResultCounter(const std::string& url, const std::string& topic) {
    mqtt::ClientOptions o;
    o.server_uri = url;
    o.client_id = "footprint-observer";
    mqtt::ClientCallbacks cb;
    cb.on_message = [this](mqtt::Message m) {
      auto r = mqtt::ResultFromJson(m.payload);
      std::lock_guard<std::mutex> l(mu_);
      if (r.ok() && seqs_.insert(r->seq).second) {
        bytes_ += static_cast<int64_t>(m.payload.size());
        if (!r->window.empty()) ++with_window_;
      }
      if (m.payload == kProbe) probe_seen_ = true;
    };
    client_ = mqtt::Client::Create(o, cb).value();
    if (!client_->Subscribe(topic, 1).ok() || !client_->Connect().ok()) throw std::runtime_error("observer");
    // Connect returns at once: wait until the subscription is live (our own probe comes back), or
    // the agent's first results could go out before it and count as missing.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (client_->connected()) (void)client_->Publish(topic, kProbe, 1, false, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::lock_guard<std::mutex> l(mu_);
      if (probe_seen_) return;
    }
    throw std::runtime_error("observer: subscription not live after 10 s");
  }
  std::set<int64_t> seqs() {
    std::lock_guard<std::mutex> l(mu_);
    return seqs_;
  }
  int64_t mean_bytes() {
    std::lock_guard<std::mutex> l(mu_);
    return seqs_.empty() ? 0 : bytes_ / static_cast<int64_t>(seqs_.size());
  }
  // Percent of the results that carried their window (for retraining).
  double window_percent() {
    std::lock_guard<std::mutex> l(mu_);
    return seqs_.empty() ? 0 : 100.0 * static_cast<double>(with_window_) / static_cast<double>(seqs_.size());
  }

 private:
  std::mutex mu_;
  static constexpr const char* kProbe = "footprint-observer-probe";
  std::set<int64_t> seqs_;
  int64_t bytes_ = 0;
  int64_t with_window_ = 0;
  bool probe_seen_ = false;
  std::unique_ptr<mqtt::Client> client_;
};

// A floor peer (floor_peer.cc) running next to the agent.
struct FloorPeer {
  std::string what;
  int batch = 0;  // results per send; 0: the loop that only wakes
  bool paho = false;  // Paho's MQTTClient instead of hand-written MQTT
  std::unique_ptr<Process> process;
};

// `batch`: the results per send of the third peer (a second's worth).
std::vector<FloorPeer> StartFloorPeers(std::string path, int port, double rate_hz, int batch, int64_t payload_bytes,
                                       const TempDir& dir) {
  std::vector<FloorPeer> peers;
  if (path == "none") return peers;
  if (path.empty()) {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return peers;
    path = std::string(self, static_cast<size_t>(n));
    path = path.substr(0, path.rfind('/') + 1) + "bench_footprint_floor";
  }
  if (::access(path.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "bench_agent_footprint: no floor peer at %s (build bench_footprint_floor); measuring the "
                         "agent alone\n", path.c_str());
    return peers;
  }
  const std::string hz = std::to_string(rate_hz), bytes = std::to_string(std::max<int64_t>(payload_bytes, 1));
  const auto start = [&](std::string what, int sends, std::vector<std::string> args, bool paho = false) {
    args.insert(args.begin(), {path, "--rate-hz", hz});
    ProcessOptions po;
    po.stdout_path = "/dev/null";
    po.stderr_path = dir.Join("floor-" + std::to_string(peers.size()) + ".log");
    if (paho) args.insert(args.end(), {"--client", "paho"});
    peers.push_back({std::move(what), sends, paho, std::make_unique<Process>(args, po)});
  };
  const std::string p = std::to_string(port);
  start("wake-ups at the rate only (clock_nanosleep)", 0, {"--mode", "sleep"});
  start("+ spool store (mapped), 1 Hz fdatasync, 1 PUBLISH + PUBACK per result", 1,
        {"--mode", "publish", "--port", p, "--spool", dir.Join("floor-1.spool"), "--payload-bytes", bytes, "--batch", "1",
         "--topic", "footprint/floor/1"});
  start("the same, " + std::to_string(batch) + " results per send (each waits up to 1 s)", batch,
        {"--mode", "publish", "--port", p, "--spool", dir.Join("floor-2.spool"), "--payload-bytes", bytes, "--batch",
         std::to_string(batch), "--topic", "footprint/floor/2"});
  start("the same through Paho's MQTTClient, as the agent drives it", batch,
        {"--mode", "publish", "--port", p, "--spool", dir.Join("floor-3.spool"), "--payload-bytes", bytes, "--batch",
         std::to_string(batch), "--topic", "footprint/floor/3"},
        /*paho=*/true);
  start("the same without fdatasync (safe against kill -9, not power loss)", batch,
        {"--mode", "publish", "--port", p, "--spool", dir.Join("floor-4.spool"), "--payload-bytes", bytes, "--batch",
         std::to_string(batch), "--topic", "footprint/floor/4", "--no-fdatasync"},
        /*paho=*/true);
  return peers;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

int Main(int argc, char** argv) {
  std::string agent_path, write_model, floor_path, model = "trained", edgeloop_path;
  int64_t seconds = 60, warmup = 5, coalesce_ms = 1000;
  double rate_hz = 10;
  Flags flags("bench_agent_footprint --agent build/bin/edgeloop-agent [--seconds 60] [--rate-hz 10]",
              "The agent's resident memory, CPU share and stripped binary size at a sensor rate, "
              "against a real Mosquitto.");
  flags.String("--agent", &agent_path, "the edgeloop-agent binary");
  flags.String("--floor", &floor_path, "bench_footprint_floor, run next to the agent as the machine's floor (default: "
                                       "next to this binary; 'none' to skip)");
  flags.Int("--seconds", &seconds, "measured interval after the warm-up");
  flags.Int("--warmup", &warmup, "seconds before the measurement starts");
  flags.Int("--coalesce-ms", &coalesce_ms, "the agent's mqtt.coalesce_ms (the default config's 1000: a second's results "
                                          "sent together)");
  flags.Double("--rate-hz", &rate_hz, "windows per second");
  flags.String("--model", &model, "trained: the default model, trained and quantized by the edgeloop CLI; random: "
                                  "random weights, unsure of every window, so every result carries its window");
  flags.String("--edgeloop", &edgeloop_path, "the edgeloop CLI that trains the model (default: next to --agent)");
  flags.String("--write-model", &write_model, "only write the benchmark's model to this file (for profiling by hand)");
  Status parsed = flags.Parse(argc, argv);
  if (parsed.ok() && !write_model.empty()) {
    std::ofstream(write_model, std::ios::binary) << ReferenceModel();
    return 0;
  }
  if (Status st = parsed; !st.ok() || agent_path.empty() || seconds <= 0 || rate_hz <= 0 ||
                           (model != "trained" && model != "random")) {
    std::fprintf(stderr, "bench_agent_footprint: %s\n%s",
                 st.ok() ? "--agent, --seconds > 0, --rate-hz > 0 and --model trained|random are needed"
                         : st.message().c_str(),
                 flags.Help().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }

  TempDir dir;
  if (edgeloop_path.empty()) edgeloop_path = agent_path.substr(0, agent_path.rfind('/') + 1) + "edgeloop";
  std::string model_path = dir.Join("random.tflite");
  if (model == "trained") {
    model_path = TrainedModel(edgeloop_path, dir);
  } else {
    std::ofstream(model_path, std::ios::binary) << ReferenceModel();
  }
  MosquittoServer broker;
  broker.Start();
  const pid_t broker_pid = FindProcessWithArg(broker.dir() + "/mosquitto.conf");

  nlohmann::json config = {{"device_id", "edge-001"},
                           {"fleet", "plant-a"},
                           {"data_dir", dir.Join("data")},
                           {"model_file", model_path},
                           {"mqtt", {{"url", broker.url()}, {"coalesce_ms", coalesce_ms}}},
                           {"registry", {{"url", ""}, {"poll_seconds", 0}}},
                           {"source", {{"kind", "synthetic"}, {"rate_hz", rate_hz}, {"seed", 1}}},
                           {"upload", {{"low_confidence", 0.6}, {"random_share", 0.01}}}};
  std::ofstream(dir.Join("agent.json")) << config.dump(2);
  ResultCounter counter(broker.url(), "edgeloop/plant-a/devices/edge-001/results");

  ProcessOptions po;
  po.stderr_path = dir.Join("agent.log");
  po.stdout_path = "/dev/null";
  Process agent({agent_path, "--config", dir.Join("agent.json")}, po);
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  if (!agent.Running()) {
    std::fprintf(stderr, "bench_agent_footprint: the agent exited:\n%s", ReadFile(po.stderr_path).c_str());
    return 1;
  }
  // The floor peers start once the agent's results show their mean size, and get a second to settle.
  const int second_batch = std::max(1, static_cast<int>(rate_hz));  // a second's results per send
  std::vector<FloorPeer> floors =
      StartFloorPeers(floor_path, broker.port(), rate_hz, second_batch, counter.mean_bytes(), dir);
  if (!floors.empty()) std::this_thread::sleep_for(std::chrono::seconds(2));
  std::vector<CpuSample> f0;
  for (FloorPeer& f : floors) f0.push_back(SampleCpu(f.process->pid()));
  const CpuSample a0 = SampleCpu(agent.pid());
  const CpuSample b0 = broker_pid > 0 ? SampleCpu(broker_pid) : CpuSample{};
  const int64_t seqs0 = static_cast<int64_t>(counter.seqs().size());
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const CpuSample a1 = SampleCpu(agent.pid());
  std::vector<CpuSample> f1;
  for (FloorPeer& f : floors) f1.push_back(SampleCpu(f.process->pid()));
  const CpuSample b1 = broker_pid > 0 ? SampleCpu(broker_pid) : CpuSample{};
  const int64_t hwm_kb = StatusKb(agent.pid(), "VmHWM"), rss_kb = StatusKb(agent.pid(), "VmRSS");
  const int64_t anon_kb = StatusKb(agent.pid(), "RssAnon"), file_kb = StatusKb(agent.pid(), "RssFile");
  const int64_t pss_kb = StatusKb(agent.pid(), "Pss", "smaps_rollup");
  const int64_t broker_rss_kb = broker_pid > 0 ? StatusKb(broker_pid, "VmRSS") : -1;
  const int64_t sent_in_interval = static_cast<int64_t>(counter.seqs().size()) - seqs0;

  // A clean stop drains the spool: every seq from 1 to the last must have arrived.
  agent.Signal(SIGTERM);
  auto rc = agent.Wait(30000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::set<int64_t> seqs = counter.seqs();
  const int64_t last = seqs.empty() ? 0 : *seqs.rbegin();
  const int64_t missing = last - static_cast<int64_t>(seqs.size());

  const std::string stripped = dir.Join("edgeloop-agent.stripped");
  const std::string cmd = "strip -o '" + stripped + "' '" + agent_path + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("strip failed: " + cmd);
  const int64_t size = FileSize(stripped), unstripped = FileSize(agent_path);

  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double wall = a1.wall_s - a0.wall_s;
  const double cpu_stat = 100.0 * (a1.ticks - a0.ticks) / tick / wall;
  const double cpu_sched = SchedPercent(a0, a1);
  const double broker_cpu = 100.0 * (b1.sched_ns - b0.sched_ns) / 1e9 / wall;
  const double mb = 1024.0 * 1024.0;

  std::printf("agent footprint: synthetic source at %.0f Hz, INT8 Conv1D model (%s), QoS 1 to Mosquitto, %.1f s "
              "measured after %lld s warm-up\n", rate_hz,
              model == "trained" ? "the default one, trained" : "random weights: every window uploaded", wall,
              static_cast<long long>(warmup));
  std::printf("  results: %lld bytes on average, %.1f %% of them with their window\n",
              static_cast<long long>(counter.mean_bytes()), counter.window_percent());
  std::printf("  %-34s %10s %10s %8s\n", "", "edgeloop", "target", "ratio");
  std::printf("  %-34s %7.2f MB %7.2f MB %8.2f\n", "resident peak (VmHWM)", hwm_kb * 1024.0 / mb, 8.0,
              hwm_kb * 1024.0 / mb / 8.0);
  std::printf("  %-34s %7.2f MB %7.2f MB %8.2f\n", "resident at the end (VmRSS)", rss_kb * 1024.0 / mb, 8.0,
              rss_kb * 1024.0 / mb / 8.0);
  std::printf("  %-34s %7.2f MB (anonymous %.2f MB, file-backed: code of the binary and its shared libraries %.2f MB)\n",
              "  of which", rss_kb * 1024.0 / mb, anon_kb * 1024.0 / mb, file_kb * 1024.0 / mb);
  std::printf("  %-34s %7.2f MB (shared library pages divided among the processes that map them)\n",
              "proportional set size (Pss)", pss_kb * 1024.0 / mb);
  std::printf("  %-34s %8.4f %% %8.4f %% %8.2f\n", "CPU of one core (stat ticks)", cpu_stat, 0.1, cpu_stat / 0.1);
  std::printf("  %-34s %8.4f %% %8.4f %% %8.2f\n", "CPU of one core (schedstat ns)", cpu_sched, 0.1, cpu_sched / 0.1);
  std::printf("  %-34s %7.2f MB %7.2f MB %8.2f\n", "binary, stripped", size / mb, 3.0, size / mb / 3.0);
  std::printf("  %-34s %7.2f MB\n", "binary, as built", unstripped / mb);
  // Per thread (threads that lived through the interval): where the CPU goes and how often each wakes.
  const double windows = rate_hz * wall;
  for (const auto& [tid, t1] : a1.tasks) {
    auto it = a0.tasks.find(tid);
    if (it == a0.tasks.end()) continue;
    const double ns = static_cast<double>(t1.ns - it->second.ns);
    const std::string name = tid == std::to_string(agent.pid()) ? "main (the loop)" : "other (" + t1.comm + ")";
    std::printf("    thread %-8s %-28s %8.1f ms  %7.1f us/window  %5.2f wake-ups/window\n", tid.c_str(), name.c_str(),
                ns / 1e6, ns / 1e3 / windows, static_cast<double>(t1.slices - it->second.slices) / windows);
  }
  std::printf("  peer in the same run, mosquitto: resident %.2f MB, CPU %.4f %% of a core%s\n",
              broker_rss_kb * 1024.0 / mb, broker_cpu, floors.empty() ? "" : " (serving the agent and the floor peers)");
  if (!floors.empty()) {
    std::printf("  floor of this machine in the same run (bench_footprint_floor: MQTT written by hand unless Paho is "
                "named, %lld-byte results, schedstat):\n", static_cast<long long>(counter.mean_bytes()));
    // The agent against the floors that send as it does: each result at once, or a second's together.
    double like_floor = 0, like_paho = 0;
    for (size_t i = 0; i < floors.size(); ++i) {
      const double cpu = SchedPercent(f0[i], f1[i]);
      double& like = floors[i].paho ? like_paho : like_floor;  // the first that sends as the agent does
      if (like == 0 && floors[i].batch == (coalesce_ms > 0 ? second_batch : 1)) like = cpu;
      std::printf("    %-62s %8.4f %% %8.4f %% %6.2f\n", floors[i].what.c_str(), cpu, 0.1, cpu / 0.1);
    }
    for (FloorPeer& f : floors) f.process->Signal(SIGTERM);
    if (like_floor > 0) {
      std::printf("    edgeloop-agent (mqtt.coalesce_ms %lld) / the floor that sends the same way: %.2fx\n",
                  static_cast<long long>(coalesce_ms), cpu_sched / like_floor);
    }
    if (like_paho > 0) {
      std::printf("    edgeloop-agent / the floor with Paho sending the same way: %.2fx (inference, JSON, alarms, health: "
                  "%.1f us/window)\n", cpu_sched / like_paho, (cpu_sched - like_paho) / 100.0 * 1e6 / rate_hz);
    }
  }
  std::printf("  delivery: %lld results in the interval (%.2f/s), %lld in all, seq 1..%lld, %lld missing; agent exit %d\n",
              static_cast<long long>(sent_in_interval), sent_in_interval / wall, static_cast<long long>(seqs.size()),
              static_cast<long long>(last), static_cast<long long>(missing), rc ? *rc : -1);
  if (missing != 0 || !rc || *rc != 0) {
    std::string gaps;
    for (int64_t seq = 1, shown = 0; seq <= last && shown < 20; ++seq) {
      if (!seqs.count(seq)) {
        gaps += " " + std::to_string(seq);
        ++shown;
      }
    }
    std::fprintf(stderr, "bench_agent_footprint: missing seqs:%s\nagent log:\n%s", gaps.c_str(),
                 ReadFile(po.stderr_path).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace edgeloop

int main(int argc, char** argv) {
  try {
    return edgeloop::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_agent_footprint: %s\n", e.what());
    return 1;
  }
}
