// RFC 8785 (JSON Canonicalization Scheme) serialisation over nlohmann::json values.
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeloop/registry/manifest.h"
#include "registry/canonical_json.h"

namespace edgeloop::registry {
namespace {

// UTF-16 code units of a UTF-8 string: JCS sorts object keys by them.
std::u16string Utf16(const std::string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    int extra;
    if (c < 0x80) {
      cp = c, extra = 0;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1f, extra = 1;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0f, extra = 2;
    } else {
      cp = c & 0x07, extra = 3;
    }
    ++i;
    for (int k = 0; k < extra && i < s.size(); ++k, ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void AppendString(const std::string& s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void Serialize(const nlohmann::json& j, std::string* out) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: *out += "null"; break;
    case nlohmann::json::value_t::boolean: *out += j.get<bool>() ? "true" : "false"; break;
    case nlohmann::json::value_t::number_integer: *out += FormatJsonNumber(static_cast<double>(j.get<int64_t>())); break;
    case nlohmann::json::value_t::number_unsigned: *out += FormatJsonNumber(static_cast<double>(j.get<uint64_t>())); break;
    case nlohmann::json::value_t::number_float: *out += FormatJsonNumber(j.get<double>()); break;
    case nlohmann::json::value_t::string: AppendString(j.get_ref<const std::string&>(), out); break;
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : j) {
        if (!first) out->push_back(',');
        first = false;
        Serialize(e, out);
      }
      out->push_back(']');
      break;
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<std::u16string, const std::string*>> keys;
      for (auto it = j.begin(); it != j.end(); ++it) keys.emplace_back(Utf16(it.key()), &it.key());
      std::sort(keys.begin(), keys.end());
      out->push_back('{');
      bool first = true;
      for (const auto& [u16, key] : keys) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(*key, out);
        out->push_back(':');
        Serialize(j.at(*key), out);
      }
      out->push_back('}');
      break;
    }
    default: *out += "null"; break;  // binary/discarded never come from the parser
  }
}

}  // namespace

std::string FormatJsonNumber(double d) {
  if (!std::isfinite(d)) return "null";  // JSON has no NaN/Inf; callers reject them before
  if (d == 0) return "0";
  if (d < 0) {
    std::string out = "-";
    out += FormatJsonNumber(-d);
    return out;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // shortest round-trip digits: "d.ddde+XX"
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int k = static_cast<int>(digits.size());
  int n = std::stoi(sci.substr(e_pos + 1)) + 1;  // value = 0.digits x 10^n
  if (k <= n && n <= 21) return digits + std::string(n - k, '0');
  if (0 < n && n <= 21) return digits.substr(0, n) + '.' + digits.substr(n);
  if (-6 < n && n <= 0) return std::string("0.") + std::string(-n, '0') + digits;
  std::string out = digits.substr(0, 1);
  if (k > 1) {
    out += '.';
    out += digits.substr(1);
  }
  int exp = n - 1;
  out += exp >= 0 ? "e+" : "e-";
  out += std::to_string(exp >= 0 ? exp : -exp);
  return out;
}

std::string CanonicalJsonOf(const nlohmann::json& j) {
  std::string out;
  Serialize(j, &out);
  return out;
}

Result<std::string> CanonicalizeJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return CanonicalJsonOf(j);
}

}  // namespace edgeloop::registry
