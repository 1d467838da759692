#include "collector/journal.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace edgeloop::collector {
namespace {

uint32_t Fnv1a(std::string_view a, std::string_view b) {
  uint32_t h = 2166136261u;
  for (unsigned char c : a) h = (h ^ c) * 16777619u;
  for (unsigned char c : b) h = (h ^ c) * 16777619u;
  return h;
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Result<Journal> Journal::Open(const std::string& dir, bool fsync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("journal: cannot create directory '" + dir + "': " + ec.message());
  return Journal(dir, fsync);
}

Journal::Journal(Journal&& o) noexcept
    : dir_(std::move(o.dir_)), fsync_(o.fsync_), fd_(o.fd_), current_(std::move(o.current_)), next_(o.next_),
      buffer_(std::move(o.buffer_)) {
  o.fd_ = -1;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<std::pair<std::string, std::vector<JournalRecord>>>> Journal::ReadExisting() {
  std::vector<std::pair<uint64_t, std::string>> segs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("seg-", 0) != 0 || name.size() < 9 || name.substr(name.size() - 4) != ".log") continue;
    uint64_t n = std::strtoull(name.c_str() + 4, nullptr, 10);
    segs.emplace_back(n, e.path().string());
    next_ = std::max(next_, n + 1);
  }
  if (ec) return Status::IOError("journal: cannot list '" + dir_ + "': " + ec.message());
  std::sort(segs.begin(), segs.end());
  std::vector<std::pair<std::string, std::vector<JournalRecord>>> out;
  for (const auto& [n, path] : segs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IOError("journal: cannot read '" + path + "'");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<JournalRecord> recs;
    size_t p = 0;
    while (p + 12 <= data.size()) {
      uint32_t tl = GetU32(&data[p]), pl = GetU32(&data[p + 4]), sum = GetU32(&data[p + 8]);
      if (static_cast<uint64_t>(tl) + pl > data.size() - p - 12) break;  // torn tail
      std::string_view topic(&data[p + 12], tl), payload(&data[p + 12 + tl], pl);
      if (Fnv1a(topic, payload) != sum) break;  // damaged tail
      recs.push_back(JournalRecord{std::string(topic), std::string(payload)});
      p += 12 + tl + pl;
    }
    out.emplace_back(path, std::move(recs));
  }
  return out;
}

Result<std::string> Journal::Rotate() {
  std::string closed = current_;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  current_ = dir_ + "/seg-" + std::to_string(next_++) + ".log";
  fd_ = ::open(current_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::IOError(Errno("journal: cannot create '" + current_ + "'"));
  return closed;
}

Status Journal::Append(std::string_view topic, std::string_view payload) {
  if (fd_ < 0) return Status::IOError("journal: no open segment");
  char head[12];
  PutU32(head, static_cast<uint32_t>(topic.size()));
  PutU32(head + 4, static_cast<uint32_t>(payload.size()));
  PutU32(head + 8, Fnv1a(topic, payload));
  iovec iov[3] = {{head, 12}, {const_cast<char*>(topic.data()), topic.size()},
                  {const_cast<char*>(payload.data()), payload.size()}};
  size_t want = 12 + topic.size() + payload.size();
  ssize_t n = ::writev(fd_, iov, 3);
  if (n < 0 || static_cast<size_t>(n) != want) {
    return Status::IOError(Errno("journal: write to '" + current_ + "'"));
  }
  if (fsync_ && ::fdatasync(fd_) != 0) return Status::IOError(Errno("journal: fdatasync '" + current_ + "'"));
  return Status::Ok();
}

Status Journal::AppendAll(const std::vector<JournalRecord>& records) {
  if (fd_ < 0) return Status::IOError("journal: no open segment");
  buffer_.clear();
  for (const JournalRecord& r : records) {
    char head[12];
    PutU32(head, static_cast<uint32_t>(r.topic.size()));
    PutU32(head + 4, static_cast<uint32_t>(r.payload.size()));
    PutU32(head + 8, Fnv1a(r.topic, r.payload));
    buffer_.append(head, 12);
    buffer_ += r.topic;
    buffer_ += r.payload;
  }
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(Errno("journal: write to '" + current_ + "'"));
    done += static_cast<size_t>(n);
  }
  if (fsync_ && ::fdatasync(fd_) != 0) return Status::IOError(Errno("journal: fdatasync '" + current_ + "'"));
  return Status::Ok();
}

Status Journal::Remove(const std::string& path) {
  if (path.empty()) return Status::Ok();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::IOError(Errno("journal: cannot remove '" + path + "'"));
  return Status::Ok();
}

}  // namespace edgeloop::collector
