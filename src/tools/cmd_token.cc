// `edgeloop token create|list|revoke`: bearer tokens of the registry API, managed on the server
// host through the data directory (works while the server runs).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "edgeloop/registry/tokens.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

const registry::Actor kLocalActor{"local", "local"};

int TokenCreate(int argc, char** argv) {
  std::string data_dir, role = "device", device, name;
  bool json_out = false;
  Flags flags("edgeloop token create --data DIR --role admin|device [--device ID] [--name NOTE] [--json]",
              "Creates a bearer token and prints it (once: only its hash is kept). Admin tokens may publish\n"
              "and move channels; device tokens may read manifests, artifacts and assignments, and with\n"
              "--device only that device's assignment.");
  flags.String("--data", &data_dir, "registry data directory");
  flags.String("--role", &role, "admin or device");
  flags.String("--device", &device, "bind a device token to this device id");
  flags.String("--name", &name, "a unique name for the token (recorded in the audit log)");
  flags.Bool("--json", &json_out, "print {id, name, role, device, token} as JSON");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (data_dir.empty()) return UsageError(argv[0], Status::InvalidArgument("--data DIR is required"));
  auto parsed_role = registry::ParseRole(role);
  if (!parsed_role.ok()) return UsageError(argv[0], parsed_role.status());
  auto store = registry::TokenStore::Open(data_dir);
  if (!store.ok()) return Fail(argv[0], store.status());
  auto created = (*store)->Create(*parsed_role, device, name, kLocalActor);
  if (!created.ok()) return Fail(argv[0], created.status());
  if (json_out) {
    nlohmann::json j{{"id", created->info.id},
                     {"name", created->info.name},
                     {"role", registry::RoleName(created->info.role)},
                     {"device", created->info.device_id},
                     {"token", created->secret}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::fprintf(stderr, "created %s token %lld '%s'%s (shown once)\n", role.c_str(),
                 static_cast<long long>(created->info.id), created->info.name.c_str(),
                 device.empty() ? "" : (" for device " + device).c_str());
    std::printf("%s\n", created->secret.c_str());
  }
  return 0;
}

int TokenList(int argc, char** argv) {
  std::string data_dir;
  bool json_out = false;
  Flags flags("edgeloop token list --data DIR [--json]", "Lists tokens (never their secrets).");
  flags.String("--data", &data_dir, "registry data directory");
  flags.Bool("--json", &json_out, "print JSON");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (data_dir.empty()) return UsageError(argv[0], Status::InvalidArgument("--data DIR is required"));
  auto store = registry::TokenStore::Open(data_dir);
  if (!store.ok()) return Fail(argv[0], store.status());
  auto tokens = (*store)->List();
  if (!tokens.ok()) return Fail(argv[0], tokens.status());
  if (json_out) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tokens) {
      list.push_back({{"id", t.id}, {"name", t.name}, {"role", registry::RoleName(t.role)}, {"device", t.device_id},
                      {"created", t.created}, {"revoked", t.revoked}});
    }
    std::printf("%s\n", nlohmann::json{{"tokens", list}}.dump(2).c_str());
    return 0;
  }
  std::printf("%-5s %-32s %-7s %-20s %-21s %s\n", "ID", "NAME", "ROLE", "DEVICE", "CREATED", "REVOKED");
  for (const auto& t : *tokens) {
    std::printf("%-5lld %-32s %-7s %-20s %-21s %s\n", static_cast<long long>(t.id), t.name.c_str(),
                registry::RoleName(t.role), t.device_id.empty() ? "-" : t.device_id.c_str(), t.created.c_str(),
                t.revoked.empty() ? "-" : t.revoked.c_str());
  }
  return 0;
}

int TokenRevoke(int argc, char** argv) {
  std::string data_dir;
  Flags flags("edgeloop token revoke --data DIR ID|NAME",
              "Revokes a token: the server refuses it (401) from its next request on.");
  flags.String("--data", &data_dir, "registry data directory");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "the token's id or name"); !s.ok()) return UsageError(argv[0], s);
  if (data_dir.empty()) return UsageError(argv[0], Status::InvalidArgument("--data DIR is required"));
  auto store = registry::TokenStore::Open(data_dir);
  if (!store.ok()) return Fail(argv[0], store.status());
  auto revoked = (*store)->Revoke(flags.positional()[0], kLocalActor);
  if (!revoked.ok()) return Fail(argv[0], revoked.status());
  std::printf("revoked token %lld '%s' at %s\n", static_cast<long long>(revoked->id), revoked->name.c_str(),
              revoked->revoked.c_str());
  return 0;
}

}  // namespace

EL_COMMAND("token create", "create a registry API bearer token", TokenCreate);
EL_COMMAND("token list", "list registry API tokens", TokenList);
EL_COMMAND("token revoke", "revoke a registry API token", TokenRevoke);

}  // namespace edgeloop::tools
