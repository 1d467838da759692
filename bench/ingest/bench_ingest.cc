// bench_ingest: how fast results go from an MQTT broker into the store, against a bare subscriber.
//
// For each sink (a bare Paho subscriber that only counts, the collector into SQLite, the collector
// into PostgreSQL) the same backlog of results from many simulated devices is queued on the broker
// for the sink's persistent session while it is offline; then the sink connects and the time until
// the last message is counted (bare) or committed (collector) gives its drain rate. Then a live
// phase: the collector runs while publishers send as fast as they can, with the publish time as the
// result's timestamp, for the device-to-row latency (p50/p99 of commit time - timestamp).
// Prints one JSON object.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "edgeloop/collector/collector.h"
#include "edgeloop/common/flags.h"
#include "edgeloop/mqtt/client.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/store/store.h"

using namespace edgeloop;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
double Secs(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

// CPU seconds (user + system) used so far by this process, and by the broker (--broker-pid; 0 when
// not given or unreadable). On a shared, loaded machine wall-clock rates move with the neighbours;
// CPU time per message is what the code costs.
double SelfCpu(bool system_only = false) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  double sys = static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6;
  if (system_only) return sys;
  return sys + static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) / 1e6;
}
int64_t g_broker_pid = 0;
double BrokerCpu() {
  if (g_broker_pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(g_broker_pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return 0;
  size_t p = line.rfind(')');  // the command name may hold spaces
  if (p == std::string::npos) return 0;
  // Fields after ")": state(3) ... utime(14) stime(15), counted from 1 over the whole line.
  std::vector<std::string> fields;
  size_t i = p + 2;
  while (i < line.size() && fields.size() < 13) {
    size_t j = line.find(' ', i);
    if (j == std::string::npos) j = line.size();
    fields.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  if (fields.size() < 13) return 0;
  return static_cast<double>(std::stoll(fields[11]) + std::stoll(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Wall seconds and CPU seconds (this process, the broker) over one phase.
struct Phase {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  double self0 = SelfCpu(), sys0 = SelfCpu(true), broker0 = BrokerCpu();
  double wall = 0, self = 0, sys = 0, broker = 0;
  void End() {
    wall = Secs(t0);
    self = SelfCpu() - self0;
    sys = SelfCpu(true) - sys0;
    broker = BrokerCpu() - broker0;
  }
  // "..., "sink_cpu_us": per message, "broker_cpu_us": per message, "broker_cpu_pct": %, "wall_s": s"
  std::string Json(const char* prefix, int64_t n) const {
    char buf[320];
    std::snprintf(buf, sizeof(buf), "\"%swall_s\":%.3f,\"%ssys_cpu_us\":%.2f,\"%scpu_us\":%.2f,\"%sbroker_cpu_us\":%.2f,\"%sbroker_cpu_pct\":%.1f",
                  prefix, wall, prefix, sys / static_cast<double>(n) * 1e6, prefix, self / static_cast<double>(n) * 1e6, prefix, broker / static_cast<double>(n) * 1e6,
                  prefix, wall > 0 ? broker / wall * 100 : 0.0);
    return buf;
  }
};

std::string Payload(const std::string& dev, int64_t seq, int64_t ts) {
  mqtt::ResultMessage m;
  m.device_id = dev;
  m.seq = seq;
  m.timestamp_ms = ts;
  m.prediction = seq % 50 == 0 ? "failure" : "normal";
  m.confidence = 0.93f;
  m.all_scores = {{"normal", 0.93f}, {"imbalance", 0.03f}, {"misalignment", 0.02f}, {"failure", 0.02f}};
  m.inference_ms = 0.0012;
  m.model = {"vib", 7};
  for (int i = 0; i < 10; ++i) m.raw_data.push_back(0.1f * static_cast<float>(i) - 0.37f);
  return mqtt::ResultToJson(m);
}

// Publishes `total` results from `devices` devices over `conns` connections; returns when all are
// acknowledged by the broker. `seq_base` keeps seqs unique across phases.
void PublishAll(const std::string& url, int devices, int64_t total, int conns, int64_t seq_base, bool live_ts) {
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      std::atomic<int64_t> acked{0};
      mqtt::ClientOptions o;
      o.server_uri = url;
      o.client_id = "bench-pub-" + std::to_string(c) + "-" + std::to_string(seq_base);
      o.clean_start = true;
      o.max_inflight = 2000;
      mqtt::ClientCallbacks cb;
      cb.on_publish_complete = [&](const mqtt::PublishCompletion&) { acked++; };
      auto client = std::move(mqtt::Client::Create(o, cb)).value();
      (void)client->Connect();
      while (!client->connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      int64_t sent = 0;
      for (int64_t i = c; i < total; i += conns) {
        int d = static_cast<int>(i % devices);
        int64_t seq = seq_base + i / devices + 1;
        std::string dev = "dev" + std::to_string(d);
        std::string p = Payload(dev, seq, live_ts ? NowMs() : 1700000000000 + seq);
        std::string topic = mqtt::ResultsTopic("bench", dev);
        while (!client->Publish(topic, p, 1, false, 0).ok()) std::this_thread::yield();
        ++sent;
      }
      while (acked.load() < sent) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      (void)client->Disconnect(1000);
    });
  }
  for (auto& t : threads) t.join();
}

double BareDrain(const std::string& url, int devices, int64_t total, int conns, Phase* phase) {
  std::atomic<int64_t> got{0};
  auto make = [&](std::atomic<int64_t>* counter) {
    mqtt::ClientOptions o;
    o.server_uri = url;
    o.client_id = "bench-bare";
    o.clean_start = false;
    mqtt::ClientCallbacks cb;
    cb.on_message = [counter](mqtt::Message) { counter->fetch_add(1, std::memory_order_relaxed); };
    auto c = std::move(mqtt::Client::Create(o, cb)).value();
    (void)c->Subscribe("edgeloop/+/devices/+/results", 1);
    return c;
  };
  {
    std::atomic<int64_t> ignore{0};
    auto c = make(&ignore);
    (void)c->Connect();
    while (!c->connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (void)c->Disconnect(1000);
  }
  PublishAll(url, devices, total, conns, 0, false);
  auto c = make(&got);
  *phase = Phase();
  (void)c->Connect();
  while (got.load() < total) std::this_thread::sleep_for(std::chrono::microseconds(200));
  phase->End();
  (void)c->Disconnect(1000);
  return static_cast<double>(total) / phase->wall;
}

struct CollectorRun {
  double drain_per_s = 0;
  double live_per_s = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t stored = 0, duplicates = 0;
  Phase drain, live;
};

CollectorRun CollectorDrain(const std::string& url, const std::string& db, const std::string& journal, int devices,
                            int64_t total, int conns, int64_t live_total, int batch) {
  CollectorRun out;
  auto store = std::move(store::Store::Open(db)).value();
  collector::CollectorOptions o;
  o.mqtt_url = url;
  o.client_id = "bench-collector-" + store->backend();
  // Own share group per sink: mosquitto keeps dealing a shared subscription's messages to
  // members whose persistent session is offline, so the SQLite collector's session would
  // swallow a share of the PostgreSQL phase's traffic.
  o.share_group = "bench-" + store->backend();
  o.journal_dir = journal;
  o.batch_max = batch;
  {
    auto c = std::move(collector::Collector::Create(o, store.get())).value();
    (void)c->Start();
    while (!c->connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c->Stop();
  }
  int64_t base = store->CountResults("").value();
  PublishAll(url, devices, total, conns, 1000000, false);
  auto c = std::move(collector::Collector::Create(o, store.get())).value();
  out.drain = Phase();
  (void)c->Start();
  while (c->stored() + c->duplicates() < total) std::this_thread::sleep_for(std::chrono::microseconds(200));
  out.drain.End();
  out.drain_per_s = static_cast<double>(total) / out.drain.wall;
  // Live: publishers and collector at once; latency from the publish timestamp to the commit.
  int64_t before = c->stored();
  out.live = Phase();
  PublishAll(url, devices, live_total, conns, 2000000, true);
  while (c->stored() - before < live_total) std::this_thread::sleep_for(std::chrono::microseconds(200));
  out.live.End();
  out.live_per_s = static_cast<double>(live_total) / out.live.wall;
  out.stored = store->CountResults("").value() - base;
  out.duplicates = c->duplicates();
  c->Stop();
  // Latency-only run: a new collector (own metrics), live traffic.
  auto c2 = std::move(collector::Collector::Create(o, store.get())).value();
  (void)c2->Start();
  while (!c2->connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int64_t b2 = c2->stored();
  PublishAll(url, devices, live_total, conns, 3000000, true);
  while (c2->stored() - b2 < live_total) std::this_thread::sleep_for(std::chrono::microseconds(200));
  auto& h2 = c2->metrics().GetHistogram("edgeloop_collector_device_to_row_seconds", "", {});
  out.p50_ms = h2.Quantile(0.5) * 1000;
  out.p99_ms = h2.Quantile(0.99) * 1000;
  c2->Stop();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, sqlite_path, pg_url, journal_dir;
  int64_t devices = 1000, total = 200000, live = 100000, conns = 4, batch = 5000;
  Flags flags("bench_ingest --mqtt URL --sqlite FILE [--pg URL] --journal DIR [options]", "See bench/ingest/run.");
  flags.String("--mqtt", &url, "broker");
  flags.String("--sqlite", &sqlite_path, "SQLite file (fresh)");
  flags.String("--pg", &pg_url, "PostgreSQL URL (fresh database); empty: skip");
  flags.String("--journal", &journal_dir, "journal directory base");
  flags.Int("--devices", &devices, "simulated devices");
  flags.Int("--messages", &total, "backlog results per sink");
  flags.Int("--live", &live, "results in the live (latency) phase");
  flags.Int("--publishers", &conns, "publisher connections");
  flags.Int("--batch", &batch, "collector batch size");
  flags.Int("--broker-pid", &g_broker_pid, "the broker's pid, to report its CPU time per message (Linux /proc)");
  if (Status s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n", flags.Help().c_str());
    return flags.help_requested() ? 0 : 2;
  }
  Phase bare_phase;
  double bare = BareDrain(url, static_cast<int>(devices), total, static_cast<int>(conns), &bare_phase);
  CollectorRun sq = CollectorDrain(url, sqlite_path, journal_dir + "/sqlite", static_cast<int>(devices), total,
                                   static_cast<int>(conns), live, static_cast<int>(batch));
  std::printf("{\"devices\":%lld,\"messages\":%lld,\"bare_per_s\":%.0f,\"bare\":{%s},"
              "\"sqlite\":{\"drain_per_s\":%.0f,\"live_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"stored\":%lld,\"duplicates\":%lld,%s}",
              static_cast<long long>(devices), static_cast<long long>(total), bare, bare_phase.Json("", total).c_str(),
              sq.drain_per_s, sq.live_per_s, sq.p50_ms, sq.p99_ms, static_cast<long long>(sq.stored),
              static_cast<long long>(sq.duplicates), sq.drain.Json("", total).c_str());
  if (!pg_url.empty()) {
    CollectorRun pg = CollectorDrain(url, pg_url, journal_dir + "/pg", static_cast<int>(devices), total,
                                     static_cast<int>(conns), live, static_cast<int>(batch));
    std::printf(",\"postgresql\":{\"drain_per_s\":%.0f,\"live_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"stored\":%lld,\"duplicates\":%lld,%s}",
                pg.drain_per_s, pg.live_per_s, pg.p50_ms, pg.p99_ms, static_cast<long long>(pg.stored),
                static_cast<long long>(pg.duplicates), pg.drain.Json("", total).c_str());
  }
  std::printf("}\n");
  return 0;
}
