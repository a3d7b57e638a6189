// Probes and lifecycle hooks of running containers: startup, readiness and
// liveness probes (exec, tcpSocket, httpGet) run on their own schedule
// (initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold,
// failureThreshold), and postStart/preStop hooks, all on one I/O thread:
// network probes are asynchronous sockets, exec probes a process in the
// container awaited through a pidfd, so 100 pods' probes cost no threads.
//
// The prober only observes; the pod worker acts: each result change calls
// on_change(pod_key), and the worker reads Results() to set readiness or to
// restart a container whose liveness or startup failed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::agent {

using nlohmann::json;

// One running container attempt, as the prober needs it.
struct ProbeTarget {
  std::string pod_key;    // "ns/name": what on_change reports
  std::string id;         // unique per container attempt: "<uid>/<name>/<attempt>"
  std::string state_dir;  // for exec probes and hooks
  std::string pod_ip;
  json container;  // the container's spec (probes, lifecycle, ports)
};

struct ProbeResults {
  bool started = true;  // startup probe succeeded (or none)
  bool ready = true;    // readiness holds (false until its first success)
  bool live = true;     // liveness holds
  std::string message;  // why started/live failed: for the restart's message
};

class Prober {
 public:
  static std::unique_ptr<Prober> Start(std::function<void(const std::string& pod_key)> on_change);
  virtual ~Prober() = default;

  // Starts probing target (idempotent per id); ids not passed to Keep for a
  // pod are stopped by Forget.
  virtual void Ensure(const ProbeTarget& target) = 0;
  // Stops every probe of ids not in keep whose id starts with prefix ("<uid>/").
  virtual void Forget(const std::string& prefix, const std::vector<std::string>& keep) = 0;
  virtual ProbeResults Results(const std::string& id) = 0;

  // Runs a lifecycle handler (postStart/preStop: exec or httpGet) to its end
  // or timeout and calls done with the outcome, on the prober's thread.
  virtual void RunHook(const ProbeTarget& target, const json& handler, int timeout_seconds,
                       std::function<void(Status)> done) = 0;
  virtual void Stop() = 0;
};

// The port a probe names (a number, or a name from the container's ports).
StatusOr<int> ResolvePort(const json& container, const json& port);

}  // namespace kennel::agent
