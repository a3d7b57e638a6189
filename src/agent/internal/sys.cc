#include "agent/internal/sys.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

namespace kennel::agent::internal {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

Status ErrnoStatus(const std::string& what, int err) {
  return Internal(what + ": " + ErrnoText(err));
}

Status WriteKernelFile(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open " + path);
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return ErrnoStatus("write \"" + std::string(value) + "\" to " + path);
  if (static_cast<size_t>(n) != value.size()) return Internal("short write to " + path);
  return Status::Ok();
}

StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  // The parent usually exists: one mkdir, not one per component (a shim
  // made ~170 of them, almost all EEXIST, to set up one container).
  if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
  if (errno == ENOENT) {
    size_t slash = path.find_last_of('/');
    while (slash != std::string::npos && slash > 0 && path[slash - 1] == '/') --slash;
    if (slash == std::string::npos || slash == 0) return ErrnoStatus("mkdir " + path);
    RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), mode));
    if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
  }
  if (errno != EEXIST) return ErrnoStatus("mkdir " + path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path);
  if (!S_ISDIR(st.st_mode)) return Internal(path + " exists and is not a directory");
  return Status::Ok();
}

Status EnsureMountTarget(const std::string& path, bool directory) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode) != directory) {
      return Internal("mount target " + path + " exists but is " +
                      (directory ? "not a directory" : "a directory"));
    }
    return Status::Ok();
  }
  if (directory) return MakeDirs(path);
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus("create " + path);
  return Status::Ok();
}

namespace {

int RemoveEntry(const char* path, const struct stat*, int type, struct FTW*) {
  // FTW_DP: a directory whose contents are gone; anything else is a leaf.
  int rc = type == FTW_DP ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT) return errno;
  return 0;
}

std::string UnescapeMountInfo(const std::string& s) {
  // mountinfo escapes space, tab, newline and backslash as \ooo.
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = s[i + j];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("stat " + path);
  }
  // FTW_PHYS: never follow symlinks; FTW_MOUNT: stay on path's file system;
  // FTW_DEPTH: children before their directory.
  int rc = ::nftw(path.c_str(), RemoveEntry, 32, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
  if (rc != 0) return ErrnoStatus("remove " + path, rc > 0 ? rc : errno);
  return Status::Ok();
}

std::vector<std::string> MountPointsUnder(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string prefix = path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (!(fields >> id >> parent >> devno >> root >> mount_point)) continue;
    mount_point = UnescapeMountInfo(mount_point);
    if (mount_point == prefix || mount_point.rfind(prefix + "/", 0) == 0) {
      out.push_back(mount_point);
    }
  }
  // Deeper paths are longer; the same path mounted twice stays twice.
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

bool IsMountPoint(const std::string& path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) {
    return false;
  }
  if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  // Kernels before 5.8: fall back to the mount table.
  std::string clean = path;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  for (const std::string& m : MountPointsUnder(clean)) {
    if (m == clean) return true;
  }
  return false;
}

uint64_t ProcStartTicks(pid_t pid) {
  if (pid <= 0) return 0;
  auto stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  // The command name (field 2) is in parentheses and may contain anything,
  // ')' included: the fields resume after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat->substr(close + 1));
  std::string field;
  // After ')' come field 3 (state) ... field 22 (starttime): 20 fields.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return 0;
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

bool InstallFdsAndCloseRest(const int* fds, int count) {
  // First park every source above the targets so no dup2 clobbers a source
  // that is still to be installed.
  constexpr int kMaxFds = 8;
  int parked[kMaxFds];
  if (count > kMaxFds) return false;
  for (int i = 0; i < count; ++i) {
    parked[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, count);
    if (parked[i] < 0) return false;
  }
  for (int i = 0; i < count; ++i) {
    if (::dup2(parked[i], i) < 0) return false;  // dup2 clears close-on-exec on i
  }
  if (::syscall(SYS_close_range, count, ~0U, 0) != 0) {
    for (int fd = count; fd < 65536; ++fd) ::close(fd);  // kernels before 5.9
  }
  return true;
}

namespace {

// The signals set in one "Name:\t<hex mask>" line of /proc/self/status
// (bit n-1 is signal n). Reads into a buffer on the stack and allocates
// nothing: it runs in children that share their parent's memory.
uint64_t StatusSignalMask(const char* status, const char* name) {
  const char* line = std::strstr(status, name);
  if (line == nullptr) return ~uint64_t{0};  // unknown: assume all of them
  line += std::strlen(name);
  while (*line == ' ' || *line == '\t') ++line;
  uint64_t mask = 0;
  for (; *line != '\0' && *line != '\n'; ++line) {
    const char c = *line;
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0) return ~uint64_t{0};
    mask = (mask << 4) | static_cast<uint64_t>(digit);
  }
  return mask;
}

}  // namespace

void ResetSignalsForExec() {
  // exec resets caught signals but keeps ignored ones: both go back to the
  // default here, so no handler of ours runs before the exec and no ignored
  // signal (the launcher's SIGCHLD) leaks into the container. Only those
  // /proc/self/status lists as ignored or caught: a sigaction for each of the
  // 64 signals cost a container start about 1.5 ms on a VM.
  uint64_t changed = ~uint64_t{0};
  char status[4096];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = ::read(fd, status, sizeof(status) - 1);
    ::close(fd);
    if (n > 0) {
      status[n] = '\0';
      changed = StatusSignalMask(status, "SigIgn:") | StatusSignalMask(status, "SigCgt:");
    }
  }
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if ((changed & (uint64_t{1} << (sig - 1))) == 0) continue;
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for glibc-reserved signals
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace kennel::agent::internal
