// The shim launcher: how StartContainer gets a shim without exec'ing the
// kennel binary again. Not part of the agent's contract.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::agent::internal {

// Asks the launcher (if StartShimLauncher ran and it is still alive) to start
// the shim for state_dir, detached, with stdin = null_fd, stdout and stderr =
// log_fd and report_fd as its report descriptor. The caller keeps its fds.
// kUnavailable: no launcher, the request was not sent (the caller execs the
// binary instead); any other error: the launcher could not fork, or went
// away before it answered (whether the shim started is unknown).
Status LaunchShim(const std::string& state_dir, int null_fd, int log_fd, int report_fd);

// Asks the launcher to start an ExecInContainer process: a child of *this*
// process (the launcher forks it with CLONE_PARENT), so the caller waits for
// it as for one it forked. encoded and fds describe the plan (see
// EncodeExecPlan in runtime_container.cc). kUnavailable: no launcher, nothing
// was started.
StatusOr<pid_t> LaunchExec(std::string_view encoded, const std::vector<int>& fds);

// In the launcher's child (implemented beside ExecInContainer): decodes the
// plan and becomes the exec's process. Never returns.
[[noreturn]] void RunEncodedExec(std::string_view encoded, const int* fds, int fd_count);

}  // namespace kennel::agent::internal
