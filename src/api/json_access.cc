#include "api/json_access.h"

namespace kennel::api {

const nlohmann::json& Field(const nlohmann::json& obj, const char* name) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

std::string Str(const nlohmann::json& obj, const char* name) {
  const nlohmann::json& v = Field(obj, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int IntOr(const nlohmann::json& obj, const char* name, int fallback) {
  const nlohmann::json& v = Field(obj, name);
  return v.is_number_integer() ? v.get<int>() : fallback;
}

}  // namespace kennel::api
