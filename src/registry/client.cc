#include "edgeloop/registry/client.h"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "edgeloop/common/env.h"
#include "edgeloop/registry/api_json.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::registry {
namespace {

using nlohmann::json;

constexpr const char* kMetricsHeader = "X-Edgeloop-Metrics";
constexpr size_t kMaxMetricsHeaderBytes = 7000;  // the server reads header lines up to 8 KiB

// An open file read with pread. Resource type.
class InputFile {
 public:
  static Result<std::unique_ptr<InputFile>> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      std::string msg = path + ": open: " + std::strerror(err);
      return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + ": not a regular file");
    }
    return std::unique_ptr<InputFile>(new InputFile(fd, static_cast<uint64_t>(st.st_size), path));
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  uint64_t size() const { return size_; }
  Result<size_t> ReadAt(uint64_t offset, char* out, size_t n) const {
    for (;;) {
      ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return Status::IOError(path_ + ": read: " + std::strerror(errno));
    }
  }

 private:
  InputFile(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string path_;
};

Result<std::string> Sha256OfFile(const std::string& path) {
  EL_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  Sha256 h;
  std::string buf(1 << 20, '\0');
  for (uint64_t off = 0; off < file->size();) {
    EL_ASSIGN_OR_RETURN(size_t n, file->ReadAt(off, buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf.data()), n));
    off += n;
  }
  return h.FinishHex();
}

Status StatusForHttp(int status, std::string message) {
  if (status == 401 || status == 403) return Status::PermissionDenied(std::move(message));
  if (status == 404) return Status::NotFound(std::move(message));
  if (status >= 500) return Status::Unavailable(std::move(message));
  return Status::InvalidArgument(std::move(message));
}

// "<what>: HTTP 422 GateRefused: <server message>".
Status HttpError(const std::string& what, const httplib::Response& res) {
  std::string detail;
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_discarded() && body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    detail = code + (message.empty() ? "" : ": " + message);
  } else {
    detail = res.body.substr(0, 200);
  }
  return StatusForHttp(res.status, what + ": HTTP " + std::to_string(res.status) + (detail.empty() ? "" : " " + detail));
}

std::string Quoted(const std::string& sha) { return "\"" + sha + "\""; }

}  // namespace

ClientOptions ClientOptionsWithEnvironment(ClientOptions flags) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  if (flags.server_url.empty()) flags.server_url = env("EDGELOOP_SERVER");
  if (flags.token.empty()) flags.token = env("EDGELOOP_TOKEN");
  if (flags.ca_file.empty()) flags.ca_file = env("EDGELOOP_CA_FILE");
  return flags;
}

Result<std::string> MetricsFromReport(const std::string& report_json) {
  json report = json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object()) return Status::InvalidArgument("metrics report: not a JSON object");
  json metrics = json::object();
  for (auto it = report.begin(); it != report.end(); ++it) {
    if (it->is_number() || it->is_string() || it->is_boolean()) metrics[it.key()] = *it;
  }
  auto dump = [](const json& j) { return j.dump(-1, ' ', true, json::error_handler_t::replace); };
  // What the dashboard draws, while it fits the metrics header: class names, the confusion
  // matrix, then the per-epoch numbers (training curves).
  const size_t budget = kMaxMetricsHeaderBytes - 500;
  auto add_if_fits = [&](const char* key, json value) {
    json with = metrics;
    with[key] = std::move(value);
    if (dump(with).size() <= budget) metrics = std::move(with);
  };
  if (report.contains("labels") && report["labels"].is_array()) {
    bool strings = true;
    for (const json& l : report["labels"]) strings = strings && l.is_string();
    if (strings) add_if_fits("labels", report["labels"]);
  }
  if (report.contains("confusion_matrix") && report["confusion_matrix"].is_array()) {
    add_if_fits("confusion_matrix", report["confusion_matrix"]);
  }
  if (report.contains("epochs") && report["epochs"].is_array() && !report["epochs"].empty()) {
    json epochs = json::array();
    for (const json& e : report["epochs"]) {
      if (!e.is_object()) continue;
      json numbers = json::object();
      for (auto it = e.begin(); it != e.end(); ++it) {
        if (it->is_number()) numbers[it.key()] = *it;
      }
      epochs.push_back(std::move(numbers));
    }
    add_if_fits("epochs", std::move(epochs));
  }
  return dump(metrics);
}

namespace {

// One connection per call: the client is thread-safe and a CLI makes few calls.
class Connection {
 public:
  Connection(const ClientOptions& o, std::string url) : url_(std::move(url)), client_(url_) {
    client_.enable_server_certificate_verification(true);
    if (!o.ca_file.empty()) client_.set_ca_cert_path(o.ca_file);
    if (!o.token.empty()) client_.set_bearer_token_auth(o.token);
    client_.set_tcp_nodelay(true);
    client_.set_connection_timeout(10);
    client_.set_read_timeout(o.timeout_seconds);
    client_.set_write_timeout(o.timeout_seconds);
  }
  httplib::Client& operator*() { return client_; }
  httplib::Client* operator->() { return &client_; }

  // A transport failure, in words that say what to check.
  Status Error(const std::string& what, httplib::Error e) {
    using httplib::Error;
    switch (e) {
      case Error::SSLServerVerification: {
        long v = client_.get_openssl_verify_result();
        return Status::PermissionDenied(what + ": TLS: the certificate of " + url_ + " is not trusted (" +
                                        X509_verify_cert_error_string(v) +
                                        "); pass --ca-file or set EDGELOOP_CA_FILE to the CA that signed it");
      }
      case Error::SSLConnection:
        return Status::Unavailable(what + ": TLS handshake with " + url_ + " failed (is it an https server?)");
      case Error::SSLLoadingCerts:
        return Status::InvalidArgument(what + ": cannot load the CA certificates (--ca-file / EDGELOOP_CA_FILE)");
      case Error::Connection:
      case Error::ConnectionTimeout:
        return Status::Unavailable(what + ": cannot connect to " + url_ + " (" + httplib::to_string(e) + ")");
      case Error::Write:
        return Status::Unavailable(what + ": connection lost while sending to " + url_ +
                                   " (the server may have refused the request before reading it all)");
      default:
        return Status::Unavailable(what + ": " + url_ + ": " + httplib::to_string(e));
    }
  }

 private:
  std::string url_;
  httplib::Client client_;
};

}  // namespace

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(ClientOptions options) {
  std::string& url = options.server_url;
  if (url.empty()) return Status::InvalidArgument("no server URL: pass --server URL or set EDGELOOP_SERVER");
  while (!url.empty() && url.back() == '/') url.pop_back();
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("server URL '" + url + "' must start with http:// or https://");
  }
  std::string rest = url.substr(https ? 8 : 7);
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return Status::InvalidArgument("server URL '" + url + "' must be scheme://host[:port] with no path");
  }
  if (!options.ca_file.empty() && !Env::Default()->FileExists(options.ca_file)) {
    return Status::NotFound(options.ca_file + ": CA file does not exist");
  }
  if (options.timeout_seconds <= 0) options.timeout_seconds = 60;
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(options)));
}

Result<std::string> RegistryClient::GetRaw(const std::string& path) {
  Connection c(options_, options_.server_url);
  const std::string what = "GET " + path;
  auto res = c->Get(path);
  if (!res) return c.Error(what, res.error());
  if (res->status != 200) return HttpError(what, *res);
  return res->body;
}

namespace {

Result<json> ParseBody(const std::string& what, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Corruption(what + ": the server's answer is not JSON");
  return j;
}

// Sends a JSON request and returns the parsed answer; `ok_status` is the expected success code.
Result<json> CallJson(Connection& c, const std::string& method, const std::string& path, const json* body,
                      int ok_status = 200) {
  const std::string what = method + " " + path;
  httplib::Result res = method == "GET"    ? c->Get(path)
                        : method == "PUT"  ? c->Put(path, body ? body->dump() : "{}", "application/json")
                                           : c->Post(path, body ? body->dump() : "{}", "application/json");
  if (!res) return c.Error(what, res.error());
  if (res->status != ok_status) return HttpError(what, *res);
  return ParseBody(what, res->body);
}

template <typename T>
Result<std::vector<T>> ParseList(const json& j, const char* field, Result<T> (*parse)(const json&)) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_array()) return Status::Corruption(std::string("answer has no '") + field + "' list");
  std::vector<T> out;
  for (const json& e : *it) {
    EL_ASSIGN_OR_RETURN(T v, parse(e));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

Result<WhoAmI> RegistryClient::GetWhoAmI() {
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/whoami", nullptr));
  return WhoAmI{j.value("name", ""), j.value("role", ""), j.value("device", "")};
}

Result<std::string> RegistryClient::PublishBytes(const std::string& model, const std::string& bytes,
                                                 const PublishOptions& options) {
  return Upload(
      model, bytes.size(),
      [&bytes](uint64_t offset, char* out, size_t n) -> Result<size_t> {
        size_t count = std::min<uint64_t>(n, bytes.size() - std::min<uint64_t>(offset, bytes.size()));
        std::memcpy(out, bytes.data() + offset, count);
        return count;
      },
      options, "model bytes");
}

Result<std::string> RegistryClient::PublishFile(const std::string& model, const std::string& path,
                                                const PublishOptions& options) {
  EL_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  InputFile* in = file.get();
  return Upload(
      model, in->size(), [in](uint64_t offset, char* out, size_t n) { return in->ReadAt(offset, out, n); }, options,
      path);
}

Result<std::string> RegistryClient::Upload(const std::string& model, uint64_t size, const ReadAtFn& read,
                                           const PublishOptions& options, const std::string& source) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  if (!options.channel.empty()) EL_RETURN_IF_ERROR(ValidateChannel(options.channel));
  json metrics = json::parse(options.metrics_json.empty() ? "{}" : options.metrics_json, nullptr, false);
  if (metrics.is_discarded() || !metrics.is_object()) return Status::InvalidArgument("metrics: not a JSON object");
  std::string metrics_line = metrics.dump(-1, ' ', true, json::error_handler_t::replace);
  if (metrics_line.size() > kMaxMetricsHeaderBytes) {
    return Status::InvalidArgument("metrics: " + std::to_string(metrics_line.size()) + " bytes is too large (at most " +
                                   std::to_string(kMaxMetricsHeaderBytes) + "); publish scalar metrics only");
  }

  EL_ASSIGN_OR_RETURN(WhoAmI me, GetWhoAmI());
  if (me.role != "admin") {
    return Status::PermissionDenied("token '" + me.name + "' has role '" + me.role + "'; publishing needs an admin token");
  }

  std::string target = "/v1/models/" + model + "/versions";
  std::string query;
  if (!options.channel.empty()) query += "channel=" + options.channel;
  if (options.share) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *options.share);
    query += std::string(query.empty() ? "" : "&") + "share=" + buf;
  }
  if (!query.empty()) target += "?" + query;

  Connection c(options_, options_.server_url);
  httplib::Headers headers{{kMetricsHeader, metrics_line}};
  Status read_error;
  auto res = c->Post(
      target, headers, static_cast<size_t>(size),
      [&read, &read_error](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[1 << 16];
        auto n = read(offset, buf, std::min(length, sizeof buf));
        if (!n.ok() || *n == 0) {
          read_error = n.ok() ? Status::IOError("input shrank while uploading") : n.status();
          return false;
        }
        return sink.write(buf, *n);
      },
      "application/octet-stream");
  const std::string what = "POST " + target;
  if (!read_error.ok()) return read_error.WithPrefix(what + ": " + source);
  if (!res) return c.Error(what, res.error());
  if (res->status != 201) return HttpError(what, *res);
  return res->body;
}

Result<std::vector<ModelInfo>> RegistryClient::ListModels() {
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/models", nullptr));
  return ParseList<ModelInfo>(j, "models", ModelInfoFromJson);
}

Result<ModelDetail> RegistryClient::GetModel(const std::string& model) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/models/" + model, nullptr));
  ModelDetail d;
  EL_ASSIGN_OR_RETURN(d.model, ModelInfoFromJson(j));
  EL_ASSIGN_OR_RETURN(d.versions, ParseList<VersionInfo>(j, "versions", VersionInfoFromJson));
  return d;
}

Result<std::vector<VersionInfo>> RegistryClient::ListVersions(const std::string& model) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/models/" + model + "/versions", nullptr));
  return ParseList<VersionInfo>(j, "versions", VersionInfoFromJson);
}

Result<std::string> RegistryClient::GetManifestJson(const std::string& model, int64_t version) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  return GetRaw("/v1/models/" + model + "/versions/" + std::to_string(version) + "/manifest");
}

Result<ChannelState> RegistryClient::GetChannel(const std::string& model, const std::string& channel) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/models/" + model + "/channels/" + channel, nullptr));
  return ChannelStateFromJson(j);
}

Result<ChannelState> RegistryClient::Promote(const std::string& model, int64_t version, const std::string& channel,
                                             std::optional<double> share, std::optional<int64_t> expected_version) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  json body{{"version", version}};
  if (share) body["share"] = *share;
  if (expected_version) body["expected_version"] = *expected_version;
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "PUT", "/v1/models/" + model + "/channels/" + channel, &body));
  return ChannelStateFromJson(j);
}

Result<ChannelState> RegistryClient::Rollback(const std::string& model, const std::string& channel) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  EL_RETURN_IF_ERROR(ValidateChannel(channel));
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "POST", "/v1/models/" + model + "/channels/" + channel + "/rollback", nullptr));
  return ChannelStateFromJson(j);
}

Result<Assignment> RegistryClient::GetAssignment(const std::string& device, const std::string& model) {
  EL_RETURN_IF_ERROR(ValidateDeviceId(device));
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", "/v1/devices/" + device + "/assignment?model=" + model, nullptr));
  return AssignmentFromJson(j);
}

Result<std::vector<AuditEntry>> RegistryClient::GetAudit(const std::string& model, int limit) {
  if (!model.empty()) EL_RETURN_IF_ERROR(ValidateModelName(model));
  std::string path = "/v1/audit?limit=" + std::to_string(limit) + (model.empty() ? "" : "&model=" + model);
  Connection c(options_, options_.server_url);
  EL_ASSIGN_OR_RETURN(json j, CallJson(c, "GET", path, nullptr));
  return ParseList<AuditEntry>(j, "entries", AuditEntryFromJson);
}

Status RegistryClient::DownloadArtifact(const std::string& model, int64_t version, const std::string& path,
                                        const std::string& expected_sha256) {
  EL_RETURN_IF_ERROR(ValidateModelName(model));
  std::string sha = expected_sha256;
  if (sha.empty()) {
    Connection c(options_, options_.server_url);
    EL_ASSIGN_OR_RETURN(json v, CallJson(c, "GET", "/v1/models/" + model + "/versions/" + std::to_string(version), nullptr));
    EL_ASSIGN_OR_RETURN(VersionInfo info, VersionInfoFromJson(v));
    sha = info.sha256;
  }
  Env* env = Env::Default();
  const std::string part = path + ".part";
  uint64_t have = 0;
  if (auto size = env->FileSize(part); size.ok()) have = *size;

  const std::string target = "/v1/models/" + model + "/versions/" + std::to_string(version) + "/artifact";
  const std::string what = "GET " + target;
  httplib::Headers headers;
  if (have > 0) {
    headers.emplace("Range", "bytes=" + std::to_string(have) + "-");
    headers.emplace("If-Range", Quoted(sha));
  }
  std::unique_ptr<WritableFile> out;
  Status write_status;
  std::string error_body;
  int status = 0;
  Connection c(options_, options_.server_url);
  auto res = c->Get(
      target, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        if (status == 206) {
          // Resume only exactly where our partial copy ends.
          std::string expect = "bytes " + std::to_string(have) + "-";
          if (r.get_header_value("Content-Range").rfind(expect, 0) != 0) {
            write_status = Status::Corruption(what + ": server resumed at '" + r.get_header_value("Content-Range") +
                                              "', expected " + expect);
            return false;
          }
          auto f = env->NewWritableFile(part, /*append=*/true);
          if (!f.ok()) write_status = f.status();
          else out = std::move(*f);
        } else if (status == 200) {
          auto f = env->NewWritableFile(part, /*append=*/false);  // start over
          if (!f.ok()) write_status = f.status();
          else out = std::move(*f);
        } else if (status == 416 && have > 0) {
          out.reset();  // the partial file is already complete (or garbage): checked below
        }
        return write_status.ok();
      },
      [&](const char* data, size_t n) {
        if (out == nullptr) {
          if (error_body.size() < 4096) error_body.append(data, n);
          return true;
        }
        write_status = out->Append(std::string_view(data, n));
        return write_status.ok();
      });
  if (!write_status.ok()) return write_status;
  if (!res) return c.Error(what, res.error());
  if (status != 200 && status != 206 && !(status == 416 && have > 0)) {
    httplib::Response r = *res;
    r.body = error_body;
    return HttpError(what, r);
  }
  if (out != nullptr) {
    EL_RETURN_IF_ERROR(out->Sync());
    EL_RETURN_IF_ERROR(out->Close());
  }
  EL_ASSIGN_OR_RETURN(std::string got, Sha256OfFile(part));
  if (got != sha) {
    (void)env->RemoveFile(part);
    return Status::Corruption(what + ": downloaded bytes have sha256 " + got + ", expected " + sha +
                              " (partial file removed; retry)");
  }
  EL_RETURN_IF_ERROR(env->RenameFile(part, path));
  return env->SyncDir(DirName(path));
}

}  // namespace edgeloop::registry
