// `edgeloop demo`: the whole cloud-to-edge loop on one machine with embedded defaults. It runs the
// real programs: Mosquitto (installed), `edgeloop serve` (registry + dashboard, SQLite), the
// collector when this build has it, `edgeloop data generate / train / quantize / edgetpu check /
// publish / promote` as subprocesses of this very binary, and the fleet simulator in process.
//
// Stages: broker and server -> waveform data -> train, quantize, Edge TPU check, publish v1 to
// stable -> devices fetch v1 and stream -> drift (a fault mode the training data lacked: bearing
// wear) -> accuracy drops -> simulated operators label the windows devices uploaded and the alarms
// (POST /v1/labels) -> `edgeloop retrain` (the real loop: original data plus the store's labelled
// field windows, golden-set gate against v1) publishes v2 to canary -> `edgeloop retrain
// canary-check` promotes it after the canary period -> devices update -> summary with decisions.
// Thread-safety: one call at a time.
#ifndef EDGELOOP_DEMO_DEMO_H_
#define EDGELOOP_DEMO_DEMO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::demo {

struct DemoOptions {
  std::string binary;          // this edgeloop executable (for subcommands)
  std::string dir;             // working directory; "" = a new /tmp/edgeloop-demo.XXXXXX
  int devices = 50;
  double rate_hz = 10;
  double phase_seconds = 15;   // how long each phase streams (v1, drifted, v2)
  int train_samples = 3000;
  int epochs = 20;
  int labelled_windows = 1500; // operator labels kept for retraining
  double canary_share = 0.2;
  int listen_port = 0;         // the server's port (0 = a free one)
  bool keep_running = false;   // after the summary, serve until Ctrl-C
  std::string summary_path;
};

struct DemoSummary {
  int64_t results_sent = 0;
  int64_t results_stored = -1;  // -1: no store in this build
  int64_t lost = 0;             // sent but neither received by the watcher nor (with a store) stored
  int64_t duplicates = 0;
  double accuracy_v1 = 0;
  double accuracy_drifted = 0;
  double accuracy_v2 = 0;
  double rollout_seconds = 0;
  int64_t labels_stored = 0;    // operator labels and alarm verdicts the store accepted
  std::vector<std::string> decisions;  // the retraining loop's, oldest first: "decision vN: reason"
  std::string dashboard_url;
  std::string dir;
};

std::string SummaryToJson(const DemoSummary& s);

// Runs the demo, printing progress to stderr. Errors name the stage and quote the failing
// command's stderr. Everything started is stopped before it returns.
Result<DemoSummary> RunDemo(const DemoOptions& options);

}  // namespace edgeloop::demo

#endif  // EDGELOOP_DEMO_DEMO_H_
