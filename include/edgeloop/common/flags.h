// A small command-line flag parser for edgeloop's subcommands: `--name value`, `--name=value`,
// boolean `--name`, positional arguments, `--help`. Unknown flags, missing values and malformed
// numbers are errors that name the flag. Thread-safety: not thread-safe; one per command.
#ifndef EDGELOOP_COMMON_FLAGS_H_
#define EDGELOOP_COMMON_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop {

class Flags {
 public:
  // `usage` is the synopsis line ("edgeloop train data.csv -o model.tflite [options]"),
  // `description` a paragraph printed under it by Help().
  Flags(std::string usage, std::string description);

  // Registers a flag bound to `*target` (must outlive Parse); the current value is the default
  // shown in Help(). `name` includes the dashes; `alias` may be "" or e.g. "-o".
  void String(const std::string& name, std::string* target, const std::string& help, const std::string& alias = "");
  void Int(const std::string& name, int64_t* target, const std::string& help, const std::string& alias = "");
  void Double(const std::string& name, double* target, const std::string& help, const std::string& alias = "");
  void Bool(const std::string& name, bool* target, const std::string& help, const std::string& alias = "");
  // A flag that may be repeated; each occurrence appends.
  void List(const std::string& name, std::vector<std::string>* target, const std::string& help);

  // Parses argv[first..argc). Sets help_requested() on -h/--help (and returns OK without checking
  // positionals). Errors: InvalidArgument naming the flag or argument.
  Status Parse(int argc, char** argv, int first = 1);
  // Errors unless the number of positional arguments is within [min, max].
  Status ExpectPositional(size_t min, size_t max, const std::string& what) const;

  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  // True if the flag appeared on the command line (as opposed to keeping its default).
  bool WasSet(const std::string& name) const;
  std::string Help() const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool, kList };
  struct Spec {
    std::string name, alias, help;
    Kind kind;
    void* target;
    std::string default_text;
    bool set = false;
  };
  void Add(const std::string& name, const std::string& alias, Kind kind, void* target, const std::string& help,
           std::string default_text);
  Spec* Find(const std::string& name);
  Status Assign(Spec& spec, const std::string& value);

  std::string usage_, description_;
  std::vector<Spec> specs_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

}  // namespace edgeloop

#endif  // EDGELOOP_COMMON_FLAGS_H_
