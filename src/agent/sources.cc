#include "agent/sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "agent/synthetic.h"

namespace edgeloop::agent {
namespace {

constexpr size_t kMaxLineBytes = 1 << 20;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// One number; values beyond the float range saturate (a sensor glitch must not wrap around).
std::string ParseNumber(std::string_view token, size_t column, float* out) {
  token = Trim(token);
  auto bad = [&](const char* why) {
    return "column " + std::to_string(column) + ": '" + std::string(token.substr(0, 32)) + "' " + why;
  };
  if (token.empty()) return "column " + std::to_string(column) + ": empty value";
  if (token.size() > 64) return bad("is not a number");
  char buf[72];
  std::memcpy(buf, token.data(), token.size());
  buf[token.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(buf, &end);
  if (end != buf + token.size()) return bad("is not a number");
  // strtod also takes "nan", "inf" and hex floats; a reading is a plain finite decimal.
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return bad("is not a finite decimal number");
    }
  }
  if (std::isnan(d)) return bad("is not a finite decimal number");
  if (d > FLT_MAX) d = FLT_MAX;  // includes strtod's HUGE_VAL on overflow
  if (d < -FLT_MAX) d = -FLT_MAX;
  *out = static_cast<float>(d);
  return "";
}

// Splits one CSV record into fields (RFC 4180 quotes with "" escapes). "" or an error.
std::string SplitCsv(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' && Trim(cur).empty() && !was_quoted) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (c == ',') {
      fields->push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return "column " + std::to_string(fields->size() + 1) + ": unterminated quote";
  fields->push_back(std::move(cur));
  return "";
}

// "[1, 2.5, 3]" -> values; column numbers are positions in the list, starting at `first_column`.
std::string ParseJsonList(std::string_view s, std::vector<float>* values) {
  s = Trim(s);
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return "a JSON list must be enclosed in [ ]";
  std::string_view inner = Trim(s.substr(1, s.size() - 2));
  if (inner.empty()) return "";
  size_t column = 1;
  while (true) {
    size_t comma = inner.find(',');
    std::string_view tok = inner.substr(0, comma);
    float v;
    std::string err = ParseNumber(tok, column, &v);
    if (!err.empty()) return err;
    values->push_back(v);
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
    ++column;
  }
  return "";
}

// Splits a byte stream into lines; keeps a partial last line until its newline arrives.
class LineBuffer {
 public:
  struct FillResult {
    size_t bytes = 0;   // appended
    bool eof = false;   // read() returned 0
    std::string error;  // a read error other than "would block"
  };
  // Reads what is available from the non-blocking `fd`.
  FillResult Fill(int fd) {
    FillResult r;
    char buf[16384];
    while (data_.size() <= 4 * kMaxLineBytes) {  // consume before reading more
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        data_.append(buf, static_cast<size_t>(n));
        r.bytes += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) {
        r.eof = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        r.error = std::strerror(errno);
      }
      break;
    }
    return r;
  }
  // The next complete line (without '\n'), or false. `flush` returns the unterminated rest too.
  bool NextLine(std::string* line, bool flush, bool* too_long) {
    *too_long = false;
    size_t nl = data_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (data_.size() - pos_ > kMaxLineBytes) {  // drop it: no sensor line is a megabyte
        *too_long = true;
        data_.clear();
        pos_ = 0;
        skipping_ = true;
        return true;
      }
      if (flush && pos_ < data_.size()) {
        line->assign(data_, pos_, std::string::npos);
        data_.clear();
        pos_ = 0;
        return !std::exchange(skipping_, false);
      }
      Compact();
      return false;
    }
    line->assign(data_, pos_, nl - pos_);
    pos_ = nl + 1;
    if (skipping_) {  // the tail of an over-long line
      skipping_ = false;
      return NextLine(line, flush, too_long);
    }
    return true;
  }
  void Clear() {
    data_.clear();
    pos_ = 0;
    skipping_ = false;
  }

 private:
  void Compact() {
    if (pos_ > 0) {
      data_.erase(0, pos_);
      pos_ = 0;
    }
  }
  std::string data_;
  size_t pos_ = 0;
  bool skipping_ = false;
};

// ---- synthetic --------------------------------------------------------------------------------

class SyntheticSource final : public Source {
 public:
  SyntheticSource(uint64_t seed, std::vector<ScheduleStep> schedule)
      : generator_(seed), schedule_(std::move(schedule)) {}
  std::string name() const override { return "synthetic"; }
  bool paced() const override { return true; }
  ReadResult Next(size_t window_size, double elapsed_s, std::vector<float>* window) override {
    std::string condition = "normal";
    double drift = 0;
    for (const ScheduleStep& s : schedule_) {
      if (s.after_s > elapsed_s) break;
      condition = s.condition;
      drift = s.drift_per_hour * (elapsed_s - s.after_s) / 3600.0;
    }
    generator_.Generate(condition, window_size, static_cast<float>(drift), window);
    return {ReadStatus::kWindow, "synthetic", ""};
  }

 private:
  VibrationGenerator generator_;
  std::vector<ScheduleStep> schedule_;
};

// ---- csv replay ---------------------------------------------------------------------------------

class CsvSource final : public Source {
 public:
  static Result<std::unique_ptr<Source>> Open(const std::string& path) {
    std::unique_ptr<CsvSource> s(new CsvSource(path));
    s->in_.open(path, std::ios::binary);
    if (!s->in_) return Status::NotFound("source csv: cannot open '" + path + "'");
    std::string header;
    if (!std::getline(s->in_, header)) return Status::InvalidArgument("source csv: " + path + ": empty file");
    std::vector<std::string> fields;
    std::string err = SplitCsv(Trim(header), &fields);
    if (!err.empty()) return Status::InvalidArgument("source csv: " + path + ":1: " + err);
    if (fields.size() == 2 && Trim(fields[0]) == "features" && Trim(fields[1]) == "label") {
      s->tutorial_format_ = true;
    } else if (fields.size() >= 2 && Trim(fields[0]) == "label") {
      s->columns_ = fields.size();
    } else {
      return Status::InvalidArgument("source csv: " + path +
                                     ":1: unknown header; expected 'label,f0,...,fN-1' or 'features,label'");
    }
    s->data_start_ = s->in_.tellg();
    return std::unique_ptr<Source>(std::move(s));
  }
  std::string name() const override { return "csv " + path_; }
  bool paced() const override { return true; }

  ReadResult Next(size_t /*window_size*/, double /*elapsed_s*/, std::vector<float>* window) override {
    std::string line;
    for (;;) {
      if (!std::getline(in_, line)) {
        // Loop: a replayed recording behaves like a sensor that never stops (--max-results ends it).
        if (windows_this_pass_ == 0) return {ReadStatus::kEnd, path_, ""};
        in_.clear();
        in_.seekg(data_start_);
        line_no_ = 1;
        windows_this_pass_ = 0;
        continue;
      }
      ++line_no_;
      if (!Trim(line).empty()) break;
    }
    std::string where = path_ + ":" + std::to_string(line_no_);
    window->clear();
    std::vector<std::string> fields;
    std::string err = SplitCsv(Trim(line), &fields);
    if (err.empty()) {
      if (tutorial_format_) {
        if (fields.size() != 2) {
          err = "expected 2 columns (features,label), got " + std::to_string(fields.size());
        } else {
          err = ParseJsonList(fields[0], window);
          if (!err.empty()) err = "column 1 (features): " + err;
        }
      } else if (fields.size() != columns_) {
        err = "expected " + std::to_string(columns_) + " columns, got " + std::to_string(fields.size());
      } else {
        for (size_t i = 1; i < fields.size() && err.empty(); ++i) {
          float v;
          err = ParseNumber(fields[i], i + 1, &v);
          window->push_back(v);
        }
      }
    }
    if (!err.empty()) return {ReadStatus::kBadInput, where, err};
    ++windows_this_pass_;
    return {ReadStatus::kWindow, where, ""};
  }

 private:
  explicit CsvSource(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::ifstream in_;
  std::streampos data_start_;
  bool tutorial_format_ = false;
  size_t columns_ = 0;
  int64_t line_no_ = 1;
  int64_t windows_this_pass_ = 0;
};

// ---- stdin and followed files -------------------------------------------------------------------

class LineSource final : public Source {
 public:
  // fd >= 0: stdin (not owned). Otherwise `path` is opened and followed.
  static Result<std::unique_ptr<Source>> Open(int fd, const std::string& path) {
    std::unique_ptr<LineSource> s(new LineSource(fd, path));
    if (fd >= 0) {
      int flags = ::fcntl(fd, F_GETFL);
      if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      s->fd_ = fd;
    } else {
      s->Reopen();  // a file that does not exist yet is waited for
    }
    return std::unique_ptr<Source>(std::move(s));
  }
  ~LineSource() override {
    if (owns_fd_ && fd_ >= 0) ::close(fd_);
  }
  std::string name() const override { return is_stdin_ ? "stdin" : "file " + path_; }
  bool paced() const override { return false; }
  int poll_fd() const override { return (is_stdin_ || fifo_) ? fd_ : -1; }

  ReadResult Next(size_t /*window_size*/, double /*elapsed_s*/, std::vector<float>* window) override {
    std::string line;
    for (;;) {
      bool too_long = false;
      if (buffer_.NextLine(&line, eof_, &too_long)) {
        ++line_no_;
        std::string where = name_for_errors() + ":" + std::to_string(line_no_);
        if (too_long) return {ReadStatus::kBadInput, where, "line longer than " + std::to_string(kMaxLineBytes) + " bytes"};
        window->clear();
        std::string err = ParseReadingsLine(line, window);
        if (!err.empty()) return {ReadStatus::kBadInput, where, err};
        if (window->empty()) continue;  // blank line or comment
        return {ReadStatus::kWindow, where, ""};
      }
      if (eof_) return {ReadStatus::kEnd, name_for_errors(), ""};
      if (!Refill()) return {ReadStatus::kNotReady, name_for_errors(), ""};
    }
  }

 private:
  LineSource(int fd, std::string path) : path_(std::move(path)), is_stdin_(fd >= 0) {}
  std::string name_for_errors() const { return is_stdin_ ? "stdin" : path_; }

  // Reads more input; false when there is none right now.
  bool Refill() {
    if (fd_ < 0 && !Reopen()) return false;
    if (!is_stdin_ && !fifo_) {
      // Follow the file: reopen it when it was replaced (new inode) or truncated.
      struct stat by_path, by_fd;
      if (::stat(path_.c_str(), &by_path) == 0 && ::fstat(fd_, &by_fd) == 0) {
        if (by_path.st_ino != by_fd.st_ino || by_path.st_dev != by_fd.st_dev || by_fd.st_size < offset_) {
          Reopen();
        }
      }
    }
    LineBuffer::FillResult r = buffer_.Fill(fd_);
    if (!is_stdin_ && !fifo_) offset_ += static_cast<off_t>(r.bytes);
    if (is_stdin_ && (r.eof || !r.error.empty())) eof_ = true;  // stdin closed: stop after the last line
    return r.bytes > 0 || eof_;
  }
  bool Reopen() {
    if (owns_fd_ && fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.Clear();
    offset_ = 0;
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) return false;
    fifo_ = S_ISFIFO(st.st_mode);
    // A FIFO is opened read-write so that it always has a writer: poll() then waits for data
    // instead of reporting end of file whenever the feeding process restarts.
    fd_ = ::open(path_.c_str(), (fifo_ ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    owns_fd_ = fd_ >= 0;
    line_no_ = 0;
    return fd_ >= 0;
  }

  std::string path_;
  bool is_stdin_;
  bool fifo_ = false;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  off_t offset_ = 0;
  int64_t line_no_ = 0;
  LineBuffer buffer_;
};

}  // namespace

std::string ParseReadingsLine(std::string_view line, std::vector<float>* values) {
  values->clear();
  std::string_view s = Trim(line);
  if (s.empty() || s.front() == '#') return "";
  if (s.front() == '[') return ParseJsonList(s, values);
  size_t column = 1;
  while (true) {
    size_t comma = s.find(',');
    float v;
    std::string err = ParseNumber(s.substr(0, comma), column, &v);
    if (!err.empty()) return err;
    values->push_back(v);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
    ++column;
  }
  return "";
}

Result<std::unique_ptr<Source>> CreateSource(const AgentConfig::Source& config) {
  switch (config.kind) {
    case SourceKind::kSynthetic:
      return std::unique_ptr<Source>(new SyntheticSource(config.seed, config.schedule));
    case SourceKind::kCsv:
      return CsvSource::Open(config.path);
    case SourceKind::kStdin:
      return LineSource::Open(STDIN_FILENO, "");
    case SourceKind::kFile:
      return LineSource::Open(-1, config.path);
  }
  return Status::InvalidArgument("source: unknown kind");
}

}  // namespace edgeloop::agent
