// CSV reading: an RFC 4180 record reader (quotes, "" escapes, quoted newlines, CRLF) and the two
// window layouts on top of it. See edgeloop/data/csv.h for the contract.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>

#include "edgeloop/common/env.h"
#include "edgeloop/data/csv.h"

namespace edgeloop::data {

const char* RowErrorName(RowError e) {
  switch (e) {
    case RowError::kBadNumber: return "bad number";
    case RowError::kFieldCount: return "field count";
    case RowError::kUnknownLabel: return "unknown label";
    case RowError::kEmptyCell: return "empty cell";
    case RowError::kNaN: return "NaN";
    case RowError::kInf: return "Inf";
    case RowError::kBadList: return "bad list";
    case RowError::kListLength: return "list length";
    case RowError::kBadQuote: return "bad quote";
  }
  return "?";
}

std::string CsvReadReport::Summary() const {
  std::string s = std::to_string(rows) + " rows, " + std::to_string(rows_kept) + " kept, " +
                  std::to_string(rows_skipped) + " skipped";
  std::string why;
  for (size_t i = 0; i < kNumRowErrors; ++i) {
    if (skipped_by_reason[i] == 0) continue;
    if (!why.empty()) why += ", ";
    why += std::to_string(skipped_by_reason[i]) + " " + RowErrorName(static_cast<RowError>(i));
  }
  if (!why.empty()) s += " (" + why + ")";
  if (blank_lines > 0) s += ", " + std::to_string(blank_lines) + " blank lines";
  if (ignored_index_column) s += ", unnamed index column ignored";
  return s;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits CSV text into records. Fields are views into the text, or into the reader's own storage
// for quoted fields holding "" escapes (valid until the next call).
class RecordReader {
 public:
  explicit RecordReader(std::string_view text) : text_(text) {}

  // False at the end of the text. Otherwise fills `fields` (empty for a blank line), the line the
  // record starts on, and `quote_error` (empty if none) for a malformed quoted field.
  bool Next(std::vector<std::string_view>* fields, size_t* line, std::string* quote_error) {
    fields->clear();
    unescaped_.clear();
    quote_error->clear();
    if (pos_ >= text_.size()) return false;
    *line = line_;
    if (AtLineEnd(pos_)) {  // blank line
      SkipLineEnd();
      return true;
    }
    while (true) {
      if (pos_ < text_.size() && text_[pos_] == '"') {
        if (!ReadQuoted(fields, quote_error)) {
          SkipRestOfLine();
          return true;
        }
      } else {
        size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != ',' && !AtLineEnd(pos_)) ++pos_;
        fields->push_back(text_.substr(start, pos_ - start));
      }
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      SkipLineEnd();
      return true;
    }
  }

 private:
  bool AtLineEnd(size_t p) const {
    return p < text_.size() && (text_[p] == '\n' || (text_[p] == '\r' && p + 1 < text_.size() && text_[p + 1] == '\n') ||
                                (text_[p] == '\r' && p + 1 == text_.size()));
  }
  void SkipLineEnd() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }
  void SkipRestOfLine() {
    while (pos_ < text_.size() && !AtLineEnd(pos_)) ++pos_;
    if (pos_ < text_.size()) SkipLineEnd();
  }
  // At an opening quote. False (with `error`) on an unterminated quote or text after the closing
  // quote.
  bool ReadQuoted(std::vector<std::string_view>* fields, std::string* error) {
    size_t start = ++pos_;
    bool escaped = false;
    while (true) {
      if (pos_ >= text_.size()) {
        *error = "unterminated quoted field";
        return false;
      }
      char ch = text_[pos_];
      if (ch == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          escaped = true;
          pos_ += 2;
          continue;
        }
        break;
      }
      if (ch == '\n') ++line_;
      ++pos_;
    }
    std::string_view raw = text_.substr(start, pos_ - start);
    ++pos_;  // closing quote
    if (pos_ < text_.size() && text_[pos_] != ',' && !AtLineEnd(pos_)) {
      *error = "text after a closing quote";
      return false;
    }
    if (!escaped) {
      fields->push_back(raw);
      return true;
    }
    std::string& s = unescaped_.emplace_back();
    for (size_t i = 0; i < raw.size(); ++i) {
      s += raw[i];
      if (raw[i] == '"') ++i;  // the second quote of ""
    }
    fields->push_back(s);
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::deque<std::string> unescaped_;  // deque: push_back keeps earlier views valid
};

struct CellError {
  RowError reason;
  std::string detail;
};

std::string Quoted(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out(1, '\'');
  out.append(s.substr(0, kMax));
  out += s.size() > kMax ? "...'" : "'";
  return out;
}

// Parses one reading. Empty, non-numeric, NaN and infinite (or beyond float32) values are errors.
bool ParseReading(std::string_view cell, float* out, CellError* err) {
  std::string_view s = Trim(cell);
  if (s.empty()) {
    *err = {RowError::kEmptyCell, "empty cell"};
    return false;
  }
  std::string_view digits = s;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') digits.remove_prefix(1);
  float v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, std::chars_format::general);
  if (ptr != digits.data() + digits.size() || ec == std::errc::invalid_argument) {
    *err = {RowError::kBadNumber, Quoted(s) + " is not a number"};
    return false;
  }
  if (ec == std::errc::result_out_of_range) {
    // Either beyond float32 (an error) or a tiny value that underflows to 0 / a subnormal (fine).
    std::string copy(digits);
    double d = std::strtod(copy.c_str(), nullptr);
    if (!(std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max()))) {
      *err = {RowError::kInf, Quoted(s) + " is outside the float32 range"};
      return false;
    }
    v = static_cast<float>(d);
  }
  if (std::isnan(v)) {
    *err = {RowError::kNaN, Quoted(s) + " is NaN"};
    return false;
  }
  if (std::isinf(v)) {
    *err = {RowError::kInf, Quoted(s) + " is infinite"};
    return false;
  }
  *out = v;
  return true;
}

// Parses a features cell "[0.1, 0.2, ...]" into `out` (cleared first).
bool ParseList(std::string_view cell, std::vector<float>* out, CellError* err) {
  out->clear();
  std::string_view s = Trim(cell);
  if (s.empty()) {
    *err = {RowError::kEmptyCell, "empty cell"};
    return false;
  }
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') {
    *err = {RowError::kBadList, Quoted(s) + " is not a JSON list ('[x, y, ...]')"};
    return false;
  }
  std::string_view inner = Trim(s.substr(1, s.size() - 2));
  if (inner.empty()) {
    *err = {RowError::kBadList, "empty list"};
    return false;
  }
  size_t index = 0;
  while (true) {
    size_t comma = inner.find(',');
    std::string_view element = Trim(inner.substr(0, comma));
    if (element.empty()) {
      *err = {RowError::kBadList, "element " + std::to_string(index) + " is empty"};
      return false;
    }
    if (element.find_first_of("[]") != std::string_view::npos) {
      *err = {RowError::kBadList, "element " + std::to_string(index) +
                                      " is a nested list; write one flat list, time-major"};
      return false;
    }
    float v;
    if (!ParseReading(element, &v, err)) {
      err->detail = "element " + std::to_string(index) + ": " + err->detail;
      return false;
    }
    out->push_back(v);
    ++index;
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace

Result<Dataset> ReadCsv(std::string_view text, const std::string& name, const CsvReadOptions& options,
                        CsvReadReport* report) {
  CsvReadReport local_report;
  CsvReadReport& rep = report ? *report : local_report;
  rep = CsvReadReport();
  if (options.channels <= 0) return Status::InvalidArgument(name + ": channels must be > 0");
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM

  RecordReader reader(text);
  std::vector<std::string_view> fields;
  size_t line = 0;
  std::string quote_error;
  // The header: the first non-blank record.
  while (true) {
    if (!reader.Next(&fields, &line, &quote_error)) {
      return Status::InvalidArgument(name + ": empty file (no header row)");
    }
    if (!quote_error.empty()) return Status::InvalidArgument(name + ":" + std::to_string(line) + ": header: " + quote_error);
    if (!fields.empty()) break;
    ++rep.blank_lines;
  }
  std::vector<std::string> header;
  for (std::string_view f : fields) header.emplace_back(Trim(f));
  const size_t num_fields = header.size();
  size_t first = 0;
  if (num_fields > 1 && header[0].empty()) {
    first = 1;
    rep.ignored_index_column = true;
  }
  auto header_error = [&](const std::string& why) {
    return Status::InvalidArgument(name + ":" + std::to_string(line) + ": header: " + why);
  };
  size_t label_col = num_fields, features_col = num_fields;
  for (size_t i = first; i < num_fields; ++i) {
    if (header[i].empty()) return header_error("column " + std::to_string(i + 1) + " has no name");
    if (header[i] == "label") {
      if (label_col != num_fields) return header_error("two 'label' columns");
      label_col = i;
    }
    if (header[i] == "features") features_col = i;
  }
  if (label_col == num_fields) {
    return header_error("no 'label' column; expected 'label,f0,f1,...' or 'features,label'");
  }
  const bool features_layout = (num_fields - first == 2 && features_col != num_fields);
  rep.layout = features_layout ? CsvLayout::kFeatures : CsvLayout::kWide;
  const size_t channels = static_cast<size_t>(options.channels);
  size_t window = 0;  // readings per window; 0 until known (features layout: first good row)
  if (!features_layout) {
    window = num_fields - first - 1;
    if (window == 0) return header_error("no feature columns; expected 'label,f0,f1,...' or 'features,label'");
    if (window % channels != 0) {
      return header_error(std::to_string(window) + " feature columns are not a multiple of " +
                          std::to_string(channels) + " channels");
    }
  }
  if (options.length > 0) {
    size_t expected = static_cast<size_t>(options.length) * channels;
    if (window != 0 && window != expected) {
      return header_error(std::to_string(window) + " feature columns, expected " + std::to_string(expected) + " (" +
                          std::to_string(options.length) + " x " + std::to_string(channels) + " channels)");
    }
    window = expected;
  }

  std::map<std::string, int32_t, std::less<>> given;  // options.labels -> class index
  for (size_t i = 0; i < options.labels.size(); ++i) given.emplace(options.labels[i], static_cast<int32_t>(i));
  std::vector<std::string> seen_names;                 // first-appearance order, remapped at the end
  std::map<std::string, int32_t, std::less<>> seen;

  Dataset d;
  d.channels = options.channels;
  std::vector<float> row;
  row.reserve(window);
  auto column_name = [&](size_t col) {
    return "column " + std::to_string(col + 1) + " ('" + header[col] + "')";
  };
  while (reader.Next(&fields, &line, &quote_error)) {
    if (fields.empty() && quote_error.empty()) {
      ++rep.blank_lines;
      continue;
    }
    ++rep.rows;
    std::string place = name + ":" + std::to_string(line) + ": ";
    RowError reason = RowError::kBadNumber;
    std::string message;
    int32_t label_index = -1;
    CellError err;
    if (!quote_error.empty()) {
      reason = RowError::kBadQuote;
      message = place + quote_error;
    } else if (fields.size() != num_fields) {
      reason = RowError::kFieldCount;
      message = place + "expected " + std::to_string(num_fields) + " fields, found " + std::to_string(fields.size());
    } else {
      std::string_view label = Trim(fields[label_col]);
      if (label.empty()) {
        reason = RowError::kEmptyCell;
        message = place + column_name(label_col) + ": empty label";
      } else if (!given.empty()) {
        auto it = given.find(label);
        if (it == given.end()) {
          std::string allowed;
          for (const std::string& l : options.labels) allowed += (allowed.empty() ? "" : ", ") + l;
          reason = RowError::kUnknownLabel;
          message = place + column_name(label_col) + ": unknown label " + Quoted(label) + " (expected one of " +
                    allowed + ")";
        } else {
          label_index = it->second;
        }
      } else {
        auto it = seen.find(label);
        if (it == seen.end()) {
          // Registered only once the row is known to be good (below).
          label_index = static_cast<int32_t>(seen_names.size());
        } else {
          label_index = it->second;
        }
      }
      if (message.empty()) {
        if (features_layout) {
          if (!ParseList(fields[features_col], &row, &err)) {
            reason = err.reason;
            message = place + column_name(features_col) + ": " + err.detail;
          } else if (window != 0 && row.size() != window) {
            reason = RowError::kListLength;
            message = place + column_name(features_col) + ": " + std::to_string(row.size()) +
                      " readings, expected " + std::to_string(window);
          } else if (window == 0 && row.size() % channels != 0) {
            reason = RowError::kListLength;
            message = place + column_name(features_col) + ": " + std::to_string(row.size()) +
                      " readings are not a multiple of " + std::to_string(channels) + " channels";
          }
        } else {
          row.clear();
          for (size_t col = first; col < num_fields && message.empty(); ++col) {
            if (col == label_col) continue;
            float v = 0;
            if (!ParseReading(fields[col], &v, &err)) {
              reason = err.reason;
              message = place + column_name(col) + ": " + err.detail;
            }
            row.push_back(v);
          }
        }
      }
    }
    if (!message.empty()) {
      if (!options.skip_bad_rows) return Status::InvalidArgument(message);
      ++rep.rows_skipped;
      ++rep.skipped_by_reason[static_cast<size_t>(reason)];
      if (rep.examples.size() < options.max_examples) rep.examples.push_back(message);
      continue;
    }
    if (window == 0) window = row.size();
    if (given.empty() && label_index == static_cast<int32_t>(seen_names.size())) {
      std::string label(Trim(fields[label_col]));
      seen.emplace(label, label_index);
      seen_names.push_back(label);
    }
    d.Add(row, label_index);
    ++rep.rows_kept;
  }
  if (d.size() == 0) {
    return Status::InvalidArgument(name + ": no data rows" +
                                   (rep.rows_skipped > 0 ? " (all " + std::to_string(rep.rows_skipped) +
                                                               " rows were bad: " + rep.examples.front() + ")"
                                                         : std::string()));
  }
  d.length = static_cast<int>(window / channels);
  if (!given.empty()) {
    d.labels = options.labels;
  } else {
    d.labels = CanonicalLabelOrder(seen_names);
    std::vector<int32_t> remap(seen_names.size());
    for (size_t i = 0; i < seen_names.size(); ++i) {
      remap[i] = static_cast<int32_t>(std::find(d.labels.begin(), d.labels.end(), seen_names[i]) - d.labels.begin());
    }
    for (int32_t& y : d.y) y = remap[y];
  }
  return d;
}

Result<Dataset> ReadCsvFile(const std::string& path, const CsvReadOptions& options, CsvReadReport* report) {
  EL_ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(path));
  return ReadCsv(text, path, options, report);
}

}  // namespace edgeloop::data
