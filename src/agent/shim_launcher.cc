// The shim launcher: a helper process, forked from the agent's process while
// it still has one thread, that forks every container's shim from itself.
//
// Why: exec'ing the kennel binary for each shim costs about 25 ms of CPU and
// latency before the shim runs a line of its own (the dynamic loader
// resolves symbols across some sixty shared libraries: gRPC, Abseil, …), and
// forking the agent's process (large, with many threads) copies its page
// tables and leaves every page it writes afterwards to fault. The launcher
// is small and single-threaded, so a plain fork() of it is cheap, and its
// child may run ordinary C++ (the shim's main) without an exec.
//
// It also forks the processes of ExecInContainer (exec probes, `kubectl
// exec`), which would otherwise each fork the agent's process: with
// CLONE_PARENT, so that they are the agent's children to wait for.
//
// Protocol, over a SOCK_SEQPACKET socket pair: one request per message, its
// first byte the kind, descriptors as SCM_RIGHTS; one Reply per request.
//   'S' + state directory, fds null, log, report: start a detached shim
//        (hand the request to the spare, a shim forked ahead; see SpareMain).
//   'E' + an encoded exec plan, its fds: fork an exec process (Reply.pid).

#include "agent/internal/shim_launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/internal/cgroup.h"
#include "agent/internal/container.h"
#include "agent/internal/shim.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"

namespace kennel::agent {
namespace {

constexpr size_t kMaxRequest = 64 * 1024;
constexpr int kMaxFds = 16;
constexpr int kShimFds = 3;  // null, log, report
constexpr char kShimRequest = 'S';
constexpr char kExecRequest = 'E';
constexpr int kSpareDelayMs = 20;

struct Reply {
  int error = 0;  // an errno; 0: started
  pid_t pid = 0;  // kExecRequest: the started process
};

struct Launcher {
  std::mutex mu;
  int sock = -1;   // guarded by mu; -1: none (never started, stopped or lost)
  pid_t pid = -1;  // guarded by mu
};

Launcher& TheLauncher() {
  static Launcher launcher;
  return launcher;
}

int CountThreads() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

// The shim's process: a new session (its own, so a signal to the agent's
// process group does not reach it), detached from the launcher.
[[noreturn]] void RunLaunchedShim(std::string state_dir, const int* fds) {
  const int install[4] = {fds[0], fds[1], fds[1], fds[2]};
  if (!internal::InstallFdsAndCloseRest(install, 4)) ::_exit(1);
  ::setenv(internal::kShimReportFdEnv, "3", 1);
  ::prctl(PR_SET_NAME, "kennel-shim");
  char* args[] = {state_dir.data(), nullptr};
  const int code = RunShim(1, args);
  std::fflush(nullptr);
  ::_exit(code);
}

// Receives one request; returns the body's length (0: the agent closed the
// socket; -1: an error) and the descriptors that came with it.
ssize_t ReceiveRequest(int sock, char* body, size_t size, int fds[kMaxFds], int* fd_count) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov = {body, size};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  *fd_count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const int count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*fd_count < kMaxFds) {
        fds[(*fd_count)++] = fd;
      } else {
        ::close(fd);
      }
    }
  }
  if (n > 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return -1;
  return n;
}

// Sends one message with descriptors; returns sendmsg's result.
ssize_t SendWithFds(int sock, const char* data, size_t size, const int* fds, int fd_count) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov = {const_cast<char*>(data), size};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd_count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * fd_count);
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

// The spare: the next shim, forked before it is asked for, and waiting on a
// socket pair of its own (the launcher keeps the other end). On this kind of
// machine (a VM) a fork costs a millisecond or two and the child starts
// running only some milliseconds later; with a spare waiting, a shim request
// is one message. The next spare is forked once requests pause.
//
// In the spare: waits for its one request (the 'S' body and the shim's
// descriptors) and becomes that shim, in a session of its own. EOF (the
// launcher went, or was told to stop): nothing to become.
[[noreturn]] void SpareMain(int sock) {
  ::prctl(PR_SET_NAME, "kennel-spare");
  // Faults in now what the shim's first steps touch: a fault is several
  // microseconds on a VM, and there are hundreds.
  internal::ExerciseStateCode();
  std::vector<char> body(kMaxRequest);
  int fds[kMaxFds];
  int fd_count = 0;
  const ssize_t n = ReceiveRequest(sock, body.data(), body.size(), fds, &fd_count);
  if (n <= 1 || body[0] != kShimRequest || fd_count != kShimFds) ::_exit(0);
  ::setsid();
  RunLaunchedShim(std::string(body.data() + 1, static_cast<size_t>(n - 1)), fds);
}

// Forks a spare unless there is one (*spare_sock >= 0). The launcher lets
// the kernel reap its children (SIGCHLD ignored): a shim whose launcher goes
// (with the agent) is reparented to init and lives on, so one fork is
// enough, not the classic two. Returns 0 or an errno.
int EnsureSpare(int* spare_sock, int launcher_sock) {
  if (*spare_sock >= 0) return 0;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return errno;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(pair[0]);
    ::close(pair[1]);
    return error;
  }
  if (pid == 0) {
    // Not the agent's socket: the agent must see EOF when the launcher goes.
    ::close(launcher_sock);
    ::close(pair[0]);
    SpareMain(pair[1]);
  }
  ::close(pair[1]);
  *spare_sock = pair[0];
  return 0;
}

// Hands a shim request to the spare (forking one if there is none).
// Returns 0 or an errno.
int StartShim(int* spare_sock, int launcher_sock, const char* body, size_t size, const int* fds) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (int error = EnsureSpare(spare_sock, launcher_sock); error != 0) return error;
    const ssize_t sent = SendWithFds(*spare_sock, body, size, fds, kShimFds);
    ::close(*spare_sock);
    *spare_sock = -1;
    if (sent >= 0) return 0;
    // The spare died waiting (someone killed it): fork another.
  }
  return EPIPE;
}

[[noreturn]] void LauncherMain(int sock, pid_t agent) {
  // Goes when the agent's process goes (the shims stay: a fork does not
  // inherit this).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != agent) ::_exit(0);
  ::prctl(PR_SET_NAME, "kennel-launcher");
  // The spares, and so the shims, are its children: the kernel reaps them
  // (a shim resets its signal dispositions). The execs are the agent's.
  ::signal(SIGCHLD, SIG_IGN);
  // Nothing of the agent's but stdio and the socket.
  if (sock > 3) ::syscall(SYS_close_range, 3, sock - 1, 0);
  ::syscall(SYS_close_range, sock + 1, ~0U, 0);
  // Once here, so that every spare inherits what it resolves: the shared
  // libraries' lazily bound symbols (a spare would otherwise look each up
  // again) and the pages the allocator touches.
  internal::ExerciseStateCode();
  std::vector<char> body(kMaxRequest);
  int spare = -1;
  EnsureSpare(&spare, sock);  // failing here is no matter: the first request forks
  for (;;) {
    // The next spare once requests pause: forked right after a start, it
    // would compete for the CPUs with the shim just started (two forks at
    // once, on a machine with two cores, slow both).
    if (spare < 0) {
      pollfd ready = {sock, POLLIN, 0};
      if (::poll(&ready, 1, kSpareDelayMs) == 0) EnsureSpare(&spare, sock);
    }
    int fds[kMaxFds];
    int fd_count = 0;
    const ssize_t n = ReceiveRequest(sock, body.data(), body.size(), fds, &fd_count);
    if (n == 0) ::_exit(0);
    Reply reply;
    reply.error = EINVAL;
    if (n > 1 && body[0] == kShimRequest && fd_count == kShimFds) {
      reply.error = StartShim(&spare, sock, body.data(), static_cast<size_t>(n), fds);
    } else if (n > 1 && body[0] == kExecRequest) {
      // A child of the agent's, not ours. A raw clone: glibc's fork() has no
      // flags (and with one thread here, nothing of its bookkeeping matters).
      const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
      if (pid == 0) {
        internal::RunEncodedExec(std::string_view(body.data() + 1, static_cast<size_t>(n - 1)), fds,
                                 fd_count);
      }
      reply.error = pid < 0 ? errno : 0;
      reply.pid = pid < 0 ? 0 : static_cast<pid_t>(pid);
    }
    for (int i = 0; i < fd_count; ++i) ::close(fds[i]);
    if (n < 0 && fd_count == 0) ::_exit(1);
    if (::send(sock, &reply, sizeof(reply), MSG_NOSIGNAL) < 0) ::_exit(0);
  }
}

// The launcher is gone or failed us: the agent execs shims from now on.
void LoseLauncher(Launcher& l, const char* why) {
  spdlog::warn("agent: the shim launcher is gone ({}); shims start by exec from now on", why);
  ::close(l.sock);
  l.sock = -1;
  ::waitpid(l.pid, nullptr, WNOHANG);
  l.pid = -1;
}

}  // namespace

Status StartShimLauncher() {
  Launcher& l = TheLauncher();
  std::lock_guard lock(l.mu);
  if (l.sock >= 0) return Status::Ok();
  const int threads = CountThreads();
  if (threads != 1) {
    return Internal("the shim launcher must be started while the process has one thread (it has " +
                    std::to_string(threads) + ")");
  }
  // Read here once, so that the launcher and every shim it forks inherit it.
  (void)internal::DetectCgroups();
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return internal::ErrnoStatus("socketpair");
  }
  const pid_t agent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    Status st = internal::ErrnoStatus("fork");
    ::close(pair[0]);
    ::close(pair[1]);
    return st;
  }
  if (pid == 0) {
    ::close(pair[0]);
    LauncherMain(pair[1], agent);
  }
  ::close(pair[1]);
  l.sock = pair[0];
  l.pid = pid;
  return Status::Ok();
}

void StopShimLauncher() {
  Launcher& l = TheLauncher();
  std::lock_guard lock(l.mu);
  if (l.sock < 0) return;
  ::close(l.sock);  // the launcher sees EOF and exits
  l.sock = -1;
  while (::waitpid(l.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  l.pid = -1;
}

namespace {

// Sends one request and waits for its reply. kUnavailable: not sent (no
// launcher); kInternal: sent, but the launcher went away before it answered.
StatusOr<Reply> Request(char kind, std::string_view payload, const std::vector<int>& fds) {
  Launcher& l = TheLauncher();
  std::lock_guard lock(l.mu);
  if (l.sock < 0) return Unavailable("no shim launcher");
  if (payload.size() + 1 > kMaxRequest || fds.size() > static_cast<size_t>(kMaxFds)) {
    return BadRequest("request too large for the shim launcher");
  }
  std::string body(1, kind);
  body.append(payload);
  const ssize_t sent =
      SendWithFds(l.sock, body.data(), body.size(), fds.data(), static_cast<int>(fds.size()));
  if (sent < 0) {
    LoseLauncher(l, std::strerror(errno));
    return Unavailable("no shim launcher");
  }
  Reply reply;
  ssize_t got;
  do {
    got = ::recv(l.sock, &reply, sizeof(reply), 0);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof(reply))) {
    // It may have started the process before it went: starting another one
    // (by fork and exec) now could run two shims on one state directory or
    // a probe twice. The caller retries later (a shim with a new attempt,
    // and so a new directory).
    LoseLauncher(l, got == 0 ? "it exited" : std::strerror(errno));
    return Internal("the shim launcher went away while starting a process");
  }
  return reply;
}

}  // namespace

namespace internal {

Status LaunchShim(const std::string& state_dir, int null_fd, int log_fd, int report_fd) {
  if (state_dir.empty()) return BadRequest("no state directory");
  ASSIGN_OR_RETURN(Reply reply, Request(kShimRequest, state_dir, {null_fd, log_fd, report_fd}));
  if (reply.error != 0) {
    return Internal("the shim launcher could not fork the shim: " +
                    std::string(std::strerror(reply.error)));
  }
  return Status::Ok();
}

StatusOr<pid_t> LaunchExec(std::string_view encoded, const std::vector<int>& fds) {
  ASSIGN_OR_RETURN(Reply reply, Request(kExecRequest, encoded, fds));
  if (reply.error != 0) {
    return Internal("the shim launcher could not fork: " + std::string(std::strerror(reply.error)));
  }
  return reply.pid;
}

}  // namespace internal
}  // namespace kennel::agent
