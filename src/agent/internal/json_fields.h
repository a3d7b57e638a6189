// The agent's JSON helpers: the API layer's field access, and condition
// transition times kept as Kubernetes keeps them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/json_access.h"

namespace kennel::agent::internal {

using nlohmann::json;

using api::Field;
using api::IntOr;
using api::Str;

// The lastTransitionTime for a condition of `type` that now has `status`:
// kept from the previous status's conditions while the status is unchanged,
// else now (as Kubernetes keeps transition times).
std::string KeptTransitionTime(const json& previous_status, const std::string& type,
                               const std::string& status, const std::string& now);

}  // namespace kennel::agent::internal
