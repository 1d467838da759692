// A temporary directory for one test, removed with everything in it when the object dies
// (kept when EDGELOOP_KEEP_TMP is set, to look at after a failure).
#ifndef EDGELOOP_TEST_SUPPORT_TEMP_DIR_H_
#define EDGELOOP_TEST_SUPPORT_TEMP_DIR_H_

#include <string>

namespace edgeloop::testing_support {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The source tree root (for test/data) and the directory the executables are built into.
std::string SourceDir();
std::string BinDir();
// BinDir() + "/" + name.
std::string BinaryPath(const std::string& name);

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_TEMP_DIR_H_
