// `kennel shim STATE_DIR`: the supervisor of one container (one attempt).
//
// Started detached by StartContainer (its own session, reparented to init), it
// outlives the agent. It creates the container's cgroup, starts the container
// process (in new PID and mount namespaces, inside the sandbox's network, UTS
// and IPC namespaces), reports the start on the descriptor named by
// KENNEL_SHIM_REPORT_FD, copies the container's stdout and stderr into the
// CRI log, and records the exit in state.json. It is single-threaded, so the
// container process may run ordinary code between fork and exec.
#include "agent/internal/shim.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/internal/cgroup.h"
#include "agent/internal/container.h"
#include "agent/internal/cri_log.h"
#include "agent/internal/exec.h"
#include "agent/internal/rootfs.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"
#include "base/time.h"

namespace kennel::agent {
namespace {

using internal::ContainerState;
using internal::CriLogWriter;
using internal::ErrnoStatus;
using internal::UniqueFd;

// Exit code of a container that could not be set up (runc's "StartError").
constexpr int kSetupFailedCode = 128;
// How long output may keep flowing after the container's main process exited
// (from processes that escaped its cgroup, say) before the shim stops reading.
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kCgroupRemovalPatience = std::chrono::milliseconds(2000);

void Log(const std::string& message) { std::fprintf(stderr, "kennel shim: %s\n", message.c_str()); }

class Shim {
 public:
  Shim(std::string state_dir, internal::ShimConfig config, int report_fd)
      : state_dir_(std::move(state_dir)),
        config_(std::move(config)),
        report_fd_(report_fd),
        cgroup_path_(internal::ContainerCgroupPath(config_.spec)),
        log_(config_.spec.log_path, config_.spec.log_max_bytes) {}

  int Run();

 private:
  Status Prepare();
  Status PrepareCgroup();
  Status Spawn();
  static int ContainerEntry(void* shim);
  [[noreturn]] void ContainerMain(int error_fd) const;
  Status SetUpContainerProcess() const;
  [[noreturn]] static void FailInChild(int error_fd, int code, const std::string& message);
  bool ReadStartError(int* code, std::string* message);
  void Supervise();
  void ReadStream(int index);
  void RecordStartFailure(int code, const std::string& message);
  void FinishAndRecord();
  void Report();
  Status WriteState();

  const std::string state_dir_;
  const internal::ShimConfig config_;
  UniqueFd report_fd_;
  const std::string cgroup_path_;
  CriLogWriter log_;
  std::optional<internal::CgroupLayout> cgroups_;
  UniqueFd out_[2];  // read ends of the container's stdout and stderr pipes
  UniqueFd child_out_[2];
  UniqueFd error_read_;      // the child's start error, EOF once it exec'd
  int start_error_fd_ = -1;  // its write end, for the child
  pid_t pid_ = 0;
  siginfo_t exit_info_{};
  bool exited_ = false;
  ContainerState state_;
};

int Shim::Run() {
  state_.shim_pid = ::getpid();
  if (Status st = Prepare(); !st.ok()) {
    RecordStartFailure(kSetupFailedCode, st.message());
    return 1;
  }
  if (Status st = Spawn(); !st.ok()) {
    RecordStartFailure(kSetupFailedCode, st.message());
    return 1;
  }
  int code = 0;
  std::string message;
  if (ReadStartError(&code, &message)) {
    // The child exits right after reporting; its status is the code.
    ::waitpid(pid_, nullptr, 0);
    RecordStartFailure(code, message);
    return 0;
  }
  state_.status = ContainerState::kRunning;
  state_.pid = pid_;
  state_.start_ticks = internal::ProcStartTicks(pid_);
  state_.started_at_ns = WallNowNs();
  if (Status st = WriteState(); !st.ok()) Log(st.ToString());
  Report();
  Supervise();
  FinishAndRecord();
  return 0;
}

// Isolation::kNone is what runs where isolation is unavailable (no root, no
// cgroups): there the container runs without a cgroup, so without limits.
Status Shim::PrepareCgroup() {
  const ContainerSpec& spec = config_.spec;
  auto layout = internal::DetectCgroups();
  Status st = layout.status();
  if (layout.ok()) {
    cgroups_ = *layout;
    st = internal::CreateCgroup(
        *cgroups_, cgroup_path_,
        {spec.cpu_limit_milli, spec.cpu_request_milli, spec.memory_limit_bytes});
  }
  if (st.ok() || config_.isolation == Isolation::kNamespaces) return st;
  Log("running without a cgroup (no limits): " + st.message());
  cgroups_.reset();
  return Status::Ok();
}

Status Shim::Prepare() {
  const ContainerSpec& spec = config_.spec;
  if (spec.argv.empty()) return BadRequest("no command to run");
  RETURN_IF_ERROR(internal::ValidateMounts(spec.mounts));
  RETURN_IF_ERROR(PrepareCgroup());
  size_t slash = spec.log_path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(internal::MakeDirs(spec.log_path.substr(0, slash)));
  }
  RETURN_IF_ERROR(log_.Open());
  for (int i = 0; i < 2; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
    out_[i].Reset(fds[0]);
    child_out_[i].Reset(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }
  return Status::Ok();
}

Status Shim::Spawn() {
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
  error_read_.Reset(error_pipe[0]);
  UniqueFd error_write(error_pipe[1]);
  // The next child is PID 1 of a new PID namespace; the shim stays outside.
  if (config_.isolation == Isolation::kNamespaces && ::unshare(CLONE_NEWPID) != 0) {
    return ErrnoStatus("unshare PID namespace");
  }
  // The container process borrows the shim's memory until it execs
  // (CLONE_VM | CLONE_VFORK, as posix_spawn does; the shim waits for the
  // exec anyway): no page tables to copy, no page to fault in twice, where
  // a fork costs about a millisecond (a VM). So the child changes nothing
  // of the shim's: it closes descriptors by number (its descriptor table is
  // its own) and leaves the objects that hold them alone.
  start_error_fd_ = error_write.get();
  alignas(16) static char child_stack[256 * 1024];
  pid_ = ::clone(&Shim::ContainerEntry, child_stack + sizeof(child_stack),
                 CLONE_VM | CLONE_VFORK | SIGCHLD, this);
  if (pid_ < 0) return ErrnoStatus("clone");
  for (UniqueFd& fd : child_out_) fd.Reset();
  return Status::Ok();
}

int Shim::ContainerEntry(void* shim_ptr) {
  const Shim& shim = *static_cast<const Shim*>(shim_ptr);
  ::close(shim.error_read_.get());
  for (const UniqueFd& fd : shim.out_) ::close(fd.get());
  shim.ContainerMain(shim.start_error_fd_);
}

void Shim::ContainerMain(int error_fd) const {
  if (Status st = SetUpContainerProcess(); !st.ok()) {
    FailInChild(error_fd, kSetupFailedCode, st.message());
  }
  char hostname[256] = {};
  ::gethostname(hostname, sizeof(hostname) - 1);
  internal::PreparedExec exec = internal::PrepareExec(
      config_.spec.argv, internal::WithDefaultEnv(config_.spec.env, hostname));
  internal::ResetSignalsForExec();
  char message[1024];
  int code = internal::ExecOrExplain(exec, message, sizeof(message));
  FailInChild(error_fd, code, message);
}

// In the container process: cgroup, namespaces, root, stdio, working dir.
Status Shim::SetUpContainerProcess() const {
  const ContainerSpec& spec = config_.spec;
  ::setsid();
  if (cgroups_) {
    for (const std::string& procs : internal::CgroupProcsFiles(*cgroups_, cgroup_path_)) {
      RETURN_IF_ERROR(internal::WriteKernelFile(procs, "0"));
    }
  }
  if (config_.isolation == Isolation::kNamespaces) {
    const std::pair<const std::string*, int> namespaces[] = {{&config_.netns_path, CLONE_NEWNET},
                                                             {&config_.utsns_path, CLONE_NEWUTS},
                                                             {&config_.ipcns_path, CLONE_NEWIPC}};
    for (const auto& [path, type] : namespaces) {
      UniqueFd ns(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns.valid()) return ErrnoStatus("open sandbox namespace " + *path);
      if (::setns(ns.get(), type) != 0) return ErrnoStatus("join sandbox namespace " + *path);
    }
    if (::unshare(CLONE_NEWNS) != 0) return ErrnoStatus("unshare mount namespace");
    RETURN_IF_ERROR(internal::SetUpContainerRoot(state_dir_, spec.mounts));
  }
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return ErrnoStatus("open /dev/null");
  // The sources are all above 2 (the shim's own stdio is open), so plain
  // dup2 cannot clobber one before it is installed.
  if (::dup2(null.get(), 0) < 0 || ::dup2(child_out_[0].get(), 1) < 0 ||
      ::dup2(child_out_[1].get(), 2) < 0) {
    return ErrnoStatus("dup2");
  }
  // No other descriptor reaches the container (the shim's are close-on-exec
  // already; this covers anything inherited).
  ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  std::string dir = spec.working_dir.empty() ? "/" : spec.working_dir;
  if (::chdir(dir.c_str()) != 0) {
    return Internal("cannot change to working directory \"" + dir +
                    "\": " + internal::ErrnoText(errno));
  }
  return Status::Ok();
}

void Shim::FailInChild(int error_fd, int code, const std::string& message) {
  std::string report = std::to_string(code) + "\n" + message;
  if (::write(error_fd, report.data(), report.size()) < 0) {
    // Nobody to tell; the exit code still says it.
  }
  ::_exit(code);
}

bool Shim::ReadStartError(int* code, std::string* message) {
  std::string report;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(error_read_.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, n);
  }
  error_read_.Reset();
  if (report.empty()) return false;  // EOF: exec succeeded
  size_t nl = report.find('\n');
  *code = std::atoi(report.substr(0, nl).c_str());
  *message = nl == std::string::npos ? "" : report.substr(nl + 1);
  return true;
}

void Shim::ReadStream(int index) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(out_[index].get(), buf, sizeof(buf));
    if (n > 0) {
      log_.Append(static_cast<CriLogWriter::Stream>(index), std::string_view(buf, n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EOF (or a broken pipe): the stream is over.
    log_.Finish(static_cast<CriLogWriter::Stream>(index));
    out_[index].Reset();
    return;
  }
}

// Copies output until the container's main process has exited and its
// output has drained. A pidfd tells of the exit without SIGCHLD handling.
void Shim::Supervise() {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  std::chrono::steady_clock::time_point drain_deadline;
  while (out_[0].valid() || out_[1].valid() || (!exited_ && pidfd.valid())) {
    pollfd fds[3] = {{out_[0].get(), POLLIN, 0},
                     {out_[1].get(), POLLIN, 0},
                     {exited_ ? -1 : pidfd.get(), POLLIN, 0}};
    int timeout = -1;
    if (exited_) {
      auto left = drain_deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      timeout =
          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1);
    }
    int n = ::poll(fds, 3, timeout);
    if (n < 0 && errno != EINTR) {
      Log("poll: " + internal::ErrnoText(errno));
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0) ReadStream(i);
    }
    if (!exited_ && fds[2].fd >= 0 && fds[2].revents != 0) {
      // WNOWAIT leaves the process a zombie, so its pid (and start time in
      // /proc) stays valid until state.json says it exited.
      if (::waitid(P_PID, pid_, &exit_info_, WEXITED | WNOWAIT) == 0) {
        exited_ = true;
        state_.finished_at_ns = WallNowNs();
        // Whatever the main process left behind (kNone has no PID namespace
        // to end them) must not keep the pipes open.
        if (cgroups_) internal::KillCgroupProcesses(*cgroups_, cgroup_path_);
        drain_deadline = std::chrono::steady_clock::now() + kDrainTimeout;
      }
    }
  }
  if (!exited_) {
    // No pidfd (Linux < 5.3): the pipes closed, so the process is ending.
    if (::waitid(P_PID, pid_, &exit_info_, WEXITED | WNOWAIT) == 0) exited_ = true;
    state_.finished_at_ns = WallNowNs();
  }
  for (int i = 0; i < 2; ++i) {
    if (out_[i].valid()) log_.Finish(static_cast<CriLogWriter::Stream>(i));
  }
}

void Shim::FinishAndRecord() {
  state_.status = ContainerState::kExited;
  if (exit_info_.si_code == CLD_EXITED) {
    state_.exit_code = exit_info_.si_status;
  } else {
    state_.signal = exit_info_.si_status;
    state_.exit_code = 128 + state_.signal;
  }
  if (cgroups_) {
    state_.oom_killed =
        internal::CgroupOomKilled(*cgroups_, cgroup_path_, state_.signal == SIGKILL);
    // The cgroup goes before the exit is recorded: once state.json says
    // "exited" the agent may start the next attempt in a cgroup of that name.
    Status st = internal::RemoveCgroupDirs(*cgroups_, cgroup_path_, kCgroupRemovalPatience);
    if (!st.ok()) Log(st.ToString());
  }
  if (Status st = WriteState(); !st.ok()) Log(st.ToString());
  ::waitpid(pid_, nullptr, 0);
}

void Shim::RecordStartFailure(int code, const std::string& message) {
  Log("container did not start: " + message);
  state_.status = ContainerState::kExited;
  state_.exit_code = code;
  state_.message = message;
  state_.finished_at_ns = WallNowNs();
  if (cgroups_) {
    internal::RemoveCgroupDirs(*cgroups_, cgroup_path_, kCgroupRemovalPatience).IgnoreError();
  }
  if (Status st = WriteState(); !st.ok()) Log(st.ToString());
  Report();
}

void Shim::Report() {
  if (!report_fd_.valid()) return;
  if (::write(report_fd_.get(), "1", 1) < 0) {
    // The agent is gone; the state file tells the next one.
  }
  report_fd_.Reset();
}

Status Shim::WriteState() { return internal::WriteContainerState(state_dir_, state_); }

}  // namespace

int RunShim(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr || argv[0][0] != '/') {
    std::fprintf(stderr, "usage: kennel shim STATE_DIR (absolute)\n");
    return 2;
  }
  std::string state_dir = argv[0];
  int report_fd = -1;
  if (const char* fd = std::getenv(internal::kShimReportFdEnv)) report_fd = std::atoi(fd);
  ::unsetenv(internal::kShimReportFdEnv);
  if (report_fd >= 0) ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  // The agent may have blocked or ignored signals; the shim wants none of
  // that except for SIGPIPE (a vanished agent) and SIGHUP.
  internal::ResetSignalsForExec();
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);

  auto config = internal::ReadShimConfig(state_dir);
  if (!config.ok()) {
    Log(config.status().ToString());
    return 1;  // the agent sees EOF on the report pipe and reads shim.log
  }
  Shim shim(state_dir, std::move(config).value(), report_fd);
  return shim.Run();
}

}  // namespace kennel::agent
