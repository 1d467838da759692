// The agent's installed models on disk, so that an update can never leave the device without a
// working model, whatever moment it crashes at:
//
//   <dir>/state.json           {"current": entry, "previous": entry | null}, replaced atomically
//                              (temp file, fsync, rename, directory fsync)
//   <dir>/<name>-v<N>-<sha12>.tflite   installed model files; immutable once renamed into place
//   <dir>/partial/<sha256>.part        a download in progress (resumed after a restart)
//
// An install renames the verified download into place and fsyncs the directory, and only then
// rewrites state.json (current = new, previous = old current); files no longer named by the state
// are deleted after that. A crash before the state write leaves the old state (old model); after
// it, the new one. At startup the current file is re-hashed and loaded; if that fails the
// previous one is used (and made current), so a corrupted file is never run.
// Thread-safety: none; the OTA thread owns it after startup.
#ifndef EDGELOOP_AGENT_MODEL_STORE_H_
#define EDGELOOP_AGENT_MODEL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "edgeloop/common/env.h"
#include "edgeloop/common/status.h"

namespace edgeloop::agent {

struct InstalledModel {
  std::string file;    // name inside the store directory
  std::string name;    // registry model name
  int64_t version = 0;
  std::string sha256;  // lowercase hex of the file
  int64_t size = 0;
};

class ModelStore {
 public:
  // `env` must outlive the store. Creates `dir` (and partial/) if needed; reads state.json.
  // Errors: IOError; Corruption for a state.json that is not valid (it is then ignored with the
  // error returned, so the caller can report it and start from the model_file).
  static Result<ModelStore> Open(Env* env, const std::string& dir);

  const std::optional<InstalledModel>& current() const { return current_; }
  const std::optional<InstalledModel>& previous() const { return previous_; }
  std::string PathOf(const InstalledModel& m) const { return dir_ + "/" + m.file; }
  std::string PartialPath(const std::string& sha256) const { return dir_ + "/partial/" + sha256 + ".part"; }

  // Reads an installed file and checks its size and sha256. Errors: Corruption on a mismatch.
  Result<std::string> ReadVerified(const InstalledModel& m) const;

  // Moves the verified download at PartialPath(sha256) into place (rename + directory fsync) and
  // returns its entry; the state is not changed yet.
  Result<InstalledModel> Place(const std::string& name, int64_t version, const std::string& sha256, int64_t size);
  // Makes `m` current and the old current previous (atomic state write), then deletes the model
  // files the state no longer names and any leftover partial downloads.
  Status Commit(const InstalledModel& m);
  // The current model is unusable: previous becomes current (atomic state write).
  Status DropCurrent();
  // Deletes a placed file that failed its checks (never one the state names).
  void Discard(const InstalledModel& m);

 private:
  ModelStore(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Status WriteState();
  void CollectGarbage();

  Env* env_;  // not owned
  std::string dir_;
  std::optional<InstalledModel> current_;
  std::optional<InstalledModel> previous_;
};

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_MODEL_STORE_H_
