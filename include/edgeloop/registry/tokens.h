// Bearer tokens for the registry API, kept in the registry database (DIR/registry.db). A token is
// "elt_" + 64 hex digits of libsodium randomness (256 bits), shown once when created; only its
// sha256 is stored (fine for secrets of that entropy: no dictionary to try), so a stolen database
// file grants nothing. Roles: "admin" may write (publish, move channels, read the audit log);
// "device" may read manifests, artifacts and assignments, and a device token bound to a device
// id may only ask for that device's assignment. Every create and revoke lands in the audit log.
//
// Thread-safety: all methods are safe from any thread (one connection behind a mutex). Other
// processes may use the same database at the same time (WAL): `edgeloop token create` works while
// the server runs, and a revoke takes effect on the server's next request.
#ifndef EDGELOOP_REGISTRY_TOKENS_H_
#define EDGELOOP_REGISTRY_TOKENS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgeloop/common/env.h"
#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"

namespace edgeloop::registry {

class Db;

enum class Role { kAdmin, kDevice };
const char* RoleName(Role role);
Result<Role> ParseRole(const std::string& text);  // "admin" | "device"

struct TokenInfo {
  int64_t id = 0;
  std::string name;       // unique
  Role role = Role::kDevice;
  std::string device_id;  // "" = not bound to a device
  std::string created;
  std::string revoked;    // "" = active
};

class TokenStore {
 public:
  // Opens the registry database under `data_dir` (creating and migrating it if needed).
  // `env` (clock) must outlive the store.
  static Result<std::unique_ptr<TokenStore>> Open(const std::string& data_dir, Env* env = Env::Default());
  ~TokenStore();

  struct Created {
    TokenInfo info;
    std::string secret;  // the bearer token; not recoverable later
  };
  // Creates a token. `name` "" picks "<role>[-<device>]-<6 hex>". Errors: InvalidArgument for a
  // bad device id, a device id on an admin token, or a name already taken.
  Result<Created> Create(Role role, const std::string& device_id, const std::string& name, const Actor& actor);
  Result<std::vector<TokenInfo>> List();
  // Revokes by id (all digits) or by name. Errors: NotFound. Revoking twice is OK.
  Result<TokenInfo> Revoke(const std::string& id_or_name, const Actor& actor);
  // The active token with this secret. Errors: PermissionDenied for an unknown or revoked token
  // (the message says which, never echoing the secret).
  Result<TokenInfo> Authenticate(const std::string& secret);

 private:
  TokenStore(std::unique_ptr<Db> db, Env* env);
  std::unique_ptr<Db> db_;
  Env* env_;  // must outlive the store
};

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_TOKENS_H_
