// `edgeloop demo` (= `make demo`): the whole loop on one machine (src/demo).
#include <unistd.h>

#include <cstdio>

#include "demo/demo.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Demo(int argc, char** argv) {
  demo::DemoOptions o;
  int64_t devices = o.devices, samples = o.train_samples, epochs = o.epochs, port = 0;
  Flags flags("edgeloop demo [--devices N] [--phase-seconds S] [--summary summary.json] [--keep-running]",
              "Runs the cloud-to-edge loop on this machine: Mosquitto on a free loopback port, the server\n"
              "(registry + dashboard), the collector, N simulated devices; trains, quantizes, checks and\n"
              "publishes v1; the machines drift (bearing wear, unseen in training) and accuracy drops;\n"
              "simulated operators label the uploaded windows and alarms; `edgeloop retrain` trains v2 on the\n"
              "original data plus those labels and publishes it to canary only if it beats v1 on a golden set;\n"
              "`edgeloop retrain canary-check` promotes it to stable after the canary period; the devices\n"
              "update. Prints a summary (with the retraining decisions) and the dashboard address.");
  flags.Int("--devices", &devices, "simulated devices");
  flags.Double("--rate", &o.rate_hz, "windows per second per device");
  flags.Double("--phase-seconds", &o.phase_seconds, "seconds each phase streams (v1, drifted, v2)");
  flags.Int("--samples", &samples, "training windows");
  flags.Int("--epochs", &epochs, "training epochs");
  flags.String("--dir", &o.dir, "working directory (default: a new /tmp/edgeloop-demo.XXXXXX)");
  flags.Int("--port", &port, "the server's port (default: a free one)");
  flags.String("--summary", &o.summary_path, "write the summary JSON here");
  flags.Bool("--keep-running", &o.keep_running, "keep the server and broker up after the summary (Ctrl-C stops)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (devices < 1 || devices > 100000) return UsageError(argv[0], Status::InvalidArgument("--devices must be in [1, 100000]"));
  o.devices = static_cast<int>(devices);
  o.train_samples = static_cast<int>(samples);
  o.epochs = static_cast<int>(epochs);
  o.listen_port = static_cast<int>(port);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return Fail(argv[0], Status::IOError("cannot find this executable (/proc/self/exe)"));
  o.binary.assign(exe, static_cast<size_t>(n));
  auto s = demo::RunDemo(o);
  if (!s.ok()) return Fail(argv[0], s.status());
  std::printf("%s\n", demo::SummaryToJson(*s).c_str());
  return s->lost == 0 ? 0 : 1;
}

}  // namespace

EL_COMMAND("demo", "the whole loop on this machine: broker, server, fleet, train, drift, retrain, rollout", Demo);

}  // namespace edgeloop::tools
