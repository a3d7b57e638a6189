#include "controllers/internal/workload.h"

#include "base/time.h"

namespace kennel::controllers::internal {

int64_t Int(const json& obj, const char* name, int64_t fallback) {
  const json& v = Member(obj, name);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

const json& Meta(const json& obj) { return Member(obj, "metadata"); }

std::string NamespacedKey(const std::string& ns, const std::string& name) {
  std::string key = ns;
  key += "/";
  key += name;
  return key;
}

std::optional<json> ControllerRefOf(const json& obj) {
  const json& refs = Member(Meta(obj), "ownerReferences");
  if (!refs.is_array()) return std::nullopt;
  for (const json& r : refs) {
    if (Member(r, "controller") == json(true)) return r;
  }
  return std::nullopt;
}

json NewControllerRef(const json& owner, const std::string& api_version, const std::string& kind) {
  return {
      {"apiVersion", api_version},      {"kind", kind},       {"name", Str(Meta(owner), "name")},
      {"uid", Str(Meta(owner), "uid")}, {"controller", true}, {"blockOwnerDeletion", true}};
}

bool IsDeleting(const json& obj) { return !Member(Meta(obj), "deletionTimestamp").is_null(); }

bool IsPodActive(const json& pod) {
  std::string phase = Str(Member(pod, "status"), "phase");
  return phase != "Succeeded" && phase != "Failed" && !IsDeleting(pod);
}

namespace {
const json* ReadyCondition(const json& pod) {
  const json& conditions = Member(Member(pod, "status"), "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const json& c : conditions) {
    if (Str(c, "type") == "Ready") return &c;
  }
  return nullptr;
}
}  // namespace

bool IsPodReady(const json& pod) {
  const json* c = ReadyCondition(pod);
  return c != nullptr && Str(*c, "status") == "True";
}

std::optional<std::chrono::system_clock::time_point> ReadySince(const json& pod) {
  const json* c = ReadyCondition(pod);
  if (c == nullptr || Str(*c, "status") != "True") return std::nullopt;
  int64_t ns = ParseRfc3339(Str(*c, "lastTransitionTime"));
  if (ns == 0) return std::nullopt;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

bool IsPodAvailable(const json& pod, int64_t min_ready_seconds,
                    std::chrono::system_clock::time_point now) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  auto since = ReadySince(pod);
  if (!since) return false;
  return *since + std::chrono::seconds(min_ready_seconds) <= now;
}

}  // namespace kennel::controllers::internal
