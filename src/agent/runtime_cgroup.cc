// Container cgroups, v1 and v2 (see internal/cgroup.h).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/internal/cgroup.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"

namespace kennel::agent {
namespace internal {
namespace {

constexpr int64_t kCfsPeriodUs = 100000;
constexpr int64_t kMinQuotaUs = 1000;  // the kernel refuses less than 1 ms

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

bool HasToken(const std::string& list, const std::string& token, char sep) {
  for (const std::string& t : Split(list, sep)) {
    if (t == token) return true;
  }
  return false;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The value of "key N" in a flat keyed file (memory.events, memory.oom_control).
int64_t KeyedValue(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  int64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return -1;
}

// Kubernetes' conversions: cpu.shares from a cpu request, cpu.weight from shares.
int64_t CpuShares(int64_t milli) { return std::clamp<int64_t>(milli * 1024 / 1000, 2, 262144); }
int64_t CpuWeight(int64_t shares) { return 1 + ((shares - 2) * 9999) / 262142; }
int64_t CpuQuotaUs(int64_t milli) { return std::max(kMinQuotaUs, milli * kCfsPeriodUs / 1000); }

Status EnableV2Controllers(const std::string& dir) {
  auto file = ReadSmallFile(JoinPath(dir, "cgroup.subtree_control"));
  std::string enabled = file.ok() ? *file : "";
  while (!enabled.empty() && enabled.back() == '\n') enabled.pop_back();
  for (const char* controller : {"cpu", "memory"}) {
    // Writing an enabled controller again is harmless but fails at a
    // namespace root that holds processes: skip it.
    if (HasToken(enabled, controller, ' ')) continue;
    RETURN_IF_ERROR(
        WriteKernelFile(JoinPath(dir, "cgroup.subtree_control"), std::string("+") + controller));
  }
  return Status::Ok();
}

Status CreateV2(const CgroupLayout& layout, const std::string& rel, const CgroupLimits& limits) {
  std::string dir = layout.v2_root;
  for (const std::string& part : Split(rel, '/')) {
    if (part.empty()) continue;
    // Controllers are handed down level by level: each parent enables them
    // for its children before the child exists.
    RETURN_IF_ERROR(EnableV2Controllers(dir));
    dir = JoinPath(dir, part);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + dir);
  }
  std::string quota =
      limits.cpu_limit_milli > 0 ? std::to_string(CpuQuotaUs(limits.cpu_limit_milli)) : "max";
  RETURN_IF_ERROR(
      WriteKernelFile(JoinPath(dir, "cpu.max"), quota + " " + std::to_string(kCfsPeriodUs)));
  if (limits.cpu_request_milli > 0) {
    RETURN_IF_ERROR(
        WriteKernelFile(JoinPath(dir, "cpu.weight"),
                        std::to_string(CpuWeight(CpuShares(limits.cpu_request_milli)))));
  }
  if (limits.memory_limit_bytes > 0) {
    RETURN_IF_ERROR(
        WriteKernelFile(JoinPath(dir, "memory.max"), std::to_string(limits.memory_limit_bytes)));
    // Like Kubernetes without swap support: a limited container never swaps.
    std::string swap = JoinPath(dir, "memory.swap.max");
    if (Exists(swap)) RETURN_IF_ERROR(WriteKernelFile(swap, "0"));
  }
  return Status::Ok();
}

Status CreateV1(const CgroupLayout& layout, const std::string& rel, const CgroupLimits& limits) {
  std::string cpu = JoinPath(layout.cpu_root, rel);
  std::string mem = JoinPath(layout.memory_root, rel);
  RETURN_IF_ERROR(MakeDirs(cpu));
  RETURN_IF_ERROR(MakeDirs(mem));
  RETURN_IF_ERROR(
      WriteKernelFile(JoinPath(cpu, "cpu.cfs_period_us"), std::to_string(kCfsPeriodUs)));
  RETURN_IF_ERROR(WriteKernelFile(
      JoinPath(cpu, "cpu.cfs_quota_us"),
      limits.cpu_limit_milli > 0 ? std::to_string(CpuQuotaUs(limits.cpu_limit_milli)) : "-1"));
  if (limits.cpu_request_milli > 0) {
    RETURN_IF_ERROR(WriteKernelFile(JoinPath(cpu, "cpu.shares"),
                                    std::to_string(CpuShares(limits.cpu_request_milli))));
  }
  if (limits.memory_limit_bytes > 0) {
    std::string value = std::to_string(limits.memory_limit_bytes);
    RETURN_IF_ERROR(WriteKernelFile(JoinPath(mem, "memory.limit_in_bytes"), value));
    // memory+swap no larger than memory: no swapping (needs swap accounting).
    std::string memsw = JoinPath(mem, "memory.memsw.limit_in_bytes");
    if (Exists(memsw)) RETURN_IF_ERROR(WriteKernelFile(memsw, value));
  }
  return Status::Ok();
}

// cgroup v1 mount options name the controllers, e.g. "rw,cpu,cpuacct".
bool V1HasController(const std::string& super_options, const std::string& controller) {
  return HasToken(super_options, controller, ',');
}

std::vector<pid_t> CgroupPids(const std::string& dir) {
  std::vector<pid_t> pids;
  std::ifstream in(JoinPath(dir, "cgroup.procs"));
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

StatusOr<CgroupLayout> ReadCgroupLayout() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  CgroupLayout v1;
  std::string v2_without_controllers;
  while (std::getline(in, line)) {
    // "<id> <parent> <dev> <root> <mount point> <options> [tags] - <type> <source> <super options>"
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::istringstream tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mount_point, type, source, super_options;
    if (!(head >> id >> parent >> dev >> root >> mount_point)) continue;
    if (!(tail >> type >> source >> super_options)) continue;
    if (type == "cgroup2") {
      auto controllers = ReadSmallFile(JoinPath(mount_point, "cgroup.controllers"));
      std::string list = controllers.ok() ? *controllers : "";
      while (!list.empty() && list.back() == '\n') list.pop_back();
      if (HasToken(list, "cpu", ' ') && HasToken(list, "memory", ' ')) {
        CgroupLayout layout;
        layout.v2 = true;
        layout.v2_root = mount_point;
        return layout;
      }
      v2_without_controllers = mount_point;
    } else if (type == "cgroup") {
      if (v1.cpu_root.empty() && V1HasController(super_options, "cpu")) v1.cpu_root = mount_point;
      if (v1.memory_root.empty() && V1HasController(super_options, "memory")) {
        v1.memory_root = mount_point;
      }
    }
  }
  if (!v1.cpu_root.empty() && !v1.memory_root.empty()) return v1;
  std::string missing;
  if (v1.cpu_root.empty()) missing += "cpu";
  if (v1.memory_root.empty()) missing += missing.empty() ? "memory" : " and memory";
  return Unavailable("no cgroup hierarchy with the " + missing + " controller" +
                     (missing.find(" and ") != std::string::npos ? "s" : "") +
                     (v2_without_controllers.empty()
                          ? ""
                          : " (cgroup v2 at " + v2_without_controllers + " lacks them)"));
}

}  // namespace

StatusOr<CgroupLayout> DetectCgroups() {
  // Read once per process: the hierarchies do not move while it runs, and
  // the mount table grows with every pod (each shim used to read it whole).
  // An atomic pointer rather than a lock, so that a process forked while
  // another thread computes it (the launcher's spare shims) cannot deadlock.
  static std::atomic<const CgroupLayout*> cached{nullptr};
  if (const CgroupLayout* known = cached.load(std::memory_order_acquire)) return *known;
  StatusOr<CgroupLayout> layout = ReadCgroupLayout();
  if (layout.ok()) {
    auto* fresh = new CgroupLayout(*layout);  // never freed: one per process
    const CgroupLayout* expected = nullptr;
    if (!cached.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) delete fresh;
  }
  return layout;
}

Status CheckV2Delegation(const CgroupLayout& layout) {
  if (!layout.v2) return Status::Ok();
  Status st = EnableV2Controllers(layout.v2_root);
  if (!st.ok()) {
    return Unavailable("cannot enable the cpu and memory controllers below " + layout.v2_root +
                       " (" + st.message() + ")");
  }
  return Status::Ok();
}

Status ValidateCgroupPath(const std::string& rel) {
  if (rel.empty()) return BadRequest("empty cgroup path");
  for (const std::string& part : Split(rel, '/')) {
    if (part == "." || part == "..") return BadRequest("invalid cgroup path \"" + rel + "\"");
  }
  return Status::Ok();
}

std::vector<std::string> CgroupDirs(const CgroupLayout& layout, const std::string& rel) {
  if (layout.v2) return {JoinPath(layout.v2_root, rel)};
  std::vector<std::string> dirs = {JoinPath(layout.cpu_root, rel)};
  if (layout.memory_root != layout.cpu_root) dirs.push_back(JoinPath(layout.memory_root, rel));
  return dirs;
}

Status CreateCgroup(const CgroupLayout& layout, const std::string& rel,
                    const CgroupLimits& limits) {
  RETURN_IF_ERROR(ValidateCgroupPath(rel));
  Status st = layout.v2 ? CreateV2(layout, rel, limits) : CreateV1(layout, rel, limits);
  if (!st.ok()) return Internal("create cgroup " + rel + ": " + st.message());
  return Status::Ok();
}

std::vector<std::string> CgroupProcsFiles(const CgroupLayout& layout, const std::string& rel) {
  std::vector<std::string> files;
  for (const std::string& dir : CgroupDirs(layout, rel)) {
    files.push_back(JoinPath(dir, "cgroup.procs"));
  }
  return files;
}

bool CgroupOomKilled(const CgroupLayout& layout, const std::string& rel, bool killed_by_sigkill) {
  if (layout.v2) {
    return KeyedValue(JoinPath(JoinPath(layout.v2_root, rel), "memory.events"), "oom_kill") > 0;
  }
  std::string mem = JoinPath(layout.memory_root, rel);
  std::string control = JoinPath(mem, "memory.oom_control");
  int64_t kills = KeyedValue(control, "oom_kill");
  if (kills >= 0) return kills > 0;
  if (KeyedValue(control, "under_oom") > 0) return true;
  auto failcnt = ReadSmallFile(JoinPath(mem, "memory.failcnt"));
  return killed_by_sigkill && failcnt.ok() && std::strtoll(failcnt->c_str(), nullptr, 10) > 0;
}

void KillCgroupProcesses(const CgroupLayout& layout, const std::string& rel) {
  for (const std::string& dir : CgroupDirs(layout, rel)) {
    std::string kill_file = JoinPath(dir, "cgroup.kill");  // v2, Linux 5.14+
    if (layout.v2 && Exists(kill_file) && WriteKernelFile(kill_file, "1").ok()) continue;
    for (pid_t pid : CgroupPids(dir)) ::kill(pid, SIGKILL);
  }
}

Status RemoveCgroupDirs(const CgroupLayout& layout, const std::string& rel,
                        std::chrono::milliseconds patience) {
  RETURN_IF_ERROR(ValidateCgroupPath(rel));
  auto deadline = std::chrono::steady_clock::now() + patience;
  for (const std::string& dir : CgroupDirs(layout, rel)) {
    while (::rmdir(dir.c_str()) != 0) {
      if (errno == ENOENT) break;
      if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) {
        return ErrnoStatus("remove cgroup " + dir);
      }
      // Killed processes leave the cgroup asynchronously; the kernel offers
      // no wake-up for that on v1, so this short wait is bounded by patience.
      KillCgroupProcesses(layout, rel);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return Status::Ok();
}

}  // namespace internal

Status RemoveCgroup(const std::string& cgroup_path) {
  auto layout = internal::DetectCgroups();
  if (!layout.ok()) return Status::Ok();  // no cgroups, nothing to remove
  std::string rel = cgroup_path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  RETURN_IF_ERROR(internal::ValidateCgroupPath(rel));
  for (const std::string& dir : internal::CgroupDirs(*layout, rel)) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      if (errno == EBUSY) return Conflict("cgroup " + dir + " still has processes or children");
      return internal::ErrnoStatus("remove cgroup " + dir);
    }
  }
  return Status::Ok();
}

}  // namespace kennel::agent
