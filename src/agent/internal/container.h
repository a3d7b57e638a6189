// What the agent and a container's shim share through the container's state
// directory:
//   spec.json   what to run (written by StartContainer, read by the shim)
//   state.json  what happened (written by the shim, atomically, read by anyone)
//   shim.log    the shim's own stderr, for diagnosing a shim that died
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "agent/runtime.h"
#include "base/status.h"

namespace kennel::agent::internal {

// Everything the shim needs: the container and the sandbox it joins.
struct ShimConfig {
  Isolation isolation = Isolation::kNamespaces;
  std::string netns_path;
  std::string utsns_path;
  std::string ipcns_path;
  ContainerSpec spec;
};

struct ContainerState {
  static constexpr char kRunning[] = "running";
  static constexpr char kExited[] = "exited";

  std::string status;  // kRunning or kExited
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // /proc/<pid>/stat start time: guards against pid reuse
  int64_t started_at_ns = 0;
  int64_t finished_at_ns = 0;
  int exit_code = 0;
  int signal = 0;
  bool oom_killed = false;
  std::string message;
  pid_t shim_pid = 0;
};

std::string SpecPath(const std::string& state_dir);
std::string StatePath(const std::string& state_dir);
std::string ShimLogPath(const std::string& state_dir);

Status WriteShimConfig(const std::string& state_dir, const ShimConfig& config);
StatusOr<ShimConfig> ReadShimConfig(const std::string& state_dir);

// Runs what reading a config and writing a state run, on samples in memory:
// a shim forked ahead of its request (the launcher's spare) calls it so that
// the pages that code touches are its own before the clock starts.
void ExerciseStateCode();

Status WriteContainerState(const std::string& state_dir, const ContainerState& state);
// kNotFound when no state has been recorded yet.
StatusOr<ContainerState> ReadContainerState(const std::string& state_dir);

// The container's cgroup below the hierarchy root: cgroup_parent/name.
std::string ContainerCgroupPath(const ContainerSpec& spec);

}  // namespace kennel::agent::internal
