// Containers as the agent sees them: starting one through a detached shim,
// reading its state, signalling it, removing what it left, and running
// further processes inside it.
//
// The agent is multi-threaded, so every fork() here is followed only by
// async-signal-safe calls until exec: all memory is prepared beforehand.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/internal/cgroup.h"
#include "agent/internal/container.h"
#include "agent/internal/exec.h"
#include "agent/internal/rootfs.h"
#include "agent/internal/shim.h"
#include "agent/internal/shim_launcher.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"

extern char** environ;

namespace kennel::agent {
namespace {

using internal::ContainerState;
using internal::ErrnoStatus;
using internal::UniqueFd;

constexpr auto kShimReportTimeout = std::chrono::seconds(10);

Status ValidateContainer(Isolation isolation, const Sandbox& sandbox, const ContainerSpec& spec) {
  if (spec.name.empty() || spec.name.find('/') != std::string::npos || spec.name == "." ||
      spec.name == "..") {
    return BadRequest("invalid container name \"" + spec.name + "\"");
  }
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return BadRequest("container " + spec.name + " has no command");
  }
  if (spec.state_dir.empty() || spec.state_dir[0] != '/') {
    return BadRequest("container " + spec.name + ": state_dir must be an absolute path");
  }
  if (spec.log_path.empty() || spec.log_path[0] != '/') {
    return BadRequest("container " + spec.name + ": log_path must be an absolute path");
  }
  if (isolation == Isolation::kNamespaces &&
      (sandbox.netns_path.empty() || sandbox.utsns_path.empty() || sandbox.ipcns_path.empty())) {
    return BadRequest("container " + spec.name + ": the sandbox has no namespaces");
  }
  RETURN_IF_ERROR(internal::ValidateMounts(spec.mounts));
  return internal::ValidateCgroupPath(internal::ContainerCgroupPath(spec));
}

// Everything the shim's exec needs, built before fork().
struct ShimLaunch {
  std::string binary;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ShimLaunch PrepareShimLaunch(const std::string& state_dir) {
  ShimLaunch l;
  const char* binary = std::getenv(internal::kShimBinaryEnv);
  l.binary = binary != nullptr && binary[0] != '\0' ? binary : "/proc/self/exe";
  l.argv_storage = {"kennel", "shim", state_dir};
  std::string report_prefix = std::string(internal::kShimReportFdEnv) + "=";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, report_prefix.c_str(), report_prefix.size()) != 0) {
      l.env_storage.push_back(*e);
    }
  }
  l.env_storage.push_back(report_prefix + "3");
  for (std::string& s : l.argv_storage) l.argv.push_back(s.data());
  l.argv.push_back(nullptr);
  for (std::string& s : l.env_storage) l.envp.push_back(s.data());
  l.envp.push_back(nullptr);
  return l;
}

// Starts the shim detached, through the shim launcher if there is one, else
// as `<binary> shim STATE_DIR`: the child we fork only starts a new session
// and forks the shim, then exits at once and is reaped here, so the shim is
// reparented to init (never our zombie) and survives our death.
// Returns the read end of the shim's report pipe.
StatusOr<UniqueFd> SpawnShim(const std::string& state_dir) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return ErrnoStatus("open /dev/null");
  std::string log_path = internal::ShimLogPath(state_dir);
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return ErrnoStatus("open " + log_path);

  Status launched = internal::LaunchShim(state_dir, null.get(), log.get(), report_write.get());
  if (launched.ok()) return report_read;  // the shim holds the write end now
  if (launched.code() != Code::kUnavailable) return launched;
  ShimLaunch launch = PrepareShimLaunch(state_dir);
  pid_t child = ::fork();
  if (child < 0) return ErrnoStatus("fork");
  if (child == 0) {
    if (::setsid() < 0) ::_exit(1);
    pid_t shim = ::fork();
    if (shim != 0) ::_exit(shim < 0 ? 1 : 0);
    int fds[4] = {null.get(), log.get(), log.get(), report_write.get()};
    if (!internal::InstallFdsAndCloseRest(fds, 4)) ::_exit(1);
    internal::ResetSignalsForExec();
    ::execve(launch.binary.c_str(), launch.argv.data(), launch.envp.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // ECHILD: someone else reaped it (a SIGCHLD handler); the report pipe
  // still tells whether the shim started.
  return report_read;
}

std::string ShimLogTail(const std::string& state_dir) {
  auto text = internal::ReadSmallFile(internal::ShimLogPath(state_dir));
  if (!text.ok() || text->empty()) return "no output";
  std::string tail = text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return tail;
}

// Waits for the shim's one-byte report, at most kShimReportTimeout.
Status AwaitShimReport(int fd, const std::string& state_dir) {
  auto deadline = std::chrono::steady_clock::now() + kShimReportTimeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(Code::kTimeout, "the shim of " + state_dir + " did not report a start within " +
                                        std::to_string(kShimReportTimeout.count()) + "s");
    }
    pollfd p = {fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("poll");
    if (n == 0) continue;
    char byte;
    ssize_t r = ::read(fd, &byte, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 1) return Status::Ok();
    return Internal("the shim exited before starting the container: " + ShimLogTail(state_dir));
  }
}

ContainerStatus ToStatus(const ContainerState& s) {
  ContainerStatus out;
  out.pid = s.pid;
  out.started_at_ns = s.started_at_ns;
  out.finished_at_ns = s.finished_at_ns;
  out.exit_code = s.exit_code;
  out.signal = s.signal;
  out.oom_killed = s.oom_killed;
  out.message = s.message;
  if (s.status == ContainerState::kExited) {
    out.state = ContainerStatus::State::kExited;
  } else if (s.status == ContainerState::kRunning) {
    bool same_process =
        s.pid > 0 && s.start_ticks != 0 && internal::ProcStartTicks(s.pid) == s.start_ticks;
    out.state = same_process ? ContainerStatus::State::kRunning : ContainerStatus::State::kUnknown;
    if (!same_process) out.message = "container process vanished";
  } else {
    out.state = ContainerStatus::State::kUnknown;
    out.message = "unknown container status \"" + s.status + "\"";
  }
  return out;
}

// The running container's state, or an error saying why there is none.
StatusOr<ContainerState> RunningState(const std::string& state_dir) {
  ASSIGN_OR_RETURN(ContainerState state, internal::ReadContainerState(state_dir));
  if (ToStatus(state).state != ContainerStatus::State::kRunning) {
    return Conflict("container in " + state_dir + " is not running");
  }
  return state;
}

// --- ExecInContainer: the forked children (async-signal-safe only) --------

volatile sig_atomic_t g_exec_target = 0;

void ForwardSignal(int sig) {
  pid_t target = g_exec_target;
  if (target > 0) ::kill(target, sig);
}

// Everything the exec'd process needs, opened and built before fork().
struct ExecPlan {
  bool in_namespaces = false;
  std::vector<UniqueFd> namespaces;  // ipc, uts, net, pid, mnt: mnt last
  std::vector<int> namespace_types;
  std::vector<UniqueFd> cgroup_procs;
  UniqueFd null;
  int stdio[3] = {-1, -1, -1};
  std::string working_dir;
  internal::PreparedExec exec;
};

// Best effort: the exit code tells the caller even if this write fails.
void WriteBestEffort(int fd, const char* text) {
  ssize_t ignored = ::write(fd, text, std::strlen(text));
  (void)ignored;
}

[[noreturn]] void RunExecTarget(const ExecPlan& plan) {
  // When the waiting intermediate dies (SIGKILLed by a probe timeout, say),
  // so do we. Not in kNone mode: there the parent is the agent thread that
  // forked, and that thread merely ending would fire the signal.
  if (plan.in_namespaces) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (plan.working_dir.empty() || ::chdir(plan.working_dir.c_str()) != 0) {
    if (::chdir("/") != 0) ::_exit(126);
  }
  if (!internal::InstallFdsAndCloseRest(plan.stdio, 3)) ::_exit(126);
  // A terminal on stdin (kubectl exec -t) becomes the controlling terminal
  // of a new session, so that shells get job control and ^C reaches them.
  if (::isatty(0) == 1 && ::setsid() >= 0) ::ioctl(0, TIOCSCTTY, 0);
  internal::ResetSignalsForExec();
  char message[1024];
  int code = internal::ExecOrExplain(plan.exec, message, sizeof(message));
  WriteBestEffort(2, message);
  WriteBestEffort(2, "\n");
  ::_exit(code);
}

int StartExecTarget(void* plan) { RunExecTarget(*static_cast<const ExecPlan*>(plan)); }

// The forked child: joins the container, then (for a PID namespace, which
// only children enter) forks the target and mirrors its fate so that the
// pid the caller waits for reports the target's exit.
[[noreturn]] void RunExecChild(const ExecPlan& plan) {
  // The agent's handlers (a SIGCHLD reaper, say) must not run here.
  internal::ResetSignalsForExec();
  for (const UniqueFd& procs : plan.cgroup_procs) {
    if (::write(procs.get(), "0", 1) < 0) ::_exit(126);
  }
  if (!plan.in_namespaces) RunExecTarget(plan);
  for (size_t i = 0; i < plan.namespaces.size(); ++i) {
    if (::setns(plan.namespaces[i].get(), plan.namespace_types[i]) != 0) ::_exit(126);
  }
  // The target borrows this process's memory until it execs (CLONE_VM |
  // CLONE_VFORK, as posix_spawn does; we wait meanwhile): no page tables to
  // copy, no page to fault in twice. On a VM a fork costs about a
  // millisecond, and exec probes run every period. RunExecTarget makes
  // system calls only, on its own stack.
  alignas(16) static char target_stack[64 * 1024];
  const pid_t target = ::clone(StartExecTarget, target_stack + sizeof(target_stack),
                               CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<ExecPlan*>(&plan));
  if (target < 0) ::_exit(126);
  g_exec_target = target;
  struct sigaction forward;
  std::memset(&forward, 0, sizeof(forward));
  forward.sa_handler = ForwardSignal;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    ::sigaction(sig, &forward, nullptr);
  }
  // Hold no copy of the caller's pipes: readers see EOF when the target ends.
  internal::InstallFdsAndCloseRest(nullptr, 0);
  int status = 0;
  while (::waitpid(target, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(126);
  }
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  ::sigaction(sig, &dfl, nullptr);
  ::kill(::getpid(), sig);
  ::_exit(128 + sig);
}

// The plan as bytes and descriptors for the shim launcher, which forks the
// process (RunEncodedExec) so that this one need not fork itself.
void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

void PutString(std::string& out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

void PutStrings(std::string& out, const std::vector<std::string>& list) {
  PutU32(out, static_cast<uint32_t>(list.size()));
  for (const std::string& s : list) PutString(out, s);
}

bool GetU32(std::string_view& in, uint32_t* v) {
  if (in.size() < 4) return false;
  std::memcpy(v, in.data(), 4);
  in.remove_prefix(4);
  return true;
}

bool GetString(std::string_view& in, std::string* s) {
  uint32_t size = 0;
  if (!GetU32(in, &size) || in.size() < size) return false;
  s->assign(in.data(), size);
  in.remove_prefix(size);
  return true;
}

bool GetStrings(std::string_view& in, std::vector<std::string>* list) {
  uint32_t count = 0;
  if (!GetU32(in, &count) || count > in.size()) return false;
  list->resize(count);
  for (std::string& s : *list) {
    if (!GetString(in, &s)) return false;
  }
  return true;
}

std::string EncodeExecPlan(const ExecPlan& plan, std::vector<int>* fds) {
  std::string out;
  PutU32(out, plan.in_namespaces ? 1 : 0);
  PutU32(out, static_cast<uint32_t>(plan.namespaces.size()));
  for (size_t i = 0; i < plan.namespaces.size(); ++i) {
    PutU32(out, static_cast<uint32_t>(plan.namespace_types[i]));
    fds->push_back(plan.namespaces[i].get());
  }
  PutU32(out, static_cast<uint32_t>(plan.cgroup_procs.size()));
  for (const UniqueFd& fd : plan.cgroup_procs) fds->push_back(fd.get());
  for (int fd : plan.stdio) fds->push_back(fd);
  PutString(out, plan.working_dir);
  PutStrings(out, plan.exec.argv_storage);
  PutStrings(out, plan.exec.env_storage);
  return out;
}

// The inverse of EncodeExecPlan: false if the bytes and fds do not match.
bool DecodeExecPlan(std::string_view in, const int* fds, int fd_count, ExecPlan* plan) {
  uint32_t flag = 0, namespaces = 0, cgroups = 0;
  if (!GetU32(in, &flag) || !GetU32(in, &namespaces)) return false;
  plan->in_namespaces = flag != 0;
  int next = 0;
  for (uint32_t i = 0; i < namespaces; ++i) {
    uint32_t type = 0;
    if (!GetU32(in, &type) || next >= fd_count) return false;
    plan->namespace_types.push_back(static_cast<int>(type));
    plan->namespaces.emplace_back(fds[next++]);
  }
  if (!GetU32(in, &cgroups) || cgroups > static_cast<uint32_t>(fd_count - next)) return false;
  for (uint32_t i = 0; i < cgroups; ++i) plan->cgroup_procs.emplace_back(fds[next++]);
  if (fd_count - next != 3) return false;
  for (int& fd : plan->stdio) fd = fds[next++];
  std::vector<std::string> argv, env;
  if (!GetString(in, &plan->working_dir) || !GetStrings(in, &argv) || !GetStrings(in, &env)) {
    return false;
  }
  plan->exec = internal::PrepareExec(argv, env);
  return in.empty() && !argv.empty();
}

StatusOr<ExecPlan> PlanExec(const std::string& state_dir, const std::vector<std::string>& argv,
                            const std::vector<std::string>& env, int stdin_fd, int stdout_fd,
                            int stderr_fd) {
  if (argv.empty() || argv[0].empty()) return BadRequest("exec: no command given");
  ASSIGN_OR_RETURN(ContainerState state, RunningState(state_dir));
  ASSIGN_OR_RETURN(internal::ShimConfig config, internal::ReadShimConfig(state_dir));
  ExecPlan plan;
  plan.in_namespaces = config.isolation == Isolation::kNamespaces;
  if (plan.in_namespaces) {
    const std::pair<const char*, int> namespaces[] = {{"ipc", CLONE_NEWIPC},
                                                      {"uts", CLONE_NEWUTS},
                                                      {"net", CLONE_NEWNET},
                                                      {"pid", CLONE_NEWPID},
                                                      {"mnt", CLONE_NEWNS}};
    for (const auto& [name, type] : namespaces) {
      std::string path = "/proc/" + std::to_string(state.pid) + "/ns/" + name;
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return ErrnoStatus("open " + path);
      plan.namespaces.push_back(std::move(fd));
      plan.namespace_types.push_back(type);
    }
    // Opened after the namespaces: if the pid still has its start time, they
    // are the container's and not a newcomer's with a reused pid.
    if (internal::ProcStartTicks(state.pid) != state.start_ticks) {
      return Conflict("container in " + state_dir + " is not running");
    }
  }
  auto layout = internal::DetectCgroups();
  if (layout.ok()) {
    for (const std::string& path :
         internal::CgroupProcsFiles(*layout, internal::ContainerCgroupPath(config.spec))) {
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (fd.valid()) plan.cgroup_procs.push_back(std::move(fd));
    }
  }
  plan.null.Reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!plan.null.valid()) return ErrnoStatus("open /dev/null");
  plan.stdio[0] = stdin_fd >= 0 ? stdin_fd : plan.null.get();
  plan.stdio[1] = stdout_fd >= 0 ? stdout_fd : plan.null.get();
  plan.stdio[2] = stderr_fd >= 0 ? stderr_fd : plan.null.get();
  // As `docker exec` and CRI runtimes do: the container's working directory.
  plan.working_dir = config.spec.working_dir.empty() ? "/" : config.spec.working_dir;
  plan.exec = internal::PrepareExec(argv, internal::WithDefaultEnv(env, ""));
  return plan;
}

}  // namespace

StatusOr<ContainerStatus> StartContainer(Isolation isolation, const Sandbox& sandbox,
                                         const ContainerSpec& spec) {
  RETURN_IF_ERROR(ValidateContainer(isolation, sandbox, spec));
  RETURN_IF_ERROR(internal::MakeDirs(spec.state_dir, 0700));
  // Started before (the agent restarted mid-way): report, never run twice.
  struct stat st;
  if (::stat(internal::StatePath(spec.state_dir).c_str(), &st) == 0) {
    return InspectContainer(spec.state_dir);
  }
  if (::stat(internal::SpecPath(spec.state_dir).c_str(), &st) == 0) {
    // A shim was started here and has recorded nothing: it may still be
    // starting the container, or it died. Either way, not a second one.
    return Conflict("container attempt in " + spec.state_dir +
                    " was started before without a recorded state; use a new state_dir (" +
                    ShimLogTail(spec.state_dir) + ")");
  }
  internal::ShimConfig config;
  config.isolation = isolation;
  config.netns_path = sandbox.netns_path;
  config.utsns_path = sandbox.utsns_path;
  config.ipcns_path = sandbox.ipcns_path;
  config.spec = spec;
  RETURN_IF_ERROR(internal::WriteShimConfig(spec.state_dir, config));
  ASSIGN_OR_RETURN(UniqueFd report, SpawnShim(spec.state_dir));
  RETURN_IF_ERROR(AwaitShimReport(report.get(), spec.state_dir));
  return InspectContainer(spec.state_dir);
}

ContainerStatus InspectContainer(const std::string& state_dir) {
  auto state = internal::ReadContainerState(state_dir);
  if (!state.ok()) {
    ContainerStatus status;
    status.state = ContainerStatus::State::kUnknown;
    status.message = state.status().code() == Code::kNotFound ? "no container state in " + state_dir
                                                              : state.status().message();
    return status;
  }
  return ToStatus(*state);
}

Status SignalContainer(const std::string& state_dir, int sig) {
  auto state = RunningState(state_dir);
  if (!state.ok()) return Status::Ok();  // exited (or never started): nothing to signal
  if (::kill(state->pid, sig) != 0 && errno != ESRCH) {
    return ErrnoStatus("signal container process " + std::to_string(state->pid));
  }
  return Status::Ok();
}

Status RemoveContainer(const ContainerSpec& spec) {
  if (spec.state_dir.empty() || spec.state_dir[0] != '/') {
    return BadRequest("container " + spec.name + ": state_dir must be an absolute path");
  }
  if (InspectContainer(spec.state_dir).state == ContainerStatus::State::kRunning) {
    return Conflict("container " + spec.name + " is still running");
  }
  Status result;
  auto layout = internal::DetectCgroups();
  std::string cgroup = internal::ContainerCgroupPath(spec);
  if (layout.ok() && internal::ValidateCgroupPath(cgroup).ok()) {
    result = internal::RemoveCgroupDirs(*layout, cgroup, std::chrono::milliseconds(2000));
  }
  // The rootfs mounts live in the container's own mount namespace; anything
  // visible here was left by a crash and must go before deleting files.
  for (const std::string& mount_point : internal::MountPointsUnder(spec.state_dir)) {
    ::umount2(mount_point.c_str(), MNT_DETACH);
  }
  if (Status st = internal::RemoveTree(spec.state_dir); !st.ok()) result = st;
  return result;
}

StatusOr<pid_t> ExecInContainer(const std::string& state_dir, const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, int stdin_fd, int stdout_fd,
                                int stderr_fd) {
  ASSIGN_OR_RETURN(ExecPlan plan, PlanExec(state_dir, argv, env, stdin_fd, stdout_fd, stderr_fd));
  std::vector<int> fds;
  std::string encoded = EncodeExecPlan(plan, &fds);
  StatusOr<pid_t> launched = internal::LaunchExec(encoded, fds);
  if (launched.ok() || launched.status().code() != Code::kUnavailable) return launched;
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork");
  if (pid == 0) RunExecChild(plan);
  return pid;
}

namespace internal {

void RunEncodedExec(std::string_view encoded, const int* fds, int fd_count) {
  ExecPlan plan;
  if (!DecodeExecPlan(encoded, fds, fd_count, &plan)) ::_exit(126);
  RunExecChild(plan);
}

}  // namespace internal
}  // namespace kennel::agent
