// The layout of a registry data directory (`edgeloop serve --data DIR`), in one place so the
// server, the key and token commands and the tests agree:
//   DIR/registry.db          SQLite metadata (models, versions, channels, tokens, audit)
//   DIR/artifacts/<sha256>   model files, content-addressed; "*.tmp" are uploads in progress
//   DIR/keys/signing.key     ed25519 secret key (mode 0600)
//   DIR/keys/signing.pub     its public key, hex: what devices trust
//   DIR/serve.lock           held (flock) by the one server using the directory
// Thread-safety: pure functions.
#ifndef EDGELOOP_REGISTRY_DATA_DIR_H_
#define EDGELOOP_REGISTRY_DATA_DIR_H_

#include <string>

#include "edgeloop/common/env.h"
#include "edgeloop/common/status.h"

namespace edgeloop::registry {

inline std::string DatabasePath(const std::string& dir) { return JoinPath(dir, "registry.db"); }
inline std::string ArtifactsDir(const std::string& dir) { return JoinPath(dir, "artifacts"); }
inline std::string KeysDir(const std::string& dir) { return JoinPath(dir, "keys"); }
inline std::string SigningKeyPath(const std::string& dir) { return JoinPath(KeysDir(dir), "signing.key"); }
inline std::string PublicKeyPath(const std::string& dir) { return JoinPath(KeysDir(dir), "signing.pub"); }
inline std::string ServeLockPath(const std::string& dir) { return JoinPath(dir, "serve.lock"); }

// `edgeloop keys init`: creates DIR/keys (0700) and a new ed25519 key pair in it. Returns the
// public key hex. Errors: InvalidArgument when a key already exists (never overwritten).
Result<std::string> InitSigningKey(const std::string& dir);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_DATA_DIR_H_
