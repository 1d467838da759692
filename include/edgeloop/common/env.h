// Env: the one seam through which edgeloop touches files and clocks (LevelDB's Env), so that tests
// can inject a crash, a full disk or a frozen clock. Every durable write in edgeloop goes through
// WriteFileAtomic or a WritableFile followed by Sync + RenameFile + SyncDir.
//
// Thread-safety: Env::Default() and its methods are safe to call from any thread.
#ifndef EDGELOOP_COMMON_ENV_H_
#define EDGELOOP_COMMON_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop {

// An open file being written. Not thread-safe. Destroying it without Close() closes it without sync.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;   // fsync: data is durable once this returns OK
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never destroyed.
  static Env* Default();

  virtual Result<std::string> ReadFile(const std::string& path);
  // Creates or truncates `path` (or appends when `append`), mode 0644 (or `mode`).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, bool append = false,
                                                                int mode = 0644);
  virtual Status RenameFile(const std::string& from, const std::string& to);
  virtual Status RemoveFile(const std::string& path);  // OK if it did not exist
  virtual Status SyncDir(const std::string& dir);
  virtual Status CreateDirs(const std::string& dir, int mode = 0755);  // mkdir -p
  virtual bool FileExists(const std::string& path);
  virtual Result<uint64_t> FileSize(const std::string& path);
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir);  // names, no "." or ".."

  virtual int64_t NowMicros();       // monotonic clock, for durations
  virtual int64_t NowUnixMillis();   // wall clock, for timestamps
  virtual void SleepMicros(int64_t micros);

  // Replaces `path` so that a crash at any moment leaves either the old or the new content, never a
  // mix: writes `path.tmp.<pid>`, fsyncs it, renames it over `path`, fsyncs the directory.
  Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
};

// Directory part of a path ("a/b/c" -> "a/b", "c" -> ".").
std::string DirName(const std::string& path);
// Joins with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace edgeloop

#endif  // EDGELOOP_COMMON_ENV_H_
