// A pod's status as Kubernetes reports it, computed from what the runtime
// observed of each container: phase, conditions, container statuses with
// state, lastState, ready, started and restartCount. Pure: unit-tested.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/runtime.h"

namespace kennel::agent {

using nlohmann::json;

// What the agent knows of one container of the pod.
struct ObservedContainer {
  int restart_count = 0;                    // the current attempt's index
  std::optional<ContainerStatus> current;   // the current attempt, if started
  std::optional<ContainerStatus> previous;  // the attempt before, if any
  std::string waiting_reason;               // when not running: why
  std::string waiting_message;
  bool ready = false;         // running and its readiness holds
  bool started = true;        // running and its startup probe passed
  bool will_restart = false;  // exited, and the policy restarts it
};

struct ObservedPod {
  std::string uid;
  std::string pod_ip;
  std::string host_ip;
  std::string start_time;                         // RFC 3339, when the agent first took the pod
  std::map<std::string, ObservedContainer> init;  // by container name
  std::map<std::string, ObservedContainer> app;
  std::string failure_message;  // pod-level: why it cannot run at all
};

// "Completed", "Error", "OOMKilled" etc. for a finished container.
std::string TerminatedReason(const ContainerStatus& s);

// The pod's new status. previous is the pod's current status (transition
// times of unchanged conditions are kept from it); now is RFC 3339.
json PodStatus(const json& pod, const ObservedPod& observed, const json& previous,
               const std::string& now);

}  // namespace kennel::agent
