#include "agent/node_status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/internal/json_fields.h"
#include "base/time.h"

namespace kennel::agent {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "MemTotal:  24683764 kB" → bytes.
int64_t MeminfoBytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  int64_t kb = 0;
  std::string unit;
  while (in >> name >> kb) {
    std::getline(in, unit);
    if (name == key + ":") return kb * 1024;
  }
  return 0;
}

std::string OsImage() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

std::string Quantity(int64_t bytes) { return std::to_string(bytes); }

std::string MilliCpu(int64_t millis) {
  return millis % 1000 == 0 ? std::to_string(millis / 1000) : std::to_string(millis) + "m";
}

// A condition with lastTransitionTime kept while its status stays the same.
json Condition(const json& previous, const std::string& type, bool status,
               const std::string& reason, const std::string& message, const std::string& now) {
  std::string st = status ? "True" : "False";
  std::string transition = internal::KeptTransitionTime(previous, type, st, now);
  return {{"type", type},
          {"status", st},
          {"reason", reason},
          {"message", message},
          {"lastHeartbeatTime", now},
          {"lastTransitionTime", transition}};
}

}  // namespace

std::string DefaultNodeName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "kennel-node";
  std::string name = buf;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::string PrimaryHostIp() {
  // connect() on a UDP socket sends nothing; it only makes the kernel pick
  // the source address of the route to there. No route: loopback.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "127.0.0.1";
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(53);
  inet_pton(AF_INET, "192.0.2.1", &dst.sin_addr);  // TEST-NET-1: never contacted
  std::string ip = "127.0.0.1";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) == 0) {
    sockaddr_in self{};
    socklen_t len = sizeof(self);
    char text[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0 &&
        inet_ntop(AF_INET, &self.sin_addr, text, sizeof(text)) != nullptr) {
      ip = text;
    }
  }
  ::close(fd);
  return ip;
}

MachineFacts ReadMachineFacts(const std::string& data_dir, const std::string& volume_root) {
  MachineFacts f;
  f.cpu_millis = 1000LL * std::max(1u, std::thread::hardware_concurrency());
  f.memory_bytes = MeminfoBytes("MemTotal");
  f.memory_available_bytes = MeminfoBytes("MemAvailable");
  struct statvfs vfs {};
  if (::statvfs(data_dir.c_str(), &vfs) == 0) {
    f.ephemeral_bytes = static_cast<int64_t>(vfs.f_blocks) * vfs.f_frsize;
    f.ephemeral_free_bytes = static_cast<int64_t>(vfs.f_bavail) * vfs.f_frsize;
    f.local_storage_free_bytes = f.ephemeral_free_bytes;
  }
  if (!volume_root.empty() && ::statvfs(volume_root.c_str(), &vfs) == 0) {
    f.local_storage_free_bytes = static_cast<int64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  f.hostname = DefaultNodeName();
  f.host_ip = PrimaryHostIp();
  struct utsname u {};
  if (::uname(&u) == 0) f.kernel_version = u.release;
  f.os_image = OsImage();
  f.machine_id = FirstLine("/etc/machine-id");
  f.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
  return f;
}

json NodeStatus(const MachineFacts& f, const json& previous, int max_pods, int agent_port) {
  const std::string now = NowRfc3339();
  json capacity = {{"cpu", MilliCpu(f.cpu_millis)},
                   {"memory", Quantity(f.memory_bytes)},
                   {"pods", std::to_string(max_pods)},
                   {"ephemeral-storage", Quantity(f.ephemeral_bytes)},
                   {"kennel.io/local-storage", Quantity(f.local_storage_free_bytes)}};
  json allocatable = capacity;
  allocatable["ephemeral-storage"] = Quantity(f.ephemeral_free_bytes);
  // Eviction thresholds as the kubelet's defaults: memory.available < 100Mi,
  // nodefs.available < 10%.
  const bool memory_pressure = f.memory_available_bytes < (100LL << 20);
  const bool disk_pressure =
      f.ephemeral_bytes > 0 && f.ephemeral_free_bytes * 10 < f.ephemeral_bytes;
  json conditions = json::array(
      {Condition(previous, "MemoryPressure", memory_pressure,
                 memory_pressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                 memory_pressure ? "agent has insufficient memory available"
                                 : "agent has sufficient memory available",
                 now),
       Condition(previous, "DiskPressure", disk_pressure,
                 disk_pressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                 disk_pressure ? "agent has disk pressure" : "agent has no disk pressure", now),
       Condition(previous, "PIDPressure", false, "KubeletHasSufficientPID",
                 "agent has sufficient PID available", now),
       Condition(previous, "Ready", true, "KubeletReady", "kennel agent is posting ready status",
                 now)});
  return {{"capacity", capacity},
          {"allocatable", allocatable},
          {"conditions", conditions},
          {"addresses", json::array({{{"type", "InternalIP"}, {"address", f.host_ip}},
                                     {{"type", "Hostname"}, {"address", f.hostname}}})},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", agent_port}}}}},
          {"nodeInfo",
           {{"machineID", f.machine_id},
            {"systemUUID", f.machine_id},
            {"bootID", f.boot_id},
            {"kernelVersion", f.kernel_version},
            {"osImage", f.os_image},
            {"containerRuntimeVersion", "kennel://0.1.0"},
            {"kubeletVersion", "v1.32.0-kennel"},
            {"kubeProxyVersion", "v1.32.0-kennel"},
            {"operatingSystem", "linux"},
            {"architecture", "amd64"}}}};
}

}  // namespace kennel::agent
