#include "edgeloop/server/api_server.h"

#include <chrono>
#include <cstdio>
#include <regex>

#include "edgeloop/common/env.h"
#include "edgeloop/server/http_util.h"

namespace edgeloop::server {
namespace {

// Per-request bookkeeping between the pre-routing hook, the route wrapper and the logger, which
// httplib runs on the same worker thread for one request.
struct RequestState {
  std::string route;
  int64_t start_us = 0;
};
thread_local RequestState tl_request;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "/v1/models/{name}" -> regex "/v1/models/([^/]+)" and the parameter names in order.
std::pair<std::string, std::vector<std::string>> CompilePattern(const std::string& pattern) {
  std::string regex;
  std::vector<std::string> names;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{') {
      size_t close = pattern.find('}', i);
      names.push_back(pattern.substr(i + 1, close - i - 1));
      regex += "([^/]+)";
      i = close;
    } else {
      if (std::string_view(".^$|()[]*+?\\").find(c) != std::string_view::npos) regex += '\\';
      regex += c;
    }
  }
  return {regex, names};
}

// Reads and discards up to `limit` body bytes so that a client still sending its upload gets to
// read our early answer instead of a reset connection.
void DrainBody(const httplib::ContentReader& reader, uint64_t limit) {
  uint64_t seen = 0;
  reader([&](const char*, size_t n) {
    seen += n;
    return seen <= limit;
  });
}

}  // namespace

std::string RequestContext::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::string RequestContext::Query(const std::string& name) const { return req.get_param_value(name); }

ApiServer::ApiServer(ApiServerOptions options) : options_(std::move(options)) {
  if (options_.metrics == nullptr) {
    owned_metrics_ = std::make_unique<MetricsRegistry>();
    metrics_ = owned_metrics_.get();
  } else {
    metrics_ = options_.metrics;
  }
}

ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Create(ApiServerOptions options) {
  const bool want_tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (want_tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return Status::InvalidArgument("TLS needs both a certificate (--tls-cert) and a key (--tls-key)");
  }
  std::unique_ptr<ApiServer> s(new ApiServer(std::move(options)));
  if (want_tls) {
    for (const std::string& f : {s->options_.tls_cert_file, s->options_.tls_key_file}) {
      if (!Env::Default()->FileExists(f)) return Status::NotFound(f + ": TLS file does not exist");
    }
    auto ssl = std::make_unique<httplib::SSLServer>(s->options_.tls_cert_file.c_str(), s->options_.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Status::InvalidArgument(s->options_.tls_cert_file + ", " + s->options_.tls_key_file +
                                     ": cannot load the TLS certificate and key (PEM, matching pair?)");
    }
    s->http_ = std::move(ssl);
    s->tls_ = true;
  } else {
    s->http_ = std::make_unique<httplib::Server>();
  }
  s->InstallCommonHandlers();
  return s;
}

void ApiServer::InstallCommonHandlers() {
  const int threads = options_.threads > 0 ? options_.threads : 16;
  // httplib owns the queue it gets (its API takes a raw pointer and deletes it).
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  // Small JSON answers are written as header + body: without TCP_NODELAY, Nagle and delayed ACKs
  // add ~40 ms to every keep-alive request.
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_timeout(5);
  http_->set_read_timeout(30);
  http_->set_write_timeout(30);

  http_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    tl_request.route.clear();
    tl_request.start_us = NowMicros();
    // httplib 0.11 applies a parsed Range itself to every response body (and reads past the end
    // of a content provider for ranges beyond it). Routes that support ranges parse the header
    // themselves, so the parsed copy is dropped here. The Request is httplib's own non-const
    // object, handed to hooks as const.
    const_cast<httplib::Request&>(req).ranges.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                    httplib::Response& res) {
    if (res.body.empty() && !res.content_provider_) {
      std::string message;
      switch (res.status) {
        case 404: message = "no route for " + req.method + " " + req.path; break;
        case 413: message = "request body is larger than the server accepts"; break;
        case 416: message = "malformed Range header"; break;
        case 400: message = "malformed HTTP request"; break;
        default: message = "HTTP status " + std::to_string(res.status); break;
      }
      SendError(res, res.status, ErrorCodeForHttpStatus(res.status), message);
    }
    // Unhandled: keep our body as is (Handled would make httplib apply ranges to it).
    return httplib::Server::HandlerResponse::Unhandled;
  }));

  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, 500, "Internal", "internal error: " + what);
  });

  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string route = tl_request.route.empty() ? "unmatched" : tl_request.route;
    metrics_->GetCounter("edgeloop_http_requests_total", "HTTP requests by route, method and status.",
                         {{"route", route}, {"method", req.method}, {"status", std::to_string(res.status)}})
        .Increment();
    if (tl_request.start_us > 0) {
      metrics_->GetHistogram("edgeloop_http_request_duration_seconds", "HTTP request latency by route.",
                             MetricsRegistry::LatencyBuckets(), {{"route", route}})
          .Observe(static_cast<double>(NowMicros() - tl_request.start_us) / 1e6);
    }
    if (res.status >= 500) {
      std::fprintf(stderr, "edgeloop serve: %s %s -> %d %s\n", req.method.c_str(), req.path.c_str(), res.status,
                   res.body.substr(0, 300).c_str());
    }
    tl_request = RequestState{};
  });

  Get("/healthz", Access::kPublic, [this](RequestContext& ctx) {
    nlohmann::json checks = nlohmann::json::object();
    bool healthy = true;
    for (const auto& [name, check] : health_checks_) {
      Status s = check();
      checks[name] = s.ok() ? "ok" : s.ToString();
      healthy = healthy && s.ok();
    }
    SendJson(ctx.res, healthy ? 200 : 503, nlohmann::json{{"status", healthy ? "ok" : "unhealthy"}, {"checks", checks}});
  });
  Get("/metrics", Access::kPublic, [this](RequestContext& ctx) {
    ctx.res.status = 200;
    ctx.res.set_content(metrics_->RenderText(), "text/plain; version=0.0.4");
  });
}

bool ApiServer::Authorize(Access access, const httplib::Request& req, httplib::Response& res, Principal* principal) {
  if (access == Access::kPublic) return true;
  std::string token = BearerToken(req);
  if (token.empty() && options_.anonymous_reads && access == Access::kDevice) {
    principal->authenticated = true;
    principal->name = "anonymous";
    principal->role = "device";
    return true;
  }
  if (token.empty()) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "Unauthenticated", "missing bearer token (Authorization: Bearer <token>)");
    return false;
  }
  if (options_.authenticator == nullptr) {
    SendError(res, 401, "Unauthenticated", "this server has no token store");
    return false;
  }
  auto who = options_.authenticator->Authenticate(token);
  if (!who.ok()) {
    if (who.status().code() == StatusCode::kPermissionDenied) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      SendError(res, 401, "Unauthenticated", who.status().message());
    } else {
      SendError(res, 503, "Unavailable", "token lookup failed: " + who.status().message());
    }
    return false;
  }
  *principal = std::move(*who);
  principal->authenticated = true;
  if (access == Access::kAdmin && !principal->is_admin()) {
    SendError(res, 403, "PermissionDenied",
              "token '" + principal->name + "' has role '" + principal->role + "'; this needs an admin token");
    return false;
  }
  return true;
}

void ApiServer::Register(const std::string& method, const std::string& pattern, Access access, Handler handler,
                         UploadHandler upload) {
  auto [regex, names] = CompilePattern(pattern);
  auto params_of = [names = names](const httplib::Request& req) {
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i) params[names[i]] = req.matches[i + 1].str();
    return params;
  };
  if (upload) {
    http_->Post(regex, [this, pattern, access, upload, params_of](const httplib::Request& req, httplib::Response& res,
                                                                  const httplib::ContentReader& reader) {
      tl_request.route = pattern;
      Principal principal;
      if (!Authorize(access, req, res, &principal)) {
        res.set_header("Connection", "close");
        DrainBody(reader, 1 << 20);
        return;
      }
      // The body limit, enforced here for every upload route: httplib checks a declared
      // Content-Length only, and lets chunked bodies grow without bound.
      const uint64_t max = options_.max_body_bytes;
      auto too_large = [&res, max] {
        res.set_header("Connection", "close");
        SendError(res, 413, "PayloadTooLarge",
                  "request body is larger than this server accepts (" + std::to_string(max) + " bytes)");
      };
      if (req.has_header("Content-Length") && req.get_header_value<uint64_t>("Content-Length") > max) {
        return too_large();
      }
      bool over = false;
      httplib::ContentReader limited(
          [&reader, &over, max](httplib::ContentReceiver receiver) {
            uint64_t seen = 0;
            return reader([&](const char* data, size_t n) {
              seen += n;
              if (seen > max) {
                over = true;
                return false;
              }
              return receiver(data, n);
            });
          },
          reader.multipart_reader_);
      auto params = params_of(req);
      RequestContext ctx{req, res, principal, params};
      try {
        upload(ctx, limited);
      } catch (const std::exception& e) {
        SendError(res, 500, "Internal", std::string("internal error: ") + e.what());
      }
      if (over) too_large();
    });
    return;
  }
  auto wrapped = [this, pattern, access, handler, params_of](const httplib::Request& req, httplib::Response& res) {
    tl_request.route = pattern;
    Principal principal;
    if (!Authorize(access, req, res, &principal)) return;
    auto params = params_of(req);
    RequestContext ctx{req, res, principal, params};
    try {
      handler(ctx);
    } catch (const std::exception& e) {
      SendError(res, 500, "Internal", std::string("internal error: ") + e.what());
    }
  };
  if (method == "GET") http_->Get(regex, wrapped);
  if (method == "POST") http_->Post(regex, wrapped);
  if (method == "PUT") http_->Put(regex, wrapped);
  if (method == "DELETE") http_->Delete(regex, wrapped);
}

void ApiServer::Get(const std::string& pattern, Access access, Handler handler) {
  Register("GET", pattern, access, std::move(handler), nullptr);
}
void ApiServer::Post(const std::string& pattern, Access access, Handler handler) {
  Register("POST", pattern, access, std::move(handler), nullptr);
}
void ApiServer::Put(const std::string& pattern, Access access, Handler handler) {
  Register("PUT", pattern, access, std::move(handler), nullptr);
}
void ApiServer::Delete(const std::string& pattern, Access access, Handler handler) {
  Register("DELETE", pattern, access, std::move(handler), nullptr);
}
void ApiServer::PostUpload(const std::string& pattern, Access access, UploadHandler handler) {
  Register("POST", pattern, access, nullptr, std::move(handler));
}

Status ApiServer::ServeStatic(const std::string& url_prefix, const std::string& dir) {
  if (!http_->set_mount_point(url_prefix, dir)) return Status::NotFound(dir + ": cannot serve: not a directory");
  return Status::Ok();
}

void ApiServer::AddHealthCheck(const std::string& name, std::function<Status()> check) {
  health_checks_.emplace_back(name, std::move(check));
}

Result<int> ApiServer::Listen(const std::string& host, int port) {
  if (port < 0 || port > 65535) return Status::InvalidArgument("port " + std::to_string(port) + " is out of range");
  if (port == 0) {
    int bound = http_->bind_to_any_port(host);
    if (bound <= 0) return Status::IOError("cannot listen on " + host + ": bind failed");
    port_ = bound;
  } else {
    if (!http_->bind_to_port(host, port)) {
      return Status::IOError("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, or not an address of this host?)");
    }
    port_ = port;
  }
  return port_;
}

Status ApiServer::Start() {
  if (port_ == 0) return Status::InvalidArgument("ApiServer::Start before Listen");
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // Stop() only reaches a server that is running: wait for the accept loop to begin.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http_->is_running()) return Status::IOError("HTTP server did not start");
  return Status::Ok();
}

void ApiServer::Stop() {
  if (stopped_.exchange(true)) return;
  if (http_ != nullptr) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace edgeloop::server
