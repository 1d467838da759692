// The registry's data as the HTTP API carries it (DESIGN.md "Registry HTTP API"): models,
// versions, channels, device assignments, audit entries, and the name rules every layer applies.
// Shared by the server (which writes these as JSON) and the client library (which reads them), so
// both sides agree on one shape; the JSON codecs live in api_json.h.
// Thread-safety: value types and pure functions.
#ifndef EDGELOOP_REGISTRY_API_TYPES_H_
#define EDGELOOP_REGISTRY_API_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::registry {

// Model names: [a-z0-9][a-z0-9._-]{0,63}. They appear in URLs, file names of downloads and MQTT
// topics, so nothing else is allowed (no '/', no "..", no upper case that collides on some file
// systems). Errors name the value and the rule.
Status ValidateModelName(std::string_view name);
// Device ids: [A-Za-z0-9][A-Za-z0-9._-]{0,63} (upper case allowed: serial numbers use it).
Status ValidateDeviceId(std::string_view id);
// Channels: "stable" or "canary".
Status ValidateChannel(std::string_view channel);
// Version numbers in URLs: a decimal integer in [1, 2^53). Errors name the text.
Result<int64_t> ParseVersionNumber(std::string_view text);

inline constexpr const char* kStable = "stable";
inline constexpr const char* kCanary = "canary";

// Who made a change, as recorded in versions, channel history and the audit log.
struct Actor {
  std::string name;  // token name ("ci-publisher"), or "local" for commands run on the server host
  std::string role;  // "admin", "device" or "local"
};

struct VersionInfo {
  std::string model;
  int64_t version = 0;
  std::string sha256;
  int64_t size = 0;
  std::string created;
  std::string expires;
  std::string metrics_json = "{}";  // canonical JSON object
  std::string published_by;
};

struct ChannelPointer {
  std::string channel;
  int64_t version = 0;
  double share = 1.0;
};

struct ModelInfo {
  std::string name;
  std::string created;
  int64_t latest_version = 0;  // 0: none yet
  int64_t version_count = 0;
  std::vector<ChannelPointer> channels;  // the channels that are set
};

// One move of a channel, newest first in ChannelState::history.
struct ChannelEvent {
  int64_t id = 0;
  int64_t version = 0;
  double share = 1.0;
  std::string action;  // "promote" or "rollback" (a rollback event names the version it restored)
  std::string at;
  std::string by;
  bool rolled_back = false;  // this promotion was later undone by a rollback
};

struct ChannelState {
  std::string model;
  std::string channel;
  int64_t version = 0;  // 0: the channel is not set
  double share = 1.0;   // canary: share of devices in [0, 1]; stable: 1
  std::string updated;
  std::string updated_by;
  std::vector<ChannelEvent> history;
};

struct Assignment {
  std::string model;
  std::string device;
  std::string channel;   // the channel the device follows
  int64_t version = 0;
  double share = 1.0;    // the canary share the decision used
  int64_t bucket = 0;    // the device's stable bucket in [0, 10000)
  std::string manifest_json;  // the signed manifest, byte for byte as stored
};

struct AuditEntry {
  int64_t id = 0;
  std::string at;
  std::string actor;
  std::string role;
  std::string action;  // "publish", "promote", "rollback", "token.create", "token.revoke"
  std::string model;   // "" when not about a model
  std::string details_json = "{}";
};

// The device's canary bucket: the first 8 bytes of sha256(model + "/" + device_id) as a big-endian
// integer, mod 10000. Stable across servers and restarts; independent per model.
int64_t CanaryBucket(const std::string& model, const std::string& device_id);
// True when a device in `bucket` belongs to a canary of `share` (bucket < round(share * 10000)).
bool InCanary(int64_t bucket, double share);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_API_TYPES_H_
