// Reading fields of JSON objects whose shape the API server validated but
// whose optional parts may be absent: the agent's one way to do it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kennel::agent::internal {

using nlohmann::json;

// obj[name], or a null json when obj is no object or has no such field.
const json& Field(const json& obj, const char* name);
// obj[name] as a string, or "" when absent or not a string.
std::string Str(const json& obj, const char* name);
// obj[name] as an int, or fallback when absent or not an integer.
int IntOr(const json& obj, const char* name, int fallback);

// The lastTransitionTime for a condition of `type` that now has `status`:
// kept from the previous status's conditions while the status is unchanged,
// else now (as Kubernetes keeps transition times).
std::string KeptTransitionTime(const json& previous_status, const std::string& type,
                               const std::string& status, const std::string& now);

}  // namespace kennel::agent::internal
