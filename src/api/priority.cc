#include "api/priority.h"

#include <optional>
#include <utility>

namespace kennel::api {
namespace {

using nlohmann::json;

constexpr char kPreemptLowerPriority[] = "PreemptLowerPriority";

struct SystemClass {
  const char* name;
  int64_t value;
  const char* description;
};

constexpr SystemClass kSystemClasses[] = {
    {"system-node-critical", kSystemCriticalPriority + 1000,
     "Used for system critical pods that must not be moved from their current node."},
    {"system-cluster-critical", kSystemCriticalPriority,
     "Used for system critical pods that must run in the cluster, but can be moved to another "
     "node if necessary."},
};

// The member, or nullptr when absent or null (or o is not an object).
const json* Member(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

// A PriorityClass as the plugin reads it. Stored classes were validated and
// defaulted, so the fallbacks only cover what Go's zero values would.
struct ClassView {
  std::string name;
  int64_t value = 0;
  bool global_default = false;
  std::optional<std::string> preemption_policy;
};

ClassView View(const json& pc) {
  ClassView v;
  if (const json* meta = Member(pc, "metadata")) {
    if (const json* name = Member(*meta, "name"); name && name->is_string()) {
      v.name = name->get<std::string>();
    }
  }
  if (const json* value = Member(pc, "value"); value && value->is_number_integer()) {
    v.value = value->get<int64_t>();
  }
  if (const json* d = Member(pc, "globalDefault"); d && d->is_boolean()) {
    v.global_default = d->get<bool>();
  }
  if (const json* p = Member(pc, "preemptionPolicy"); p && p->is_string()) {
    v.preemption_policy = p->get<std::string>();
  }
  return v;
}

// If a race left several classes globalDefault, the lowest value wins.
std::optional<ClassView> DefaultClass(const std::vector<json>& classes) {
  std::optional<ClassView> best;
  for (const json& pc : classes) {
    ClassView v = View(pc);
    if (v.global_default && (!best || v.value < best->value)) best = std::move(v);
  }
  return best;
}

std::optional<ClassView> FindClass(const std::vector<json>& classes, std::string_view name) {
  for (const json& pc : classes) {
    ClassView v = View(pc);
    if (v.name == name) return v;
  }
  return std::nullopt;
}

Status Forbidden(std::string_view group_resource, std::string_view name, std::string_view why) {
  return Status(Code::kForbidden, std::string(group_resource) + " \"" + std::string(name) +
                                      "\" is forbidden: " + std::string(why));
}

}  // namespace

std::vector<json> SystemPriorityClasses() {
  std::vector<json> out;
  for (const SystemClass& c : kSystemClasses) {
    out.push_back({{"apiVersion", "scheduling.k8s.io/v1"},
                   {"kind", "PriorityClass"},
                   {"metadata", {{"name", c.name}}},
                   {"value", c.value},
                   {"description", c.description},
                   {"preemptionPolicy", kPreemptLowerPriority}});
  }
  return out;
}

bool IsSystemPriorityClass(std::string_view name) {
  for (const SystemClass& c : kSystemClasses) {
    if (name == c.name) return true;
  }
  return false;
}

std::string SystemPriorityClassMismatch(std::string_view name, int64_t value, bool global_default) {
  for (const SystemClass& c : kSystemClasses) {
    if (name != c.name) continue;
    if (value != c.value) {
      return "value of " + std::string(name) + " PriorityClass must be " + std::to_string(c.value);
    }
    // No built-in class is the global default.
    if (global_default) {
      return "globalDefault of " + std::string(name) + " PriorityClass must be false";
    }
    return "";
  }
  return std::string(name) + " is not a known system priority class";
}

Status AdmitPodPriority(json& pod, const std::vector<json>& classes, std::string_view pod_name) {
  if (!pod.is_object() || !pod.contains("spec") || !pod["spec"].is_object()) return Status::Ok();
  json& spec = pod["spec"];
  const json* class_name = Member(spec, "priorityClassName");
  const json* priority = Member(spec, "priority");
  const json* policy = Member(spec, "preemptionPolicy");
  if ((class_name && !class_name->is_string()) || (priority && !priority->is_number_integer()) ||
      (policy && !policy->is_string())) {
    return Status::Ok();  // validation reports the type
  }
  std::string name = class_name ? class_name->get<std::string>() : "";
  int64_t value = 0;
  std::optional<std::string> computed_policy = kPreemptLowerPriority;
  if (name.empty()) {
    if (std::optional<ClassView> d = DefaultClass(classes)) {
      spec["priorityClassName"] = d->name;
      value = d->value;
      computed_policy = d->preemption_policy;
    }
  } else {
    std::optional<ClassView> c = FindClass(classes, name);
    if (!c) {
      return Forbidden("pods", pod_name, "no PriorityClass with name " + name + " was found");
    }
    value = c->value;
    computed_policy = c->preemption_policy;
  }
  if (priority && priority->get<int64_t>() != value) {
    return Forbidden("pods", pod_name,
                     "the integer value of priority (" + std::to_string(priority->get<int64_t>()) +
                         ") must not be provided in pod spec; priority admission controller "
                         "computed " +
                         std::to_string(value) + " from the given PriorityClass name");
  }
  spec["priority"] = value;
  if (computed_policy) {
    if (policy && policy->get<std::string>() != *computed_policy) {
      return Forbidden("pods", pod_name,
                       "the string value of PreemptionPolicy (" + policy->get<std::string>() +
                           ") must not be provided in pod spec; priority admission controller "
                           "computed " +
                           *computed_policy + " from the given PriorityClass name");
    }
    spec["preemptionPolicy"] = *computed_policy;
  }
  return Status::Ok();
}

void KeepPodPriority(json& pod, const json& old_pod) {
  if (!pod.is_object() || !pod.contains("spec") || !pod["spec"].is_object()) return;
  const json* old_spec = Member(old_pod, "spec");
  if (old_spec == nullptr) return;
  json& spec = pod["spec"];
  for (const char* key : {"priority", "preemptionPolicy"}) {
    const json* old_value = Member(*old_spec, key);
    if (old_value != nullptr && Member(spec, key) == nullptr) spec[key] = *old_value;
  }
}

Status AdmitPriorityClass(const json& pc, const std::vector<json>& classes, PriorityClassOp op) {
  ClassView self = View(pc);
  if (!self.global_default) return Status::Ok();
  std::optional<ClassView> current = DefaultClass(classes);
  // A class may stay the default; it may not become a second one.
  if (current && (op == PriorityClassOp::kCreate || current->name != self.name)) {
    return Forbidden("priorityclasses.scheduling.k8s.io", self.name,
                     "PriorityClass " + current->name +
                         " is already marked as default. Only one default can exist");
  }
  return Status::Ok();
}

}  // namespace kennel::api
