// Cluster IPs and node ports of Services, allocated in the API server's write
// path as kube-apiserver's Service storage does (its alloc.go, ipallocator and
// portallocator): a create without spec.clusterIP gets a free address of the
// service CIDR, one with a clusterIP gets it if it is in range and free; type
// NodePort and LoadBalancer ports get node ports from 30000-32767 the same
// way; an update allocates what a type change needs and releases what it
// drops; a delete releases everything.
//
// The store is the truth. The allocator is an in-memory index of what the
// stored Services hold, rebuilt from them at start (Rebuild, like
// kube-apiserver's repair loop), and then kept in step by the write path:
//   1. the handler validates the object, then reserves (AllocateCreate or
//      AllocateUpdate) under the allocator's lock, which also writes the
//      allocated values into the object;
//   2. it writes to the store;
//   3. on success it calls Commit() (which releases what an update let go),
//      on failure it lets the ServiceAllocation go out of scope, which gives
//      back what was reserved;
//   4. after a Service is deleted from the store, Release() frees its values.
// Concurrent creates therefore never get the same address, and a crash
// between reservation and write loses nothing, since the next start rebuilds
// from the store.
//
// Dynamic choices are random, preferring the upper part of each range, so
// that the lower part stays free for values users ask for (Kubernetes'
// ServiceIPStaticSubrange and ServiceNodePortStaticSubrange). The first host
// address (10.96.0.1 of 10.96.0.0/16) is never chosen dynamically: it is the
// `kubernetes` Service's, which the server creates with it explicitly.
//
// Errors are Kubernetes' own (kInvalid with its field paths and wording, e.g.
// `Service "a" is invalid: spec.clusterIPs: Invalid value: []string{"1.2.3.4"}:
// failed to allocate IP 1.2.3.4: provided IP is not in the valid range. The
// range of valid IPs is 10.96.0.0/16`; kInternal when a range is full).
//
// Threads: every method of ServiceAllocator may be called from any thread; a
// ServiceAllocation belongs to one request at a time.
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::apiserver {

// An IPv4 service range such as 10.96.0.0/16 (prefix 12 to 30, as
// kube-apiserver accepts; host bits are ignored).
struct ServiceCidr {
  uint32_t base = 0;  // network address, host order
  int prefix = 0;

  static StatusOr<ServiceCidr> Parse(const std::string& text);
  std::string ToString() const;  // "10.96.0.0/16"
  // The first host address, "10.96.0.1": the kubernetes Service's.
  std::string FirstHost() const;
};

inline constexpr const char* kDefaultServiceCidr = "10.96.0.0/16";
inline constexpr int kNodePortMin = 30000;
inline constexpr int kNodePortMax = 32767;

class ServiceAllocator;

// What one create or update reserved and what it will release. Destroying it
// without Commit() reverts it. Move-only.
class ServiceAllocation {
 public:
  ServiceAllocation() = default;
  ServiceAllocation(ServiceAllocation&& other) noexcept;
  ServiceAllocation& operator=(ServiceAllocation&& other) noexcept;
  ServiceAllocation(const ServiceAllocation&) = delete;
  ServiceAllocation& operator=(const ServiceAllocation&) = delete;
  ~ServiceAllocation();

  // The write succeeded: keeps the reservations and frees what the update
  // dropped (an address left behind by a change to ExternalName, node ports
  // no longer used).
  void Commit();
  // The write failed: frees what was reserved and keeps what was held.
  void Revert();

 private:
  friend class ServiceAllocator;
  ServiceAllocator* owner_ = nullptr;
  std::vector<uint32_t> reserved_ips_;
  std::vector<uint32_t> dropped_ips_;
  std::vector<int> reserved_ports_;
  std::vector<int> dropped_ports_;
};

class ServiceAllocator {
 public:
  // seed 0: a random seed.
  explicit ServiceAllocator(ServiceCidr cidr, uint64_t seed = 0);
  ServiceAllocator(const ServiceAllocator&) = delete;
  ServiceAllocator& operator=(const ServiceAllocator&) = delete;

  const ServiceCidr& cidr() const { return cidr_; }

  // Forgets every allocation and takes those the stored services hold.
  // Returns one warning per value it could not take (out of range, or held
  // by two services), as the repair loop reports them.
  std::vector<std::string> Rebuild(const std::vector<nlohmann::json>& services);

  // For a Service being created (defaulted and validated): reserves its
  // clusterIP and node ports, filling in those it lacks (spec.clusterIP,
  // spec.clusterIPs, ports[].nodePort).
  StatusOr<ServiceAllocation> AllocateCreate(nlohmann::json& service);
  // For an update from current (stored) to service (prepared, validated):
  // allocates what the new spec needs and the old did not hold (an address
  // after a change from ExternalName or for a Service stored without one,
  // node ports for a change to NodePort or for new ports); the allocation
  // drops what the new spec no longer holds.
  StatusOr<ServiceAllocation> AllocateUpdate(nlohmann::json& service,
                                             const nlohmann::json& current);
  // After a Service was deleted: frees its address and node ports.
  void Release(const nlohmann::json& service);

  bool IpAllocated(const std::string& ip) const;
  bool NodePortAllocated(int port) const;

 private:
  friend class ServiceAllocation;

  // Allocation of the values one service holds; all under mu_.
  StatusOr<uint32_t> AllocateIpLocked(const std::string& name, const nlohmann::json& spec,
                                      ServiceAllocation& txn);
  Status CreateNodePortsLocked(const std::string& name, nlohmann::json& spec,
                               ServiceAllocation& txn);
  // held: the node ports the stored spec holds, which stay the service's.
  Status UpdateNodePortsLocked(const std::string& name, nlohmann::json& spec,
                               const std::vector<int>& held, ServiceAllocation& txn);
  Status TakeNodePortLocked(const std::string& name, size_t index, int port,
                            ServiceAllocation& txn);
  StatusOr<int> NextNodePortLocked(ServiceAllocation& txn);
  // Index of an address in ips_, or -1 when outside the usable range.
  int64_t IpIndex(uint32_t ip) const;
  // A random free index of bits in [0, size), trying [offset, size) first;
  // skip is never chosen (-1: none). -1 when full.
  int64_t NextFreeLocked(const std::vector<bool>& bits, int64_t offset, int64_t skip);
  void FreeLocked(const std::vector<uint32_t>& ips, const std::vector<int>& ports);

  const ServiceCidr cidr_;
  const int64_t ip_offset_;    // dynamic addresses come from [ip_offset_, size) first
  const int64_t port_offset_;  // likewise for node ports

  mutable std::mutex mu_;
  std::vector<bool> ips_;    // guarded by mu_: index i is base + 1 + i
  std::vector<bool> ports_;  // guarded by mu_: index i is kNodePortMin + i
  std::mt19937_64 rng_;      // guarded by mu_
};

// Kubernetes' update preparation of a Service (its patchAllocatedValues,
// normalizeClusterIPs and dropTypeDependentFields), run on the desired object
// before defaulting and validation: allocated values the client left out
// (clusterIP, clusterIPs, nodePorts) are carried over from current; a changed
// clusterIP with unchanged clusterIPs moves clusterIPs with it (so validation
// reports the change); values a type change no longer needs are dropped when
// the client did not touch them.
void PrepareServiceUpdate(nlohmann::json& desired, const nlohmann::json& current);

// The `kubernetes` Service of namespace default, as kube-apiserver keeps it:
// port "https" 443 → api_port, at the range's first host address, no
// selector (its Endpoints are the API server's to write).
nlohmann::json KubernetesService(const ServiceCidr& cidr, int api_port);
// Its Endpoints: the API server's address and port.
nlohmann::json KubernetesEndpoints(const std::string& host, int api_port);

}  // namespace kennel::apiserver
