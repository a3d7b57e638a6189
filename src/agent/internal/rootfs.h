// The container's root filesystem, built inside its new mount namespace: a
// copy-on-write overlay of the host's root file system (the root mount only,
// none of the mounts below it), fresh /proc, /sys, /dev and /run, then the
// spec's mounts, and a pivot_root into it.
#pragma once

#include <string>
#include <vector>

#include "agent/runtime.h"
#include "base/status.h"

namespace kennel::agent::internal {

// To be called by the container process after unshare(CLONE_NEWNS) and after
// joining its PID namespace (for /proc) and network namespace (for /sys).
// The overlay's layers live under state_dir/rootfs.
Status SetUpContainerRoot(const std::string& state_dir, const std::vector<MountSpec>& mounts);

// Refuses mounts the container root cannot take (relative targets, unknown
// types, bind mounts without a source).
Status ValidateMounts(const std::vector<MountSpec>& mounts);

}  // namespace kennel::agent::internal
