#include "edgeloop/server/serve.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

#include "edgeloop/edgetpu/check.h"
#include "edgeloop/registry/data_dir.h"
#include "edgeloop/tflite/io.h"

namespace edgeloop::server {

registry::ModelCheckFn DefaultTfliteCheck() {
  // The full reader: FlatBuffers Verifier plus semantic checks (tensor/buffer indices, data sizes,
  // operator signatures). A file it refuses could not be loaded on a device either.
  return [](std::span<const uint8_t> bytes) { return tflite::ReadModel(bytes).status(); };
}

registry::ModelCheckFn DefaultEdgeTpuCheck() {
  return [](std::span<const uint8_t> bytes) { return edgetpu::Check(bytes); };
}

Status ParseListenAddress(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Status::InvalidArgument("--listen '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  std::string p = text.substr(colon + 1);
  int value = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value < 0 || value > 65535) {
    return Status::InvalidArgument("--listen '" + text + "': port '" + p + "' is not in [0, 65535]");
  }
  *host = h;
  *port = value;
  return Status::Ok();
}

// <directory of the executable>/web when it holds index.html (the build puts the dashboard there).
std::string DefaultWebDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  std::string dir = exe.substr(0, exe.rfind('/')) + "/web";
  return access((dir + "/index.html").c_str(), R_OK) == 0 ? dir : "";
}

namespace {

class TokenAuthenticator final : public Authenticator {
 public:
  explicit TokenAuthenticator(registry::TokenStore* tokens) : tokens_(tokens) {}
  Result<Principal> Authenticate(const std::string& bearer_token) override {
    EL_ASSIGN_OR_RETURN(registry::TokenInfo t, tokens_->Authenticate(bearer_token));
    Principal p;
    p.name = t.name;
    p.role = registry::RoleName(t.role);
    p.device_id = t.device_id;
    return p;
  }

 private:
  registry::TokenStore* tokens_;  // must outlive the authenticator
};

}  // namespace

std::unique_ptr<Authenticator> MakeTokenAuthenticator(registry::TokenStore* tokens) {
  return std::make_unique<TokenAuthenticator>(tokens);
}

Result<std::unique_ptr<RegistryServer>> RegistryServer::Create(ServeOptions options) {
  if (options.data_dir.empty()) return Status::InvalidArgument("serve: --data DIR is required");
  if (options.manifest_ttl_days < 1) return Status::InvalidArgument("serve: --manifest-ttl-days must be >= 1");
  if (options.max_upload_bytes == 0) return Status::InvalidArgument("serve: --max-upload-bytes must be > 0");
  std::unique_ptr<RegistryServer> s(new RegistryServer());
  EL_RETURN_IF_ERROR(ParseListenAddress(options.listen, &s->host_, &s->port_));
  EL_RETURN_IF_ERROR(Env::Default()->CreateDirs(options.data_dir, 0700));

  // One server per data directory: a second one would sweep the first one's uploads in flight.
  const std::string lock_path = registry::ServeLockPath(options.data_dir);
  s->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd_ < 0) return Status::IOError(lock_path + ": open: " + std::strerror(errno));
  if (::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::Unavailable(lock_path + ": another 'edgeloop serve' is using " + options.data_dir);
  }

  registry::RegistryOptions ro;
  ro.data_dir = options.data_dir;
  ro.manifest_ttl_ms = options.manifest_ttl_days * 24 * 3600 * 1000;
  ro.gates.push_back(registry::MakeTfliteGate(options.tflite_check ? options.tflite_check : DefaultTfliteCheck()));
  if (!options.edgetpu_models.empty()) {
    std::set<std::string> names;
    for (const std::string& n : options.edgetpu_models) {
      EL_RETURN_IF_ERROR(registry::ValidateModelName(n).WithPrefix("--edgetpu-models"));
      names.insert(n);
    }
    ro.gates.push_back(registry::MakeEdgeTpuGate(
        std::move(names), options.edgetpu_check ? options.edgetpu_check : DefaultEdgeTpuCheck()));
  }
  if (!options.min_metrics.empty()) ro.gates.push_back(registry::MakeMetricFloorGate(options.min_metrics));
  EL_ASSIGN_OR_RETURN(s->registry_, registry::Registry::Open(std::move(ro)));
  EL_ASSIGN_OR_RETURN(s->tokens_, registry::TokenStore::Open(options.data_dir));
  s->auth_ = MakeTokenAuthenticator(s->tokens_.get());

  ApiServerOptions ao;
  ao.tls_cert_file = options.tls_cert_file;
  ao.tls_key_file = options.tls_key_file;
  ao.max_body_bytes = options.max_upload_bytes;
  ao.threads = options.threads;
  ao.anonymous_reads = options.dashboard_token_free;
  ao.authenticator = s->auth_.get();
  ao.metrics = &s->metrics_;
  EL_ASSIGN_OR_RETURN(s->api_, ApiServer::Create(std::move(ao)));
  s->routes_ = std::make_unique<RegistryRoutes>(s->registry_.get(), &s->metrics_, options.max_upload_bytes);
  s->api_->AddRoutes(*s->routes_);
  if (!options.web_dir.empty()) {  // here, so every serve path (with or without the store) has the dashboard
    Status st = s->api_->ServeStatic("/", options.web_dir);
    if (!st.ok()) return Status::NotFound("--web " + options.web_dir + ": " + st.message());
  }
  EL_ASSIGN_OR_RETURN(s->port_, s->api_->Listen(s->host_, s->port_));
  s->options_ = std::move(options);
  return s;
}

RegistryServer::~RegistryServer() {
  Stop();
  api_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Status RegistryServer::Start() { return api_->Start(); }

void RegistryServer::Stop() {
  if (api_ != nullptr) api_->Stop();
}

std::string RegistryServer::url() const {
  std::string host = host_ == "0.0.0.0" ? "127.0.0.1" : host_;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(api_ != nullptr && api_->tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

Status RunServe(ServeOptions options) {
  // Block the stop signals in every thread (the server's threads inherit this mask) and wait for
  // them here, so shutdown runs in normal code rather than in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client hanging up mid-download must not kill the server.
  signal(SIGPIPE, SIG_IGN);

  const std::string data_dir = options.data_dir;
  if (options.web_dir.empty()) options.web_dir = DefaultWebDir();
  const std::string web_dir = options.web_dir;
  EL_ASSIGN_OR_RETURN(auto server, RegistryServer::Create(std::move(options)));
  const bool dashboard = !web_dir.empty();
  const registry::SweepReport& sweep = server->registry().startup_sweep();
  if (sweep.temp_files_removed + sweep.orphans_removed > 0) {
    std::fprintf(stderr, "edgeloop serve: removed %d unfinished upload(s) and %d unreferenced artifact(s)\n",
                 sweep.temp_files_removed, sweep.orphans_removed);
  }
  for (const std::string& damage : server->registry().damaged_versions()) {
    std::fprintf(stderr, "edgeloop serve: warning: %s\n", damage.c_str());
  }
  EL_RETURN_IF_ERROR(server->Start());
  std::fprintf(stderr, "edgeloop serve: listening on %s (data %s, signing key %s)\n", server->url().c_str(),
               data_dir.c_str(), server->registry().public_key_hex().c_str());
  if (dashboard) std::fprintf(stderr, "edgeloop serve: dashboard at %s/ (files %s)\n", server->url().c_str(), web_dir.c_str());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "edgeloop serve: %s received, finishing in-flight requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server->Stop();
  std::fprintf(stderr, "edgeloop serve: stopped\n");
  return Status::Ok();
}

}  // namespace edgeloop::server
