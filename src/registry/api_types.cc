#include "edgeloop/registry/api_types.h"

#include <algorithm>
#include <cmath>

#include "edgeloop/registry/manifest.h"

namespace edgeloop::registry {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsPunct(char c) { return c == '.' || c == '_' || c == '-'; }

// Quotes a value for a message without letting control bytes or huge inputs through.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > 80) out += "...";
  return out + "'";
}

Status ValidateToken(std::string_view s, const char* what, bool (*first_ok)(char), bool (*rest_ok)(char),
                     const char* rule) {
  if (s.empty() || s.size() > 64 || !first_ok(s[0])) {
    return Status::InvalidArgument(std::string(what) + " " + Quote(s) + " does not match " + rule);
  }
  for (char c : s.substr(1)) {
    if (!rest_ok(c)) return Status::InvalidArgument(std::string(what) + " " + Quote(s) + " does not match " + rule);
  }
  return Status::Ok();
}

}  // namespace

Status ValidateModelName(std::string_view name) {
  return ValidateToken(
      name, "model name", IsLowerAlnum, [](char c) { return IsLowerAlnum(c) || IsPunct(c); },
      "[a-z0-9][a-z0-9._-]{0,63}");
}

Status ValidateDeviceId(std::string_view id) {
  return ValidateToken(
      id, "device id", IsAlnum, [](char c) { return IsAlnum(c) || IsPunct(c); }, "[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
}

Status ValidateChannel(std::string_view channel) {
  if (channel == kStable || channel == kCanary) return Status::Ok();
  return Status::InvalidArgument("channel " + Quote(channel) + " is not 'stable' or 'canary'");
}

Result<int64_t> ParseVersionNumber(std::string_view text) {
  constexpr int64_t kMax = int64_t{1} << 53;
  int64_t v = 0;
  if (text.empty() || text.size() > 16) return Status::InvalidArgument("version " + Quote(text) + " is not a number");
  for (char c : text) {
    if (c < '0' || c > '9') return Status::InvalidArgument("version " + Quote(text) + " is not a number");
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v >= kMax) return Status::InvalidArgument("version " + Quote(text) + " is out of range [1, 2^53)");
  return v;
}

int64_t CanaryBucket(const std::string& model, const std::string& device_id) {
  auto hex = FromHex(Sha256Hex(model + "/" + device_id));
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | static_cast<uint8_t>((*hex)[static_cast<size_t>(i)]);
  return static_cast<int64_t>(x % 10000);
}

bool InCanary(int64_t bucket, double share) {
  if (!(share > 0)) return false;
  return bucket < std::llround(std::min(share, 1.0) * 10000.0);
}

}  // namespace edgeloop::registry
