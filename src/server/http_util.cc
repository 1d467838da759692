#include "edgeloop/server/http_util.h"

#include <charconv>

namespace edgeloop::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a non-empty run of digits; false on anything else or overflow.
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

void SendJson(httplib::Response& res, int http_status, const nlohmann::json& body) {
  res.status = http_status;
  // Replace invalid UTF-8 rather than throw: messages can quote client input.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kJsonType);
}

void SendJsonText(httplib::Response& res, int http_status, const std::string& json_text) {
  res.status = http_status;
  res.set_content(json_text, kJsonType);
}

void SendError(httplib::Response& res, int http_status, std::string_view code, std::string_view message) {
  SendJson(res, http_status,
           nlohmann::json{{"error", {{"code", std::string(code)}, {"message", std::string(message)}}}});
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIOError: return 500;
  }
  return 500;
}

void SendStatus(httplib::Response& res, const Status& status) {
  SendError(res, HttpStatusFor(status.code()), StatusCodeName(status.code()), status.message());
}

const char* ErrorCodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return "InvalidArgument";
    case 401: return "Unauthenticated";
    case 403: return "PermissionDenied";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 413: return "PayloadTooLarge";
    case 414: return "UriTooLong";
    case 416: return "RangeNotSatisfiable";
    case 422: return "GateRefused";
    case 503: return "Unavailable";
    default: return http_status >= 500 ? "Internal" : "BadRequest";
  }
}

std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  std::string_view h = Trim(header);
  constexpr std::string_view kScheme = "Bearer ";
  if (h.size() <= kScheme.size()) return std::string();
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return std::string();
    }
  }
  return std::string(Trim(h.substr(kScheme.size())));
}

Result<nlohmann::json> ParseJsonObjectBody(const httplib::Request& req) {
  nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

RangeKind ParseRange(std::string_view header, uint64_t size, ByteRange* range) {
  header = Trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return RangeKind::kNone;
  std::string_view spec = Trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return RangeKind::kNone;  // several ranges: send it all
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeKind::kNone;
  std::string_view a = Trim(spec.substr(0, dash));
  std::string_view b = Trim(spec.substr(dash + 1));
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last n bytes
    uint64_t n = 0;
    if (!ParseU64(b, &n)) return RangeKind::kNone;
    if (n == 0 || size == 0) return RangeKind::kUnsatisfiable;
    range->first = n >= size ? 0 : size - n;
    range->last = size - 1;
    return RangeKind::kSatisfiable;
  }
  if (!ParseU64(a, &first)) return RangeKind::kNone;
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!ParseU64(b, &last) || last < first) return RangeKind::kNone;  // invalid: ignored (RFC 9110 14.2)
    if (last >= size) last = size == 0 ? 0 : size - 1;
  }
  if (first >= size) return RangeKind::kUnsatisfiable;
  range->first = first;
  range->last = last;
  return RangeKind::kSatisfiable;
}

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  header = Trim(header);
  if (header == "*") return true;
  auto strip_weak = [](std::string_view t) {
    t = Trim(t);
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    return t;
  };
  std::string_view want = strip_weak(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = strip_weak(header.substr(0, comma));
    if (tag == want) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace edgeloop::server
