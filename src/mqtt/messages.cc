#include "edgeloop/mqtt/messages.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "mqtt/json_writer.h"
#include "mqtt/message_rules.h"

namespace edgeloop::mqtt {
namespace {

using json = nlohmann::ordered_json;  // keeps all_scores in the model's label order

constexpr char kPrefix[] = "edgeloop/";
constexpr size_t kMaxReasonLength = 1024;

// Rejects nesting deeper than kMaxNesting before the parser sees it, so hostile input costs
// neither stack nor much time. Brackets inside strings are skipped.
bool NestingWithinLimit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxNesting) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

Result<json> ParseObject(std::string_view text, const char* what) {
  EL_RETURN_IF_ERROR(CheckPayloadBounds(text, what));
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string(what) + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + ": not a JSON object");
  return j;
}

// Reads and checks the fields of one message object; every error names the message and field.
class Fields {
 public:
  Fields(const json& obj, const char* what) : obj_(obj), what_(what) {}

  Status Error(std::string_view field, std::string_view why) const {
    return Status::InvalidArgument(std::string(what_) + ": field '" + std::string(field) + "': " + std::string(why));
  }
  const json* Find(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  Status String(const char* key, std::string* out, size_t max_len, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_string()) return Error(key, "must be a string");
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > max_len) return Error(key, "longer than " + std::to_string(max_len) + " bytes");
    *out = s;
    return Status::Ok();
  }
  Status Name(const char* key, std::string* out, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_string()) return Error(key, "must be a string");
    const std::string& s = v->get_ref<const std::string&>();
    std::string problem = NameProblem(s);
    if (!problem.empty()) return Error(key, problem);
    *out = s;
    return Status::Ok();
  }
  Status Int(const char* key, int64_t* out, int64_t min, int64_t max, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    return IntValue(key, *v, out, min, max);
  }
  Status IntValue(std::string_view key, const json& v, int64_t* out, int64_t min, int64_t max) const {
    if (!v.is_number_integer()) return Error(key, "must be an integer");  // unsigned ones too
    const bool is_unsigned = v.is_number_unsigned();
    std::string problem = IntProblem(is_unsigned, is_unsigned ? v.get<uint64_t>() : 0,
                                     is_unsigned ? 0 : v.get<int64_t>(), min, max, out);
    if (!problem.empty()) return Error(key, problem);
    return Status::Ok();
  }
  Status Number(const char* key, double* out, double min, double max, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_number()) return Error(key, "must be a number");
    double x = v->get<double>();
    std::string problem = NumberRangeProblem(x, min, max);
    if (!problem.empty()) return Error(key, problem);
    *out = x;
    return Status::Ok();
  }
  Status Float(const char* key, float* out, double min, double max, bool required = true) const {
    double d = *out;
    EL_RETURN_IF_ERROR(Number(key, &d, min, max, required));
    *out = static_cast<float>(d);
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_boolean()) return Error(key, "must be true or false");
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status Readings(const char* key, std::vector<float>* out, size_t max_count, bool required) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_array()) return Error(key, "must be an array of numbers");
    if (v->size() > max_count) return Error(key, "more than " + std::to_string(max_count) + " readings");
    out->clear();
    out->reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      std::string where = std::string(key) + "[" + std::to_string(i) + "]";
      if (!e.is_number()) return Error(where, "must be a number");
      double d = e.get<double>();
      if (!FitsFloat(d)) return Error(where, "outside the float range");
      out->push_back(static_cast<float>(d));
    }
    return Status::Ok();
  }
  Status Model(const char* key, ModelRef* out, bool required) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Error(key, "missing") : Status::Ok();
    if (!v->is_object()) return Error(key, "must be an object with name and version");
    Fields sub(*v, what_);
    const json* name = sub.Find("name");
    if (name == nullptr || !name->is_string()) return Error(std::string(key) + ".name", "must be a string");
    const std::string& n = name->get_ref<const std::string&>();
    if (!n.empty()) {
      std::string problem = NameProblem(n);
      if (!problem.empty()) return Error(std::string(key) + ".name", problem);
    }
    out->name = n;
    const json* ver = sub.Find("version");
    if (ver == nullptr) return Error(std::string(key) + ".version", "missing");
    return IntValue(std::string(key) + ".version", *ver, &out->version, 0, INT64_MAX);
  }

 private:
  const json& obj_;
  const char* what_;
};

void WriteModel(JsonWriter& w, const ModelRef& m) {
  w.Key("model").BeginObject().Key("name").String(m.name).Key("version").Int(m.version).EndObject();
}

}  // namespace

// ---- Rules shared by the parsers (message_rules.h) ----------------------------------------------

std::string NameProblem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  std::string shown = "'" + std::string(name.substr(0, 64)) + "' ";
  if (name.size() > kMaxNameLength) return shown + "is longer than " + std::to_string(kMaxNameLength) + " characters";
  if (name[0] == '.') return shown + "must not start with '.'";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return shown + "may contain only letters, digits, '.', '_' and '-'";
  }
  return "";
}

Status CheckPayloadBounds(std::string_view text, const char* what) {
  if (text.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument(std::string(what) + ": payload of " + std::to_string(text.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxPayloadBytes));
  }
  if (!NestingWithinLimit(text)) {
    return Status::InvalidArgument(std::string(what) + ": JSON nested deeper than " + std::to_string(kMaxNesting));
  }
  return Status::Ok();
}

std::string ShortNumber(double d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string IntProblem(bool is_unsigned, uint64_t u, int64_t i, int64_t min, int64_t max, int64_t* out) {
  if (is_unsigned && u > static_cast<uint64_t>(INT64_MAX)) return "out of range";
  const int64_t x = is_unsigned ? static_cast<int64_t>(u) : i;
  if (x < min || x > max) {
    return "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + std::to_string(x);
  }
  *out = x;
  return "";
}

std::string NumberRangeProblem(double x, double min, double max) {
  if (std::isfinite(x) && x >= min && x <= max) return "";
  return "must be a number in [" + ShortNumber(min) + ", " + ShortNumber(max) + "]";
}

bool FitsFloat(double d) {
  // Doubles below FLT_MAX + half an ulp round to a finite float (the shortest text form of
  // FLT_MAX, 3.4028235e+38, is slightly above FLT_MAX as a double).
  return std::isfinite(d) && std::fabs(d) < static_cast<double>(FLT_MAX) + std::ldexp(1.0, 103);
}

// ---- Topics ------------------------------------------------------------------------------------

const char* DeviceTopicKindName(DeviceTopicKind kind) {
  switch (kind) {
    case DeviceTopicKind::kResults:
      return "results";
    case DeviceTopicKind::kAlarms:
      return "alarms";
    case DeviceTopicKind::kStatus:
      return "status";
  }
  return "results";
}

Status ValidateName(std::string_view what, std::string_view name) {
  std::string problem = NameProblem(name);
  if (problem.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + ": " + problem);
}

std::string DeviceTopic(std::string_view fleet, std::string_view device, DeviceTopicKind kind) {
  std::string t = kPrefix;
  t.append(fleet).append("/devices/").append(device).append("/").append(DeviceTopicKindName(kind));
  return t;
}
std::string ResultsTopic(std::string_view fleet, std::string_view device) {
  return DeviceTopic(fleet, device, DeviceTopicKind::kResults);
}
std::string AlarmsTopic(std::string_view fleet, std::string_view device) {
  return DeviceTopic(fleet, device, DeviceTopicKind::kAlarms);
}
std::string StatusTopic(std::string_view fleet, std::string_view device) {
  return DeviceTopic(fleet, device, DeviceTopicKind::kStatus);
}
std::string ModelTopic(std::string_view fleet, std::string_view model, std::string_view channel) {
  std::string t = kPrefix;
  t.append(fleet).append("/models/").append(model).append("/").append(channel);
  return t;
}
std::string SharedSubscription(std::string_view group, std::string_view filter) {
  std::string t = "$share/";
  t.append(group).append("/").append(filter);
  return t;
}

Result<ParsedDeviceTopic> ParseDeviceTopic(std::string_view topic) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("topic '" + std::string(topic.substr(0, 256)) + "': " + why);
  };
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 6) {
    size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(topic.substr(start));
      break;
    }
    parts.push_back(topic.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[0] != "edgeloop" || parts[2] != "devices") {
    return bad("not edgeloop/{fleet}/devices/{device}/{results|alarms|status}");
  }
  ParsedDeviceTopic out;
  if (!NameProblem(parts[1]).empty()) return bad("invalid fleet");
  if (!NameProblem(parts[3]).empty()) return bad("invalid device");
  out.fleet = parts[1];
  out.device = parts[3];
  if (parts[4] == "results") {
    out.kind = DeviceTopicKind::kResults;
  } else if (parts[4] == "alarms") {
    out.kind = DeviceTopicKind::kAlarms;
  } else if (parts[4] == "status") {
    out.kind = DeviceTopicKind::kStatus;
  } else {
    return bad("last level must be results, alarms or status");
  }
  return out;
}

// ---- Results -----------------------------------------------------------------------------------

const char* UploadReasonName(UploadReason r) {
  switch (r) {
    case UploadReason::kNone:
      return "";
    case UploadReason::kLowConfidence:
      return "low_confidence";
    case UploadReason::kAlarm:
      return "alarm";
    case UploadReason::kRandom:
      return "random";
  }
  return "";
}

std::string ResultToJson(const ResultMessage& m) {
  JsonWriter w(384 + 12 * m.window.size());
  w.BeginObject();
  w.Key("device_id").String(m.device_id);
  w.Key("seq").Int(m.seq);
  w.Key("timestamp").Int(m.timestamp_ms);
  w.Key("prediction").String(m.prediction);
  w.Key("confidence").Float(m.confidence);
  w.Key("all_scores").BeginObject();
  for (const auto& [label, score] : m.all_scores) w.Key(label).Float(score);
  w.EndObject();
  w.Key("inference_ms").Double(std::round(m.inference_ms * 1000.0) / 1000.0);
  WriteModel(w, m.model);
  w.Key("raw_data").FloatArray(m.raw_data);
  if (!m.window.empty()) {
    w.Key("window").FloatArray(m.window);
    w.Key("window_reason").String(UploadReasonName(m.window_reason));
  }
  w.EndObject();
  return w.Take();
}

// The reference reading of a result (message_rules.h): the rules as a DOM walk, slower than the
// SAX reader in result_reader.cc, which must agree with it on every input.
Result<ResultMessage> ResultFromJsonDom(std::string_view text) {
  EL_ASSIGN_OR_RETURN(json j, ParseObject(text, "result"));
  Fields f(j, "result");
  ResultMessage m;
  EL_RETURN_IF_ERROR(f.Name("device_id", &m.device_id));
  EL_RETURN_IF_ERROR(f.Int("seq", &m.seq, 1, INT64_MAX));
  EL_RETURN_IF_ERROR(f.Int("timestamp", &m.timestamp_ms, 0, INT64_MAX));
  EL_RETURN_IF_ERROR(f.Name("prediction", &m.prediction));
  EL_RETURN_IF_ERROR(f.Float("confidence", &m.confidence, 0.0, 1.0));
  const json* scores = f.Find("all_scores");
  if (scores == nullptr) return f.Error("all_scores", "missing");
  if (!scores->is_object() || scores->empty()) return f.Error("all_scores", "must be a non-empty object label -> score");
  if (scores->size() > kMaxLabels) return f.Error("all_scores", "more than " + std::to_string(kMaxLabels) + " labels");
  bool prediction_found = false;
  for (auto it = scores->begin(); it != scores->end(); ++it) {
    std::string where = "all_scores." + it.key().substr(0, 64);
    std::string problem = NameProblem(it.key());
    if (!problem.empty()) return f.Error(where, "label " + problem);
    if (!it.value().is_number()) return f.Error(where, "must be a number");
    double s = it.value().get<double>();
    problem = NumberRangeProblem(s, 0.0, 1.0);
    if (!problem.empty()) return f.Error(where, problem);
    m.all_scores.emplace_back(it.key(), static_cast<float>(s));
    if (it.key() == m.prediction) prediction_found = true;
  }
  if (!prediction_found) return f.Error("prediction", "'" + m.prediction + "' is not a key of all_scores");
  double inference_ms = 0;
  EL_RETURN_IF_ERROR(f.Number("inference_ms", &inference_ms, 0.0, 3.6e6));
  m.inference_ms = inference_ms;
  EL_RETURN_IF_ERROR(f.Model("model", &m.model, true));
  EL_RETURN_IF_ERROR(f.Readings("raw_data", &m.raw_data, kRawDataReadings, true));
  EL_RETURN_IF_ERROR(f.Readings("window", &m.window, kMaxWindowReadings, false));
  std::string reason;
  EL_RETURN_IF_ERROR(f.String("window_reason", &reason, 32, false));
  if (!m.window.empty()) {
    if (reason == "low_confidence") {
      m.window_reason = UploadReason::kLowConfidence;
    } else if (reason == "alarm") {
      m.window_reason = UploadReason::kAlarm;
    } else if (reason == "random") {
      m.window_reason = UploadReason::kRandom;
    } else {
      return f.Error("window_reason", "must be low_confidence, alarm or random when a window is present");
    }
  }
  return m;
}

// ---- Alarms ------------------------------------------------------------------------------------

const char* AlarmEventName(AlarmEvent e) { return e == AlarmEvent::kRaised ? "raised" : "cleared"; }

std::string AlarmToJson(const AlarmMessage& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("device_id").String(m.device_id);
  w.Key("seq").Int(m.seq);
  w.Key("timestamp").Int(m.timestamp_ms);
  w.Key("event").String(AlarmEventName(m.event));
  w.Key("label").String(m.label);
  w.Key("score").Float(m.score);
  w.Key("threshold").Float(m.threshold);
  w.Key("count").Int(m.count);
  w.Key("n").Int(m.n);
  w.Key("m").Int(m.m);
  w.Key("result_seq").Int(m.result_seq);
  WriteModel(w, m.model);
  w.EndObject();
  return w.Take();
}

Result<AlarmMessage> AlarmFromJson(std::string_view text) {
  EL_ASSIGN_OR_RETURN(json j, ParseObject(text, "alarm"));
  Fields f(j, "alarm");
  AlarmMessage m;
  EL_RETURN_IF_ERROR(f.Name("device_id", &m.device_id));
  EL_RETURN_IF_ERROR(f.Int("seq", &m.seq, 1, INT64_MAX));
  EL_RETURN_IF_ERROR(f.Int("timestamp", &m.timestamp_ms, 0, INT64_MAX));
  std::string event;
  EL_RETURN_IF_ERROR(f.String("event", &event, 16));
  if (event == "raised") {
    m.event = AlarmEvent::kRaised;
  } else if (event == "cleared") {
    m.event = AlarmEvent::kCleared;
  } else {
    return f.Error("event", "must be raised or cleared");
  }
  EL_RETURN_IF_ERROR(f.Name("label", &m.label));
  EL_RETURN_IF_ERROR(f.Float("score", &m.score, 0.0, 1.0));
  EL_RETURN_IF_ERROR(f.Float("threshold", &m.threshold, 0.0, 1.0));
  int64_t n = 0, mm = 0, count = 0;
  EL_RETURN_IF_ERROR(f.Int("m", &mm, 1, 100000));
  EL_RETURN_IF_ERROR(f.Int("n", &n, 1, mm));
  EL_RETURN_IF_ERROR(f.Int("count", &count, 0, mm));
  m.n = static_cast<int32_t>(n);
  m.m = static_cast<int32_t>(mm);
  m.count = static_cast<int32_t>(count);
  EL_RETURN_IF_ERROR(f.Int("result_seq", &m.result_seq, 0, INT64_MAX));
  EL_RETURN_IF_ERROR(f.Model("model", &m.model, true));
  return m;
}

// ---- Status ------------------------------------------------------------------------------------

std::string StatusToJson(const StatusMessage& m) {
  JsonWriter w(512);
  w.BeginObject();
  w.Key("device_id").String(m.device_id);
  w.Key("state").String(m.state);
  if (m.timestamp_ms > 0) w.Key("timestamp").Int(m.timestamp_ms);
  if (!m.counters_present) return w.EndObject().Take();
  if (!m.agent_version.empty()) w.Key("agent_version").String(m.agent_version);
  WriteModel(w, m.model);
  w.Key("ota").BeginObject().Key("state").String(m.ota.state).Key("version").Int(m.ota.version);
  w.Key("reason").String(m.ota.reason.substr(0, kMaxReasonLength)).EndObject();
  w.Key("alarm_active").Bool(m.alarm_active);
  w.Key("uptime_s").Int(m.uptime_s);
  w.Key("results").Int(m.results);
  w.Key("sent").Int(m.sent);
  w.Key("dropped").Int(m.dropped);
  w.Key("spool_depth").Int(m.spool_depth);
  w.Key("spool_bytes").Int(m.spool_bytes);
  w.Key("spool_errors").Int(m.spool_errors);
  w.Key("overruns").Int(m.overruns);
  w.Key("bad_inputs").Int(m.bad_inputs);
  w.Key("alarm_command_failures").Int(m.alarm_command_failures);
  w.Key("inference_ms_p50").Double(m.inference_ms_p50);
  w.Key("inference_ms_p99").Double(m.inference_ms_p99);
  w.EndObject();
  return w.Take();
}

Result<StatusMessage> StatusFromJson(std::string_view text) {
  EL_ASSIGN_OR_RETURN(json j, ParseObject(text, "status"));
  Fields f(j, "status");
  StatusMessage m;
  EL_RETURN_IF_ERROR(f.Name("device_id", &m.device_id));
  EL_RETURN_IF_ERROR(f.String("state", &m.state, 16));
  if (m.state != "online" && m.state != "offline") return f.Error("state", "must be online or offline");
  EL_RETURN_IF_ERROR(f.Int("timestamp", &m.timestamp_ms, 0, INT64_MAX, false));
  // A will carries only device_id and state; any health field means a full status message.
  m.counters_present = false;
  for (const char* k : {"agent_version", "model", "ota", "alarm_active", "uptime_s", "results", "sent", "dropped",
                        "spool_depth", "spool_bytes", "spool_errors", "overruns", "bad_inputs",
                        "alarm_command_failures", "inference_ms_p50", "inference_ms_p99"}) {
    if (f.Find(k) != nullptr) m.counters_present = true;
  }
  EL_RETURN_IF_ERROR(f.String("agent_version", &m.agent_version, 64, false));
  EL_RETURN_IF_ERROR(f.Model("model", &m.model, false));
  if (const json* ota = f.Find("ota")) {
    if (!ota->is_object()) return f.Error("ota", "must be an object");
    Fields o(*ota, "status ota");
    EL_RETURN_IF_ERROR(o.String("state", &m.ota.state, 32));
    EL_RETURN_IF_ERROR(o.Int("version", &m.ota.version, 0, INT64_MAX));
    EL_RETURN_IF_ERROR(o.String("reason", &m.ota.reason, kMaxReasonLength, false));
  }
  EL_RETURN_IF_ERROR(f.Bool("alarm_active", &m.alarm_active, false));
  struct Counter {
    const char* key;
    int64_t* field;
  };
  const Counter counters[] = {{"uptime_s", &m.uptime_s},       {"results", &m.results},
                              {"sent", &m.sent},               {"dropped", &m.dropped},
                              {"spool_depth", &m.spool_depth}, {"spool_bytes", &m.spool_bytes},
                              {"spool_errors", &m.spool_errors}, {"overruns", &m.overruns},
                              {"bad_inputs", &m.bad_inputs},   {"alarm_command_failures", &m.alarm_command_failures}};
  for (const Counter& c : counters) EL_RETURN_IF_ERROR(f.Int(c.key, c.field, 0, INT64_MAX, false));
  EL_RETURN_IF_ERROR(f.Number("inference_ms_p50", &m.inference_ms_p50, 0.0, 3.6e6, false));
  EL_RETURN_IF_ERROR(f.Number("inference_ms_p99", &m.inference_ms_p99, 0.0, 3.6e6, false));
  return m;
}

}  // namespace edgeloop::mqtt
