#include "agent/model_store.h"

#include <nlohmann/json.hpp>

#include "edgeloop/mqtt/messages.h"
#include "edgeloop/registry/manifest.h"

namespace edgeloop::agent {
namespace {

using nlohmann::json;

constexpr char kStateFile[] = "state.json";

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

json EntryToJson(const std::optional<InstalledModel>& m) {
  if (!m) return nullptr;
  return json{{"file", m->file}, {"name", m->name}, {"version", m->version}, {"sha256", m->sha256}, {"size", m->size}};
}

Result<std::optional<InstalledModel>> EntryFromJson(const json& j, const char* which) {
  if (j.is_null()) return std::optional<InstalledModel>();
  auto bad = [&](const char* why) { return Status::Corruption(std::string("state.json: ") + which + ": " + why); };
  if (!j.is_object()) return bad("not an object");
  InstalledModel m;
  try {
    m.file = j.at("file").get<std::string>();
    m.name = j.at("name").get<std::string>();
    m.version = j.at("version").get<int64_t>();
    m.sha256 = j.at("sha256").get<std::string>();
    m.size = j.at("size").get<int64_t>();
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  // The file name must stay inside the store directory.
  if (m.file.empty() || m.file.find('/') != std::string::npos || m.file[0] == '.') return bad("bad file name");
  if (!IsHex64(m.sha256) || m.size < 0 || m.version < 1) return bad("bad sha256, size or version");
  return std::optional<InstalledModel>(m);
}

}  // namespace

Result<ModelStore> ModelStore::Open(Env* env, const std::string& dir) {
  ModelStore s(env, dir);
  EL_RETURN_IF_ERROR(env->CreateDirs(dir + "/partial"));
  std::string path = dir + "/" + kStateFile;
  if (!env->FileExists(path)) return s;
  EL_ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("model store " + path + ": not a JSON object");
  auto cur = EntryFromJson(j.value("current", json()), "current");
  if (!cur.ok()) return cur.status().WithPrefix("model store " + dir);
  auto prev = EntryFromJson(j.value("previous", json()), "previous");
  if (!prev.ok()) return prev.status().WithPrefix("model store " + dir);
  s.current_ = *cur;
  s.previous_ = *prev;
  return s;
}

Result<std::string> ModelStore::ReadVerified(const InstalledModel& m) const {
  EL_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(PathOf(m)));
  if (static_cast<int64_t>(bytes.size()) != m.size) {
    return Status::Corruption(PathOf(m) + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                              std::to_string(m.size));
  }
  std::string sha = registry::Sha256Hex(bytes);
  if (sha != m.sha256) return Status::Corruption(PathOf(m) + ": sha256 " + sha + ", expected " + m.sha256);
  return bytes;
}

Result<InstalledModel> ModelStore::Place(const std::string& name, int64_t version, const std::string& sha256,
                                         int64_t size) {
  if (!IsHex64(sha256)) return Status::InvalidArgument("model store: bad sha256");
  EL_RETURN_IF_ERROR(mqtt::ValidateName("model name", name));
  InstalledModel m;
  m.name = name;
  m.version = version;
  m.sha256 = sha256;
  m.size = size;
  m.file = name + "-v" + std::to_string(version) + "-" + sha256.substr(0, 12) + ".tflite";
  // The partial file was fsynced by the downloader; rename it into place and make the rename
  // durable before any state names it.
  EL_RETURN_IF_ERROR(env_->RenameFile(PartialPath(sha256), PathOf(m)));
  EL_RETURN_IF_ERROR(env_->SyncDir(dir_));
  EL_RETURN_IF_ERROR(env_->SyncDir(dir_ + "/partial"));
  return m;
}

Status ModelStore::WriteState() {
  json j{{"current", EntryToJson(current_)}, {"previous", EntryToJson(previous_)}};
  return env_->WriteFileAtomic(dir_ + "/" + kStateFile, j.dump(2) + "\n");
}

Status ModelStore::Commit(const InstalledModel& m) {
  auto old_current = current_, old_previous = previous_;
  if (current_ && current_->file != m.file) previous_ = current_;
  current_ = m;
  Status st = WriteState();
  if (!st.ok()) {
    current_ = old_current;
    previous_ = old_previous;
    return st;
  }
  CollectGarbage();
  return Status::Ok();
}

Status ModelStore::DropCurrent() {
  auto old_current = current_, old_previous = previous_;
  current_ = previous_;
  previous_.reset();
  Status st = WriteState();
  if (!st.ok()) {
    current_ = old_current;
    previous_ = old_previous;
  }
  return st;
}

void ModelStore::Discard(const InstalledModel& m) {
  if ((current_ && current_->file == m.file) || (previous_ && previous_->file == m.file)) return;
  (void)env_->RemoveFile(PathOf(m));
}

void ModelStore::CollectGarbage() {
  auto names = env_->ListDir(dir_);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    if (n.size() < 7 || n.compare(n.size() - 7, 7, ".tflite") != 0) continue;
    if ((current_ && current_->file == n) || (previous_ && previous_->file == n)) continue;
    (void)env_->RemoveFile(dir_ + "/" + n);
  }
  // An install ends any download: partial files left from refused or superseded ones go too.
  auto partial = env_->ListDir(dir_ + "/partial");
  if (!partial.ok()) return;
  for (const std::string& n : *partial) (void)env_->RemoveFile(dir_ + "/partial/" + n);
}

}  // namespace edgeloop::agent
