// The cluster's DNS records as one immutable View, and the pure function from
// a query packet to its response (no sockets, no clocks, no locks).
//
// Records follow the Kubernetes DNS specification, schema 1.1.0
// (kubernetes/dns docs/specification.md), for the zone <zone> (cluster.local
// by default):
//   <svc>.<ns>.svc.<zone>        A/AAAA: the cluster IPs; for a headless
//                                Service the ready endpoints' IPs (the name
//                                does not exist while none is ready);
//                                CNAME: an ExternalName Service's target
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV per named port: target the
//                                Service (port of the Service), or for a
//                                headless one each ready endpoint (port of the
//                                endpoint), with their A/AAAA as additional
//   <host>.<svc>.<ns>.svc.<zone> A/AAAA of a headless Service's ready
//                                endpoint; <host> is the address' hostname
//                                (a StatefulSet pod) or its IP with dashes
//   <a-b-c-d>.<ns>.pod.<zone>    A of a pod of that namespace with that IP
//                                (kept from spec 1.0 as CoreDNS' "pods
//                                verified"; 1.1.0 no longer requires it)
//   in-addr.arpa / ip6.arpa      PTR of cluster IPs → <svc>.<ns>.svc.<zone>,
//                                of headless endpoints → <host>.<svc>...
//   <zone>                       SOA, NS ns.dns.<zone>
//   dns-version.<zone>           TXT "1.1.0"
// "Ready" addresses are subsets[].addresses, plus notReadyAddresses when the
// Service sets publishNotReadyAddresses.
//
// Negative answers carry the zone's SOA in the authority section; its
// minimum, the negative-caching TTL, is 5 s, like every record's TTL (short:
// a pod's view of the cluster should follow changes within seconds; CoreDNS
// defaults to 30 s). A name that exists only as a prefix of others
// (svc.<zone>, <ns>.svc.<zone>) answers NODATA, not NXDOMAIN. Matching
// ignores ASCII case; the question is echoed as asked.
//
// Building precomputes every answer section in wire form, so answering is a
// hash lookup and a few copies into the caller's buffer, allocating nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "dns/message.h"

namespace kennel::dns {

// --- The parts of Services, Endpoints and Pods that DNS needs ---------------

struct PortInfo {
  std::string name;  // "" for an unnamed port (no SRV record)
  std::string protocol = "TCP";
  int32_t port = 0;
};

enum class ServiceKind { kClusterIp, kHeadless, kExternalName };

struct ServiceInfo {
  std::string ns;
  std::string name;
  ServiceKind kind = ServiceKind::kClusterIp;
  std::vector<std::string> cluster_ips;  // spec.clusterIPs, else [spec.clusterIP]
  std::string external_name;
  bool publish_not_ready_addresses = false;
  std::vector<PortInfo> ports;
};

struct AddressInfo {
  std::string ip;
  std::string hostname;  // "" when the address has none
};

struct SubsetInfo {
  std::vector<AddressInfo> ready;
  std::vector<AddressInfo> not_ready;
  std::vector<PortInfo> ports;
};

struct EndpointsInfo {
  std::string ns;
  std::string name;
  std::vector<SubsetInfo> subsets;
};

struct PodInfo {
  std::string ns;
  std::string name;
  std::vector<std::string> ips;  // empty for a pod without IP or finished
};

// nullopt when the object has no name or namespace.
std::optional<ServiceInfo> ServiceFromJson(const nlohmann::json& service);
std::optional<EndpointsInfo> EndpointsFromJson(const nlohmann::json& endpoints);
std::optional<PodInfo> PodFromJson(const nlohmann::json& pod);

// What a View is built from, keyed by "ns/name".
struct ClusterState {
  std::map<std::string, ServiceInfo> services;
  std::map<std::string, EndpointsInfo> endpoints;
  std::map<std::string, PodInfo> pods;
};

// --- The view --------------------------------------------------------------

class ViewBuilder;

struct ViewOptions {
  std::string zone = "cluster.local";
  uint32_t ttl = 5;
  uint32_t negative_ttl = 5;  // the SOA's minimum
  // Addresses of ns.dns.<zone>, the NS target (the server's own addresses).
  std::vector<std::string> nameserver_ips;
  // Names outside our zones are forwarded (Action::kForward; RA set in
  // answers) when true, else answered SERVFAIL.
  bool forwarding = false;
};

enum class Action {
  kDrop,     // no response at all
  kReply,    // out[0, size) is the response
  kForward,  // a name outside our zones: ask an upstream
};

struct Outcome {
  Action action = Action::kDrop;
  size_t size = 0;
};

class View {
 public:
  // Fails only when options.zone is not a valid DNS name.
  static StatusOr<std::shared_ptr<const View>> Build(const ViewOptions& options,
                                                     const ClusterState& state);

  // The response to a parsed query, written into out. Over UDP an answer
  // that does not fit the client's size (512 without EDNS0) comes back
  // empty with TC set; additional records are dropped first, without TC.
  Outcome Answer(const Query& query, Transport transport, std::span<uint8_t> out) const;

  const ViewOptions& options() const { return options_; }
  size_t name_count() const { return nodes_.size(); }

 private:
  friend class ViewBuilder;
  View() = default;

  // One type's records at one name, as answer-section bytes: each record's
  // owner is a pointer to the question name (offset 12). The additional
  // records (A/AAAA of SRV and NS targets) point at the targets inside the
  // answer, whose offsets are fixed since every question for this name has
  // the same length.
  struct RRSet {
    uint16_t type = 0;
    std::string answer;
    std::vector<uint32_t> answer_ends;  // end offset of each record
    std::string additional;
    std::vector<uint32_t> additional_ends;
  };
  struct Node {
    std::vector<RRSet> sets;  // none: an empty non-terminal
    bool cname = false;       // sets[0] is a CNAME, the answer to every type
    uint8_t zone = 0;         // index in zones_ for negative answers
  };
  struct Zone {
    std::string wire;  // lower-case wire name of the apex
    std::string soa;   // the SOA record after its owner name: type, class, ttl, rdata
  };

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  ViewOptions options_;
  std::vector<Zone> zones_;  // [0] the cluster zone, then in-addr.arpa, ip6.arpa
  std::unordered_map<std::string, Node, Hash, std::equal_to<>> nodes_;  // by lower-case wire name
};

// One packet to its response: parses it, answers FORMERR (malformed, QDCOUNT
// not 1), NOTIMP (opcode not QUERY), BADVERS (EDNS version above 0),
// REFUSED (class other than IN, zone transfers), SERVFAIL when view is null
// (not synced yet), else the view's answer. Responses (QR set) and packets
// shorter than a header are dropped. *query is the parsed query (for
// kForward). Never reads outside packet nor writes outside out.
Outcome Respond(const View* view, std::span<const uint8_t> packet, Transport transport,
                std::span<uint8_t> out, Query* query);

// "10.0.0.5" → "5.0.0.10.in-addr.arpa", IPv6 → 32 nibbles under ip6.arpa;
// "" when ip is not an address.
std::string ReverseName(std::string_view ip);
// The name an endpoint without hostname gets: "10-0-0-5", IPv6 with dashes.
std::string DashedIp(std::string_view ip);

}  // namespace kennel::dns
