// The MQTT topics and message formats edgeloop devices and the cloud side agree on (DESIGN.md
// "MQTT"). One header for the agent (which writes them), the collector and the fleet simulator
// (which read or write them), so a field is named in exactly one place.
//
// Topics:
//   edgeloop/{fleet}/devices/{device}/results   one ResultMessage per window (QoS 1)
//   edgeloop/{fleet}/devices/{device}/alarms    AlarmMessage: raised / cleared (QoS 1)
//   edgeloop/{fleet}/devices/{device}/status    StatusMessage, retained; also the last will
//   edgeloop/{fleet}/models/{model}/{channel}   the signed manifest (registry/manifest.h), retained
//
// Payloads are JSON objects. ...ToJson writes compact JSON with the shortest round-trip form of
// each number. ...FromJson parses untrusted bytes (the collector takes them off the network): it
// never aborts, bounds every size (kMaxPayloadBytes, kMaxWindowReadings, kMaxLabels, string
// lengths), and its errors name the message and the field: "result: field 'confidence': must be
// a number in [0, 1]". Fields a reader does not know are ignored, so a newer agent can add fields
// without breaking an older collector; the fields listed here are checked.
//
// Thread-safety: value types and free functions.
#ifndef EDGELOOP_MQTT_MESSAGES_H_
#define EDGELOOP_MQTT_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::mqtt {

// Bounds enforced by every FromJson (and by ValidateName).
inline constexpr size_t kMaxPayloadBytes = 4 << 20;
inline constexpr size_t kMaxWindowReadings = 1 << 16;
inline constexpr size_t kMaxLabels = 256;
inline constexpr size_t kMaxNameLength = 128;    // device ids, fleets, model names, labels
inline constexpr size_t kRawDataReadings = 10;   // readings in ResultMessage::raw_data (as the tutorial)

// ---- Topics ----------------------------------------------------------------------------------

enum class DeviceTopicKind { kResults, kAlarms, kStatus };
const char* DeviceTopicKindName(DeviceTopicKind kind);  // "results", "alarms", "status"

// OK when `name` can be one topic level and a file/URL component: 1..kMaxNameLength characters
// from [A-Za-z0-9._-], not starting with '.'. `what` names it in the error ("device_id").
Status ValidateName(std::string_view what, std::string_view name);

// Topic builders. Arguments are not validated here (callers validate configuration once with
// ValidateName); "+" may be passed as fleet or device to build a subscription filter.
std::string DeviceTopic(std::string_view fleet, std::string_view device, DeviceTopicKind kind);
std::string ResultsTopic(std::string_view fleet, std::string_view device);
std::string AlarmsTopic(std::string_view fleet, std::string_view device);
std::string StatusTopic(std::string_view fleet, std::string_view device);
std::string ModelTopic(std::string_view fleet, std::string_view model, std::string_view channel);
// "$share/{group}/{filter}": an MQTT 5 shared subscription, so several collectors split the load.
std::string SharedSubscription(std::string_view group, std::string_view filter);

struct ParsedDeviceTopic {
  std::string fleet;
  std::string device;
  DeviceTopicKind kind = DeviceTopicKind::kResults;
};
// Splits "edgeloop/{fleet}/devices/{device}/{results|alarms|status}". Errors: InvalidArgument.
Result<ParsedDeviceTopic> ParseDeviceTopic(std::string_view topic);

// ---- Messages --------------------------------------------------------------------------------

struct ModelRef {
  std::string name;     // "" when no model is loaded (status only)
  int64_t version = 0;  // registry version; 0 = a local model file not from the registry
};

// Why a result carries its full window (for retraining).
enum class UploadReason { kNone, kLowConfidence, kAlarm, kRandom };
const char* UploadReasonName(UploadReason r);  // "", "low_confidence", "alarm", "random"

// One inference result: a superset of the reference tutorial's message.
struct ResultMessage {
  std::string device_id;
  int64_t seq = 0;            // per device, >= 1, strictly increasing, survives restarts
  int64_t timestamp_ms = 0;   // Unix ms when the window was complete
  std::string prediction;     // a key of all_scores
  float confidence = 0;       // all_scores[prediction], in [0, 1]
  std::vector<std::pair<std::string, float>> all_scores;  // label -> score, in the model's order
  double inference_ms = 0;    // time spent in the model
  ModelRef model;
  std::vector<float> raw_data;  // the first kRawDataReadings readings (fewer if the window is shorter)
  // The whole window when chosen for retraining (`window_reason` says why); empty otherwise.
  std::vector<float> window;
  UploadReason window_reason = UploadReason::kNone;
};
std::string ResultToJson(const ResultMessage& m);
Result<ResultMessage> ResultFromJson(std::string_view json);

enum class AlarmEvent { kRaised, kCleared };
const char* AlarmEventName(AlarmEvent e);  // "raised", "cleared"

// An alarm state change, from the agent's n-of-m debounce (see src/agent/README.md).
struct AlarmMessage {
  std::string device_id;
  int64_t seq = 0;           // per device alarm sequence, >= 1, separate from result seqs
  int64_t timestamp_ms = 0;
  AlarmEvent event = AlarmEvent::kRaised;
  std::string label;         // the watched class, e.g. "failure"
  float score = 0;           // that class's score in the window that changed the state
  float threshold = 0;
  int32_t count = 0;         // windows over the threshold among the last `m`
  int32_t n = 0;
  int32_t m = 0;
  int64_t result_seq = 0;    // the result (same device) that changed the state
  ModelRef model;
};
std::string AlarmToJson(const AlarmMessage& m);
Result<AlarmMessage> AlarmFromJson(std::string_view json);

// The last OTA outcome as the status message reports it.
struct OtaStatus {
  std::string state;    // "idle", "downloading", "installed", "refused", "failed"
  int64_t version = 0;  // the version the state is about (0 = none)
  std::string reason;   // why refused/failed; "" otherwise
};

// The device's health, retained on the status topic. The last will is a StatusMessage with only
// device_id and state "offline" set (ToJson leaves the counters out when `counters_present` is
// false), so a reader sees one format whether the device said goodbye or the broker did for it.
struct StatusMessage {
  std::string device_id;
  std::string state = "online";  // "online" | "offline"
  int64_t timestamp_ms = 0;      // 0 = not set (the will)
  std::string agent_version;
  ModelRef model;
  OtaStatus ota;
  bool alarm_active = false;
  bool counters_present = true;
  int64_t uptime_s = 0;
  int64_t results = 0;        // results produced since start
  int64_t sent = 0;           // messages acknowledged by the broker (PUBACK) since start
  int64_t dropped = 0;        // messages dropped by the spool bound (drop-oldest), lifetime
  int64_t spool_depth = 0;    // messages stored and not yet acknowledged
  int64_t spool_bytes = 0;
  int64_t spool_errors = 0;   // messages that could not be stored (lost, counted), since start
  int64_t overruns = 0;       // sensor ticks missed because the loop was late, since start
  int64_t bad_inputs = 0;     // source lines rejected, since start
  int64_t alarm_command_failures = 0;
  double inference_ms_p50 = 0;
  double inference_ms_p99 = 0;
};
std::string StatusToJson(const StatusMessage& m);
Result<StatusMessage> StatusFromJson(std::string_view json);

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_MQTT_MESSAGES_H_
