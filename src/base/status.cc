#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace kennel {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kBadRequest: return "BadRequest";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kForbidden: return "Forbidden";
    case Code::kNotFound: return "NotFound";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kNotAcceptable: return "NotAcceptable";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kGone: return "Gone";
    case Code::kRequestEntityTooLarge: return "RequestEntityTooLarge";
    case Code::kUnsupportedMediaType: return "UnsupportedMediaType";
    case Code::kInvalid: return "Invalid";
    case Code::kTooManyRequests: return "TooManyRequests";
    case Code::kInternal: return "Internal";
    case Code::kUnavailable: return "Unavailable";
    case Code::kTimeout: return "Timeout";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = std::string(CodeName(code_)) + ": " + message_;
  for (const auto& c : causes_) s += "; " + c.field + ": " + c.message;
  return s;
}

void DieWithStatus(const char* what, const Status& s) {
  std::fprintf(stderr, "FATAL: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

}  // namespace kennel
