// `edgeloop publish | promote | rollback | models list | models show`: the registry's CLI, over
// HTTP(S) through registry::RegistryClient.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "edgeloop/common/env.h"
#include "edgeloop/registry/client.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

// --server/--token/--ca-file, defaulting to EDGELOOP_SERVER/EDGELOOP_TOKEN/EDGELOOP_CA_FILE.
struct ClientFlags {
  registry::ClientOptions options;
  void Add(Flags& flags) {
    flags.String("--server", &options.server_url, "registry URL, e.g. https://models.local:8443 (or EDGELOOP_SERVER)");
    flags.String("--token", &options.token, "bearer token (or EDGELOOP_TOKEN)");
    flags.String("--ca-file", &options.ca_file, "PEM CA bundle to verify an https server (or EDGELOOP_CA_FILE)");
  }
  Result<std::unique_ptr<registry::RegistryClient>> Make() const {
    registry::ClientOptions o = registry::ClientOptionsWithEnvironment(options);
    if (o.token.empty()) return Status::InvalidArgument("no token: pass --token or set EDGELOOP_TOKEN");
    return registry::RegistryClient::Create(std::move(o));
  }
};

std::string ShortSha(const std::string& sha) { return sha.substr(0, 12); }

int Publish(int argc, char** argv) {
  ClientFlags cf;
  std::string name, channel, metrics_path;
  double share = -1;
  Flags flags("edgeloop publish model.tflite --name NAME [--channel canary|stable] [--share S] [--metrics report.json]",
              "Uploads a model to the registry, which checks it (gates), gives it the next version number,\n"
              "stores it by sha256 and signs its manifest. Prints the signed manifest JSON. --metrics takes a\n"
              "training/eval report; its scalar fields become the manifest's metrics.");
  flags.String("--name", &name, "model name ([a-z0-9][a-z0-9._-]{0,63})");
  flags.String("--channel", &channel, "also point this channel at the new version");
  flags.Double("--share", &share, "canary share in [0, 1] (with --channel canary)");
  flags.String("--metrics", &metrics_path, "JSON report whose scalar fields are published as metrics");
  cf.Add(flags);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "the model file"); !s.ok()) return UsageError(argv[0], s);
  if (name.empty()) return UsageError(argv[0], Status::InvalidArgument("--name is required"));
  registry::PublishOptions po;
  po.channel = channel;
  if (flags.WasSet("--share")) po.share = share;
  if (!metrics_path.empty()) {
    auto report = Env::Default()->ReadFile(metrics_path);
    if (!report.ok()) return Fail(argv[0], report.status());
    auto metrics = registry::MetricsFromReport(*report);
    if (!metrics.ok()) return Fail(argv[0], metrics.status().WithPrefix(metrics_path));
    po.metrics_json = *metrics;
  }
  auto client = cf.Make();
  if (!client.ok()) return UsageError(argv[0], client.status());
  auto manifest = (*client)->PublishFile(name, flags.positional()[0], po);
  if (!manifest.ok()) return Fail(argv[0], manifest.status());
  std::printf("%s\n", manifest->c_str());
  return 0;
}

void PrintChannel(const registry::ChannelState& c) {
  std::printf("%s: %s -> version %lld", c.model.c_str(), c.channel.c_str(), static_cast<long long>(c.version));
  if (c.channel == "canary") std::printf(" (share %.4g)", c.share);
  std::printf("\n");
}

int Promote(int argc, char** argv) {
  ClientFlags cf;
  std::string channel = "stable";
  double share = -1;
  int64_t expected = -1;
  bool json_out = false;
  Flags flags("edgeloop promote NAME VERSION [--channel stable|canary] [--share S]",
              "Points a channel at a version. Devices following the channel move to it; for the canary,\n"
              "--share is the fraction of devices (by a stable hash of their id) that follow it.");
  flags.String("--channel", &channel, "stable or canary");
  flags.Double("--share", &share, "canary share in [0, 1]");
  flags.Int("--expect", &expected, "fail (409) unless the channel currently points at this version (0: unset)");
  flags.Bool("--json", &json_out, "print the channel state as JSON");
  cf.Add(flags);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(2, 2, "NAME VERSION"); !s.ok()) return UsageError(argv[0], s);
  auto version = registry::ParseVersionNumber(flags.positional()[1]);
  if (!version.ok()) return UsageError(argv[0], version.status());
  auto client = cf.Make();
  if (!client.ok()) return UsageError(argv[0], client.status());
  std::optional<double> s;
  if (flags.WasSet("--share")) s = share;
  std::optional<int64_t> e;
  if (flags.WasSet("--expect")) e = expected;
  auto state = (*client)->Promote(flags.positional()[0], *version, channel, s, e);
  if (!state.ok()) return Fail(argv[0], state.status());
  if (json_out) {
    auto raw = (*client)->GetRaw("/v1/models/" + state->model + "/channels/" + state->channel);
    if (!raw.ok()) return Fail(argv[0], raw.status());
    std::printf("%s\n", raw->c_str());
  } else {
    PrintChannel(*state);
  }
  return 0;
}

int Rollback(int argc, char** argv) {
  ClientFlags cf;
  std::string channel = "stable";
  Flags flags("edgeloop rollback NAME [--channel stable|canary]",
              "Points a channel back at the version it pointed to before its current one (repeat to go\n"
              "further back). 409 when there is nothing to roll back to.");
  flags.String("--channel", &channel, "stable or canary");
  cf.Add(flags);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "NAME"); !s.ok()) return UsageError(argv[0], s);
  auto client = cf.Make();
  if (!client.ok()) return UsageError(argv[0], client.status());
  auto state = (*client)->Rollback(flags.positional()[0], channel);
  if (!state.ok()) return Fail(argv[0], state.status());
  std::printf("rolled back: ");
  PrintChannel(*state);
  return 0;
}

std::string ChannelSummary(const registry::ModelInfo& m, const std::string& channel) {
  for (const auto& c : m.channels) {
    if (c.channel != channel) continue;
    char buf[64];
    if (channel == "canary") {
      std::snprintf(buf, sizeof buf, "v%lld@%.3g", static_cast<long long>(c.version), c.share);
    } else {
      std::snprintf(buf, sizeof buf, "v%lld", static_cast<long long>(c.version));
    }
    return buf;
  }
  return "-";
}

int ModelsList(int argc, char** argv) {
  ClientFlags cf;
  bool json_out = false;
  Flags flags("edgeloop models list [--json]", "Lists the registry's models with their channels.");
  flags.Bool("--json", &json_out, "print the server's JSON");
  cf.Add(flags);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  auto client = cf.Make();
  if (!client.ok()) return UsageError(argv[0], client.status());
  if (json_out) {
    auto raw = (*client)->GetRaw("/v1/models");
    if (!raw.ok()) return Fail(argv[0], raw.status());
    std::printf("%s\n", raw->c_str());
    return 0;
  }
  auto models = (*client)->ListModels();
  if (!models.ok()) return Fail(argv[0], models.status());
  std::printf("%-32s %7s %8s %8s %12s\n", "NAME", "LATEST", "VERSIONS", "STABLE", "CANARY");
  for (const auto& m : *models) {
    std::printf("%-32s %7lld %8lld %8s %12s\n", m.name.c_str(), static_cast<long long>(m.latest_version),
                static_cast<long long>(m.version_count), ChannelSummary(m, "stable").c_str(),
                ChannelSummary(m, "canary").c_str());
  }
  return 0;
}

int ModelsShow(int argc, char** argv) {
  ClientFlags cf;
  bool json_out = false;
  Flags flags("edgeloop models show NAME [--json]", "Shows a model's versions (with metrics) and channels.");
  flags.Bool("--json", &json_out, "print the server's JSON");
  cf.Add(flags);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "NAME"); !s.ok()) return UsageError(argv[0], s);
  const std::string& name = flags.positional()[0];
  if (Status s = registry::ValidateModelName(name); !s.ok()) return UsageError(argv[0], s);
  auto client = cf.Make();
  if (!client.ok()) return UsageError(argv[0], client.status());
  if (json_out) {
    auto raw = (*client)->GetRaw("/v1/models/" + name);
    if (!raw.ok()) return Fail(argv[0], raw.status());
    std::printf("%s\n", raw->c_str());
    return 0;
  }
  auto detail = (*client)->GetModel(name);
  if (!detail.ok()) return Fail(argv[0], detail.status());
  const registry::ModelInfo& m = detail->model;
  std::printf("model %s (created %s)\nstable: %s   canary: %s\n\n", m.name.c_str(), m.created.c_str(),
              ChannelSummary(m, "stable").c_str(), ChannelSummary(m, "canary").c_str());
  std::printf("%7s  %-20s %10s  %-12s  %-14s %s\n", "VERSION", "CREATED", "SIZE", "SHA256", "BY", "METRICS");
  for (const auto& v : detail->versions) {
    std::printf("%7lld  %-20s %10lld  %-12s  %-14s %s\n", static_cast<long long>(v.version), v.created.c_str(),
                static_cast<long long>(v.size), ShortSha(v.sha256).c_str(), v.published_by.c_str(),
                v.metrics_json.c_str());
  }
  return 0;
}

}  // namespace

EL_COMMAND("publish", "upload a model to the registry (prints its signed manifest)", Publish);
EL_COMMAND("promote", "point a registry channel (stable/canary) at a version", Promote);
EL_COMMAND("rollback", "point a registry channel back at its previous version", Rollback);
EL_COMMAND("models list", "list the registry's models", ModelsList);
EL_COMMAND("models show", "show a model's versions and channels", ModelsShow);

}  // namespace edgeloop::tools
