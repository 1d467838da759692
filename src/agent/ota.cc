#include "agent/ota.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

namespace edgeloop::agent {
namespace {

constexpr int64_t kMaxModelBytes = 64 << 20;  // more than any model this device could run

// "https://host:port/prefix" -> {"https://host:port", "/prefix"}.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t sep = url.find("://");
  size_t slash = sep == std::string::npos ? std::string::npos : url.find('/', sep + 3);
  if (slash == std::string::npos) return {url, ""};
  std::string prefix = url.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return {url.substr(0, slash), prefix};
}

// The server's JSON error body ({"error": "...", "message": "..."}) or the first bytes of it.
std::string ServerMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return body.substr(0, 200);
}

}  // namespace

void MaybeCrashAt(const std::string& configured, const char* point) {
  if (!configured.empty() && configured == point) {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
}

OtaUpdater::OtaUpdater(OtaOptions options, ModelStore* store, Env* env, ModelLoader loader, Callbacks callbacks,
                       int64_t installed_version, std::string installed_sha256)
    : options_(std::move(options)),
      store_(store),
      env_(env),
      loader_(std::move(loader)),
      callbacks_(std::move(callbacks)),
      installed_version_(installed_version),
      installed_sha256_(std::move(installed_sha256)) {
  if (const char* cp = std::getenv("EDGELOOP_TEST_CRASH_POINT")) crash_point_ = cp;
}

OtaUpdater::~OtaUpdater() { Stop(); }

void OtaUpdater::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void OtaUpdater::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (active_client_ != nullptr) active_client_->Stop();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OtaUpdater::OfferManifest(std::string payload) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (offers_.size() >= 8) offers_.erase(offers_.begin());  // bounded: only the latest matter
    offers_.push_back({std::move(payload), "mqtt push"});
  }
  cv_.notify_all();
}

void OtaUpdater::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poke_ = true;
  }
  cv_.notify_all();
}

void OtaUpdater::Run() {
  const bool polling = options_.poll_seconds > 0 && !options_.registry_url.empty();
  std::minstd_rand rng(static_cast<unsigned>(std::hash<std::string>()(options_.device_id)));
  int64_t next_poll_ms = env_->NowMicros() / 1000 + options_.first_poll_ms;
  for (;;) {
    std::vector<Candidate> offers;
    bool poll = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (stop_) return;
        int64_t now_ms = env_->NowMicros() / 1000;
        if (!offers_.empty() || poke_ || (polling && now_ms >= next_poll_ms)) break;
        if (polling) {
          cv_.wait_for(lock, std::chrono::milliseconds(next_poll_ms - now_ms));
        } else {
          cv_.wait(lock);
        }
      }
      offers.swap(offers_);
      poll = poke_ || (polling && env_->NowMicros() / 1000 >= next_poll_ms);
      poke_ = false;
    }
    for (const Candidate& c : offers) Consider(c);
    if (poll && !options_.registry_url.empty()) {
      PollRegistry();
      // +-10% jitter so that a fleet started together does not poll together.
      std::uniform_real_distribution<double> jitter(0.9, 1.1);
      next_poll_ms = env_->NowMicros() / 1000 + static_cast<int64_t>(options_.poll_seconds * 1000 * jitter(rng));
    }
  }
}

Result<std::unique_ptr<HttpClient>> OtaUpdater::NewClient() {
  HttpClientOptions o;
  o.base = SplitUrl(options_.registry_url).first;
  o.token = options_.token;
  o.ca_file = options_.ca_file;
  return NewHttpClient(o);
}

Result<std::string> OtaUpdater::HttpGet(const std::string& path, int* status) {
  EL_ASSIGN_OR_RETURN(auto client, NewClient());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return Status::Unavailable("stopping");
    active_client_ = client.get();
  }
  std::string body;
  Status st = client->Get(
      SplitUrl(options_.registry_url).second + path, {},
      [&](const HttpHead& h) {
        *status = h.status;
        return true;
      },
      [&](const char* data, size_t len) {
        if (body.size() + len > (4u << 20)) return false;  // no registry answer to these routes is this big
        body.append(data, len);
        return true;
      });
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_client_ = nullptr;
  }
  if (!st.ok()) return Status::Unavailable(st.message());
  return body;
}

void OtaUpdater::Report(const std::string& state, int64_t version, const std::string& reason) {
  if (callbacks_.on_status) callbacks_.on_status(mqtt::OtaStatus{state, version, reason});
}

void OtaUpdater::PollRegistry() {
  const std::string path = "/v1/devices/" + options_.device_id + "/assignment?model=" + options_.model;
  int status = 0;
  auto body = HttpGet(path, &status);
  std::string& last_error = last_poll_error_;
  auto report_once = [&](const std::string& why) {
    if (why != last_error) Report("failed", 0, why);  // the same failure every poll is not news
    last_error = why;
  };
  if (!body.ok()) return report_once("registry poll: " + body.status().message());
  if (status == 404) {  // no version on the device's channel yet
    last_error.clear();
    return;
  }
  if (status != 200) {
    return report_once("registry poll: GET " + path + ": HTTP " + std::to_string(status) + ": " + ServerMessage(*body));
  }
  last_error.clear();
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (!j.is_object() || !j.contains("manifest") || !j["manifest"].is_object()) {
    return report_once("registry poll: the assignment has no manifest object");
  }
  Consider({j["manifest"].dump(), "registry poll"});
}

void OtaUpdater::Consider(const Candidate& c) {
  auto parsed = registry::ManifestFromJson(c.manifest_json);
  if (!parsed.ok()) {
    std::string key = "unparsable:" + registry::Sha256Hex(c.manifest_json);
    if (refused_.insert(key).second) Report("refused", 0, c.origin + ": " + parsed.status().message());
    return;
  }
  const registry::Manifest& m = *parsed;
  const std::string key = m.signature + ":" + std::to_string(m.version) + ":" + m.sha256;
  if (refused_.count(key)) return;
  auto refuse = [&](const std::string& why) {
    refused_.insert(key);
    Report("refused", m.version, why);
  };
  if (m.name != options_.model) {
    return refuse("manifest is for model '" + m.name + "', this device runs '" + options_.model + "'");
  }
  // What we run already (a retained push, a poll). The same version with other bytes is refused
  // below as not newer: a registry never changes a published version.
  if (m.version == installed_version_ && m.sha256 == installed_sha256_) return;
  Status st = registry::VerifyManifest(m, options_.public_key);
  if (!st.ok()) return refuse("signature: " + st.message());
  st = registry::CheckManifestAcceptable(m, installed_version_, env_->NowUnixMillis());
  if (!st.ok()) return refuse(st.message());
  if (m.size > kMaxModelBytes) return refuse("artifact of " + std::to_string(m.size) + " bytes is too big");
  if (options_.registry_url.empty()) {
    Report("failed", m.version, "no registry.url to download the artifact from");
    return;
  }

  Report("downloading", m.version, "");
  st = Download(m);
  if (!st.ok()) {
    if (st.code() == StatusCode::kUnavailable) {
      Report("failed", m.version, st.message() + " (will retry)");
    } else {
      refuse(st.message());
    }
    return;
  }
  MaybeCrashAt(crash_point_, "ota-after-download");
  auto placed = store_->Place(m.name, m.version, m.sha256, m.size);
  if (!placed.ok()) return Report("failed", m.version, "install: " + placed.status().message());
  MaybeCrashAt(crash_point_, "ota-after-rename");
  auto bytes = store_->ReadVerified(*placed);
  Result<std::unique_ptr<Model>> model =
      bytes.ok() ? LoadAndSmokeTest(loader_, *bytes) : Result<std::unique_ptr<Model>>(bytes.status());
  if (!model.ok()) {
    store_->Discard(*placed);
    return refuse(model.status().message());
  }
  st = store_->Commit(*placed);
  if (!st.ok()) {
    store_->Discard(*placed);
    return Report("failed", m.version, "install: " + st.message());
  }
  MaybeCrashAt(crash_point_, "ota-after-commit");
  installed_version_ = m.version;
  installed_sha256_ = m.sha256;
  if (callbacks_.on_installed) callbacks_.on_installed(std::move(*model), *placed);
  Report("installed", m.version, "");
}

Status OtaUpdater::Download(const registry::Manifest& m) {
  const std::string path = store_->PartialPath(m.sha256);
  const std::string url_path = SplitUrl(options_.registry_url).second + "/v1/models/" + m.name + "/versions/" +
                               std::to_string(m.version) + "/artifact";
  const std::string etag = "\"" + m.sha256 + "\"";
  for (int attempt = 0; attempt < 2; ++attempt) {
    int64_t have = 0;
    if (auto size = env_->FileSize(path); size.ok()) have = static_cast<int64_t>(*size);
    if (have > m.size) {
      EL_RETURN_IF_ERROR(env_->RemoveFile(path));
      have = 0;
    }
    if (have < m.size) {
      HttpHeaders headers;
      if (have > 0) {
        headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
        headers.emplace_back("If-Range", etag);  // resume only if the server has these very bytes
      }
      std::unique_ptr<WritableFile> file;
      Status problem;
      bool restart = false;
      int64_t received = 0;
      EL_ASSIGN_OR_RETURN(auto client, NewClient());
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return Status::Unavailable("download: stopping");
        active_client_ = client.get();
      }
      Status res = client->Get(
          url_path, headers,
          [&](const HttpHead& r) {
            int64_t total = -1;
            if (r.status == 206) {
              // "bytes first-last/total": it must continue exactly where our partial file ends.
              std::string cr = r.Header("Content-Range");
              long long first = -1, last = -1, t = -1;
              if (std::sscanf(cr.c_str(), "bytes %lld-%lld/%lld", &first, &last, &t) != 3 || first != have) {
                problem = Status::Unavailable("download: unexpected Content-Range '" + cr + "'");
                return false;
              }
              total = t;
            } else if (r.status == 200) {
              have = 0;  // the whole artifact (the server ignored Range, or If-Range did not match)
              if (r.Has("Content-Length")) total = std::strtoll(r.Header("Content-Length").c_str(), nullptr, 10);
            } else if (r.status == 416) {
              restart = true;  // our partial file is not a prefix of this artifact
              return false;
            } else {
              Status st = Status::Unavailable("download: GET " + url_path + ": HTTP " + std::to_string(r.status));
              problem = r.status == 404 ? Status::Unavailable(st.message() + " (version not on the server)") : st;
              return false;
            }
            if (total >= 0 && total != m.size) {
              problem = Status::Corruption("download: the artifact is " + std::to_string(total) +
                                           " bytes, the manifest says " + std::to_string(m.size));
              return false;
            }
            auto f = env_->NewWritableFile(path, /*append=*/have > 0);
            if (!f.ok()) {
              problem = f.status();
              return false;
            }
            file = std::move(*f);
            return true;
          },
          [&](const char* data, size_t len) {
            received += static_cast<int64_t>(len);
            if (have + received > m.size) {
              problem = Status::Corruption("download: the server sent more than the manifest's " +
                                           std::to_string(m.size) + " bytes");
              return false;
            }
            Status st = file->Append(std::string_view(data, len));
            if (!st.ok()) {
              problem = st;
              return false;
            }
            return true;
          });
      {
        std::lock_guard<std::mutex> lock(mu_);
        active_client_ = nullptr;
      }
      if (file) {
        // Keep what arrived (fsynced), so that a restart resumes instead of starting over.
        Status st = file->Sync();
        if (st.ok()) st = file->Close();
        if (!st.ok() && problem.ok()) problem = st;
      }
      if (restart) {
        EL_RETURN_IF_ERROR(env_->RemoveFile(path));
        continue;
      }
      if (!problem.ok()) {
        if (problem.code() == StatusCode::kCorruption) (void)env_->RemoveFile(path);
        return problem;
      }
      if (!res.ok()) {
        return Status::Unavailable("download interrupted after " + std::to_string(have + received) + " of " +
                                   std::to_string(m.size) + " bytes: " + res.message());
      }
      have += received;
      if (have != m.size) {
        return Status::Unavailable("download: got " + std::to_string(have) + " of " + std::to_string(m.size) +
                                   " bytes");
      }
    }
    // Complete: the bytes must be the ones that were signed.
    EL_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(path));
    std::string sha = registry::Sha256Hex(bytes);
    if (sha != m.sha256) {
      (void)env_->RemoveFile(path);
      return Status::Corruption("sha256 of the artifact is " + sha + ", the manifest says " + m.sha256);
    }
    return Status::Ok();
  }
  return Status::Unavailable("download: the server does not accept our partial file; will start over");
}

}  // namespace edgeloop::agent
