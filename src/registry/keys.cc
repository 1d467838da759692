#include "edgeloop/registry/data_dir.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::registry {

Result<std::string> InitSigningKey(const std::string& dir) {
  Env* env = Env::Default();
  if (env->FileExists(SigningKeyPath(dir))) {
    return Status::InvalidArgument(SigningKeyPath(dir) +
                                   ": a signing key already exists; refusing to overwrite it (devices trust it)");
  }
  EL_RETURN_IF_ERROR(env->CreateDirs(KeysDir(dir), 0700));
  SigningKey key = SigningKey::Generate();
  EL_RETURN_IF_ERROR(key.Save(SigningKeyPath(dir), PublicKeyPath(dir)));
  return key.PublicKeyHex();
}

}  // namespace edgeloop::registry
