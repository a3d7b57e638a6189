#include "agent/internal/json_fields.h"

namespace kennel::agent::internal {

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
