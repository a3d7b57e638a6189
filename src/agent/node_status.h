// This machine as a Kubernetes Node: capacity, allocatable, addresses,
// conditions and node info, read from /proc and the filesystem.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace kennel::agent {

using nlohmann::json;

struct MachineFacts {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t memory_available_bytes = 0;
  int64_t ephemeral_bytes = 0;  // size of the filesystem holding the data dir
  int64_t ephemeral_free_bytes = 0;
  int64_t local_storage_free_bytes = 0;  // free bytes of the volume directory's filesystem
  std::string hostname;
  std::string host_ip;
  std::string kernel_version;
  std::string os_image;
  std::string machine_id;
  std::string boot_id;
};

// Reads the facts; data_dir is where pods' writable data lives. Local-path
// volumes live under volume_root, which an operator may mount on a disk (or a
// thin pool) of its own: kennel.io/local-storage is that filesystem's free
// space, or data_dir's while volume_root does not exist.
MachineFacts ReadMachineFacts(const std::string& data_dir, const std::string& volume_root = "");

// The machine's hostname, lowercased: the default node name.
std::string DefaultNodeName();

// The primary IPv4 address (the source of the default route), or 127.0.0.1.
std::string PrimaryHostIp();

// status of the Node: capacity and allocatable (cpu, memory, pods,
// ephemeral-storage, kennel.io/local-storage), addresses, conditions (Ready,
// MemoryPressure, DiskPressure, PIDPressure) with transition times kept from
// previous (the Node's current status, or null), nodeInfo, daemonEndpoints.
json NodeStatus(const MachineFacts& facts, const json& previous, int max_pods, int agent_port);

}  // namespace kennel::agent
