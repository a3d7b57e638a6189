#include "agent/pod_status.h"

#include <ctime>

#include "agent/internal/json_fields.h"
#include "agent/pod_spec.h"
#include "base/time.h"

namespace kennel::agent {
namespace {

std::string ContainerId(const std::string& uid, const std::string& name, int attempt) {
  return "kennel://" + uid + "-" + name + "-" + std::to_string(attempt);
}

json StateJson(const ContainerStatus& s, const std::string& id) {
  if (s.state == ContainerStatus::State::kRunning) {
    return {{"running", {{"startedAt", FormatRfc3339(s.started_at_ns)}}}};
  }
  json t = {{"exitCode", s.exit_code},
            {"reason", TerminatedReason(s)},
            {"startedAt", s.started_at_ns ? json(FormatRfc3339(s.started_at_ns)) : json(nullptr)},
            {"finishedAt", FormatRfc3339(s.finished_at_ns)},
            {"containerID", id}};
  if (s.signal != 0) t["signal"] = s.signal;
  if (!s.message.empty()) t["message"] = s.message;
  return {{"terminated", t}};
}

json ContainerStatusJson(const json& spec, const ObservedPod& pod, const ObservedContainer& c) {
  const std::string name = spec.value("name", "");
  json out = {{"name", name},
              {"image", spec.value("image", "")},
              {"imageID", "kennel://" + spec.value("image", std::string())},
              {"restartCount", c.restart_count},
              {"ready", c.ready},
              {"started", false},
              {"lastState", json::object()}};
  bool running = c.current && c.current->state == ContainerStatus::State::kRunning;
  if (c.current && c.waiting_reason.empty()) {
    out["state"] = StateJson(*c.current, ContainerId(pod.uid, name, c.restart_count));
    out["containerID"] = ContainerId(pod.uid, name, c.restart_count);
    out["started"] = running && c.started;
  } else {
    json waiting = {{"reason", c.waiting_reason.empty() ? "ContainerCreating" : c.waiting_reason}};
    if (!c.waiting_message.empty()) waiting["message"] = c.waiting_message;
    out["state"] = {{"waiting", waiting}};
  }
  // After a restart the last attempt's end is lastState; while waiting to
  // restart, the attempt that ended is.
  const ContainerStatus* last = nullptr;
  int last_attempt = c.restart_count - 1;
  if (c.current && !c.waiting_reason.empty() &&
      c.current->state == ContainerStatus::State::kExited) {
    last = &*c.current;
    last_attempt = c.restart_count;
  } else if (c.previous) {
    last = &*c.previous;
  }
  if (last != nullptr && last->state == ContainerStatus::State::kExited) {
    out["lastState"] = StateJson(*last, ContainerId(pod.uid, name, last_attempt));
  }
  return out;
}

bool Succeeded(const ObservedContainer& c) {
  return c.current && c.current->state == ContainerStatus::State::kExited &&
         c.current->exit_code == 0;
}

bool Exited(const ObservedContainer& c) {
  return c.current && c.current->state == ContainerStatus::State::kExited;
}

bool Running(const ObservedContainer& c) {
  return c.current && c.current->state == ContainerStatus::State::kRunning;
}

json Condition(const json& previous, const std::string& type, bool status,
               const std::string& reason, const std::string& now) {
  std::string st = status ? "True" : "False";
  std::string transition = internal::KeptTransitionTime(previous, type, st, now);
  json c = {{"type", type},
            {"status", st},
            {"lastProbeTime", nullptr},
            {"lastTransitionTime", transition}};
  if (!status && !reason.empty()) c["reason"] = reason;
  return c;
}

std::string QosClass(const json& spec) {
  bool any = false, guaranteed = true;
  for (const char* list : {"initContainers", "containers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const json& c : spec[list]) {
      for (const char* res : {"cpu", "memory"}) {
        bool req = ResourceMilliCpu(c, "requests") > 0 || ResourceMemoryBytes(c, "requests") > 0;
        bool lim = std::string(res) == "cpu" ? ResourceMilliCpu(c, "limits") > 0
                                             : ResourceMemoryBytes(c, "limits") > 0;
        any = any || req || lim;
        if (!lim) guaranteed = false;
      }
      if (ResourceMilliCpu(c, "requests") != ResourceMilliCpu(c, "limits") &&
          ResourceMilliCpu(c, "requests") != 0) {
        guaranteed = false;
      }
      if (ResourceMemoryBytes(c, "requests") != ResourceMemoryBytes(c, "limits") &&
          ResourceMemoryBytes(c, "requests") != 0) {
        guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace

std::string TerminatedReason(const ContainerStatus& s) {
  if (s.oom_killed) return "OOMKilled";
  // The process never ran: exec failed (not found, not executable, bad dir).
  if (s.exit_code == 127 || s.exit_code == 126 || s.exit_code == 128) {
    if (!s.message.empty()) return "StartError";
  }
  return s.exit_code == 0 ? "Completed" : "Error";
}

json PodStatus(const json& pod, const ObservedPod& observed, const json& previous,
               const std::string& now) {
  const json spec = pod.value("spec", json::object());
  json init_statuses = json::array();
  bool initialized = true;
  bool init_failed = false;
  if (spec.contains("initContainers") && spec["initContainers"].is_array()) {
    for (const json& c : spec["initContainers"]) {
      auto it = observed.init.find(c.value("name", ""));
      ObservedContainer oc = it != observed.init.end() ? it->second : ObservedContainer{};
      if (!Succeeded(oc)) initialized = false;
      if (Exited(oc) && !Succeeded(oc) && !oc.will_restart) init_failed = true;
      // An init container that has not started yet waits for the ones before.
      if (!oc.current && oc.waiting_reason.empty()) oc.waiting_reason = "PodInitializing";
      json st = ContainerStatusJson(c, observed, oc);
      init_statuses.push_back(std::move(st));
    }
  }
  json statuses = json::array();
  bool all_ready = true, any_running = false, all_exited = true, any_failed = false;
  bool any_restarting = false;
  if (spec.contains("containers") && spec["containers"].is_array()) {
    for (const json& c : spec["containers"]) {
      auto it = observed.app.find(c.value("name", ""));
      ObservedContainer oc = it != observed.app.end() ? it->second : ObservedContainer{};
      if (!initialized && !oc.current && oc.waiting_reason.empty()) {
        oc.waiting_reason = "PodInitializing";
      }
      all_ready = all_ready && oc.ready;
      any_running = any_running || Running(oc);
      any_restarting = any_restarting || oc.will_restart;
      if (!Exited(oc) || oc.will_restart) all_exited = false;
      if (Exited(oc) && !Succeeded(oc) && !oc.will_restart) any_failed = true;
      statuses.push_back(ContainerStatusJson(c, observed, oc));
    }
  }

  std::string phase = "Pending";
  if (!observed.failure_message.empty() || init_failed) {
    phase = init_failed ? "Failed" : "Pending";
  } else if (initialized && all_exited && !statuses.empty()) {
    phase = any_failed ? "Failed" : "Succeeded";
  } else if (initialized && (any_running || any_restarting)) {
    phase = "Running";
  }

  const bool containers_ready = initialized && all_ready && phase == "Running";
  json status = previous.is_object() ? previous : json::object();
  status["phase"] = phase;
  status["hostIP"] = observed.host_ip;
  status["hostIPs"] = json::array({{{"ip", observed.host_ip}}});
  if (!observed.pod_ip.empty()) {
    status["podIP"] = observed.pod_ip;
    status["podIPs"] = json::array({{{"ip", observed.pod_ip}}});
  }
  status["startTime"] = observed.start_time;
  status["qosClass"] = QosClass(spec);
  status["containerStatuses"] = statuses;
  if (!init_statuses.empty()) {
    status["initContainerStatuses"] = init_statuses;
  } else {
    status.erase("initContainerStatuses");
  }
  if (!observed.failure_message.empty()) {
    status["message"] = observed.failure_message;
  } else {
    status.erase("message");
    status.erase("reason");
  }
  json conditions = json::array();
  conditions.push_back(
      Condition(previous, "PodReadyToStartContainers", !observed.pod_ip.empty(), "", now));
  conditions.push_back(
      Condition(previous, "Initialized", initialized, "ContainersNotInitialized", now));
  conditions.push_back(Condition(previous, "Ready", containers_ready, "ContainersNotReady", now));
  conditions.push_back(
      Condition(previous, "ContainersReady", containers_ready, "ContainersNotReady", now));
  conditions.push_back(Condition(previous, "PodScheduled", true, "", now));
  status["conditions"] = conditions;
  return status;
}

}  // namespace kennel::agent
