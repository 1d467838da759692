#include "agent/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "agent/spool_format.h"

namespace edgeloop::agent {
namespace {

namespace fmt = spool_format;

constexpr const char* kAckName = "acked";
constexpr size_t kSegmentNameDigits = 20;

std::string Errno(int e) {
  std::string s = std::strerror(e);
  if (e == ENOSPC || e == EFBIG || e == EDQUOT) s += " (disk full)";
  return s;
}

Status WriteAll(int fd, const char* data, size_t n, off_t at) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, at);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(Errno(errno));
    }
    if (w == 0) return Status::IOError(Errno(ENOSPC));
    data += w;
    n -= static_cast<size_t>(w);
    at += w;
  }
  return Status::Ok();
}

// Zeros over [from, to) of the file, a block at a time.
Status WriteZeros(int fd, off_t from, off_t to) {
  if (from >= to) return Status::Ok();
  const std::string zeros(static_cast<size_t>(std::min<off_t>(to - from, off_t{64} << 10)), '\0');  // not in the binary
  for (off_t at = from; at < to;) {
    const size_t n = static_cast<size_t>(std::min<off_t>(to - at, static_cast<off_t>(zeros.size())));
    EL_RETURN_IF_ERROR(WriteAll(fd, zeros.data(), n, at));
    at += static_cast<off_t>(n);
  }
  return Status::Ok();
}

Status ReadAll(int fd, char* data, size_t n, off_t at) {
  while (n > 0) {
    ssize_t r = ::pread(fd, data, n, at);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::strerror(errno));
    }
    if (r == 0) return Status::IOError("unexpected end of file");
    data += r;
    n -= static_cast<size_t>(r);
    at += r;
  }
  return Status::Ok();
}

Status ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("spool " + path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  Status s = ::fstat(fd, &st) == 0 ? Status::Ok() : Status::IOError(std::strerror(errno));
  if (s.ok()) {
    out->resize(static_cast<size_t>(st.st_size));
    s = ReadAll(fd, out->data(), out->size(), 0);
  }
  ::close(fd);
  return s.ok() ? s : s.WithPrefix("spool " + path);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("spool " + dir + ": cannot open: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("spool " + dir + ": fsync: " + std::strerror(e));
  return Status::Ok();
}

// A store into the mapped segment raises SIGBUS where write() would return EIO: a page that cannot
// be read back (a failing SD card), or a file cut short underneath the spool. The handler turns
// that into an error of the Put, as write() would, instead of killing the device's agent; any
// other SIGBUS goes to what handled it before.
// volatile: the stores around the memcpy must happen (the compiler knows memcpy does not read it).
thread_local sigjmp_buf* volatile t_store_jump = nullptr;
struct sigaction g_previous_sigbus;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  if (t_store_jump != nullptr) siglongjmp(*t_store_jump, 1);
  if ((g_previous_sigbus.sa_flags & SA_SIGINFO) != 0 && g_previous_sigbus.sa_sigaction != nullptr) {
    g_previous_sigbus.sa_sigaction(sig, info, context);
  } else if (g_previous_sigbus.sa_handler != SIG_DFL && g_previous_sigbus.sa_handler != SIG_IGN) {
    g_previous_sigbus.sa_handler(sig);
  } else {
    ::signal(SIGBUS, SIG_DFL);  // the default action, at once
    ::raise(sig);
  }
}

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;  // not blocked in the handler: nothing to unblock after the jump
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous_sigbus);
  });
}

// memcpy into the mapping; false if it faulted (nothing to undo: the caller zeroes the range).
bool GuardedCopy(char* dst, const char* src, size_t n) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, /*savemask=*/0) != 0) {  // no signal mask saved: no system call per store
    t_store_jump = nullptr;
    return false;
  }
  t_store_jump = &jump;
  std::memcpy(dst, src, n);
  t_store_jump = nullptr;
  return true;
}

// "00000000000000000042.seg" -> 42; -1 for any other name.
int64_t SegmentId(const char* name) {
  size_t n = std::strlen(name);
  if (n != kSegmentNameDigits + 4 || std::strcmp(name + kSegmentNameDigits, ".seg") != 0) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v >= 1 ? v : -1;
}

}  // namespace

FileSpool::FileSpool(const FileSpoolOptions& options) : options_(options) {}

FileSpool::~FileSpool() {
  UnmapActive();
  if (active_fd_ >= 0) {
    if (seg_unsynced_) ::fdatasync(active_fd_);
    ::close(active_fd_);
  }
  if (ack_fd_ >= 0) {
    if (ack_dirty_) (void)WriteAck(false);
    ::close(ack_fd_);
  }
}

Result<std::unique_ptr<FileSpool>> FileSpool::Open(const std::string& dir, const FileSpoolOptions& options) {
  std::unique_ptr<FileSpool> s(new FileSpool(options));
  s->dir_ = dir;
  EL_RETURN_IF_ERROR(s->Init());
  return s;
}

std::string FileSpool::SegmentPath(int64_t first_id) const {
  std::string digits = std::to_string(first_id);
  return dir_ + "/" + std::string(kSegmentNameDigits - std::min(kSegmentNameDigits, digits.size()), '0') + digits +
         ".seg";
}

Status FileSpool::Init() {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("spool " + dir_ + ": cannot create: " + std::strerror(errno));
  }
  // The ack state.
  const std::string ack_path = dir_ + "/" + kAckName;
  fmt::AckState ack;
  ack_fd_ = ::open(ack_path.c_str(), O_RDWR | O_CLOEXEC);
  if (ack_fd_ < 0) {
    if (errno != ENOENT) return Status::IOError("spool " + ack_path + ": cannot open: " + std::strerror(errno));
    // New: both slots written to a temporary file that is renamed into place once durable, so an
    // existing ack file always has an intact slot.
    const std::string tmp = ack_path + ".tmp";
    int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IOError("spool " + tmp + ": cannot create: " + std::strerror(errno));
    std::string slots = fmt::EncodeAckSlot(ack);
    slots += slots;
    Status st = WriteAll(fd, slots.data(), slots.size(), 0);
    if (st.ok() && ::fdatasync(fd) != 0) st = Status::IOError(std::strerror(errno));
    if (st.ok() && ::rename(tmp.c_str(), ack_path.c_str()) != 0) st = Status::IOError(std::strerror(errno));
    if (!st.ok()) {
      ::close(fd);
      return st.WithPrefix("spool " + tmp);
    }
    ack_fd_ = fd;
    dir_unsynced_ = true;
  } else {
    std::string data;
    EL_RETURN_IF_ERROR(ReadFile(ack_path, &data));
    std::string error;
    if (!fmt::DecodeAckFile(data, &ack, &error)) {
      if (!options_.salvage) return Status::Corruption("spool " + ack_path + ": damaged ack state (" + error + ")");
      notes_.push_back("spool " + ack_path + ": damaged ack state (" + error +
                       "); every stored message counts as unacknowledged and is sent again");
      ack = fmt::AckState{};
      ack_dirty_ = true;
    }
    ack_generation_ = ack.generation;
  }

  // The segments, in id order.
  std::vector<int64_t> ids;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      int64_t id = SegmentId(e->d_name);
      if (id > 0) ids.push_back(id);
    }
    ::closedir(d);
  } else {
    return Status::IOError("spool " + dir_ + ": cannot list: " + std::strerror(errno));
  }
  std::sort(ids.begin(), ids.end());
  int64_t max_seq[kStreamCount] = {0, 0};
  int64_t salvage_lost = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string path = SegmentPath(ids[i]);
    const bool last = i + 1 == ids.size();
    if (!segs_.empty() && ids[i] <= segs_.back().last_id()) {
      return Status::Corruption("spool " + path + ": its first id " + std::to_string(ids[i]) +
                                " overlaps the previous segment (up to id " + std::to_string(segs_.back().last_id()) +
                                ")");
    }
    EL_RETURN_IF_ERROR(ReadFile(path, &buf_));
    Segment seg;
    seg.first_id = ids[i];
    fmt::SegmentScan scan = fmt::ScanSegment(buf_, ids[i], [&](const fmt::RecordView& r, size_t off, size_t) {
      seg.offsets.push_back(static_cast<uint32_t>(off));
      max_seq[r.stream] = std::max(max_seq[r.stream], r.seq);
    });
    seg.end = static_cast<uint32_t>(scan.valid_end);
    if (!scan.error.empty()) {
      const std::string where = "spool " + path + ": offset " + std::to_string(scan.valid_end) + ": " + scan.error;
      if (last && (scan.valid_end > 0 || buf_.size() < fmt::kSegmentHeaderBytes)) {
        // A crash in the middle of an append (or of creating the segment): cut the torn tail.
        if (scan.valid_end == 0) {
          if (::unlink(path.c_str()) != 0) return Status::IOError(where + ": cannot remove: " + std::strerror(errno));
          notes_.push_back(where + "; removed the incomplete segment");
          continue;
        }
        // Zeroed, not truncated: the segment keeps the blocks it was created with.
        const size_t torn = buf_.find_last_not_of('\0') + 1 - scan.valid_end;
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        Status zeroed = fd < 0 ? Status::IOError(std::strerror(errno))
                               : WriteZeros(fd, static_cast<off_t>(scan.valid_end), static_cast<off_t>(buf_.size()));
        if (zeroed.ok() && ::fdatasync(fd) != 0) zeroed = Status::IOError(std::strerror(errno));
        if (fd >= 0) ::close(fd);
        if (!zeroed.ok()) return Status::IOError(where + ": cannot cut the torn record: " + zeroed.message());
        notes_.push_back(where + "; cut " + std::to_string(torn) + " byte(s) of a torn record (a crash during a write)");
      } else if (!options_.salvage) {
        return Status::Corruption(where);
      } else {
        const int64_t next_first = last ? std::max(ack.next_id, seg.first_id) : ids[i + 1];
        const int64_t lost = std::max<int64_t>(0, next_first - (seg.first_id + static_cast<int64_t>(seg.offsets.size())));
        salvage_lost += lost;
        notes_.push_back(where + "; kept the " + std::to_string(seg.offsets.size()) +
                         " intact record(s) before it, counted " + std::to_string(lost) + " as dropped");
        if (seg.end == 0) seg.end = static_cast<uint32_t>(fmt::kSegmentHeaderBytes);  // nothing is read from it
      }
    }
    segs_.push_back(std::move(seg));
  }

  // Counters: the ack state's, and never below what the segments hold.
  next_id_ = std::max<int64_t>(1, ack.next_id);
  for (int s = 0; s < kStreamCount; ++s) next_seq_[s] = std::max({int64_t{1}, ack.next_seq[s], max_seq[s] + 1});
  for (const Segment& seg : segs_) next_id_ = std::max(next_id_, seg.last_id() + 1);
  stats_.dropped = ack.dropped + salvage_lost;
  if (salvage_lost > 0) ack_dirty_ = true;

  // Liveness: everything not acknowledged by the ack state.
  size_t r = 0;
  for (Segment& seg : segs_) {
    seg.live.assign(seg.offsets.size(), false);
    for (size_t k = 0; k < seg.offsets.size(); ++k) {
      const int64_t id = seg.first_id + static_cast<int64_t>(k);
      while (r < ack.ranges.size() && ack.ranges[r].second < id) ++r;
      const bool acked = id < ack.low || (r < ack.ranges.size() && ack.ranges[r].first <= id);
      if (!acked) {
        seg.live[k] = true;
        ++seg.live_count;
        ++stats_.count;
        stats_.bytes += seg.RecordSize(k) - static_cast<int64_t>(fmt::kRecordOverhead);
      }
    }
  }
  // The whole segments read above must not stay resident (the agent's memory target).
  buf_.clear();
  buf_.shrink_to_fit();
  EL_RETURN_IF_ERROR(OpenActive());
  if (ack_dirty_) EL_RETURN_IF_ERROR(WriteAck(false));
  return Reclaim();
}

Status FileSpool::OpenActive() {
  if (!segs_.empty()) {
    Segment& last = segs_.back();
    // Appending continues the last segment if the next id follows its records (after a power loss
    // the ack state may know of later ids than the segment kept) and it has room.
    if (last.last_id() + 1 == next_id_ && last.end < options_.segment_bytes) {
      const std::string path = SegmentPath(last.first_id);
      active_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (active_fd_ < 0) return Status::IOError("spool " + path + ": cannot open: " + std::strerror(errno));
      struct stat st;
      active_capacity_ = ::fstat(active_fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : last.end;
      MapActive();
      return Status::Ok();
    }
  }
  return Rotate();
}

Status FileSpool::Rotate() {
  // The finished segment becomes durable first: damage in any but the last segment is then real
  // corruption, never a crash artefact.
  if (active_fd_ >= 0 && seg_unsynced_) {
    if (::fdatasync(active_fd_) != 0) {
      return Status::IOError("spool " + SegmentPath(segs_.back().first_id) + ": fdatasync: " + Errno(errno));
    }
    seg_unsynced_ = false;
  }
  const std::string path = SegmentPath(next_id_);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("spool " + path + ": cannot create: " + Errno(errno));
  Status st = WriteAll(fd, fmt::kSegmentMagic.data(), fmt::kSegmentHeaderBytes, 0);
  if (!st.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return st.WithPrefix("spool " + path);
  }
  // Written full of zeros (spool_format.h). Without room for that (a nearly full disk) the segment
  // grows with its records instead, and a full disk shows at the Put that needs the space.
  active_capacity_ = static_cast<int64_t>(fmt::kSegmentHeaderBytes);
  if (WriteZeros(fd, active_capacity_, options_.segment_bytes).ok()) {
    active_capacity_ = std::max(active_capacity_, options_.segment_bytes);
  } else {
    (void)::ftruncate(fd, active_capacity_);
  }
  UnmapActive();
  if (active_fd_ >= 0) ::close(active_fd_);
  active_fd_ = fd;
  MapActive();
  Segment seg;
  seg.first_id = next_id_;
  seg.end = static_cast<uint32_t>(fmt::kSegmentHeaderBytes);
  segs_.push_back(std::move(seg));
  seg_unsynced_ = true;
  dir_unsynced_ = true;
  return Status::Ok();
}

void FileSpool::MapActive() {
  if (active_capacity_ <= static_cast<int64_t>(fmt::kSegmentHeaderBytes)) return;
  InstallSigbusHandler();
  void* p = ::mmap(nullptr, static_cast<size_t>(active_capacity_), PROT_READ | PROT_WRITE, MAP_SHARED, active_fd_, 0);
  if (p == MAP_FAILED) return;  // write() then, as for the part of a segment past its zeros
  active_map_ = static_cast<char*>(p);
  active_map_bytes_ = static_cast<size_t>(active_capacity_);
}

void FileSpool::UnmapActive() {
  if (active_map_ != nullptr) ::munmap(active_map_, active_map_bytes_);
  active_map_ = nullptr;
  active_map_bytes_ = 0;
}

bool FileSpool::Locate(int64_t id, size_t* seg, size_t* index) const {
  auto it = std::upper_bound(segs_.begin(), segs_.end(), id,
                             [](int64_t v, const Segment& s) { return v < s.first_id; });
  if (it == segs_.begin()) return false;
  --it;
  if (id > it->last_id()) return false;
  *seg = static_cast<size_t>(it - segs_.begin());
  *index = static_cast<size_t>(id - it->first_id);
  return true;
}

int64_t FileSpool::Kill(size_t seg, size_t index) {
  Segment& s = segs_[seg];
  s.live[index] = false;
  --s.live_count;
  const int64_t bytes = s.RecordSize(index) - static_cast<int64_t>(fmt::kRecordOverhead);
  --stats_.count;
  stats_.bytes -= bytes;
  return bytes;
}

Status FileSpool::WriteAck(bool durable) {
  fmt::AckState st;
  st.generation = ack_generation_ + 1;
  st.next_id = next_id_;
  st.next_seq[0] = next_seq_[0];
  st.next_seq[1] = next_seq_[1];
  st.dropped = stats_.dropped;
  st.low = next_id_;
  // low = the first live id; then the runs of acknowledged ids above it (as many as fit: one left
  // out only means that message is sent again after a restart).
  bool found_live = false;
  int64_t run_first = -1, run_last = -1;
  for (const Segment& seg : segs_) {
    if (seg.live_count == 0 && !found_live) continue;
    for (size_t k = 0; k < seg.live.size() && st.ranges.size() < fmt::kAckMaxRanges; ++k) {
      const int64_t id = seg.first_id + static_cast<int64_t>(k);
      if (seg.live[k]) {
        if (!found_live) {
          found_live = true;
          st.low = id;
        } else if (run_first >= 0) {
          st.ranges.emplace_back(run_first, run_last);
          run_first = -1;
        }
      } else if (found_live) {
        if (run_first < 0) run_first = id;
        run_last = id;
      }
    }
  }
  if (run_first >= 0 && st.ranges.size() < fmt::kAckMaxRanges) st.ranges.emplace_back(run_first, run_last);
  const std::string slot = fmt::EncodeAckSlot(st);
  const off_t at = static_cast<off_t>((st.generation % 2) * fmt::kAckSlotBytes);
  const std::string path = dir_ + "/" + kAckName;
  Status s = WriteAll(ack_fd_, slot.data(), slot.size(), at);
  if (!s.ok()) return s.WithPrefix("spool " + path);
  if (durable && ::fdatasync(ack_fd_) != 0) return Status::IOError("spool " + path + ": fdatasync: " + Errno(errno));
  ack_generation_ = st.generation;
  ack_dirty_ = false;
  return Status::Ok();
}

Status FileSpool::Reclaim() {
  bool any = false;
  for (size_t i = 0; i + 1 < segs_.size(); ++i) any = any || segs_[i].live_count == 0;
  if (!any) return Status::Ok();
  // The counters and the acknowledgements are durable before the messages they cover disappear.
  EL_RETURN_IF_ERROR(WriteAck(true));
  std::vector<Segment> kept;
  kept.reserve(segs_.size());
  Status result;
  for (size_t i = 0; i < segs_.size(); ++i) {
    if (i + 1 < segs_.size() && segs_[i].live_count == 0) {
      const std::string path = SegmentPath(segs_[i].first_id);
      if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
        dir_unsynced_ = true;
        continue;
      }
      if (result.ok()) result = Status::IOError("spool " + path + ": cannot remove: " + std::strerror(errno));
    }
    kept.push_back(std::move(segs_[i]));
  }
  segs_ = std::move(kept);
  return result;
}

Result<int64_t> FileSpool::Put(Stream stream, int64_t seq, const std::string& topic, const std::string& payload,
                               int64_t created_ms) {
  const int si = static_cast<int>(stream);
  if (seq != next_seq_[si]) {
    return Status::InvalidArgument("spool: seq " + std::to_string(seq) + " is not the next one (" +
                                   std::to_string(next_seq_[si]) + ")");
  }
  const int64_t size = static_cast<int64_t>(topic.size() + payload.size());
  if (size > options_.max_bytes) {
    return Status::InvalidArgument("spool: a message of " + std::to_string(size) + " bytes exceeds spool.max_bytes (" +
                                   std::to_string(options_.max_bytes) + ")");
  }
  if (topic.size() > 0xffff || size + fmt::kRecordFixedBodyBytes > fmt::kMaxBodyBytes) {
    return Status::InvalidArgument("spool: a message with a topic of " + std::to_string(topic.size()) +
                                   " bytes and " + std::to_string(size) + " bytes in all is too big to store");
  }
  // The oldest messages that must go for this one to fit; dropped only once it is stored.
  std::vector<std::pair<size_t, size_t>> victims;
  if (stats_.bytes + size > options_.max_bytes) {
    int64_t bytes = stats_.bytes;
    for (size_t i = 0; i < segs_.size() && bytes + size > options_.max_bytes; ++i) {
      const Segment& seg = segs_[i];
      for (size_t k = 0; k < seg.live.size() && bytes + size > options_.max_bytes; ++k) {
        if (!seg.live[k]) continue;
        victims.emplace_back(i, k);
        bytes -= seg.RecordSize(k) - static_cast<int64_t>(fmt::kRecordOverhead);
      }
    }
  }
  const int64_t id = next_id_;
  buf_.clear();
  fmt::EncodeRecord({id, si, seq, created_ms, topic, payload}, &buf_);
  if (!segs_.back().offsets.empty() &&
      static_cast<int64_t>(segs_.back().end + buf_.size()) > options_.segment_bytes) {
    EL_RETURN_IF_ERROR(Rotate());
  }
  Segment& seg = segs_.back();
  Status st;
  if (seg.end + buf_.size() <= active_map_bytes_) {
    // The page cache, as a write() would. A fault is this Put's I/O error; write() from now on.
    if (!GuardedCopy(active_map_ + seg.end, buf_.data(), buf_.size())) {
      st = Status::IOError("I/O error storing into the mapped segment (SIGBUS); writing with write() from now on");
      UnmapActive();
    }
  } else {
    st = WriteAll(active_fd_, buf_.data(), buf_.size(), seg.end);
  }
  if (st.ok() && options_.sync_every_put && ::fdatasync(active_fd_) != 0) {
    st = Status::IOError("fdatasync: " + Errno(errno));
  }
  if (!st.ok()) {
    // Not stored: whatever part reached the file goes again, so the records still end at seg.end.
    const int64_t written_end = static_cast<int64_t>(seg.end + buf_.size());
    if (written_end > active_capacity_) (void)::ftruncate(active_fd_, std::max<int64_t>(active_capacity_, seg.end));
    (void)WriteZeros(active_fd_, seg.end, std::min(written_end, active_capacity_));
    return st.WithPrefix("spool " + SegmentPath(seg.first_id));
  }
  active_capacity_ = std::max(active_capacity_, static_cast<int64_t>(seg.end + buf_.size()));
  seg.offsets.push_back(seg.end);
  seg.live.push_back(true);
  ++seg.live_count;
  seg.end += static_cast<uint32_t>(buf_.size());
  seg_unsynced_ = !options_.sync_every_put;
  next_seq_[si] = seq + 1;
  next_id_ = id + 1;
  ++stats_.count;
  stats_.bytes += size;
  for (const auto& [i, k] : victims) Kill(i, k);
  if (!victims.empty()) {
    stats_.dropped += static_cast<int64_t>(victims.size());
    ack_dirty_ = true;  // written at the next Remove or Sync
  }
  return id;
}

Status FileSpool::ReadRecords(const Segment& seg, size_t from, size_t to, std::vector<SpoolRecord>* out) {
  const std::string path = SegmentPath(seg.first_id);
  const uint32_t begin = seg.offsets[from];
  const uint32_t end = seg.offsets[to] + seg.RecordSize(to);
  buf_.resize(end - begin);
  const bool active = &seg == &segs_.back();
  int fd = active ? active_fd_ : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("spool " + path + ": cannot open: " + std::strerror(errno));
  Status st = ReadAll(fd, buf_.data(), buf_.size(), begin);
  if (!active) ::close(fd);
  if (!st.ok()) return st.WithPrefix("spool " + path);
  for (size_t k = from; k <= to; ++k) {
    if (!seg.live[k]) continue;
    fmt::RecordView r;
    std::string error;
    const size_t at = seg.offsets[k] - begin;
    if (fmt::DecodeRecord(std::string_view(buf_).substr(at, seg.RecordSize(k)), &r, &error) == 0 ||
        r.id != seg.first_id + static_cast<int64_t>(k)) {
      if (error.empty()) error = "unexpected record id " + std::to_string(r.id);
      return Status::Corruption("spool " + path + ": offset " + std::to_string(seg.offsets[k]) + ": " + error);
    }
    SpoolRecord rec;
    rec.id = r.id;
    rec.stream = r.stream == 1 ? Stream::kAlarms : Stream::kResults;
    rec.seq = r.seq;
    rec.created_ms = r.created_ms;
    rec.topic.assign(r.topic);
    rec.payload.assign(r.payload);
    out->push_back(std::move(rec));
  }
  return Status::Ok();
}

Result<std::vector<SpoolRecord>> FileSpool::ReadAfter(int64_t after_id, size_t limit) {
  std::vector<SpoolRecord> out;
  for (size_t i = 0; i < segs_.size() && out.size() < limit; ++i) {
    const Segment& seg = segs_[i];
    if (seg.live_count == 0 || seg.offsets.empty() || seg.last_id() <= after_id) continue;
    size_t k = after_id >= seg.first_id ? static_cast<size_t>(after_id - seg.first_id + 1) : 0;
    // The live records wanted from this segment, read with one pread.
    size_t from = seg.offsets.size(), to = 0, wanted = 0;
    for (; k < seg.offsets.size() && out.size() + wanted < limit; ++k) {
      if (!seg.live[k]) continue;
      from = std::min(from, k);
      to = k;
      ++wanted;
    }
    if (wanted > 0) EL_RETURN_IF_ERROR(ReadRecords(seg, from, to, &out));
  }
  return out;
}

Status FileSpool::Remove(std::span<const int64_t> ids) {
  for (int64_t id : ids) {
    size_t s, k;
    if (Locate(id, &s, &k) && segs_[s].live[k]) {
      Kill(s, k);
      ack_dirty_ = true;
    }
  }
  if (ack_dirty_) EL_RETURN_IF_ERROR(WriteAck(false));
  return Reclaim();
}

Result<int64_t> FileSpool::DropExpired(int64_t now_ms) {
  const int64_t cutoff = now_ms - options_.max_age_ms;
  int64_t dropped = 0;
  char fixed[fmt::kRecordOverhead];
  // The oldest first (ids follow time, clock jumps aside): stops at the first one young enough.
  for (size_t i = 0; i < segs_.size(); ++i) {
    Segment& seg = segs_[i];
    if (seg.live_count == 0) continue;
    const bool active = i + 1 == segs_.size();
    const std::string path = SegmentPath(seg.first_id);
    int fd = active ? active_fd_ : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError("spool " + path + ": cannot open: " + std::strerror(errno));
    bool young = false;
    Status st;
    for (size_t k = 0; k < seg.live.size(); ++k) {
      if (!seg.live[k]) continue;
      st = ReadAll(fd, fixed, sizeof fixed, seg.offsets[k]);
      if (!st.ok()) break;
      int64_t created = 0;
      for (int b = 7; b >= 0; --b) created = (created << 8) | static_cast<unsigned char>(fixed[28 + b]);
      if (created >= cutoff) {
        young = true;
        break;
      }
      Kill(i, k);
      ++dropped;
    }
    if (!active) ::close(fd);
    if (!st.ok()) return st.WithPrefix("spool " + path);
    if (young) break;
  }
  if (dropped > 0) {
    stats_.dropped += dropped;
    ack_dirty_ = true;
    EL_RETURN_IF_ERROR(WriteAck(false));
    EL_RETURN_IF_ERROR(Reclaim());
  }
  return dropped;
}

Status FileSpool::Sync() {
  if (seg_unsynced_ && active_fd_ >= 0) {
    if (::fdatasync(active_fd_) != 0) {
      return Status::IOError("spool " + SegmentPath(segs_.back().first_id) + ": fdatasync: " + Errno(errno));
    }
    seg_unsynced_ = false;
  }
  if (dir_unsynced_) {
    EL_RETURN_IF_ERROR(SyncDir(dir_));
    dir_unsynced_ = false;
  }
  if (ack_dirty_) EL_RETURN_IF_ERROR(WriteAck(false));
  return Reclaim();
}

}  // namespace edgeloop::agent
