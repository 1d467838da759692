#include "edgeloop/loop/schedule.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "edgeloop/registry/client.h"

namespace edgeloop::loop {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<int64_t> ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  int64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : unit == "d" ? 86400000 : 0;
  if (digits == 0 || digits > 9 || scale == 0) {
    return Status::InvalidArgument("duration '" + std::string(text) +
                                   "': expected a positive integer and a unit (ms, s, m, h, d), e.g. 6h or 30m");
  }
  const int64_t n = std::stoll(std::string(text.substr(0, digits)));
  if (n <= 0) return Status::InvalidArgument("duration '" + std::string(text) + "' must be > 0");
  return n * scale;
}

RetrainScheduler::RetrainScheduler(store::Store* store, ScheduleOptions options)
    : store_(store), o_(std::move(options)) {}

RetrainScheduler::~RetrainScheduler() { Stop(); }

Result<std::unique_ptr<RetrainScheduler>> RetrainScheduler::Start(store::Store* store, ScheduleOptions o) {
  if (store == nullptr) return Status::InvalidArgument("retrain schedule: no store");
  if (o.every_ms <= 0 || o.canary_period_ms <= 0) {
    return Status::InvalidArgument("retrain schedule: the period and the canary period must be > 0");
  }
  if (o.retrain.original_csv.empty() || o.retrain.golden_csv.empty() || o.retrain.work_dir.empty()) {
    return Status::InvalidArgument("retrain schedule: the original data CSV, the golden CSV and a work directory are required");
  }
  if (o.retrain.server_url.empty() || o.retrain.token.empty()) {
    return Status::InvalidArgument("retrain schedule: a registry URL and an admin token are required");
  }
  for (const std::string* f : {&o.retrain.original_csv, &o.retrain.golden_csv}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*f, ec)) return Status::NotFound("retrain schedule: no file '" + *f + "'");
  }
  o.canary.model = o.retrain.model;
  o.canary.server_url = o.retrain.server_url;
  o.canary.token = o.retrain.token;
  std::unique_ptr<RetrainScheduler> s(new RetrainScheduler(store, std::move(o)));
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

void RetrainScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t RetrainScheduler::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

void RetrainScheduler::Log(const std::string& line) {
  if (o_.log) {
    o_.log(line);
  } else {
    std::fprintf(stderr, "edgeloop retrain schedule: %s\n", line.c_str());
    std::fflush(stderr);
  }
}

void RetrainScheduler::Record(const std::string& decision, const std::string& reason, int64_t candidate,
                              int64_t champion) {
  store::RetrainDecision d;
  d.model = o_.retrain.model;
  d.decision = decision;
  d.reason = reason;
  d.candidate_version = candidate;
  d.champion_version = champion;
  Status s = store_->AddRetrainDecision(d);
  if (!s.ok()) Log("cannot record the decision '" + decision + "': " + s.ToString());
}

void RetrainScheduler::Loop() {
  int64_t next_retrain = WallMs() + o_.every_ms;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const int64_t now = WallMs();
    const bool canary_due = canary_version_ > 0 && now >= canary_due_ms_;
    const bool retrain_due = now >= next_retrain;
    if (!canary_due && !retrain_due) {
      int64_t wake = canary_version_ > 0 ? std::min(next_retrain, canary_due_ms_) : next_retrain;
      cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wake - now)));
      continue;
    }
    lock.unlock();
    // Neither step may take the host down: errors become "failed" decisions, and so would a throw.
    auto guarded = [this](const char* what, void (RetrainScheduler::*step)()) {
      try {
        (this->*step)();
      } catch (const std::exception& e) {
        Log(std::string(what) + " threw: " + e.what());
        Record("failed", std::string(what) + " threw: " + e.what());
      }
    };
    if (canary_due) guarded("canary check", &RetrainScheduler::RunCanaryCheck);
    if (retrain_due) {
      next_retrain = WallMs() + o_.every_ms;
      if (canary_version_ > 0) {
        Log("retrain skipped: canary v" + std::to_string(canary_version_) + " is still being judged");
        if (skip_recorded_ != canary_version_) {  // once per canary, not every period
          Record("skipped", "canary v" + std::to_string(canary_version_) + " is still being judged", canary_version_);
          skip_recorded_ = canary_version_;
        }
      } else {
        guarded("retrain", &RetrainScheduler::RunRetrain);
      }
    }
    lock.lock();
    runs_ += (canary_due ? 1 : 0) + (retrain_due ? 1 : 0);
  }
}

void RetrainScheduler::RunRetrain() {
  const std::string& model = o_.retrain.model;
  auto fail = [&](const std::string& why, int64_t champion = 0) {
    Log("retrain failed: " + why);
    Record("failed", why, 0, champion);
  };
  registry::ClientOptions co;
  co.server_url = o_.retrain.server_url;
  co.token = o_.retrain.token;
  auto client = registry::RegistryClient::Create(co);
  if (!client.ok()) return fail(client.status().message());
  auto stable = (*client)->GetChannel(model, "stable");
  if (!stable.ok() || stable->version <= 0) {
    return fail("no stable version of model '" + model + "' to judge a candidate against" +
                (stable.ok() ? std::string() : ": " + stable.status().message()));
  }
  std::error_code ec;
  std::filesystem::create_directories(o_.retrain.work_dir, ec);
  const std::string champion = o_.retrain.work_dir + "/champion_v" + std::to_string(stable->version) + ".tflite";
  if (!std::filesystem::exists(champion, ec)) {
    Status s = (*client)->DownloadArtifact(model, stable->version, champion);
    if (!s.ok()) return fail("download of the champion v" + std::to_string(stable->version) + ": " + s.message(), stable->version);
  }
  RetrainOptions r = o_.retrain;
  r.champion_path = champion;
  r.champion_version = stable->version;
  Log("retraining " + model + " against the champion v" + std::to_string(stable->version));
  auto out = Retrain(*store_, r);
  if (!out.ok()) return fail(out.status().ToString(), stable->version);
  const store::RetrainDecision& d = out->decision;
  Log(d.decision + ": " + d.reason + " (" + std::to_string(out->training_windows) + " training windows, " +
      std::to_string(out->field_windows) + " from the field)");
  if (d.decision == "published_canary" && d.candidate_version > 0) {
    canary_version_ = d.candidate_version;
    canary_since_ms_ = WallMs();  // results before the publish are not the canary's
    canary_due_ms_ = canary_since_ms_ + o_.canary_period_ms;
  }
}

void RetrainScheduler::RunCanaryCheck() {
  CanaryOptions c = o_.canary;
  c.since_ms = canary_since_ms_;
  const int64_t version = canary_version_;
  auto d = CheckCanary(*store_, c);
  if (!d.ok()) {
    Log("canary check of v" + std::to_string(version) + " failed: " + d.status().ToString());
    Record("failed", "canary check: " + d.status().ToString(), version);
    canary_due_ms_ = WallMs() + o_.canary_period_ms;  // try again next period
    return;
  }
  Log("canary v" + std::to_string(version) + ": " + d->decision + ": " + d->reason);
  if (d->decision == "held" && d->candidate_version == version) {
    canary_due_ms_ = WallMs() + o_.canary_period_ms;
  } else {
    canary_version_ = 0;  // promoted, rolled back, or moved by someone else: judged
  }
}

}  // namespace edgeloop::loop
