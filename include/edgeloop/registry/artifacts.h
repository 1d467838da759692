// Content-addressed artifact files: DIR/artifacts/<sha256>, immutable once named. An upload is
// streamed into a temp file in the same directory (hashing as it goes), fsynced, then renamed to
// its hash and the directory fsynced, all through Env, so a crash at any instant leaves either no
// file or a complete one under its hash. Temp files carry the ".tmp" suffix; Sweep() removes them
// and any artifact no version refers to (the residue of a crash between rename and the database
// commit). Readers open files by hash and read with pread, so any number of downloads run while a
// new artifact is written: a name is only ever bound to its final bytes.
//
// Thread-safety: ArtifactStore methods are safe from any thread; an Upload belongs to one thread.
// Sweep must run before the store is shared (at server start), never concurrently with uploads.
#ifndef EDGELOOP_REGISTRY_ARTIFACTS_H_
#define EDGELOOP_REGISTRY_ARTIFACTS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "edgeloop/common/env.h"
#include "edgeloop/common/status.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::registry {

// An open artifact for reading. Resource type (owns a file descriptor).
class ArtifactFile {
 public:
  ~ArtifactFile();
  ArtifactFile(const ArtifactFile&) = delete;
  ArtifactFile& operator=(const ArtifactFile&) = delete;

  uint64_t size() const { return size_; }
  const std::string& sha256() const { return sha256_; }
  // Reads up to out.size() bytes at `offset`; returns the count (0 only at end of file).
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) const;

 private:
  friend class ArtifactStore;
  ArtifactFile(int fd, uint64_t size, std::string sha256, std::string path)
      : fd_(fd), size_(size), sha256_(std::move(sha256)), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string sha256_;
  std::string path_;
};

struct SweepReport {
  int temp_files_removed = 0;
  int orphans_removed = 0;
};

class ArtifactStore {
 public:
  // `dir` is the artifacts directory (created by Init). `env` must outlive the store.
  ArtifactStore(Env* env, std::string dir);

  Status Init();
  const std::string& dir() const { return dir_; }
  std::string PathFor(const std::string& sha256) const;

  // An artifact being written. Destroying it before Commit removes its temp file.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;

    // Appends bytes (hashed on the way). Errors: IOError naming the temp file.
    Status Append(std::string_view data);
    uint64_t size() const { return size_; }
    // fsyncs and closes the temp file and fixes the hash. Call once, before Commit.
    Status Seal();
    const std::string& sha256() const { return sha256_; }  // after Seal
    const std::string& temp_path() const { return temp_path_; }
    // Renames the sealed file to its hash and fsyncs the directory. If that artifact already
    // exists (same bytes uploaded before) the temp file is dropped instead.
    Status Commit();

   private:
    friend class ArtifactStore;
    Upload(ArtifactStore* store, std::string temp_path, std::unique_ptr<WritableFile> file)
        : store_(store), temp_path_(std::move(temp_path)), file_(std::move(file)) {}
    ArtifactStore* store_;  // must outlive the upload
    std::string temp_path_;
    std::unique_ptr<WritableFile> file_;
    Sha256 hasher_;
    uint64_t size_ = 0;
    std::string sha256_;
    bool committed_ = false;
  };

  Result<std::unique_ptr<Upload>> BeginUpload();

  // Opens the artifact `sha256` and checks that its size is `expected_size` (Corruption if not;
  // NotFound if the file is missing).
  Result<std::unique_ptr<ArtifactFile>> Open(const std::string& sha256, uint64_t expected_size) const;

  // Removes temp files and artifacts whose hash is not in `referenced`, then fsyncs the directory.
  Result<SweepReport> Sweep(const std::set<std::string>& referenced);

 private:
  Env* env_;  // must outlive the store
  std::string dir_;
};

// True for a lowercase 64-hex-digit string (a sha256 as artifacts are named).
bool IsSha256Hex(std::string_view s);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_ARTIFACTS_H_
