#include "edgeloop/registry/artifacts.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgeloop::registry {
namespace {

constexpr std::string_view kTempSuffix = ".tmp";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string RandomHex(size_t bytes) {
  if (sodium_init() < 0) return std::to_string(::getpid());
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

}  // namespace

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

ArtifactFile::~ArtifactFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> ArtifactFile::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  for (;;) {
    ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Status::IOError(path_ + ": pread: " + std::strerror(errno));
  }
}

ArtifactStore::ArtifactStore(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

Status ArtifactStore::Init() { return env_->CreateDirs(dir_); }

std::string ArtifactStore::PathFor(const std::string& sha256) const { return JoinPath(dir_, sha256); }

Result<std::unique_ptr<ArtifactStore::Upload>> ArtifactStore::BeginUpload() {
  std::string temp = JoinPath(dir_, "upload-" + RandomHex(12) + std::string(kTempSuffix));
  EL_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(temp, false, 0644));
  return std::unique_ptr<Upload>(new Upload(this, temp, std::move(file)));
}

ArtifactStore::Upload::~Upload() {
  if (committed_) return;
  file_.reset();
  (void)store_->env_->RemoveFile(temp_path_);
}

Status ArtifactStore::Upload::Append(std::string_view data) {
  if (file_ == nullptr) return Status::InvalidArgument(temp_path_ + ": append after seal");
  EL_RETURN_IF_ERROR(file_->Append(data));
  hasher_.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  size_ += data.size();
  return Status::Ok();
}

Status ArtifactStore::Upload::Seal() {
  if (file_ == nullptr) return Status::InvalidArgument(temp_path_ + ": sealed twice");
  EL_RETURN_IF_ERROR(file_->Sync());
  EL_RETURN_IF_ERROR(file_->Close());
  file_.reset();
  sha256_ = hasher_.FinishHex();
  return Status::Ok();
}

Status ArtifactStore::Upload::Commit() {
  if (sha256_.empty()) return Status::InvalidArgument(temp_path_ + ": commit before seal");
  Env* env = store_->env_;
  std::string final_path = store_->PathFor(sha256_);
  auto existing = env->FileSize(final_path);
  if (existing.ok() && *existing == size_) {
    // Same bytes published before: content addressing makes the old file this one.
    EL_RETURN_IF_ERROR(env->RemoveFile(temp_path_));
  } else {
    EL_RETURN_IF_ERROR(env->RenameFile(temp_path_, final_path));
  }
  EL_RETURN_IF_ERROR(env->SyncDir(store_->dir_));
  committed_ = true;
  return Status::Ok();
}

Result<std::unique_ptr<ArtifactFile>> ArtifactStore::Open(const std::string& sha256, uint64_t expected_size) const {
  if (!IsSha256Hex(sha256)) return Status::InvalidArgument("artifact name '" + sha256 + "' is not a sha256");
  std::string path = PathFor(sha256);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": artifact missing");
    return Status::IOError(path + ": open: " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError(path + ": fstat: " + std::strerror(err));
  }
  auto file = std::unique_ptr<ArtifactFile>(new ArtifactFile(fd, static_cast<uint64_t>(st.st_size), sha256, path));
  if (file->size() != expected_size) {
    return Status::Corruption(path + ": artifact has " + std::to_string(file->size()) + " bytes, its version says " +
                              std::to_string(expected_size));
  }
  return file;
}

Result<SweepReport> ArtifactStore::Sweep(const std::set<std::string>& referenced) {
  EL_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_));
  SweepReport report;
  for (const std::string& name : names) {
    if (EndsWith(name, kTempSuffix)) {
      EL_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(dir_, name)));
      ++report.temp_files_removed;
    } else if (IsSha256Hex(name) && referenced.count(name) == 0) {
      EL_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(dir_, name)));
      ++report.orphans_removed;
    }
  }
  if (report.temp_files_removed + report.orphans_removed > 0) EL_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return report;
}

}  // namespace edgeloop::registry
