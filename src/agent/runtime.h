// The node's container runtime: pod sandboxes (network, UTS and IPC
// namespaces with a veth on the node bridge) and containers (each a process in
// its own PID and mount namespaces, inside the sandbox, with a copy-on-write
// view of the host's root filesystem, cgroup limits and a log file).
//
// Containers outlive the agent: each is supervised by a small `kennel shim`
// process that the agent starts and that keeps running if the agent dies. All
// that the runtime knows lives in files under the state directories it is
// given, so a restarted agent re-adopts running containers by reading them.
//
// Errors are Status values; nothing here throws.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::agent {

enum class Isolation {
  kNamespaces,  // the real thing: needs root, namespaces, overlayfs, cgroups
  kNone,        // plain processes on the host network (--isolation=none)
};

// Ok when this process can isolate pods; otherwise a kUnavailable Status whose
// message names every missing piece (not root, no user/net/pid/mount
// namespace support, no overlayfs, no cgroup controller for cpu or memory, …).
Status CheckIsolationSupport();

// --- Node network ----------------------------------------------------------

struct NodeNetworkConfig {
  std::string bridge = "kennel0";  // Linux bridge pods attach to
  std::string pod_cidr;            // "10.244.0.0/24": gateway is .1 on the bridge
  std::string ipam_dir;            // where IP leases are kept (one file per IP)
};

// Creates (idempotently) the bridge with the gateway address, brings it up,
// enables IPv4 forwarding and lets pods of this bridge reach each other and
// other nodes' pod CIDRs on this machine. Safe to call at every agent start.
Status EnsureNodeNetwork(const NodeNetworkConfig& config);

// --- Sandboxes -------------------------------------------------------------

struct SandboxSpec {
  std::string pod_uid;
  std::string hostname;  // UTS hostname: spec.hostname or the pod name
  std::string dir;       // the pod's runtime directory; namespace files live here
};

struct Sandbox {
  std::string pod_uid;
  std::string ip;          // "10.244.0.7"; the host IP for Isolation::kNone
  std::string netns_path;  // bind-mounted namespace files, "" for kNone
  std::string utsns_path;
  std::string ipcns_path;
  std::string host_veth;  // host side of the veth pair, "" for kNone
};

// Creates the sandbox, or returns the existing one for spec.pod_uid (after an
// agent restart): namespaces, veth pair (pod side "eth0" with the IP, lo up,
// default route via the gateway), an IP leased from config.pod_cidr.
StatusOr<Sandbox> EnsureSandbox(Isolation isolation, const NodeNetworkConfig& config,
                                const SandboxSpec& spec);

// Releases the IP, deletes the veth, unmounts and removes the namespace files.
// Idempotent: a sandbox already (partly) gone is not an error.
Status RemoveSandbox(Isolation isolation, const NodeNetworkConfig& config, const SandboxSpec& spec);

// --- Containers ------------------------------------------------------------

struct MountSpec {
  std::string source;         // host path (bind), or "" with type tmpfs
  std::string target;         // absolute path inside the container
  std::string type = "bind";  // "bind" or "tmpfs"
  bool read_only = false;
  std::string options;  // tmpfs options, e.g. "size=64m"
};

struct ContainerSpec {
  std::string name;               // the container's name in the pod
  std::string image;              // only "host" runs; others are refused by the agent
  std::vector<std::string> argv;  // command + args, resolved by the agent
  std::vector<std::string> env;   // "KEY=value"
  std::string working_dir;        // "" = "/"
  std::vector<MountSpec> mounts;  // volumes, /etc/hosts, /etc/resolv.conf, ...
  // Limits; 0 = none. cpu in millicores (cpu quota), memory in bytes.
  int64_t cpu_limit_milli = 0;
  int64_t memory_limit_bytes = 0;
  int64_t cpu_request_milli = 0;     // cpu weight/shares
  std::string state_dir;             // this container attempt's directory: pid, exit, rootfs upper
  std::string log_path;              // CRI-format log: "<RFC3339Nano> stdout|stderr F|P <line>"
  int64_t log_max_bytes = 10 << 20;  // rotate (keep one .1) beyond this
  std::string cgroup_parent;  // e.g. "kennel/<node>/pod<uid>"; the container's cgroup is below
};

struct ContainerStatus {
  enum class State { kRunning, kExited, kUnknown };
  State state = State::kUnknown;
  pid_t pid = 0;              // host pid of the container's process
  int64_t started_at_ns = 0;  // wall clock
  int64_t finished_at_ns = 0;
  int exit_code = 0;  // 128+signal when killed by a signal
  int signal = 0;
  bool oom_killed = false;
  std::string message;  // e.g. why exec failed ("exec: \"foo\": not found")
};

// Starts the container in the sandbox (through its shim) and returns once the
// process has been exec'd or failed to start (then the status is kExited with
// exit code 127/126 and a message, like a real runtime; 128 when setting the
// container up failed, e.g. a missing working directory). One state_dir is
// one attempt: starting it again returns its status, or kConflict if its shim
// recorded nothing; a new attempt needs a new state_dir. kTimeout if the shim
// does not report within 10 s.
StatusOr<ContainerStatus> StartContainer(Isolation isolation, const Sandbox& sandbox,
                                         const ContainerSpec& spec);

// Reads the container's state from its state_dir (after an agent restart too).
ContainerStatus InspectContainer(const std::string& state_dir);

// Sends sig to the container's process (no-op if it has exited).
Status SignalContainer(const std::string& state_dir, int sig);

// Removes what the container left: cgroup, rootfs upper layer, state_dir
// (not its log). The container must have exited.
Status RemoveContainer(const ContainerSpec& spec);

// Runs argv inside the running container's namespaces and root (as `exec`
// probes and `kubectl exec` do); stdin/stdout/stderr are the given fds (-1 =
// /dev/null). Returns the pid of the started process (a child of the caller,
// to be waited on by the caller).
// With kNamespaces that pid is an intermediate process outside the
// container's PID namespace: it exits with the inner process's status (or
// dies of its signal), forwards SIGTERM/INT/HUP/QUIT/USR1/USR2 to it, and if
// it is SIGKILLed the inner process is killed too. The process starts in the
// container's working_dir (as `docker exec` does), in its cgroup.
StatusOr<pid_t> ExecInContainer(const std::string& state_dir, const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, int stdin_fd, int stdout_fd,
                                int stderr_fd);

// `kennel shim STATE_DIR`: the shim's main (the binary re-executes itself).
// argc/argv are the arguments after the subcommand: argv[0] is STATE_DIR, so
// main() calls RunShim(argc - 2, argv + 2) for `kennel shim STATE_DIR`.
// StartContainer runs `/proc/self/exe shim STATE_DIR` (or $KENNEL_SHIM_BINARY)
// detached: the shim is reparented to init, never a zombie of the agent (do
// not make the agent a child subreaper), and keeps running if the agent dies.
int RunShim(int argc, char** argv);

// Starts the shim launcher: a small helper process, forked from this one,
// that StartContainer then asks to fork each shim (instead of forking this
// process and exec'ing the binary, which costs ~25 ms per container here).
// Must be called while the process has a single thread (otherwise an error,
// and shims keep starting by exec). The launcher dies with this process;
// shims it started do not. Idempotent.
Status StartShimLauncher();
// Stops the launcher (for tests): shims start by exec again.
void StopShimLauncher();

// Removes an empty cgroup, e.g. a pod's cgroup_parent once all its containers
// are removed (RemoveContainer removes only the container's own cgroup).
// Missing is fine; kConflict if processes or child cgroups remain.
Status RemoveCgroup(const std::string& cgroup_path);

}  // namespace kennel::agent
