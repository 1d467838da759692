#include "test/support/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace edgeloop::testing_support {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgeloop-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  // Traversable by other users: a root test may hand subdirectories to mosquitto or postgres.
  ::chmod(tmpl.c_str(), 0755);
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("EDGELOOP_KEEP_TMP") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string SourceDir() { return EDGELOOP_SOURCE_DIR; }
std::string BinDir() { return EDGELOOP_BIN_DIR; }
std::string BinaryPath(const std::string& name) { return BinDir() + "/" + name; }

}  // namespace edgeloop::testing_support
