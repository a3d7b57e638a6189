#include "proxy/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "api/json_access.h"

namespace kennel::proxy {
namespace {

using nlohmann::json;

// Marks a packet the proxy DNATed, for the masquerade rule in postrouting.
// kube-proxy uses the same bit.
constexpr const char* kMasqueradeMark = "0x4000";

bool IsIpv4(const std::string& ip) {
  in_addr addr;
  return inet_pton(AF_INET, ip.c_str(), &addr) == 1;
}

std::string Protocol(const json& port) {
  std::string p = api::Str(port, "protocol");
  if (p.empty() || p == "TCP") return "tcp";
  if (p == "UDP") return "udp";
  if (p == "SCTP") return "sctp";
  return "";
}

std::string KeyOf(const json& obj) {
  const json& meta = api::Field(obj, "metadata");
  std::string key = api::Str(meta, "namespace");
  key += '/';
  key += api::Str(meta, "name");
  return key;
}

// The ready backends of the Endpoints port that matches `port_name` and
// `protocol`: Endpoints name their ports after the Service's, and a subset's
// addresses serve every port of that subset.
std::vector<Backend> BackendsFor(const json* endpoints, const std::string& port_name,
                                 const std::string& protocol) {
  std::vector<Backend> out;
  if (endpoints == nullptr) return out;
  for (const json& subset : api::Field(*endpoints, "subsets").is_array()
                                ? api::Field(*endpoints, "subsets")
                                : json::array()) {
    int target = 0;
    const json& ports = api::Field(subset, "ports");
    if (!ports.is_array()) continue;
    for (const json& p : ports) {
      if (api::Str(p, "name") == port_name && Protocol(p) == protocol) {
        target = api::IntOr(p, "port", 0);
        break;
      }
    }
    if (target <= 0 || target > 65535) continue;
    const json& addresses = api::Field(subset, "addresses");
    if (!addresses.is_array()) continue;
    for (const json& a : addresses) {
      std::string ip = api::Str(a, "ip");
      if (IsIpv4(ip)) out.push_back({ip, target});
    }
  }
  std::sort(out.begin(), out.end(), [](const Backend& a, const Backend& b) {
    return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Elements(const std::vector<std::string>& elements) {
  if (elements.empty()) return "";
  std::string out = "    elements = { ";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ", ";
    out += elements[i];
  }
  out += " }\n";
  return out;
}

std::string ServiceChain(size_t index, const ServicePort& sp) {
  std::string out = "  chain svc_" + std::to_string(index) + " {\n";
  out += "    meta mark set meta mark or ";
  out += kMasqueradeMark;
  out += "\n";
  const auto& b = sp.backends;
  // DNAT to a port needs the protocol matched first.
  out += "    meta l4proto " + sp.protocol;
  if (b.size() == 1) {
    out += " dnat to " + b[0].ip + ":" + std::to_string(b[0].port) + "\n";
  } else {
    out += " dnat to numgen random mod " + std::to_string(b.size()) + " map { ";
    for (size_t i = 0; i < b.size(); ++i) {
      if (i > 0) out += ", ";
      out += std::to_string(i) + " : " + b[i].ip + " . " + std::to_string(b[i].port);
    }
    out += " }\n";
  }
  out += "  }\n";
  return out;
}

void AppendChain(std::string& out, const std::string& name, const std::string& base,
                 const std::string& body) {
  out += "  chain " + name + " {\n";
  if (!base.empty()) out += "    " + base + "; policy accept;\n";
  out += body;
  out += "  }\n";
}

}  // namespace

std::vector<ServicePort> ResolveServicePorts(const std::vector<json>& services,
                                             const std::vector<json>& endpoints) {
  std::map<std::string, const json*> endpoints_by_key;
  for (const json& ep : endpoints) endpoints_by_key[KeyOf(ep)] = &ep;
  std::vector<ServicePort> out;
  for (const json& svc : services) {
    const json& spec = api::Field(svc, "spec");
    std::string type = api::Str(spec, "type");
    if (type == "ExternalName") continue;
    std::string cluster_ip = api::Str(spec, "clusterIP");
    if (!IsIpv4(cluster_ip)) continue;  // headless ("None"), unallocated, or IPv6
    std::string key = KeyOf(svc);
    auto ep = endpoints_by_key.find(key);
    const json* ep_obj = ep == endpoints_by_key.end() ? nullptr : ep->second;
    const json& ports = api::Field(spec, "ports");
    if (!ports.is_array()) continue;
    for (const json& p : ports) {
      ServicePort sp;
      sp.service = key;
      sp.port_name = api::Str(p, "name");
      sp.protocol = Protocol(p);
      sp.cluster_ip = cluster_ip;
      sp.port = api::IntOr(p, "port", 0);
      sp.node_port =
          type == "NodePort" || type == "LoadBalancer" ? api::IntOr(p, "nodePort", 0) : 0;
      if (sp.protocol.empty() || sp.port <= 0 || sp.port > 65535) continue;
      if (sp.node_port < 0 || sp.node_port > 65535) sp.node_port = 0;
      sp.backends = BackendsFor(ep_obj, sp.port_name, sp.protocol);
      out.push_back(std::move(sp));
    }
  }
  std::sort(out.begin(), out.end(), [](const ServicePort& a, const ServicePort& b) {
    return std::tie(a.service, a.port, a.protocol) < std::tie(b.service, b.port, b.protocol);
  });
  return out;
}

std::string DeleteTableScript(const std::string& table) {
  // Declaring the table first makes the delete succeed when it is absent.
  return "table ip " + table + " {}\ndelete table ip " + table + "\n";
}

std::string BuildRuleset(const std::vector<ServicePort>& ports, const RulesetOptions& options) {
  std::vector<std::string> service_ips, node_ports, no_endpoints, no_endpoint_node_ports;
  std::string service_chains;
  size_t chain = 0;
  for (const ServicePort& sp : ports) {
    std::string addr = sp.cluster_ip + " . " + sp.protocol + " . " + std::to_string(sp.port);
    std::string node_port = sp.protocol + " . " + std::to_string(sp.node_port);
    if (sp.backends.empty()) {
      no_endpoints.push_back(addr);
      if (sp.node_port > 0) no_endpoint_node_ports.push_back(node_port);
      continue;
    }
    std::string verdict = " : goto svc_" + std::to_string(chain);
    service_ips.push_back(addr + verdict);
    if (sp.node_port > 0) node_ports.push_back(node_port + verdict);
    service_chains += ServiceChain(chain, sp);
    ++chain;
  }

  std::string out = DeleteTableScript(options.table);
  out += "table ip " + options.table + " {\n";
  out += "  map service_ips {\n    type ipv4_addr . inet_proto . inet_service : verdict\n";
  out += Elements(service_ips) + "  }\n";
  out += "  map service_nodeports {\n    type inet_proto . inet_service : verdict\n";
  out += Elements(node_ports) + "  }\n";
  out += "  set no_endpoints {\n    type ipv4_addr . inet_proto . inet_service\n";
  out += Elements(no_endpoints) + "  }\n";
  out += "  set no_endpoint_nodeports {\n    type inet_proto . inet_service\n";
  out += Elements(no_endpoint_node_ports) + "  }\n";

  AppendChain(out, "services", "",
              "    ip daddr . meta l4proto . th dport vmap @service_ips\n"
              "    fib daddr type local meta l4proto . th dport vmap @service_nodeports\n");
  AppendChain(out, "nat_prerouting", "type nat hook prerouting priority -100",
              "    jump services\n");
  AppendChain(out, "nat_output", "type nat hook output priority -100", "    jump services\n");
  std::string masquerade;
  if (!options.pod_cidr.empty()) {
    masquerade = "    meta mark and ";
    masquerade += kMasqueradeMark;
    masquerade += " == ";
    masquerade += kMasqueradeMark;
    masquerade += " ip saddr " + options.pod_cidr + " masquerade\n";
  }
  AppendChain(out, "nat_postrouting", "type nat hook postrouting priority 100", masquerade);
  AppendChain(out, "reject_no_endpoints", "",
              "    ct state new ip daddr . meta l4proto . th dport @no_endpoints reject\n"
              "    ct state new fib daddr type local meta l4proto . th dport "
              "@no_endpoint_nodeports reject\n");
  for (const char* hook : {"input", "forward", "output"}) {
    std::string base = "type filter hook ";
    base += hook;
    base += " priority filter - 5";
    AppendChain(out, std::string("filter_") + hook, base, "    jump reject_no_endpoints\n");
  }
  out += service_chains;
  out += "}\n";
  return out;
}

}  // namespace kennel::proxy
