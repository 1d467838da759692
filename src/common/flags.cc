#include "edgeloop/common/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace edgeloop {

Flags::Flags(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

void Flags::Add(const std::string& name, const std::string& alias, Kind kind, void* target, const std::string& help,
                std::string default_text) {
  specs_.push_back(Spec{name, alias, help, kind, target, std::move(default_text)});
}

void Flags::String(const std::string& name, std::string* target, const std::string& help, const std::string& alias) {
  Add(name, alias, Kind::kString, target, help, target->empty() ? "" : "\"" + *target + "\"");
}
void Flags::Int(const std::string& name, int64_t* target, const std::string& help, const std::string& alias) {
  Add(name, alias, Kind::kInt, target, help, std::to_string(*target));
}
void Flags::Double(const std::string& name, double* target, const std::string& help, const std::string& alias) {
  std::ostringstream os;
  os << *target;
  Add(name, alias, Kind::kDouble, target, help, os.str());
}
void Flags::Bool(const std::string& name, bool* target, const std::string& help, const std::string& alias) {
  Add(name, alias, Kind::kBool, target, help, *target ? "true" : "");
}
void Flags::List(const std::string& name, std::vector<std::string>* target, const std::string& help) {
  Add(name, "", Kind::kList, target, help, "");
}

Flags::Spec* Flags::Find(const std::string& name) {
  for (Spec& s : specs_) {
    if (s.name == name || (!s.alias.empty() && s.alias == name)) return &s;
  }
  return nullptr;
}

bool Flags::WasSet(const std::string& name) const {
  for (const Spec& s : specs_) {
    if (s.name == name) return s.set;
  }
  return false;
}

Status Flags::Assign(Spec& spec, const std::string& value) {
  spec.set = true;
  switch (spec.kind) {
    case Kind::kString:
      *static_cast<std::string*>(spec.target) = value;
      return Status::Ok();
    case Kind::kList:
      static_cast<std::vector<std::string>*>(spec.target)->push_back(value);
      return Status::Ok();
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE) {
        return Status::InvalidArgument(spec.name + ": '" + value + "' is not an integer");
      }
      *static_cast<int64_t*>(spec.target) = v;
      return Status::Ok();
    }
    case Kind::kDouble: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
        return Status::InvalidArgument(spec.name + ": '" + value + "' is not a finite number");
      }
      *static_cast<double*>(spec.target) = v;
      return Status::Ok();
    }
    case Kind::kBool: {
      bool v;
      if (value == "true" || value == "1" || value == "yes") {
        v = true;
      } else if (value == "false" || value == "0" || value == "no") {
        v = false;
      } else {
        return Status::InvalidArgument(spec.name + ": '" + value + "' is not true or false");
      }
      *static_cast<bool*>(spec.target) = v;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status Flags::Parse(int argc, char** argv, int first) {
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      return Status::Ok();
    }
    std::string name = arg, value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Spec* spec = Find(name);
    if (spec == nullptr) return Status::InvalidArgument("unknown option '" + name + "' (see --help)");
    if (spec->kind == Kind::kBool && !has_value) {
      *static_cast<bool*>(spec->target) = true;
      spec->set = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return Status::InvalidArgument(name + " needs a value");
      value = argv[++i];
    }
    EL_RETURN_IF_ERROR(Assign(*spec, value));
  }
  return Status::Ok();
}

Status Flags::ExpectPositional(size_t min, size_t max, const std::string& what) const {
  if (positional_.size() < min) return Status::InvalidArgument("missing " + what + " (usage: " + usage_ + ")");
  if (positional_.size() > max) {
    return Status::InvalidArgument("unexpected argument '" + positional_[max] + "' (usage: " + usage_ + ")");
  }
  return Status::Ok();
}

std::string Flags::Help() const {
  std::ostringstream os;
  os << "usage: " << usage_ << "\n";
  if (!description_.empty()) os << "\n" << description_ << "\n";
  if (!specs_.empty()) os << "\noptions:\n";
  for (const Spec& s : specs_) {
    std::string left = "  " + s.name;
    if (!s.alias.empty()) left += ", " + s.alias;
    switch (s.kind) {
      case Kind::kString: left += " TEXT"; break;
      case Kind::kInt: left += " N"; break;
      case Kind::kDouble: left += " X"; break;
      case Kind::kList: left += " TEXT (repeatable)"; break;
      case Kind::kBool: break;
    }
    os << left;
    if (left.size() < 28) {
      os << std::string(28 - left.size(), ' ');
    } else {
      os << "\n" << std::string(28, ' ');
    }
    os << s.help;
    if (!s.default_text.empty()) os << " (default " << s.default_text << ")";
    os << "\n";
  }
  os << "  -h, --help                this help\n";
  return os.str();
}

}  // namespace edgeloop
