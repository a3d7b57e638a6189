// Small POSIX helpers shared by the runtime's pieces: owned file descriptors,
// errno as Status, writes to kernel files (cgroupfs, procfs), directory trees
// and process identity.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::agent::internal {

// Owns a file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Internal("<what>: <strerror(err)>").
Status ErrnoStatus(const std::string& what, int err = errno);
std::string ErrnoText(int err);

// Writes value to an existing kernel file (no create, no truncate semantics
// beyond what the kernel file does), as cgroupfs and procfs expect: one write.
Status WriteKernelFile(const std::string& path, std::string_view value);

// Reads a small file; trailing whitespace is kept.
StatusOr<std::string> ReadSmallFile(const std::string& path);

// mkdir -p; existing directories are fine.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Creates path (and its parents) as a directory or an empty file, unless it
// exists already; used for mount targets.
Status EnsureMountTarget(const std::string& path, bool directory);

// rm -rf that never crosses into another file system: a mount left below path
// (a bind mount of a host directory, say) must never have its contents
// deleted. Mount points are skipped, so their parents stay and the call fails.
// A missing path is not an error.
Status RemoveTree(const std::string& path);

// Mount points at or below path in this process's mount namespace, deepest
// first (so they can be unmounted in order).
std::vector<std::string> MountPointsUnder(const std::string& path);

// Whether path is the root of a mount (bind mounts of a directory on itself
// included, which st_dev cannot tell).
bool IsMountPoint(const std::string& path);

// The start time of pid in clock ticks since boot (field 22 of
// /proc/<pid>/stat), or 0 if there is no such process. A pid with a different
// start time is another process that reused the number.
uint64_t ProcStartTicks(pid_t pid);

// Joins path components with exactly one '/' between them.
std::string JoinPath(std::string_view a, std::string_view b);

// Async-signal-safe: makes fds[i] file descriptor i for i < count (stdin,
// stdout, stderr, ...), whatever their current numbers (even when they
// overlap their targets), without close-on-exec, and closes every other
// descriptor from count up. False if a dup fails.
bool InstallFdsAndCloseRest(const int* fds, int count);

// Async-signal-safe: restores default dispositions for every catchable signal
// and unblocks all signals, so an exec'd program does not inherit ours
// (ignored SIGPIPE, blocked SIGTERM, ...).
void ResetSignalsForExec();

}  // namespace kennel::agent::internal
