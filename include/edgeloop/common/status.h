// Status and Result<T>: how every edgeloop module reports an expected failure.
//
// A small set of codes (as LevelDB's Status) and a message that names the place: file, line, field,
// tensor or operator. No exceptions cross a module boundary; libraries that throw are wrapped at
// their edge and their what() kept in the message. Thread-safety: values, freely copyable.
#ifndef EDGELOOP_COMMON_STATUS_H_
#define EDGELOOP_COMMON_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgeloop {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (bad CSV cell, bad flag, malformed request)
  kNotFound,          // a named thing does not exist
  kCorruption,        // stored or received bytes are damaged (bad flatbuffer, hash mismatch)
  kIOError,           // the operating system said no (open, write, fsync, connect)
  kUnavailable,       // try again later (broker down, server busy)
  kPermissionDenied,  // not allowed (bad token, bad signature, wrong role)
};

// Returns "InvalidArgument", "NotFound", ... for messages and JSON errors.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(StatusCode::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(StatusCode::kUnavailable, std::move(msg)); }
  static Status PermissionDenied(std::string msg) { return Status(StatusCode::kPermissionDenied, std::move(msg)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: data.csv:12: column 5 ('f3'): 'abc' is not a number"; "OK" when ok.
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (same code), to add the place as an error
  // travels outwards. An OK status stays OK.
  Status WithPrefix(std::string_view prefix) const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. Accessing value() on an error is a programmer error (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, as absl::StatusOr
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgeloop

#define EL_CONCAT_INNER_(a, b) a##b
#define EL_CONCAT_(a, b) EL_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define EL_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::edgeloop::Status el_status_ = (expr);              \
    if (!el_status_.ok()) return el_status_;             \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status from the enclosing function.
#define EL_ASSIGN_OR_RETURN(lhs, expr) EL_ASSIGN_OR_RETURN_IMPL_(EL_CONCAT_(el_result_, __LINE__), lhs, expr)
#define EL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // EDGELOOP_COMMON_STATUS_H_
