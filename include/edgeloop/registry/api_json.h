// JSON codecs for the registry API types (api_types.h): the one definition of the wire format,
// used by the server to answer and by the client library to read answers. Encoders produce
// nlohmann::json values so a route can compose them; decoders never throw and return
// InvalidArgument naming the field that is missing or has the wrong type.
// Thread-safety: pure functions.
#ifndef EDGELOOP_REGISTRY_API_JSON_H_
#define EDGELOOP_REGISTRY_API_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"

namespace edgeloop::registry {

nlohmann::json ToJson(const VersionInfo& v);
nlohmann::json ToJson(const ModelInfo& m);
nlohmann::json ToJson(const ChannelState& c);
nlohmann::json ToJson(const AuditEntry& e);
// An assignment embeds the signed manifest verbatim (no re-serialisation of the signed bytes),
// so it is written as text rather than as a json value.
std::string AssignmentToJsonText(const Assignment& a);

Result<VersionInfo> VersionInfoFromJson(const nlohmann::json& j);
Result<ModelInfo> ModelInfoFromJson(const nlohmann::json& j);
Result<ChannelState> ChannelStateFromJson(const nlohmann::json& j);
Result<AuditEntry> AuditEntryFromJson(const nlohmann::json& j);
Result<Assignment> AssignmentFromJson(const nlohmann::json& j);

// Parses text as JSON without throwing. Errors: InvalidArgument "<what>: not JSON: <why>".
Result<nlohmann::json> ParseJson(const std::string& text, const std::string& what);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_API_JSON_H_
