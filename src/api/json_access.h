// Reading optional parts of JSON objects whose shape the API server
// validated: one way to do it for every component.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kennel::api {

// obj[name], or a null json when obj is no object or has no such field.
const nlohmann::json& Field(const nlohmann::json& obj, const char* name);
// obj[name] as a string, or "" when absent or not a string.
std::string Str(const nlohmann::json& obj, const char* name);
// obj[name] as an int, or fallback when absent or not an integer.
int IntOr(const nlohmann::json& obj, const char* name, int fallback);

}  // namespace kennel::api
