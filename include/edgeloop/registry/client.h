// RegistryClient: the registry HTTP API (`edgeloop serve`) from C++, for the CLI (`edgeloop
// publish/promote/rollback/models`), the retraining loop and the demo.
//
// Errors name the request and carry the server's answer: "POST /v1/models/vib/versions: HTTP 422
// GateRefused: publish refused by gate 'tflite': ...". HTTP statuses map to Status codes:
// 400/409/413/416/422 InvalidArgument, 401/403 PermissionDenied, 404 NotFound, 5xx and
// connection failures Unavailable, a certificate that does not verify PermissionDenied.
//
// TLS: https URLs verify the server's certificate and host name, against `ca_file` when given and
// the system store otherwise. Verification cannot be turned off.
//
// Thread-safety: every method is safe from any thread (each call opens its own connection).
#ifndef EDGELOOP_REGISTRY_CLIENT_H_
#define EDGELOOP_REGISTRY_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"

namespace edgeloop::registry {

struct ClientOptions {
  std::string server_url;  // "http://host:port" or "https://host:port"
  std::string token;       // bearer token
  std::string ca_file;     // PEM file of CAs to trust for https; "" = the system store
  int timeout_seconds = 60;
};

// Fills what `flags` leave empty from EDGELOOP_SERVER, EDGELOOP_TOKEN and EDGELOOP_CA_FILE.
ClientOptions ClientOptionsWithEnvironment(ClientOptions flags);

struct PublishOptions {
  std::string metrics_json = "{}";  // a JSON object, sent in the X-Edgeloop-Metrics header
  std::string channel;              // "" or a channel to point at the new version
  std::optional<double> share;      // canary share
};

// The metrics object of a manifest from a training or evaluation report: its scalar top-level
// fields (numbers, strings, booleans), then, while the whole stays under the metrics header's
// limit, `labels`, `confusion_matrix` and `epochs` (each epoch's numbers only: the training
// curves) for the dashboard. Errors: InvalidArgument for text that is not a JSON object.
Result<std::string> MetricsFromReport(const std::string& report_json);

struct WhoAmI {
  std::string name;
  std::string role;
  std::string device;
};

struct ModelDetail {
  ModelInfo model;
  std::vector<VersionInfo> versions;
};

class RegistryClient {
 public:
  // Errors: InvalidArgument for a missing or malformed URL, a missing CA file.
  static Result<std::unique_ptr<RegistryClient>> Create(ClientOptions options);

  const std::string& server_url() const { return options_.server_url; }

  Result<WhoAmI> GetWhoAmI();
  // Uploads a model file (streamed from disk). Checks the token first (GET /v1/whoami) so a bad
  // token is reported as such instead of as a broken upload. Returns the signed manifest JSON.
  Result<std::string> PublishFile(const std::string& model, const std::string& path, const PublishOptions& options);
  Result<std::string> PublishBytes(const std::string& model, const std::string& bytes, const PublishOptions& options);

  Result<std::vector<ModelInfo>> ListModels();
  Result<ModelDetail> GetModel(const std::string& model);
  Result<std::vector<VersionInfo>> ListVersions(const std::string& model);
  Result<std::string> GetManifestJson(const std::string& model, int64_t version);
  Result<ChannelState> GetChannel(const std::string& model, const std::string& channel);
  Result<ChannelState> Promote(const std::string& model, int64_t version, const std::string& channel,
                               std::optional<double> share = std::nullopt,
                               std::optional<int64_t> expected_version = std::nullopt);
  Result<ChannelState> Rollback(const std::string& model, const std::string& channel);
  Result<Assignment> GetAssignment(const std::string& device, const std::string& model);
  Result<std::vector<AuditEntry>> GetAudit(const std::string& model = "", int limit = 100);

  // Downloads a version's artifact to `path`: into `path + ".part"` first, resuming a previous
  // partial download with a Range request (guarded by If-Range on the ETag), then checks the
  // sha256 (against `expected_sha256`, or the ETag when empty), fsyncs and renames into place.
  // Errors: Corruption when the bytes do not match (the partial file is removed).
  Status DownloadArtifact(const std::string& model, int64_t version, const std::string& path,
                          const std::string& expected_sha256 = "");

  // GET of an API path, returning the body as is (for `--json` output).
  Result<std::string> GetRaw(const std::string& path);

 private:
  explicit RegistryClient(ClientOptions options) : options_(std::move(options)) {}
  using ReadAtFn = std::function<Result<size_t>(uint64_t offset, char* out, size_t n)>;
  Result<std::string> Upload(const std::string& model, uint64_t size, const ReadAtFn& read,
                             const PublishOptions& options, const std::string& source);
  ClientOptions options_;
};

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_CLIENT_H_
