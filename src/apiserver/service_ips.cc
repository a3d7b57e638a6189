#include "apiserver/service_ips.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace kennel::apiserver {
namespace {

using nlohmann::json;

const json& Member(const json& obj, const char* name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

// obj[name] when obj is an object holding an array there, else null.
json* ArrayMember(json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it != obj.end() && it->is_array() ? &*it : nullptr;
}

std::string MemberStr(const json& obj, const char* name) {
  const json& v = Member(obj, name);
  return v.is_string() ? v.get<std::string>() : "";
}

int MemberInt(const json& obj, const char* name) {
  const json& v = Member(obj, name);
  return v.is_number_integer() ? v.get<int>() : 0;
}

std::string Type(const json& spec) {
  std::string type = MemberStr(spec, "type");
  return type.empty() ? "ClusterIP" : type;
}

bool NeedsClusterIp(const json& spec) { return Type(spec) != "ExternalName"; }
bool NeedsNodePort(const json& spec) {
  std::string type = Type(spec);
  return type == "NodePort" || type == "LoadBalancer";
}
// A LoadBalancer may opt out of node ports; explicit ones are still honoured.
bool ShouldAllocateNodePorts(const json& spec) {
  if (Type(spec) == "NodePort") return true;
  if (Type(spec) == "LoadBalancer") {
    const json& v = Member(spec, "allocateLoadBalancerNodePorts");
    return !v.is_boolean() || v.get<bool>();
  }
  return false;
}

std::vector<std::string> ClusterIps(const json& spec) {
  std::vector<std::string> out;
  const json& list = Member(spec, "clusterIPs");
  if (!list.is_array()) return out;
  for (const json& ip : list) out.push_back(ip.is_string() ? ip.get<std::string>() : "");
  return out;
}

// clusterIPs[0], or clusterIP when the list is empty.
std::string PrimaryIp(const json& spec) {
  std::vector<std::string> ips = ClusterIps(spec);
  if (!ips.empty()) return ips[0];
  return MemberStr(spec, "clusterIP");
}

bool IsHeadless(const json& spec) { return PrimaryIp(spec) == "None"; }

std::vector<int> NodePorts(const json& spec) {
  std::vector<int> out;
  const json& ports = Member(spec, "ports");
  if (!ports.is_array()) return out;
  for (const json& p : ports) {
    int np = MemberInt(p, "nodePort");
    if (np != 0) out.push_back(np);
  }
  return out;
}

bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::optional<uint32_t> ParseIpv4(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr addr{htonl(ip)};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, text, sizeof(text));
  return text;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Go's %#v of a []string, as Kubernetes shows clusterIPs in errors.
std::string GoStrings(const std::vector<std::string>& items) {
  std::string out = "[]string{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(items[i]);
  }
  out += "}";
  return out;
}

// One field error as Kubernetes' errors.NewInvalid(Kind("Service"), name, ...).
Status InvalidField(const std::string& name, const std::string& field, const std::string& shown,
                    const std::string& detail) {
  std::string cause = "Invalid value: ";
  cause += shown;
  cause += ": ";
  cause += detail;
  std::string message = "Service ";
  message += Quote(name);
  message += " is invalid: ";
  message += field;
  message += ": ";
  message += cause;
  return Invalid(std::move(message), {{"FieldValueInvalid", cause, field}});
}

// Kubernetes' calculateRangeOffset: min(max(low, size/step), high), or 0 for
// a range of at most `low` values.
int64_t RangeOffset(int64_t size, int64_t low, int64_t step, int64_t high) {
  if (size <= low) return 0;
  return std::clamp(size / step, low, high);
}

std::string PortRangeText() {
  std::string out = std::to_string(kNodePortMin);
  out += "-";
  out += std::to_string(kNodePortMax);
  return out;
}

std::string ServiceKey(const json& service) {
  const json& meta = Member(service, "metadata");
  std::string key = MemberStr(meta, "namespace");
  key += "/";
  key += MemberStr(meta, "name");
  return key;
}

}  // namespace

// ---------------------------------------------------------------------------
// ServiceCidr.

StatusOr<ServiceCidr> ServiceCidr::Parse(const std::string& text) {
  size_t slash = text.find('/');
  std::string what = "service CIDR ";
  what += Quote(text);
  if (slash == std::string::npos) return BadRequest(what + " has no /prefix");
  auto ip = ParseIpv4(text.substr(0, slash));
  if (!ip) return BadRequest(what + " is not an IPv4 CIDR (Kennel's services are IPv4 only)");
  std::string prefix_text = text.substr(slash + 1);
  if (prefix_text.empty() || prefix_text.size() > 2 ||
      !std::all_of(prefix_text.begin(), prefix_text.end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return BadRequest(what + " has a bad prefix length");
  }
  int prefix = std::stoi(prefix_text);
  if (prefix < 12) {
    return BadRequest(what + " is too large: the prefix must be /12 or longer");
  }
  if (prefix > 30) {
    return BadRequest(what + " is too small: the prefix must be /30 or shorter");
  }
  uint32_t mask = ~(0xffffffffu >> prefix);
  return ServiceCidr{*ip & mask, prefix};
}

std::string ServiceCidr::ToString() const {
  std::string out = FormatIpv4(base);
  out += "/";
  out += std::to_string(prefix);
  return out;
}

std::string ServiceCidr::FirstHost() const { return FormatIpv4(base + 1); }

// ---------------------------------------------------------------------------
// ServiceAllocation.

ServiceAllocation::ServiceAllocation(ServiceAllocation&& other) noexcept {
  *this = std::move(other);
}

ServiceAllocation& ServiceAllocation::operator=(ServiceAllocation&& other) noexcept {
  if (this != &other) {
    Revert();
    owner_ = std::exchange(other.owner_, nullptr);
    reserved_ips_ = std::move(other.reserved_ips_);
    dropped_ips_ = std::move(other.dropped_ips_);
    reserved_ports_ = std::move(other.reserved_ports_);
    dropped_ports_ = std::move(other.dropped_ports_);
  }
  return *this;
}

ServiceAllocation::~ServiceAllocation() { Revert(); }

void ServiceAllocation::Commit() {
  if (owner_ == nullptr) return;
  std::lock_guard<std::mutex> lock(owner_->mu_);
  owner_->FreeLocked(dropped_ips_, dropped_ports_);
  owner_ = nullptr;
}

void ServiceAllocation::Revert() {
  if (owner_ == nullptr) return;
  std::lock_guard<std::mutex> lock(owner_->mu_);
  owner_->FreeLocked(reserved_ips_, reserved_ports_);
  owner_ = nullptr;
}

// ---------------------------------------------------------------------------
// ServiceAllocator.

ServiceAllocator::ServiceAllocator(ServiceCidr cidr, uint64_t seed)
    : cidr_(cidr),
      ip_offset_(RangeOffset(int64_t{1} << (32 - cidr.prefix), 16, 16, 256)),
      port_offset_(RangeOffset(kNodePortMax - kNodePortMin + 1, 16, 32, 128)),
      // Every address but the network and broadcast addresses.
      ips_(static_cast<size_t>((int64_t{1} << (32 - cidr.prefix)) - 2), false),
      ports_(static_cast<size_t>(kNodePortMax - kNodePortMin + 1), false),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

int64_t ServiceAllocator::IpIndex(uint32_t ip) const {
  if (ip <= cidr_.base) return -1;
  int64_t index = static_cast<int64_t>(ip) - cidr_.base - 1;
  return index < static_cast<int64_t>(ips_.size()) ? index : -1;
}

int64_t ServiceAllocator::NextFreeLocked(const std::vector<bool>& bits, int64_t offset,
                                         int64_t skip) {
  const int64_t n = static_cast<int64_t>(bits.size());
  // A random start in [lo, hi), then forward with wrap-around: Kubernetes'
  // random scan strategy.
  auto scan = [&](int64_t lo, int64_t hi) -> int64_t {
    if (lo >= hi) return -1;
    std::uniform_int_distribution<int64_t> pick(lo, hi - 1);
    int64_t start = pick(rng_);
    for (int64_t k = 0; k < hi - lo; ++k) {
      int64_t i = lo + (start - lo + k) % (hi - lo);
      if (!bits[i] && i != skip) return i;
    }
    return -1;
  };
  int64_t found = scan(std::min(offset, n), n);
  if (found >= 0) return found;
  return scan(0, std::min(offset, n));
}

void ServiceAllocator::FreeLocked(const std::vector<uint32_t>& ips, const std::vector<int>& ports) {
  for (uint32_t ip : ips) {
    int64_t i = IpIndex(ip);
    if (i >= 0) ips_[i] = false;
  }
  for (int port : ports) {
    if (port >= kNodePortMin && port <= kNodePortMax) ports_[port - kNodePortMin] = false;
  }
}

std::vector<std::string> ServiceAllocator::Rebuild(const std::vector<json>& services) {
  std::vector<std::string> warnings;
  std::lock_guard<std::mutex> lock(mu_);
  std::fill(ips_.begin(), ips_.end(), false);
  std::fill(ports_.begin(), ports_.end(), false);
  for (const json& service : services) {
    const json& spec = Member(service, "spec");
    const std::string key = ServiceKey(service);
    std::string ip_text = PrimaryIp(spec);
    if (NeedsClusterIp(spec) && !ip_text.empty() && ip_text != "None") {
      auto ip = ParseIpv4(ip_text);
      int64_t i = ip ? IpIndex(*ip) : -1;
      if (i < 0) {
        warnings.push_back("Cluster IP " + ip_text + " of service " + key +
                           " is not within the service CIDR " + cidr_.ToString() +
                           "; please recreate the service");
      } else if (ips_[i]) {
        warnings.push_back("Cluster IP " + ip_text + " of service " + key +
                           " was assigned to multiple services; please recreate the service");
      } else {
        ips_[i] = true;
      }
    }
    std::vector<int> ports = NodePorts(spec);
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());  // TCP and UDP share one
    for (int port : ports) {
      if (port < kNodePortMin || port > kNodePortMax) {
        warnings.push_back("Port " + std::to_string(port) + " of service " + key +
                           " is not within the port range " + PortRangeText() +
                           "; please recreate the service");
      } else if (ports_[port - kNodePortMin]) {
        warnings.push_back("Port " + std::to_string(port) + " of service " + key +
                           " was assigned to multiple services; please recreate the service");
      } else {
        ports_[port - kNodePortMin] = true;
      }
    }
  }
  return warnings;
}

StatusOr<uint32_t> ServiceAllocator::AllocateIpLocked(const std::string& name, const json& spec,
                                                      ServiceAllocation& txn) {
  const std::string requested = PrimaryIp(spec);
  if (requested.empty()) {
    // The first host address is the kubernetes Service's: only given on request.
    int64_t i = NextFreeLocked(ips_, ip_offset_, /*skip=*/0);
    if (i < 0) return Internal("failed to allocate a serviceIP: range is full");
    ips_[i] = true;
    uint32_t ip = cidr_.base + 1 + static_cast<uint32_t>(i);
    txn.reserved_ips_.push_back(ip);
    return ip;
  }
  std::vector<std::string> shown = ClusterIps(spec);
  if (shown.empty()) shown.push_back(requested);
  std::string failed = "failed to allocate IP ";
  failed += requested;
  failed += ": ";
  auto ip = ParseIpv4(requested);
  int64_t i = ip ? IpIndex(*ip) : -1;
  if (i < 0) {
    return InvalidField(name, "spec.clusterIPs", GoStrings(shown),
                        failed +
                            "provided IP is not in the valid range. The range of valid IPs is " +
                            cidr_.ToString());
  }
  if (ips_[i]) {
    return InvalidField(name, "spec.clusterIPs", GoStrings(shown),
                        failed + "provided IP is already allocated");
  }
  ips_[i] = true;
  txn.reserved_ips_.push_back(*ip);
  return *ip;
}

Status ServiceAllocator::TakeNodePortLocked(const std::string& name, size_t index, int port,
                                            ServiceAllocation& txn) {
  std::string field = "spec.ports[";
  field += std::to_string(index);
  field += "].nodePort";
  if (port < kNodePortMin || port > kNodePortMax) {
    return InvalidField(
        name, field, std::to_string(port),
        "provided port is not in the valid range. The range of valid ports is " + PortRangeText());
  }
  if (ports_[port - kNodePortMin]) {
    return InvalidField(name, field, std::to_string(port), "provided port is already allocated");
  }
  ports_[port - kNodePortMin] = true;
  txn.reserved_ports_.push_back(port);
  return Status::Ok();
}

StatusOr<int> ServiceAllocator::NextNodePortLocked(ServiceAllocation& txn) {
  int64_t i = NextFreeLocked(ports_, port_offset_, /*skip=*/-1);
  if (i < 0) return Internal("failed to allocate a nodePort: range is full");
  ports_[i] = true;
  int port = kNodePortMin + static_cast<int>(i);
  txn.reserved_ports_.push_back(port);
  return port;
}

// Kubernetes' initNodePorts: the same service port number (53 over TCP and
// UDP) shares one node port, the first one asked for if any.
Status ServiceAllocator::CreateNodePortsLocked(const std::string& name, json& spec,
                                               ServiceAllocation& txn) {
  json* ports_ptr = ArrayMember(spec, "ports");
  if (ports_ptr == nullptr) return Status::Ok();
  json& ports = *ports_ptr;
  const bool allocate_new = ShouldAllocateNodePorts(spec);
  std::map<int, int> by_service_port;
  for (size_t i = 0; i < ports.size(); ++i) {
    json& port = ports[i];
    if (!port.is_object()) continue;
    int node_port = MemberInt(port, "nodePort");
    if (node_port == 0 && !allocate_new) continue;  // only explicit ones are honoured
    const int number = MemberInt(port, "port");
    auto known = by_service_port.find(number);
    if (known == by_service_port.end()) {
      int requested = node_port;
      for (size_t j = i + 1; j < ports.size() && requested == 0; ++j) {
        if (MemberInt(ports[j], "port") == number) requested = MemberInt(ports[j], "nodePort");
      }
      if (requested != 0) {
        RETURN_IF_ERROR(TakeNodePortLocked(name, i, requested, txn));
      } else {
        ASSIGN_OR_RETURN(requested, NextNodePortLocked(txn));
      }
      port["nodePort"] = requested;
      by_service_port.emplace(number, requested);
    } else if (node_port == 0) {
      port["nodePort"] = known->second;
    } else if (node_port != known->second) {
      RETURN_IF_ERROR(TakeNodePortLocked(name, i, node_port, txn));
    }
  }
  return Status::Ok();
}

// Kubernetes' updateNodePorts: ports the old spec held stay the service's;
// new explicit ones are taken, missing ones allocated.
Status ServiceAllocator::UpdateNodePortsLocked(const std::string& name, json& spec,
                                               const std::vector<int>& held,
                                               ServiceAllocation& txn) {
  json* ports_ptr = ArrayMember(spec, "ports");
  if (ports_ptr == nullptr) return Status::Ok();
  json& ports = *ports_ptr;
  const bool allocate_new = ShouldAllocateNodePorts(spec);
  std::set<std::pair<std::string, int>> seen;
  for (size_t i = 0; i < ports.size(); ++i) {
    json& port = ports[i];
    if (!port.is_object()) continue;
    int node_port = MemberInt(port, "nodePort");
    if (node_port == 0 && !allocate_new) continue;
    if (node_port != 0) {
      if (!Contains(held, node_port) && !Contains(txn.reserved_ports_, node_port)) {
        RETURN_IF_ERROR(TakeNodePortLocked(name, i, node_port, txn));
      }
    } else {
      ASSIGN_OR_RETURN(node_port, NextNodePortLocked(txn));
      port["nodePort"] = node_port;
    }
    std::string protocol = MemberStr(port, "protocol");
    if (protocol.empty()) protocol = "TCP";
    if (!seen.emplace(protocol, node_port).second) {
      std::string message = "duplicate nodePort: {";
      message += protocol;
      message += " ";
      message += std::to_string(node_port);
      message += "}";
      return Internal(std::move(message));
    }
  }
  return Status::Ok();
}

StatusOr<ServiceAllocation> ServiceAllocator::AllocateCreate(json& service) {
  ServiceAllocation txn;
  if (!service.is_object() || !Member(service, "spec").is_object()) return txn;
  const std::string name = MemberStr(Member(service, "metadata"), "name");
  json& spec = service["spec"];
  std::lock_guard<std::mutex> lock(mu_);
  Status st = [&]() -> Status {
    if (NeedsClusterIp(spec) && !IsHeadless(spec)) {
      ASSIGN_OR_RETURN(uint32_t ip, AllocateIpLocked(name, spec, txn));
      spec["clusterIP"] = FormatIpv4(ip);
      spec["clusterIPs"] = json::array({FormatIpv4(ip)});
    }
    if (NeedsNodePort(spec)) RETURN_IF_ERROR(CreateNodePortsLocked(name, spec, txn));
    return Status::Ok();
  }();
  if (!st.ok()) {
    FreeLocked(txn.reserved_ips_, txn.reserved_ports_);
    return st;
  }
  txn.owner_ = this;
  return txn;
}

StatusOr<ServiceAllocation> ServiceAllocator::AllocateUpdate(json& service, const json& current) {
  ServiceAllocation txn;
  if (!service.is_object() || !Member(service, "spec").is_object()) return txn;
  const std::string name = MemberStr(Member(service, "metadata"), "name");
  json& spec = service["spec"];
  const json& old_spec = Member(current, "spec");
  std::lock_guard<std::mutex> lock(mu_);
  Status st = [&]() -> Status {
    // The cluster IP: allocated when the new spec needs one and has none
    // (a change from ExternalName, or a Service stored before allocation
    // existed); dropped on a change to ExternalName. Otherwise it is
    // immutable, which validation checks.
    const std::string old_ip = PrimaryIp(old_spec);
    const bool old_holds_ip = NeedsClusterIp(old_spec) && !old_ip.empty() && old_ip != "None";
    if (NeedsClusterIp(spec) && !IsHeadless(spec) && !old_holds_ip) {
      ASSIGN_OR_RETURN(uint32_t ip, AllocateIpLocked(name, spec, txn));
      spec["clusterIP"] = FormatIpv4(ip);
      spec["clusterIPs"] = json::array({FormatIpv4(ip)});
    }
    if (old_holds_ip && !NeedsClusterIp(spec)) {
      if (auto ip = ParseIpv4(old_ip)) txn.dropped_ips_.push_back(*ip);
    }
    // Node ports: those the old spec held stay; new ones are taken; held
    // ones the new spec no longer uses are dropped.
    const std::vector<int> held =
        NeedsNodePort(old_spec) ? NodePorts(old_spec) : std::vector<int>{};
    if (NeedsNodePort(spec)) {
      RETURN_IF_ERROR(UpdateNodePortsLocked(name, spec, held, txn));
      const std::vector<int> now = NodePorts(spec);
      for (int port : held) {
        if (!Contains(now, port) && !Contains(txn.dropped_ports_, port)) {
          txn.dropped_ports_.push_back(port);
        }
      }
    } else {
      for (int port : held) {
        if (!Contains(txn.dropped_ports_, port)) txn.dropped_ports_.push_back(port);
      }
    }
    return Status::Ok();
  }();
  if (!st.ok()) {
    FreeLocked(txn.reserved_ips_, txn.reserved_ports_);
    return st;
  }
  txn.owner_ = this;
  return txn;
}

void ServiceAllocator::Release(const json& service) {
  const json& spec = Member(service, "spec");
  std::vector<uint32_t> ips;
  std::string ip_text = PrimaryIp(spec);
  if (NeedsClusterIp(spec) && !ip_text.empty() && ip_text != "None") {
    if (auto ip = ParseIpv4(ip_text)) ips.push_back(*ip);
  }
  std::vector<int> ports = NeedsNodePort(spec) ? NodePorts(spec) : std::vector<int>{};
  std::lock_guard<std::mutex> lock(mu_);
  FreeLocked(ips, ports);
}

bool ServiceAllocator::IpAllocated(const std::string& ip) const {
  auto parsed = ParseIpv4(ip);
  std::lock_guard<std::mutex> lock(mu_);
  int64_t i = parsed ? IpIndex(*parsed) : -1;
  return i >= 0 && ips_[i];
}

bool ServiceAllocator::NodePortAllocated(int port) const {
  std::lock_guard<std::mutex> lock(mu_);
  return port >= kNodePortMin && port <= kNodePortMax && ports_[port - kNodePortMin];
}

// ---------------------------------------------------------------------------
// Update preparation.

void PrepareServiceUpdate(json& desired, const json& current) {
  if (!desired.is_object() || !Member(desired, "spec").is_object()) return;
  const json& old = Member(current, "spec");
  if (!old.is_object()) return;
  json& spec = desired["spec"];
  auto ips_of = [](const json& s) { return ClusterIps(s); };

  // patchAllocatedValues: what the client left out, the server allocated.
  if (NeedsClusterIp(old) && NeedsClusterIp(spec)) {
    if (MemberStr(spec, "clusterIP").empty() && !MemberStr(old, "clusterIP").empty()) {
      spec["clusterIP"] = Member(old, "clusterIP");
    }
    if (ips_of(spec).empty() && !ips_of(old).empty())
      spec["clusterIPs"] = Member(old, "clusterIPs");
  }
  json* ports = ArrayMember(spec, "ports");
  if (NeedsNodePort(old) && NeedsNodePort(spec) && ports != nullptr) {
    std::vector<int> old_ports = NodePorts(old);
    std::vector<int> new_ports = NodePorts(spec);
    std::set<int> used;
    for (int p : old_ports) {
      if (Contains(new_ports, p)) used.insert(p);
    }
    std::map<std::string, int> by_name;
    for (const json& p : Member(old, "ports"))
      by_name[MemberStr(p, "name")] = MemberInt(p, "nodePort");
    for (json& p : *ports) {
      if (!p.is_object() || MemberInt(p, "nodePort") != 0) continue;
      int old_value = by_name.count(MemberStr(p, "name")) ? by_name[MemberStr(p, "name")] : 0;
      if (old_value != 0 && !used.count(old_value)) p["nodePort"] = old_value;
    }
  }

  // normalizeClusterIPs: keep clusterIP and clusterIPs[0] together.
  const std::string old_ip = MemberStr(old, "clusterIP");
  if (!ips_of(old).empty() && ips_of(spec).empty() && old_ip == MemberStr(spec, "clusterIP")) {
    spec["clusterIPs"] = Member(old, "clusterIPs");
  }
  if (old_ip != MemberStr(spec, "clusterIP")) {
    if (!old_ip.empty() && MemberStr(spec, "clusterIP").empty() && ips_of(old) == ips_of(spec)) {
      spec.erase("clusterIPs");  // the client clears it: clear both
    }
    if (ips_of(old) == ips_of(spec)) {
      spec["clusterIPs"] = json::array({MemberStr(spec, "clusterIP")});
    }
  }

  // dropTypeDependentFields: what a type change leaves behind, unless the
  // client changed it too (then validation speaks).
  auto same = [&](const char* field) { return Member(old, field) == Member(spec, field); };
  if (NeedsClusterIp(old) && !NeedsClusterIp(spec)) {
    if (same("clusterIP") && ips_of(old) == ips_of(spec)) {
      spec.erase("clusterIP");
      spec.erase("clusterIPs");
    }
    if (same("ipFamilies")) spec.erase("ipFamilies");
    if (same("ipFamilyPolicy")) spec.erase("ipFamilyPolicy");
  }
  if (NeedsNodePort(old) && !NeedsNodePort(spec) && ports != nullptr) {
    std::vector<int> old_ports = NodePorts(old);
    bool superset = true;
    for (int p : NodePorts(spec)) superset = superset && Contains(old_ports, p);
    if (superset) {
      for (json& p : *ports) {
        if (p.is_object()) p.erase("nodePort");
      }
    }
  }
  if (Type(old) == "LoadBalancer" && Type(spec) != "LoadBalancer" &&
      same("allocateLoadBalancerNodePorts")) {
    spec.erase("allocateLoadBalancerNodePorts");
  }
  auto externally_accessible = [](const json& s) {
    const json& external_ips = Member(s, "externalIPs");
    return NeedsNodePort(s) ||
           (Type(s) == "ClusterIP" && external_ips.is_array() && !external_ips.empty());
  };
  if (externally_accessible(old) && !externally_accessible(spec) && same("externalTrafficPolicy")) {
    spec.erase("externalTrafficPolicy");
  }
}

// ---------------------------------------------------------------------------
// The kubernetes Service.

json KubernetesService(const ServiceCidr& cidr, int api_port) {
  const std::string ip = cidr.FirstHost();
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", "kubernetes"},
            {"namespace", "default"},
            {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"clusterIP", ip},
            {"clusterIPs", json::array({ip})},
            {"ipFamilies", json::array({"IPv4"})},
            {"ipFamilyPolicy", "SingleStack"},
            {"sessionAffinity", "None"},
            {"internalTrafficPolicy", "Cluster"},
            {"ports", json::array({{{"name", "https"},
                                    {"port", 443},
                                    {"protocol", "TCP"},
                                    {"targetPort", api_port}}})}}}};
}

json KubernetesEndpoints(const std::string& host, int api_port) {
  return {{"apiVersion", "v1"},
          {"kind", "Endpoints"},
          {"metadata",
           {{"name", "kubernetes"},
            {"namespace", "default"},
            {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
          {"subsets",
           json::array(
               {{{"addresses", json::array({{{"ip", host}}})},
                 {"ports",
                  json::array({{{"name", "https"}, {"port", api_port}, {"protocol", "TCP"}}})}}})}};
}

}  // namespace kennel::apiserver
