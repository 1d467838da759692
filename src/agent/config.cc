#include "agent/config.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "edgeloop/common/env.h"
#include "edgeloop/mqtt/messages.h"

namespace edgeloop::agent {
namespace {

using nlohmann::json;

// Reads the keys of one JSON object by path ("mqtt.url"), remembering which it consumed so that
// Finish() can reject the rest as unknown.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path, const std::string& origin)
      : obj_(obj), path_(std::move(path)), origin_(origin) {}

  std::string Path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  Status Error(const std::string& key, const std::string& why) const {
    return Status::InvalidArgument(origin_ + ": " + Path(key) + ": " + why);
  }
  const json* Take(const std::string& key) {
    seen_.insert(key);
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  bool Has(const std::string& key) const { return obj_.contains(key); }

  Status String(const std::string& key, std::string* out) {
    const json* v = Take(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return Error(key, "must be a string, got " + TypeName(*v));
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Int(const std::string& key, int64_t* out, int64_t min, int64_t max) {
    const json* v = Take(key);
    if (v == nullptr) return Status::Ok();
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (std::floor(d) != d) return Error(key, "must be a whole number, got " + v->dump());
      if (d < static_cast<double>(min) || d > static_cast<double>(max)) return Range(key, min, max, v->dump());
      *out = static_cast<int64_t>(d);
      return Status::Ok();
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Range(key, min, max, v->dump());
    }
    if (!v->is_number_integer()) return Error(key, "must be a number, got " + TypeName(*v));
    int64_t x = v->get<int64_t>();
    if (x < min || x > max) return Range(key, min, max, v->dump());
    *out = x;
    return Status::Ok();
  }
  Status Number(const std::string& key, double* out, double min, double max, bool min_exclusive = false) {
    const json* v = Take(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_number()) return Error(key, "must be a number, got " + TypeName(*v));
    double x = v->get<double>();
    if (!std::isfinite(x) || x < min || x > max || (min_exclusive && x == min)) {
      return Error(key, "must be in " + std::string(min_exclusive ? "(" : "[") + Short(min) + ", " + Short(max) +
                            "], got " + v->dump());
    }
    *out = x;
    return Status::Ok();
  }
  Status Object(const std::string& key, const std::function<Status(ObjectReader&)>& read) {
    const json* v = Take(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_object()) return Error(key, "must be an object, got " + TypeName(*v));
    ObjectReader sub(*v, Path(key), origin_);
    EL_RETURN_IF_ERROR(read(sub));
    return sub.Finish();
  }
  // Rejects keys nobody asked for.
  Status Finish() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!seen_.count(it.key())) return Status::InvalidArgument(origin_ + ": " + Path(it.key()) + ": unknown key");
    }
    return Status::Ok();
  }
  const std::string& origin() const { return origin_; }

  static std::string TypeName(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "a list";
    return "an object";
  }

 private:
  Status Range(const std::string& key, int64_t min, int64_t max, const std::string& got) const {
    return Error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + got);
  }
  static std::string Short(double d) {
    std::string s = std::to_string(d);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const json& obj_;
  std::string path_;
  const std::string& origin_;
  std::set<std::string> seen_;
};

bool StartsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// "scheme://host[:port][/path]" with one of `schemes`; the path only when `allow_path`.
Status CheckUrl(ObjectReader& r, const std::string& key, const std::string& url,
                const std::vector<std::string>& schemes, bool allow_path) {
  std::string scheme_list;
  for (const auto& s : schemes) scheme_list += (scheme_list.empty() ? "" : ", ") + s + "://";
  size_t sep = url.find("://");
  std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  if (sep == std::string::npos || std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
    return r.Error(key, "'" + url + "' must start with " + scheme_list);
  }
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && !allow_path && slash + 1 != rest.size()) {
    return r.Error(key, "'" + url + "' must not have a path");
  }
  std::string host = hostport, port;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {  // [IPv6]:port
    size_t close = hostport.find(']');
    if (close == std::string::npos) return r.Error(key, "'" + url + "' has an unterminated [IPv6] address");
    host = hostport.substr(0, close + 1);
    std::string after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return r.Error(key, "'" + url + "' is malformed after the address");
      port = after.substr(1);
      has_port = true;
    }
  } else if (size_t colon = hostport.find(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    has_port = true;
  }
  if (has_port && (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
                   std::stoi(port) < 1 || std::stoi(port) > 65535)) {
    return r.Error(key, "'" + url + "' has an invalid port '" + port + "'");
  }
  if (host.empty()) return r.Error(key, "'" + url + "' has no host");
  for (char c : host) {
    if (c <= ' ' || c == '@' || c == '?' || c == '#') return r.Error(key, "'" + url + "' has an invalid host");
  }
  return Status::Ok();
}

Status CheckName(ObjectReader& r, const std::string& key, const std::string& value) {
  Status st = mqtt::ValidateName(key, value);
  if (!st.ok()) return r.Error(key, st.message().substr(key.size() + 2));
  return Status::Ok();
}

Status ReadSchedule(ObjectReader& r, std::vector<ScheduleStep>* out) {
  const json* v = r.Take("schedule");
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return r.Error("schedule", "must be a list, got " + ObjectReader::TypeName(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    std::string key = "schedule[" + std::to_string(i) + "]";
    const json& e = (*v)[i];
    if (!e.is_object()) return r.Error(key, "must be an object with after_s and condition");
    ObjectReader s(e, r.Path(key), r.origin());
    ScheduleStep step;
    if (!s.Has("after_s")) return s.Error("after_s", "missing");
    EL_RETURN_IF_ERROR(s.Number("after_s", &step.after_s, 0, 1e9));
    if (!s.Has("condition")) return s.Error("condition", "missing");
    EL_RETURN_IF_ERROR(s.String("condition", &step.condition));
    if (step.condition != "normal" && step.condition != "warning" && step.condition != "failure") {
      return s.Error("condition", "'" + step.condition + "' must be normal, warning or failure");
    }
    EL_RETURN_IF_ERROR(s.Number("drift_per_hour", &step.drift_per_hour, -1e6, 1e6));
    EL_RETURN_IF_ERROR(s.Finish());
    if (!out->empty() && step.after_s < out->back().after_s) {
      return r.Error(key, "after_s must not be smaller than the step before");
    }
    out->push_back(step);
  }
  return Status::Ok();
}

Status CheckReadable(ObjectReader& r, const std::string& key, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) return r.Error(key, "'" + path + "' cannot be read");
  return Status::Ok();
}

}  // namespace

const char* SourceKindName(SourceKind k) {
  switch (k) {
    case SourceKind::kSynthetic:
      return "synthetic";
    case SourceKind::kCsv:
      return "csv";
    case SourceKind::kStdin:
      return "stdin";
    case SourceKind::kFile:
      return "file";
  }
  return "synthetic";
}

Result<AgentConfig> ParseAgentConfig(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(origin + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument(origin + ": must be a JSON object");
  AgentConfig c;
  ObjectReader r(j, "", origin);

  if (!r.Has("device_id")) return r.Error("device_id", "missing (every device needs its own id)");
  EL_RETURN_IF_ERROR(r.String("device_id", &c.device_id));
  EL_RETURN_IF_ERROR(CheckName(r, "device_id", c.device_id));
  EL_RETURN_IF_ERROR(r.String("fleet", &c.fleet));
  EL_RETURN_IF_ERROR(CheckName(r, "fleet", c.fleet));
  c.data_dir = "/var/lib/edgeloop/" + c.device_id;
  EL_RETURN_IF_ERROR(r.String("data_dir", &c.data_dir));
  if (c.data_dir.empty()) return r.Error("data_dir", "must not be empty");

  EL_RETURN_IF_ERROR(r.Object("mqtt", [&](ObjectReader& m) {
    EL_RETURN_IF_ERROR(m.String("url", &c.mqtt.url));
    EL_RETURN_IF_ERROR(CheckUrl(m, "url", c.mqtt.url, {"tcp", "mqtt", "ssl", "mqtts"}, false));
    EL_RETURN_IF_ERROR(m.String("username", &c.mqtt.username));
    EL_RETURN_IF_ERROR(m.String("password", &c.mqtt.password));
    EL_RETURN_IF_ERROR(m.String("ca_file", &c.mqtt.ca_file));
    EL_RETURN_IF_ERROR(m.Int("coalesce_ms", &c.mqtt.coalesce_ms, 0, 60000));
    if (!c.mqtt.ca_file.empty()) {
      if (!StartsWith(c.mqtt.url, "ssl://") && !StartsWith(c.mqtt.url, "mqtts://")) {
        return m.Error("ca_file", "is set but url '" + c.mqtt.url + "' is not TLS (ssl:// or mqtts://)");
      }
      EL_RETURN_IF_ERROR(CheckReadable(m, "ca_file", c.mqtt.ca_file));
    }
    return Status::Ok();
  }));

  EL_RETURN_IF_ERROR(r.Object("registry", [&](ObjectReader& g) {
    EL_RETURN_IF_ERROR(g.String("url", &c.registry.url));
    if (!c.registry.url.empty()) {
      EL_RETURN_IF_ERROR(CheckUrl(g, "url", c.registry.url, {"http", "https"}, true));
      while (c.registry.url.size() > 1 && c.registry.url.back() == '/') c.registry.url.pop_back();
    }
    EL_RETURN_IF_ERROR(g.String("token", &c.registry.token));
    EL_RETURN_IF_ERROR(g.String("public_key", &c.registry.public_key));
    if (!c.registry.public_key.empty()) {
      const std::string& k = c.registry.public_key;
      if (k.size() != 64 || !std::all_of(k.begin(), k.end(), ::isxdigit)) {
        return g.Error("public_key", "must be 64 hex digits (an ed25519 public key), got " +
                                         std::to_string(k.size()) + " characters");
      }
      std::transform(c.registry.public_key.begin(), c.registry.public_key.end(), c.registry.public_key.begin(),
                     ::tolower);
    }
    EL_RETURN_IF_ERROR(g.String("model", &c.registry.model));
    EL_RETURN_IF_ERROR(CheckName(g, "model", c.registry.model));
    EL_RETURN_IF_ERROR(g.String("channel", &c.registry.channel));
    EL_RETURN_IF_ERROR(CheckName(g, "channel", c.registry.channel));
    return g.Int("poll_seconds", &c.registry.poll_seconds, 0, 86400);
  }));

  EL_RETURN_IF_ERROR(r.String("model_file", &c.model_file));
  if (!c.model_file.empty()) EL_RETURN_IF_ERROR(CheckReadable(r, "model_file", c.model_file));

  EL_RETURN_IF_ERROR(r.Object("source", [&](ObjectReader& s) {
    std::string kind = SourceKindName(c.source.kind);
    EL_RETURN_IF_ERROR(s.String("kind", &kind));
    if (kind == "synthetic") {
      c.source.kind = SourceKind::kSynthetic;
    } else if (kind == "csv") {
      c.source.kind = SourceKind::kCsv;
    } else if (kind == "stdin") {
      c.source.kind = SourceKind::kStdin;
    } else if (kind == "file") {
      c.source.kind = SourceKind::kFile;
    } else {
      return s.Error("kind", "'" + kind + "' must be synthetic, csv, stdin or file");
    }
    EL_RETURN_IF_ERROR(s.Number("rate_hz", &c.source.rate_hz, 0, 1000, true));
    int64_t seed = static_cast<int64_t>(c.source.seed);
    EL_RETURN_IF_ERROR(s.Int("seed", &seed, 0, INT64_MAX));
    c.source.seed = static_cast<uint64_t>(seed);
    EL_RETURN_IF_ERROR(s.String("path", &c.source.path));
    if ((c.source.kind == SourceKind::kCsv || c.source.kind == SourceKind::kFile) && c.source.path.empty()) {
      return s.Error("path", "is required for the " + kind + " source");
    }
    if (c.source.kind == SourceKind::kCsv) EL_RETURN_IF_ERROR(CheckReadable(s, "path", c.source.path));
    EL_RETURN_IF_ERROR(ReadSchedule(s, &c.source.schedule));
    if (!c.source.schedule.empty() && c.source.kind != SourceKind::kSynthetic) {
      return s.Error("schedule", "only the synthetic source has a schedule");
    }
    return Status::Ok();
  }));

  EL_RETURN_IF_ERROR(r.Object("alarm", [&](ObjectReader& a) {
    EL_RETURN_IF_ERROR(a.String("label", &c.alarm.label));
    EL_RETURN_IF_ERROR(CheckName(a, "label", c.alarm.label));
    EL_RETURN_IF_ERROR(a.Number("threshold", &c.alarm.threshold, 0, 1));
    int64_t m = c.alarm.m, n = c.alarm.n;
    EL_RETURN_IF_ERROR(a.Int("m", &m, 1, 1000));
    EL_RETURN_IF_ERROR(a.Int("n", &n, 1, 1000));
    if (n > m) return a.Error("n", std::to_string(n) + " windows out of m = " + std::to_string(m) + " can never happen");
    c.alarm.n = static_cast<int32_t>(n);
    c.alarm.m = static_cast<int32_t>(m);
    return a.String("command", &c.alarm.command);
  }));

  EL_RETURN_IF_ERROR(r.Object("upload", [&](ObjectReader& u) {
    EL_RETURN_IF_ERROR(u.Number("low_confidence", &c.upload.low_confidence, 0, 1));
    return u.Number("random_share", &c.upload.random_share, 0, 1);
  }));

  EL_RETURN_IF_ERROR(r.Object("spool", [&](ObjectReader& s) {
    EL_RETURN_IF_ERROR(s.Int("max_bytes", &c.spool.max_bytes, 64 << 10, int64_t{1} << 40));
    return s.Number("max_age_hours", &c.spool.max_age_hours, 0, 87600, true);
  }));

  EL_RETURN_IF_ERROR(r.Finish());
  return c;
}

Result<AgentConfig> LoadAgentConfig(const std::string& path) {
  auto text = Env::Default()->ReadFile(path);
  if (!text.ok()) return Status::InvalidArgument("config: " + text.status().message());
  return ParseAgentConfig(*text, path);
}

}  // namespace edgeloop::agent
