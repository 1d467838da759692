// `edgeloop keys init`: the registry's ed25519 signing key.
#include <cstdio>

#include "edgeloop/registry/data_dir.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int KeysInit(int argc, char** argv) {
  std::string data_dir;
  Flags flags("edgeloop keys init --data DIR",
              "Creates the registry's ed25519 signing key: DIR/keys/signing.key (secret, mode 0600) and\n"
              "DIR/keys/signing.pub (public key, hex: give it to devices as their trusted key). Refuses to\n"
              "overwrite an existing key. Prints the public key.");
  flags.String("--data", &data_dir, "registry data directory (as for 'edgeloop serve')");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (data_dir.empty()) return UsageError(argv[0], Status::InvalidArgument("--data DIR is required"));
  auto pub = registry::InitSigningKey(data_dir);
  if (!pub.ok()) return Fail(argv[0], pub.status());
  std::fprintf(stderr, "wrote %s and %s\n", registry::SigningKeyPath(data_dir).c_str(),
               registry::PublicKeyPath(data_dir).c_str());
  std::printf("%s\n", pub->c_str());
  return 0;
}

}  // namespace

EL_COMMAND("keys init", "create the registry's ed25519 signing key", KeysInit);

}  // namespace edgeloop::tools
