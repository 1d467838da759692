// The agent's configuration file (`edgeloop-agent --config agent.json`): the structure, the
// defaults for omitted fields, and the validation. Every error names the key path
// ("mqtt.url: 'htp://x' must start with tcp://, mqtt://, ssl:// or mqtts://"); unknown keys are
// errors too, so a typo never silently falls back to a default.
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_AGENT_CONFIG_H_
#define EDGELOOP_AGENT_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::agent {

enum class SourceKind { kSynthetic, kCsv, kStdin, kFile };
const char* SourceKindName(SourceKind k);

// One step of the synthetic source's schedule: from `after_s` seconds after start, generate
// windows of `condition` (a class of the generator: normal, warning, failure), optionally with
// a slow drift of the signal level (`drift` per hour, added to every reading) to exercise the
// retraining loop.
struct ScheduleStep {
  double after_s = 0;
  std::string condition = "normal";
  double drift_per_hour = 0;
};

struct AgentConfig {
  std::string device_id;               // required
  std::string fleet = "default";
  std::string data_dir;                // default /var/lib/edgeloop/<device_id>

  struct Mqtt {
    std::string url = "tcp://127.0.0.1:1883";
    std::string username;
    std::string password;
    std::string ca_file;
    // Results are held (already in the spool) and sent together once the oldest has waited this
    // long, still one result per message: about half the agent's CPU at 10 Hz, for up to this
    // much delay. 0: each result goes as soon as it is stored. Alarms always go at once.
    int64_t coalesce_ms = 1000;
  } mqtt;

  struct Registry {
    std::string url = "http://127.0.0.1:8080";  // "" disables polling
    std::string token;
    std::string public_key;            // 64 hex chars; "" disables OTA (nothing could be trusted)
    std::string model = "vibration-classifier";
    std::string channel = "stable";
    int64_t poll_seconds = 30;         // 0 = only the MQTT push
  } registry;

  std::string model_file;              // first model, used until the registry offers one

  struct Source {
    SourceKind kind = SourceKind::kSynthetic;
    double rate_hz = 10;               // synthetic and csv: windows per second
    uint64_t seed = 1;
    std::string path;                  // csv and file
    std::vector<ScheduleStep> schedule;
  } source;

  struct Alarm {
    std::string label = "failure";
    double threshold = 0.8;
    int32_t n = 3;
    int32_t m = 5;
    std::string command;               // run by /bin/sh -c on raise and clear; "" = none
  } alarm;

  struct Upload {
    double low_confidence = 0.6;       // windows below this confidence carry their full window
    double random_share = 0.01;        // and this share of the others, chosen by a seeded RNG
  } upload;

  struct Spool {
    int64_t max_bytes = 100 << 20;
    double max_age_hours = 168;
  } spool;
};

// Parses and validates the JSON text. `origin` names the file in errors.
Result<AgentConfig> ParseAgentConfig(const std::string& json_text, const std::string& origin = "config");
// Reads `path` and parses it.
Result<AgentConfig> LoadAgentConfig(const std::string& path);

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_CONFIG_H_
