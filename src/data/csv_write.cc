// CSV writing in both layouts (see edgeloop/data/csv.h).
#include <charconv>

#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"

namespace edgeloop::data {
namespace {

void AppendFloat(std::string* out, float v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  out->append(buf, ec == std::errc() ? ptr : buf);
}

// Quotes a label when it needs it (RFC 4180).
void AppendCell(std::string* out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && !s.empty() && s.front() != ' ' && s.back() != ' ') {
    *out += s;
    return;
  }
  *out += '"';
  for (char ch : s) {
    if (ch == '"') *out += '"';
    *out += ch;
  }
  *out += '"';
}

}  // namespace

std::string WriteCsv(const Dataset& d, CsvLayout layout) {
  std::string out;
  const size_t w = d.window_size();
  if (layout == CsvLayout::kFeatures) {
    out.reserve(d.size() * (w * 12 + 16) + 16);
    out += "features,label\n";
    for (size_t i = 0; i < d.size(); ++i) {
      out += "\"[";
      for (size_t k = 0; k < w; ++k) {
        if (k > 0) out += ", ";
        AppendFloat(&out, d.x[i * w + k]);
      }
      out += "]\",";
      AppendCell(&out, d.labels[d.y[i]]);
      out += '\n';
    }
    return out;
  }
  out.reserve(d.size() * (w * 11 + 16) + w * 6);
  out += "label";
  for (size_t k = 0; k < w; ++k) out += ",f" + std::to_string(k);
  out += '\n';
  for (size_t i = 0; i < d.size(); ++i) {
    AppendCell(&out, d.labels[d.y[i]]);
    for (size_t k = 0; k < w; ++k) {
      out += ',';
      AppendFloat(&out, d.x[i * w + k]);
    }
    out += '\n';
  }
  return out;
}

Status WriteCsvFile(const Dataset& d, const std::string& path, CsvLayout layout) {
  return Env::Default()->WriteFileAtomic(path, WriteCsv(d, layout));
}

}  // namespace edgeloop::data
