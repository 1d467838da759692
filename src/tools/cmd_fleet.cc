// `edgeloop fleet simulate`: many simulated devices in one process (src/fleet), for load tests,
// rollout measurements and the demo.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "edgeloop/fleet/simulator.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// --public-key takes the hex key or a file holding it (as `keys init` writes).
std::string ReadKeyArg(const std::string& arg) {
  std::ifstream f(arg);
  if (!f) return arg;
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

void PrintSummary(const fleet::SimulatorReport& r) {
  std::fprintf(stderr,
               "fleet: %d devices over %d connections, %.1f s: %lld results sent, %lld received (%lld distinct), "
               "%.0f/s, latency p50 %.1f ms p99 %.1f ms, lost %lld, duplicates %lld, unacknowledged %lld\n",
               r.devices, r.connections, r.seconds, static_cast<long long>(r.produced),
               static_cast<long long>(r.received), static_cast<long long>(r.distinct), r.throughput, r.latency_p50_ms,
               r.latency_p99_ms, static_cast<long long>(r.lost), static_cast<long long>(r.duplicates),
               static_cast<long long>(r.undelivered));
  for (const auto& ro : r.rollouts) {
    std::fprintf(stderr, "fleet: model v%lld reported by %lld devices%s\n", static_cast<long long>(ro.version),
                 static_cast<long long>(ro.devices), ro.complete_ms ? " (all)" : "");
  }
  for (const auto& e : r.errors) std::fprintf(stderr, "fleet: %s\n", e.c_str());
}

int Simulate(int argc, char** argv) {
  fleet::SimulatorOptions o;
  int64_t devices = 100, duration = 30, connections = 0, seed = 1, length = 128, channels = 1;
  std::string report_path, public_key;
  bool json = false;
  Flags flags("edgeloop fleet simulate --devices N --rate HZ --mqtt URL [--duration S] [--registry URL --token T "
              "--public-key KEY | --model-file FILE]",
              "Runs N simulated devices in one process: each has its own id, seqs, store-and-forward queue\n"
              "(the agent's publisher), alarms and model version; they share a few MQTT connections.\n"
              "Windows come from the waveform generator; models from the registry (signed manifests, channel\n"
              "poll + retained manifest pushes) or a local file. Subscribes to its own results and reports\n"
              "throughput, end-to-end latency, lost and duplicated results, and per model version when\n"
              "every device first reported it.");
  flags.Int("--devices", &devices, "number of simulated devices");
  flags.Double("--rate", &o.rate_hz, "windows per second per device");
  flags.String("--mqtt", &o.mqtt_url, "broker URL, tcp://host:port");
  flags.Int("--duration", &duration, "seconds to run (0 = until Ctrl-C)");
  flags.String("--fleet", &o.fleet, "fleet name (topic level)");
  flags.String("--prefix", &o.device_prefix, "device id prefix (ids are PREFIX00001...)");
  flags.Int("--connections", &connections, "shared MQTT connections / loop threads (0 = one per 125 devices, max 16)");
  flags.String("--registry", &o.registry_url, "registry URL for OTA updates");
  flags.String("--token", &o.token, "registry bearer token");
  flags.String("--public-key", &public_key, "manifest signing key (hex, or a file holding it)");
  flags.String("--model", &o.model, "registry model name");
  flags.Double("--poll-seconds", &o.poll_seconds, "registry channel poll interval");
  flags.String("--model-file", &o.model_file, "local model every device starts with (version 0)");
  flags.String("--kind", &o.pool_kind, "sensor windows: waveform or gaussian (data generate --kind)");
  flags.Int("--seed", &seed, "seed of the window pools");
  flags.Int("--length", &length, "readings per channel in a window");
  flags.Int("--channels", &channels, "sensor channels");
  flags.String("--drift", &o.drift, "drift used with --drift-after (data generate --drift syntax)");
  int64_t drift_after = -1;
  flags.Int("--drift-after", &drift_after, "switch every device to drifted windows after S seconds (-1 = never)");
  bool no_watch = false;
  int64_t inflight = o.max_inflight;
  flags.Int("--inflight", &inflight, "unacknowledged QoS 1 messages per shared connection");
  flags.Bool("--no-watch", &no_watch, "do not subscribe to the results (measures the devices' side alone; no lost/latency)");
  flags.Bool("--json", &json, "print the final report as JSON on stdout");
  flags.String("--report", &report_path, "also write the JSON report to this file");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  o.watch_results = !no_watch;
  o.max_inflight = static_cast<int>(inflight);
  o.devices = static_cast<int>(devices);
  o.connections = static_cast<int>(connections);
  o.seed = static_cast<uint64_t>(seed);
  o.length = static_cast<int>(length);
  o.channels = static_cast<int>(channels);
  if (!public_key.empty()) o.public_key = ReadKeyArg(public_key);
  auto sim = fleet::Simulator::Create(o);
  if (!sim.ok()) return UsageError(argv[0], sim.status());
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  if (Status s = (*sim)->Start(); !s.ok()) return Fail(argv[0], s);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  double next_progress = 5;
  bool drifted = false;
  while (!g_stop && (duration <= 0 || elapsed() < static_cast<double>(duration))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!drifted && drift_after >= 0 && elapsed() >= static_cast<double>(drift_after)) {
      (*sim)->SetDrifted(true);
      drifted = true;
      std::fprintf(stderr, "fleet: drift on (%s)\n", o.drift.c_str());
    }
    if (elapsed() >= next_progress) {
      next_progress += 5;
      fleet::SimulatorReport r = (*sim)->Snapshot();
      std::fprintf(stderr, "fleet: %5.0f s  sent %lld  received %lld  %.0f/s  spool %lld  p99 %.1f ms\n", elapsed(),
                   static_cast<long long>(r.produced), static_cast<long long>(r.distinct), r.throughput,
                   static_cast<long long>(r.spool_depth), r.latency_p99_ms);
    }
  }
  fleet::SimulatorReport r = (*sim)->Stop(30000);
  PrintSummary(r);
  const std::string j = fleet::ReportToJson(r);
  if (json) std::printf("%s\n", j.c_str());
  if (!report_path.empty()) {
    std::ofstream f(report_path);
    f << j << "\n";
    if (!f) return Fail(argv[0], Status::IOError("--report " + report_path + ": cannot write"));
  }
  return r.lost == 0 && r.undelivered == 0 ? 0 : 1;
}

}  // namespace

EL_COMMAND("fleet simulate", "run N simulated devices against a broker and a registry", Simulate);

}  // namespace edgeloop::tools
