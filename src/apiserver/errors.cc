#include "apiserver/errors.h"

namespace kennel::apiserver {

int HttpCode(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kBadRequest:
      return 400;
    case Code::kUnauthorized:
      return 401;
    case Code::kForbidden:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kMethodNotAllowed:
      return 405;
    case Code::kNotAcceptable:
      return 406;
    case Code::kAlreadyExists:
      return 409;
    case Code::kConflict:
      return 409;
    case Code::kGone:
      return 410;
    case Code::kRequestEntityTooLarge:
      return 413;
    case Code::kUnsupportedMediaType:
      return 415;
    case Code::kInvalid:
      return 422;
    case Code::kTooManyRequests:
      return 429;
    case Code::kInternal:
      return 500;
    case Code::kUnavailable:
      return 503;
    case Code::kTimeout:
      return 504;
  }
  return 500;
}

const char* Reason(Code code) {
  switch (code) {
    case Code::kOk:
      return "";
    case Code::kBadRequest:
      return "BadRequest";
    case Code::kUnauthorized:
      return "Unauthorized";
    case Code::kForbidden:
      return "Forbidden";
    case Code::kNotFound:
      return "NotFound";
    case Code::kMethodNotAllowed:
      return "MethodNotAllowed";
    case Code::kNotAcceptable:
      return "NotAcceptable";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kConflict:
      return "Conflict";
    case Code::kGone:
      return "Expired";
    case Code::kRequestEntityTooLarge:
      return "RequestEntityTooLarge";
    case Code::kUnsupportedMediaType:
      return "UnsupportedMediaType";
    case Code::kInvalid:
      return "Invalid";
    case Code::kTooManyRequests:
      return "TooManyRequests";
    case Code::kInternal:
      return "InternalError";
    case Code::kUnavailable:
      return "ServiceUnavailable";
    case Code::kTimeout:
      return "Timeout";
  }
  return "InternalError";
}

nlohmann::json StatusBody(const Status& status, const ErrorSubject& subject) {
  nlohmann::json body = {{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"metadata", nlohmann::json::object()},
                         {"status", "Failure"},
                         {"message", status.message()},
                         {"reason", Reason(status.code())},
                         {"code", HttpCode(status.code())}};
  nlohmann::json details = nlohmann::json::object();
  if (!subject.name.empty()) details["name"] = subject.name;
  if (!subject.group.empty()) details["group"] = subject.group;
  // Kubernetes names the kind in Invalid errors ("The StatefulSet "web" is
  // invalid") and the resource in the others ("statefulsets.apps "web" not found").
  const std::string& kind =
      status.code() == Code::kInvalid && !subject.kind.empty() ? subject.kind : subject.resource;
  if (!kind.empty()) details["kind"] = kind;
  if (!status.causes().empty()) {
    nlohmann::json causes = nlohmann::json::array();
    for (const auto& c : status.causes()) {
      causes.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
    }
    details["causes"] = std::move(causes);
  }
  if (!details.empty()) body["details"] = std::move(details);
  return body;
}

nlohmann::json SuccessBody(const ErrorSubject& subject) {
  nlohmann::json body = {{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"metadata", nlohmann::json::object()},
                         {"status", "Success"}};
  if (!subject.name.empty()) {
    body["details"] = {{"name", subject.name}, {"kind", subject.resource}};
    if (!subject.group.empty()) body["details"]["group"] = subject.group;
  }
  return body;
}

Status NotFoundError(const std::string& group_resource, const std::string& name) {
  return NotFound(group_resource + " \"" + name + "\" not found");
}

Status AlreadyExistsError(const std::string& group_resource, const std::string& name) {
  return AlreadyExists(group_resource + " \"" + name + "\" already exists");
}

Status ConflictError(const std::string& group_resource, const std::string& name) {
  return Conflict("Operation cannot be fulfilled on " + group_resource + " \"" + name +
                  "\": the object has been modified; please apply your changes to the latest "
                  "version and try again");
}

}  // namespace kennel::apiserver
