// HTTP helpers every route shares: JSON responses and errors in the one shape clients parse
// ({"error":{"code":"...","message":"..."}}), Status -> HTTP status mapping, request parsing
// (bearer token, JSON body, byte ranges, ETag preconditions). nlohmann exceptions stop here.
// Thread-safety: pure functions.
#ifndef EDGELOOP_SERVER_HTTP_UTIL_H_
#define EDGELOOP_SERVER_HTTP_UTIL_H_

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "edgeloop/common/status.h"

namespace edgeloop::server {

inline constexpr const char* kJsonType = "application/json";

void SendJson(httplib::Response& res, int http_status, const nlohmann::json& body);
// `json_text` must already be JSON (e.g. a signed manifest kept byte for byte).
void SendJsonText(httplib::Response& res, int http_status, const std::string& json_text);
// {"error":{"code":code,"message":message}}.
void SendError(httplib::Response& res, int http_status, std::string_view code, std::string_view message);
// Maps the Status code: InvalidArgument 400, PermissionDenied 403, NotFound 404, Corruption 500
// (stored data is damaged: the server's fault, not the client's), Unavailable 503, IOError 500.
void SendStatus(httplib::Response& res, const Status& status);
int HttpStatusFor(StatusCode code);
// The error code word used for an HTTP status with no more specific one ("NotFound", ...).
const char* ErrorCodeForHttpStatus(int http_status);

// The token of "Authorization: Bearer <token>", or "" when absent or another scheme.
std::string BearerToken(const httplib::Request& req);
// Parses the body as a JSON object. Errors: InvalidArgument naming what is wrong.
Result<nlohmann::json> ParseJsonObjectBody(const httplib::Request& req);

// One satisfiable byte range [first, last] of a resource of known size.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
};
enum class RangeKind {
  kNone,           // no Range header, or one this server ignores (several ranges, other units):
                   // answer 200 with the whole resource, as RFC 9110 allows
  kSatisfiable,    // answer 206 with `range`
  kUnsatisfiable,  // answer 416 with "Content-Range: bytes */size"
};
// Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range against `size`.
RangeKind ParseRange(std::string_view header, uint64_t size, ByteRange* range);
// True when an If-None-Match value lists `etag` (a quoted strong tag) or is "*"; weak
// comparison, as RFC 9110 prescribes for If-None-Match.
bool IfNoneMatchHits(std::string_view header, std::string_view etag);

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_HTTP_UTIL_H_
