#include "edgeloop/registry/manifest.h"

#include <sodium.h>

#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "edgeloop/common/env.h"
#include "registry/canonical_json.h"

namespace edgeloop::registry {
namespace {

using nlohmann::json;

void EnsureSodium() {
  static const int init = sodium_init();  // thread-safe static init; < 0 means unusable
  (void)init;
}

json ManifestObject(const Manifest& m, bool with_signature) {
  json j;
  j["name"] = m.name;
  j["version"] = m.version;
  j["sha256"] = m.sha256;
  j["size"] = m.size;
  j["created"] = m.created;
  j["expires"] = m.expires;
  json metrics = json::parse(m.metrics_json.empty() ? "{}" : m.metrics_json, nullptr, false);
  j["metrics"] = (metrics.is_discarded() || !metrics.is_object()) ? json::object() : metrics;
  if (with_signature && !m.signature.empty()) j["signature"] = m.signature;
  return j;
}

bool IsLowerHex(const std::string& s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string CanonicalManifest(const Manifest& m) { return CanonicalJsonOf(ManifestObject(m, false)); }
std::string ManifestToJson(const Manifest& m) { return CanonicalJsonOf(ManifestObject(m, true)); }

Result<Manifest> ManifestFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("manifest: not a JSON object");
  auto field_error = [](const std::string& f, const std::string& why) {
    return Status::InvalidArgument("manifest: field '" + f + "': " + why);
  };
  Manifest m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name" || k == "sha256" || k == "created" || k == "expires" || k == "signature") {
      if (!v.is_string()) return field_error(k, "must be a string");
      std::string s = v.get<std::string>();
      if (k == "name") m.name = s;
      if (k == "sha256") m.sha256 = s;
      if (k == "created") m.created = s;
      if (k == "expires") m.expires = s;
      if (k == "signature") m.signature = s;
    } else if (k == "version" || k == "size") {
      // The signature covers the RFC 8785 form, which writes numbers as IEEE doubles: past 2^53
      // two versions would sign alike, so a bumped version could reuse an old signature.
      constexpr int64_t kMaxExact = (int64_t{1} << 53) - 1;
      if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{kMaxExact}) ||
          v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxExact) {
        return field_error(k, "must be an integer from 0 to " + std::to_string(kMaxExact));
      }
      (k == "version" ? m.version : m.size) = v.get<int64_t>();
    } else if (k == "metrics") {
      if (!v.is_object()) return field_error(k, "must be an object");
      m.metrics_json = CanonicalJsonOf(v);
    } else {
      return field_error(k, "unknown field (not covered by the signature)");
    }
  }
  for (const char* required : {"name", "version", "sha256", "size", "created", "expires"}) {
    if (!j.contains(required)) return field_error(required, "missing");
  }
  return m;
}

SigningKey SigningKey::Generate() {
  EnsureSodium();
  SigningKey k;
  crypto_sign_keypair(k.public_, k.secret_);
  return k;
}

Result<SigningKey> SigningKey::Load(const std::string& path) {
  EnsureSodium();
  auto text = Env::Default()->ReadFile(path);
  if (!text.ok()) return text.status();
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  auto raw = FromHex(hex);
  if (!raw.ok() || raw->size() != crypto_sign_SECRETKEYBYTES) {
    return Status::Corruption(path + ": not a hex ed25519 secret key (" +
                              std::to_string(crypto_sign_SECRETKEYBYTES * 2) + " hex digits)");
  }
  SigningKey k;
  std::memcpy(k.secret_, raw->data(), sizeof k.secret_);
  sodium_memzero(raw->data(), raw->size());
  crypto_sign_ed25519_sk_to_pk(k.public_, k.secret_);
  return k;
}

SigningKey::~SigningKey() { sodium_memzero(secret_, sizeof secret_); }

SigningKey::SigningKey(SigningKey&& other) noexcept {
  std::memcpy(secret_, other.secret_, sizeof secret_);
  std::memcpy(public_, other.public_, sizeof public_);
  sodium_memzero(other.secret_, sizeof other.secret_);
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    std::memcpy(secret_, other.secret_, sizeof secret_);
    std::memcpy(public_, other.public_, sizeof public_);
    sodium_memzero(other.secret_, sizeof other.secret_);
  }
  return *this;
}

Status SigningKey::Save(const std::string& secret_path, const std::string& public_path) const {
  Env* env = Env::Default();
  if (env->FileExists(secret_path)) {
    return Status::InvalidArgument(secret_path + ": a signing key already exists; refusing to overwrite it");
  }
  std::string secret_hex = ToHex(secret_);
  Status s = env->WriteFileAtomic(secret_path, secret_hex + "\n", 0600);
  sodium_memzero(secret_hex.data(), secret_hex.size());
  EL_RETURN_IF_ERROR(s);
  return env->WriteFileAtomic(public_path, PublicKeyHex() + "\n", 0644);
}

std::string SigningKey::PublicKeyHex() const { return ToHex(public_); }

std::string SigningKey::SignHex(std::span<const uint8_t> message) const {
  uint8_t sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, message.data(), message.size(), secret_);
  return ToHex(sig);
}

void SignManifest(Manifest* m, const SigningKey& key) {
  std::string canonical = CanonicalManifest(*m);
  m->signature = key.SignHex({reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size()});
}

Status VerifyManifest(const Manifest& m, const std::string& public_key_hex) {
  EnsureSodium();
  auto pk = FromHex(public_key_hex);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return Status::InvalidArgument("public key: not " + std::to_string(crypto_sign_PUBLICKEYBYTES * 2) +
                                   " hex digits");
  }
  if (m.signature.empty()) return Status::PermissionDenied("manifest is not signed");
  auto sig = FromHex(m.signature);
  if (!sig.ok() || sig->size() != crypto_sign_BYTES) {
    return Status::PermissionDenied("manifest signature is malformed");
  }
  std::string canonical = CanonicalManifest(m);
  if (crypto_sign_verify_detached(reinterpret_cast<const uint8_t*>(sig->data()),
                                  reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size(),
                                  reinterpret_cast<const uint8_t*>(pk->data())) != 0) {
    return Status::PermissionDenied("manifest signature does not verify with the trusted key");
  }
  return Status::Ok();
}

Status CheckManifestAcceptable(const Manifest& m, int64_t installed_version, int64_t now_unix_ms) {
  if (m.name.empty()) return Status::InvalidArgument("manifest: empty name");
  if (!IsLowerHex(m.sha256, 64)) return Status::InvalidArgument("manifest: sha256 is not 64 lowercase hex digits");
  if (m.size <= 0) return Status::InvalidArgument("manifest: size must be positive");
  if (m.version <= installed_version) {
    return Status::PermissionDenied("manifest version " + std::to_string(m.version) +
                                    " is not newer than the installed version " + std::to_string(installed_version));
  }
  auto expires = ParseRfc3339(m.expires);
  if (!expires.ok()) return Status::InvalidArgument("manifest: expires: " + expires.status().message());
  if (*expires <= now_unix_ms) return Status::PermissionDenied("manifest expired at " + m.expires);
  return Status::Ok();
}

static_assert(sizeof(crypto_hash_sha256_state) <= 128, "Sha256 state buffer too small");

Sha256::Sha256() {
  EnsureSodium();
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}
void Sha256::Update(std::span<const uint8_t> data) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_), data.data(), data.size());
}
void Sha256::Update(const std::string& data) {
  Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}
std::string Sha256::FinishHex() {
  uint8_t out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out);
  return ToHex(out);
}

std::string Sha256Hex(std::span<const uint8_t> data) {
  Sha256 h;
  h.Update(data);
  return h.FinishHex();
}
std::string Sha256Hex(const std::string& data) {
  return Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

std::string FormatRfc3339(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<int64_t> ParseRfc3339(const std::string& text) {
  struct tm tm = {};
  int frac_ms = 0;
  const char* p = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (p == nullptr) return Status::InvalidArgument("'" + text + "' is not an RFC 3339 time");
  if (*p == '.') {
    ++p;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
      ++digits;
      ++p;
    }
    for (; digits < 3; ++digits) frac_ms *= 10;
  }
  int64_t offset_s = 0;
  if (*p == 'Z' || *p == 'z') {
    ++p;
  } else if ((*p == '+' || *p == '-') && std::strlen(p) == 6 && p[3] == ':') {
    int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
    offset_s = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return Status::InvalidArgument("'" + text + "' has no time zone (Z or +hh:mm)");
  }
  if (*p != '\0') return Status::InvalidArgument("'" + text + "' has trailing characters");
  return (static_cast<int64_t>(timegm(&tm)) - offset_s) * 1000 + frac_ms;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<std::string> FromHex(const std::string& hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd number of hex digits");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("not a hex digit at position " + std::to_string(2 * i));
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace edgeloop::registry
