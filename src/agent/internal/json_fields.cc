#include "agent/internal/json_fields.h"

namespace kennel::agent::internal {

const json& Field(const json& obj, const char* name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

std::string Str(const json& obj, const char* name) {
  const json& v = Field(obj, name);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int IntOr(const json& obj, const char* name, int fallback) {
  const json& v = Field(obj, name);
  return v.is_number_integer() ? v.get<int>() : fallback;
}

std::string KeptTransitionTime(const json& previous_status, const std::string& type,
                               const std::string& status, const std::string& now) {
  const json& conditions = Field(previous_status, "conditions");
  if (!conditions.is_array()) return now;
  for (const json& c : conditions) {
    if (Str(c, "type") == type && Str(c, "status") == status) {
      std::string t = Str(c, "lastTransitionTime");
      return t.empty() ? now : t;
    }
  }
  return now;
}

}  // namespace kennel::agent::internal
