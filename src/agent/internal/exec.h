// exec with a $PATH search that is safe between fork() and exec() in a
// multi-threaded process: PrepareExec allocates everything beforehand, and
// ExecOrExplain only calls execve() and writes into a caller's buffer.
//
// The failure wording follows Docker's, which is what users of Kubernetes
// see: `exec: "foo": executable file not found in $PATH`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kennel::agent::internal {

inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct PreparedExec {
  std::string name;                     // argv[0] as given
  std::vector<std::string> candidates;  // paths to try, in $PATH order
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;  // null-terminated, pointing into argv_storage
  std::vector<char*> envp;  // null-terminated, pointing into env_storage
};

// env is the complete environment of the new program; its PATH (or
// kDefaultPath) drives the search when argv[0] has no '/'.
PreparedExec PrepareExec(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// Adds PATH (kDefaultPath) and HOSTNAME when env lacks them, as container
// runtimes do.
std::vector<std::string> WithDefaultEnv(std::vector<std::string> env, const std::string& hostname);

// Execs the first candidate that can be executed. Returns only on failure:
// the exit code a runtime reports (127: not found, 126: found but not
// executable) with a message in msg (always NUL-terminated). Async-signal-safe.
int ExecOrExplain(const PreparedExec& exec, char* msg, size_t msg_size);

}  // namespace kennel::agent::internal
