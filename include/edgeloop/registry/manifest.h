// Signed model manifests (DESIGN.md "Registry HTTP API"): what the registry signs and a device
// verifies before it accepts a model. Shared by the server and the agent; depends only on
// libsodium (ed25519, sha256) and nlohmann-json.
//
// A manifest: name, version, sha256, size, created, expires, metrics, signature. The signature is
// ed25519 (libsodium), lowercase hex, over the canonical manifest: the manifest without `signature`
// serialised as JSON with keys sorted and no whitespace, numbers and strings written as RFC 8785
// (JCS) writes them, so anyone can verify it with the public key alone.
// Thread-safety: free functions and value types; libsodium is initialised on first use.
#ifndef EDGELOOP_REGISTRY_MANIFEST_H_
#define EDGELOOP_REGISTRY_MANIFEST_H_

#include <cstdint>
#include <span>
#include <string>

#include "edgeloop/common/status.h"

namespace edgeloop::registry {

struct Manifest {
  std::string name;
  int64_t version = 0;
  std::string sha256;   // lowercase hex of the artifact
  int64_t size = 0;     // artifact bytes
  std::string created;  // RFC 3339 UTC, e.g. "2026-11-24T15:42:00Z"
  std::string expires;  // RFC 3339 UTC; a device refuses the manifest after this instant
  std::string metrics_json = "{}";  // a JSON object (evaluation metrics), part of what is signed
  std::string signature;            // lowercase hex ed25519 signature; empty = unsigned
};

// The bytes that are signed: RFC 8785 canonical JSON of every field but `signature`.
std::string CanonicalManifest(const Manifest& m);
// The full manifest as canonical JSON (with `signature` when set).
std::string ManifestToJson(const Manifest& m);
// Parses a manifest. Errors (InvalidArgument) name the field; unknown fields are rejected because
// a field the signer did not see could not have been signed.
Result<Manifest> ManifestFromJson(const std::string& json);

// RFC 8785 canonical form of any JSON text (keys sorted by UTF-16 code units, no whitespace, ES6
// number formatting). Errors: InvalidArgument for text that is not JSON.
Result<std::string> CanonicalizeJson(const std::string& json);

// An ed25519 key pair as libsodium stores it. Resource type: the secret is wiped on destruction.
class SigningKey {
 public:
  static SigningKey Generate();
  // Reads a secret key file written by Save (hex of the 64-byte libsodium secret key).
  static Result<SigningKey> Load(const std::string& path);
  ~SigningKey();
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // Writes the secret key (mode 0600) and the public key as hex to `public_path` (mode 0644),
  // each atomically. Refuses to overwrite an existing secret key file (InvalidArgument).
  Status Save(const std::string& secret_path, const std::string& public_path) const;
  std::string PublicKeyHex() const;
  // Detached ed25519 signature of `message`, lowercase hex.
  std::string SignHex(std::span<const uint8_t> message) const;

 private:
  SigningKey() = default;
  uint8_t secret_[64] = {};
  uint8_t public_[32] = {};
};

// Sets m->signature over CanonicalManifest(*m).
void SignManifest(Manifest* m, const SigningKey& key);
// OK when `signature` is a valid ed25519 signature of CanonicalManifest(m) by `public_key_hex`.
// Errors: PermissionDenied for a missing, malformed or wrong signature; InvalidArgument for a
// malformed public key.
Status VerifyManifest(const Manifest& m, const std::string& public_key_hex);

// The device's acceptance rules besides the signature: version newer than `installed_version`,
// `expires` in the future of `now_unix_ms`, sane name/sha256/size. Errors (PermissionDenied or
// InvalidArgument) say which rule failed.
Status CheckManifestAcceptable(const Manifest& m, int64_t installed_version, int64_t now_unix_ms);

// sha256 helpers (libsodium).
std::string Sha256Hex(std::span<const uint8_t> data);
std::string Sha256Hex(const std::string& data);
class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  void Update(const std::string& data);
  std::string FinishHex();  // once

 private:
  alignas(64) unsigned char state_[128];  // crypto_hash_sha256_state (104 bytes) without the header
};

// RFC 3339 UTC formatting/parsing ("2026-11-24T15:42:00Z", fractional seconds accepted on parse).
std::string FormatRfc3339(int64_t unix_ms);
Result<int64_t> ParseRfc3339(const std::string& text);

// Hex helpers.
std::string ToHex(std::span<const uint8_t> bytes);
Result<std::string> FromHex(const std::string& hex);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_MANIFEST_H_
