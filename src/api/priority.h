// Pod priority as Kubernetes 1.32 defines it: the scheduling.k8s.io/v1
// PriorityClass objects and the Priority admission plugin
// (plugin/pkg/admission/priority) that turns a pod's priorityClassName into
// spec.priority and spec.preemptionPolicy.
//
// Callers: the API server, the only reader of the store, passes the
// PriorityClass objects it currently stores (all of them; a cluster has a
// handful). It
//   - creates SystemPriorityClasses() at start-up when missing and refuses to
//     delete them (IsSystemPriorityClass),
//   - runs AdmitPodPriority() on every pod create, after defaulting and before
//     validation (it is a mutating admission plugin in Kubernetes),
//   - runs KeepPodPriority() on every pod update, before validation,
//   - runs AdmitPriorityClass() on PriorityClass create and update, after
//     validation (a validating plugin).
// The rules on a PriorityClass's own fields (the reserved "system-" prefix,
// the user maximum, immutability) are in validation.cc, its defaults in
// defaults.cc.
//
// Errors are kForbidden with Kubernetes' messages, e.g.
//   pods "web" is forbidden: no PriorityClass with name gold was found
// Pure functions of their arguments: thread-safe, and no exception escapes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::api {

// Values above this are reserved for the built-in classes.
inline constexpr int64_t kHighestUserDefinablePriority = 1000000000;
// system-cluster-critical's value; system-node-critical's is 1000 more.
inline constexpr int64_t kSystemCriticalPriority = 2 * kHighestUserDefinablePriority;
// Only the built-in classes may have names with this prefix.
inline constexpr std::string_view kSystemPriorityClassPrefix = "system-";

// The built-in classes, system-node-critical and system-cluster-critical, as
// complete scheduling.k8s.io/v1 objects without server-owned metadata: name,
// value, description (Kubernetes' wording), preemptionPolicy
// PreemptLowerPriority.
std::vector<nlohmann::json> SystemPriorityClasses();

// True for the name of a built-in class.
bool IsSystemPriorityClass(std::string_view name);

// Why (name, value, globalDefault) is not exactly one of the built-in classes,
// in Kubernetes' words ("value of system-node-critical PriorityClass must be
// 2000001000", "system-foo is not a known system priority class"); "" when it
// is one.
std::string SystemPriorityClassMismatch(std::string_view name, int64_t value, bool global_default);

// The Priority plugin on a pod being created. With spec.priorityClassName
// set, the class of that name gives spec.priority and spec.preemptionPolicy;
// without one, the globalDefault class (the lowest-valued, should there be
// several) also fills in priorityClassName; with neither, priority 0 and
// PreemptLowerPriority. A priority or preemptionPolicy the client set must
// equal the computed one. `pod_name` is the name the request carried (""
// when the server generates it), for the messages:
//   pods "x" is forbidden: no PriorityClass with name foo was found
//   pods "x" is forbidden: the integer value of priority (5) must not be
//     provided in pod spec; priority admission controller computed 0 from the
//     given PriorityClass name
//   pods "x" is forbidden: the string value of PreemptionPolicy (Never) must
//     not be provided in pod spec; priority admission controller computed
//     PreemptLowerPriority from the given PriorityClass name
// Fields of the wrong JSON type are left alone for validation to report.
Status AdmitPodPriority(nlohmann::json& pod, const std::vector<nlohmann::json>& classes,
                        std::string_view pod_name);

// The Priority plugin on a pod update: an update that leaves out
// spec.priority or spec.preemptionPolicy keeps the stored value (validation
// then refuses any change to them, as to the rest of the spec).
void KeepPodPriority(nlohmann::json& pod, const nlohmann::json& old_pod);

enum class PriorityClassOp { kCreate, kUpdate };

// The Priority plugin on a PriorityClass being created or updated: only one
// class may be globalDefault.
//   priorityclasses.scheduling.k8s.io "b" is forbidden: PriorityClass a is
//     already marked as default. Only one default can exist
// `classes` are the stored ones (on update, including this class's old state).
Status AdmitPriorityClass(const nlohmann::json& pc, const std::vector<nlohmann::json>& classes,
                          PriorityClassOp op);

}  // namespace kennel::api
