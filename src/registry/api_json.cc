#include "edgeloop/registry/api_json.h"

namespace edgeloop::registry {
namespace {

using nlohmann::json;

json MetricsValue(const std::string& metrics_json) {
  json m = json::parse(metrics_json.empty() ? "{}" : metrics_json, nullptr, false);
  return (m.is_discarded() || !m.is_object()) ? json::object() : m;
}

// Field readers: each returns InvalidArgument naming the field when it is missing or mistyped.
Status Missing(const std::string& type, const char* field, const char* want) {
  return Status::InvalidArgument(type + ": field '" + field + "' " + want);
}

Status GetString(const json& j, const std::string& type, const char* field, std::string* out, bool optional = false) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (optional) return Status::Ok();
    return Missing(type, field, "is missing");
  }
  if (!it->is_string()) return Missing(type, field, "must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status GetInt(const json& j, const std::string& type, const char* field, int64_t* out, bool optional = false) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (optional) return Status::Ok();
    return Missing(type, field, "is missing");
  }
  if (!it->is_number_integer()) return Missing(type, field, "must be an integer");
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status GetDouble(const json& j, const std::string& type, const char* field, double* out, bool optional = false) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (optional) return Status::Ok();
    return Missing(type, field, "is missing");
  }
  if (!it->is_number()) return Missing(type, field, "must be a number");
  *out = it->get<double>();
  return Status::Ok();
}

Status GetObjectText(const json& j, const std::string& type, const char* field, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Missing(type, field, "must be an object");
  *out = it->dump();
  return Status::Ok();
}

Status RequireObject(const json& j, const std::string& type) {
  if (!j.is_object()) return Status::InvalidArgument(type + ": not a JSON object");
  return Status::Ok();
}

}  // namespace

json ToJson(const VersionInfo& v) {
  return json{{"model", v.model},     {"version", v.version}, {"sha256", v.sha256},
              {"size", v.size},       {"created", v.created}, {"expires", v.expires},
              {"metrics", MetricsValue(v.metrics_json)},       {"published_by", v.published_by}};
}

json ToJson(const ModelInfo& m) {
  json channels = json::object();
  for (const ChannelPointer& c : m.channels) channels[c.channel] = json{{"version", c.version}, {"share", c.share}};
  return json{{"name", m.name},
              {"created", m.created},
              {"latest_version", m.latest_version},
              {"version_count", m.version_count},
              {"channels", channels}};
}

json ToJson(const ChannelState& c) {
  json history = json::array();
  for (const ChannelEvent& e : c.history) {
    history.push_back(json{{"id", e.id},
                           {"version", e.version},
                           {"share", e.share},
                           {"action", e.action},
                           {"at", e.at},
                           {"by", e.by},
                           {"rolled_back", e.rolled_back}});
  }
  return json{{"model", c.model},     {"channel", c.channel},         {"version", c.version},
              {"share", c.share},     {"updated", c.updated},         {"updated_by", c.updated_by},
              {"history", history}};
}

json ToJson(const AuditEntry& e) {
  return json{{"id", e.id},         {"at", e.at},         {"actor", e.actor},
              {"role", e.role},     {"action", e.action}, {"model", e.model},
              {"details", MetricsValue(e.details_json)}};
}

std::string AssignmentToJsonText(const Assignment& a) {
  json head{{"model", a.model},   {"device", a.device}, {"channel", a.channel},
            {"version", a.version}, {"share", a.share},   {"bucket", a.bucket}};
  std::string text = head.dump();
  // Append the manifest as stored: the signed bytes travel unchanged.
  text.pop_back();
  text += ",\"manifest\":";
  text += a.manifest_json.empty() ? "null" : a.manifest_json;
  text += "}";
  return text;
}

Result<VersionInfo> VersionInfoFromJson(const json& j) {
  const std::string t = "version";
  EL_RETURN_IF_ERROR(RequireObject(j, t));
  VersionInfo v;
  EL_RETURN_IF_ERROR(GetString(j, t, "model", &v.model));
  EL_RETURN_IF_ERROR(GetInt(j, t, "version", &v.version));
  EL_RETURN_IF_ERROR(GetString(j, t, "sha256", &v.sha256));
  EL_RETURN_IF_ERROR(GetInt(j, t, "size", &v.size));
  EL_RETURN_IF_ERROR(GetString(j, t, "created", &v.created));
  EL_RETURN_IF_ERROR(GetString(j, t, "expires", &v.expires));
  EL_RETURN_IF_ERROR(GetObjectText(j, t, "metrics", &v.metrics_json));
  EL_RETURN_IF_ERROR(GetString(j, t, "published_by", &v.published_by, true));
  return v;
}

Result<ModelInfo> ModelInfoFromJson(const json& j) {
  const std::string t = "model";
  EL_RETURN_IF_ERROR(RequireObject(j, t));
  ModelInfo m;
  EL_RETURN_IF_ERROR(GetString(j, t, "name", &m.name));
  EL_RETURN_IF_ERROR(GetString(j, t, "created", &m.created, true));
  EL_RETURN_IF_ERROR(GetInt(j, t, "latest_version", &m.latest_version, true));
  EL_RETURN_IF_ERROR(GetInt(j, t, "version_count", &m.version_count, true));
  auto it = j.find("channels");
  if (it != j.end() && it->is_object()) {
    for (auto c = it->begin(); c != it->end(); ++c) {
      ChannelPointer p;
      p.channel = c.key();
      EL_RETURN_IF_ERROR(GetInt(*c, "model channel", "version", &p.version));
      EL_RETURN_IF_ERROR(GetDouble(*c, "model channel", "share", &p.share, true));
      m.channels.push_back(p);
    }
  }
  return m;
}

Result<ChannelState> ChannelStateFromJson(const json& j) {
  const std::string t = "channel";
  EL_RETURN_IF_ERROR(RequireObject(j, t));
  ChannelState c;
  EL_RETURN_IF_ERROR(GetString(j, t, "model", &c.model));
  EL_RETURN_IF_ERROR(GetString(j, t, "channel", &c.channel));
  EL_RETURN_IF_ERROR(GetInt(j, t, "version", &c.version));
  EL_RETURN_IF_ERROR(GetDouble(j, t, "share", &c.share, true));
  EL_RETURN_IF_ERROR(GetString(j, t, "updated", &c.updated, true));
  EL_RETURN_IF_ERROR(GetString(j, t, "updated_by", &c.updated_by, true));
  auto it = j.find("history");
  if (it != j.end() && it->is_array()) {
    for (const json& h : *it) {
      ChannelEvent e;
      const std::string ht = "channel history";
      EL_RETURN_IF_ERROR(RequireObject(h, ht));
      EL_RETURN_IF_ERROR(GetInt(h, ht, "id", &e.id, true));
      EL_RETURN_IF_ERROR(GetInt(h, ht, "version", &e.version));
      EL_RETURN_IF_ERROR(GetDouble(h, ht, "share", &e.share, true));
      EL_RETURN_IF_ERROR(GetString(h, ht, "action", &e.action, true));
      EL_RETURN_IF_ERROR(GetString(h, ht, "at", &e.at, true));
      EL_RETURN_IF_ERROR(GetString(h, ht, "by", &e.by, true));
      auto rb = h.find("rolled_back");
      e.rolled_back = rb != h.end() && rb->is_boolean() && rb->get<bool>();
      c.history.push_back(e);
    }
  }
  return c;
}

Result<AuditEntry> AuditEntryFromJson(const json& j) {
  const std::string t = "audit entry";
  EL_RETURN_IF_ERROR(RequireObject(j, t));
  AuditEntry e;
  EL_RETURN_IF_ERROR(GetInt(j, t, "id", &e.id));
  EL_RETURN_IF_ERROR(GetString(j, t, "at", &e.at));
  EL_RETURN_IF_ERROR(GetString(j, t, "actor", &e.actor));
  EL_RETURN_IF_ERROR(GetString(j, t, "role", &e.role, true));
  EL_RETURN_IF_ERROR(GetString(j, t, "action", &e.action));
  EL_RETURN_IF_ERROR(GetString(j, t, "model", &e.model, true));
  EL_RETURN_IF_ERROR(GetObjectText(j, t, "details", &e.details_json));
  return e;
}

Result<Assignment> AssignmentFromJson(const json& j) {
  const std::string t = "assignment";
  EL_RETURN_IF_ERROR(RequireObject(j, t));
  Assignment a;
  EL_RETURN_IF_ERROR(GetString(j, t, "model", &a.model));
  EL_RETURN_IF_ERROR(GetString(j, t, "device", &a.device));
  EL_RETURN_IF_ERROR(GetString(j, t, "channel", &a.channel));
  EL_RETURN_IF_ERROR(GetInt(j, t, "version", &a.version));
  EL_RETURN_IF_ERROR(GetDouble(j, t, "share", &a.share, true));
  EL_RETURN_IF_ERROR(GetInt(j, t, "bucket", &a.bucket, true));
  auto it = j.find("manifest");
  if (it == j.end() || !it->is_object()) return Missing(t, "manifest", "must be an object");
  a.manifest_json = it->dump();
  return a;
}

Result<json> ParseJson(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(what + ": not JSON: " + e.what());
  }
}

}  // namespace edgeloop::registry
