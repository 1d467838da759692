// Small helpers shared by the registry route files. Internal to src/server.
#ifndef EDGELOOP_SERVER_ROUTES_UTIL_H_
#define EDGELOOP_SERVER_ROUTES_UTIL_H_

#include <optional>
#include <string>

#include "edgeloop/registry/api_types.h"
#include "edgeloop/server/api_server.h"
#include "edgeloop/server/http_util.h"

namespace edgeloop::server {

inline registry::Actor ActorOf(const Principal& p) { return registry::Actor{p.name, p.role}; }

// The {name} path parameter, validated; on failure answers 400 and returns nullopt.
std::optional<std::string> ModelParam(RequestContext& ctx);
// The {version} path parameter, parsed; on failure answers 400 and returns nullopt.
std::optional<int64_t> VersionParam(RequestContext& ctx);
// An optional integer query parameter in [min, max]; on a bad value answers 400 and returns false.
bool IntQuery(RequestContext& ctx, const std::string& name, int64_t min, int64_t max, int64_t* value);

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_ROUTES_UTIL_H_
