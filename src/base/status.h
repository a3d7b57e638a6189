// Status and StatusOr<T>: the error currency of every Kennel library.
//
// No exception crosses a library boundary; functions that can fail return a
// Status (or a StatusOr<T> carrying a value on success). The codes are few and
// each one is something a caller reacts to differently; the one place that maps
// them to HTTP codes and Kubernetes Status reasons is apiserver/errors.cc.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kennel {

enum class Code {
  kOk = 0,
  kBadRequest,            // 400: malformed body or parameters
  kUnauthorized,          // 401
  kForbidden,             // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kNotAcceptable,         // 406
  kAlreadyExists,         // 409 AlreadyExists
  kConflict,              // 409 Conflict: a compare-and-swap lost
  kGone,                  // 410: revision compacted / resourceVersion too old
  kRequestEntityTooLarge, // 413
  kUnsupportedMediaType,  // 415
  kInvalid,               // 422: the object fails validation
  kTooManyRequests,       // 429
  kInternal,              // 500
  kUnavailable,           // 503: shutting down, store closed
  kTimeout,               // 504
};

// One reason a request is invalid, as Kubernetes' StatusCause: field is a JSON
// path such as "spec.replicas", reason a CauseType such as "FieldValueInvalid".
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(Code code, std::string message, std::vector<StatusCause> causes)
      : code_(code), message_(std::move(message)), causes_(std::move(causes)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }
  std::string ToString() const;

  // Explicitly drop a Status whose failure does not matter here.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::vector<StatusCause> causes_;
};

const char* CodeName(Code code);

inline Status BadRequest(std::string m) { return Status(Code::kBadRequest, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
inline Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
inline Status Gone(std::string m) { return Status(Code::kGone, std::move(m)); }
inline Status Invalid(std::string m, std::vector<StatusCause> causes = {}) {
  return Status(Code::kInvalid, std::move(m), std::move(causes));
}
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status UnsupportedMediaType(std::string m) {
  return Status(Code::kUnsupportedMediaType, std::move(m));
}

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "StatusOr built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<StatusOr*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return const_cast<StatusOr*>(this)->checked(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<StatusOr*>(this)->checked(); }

 private:
  T& checked() {
    if (!ok()) {
      // "Cannot happen" crashes loudly: reading the value of a failed result is a bug.
      FailOnValueOfError(std::get<Status>(v_));
    }
    return std::get<T>(v_);
  }
  [[noreturn]] static void FailOnValueOfError(const Status& s);
  std::variant<T, Status> v_;
};

[[noreturn]] void DieWithStatus(const char* what, const Status& s);

template <typename T>
void StatusOr<T>::FailOnValueOfError(const Status& s) {
  DieWithStatus("value() of a failed StatusOr", s);
}

}  // namespace kennel

#define KENNEL_CONCAT_INNER(a, b) a##b
#define KENNEL_CONCAT(a, b) KENNEL_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::kennel::Status _st = (expr);            \
    if (!_st.ok()) return _st;                \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(KENNEL_CONCAT(_status_or_, __LINE__), lhs, expr)
