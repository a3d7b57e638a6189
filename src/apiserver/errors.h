// The one place where a Status becomes an HTTP code and a Kubernetes Status
// object (metav1.Status), so every error the API answers looks the same.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace kennel::apiserver {

// The HTTP status code for a Status code.
int HttpCode(Code code);

// What the error is about, for Status.details and Kubernetes' messages.
struct ErrorSubject {
  std::string group;     // "apps"
  std::string resource;  // "statefulsets": details.kind of most errors
  std::string name;
  std::string kind;  // "StatefulSet": details.kind of Invalid, whose message kubectl rebuilds
};

// A metav1.Status body {kind: Status, status: Failure, message, reason, details, code}.
nlohmann::json StatusBody(const Status& status, const ErrorSubject& subject = {});

// A metav1.Status for success (used by deletecollection and some deletes).
nlohmann::json SuccessBody(const ErrorSubject& subject = {});

// The Kubernetes reason string for a code ("NotFound", "AlreadyExists", "Expired", …).
const char* Reason(Code code);

// Messages formatted the way Kubernetes words them, so kubectl prints what users know.
Status NotFoundError(const std::string& group_resource, const std::string& name);
Status AlreadyExistsError(const std::string& group_resource, const std::string& name);
Status ConflictError(const std::string& group_resource, const std::string& name);

}  // namespace kennel::apiserver
