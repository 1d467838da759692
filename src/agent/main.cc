// edgeloop-agent: the device service (src/agent/README.md). A thin main: flags, config, signals.
#include <malloc.h>
#include <signal.h>

#include <cstdio>

#include "agent/agent.h"
#include "agent/config.h"
#include "edgeloop/common/flags.h"

#ifndef EDGELOOP_VERSION
#define EDGELOOP_VERSION "0"
#endif

namespace {

edgeloop::agent::Agent* g_agent = nullptr;

void OnSignal(int) {
  if (g_agent != nullptr) g_agent->RequestStop();  // async-signal-safe: an atomic and an eventfd write
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgeloop;
  std::string config_path, metrics_listen;
  int64_t max_results = 0;
  Flags flags("edgeloop-agent --config agent.json [options]",
              "The edgeloop device service: reads sensor windows, classifies them with the installed model, "
              "publishes every result over MQTT (spooled on disk until the broker acknowledges it), raises "
              "alarms, and installs signed model updates from the registry. SIGTERM or SIGINT stop it "
              "cleanly. See src/agent/README.md for the configuration file.");
  flags.String("--config", &config_path, "the agent's JSON configuration file (required)", "-c");
  flags.Int("--max-results", &max_results, "stop after this many results (0: run until stopped)");
  flags.String("--metrics-listen", &metrics_listen, "serve Prometheus metrics at ADDR:PORT/metrics");
  Status st = flags.Parse(argc, argv);
  if (!st.ok()) {
    std::fprintf(stderr, "edgeloop-agent: error: %s\ntry --help\n", st.message().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "edgeloop-agent: error: --config is required\ntry --help\n");
    return 2;
  }
  if (max_results < 0) {
    std::fprintf(stderr, "edgeloop-agent: error: --max-results must be >= 0\n");
    return 2;
  }
  auto config = agent::LoadAgentConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "edgeloop-agent: error: %s\n", config.status().message().c_str());
    return 2;
  }
  agent::AgentOptions options;
  options.config = std::move(*config);
  options.max_results = max_results;
  options.metrics_listen = metrics_listen;
  options.agent_version = EDGELOOP_VERSION;
  options.loader = agent::DefaultModelLoader();

  // With glibc's default trim threshold (128 KiB) the loop gave the top of its heap back to the
  // kernel and took it again about twice per window (strace: ~20 brk calls a second at 10 Hz).
  ::mallopt(M_TRIM_THRESHOLD, 4 << 20);
  ::signal(SIGPIPE, SIG_IGN);
  auto a = agent::Agent::Create(std::move(options));
  if (!a.ok()) {
    std::fprintf(stderr, "edgeloop-agent: error: %s\n", a.status().message().c_str());
    return a.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  g_agent = a->get();
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  st = (*a)->Run();
  g_agent = nullptr;
  a->reset();
  if (!st.ok()) {
    std::fprintf(stderr, "edgeloop-agent: error: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
