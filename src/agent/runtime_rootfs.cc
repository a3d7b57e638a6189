// The container root filesystem (see internal/rootfs.h). Runs in the
// single-threaded container process between fork and exec.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "agent/internal/rootfs.h"
#include "agent/internal/sys.h"

namespace kennel::agent::internal {
namespace {

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

Status Mount(const std::string& source, const std::string& target, const char* type,
             unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) !=
      0) {
    return ErrnoStatus("mount " + std::string(type ? type : "bind") + " " + source + " on " +
                       target);
  }
  return Status::Ok();
}

// The overlay's option string separates paths with ',' and ':'.
Status CheckOverlayPath(const std::string& path) {
  if (path.find_first_of(",:\\") != std::string::npos) {
    return BadRequest("state directory " + path + " must not contain ',', ':' or '\\'");
  }
  return Status::Ok();
}

Status MountOverlay(const std::string& upper, const std::string& work, const std::string& merged) {
  RETURN_IF_ERROR(MakeDirs(upper));
  RETURN_IF_ERROR(MakeDirs(work));
  return Mount("overlay", merged, "overlay", 0,
               "lowerdir=/,upperdir=" + upper + ",workdir=" + work);
}

// The overlay root at state_dir/rootfs/merged. Some upper file systems
// cannot host an upper layer (no xattrs or d_type, or a kernel that refuses
// an upper directory inside the lower one, as "/" is here): the layer then
// lives in a tmpfs of this mount namespace, gone with the container.
StatusOr<std::string> MountRootOverlay(const std::string& state_dir) {
  std::string base = JoinPath(state_dir, "rootfs");
  RETURN_IF_ERROR(CheckOverlayPath(base));
  std::string merged = JoinPath(base, "merged");
  RETURN_IF_ERROR(MakeDirs(merged));
  Status on_disk = MountOverlay(JoinPath(base, "upper"), JoinPath(base, "work"), merged);
  if (on_disk.ok()) return merged;
  std::string scratch = JoinPath(base, "scratch");
  RETURN_IF_ERROR(MakeDirs(scratch));
  RETURN_IF_ERROR(Mount("tmpfs", scratch, "tmpfs", 0, "mode=0755"));
  Status in_memory = MountOverlay(JoinPath(scratch, "upper"), JoinPath(scratch, "work"), merged);
  if (!in_memory.ok()) {
    return Internal("overlay root: " + on_disk.message() +
                    "; with a tmpfs upper layer: " + in_memory.message());
  }
  return merged;
}

Status MountDev(const std::string& root) {
  std::string dev = JoinPath(root, "dev");
  RETURN_IF_ERROR(EnsureMountTarget(dev, true));
  RETURN_IF_ERROR(Mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"));
  for (const char* name : kDevices) {
    std::string target = JoinPath(dev, name);
    RETURN_IF_ERROR(EnsureMountTarget(target, false));
    RETURN_IF_ERROR(Mount(std::string("/dev/") + name, target, nullptr, MS_BIND, ""));
  }
  std::string pts = JoinPath(dev, "pts");
  RETURN_IF_ERROR(EnsureMountTarget(pts, true));
  RETURN_IF_ERROR(
      Mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
  std::string shm = JoinPath(dev, "shm");
  RETURN_IF_ERROR(EnsureMountTarget(shm, true));
  RETURN_IF_ERROR(
      Mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"));
  const std::pair<const char*, const char*> links[] = {{"pts/ptmx", "ptmx"},
                                                       {"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"}};
  for (const auto& [target, name] : links) {
    std::string path = JoinPath(dev, name);
    if (::symlink(target, path.c_str()) != 0) return ErrnoStatus("symlink " + path);
  }
  return Status::Ok();
}

Status MountSystemFilesystems(const std::string& root) {
  std::string proc = JoinPath(root, "proc");
  RETURN_IF_ERROR(EnsureMountTarget(proc, true));
  // A fresh procfs shows the container's own PID namespace.
  RETURN_IF_ERROR(Mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  std::string sys = JoinPath(root, "sys");
  RETURN_IF_ERROR(EnsureMountTarget(sys, true));
  // sysfs shows the mounter's network namespace (/sys/class/net).
  RETURN_IF_ERROR(Mount("sysfs", sys, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  RETURN_IF_ERROR(MountDev(root));
  std::string run = JoinPath(root, "run");
  RETURN_IF_ERROR(EnsureMountTarget(run, true));
  return Mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
}

// Where the host's root stays reachable between the pivot and the spec's
// mounts: bind mounts need their source in this mount namespace, which a
// detached old root no longer is.
constexpr char kOldRoot[] = "/.kennel-old-root";

// Makes root the process's /, with the old root at kOldRoot.
Status PivotRoot(const std::string& root) {
  std::string put_old = JoinPath(root, kOldRoot);
  if (::mkdir(put_old.c_str(), 0700) != 0 && errno != EEXIST)
    return ErrnoStatus("mkdir " + put_old);
  if (::syscall(SYS_pivot_root, root.c_str(), put_old.c_str()) != 0) {
    return ErrnoStatus("pivot_root " + root);
  }
  if (::chdir("/") != 0) return ErrnoStatus("chdir /");
  return Status::Ok();
}

// Leaves nothing of the host's mount tree reachable.
Status DetachOldRoot() {
  if (::umount2(kOldRoot, MNT_DETACH) != 0) return ErrnoStatus("detach the old root");
  if (::rmdir(kOldRoot) != 0) return ErrnoStatus(std::string("rmdir ") + kOldRoot);
  return Status::Ok();
}

// A spec mount with its source opened on the host before the pivot.
struct PendingMount {
  MountSpec spec;
  UniqueFd source;  // O_PATH; bind mounts only
  bool directory = true;
};

StatusOr<std::vector<PendingMount>> OpenMountSources(const std::vector<MountSpec>& mounts) {
  std::vector<PendingMount> pending;
  for (const MountSpec& m : mounts) {
    PendingMount p;
    p.spec = m;
    if (m.type == "bind") {
      p.source.Reset(::open(m.source.c_str(), O_PATH | O_CLOEXEC));
      if (!p.source.valid()) return ErrnoStatus("mount source " + m.source);
      struct stat st;
      if (::fstat(p.source.get(), &st) != 0) return ErrnoStatus("stat " + m.source);
      p.directory = S_ISDIR(st.st_mode);
    }
    pending.push_back(std::move(p));
  }
  // Parents before children, whatever order the spec lists them in.
  std::stable_sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
    return std::count(a.spec.target.begin(), a.spec.target.end(), '/') <
           std::count(b.spec.target.begin(), b.spec.target.end(), '/');
  });
  return pending;
}

// The per-mount flags of path that a read-only remount must keep.
unsigned long KeptFlags(const std::string& path) {
  struct statvfs s;
  if (::statvfs(path.c_str(), &s) != 0) return 0;
  unsigned long flags = 0;
  if (s.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// After the pivot, so that targets (and symlinks on the way) resolve inside
// the container's tree; sources are reached through their descriptors,
// opened before the pivot (their mounts are below kOldRoot now).
Status ApplyMount(const PendingMount& p) {
  const MountSpec& m = p.spec;
  RETURN_IF_ERROR(EnsureMountTarget(m.target, p.directory));
  if (m.type == "tmpfs") {
    unsigned long flags = MS_NOSUID | MS_NODEV | (m.read_only ? MS_RDONLY : 0);
    return Mount("tmpfs", m.target, "tmpfs", flags, m.options);
  }
  std::string source = "/proc/self/fd/" + std::to_string(p.source.get());
  if (::mount(source.c_str(), m.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoStatus("bind mount " + m.source + " on " + m.target);
  }
  if (m.read_only) {
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | KeptFlags(m.target);
    if (::mount(nullptr, m.target.c_str(), nullptr, flags, nullptr) != 0) {
      return ErrnoStatus("remount " + m.target + " read-only");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateMounts(const std::vector<MountSpec>& mounts) {
  for (const MountSpec& m : mounts) {
    if (m.target.empty() || m.target[0] != '/') {
      return BadRequest("mount target \"" + m.target + "\" is not an absolute path");
    }
    if (m.type == "bind") {
      if (m.source.empty() || m.source[0] != '/') {
        return BadRequest("bind mount on " + m.target + " needs an absolute source");
      }
    } else if (m.type != "tmpfs") {
      return BadRequest("mount on " + m.target + ": unsupported type \"" + m.type + "\"");
    }
  }
  return Status::Ok();
}

Status SetUpContainerRoot(const std::string& state_dir, const std::vector<MountSpec>& mounts) {
  RETURN_IF_ERROR(ValidateMounts(mounts));
  // Nothing mounted from here on may leak back into the host, and the host's
  // later mounts must not appear in the container.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus("make / private");
  }
  ASSIGN_OR_RETURN(std::vector<PendingMount> pending, OpenMountSources(mounts));
  ASSIGN_OR_RETURN(std::string root, MountRootOverlay(state_dir));
  RETURN_IF_ERROR(MountSystemFilesystems(root));
  RETURN_IF_ERROR(PivotRoot(root));
  for (const PendingMount& p : pending) RETURN_IF_ERROR(ApplyMount(p));
  return DetachOldRoot();
}

}  // namespace kennel::agent::internal
