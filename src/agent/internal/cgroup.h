// Container cgroups on either cgroup v2 (one unified hierarchy with the cpu
// and memory controllers) or cgroup v1 (a hierarchy per controller; hybrid
// systems mount v2 too but without those controllers).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::agent::internal {

struct CgroupLayout {
  bool v2 = false;
  std::string v2_root;      // v2: the mount point, e.g. /sys/fs/cgroup
  std::string cpu_root;     // v1: the hierarchy with the cpu controller
  std::string memory_root;  // v1: the hierarchy with the memory controller
};

// The hierarchies to use, from /proc/self/mountinfo; kUnavailable naming
// what is missing when neither v2 nor v1 offers both cpu and memory.
StatusOr<CgroupLayout> DetectCgroups();

// v2 only: the cpu and memory controllers must be enabled below the root for
// container cgroups to get limits. Fails when the root has processes of its
// own (a non-root cgroup namespace, as in some CI containers).
Status CheckV2Delegation(const CgroupLayout& layout);

// A path relative to the hierarchy root, e.g. "kennel/node1/pod<uid>/app":
// no "..", no empty or dot components.
Status ValidateCgroupPath(const std::string& rel);

struct CgroupLimits {
  int64_t cpu_limit_milli = 0;     // 0: no quota
  int64_t cpu_request_milli = 0;   // 0: default weight
  int64_t memory_limit_bytes = 0;  // 0: no limit
};

// The cgroup's directory in each hierarchy (one for v2, two for v1).
std::vector<std::string> CgroupDirs(const CgroupLayout& layout, const std::string& rel);

// Creates the cgroup (and its ancestors, enabling controllers on v2) and sets
// its limits.
Status CreateCgroup(const CgroupLayout& layout, const std::string& rel, const CgroupLimits& limits);

// The cgroup.procs files through which a process joins the cgroup (writing
// "0" moves the writer).
std::vector<std::string> CgroupProcsFiles(const CgroupLayout& layout, const std::string& rel);

// Whether the kernel OOM-killed a process of the cgroup. On v1 kernels
// without an oom_kill counter, a failcnt with a SIGKILLed main process counts.
bool CgroupOomKilled(const CgroupLayout& layout, const std::string& rel, bool killed_by_sigkill);

// SIGKILLs every process left in the cgroup.
void KillCgroupProcesses(const CgroupLayout& layout, const std::string& rel);

// Removes the cgroup directories, killing leftover processes and retrying
// while the kernel still counts exiting ones, up to patience. Missing is fine.
Status RemoveCgroupDirs(const CgroupLayout& layout, const std::string& rel,
                        std::chrono::milliseconds patience);

}  // namespace kennel::agent::internal
