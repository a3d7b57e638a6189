#include "dns/view.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "api/json_access.h"

namespace kennel::dns {
namespace {

using api::Field;
using api::Str;
using nlohmann::json;

constexpr char kSchemaVersion[] = "1.1.0";
constexpr uint8_t kClusterZone = 0;
constexpr uint8_t kIpv4ReverseZone = 1;
constexpr uint8_t kIpv6ReverseZone = 2;
// Offset of a record's data from its start, when its owner is a 2-byte
// pointer: owner, type, class, ttl, rdlength.
constexpr size_t kRecordHeader = 2 + 2 + 2 + 4 + 2;
constexpr size_t kMaxPointer = 0x3FFF;

struct Ip {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t bytes[16] = {};
  size_t size() const { return family == AF_INET ? 4 : 16; }
};

std::optional<Ip> ParseIp(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Ip ip;
  if (inet_pton(AF_INET, buf, ip.bytes) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::string FormatIp(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(ip.family, ip.bytes, buf, sizeof(buf))) return "";
  return buf;
}

bool IsTrue(const json& v) { return v.is_boolean() && v.get<bool>(); }

std::vector<PortInfo> PortsFromJson(const json& ports) {
  std::vector<PortInfo> out;
  if (!ports.is_array()) return out;
  for (const json& p : ports) {
    if (!p.is_object()) continue;
    PortInfo port;
    port.name = Str(p, "name");
    std::string protocol = Str(p, "protocol");
    if (!protocol.empty()) port.protocol = protocol;
    port.port = api::IntOr(p, "port", 0);
    out.push_back(std::move(port));
  }
  return out;
}

std::vector<AddressInfo> AddressesFromJson(const json& addresses) {
  std::vector<AddressInfo> out;
  if (!addresses.is_array()) return out;
  for (const json& a : addresses) {
    std::string ip = Str(a, "ip");
    if (!ip.empty()) out.push_back(AddressInfo{ip, Str(a, "hostname")});
  }
  return out;
}

bool NamesOf(const json& object, std::string* ns, std::string* name) {
  const json& meta = Field(object, "metadata");
  *ns = Str(meta, "namespace");
  *name = Str(meta, "name");
  return !ns->empty() && !name->empty();
}

// A valid label for a name we make: 1 to 63 bytes, no dot.
bool ValidLabel(std::string_view label) {
  return !label.empty() && label.size() <= kMaxLabelSize &&
         label.find('.') == std::string_view::npos;
}

// label (lower-cased) prepended to the wire name parent; "" when it cannot be.
std::string Child(std::string_view label, std::string_view parent) {
  if (!ValidLabel(label) || parent.empty() || 1 + label.size() + parent.size() > kMaxNameSize) {
    return "";
  }
  std::string wire;
  wire.reserve(1 + label.size() + parent.size());
  wire += static_cast<char>(label.size());
  wire.append(label);
  LowerAscii(reinterpret_cast<uint8_t*>(wire.data()) + 1, label.size());
  wire.append(parent);
  return wire;
}

void Put16(std::string* s, uint16_t v) {
  *s += static_cast<char>(v >> 8);
  *s += static_cast<char>(v & 0xFF);
}

void Put32(std::string* s, uint32_t v) {
  Put16(s, static_cast<uint16_t>(v >> 16));
  Put16(s, static_cast<uint16_t>(v & 0xFFFF));
}

}  // namespace

// --- Objects → infos -----------------------------------------------------

std::optional<ServiceInfo> ServiceFromJson(const json& service) {
  ServiceInfo info;
  if (!NamesOf(service, &info.ns, &info.name)) return std::nullopt;
  const json& spec = Field(service, "spec");
  if (Str(spec, "type") == "ExternalName") {
    info.kind = ServiceKind::kExternalName;
    info.external_name = Str(spec, "externalName");
    return info;
  }
  const json& ips = Field(spec, "clusterIPs");
  if (ips.is_array()) {
    for (const json& ip : ips) {
      if (ip.is_string() && !ip.get<std::string>().empty()) {
        info.cluster_ips.push_back(ip.get<std::string>());
      }
    }
  }
  if (info.cluster_ips.empty() && !Str(spec, "clusterIP").empty()) {
    info.cluster_ips.push_back(Str(spec, "clusterIP"));
  }
  if (!info.cluster_ips.empty() && info.cluster_ips[0] == "None") {
    info.kind = ServiceKind::kHeadless;
    info.cluster_ips.clear();
  }
  info.publish_not_ready_addresses = IsTrue(Field(spec, "publishNotReadyAddresses"));
  info.ports = PortsFromJson(Field(spec, "ports"));
  return info;
}

std::optional<EndpointsInfo> EndpointsFromJson(const json& endpoints) {
  EndpointsInfo info;
  if (!NamesOf(endpoints, &info.ns, &info.name)) return std::nullopt;
  const json& subsets = Field(endpoints, "subsets");
  if (!subsets.is_array()) return info;
  for (const json& s : subsets) {
    SubsetInfo subset;
    subset.ready = AddressesFromJson(Field(s, "addresses"));
    subset.not_ready = AddressesFromJson(Field(s, "notReadyAddresses"));
    subset.ports = PortsFromJson(Field(s, "ports"));
    info.subsets.push_back(std::move(subset));
  }
  return info;
}

std::optional<PodInfo> PodFromJson(const json& pod) {
  PodInfo info;
  if (!NamesOf(pod, &info.ns, &info.name)) return std::nullopt;
  const json& status = Field(pod, "status");
  std::string phase = Str(status, "phase");
  if (phase == "Succeeded" || phase == "Failed") return info;  // its IP is released
  const json& ips = Field(status, "podIPs");
  if (ips.is_array()) {
    for (const json& ip : ips) {
      std::string text = Str(ip, "ip");
      if (!text.empty()) info.ips.push_back(text);
    }
  }
  if (info.ips.empty() && !Str(status, "podIP").empty()) info.ips.push_back(Str(status, "podIP"));
  return info;
}

std::string ReverseName(std::string_view text) {
  auto ip = ParseIp(text);
  if (!ip) return "";
  std::string name;
  if (ip->family == AF_INET) {
    for (int i = 3; i >= 0; --i) {
      name += std::to_string(ip->bytes[i]);
      name += '.';
    }
    name += "in-addr.arpa";
    return name;
  }
  static const char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    name += kHex[ip->bytes[i] & 0xF];
    name += '.';
    name += kHex[ip->bytes[i] >> 4];
    name += '.';
  }
  name += "ip6.arpa";
  return name;
}

std::string DashedIp(std::string_view text) {
  auto ip = ParseIp(text);
  if (!ip) return "";
  std::string s = FormatIp(*ip);
  char from = ip->family == AF_INET ? '.' : ':';
  std::replace(s.begin(), s.end(), from, '-');
  // A label may neither start nor end with a dash ("::1" → "0--1").
  if (s.front() == '-') s.insert(s.begin(), '0');
  if (s.back() == '-') s += '0';
  return s;
}

// --- Building --------------------------------------------------------------

class ViewBuilder {
 public:
  explicit ViewBuilder(const ViewOptions& options) : options_(options) {}

  Status Build(const ClusterState& state) {
    RETURN_IF_ERROR(InitZones());
    const std::string& apex = zones_[kClusterZone].wire;
    std::string soa = zones_[kClusterZone].soa.substr(kRecordHeader - 2);
    Add(apex, kClusterZone, kTypeSOA, soa);
    Add(apex, kClusterZone, kTypeNS, ns_name_, ns_name_);
    for (const std::string& ip : options_.nameserver_ips) AddAddress(ns_name_, kClusterZone, ip);
    std::string txt;
    txt += static_cast<char>(sizeof(kSchemaVersion) - 1);
    txt += kSchemaVersion;
    Add(Child("dns-version", apex), kClusterZone, kTypeTXT, txt);

    std::string svc_root = Child("svc", apex);
    std::string pod_root = Child("pod", apex);
    for (const auto& [key, svc] : state.services) {
      std::string name = Child(svc.name, Child(svc.ns, svc_root));
      if (name.empty()) continue;
      switch (svc.kind) {
        case ServiceKind::kClusterIp:
          AddClusterIpService(svc, name);
          break;
        case ServiceKind::kHeadless: {
          auto ep = state.endpoints.find(key);
          if (ep != state.endpoints.end()) AddHeadlessService(svc, ep->second, name);
          break;
        }
        case ServiceKind::kExternalName: {
          auto target = NameToWire(svc.external_name);
          if (target.ok() && target->size() > 1) {
            Node& node = nodes_[name];
            node.zone = kClusterZone;
            node.cname = true;
            node.types.clear();
            node.types[kTypeCNAME].push_back(Pending{*target, ""});
          }
          break;
        }
      }
    }
    for (const auto& [key, pod] : state.pods) {
      std::string ns = Child(pod.ns, pod_root);
      for (const std::string& ip : pod.ips) {
        std::string name = Child(DashedIp(ip), ns);
        if (!name.empty()) AddAddress(name, kClusterZone, ip);
      }
    }
    AddEmptyNonTerminals();
    return Status::Ok();
  }

  std::shared_ptr<const View> Finish() {
    std::shared_ptr<View> view(new View());
    view->options_ = options_;
    view->zones_ = zones_;
    view->nodes_.reserve(nodes_.size());
    for (auto& [name, pending] : nodes_) {
      for (auto& [type, records] : pending.types) Normalize(type, &records);
    }
    for (auto& [name, pending] : nodes_) {
      View::Node node;
      node.zone = pending.zone;
      node.cname = pending.cname;
      for (auto& [type, records] : pending.types) {
        node.sets.push_back(MakeSet(name, type, &records));
      }
      view->nodes_.emplace(name, std::move(node));
    }
    return view;
  }

 private:
  struct Pending {
    std::string rdata;
    std::string target;  // SRV and NS: the wire name whose addresses go in additional
    bool operator<(const Pending& o) const { return rdata < o.rdata; }
    bool operator==(const Pending& o) const { return rdata == o.rdata; }
  };
  struct Node {
    uint8_t zone = kClusterZone;
    bool cname = false;
    std::map<uint16_t, std::vector<Pending>> types;  // A before AAAA before the rest
  };

  Status InitZones() {
    auto apex = NameToWire(options_.zone, /*lower_case=*/true);
    if (!apex.ok() || apex->size() <= 1) {
      return BadRequest("invalid cluster domain \"" + options_.zone + "\"");
    }
    ns_name_ = Child("ns", Child("dns", *apex));
    std::string hostmaster = Child("hostmaster", *apex);
    if (ns_name_.empty() || hostmaster.empty()) {
      return BadRequest("cluster domain \"" + options_.zone + "\" is too long");
    }
    // The serial only has to grow as views change; seconds do.
    uint32_t serial = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
    std::string rdata = ns_name_ + hostmaster;
    for (uint32_t v : {serial, 7200u, 1800u, 86400u, options_.negative_ttl}) Put32(&rdata, v);
    for (std::string_view zone :
         {std::string_view(*apex), std::string_view("\7in-addr\4arpa\0", 14),
          std::string_view("\3ip6\4arpa\0", 10)}) {
      View::Zone z;
      z.wire = zone;
      Put16(&z.soa, kTypeSOA);
      Put16(&z.soa, kClassIN);
      Put32(&z.soa, options_.ttl);
      Put16(&z.soa, static_cast<uint16_t>(rdata.size()));
      z.soa += rdata;
      zones_.push_back(std::move(z));
    }
    return Status::Ok();
  }

  void Add(const std::string& name, uint8_t zone, uint16_t type, std::string rdata,
           std::string target = "") {
    if (name.empty()) return;
    Node& node = nodes_[name];
    if (node.cname) return;  // a CNAME owns its name alone
    node.zone = zone;
    node.types[type].push_back(Pending{std::move(rdata), std::move(target)});
  }

  // An A or AAAA record; false when ip is not an address.
  bool AddAddress(const std::string& name, uint8_t zone, std::string_view ip_text) {
    auto ip = ParseIp(ip_text);
    if (!ip) return false;
    Add(name, zone, ip->family == AF_INET ? kTypeA : kTypeAAAA,
        std::string(reinterpret_cast<const char*>(ip->bytes), ip->size()));
    return true;
  }

  void AddPtr(std::string_view ip_text, const std::string& target) {
    auto ip = ParseIp(ip_text);
    if (!ip) return;
    auto name = NameToWire(ReverseName(ip_text), /*lower_case=*/true);
    if (!name.ok()) return;
    Add(*name, ip->family == AF_INET ? kIpv4ReverseZone : kIpv6ReverseZone, kTypePTR, target);
  }

  // _<port>._<proto>.<parent>, for a named port.
  static std::string SrvName(const PortInfo& port, const std::string& parent) {
    if (port.name.empty() || port.port <= 0 || port.port > 65535) return "";
    std::string proto = "_";
    proto += port.protocol;
    std::string name = "_";
    name += port.name;
    return Child(name, Child(proto, parent));
  }

  void AddSrv(const std::string& name, int32_t port, const std::string& target) {
    std::string rdata;
    Put16(&rdata, 0);  // priority
    Put16(&rdata, 0);  // weight: 100 shared by the records, set in MakeSet
    Put16(&rdata, static_cast<uint16_t>(port));
    rdata += target;
    Add(name, kClusterZone, kTypeSRV, std::move(rdata), target);
  }

  void AddClusterIpService(const ServiceInfo& svc, const std::string& name) {
    bool any = false;
    for (const std::string& ip : svc.cluster_ips) {
      if (!AddAddress(name, kClusterZone, ip)) continue;
      AddPtr(ip, name);
      any = true;
    }
    if (!any) return;  // no cluster IP yet: nothing to point SRV records at
    for (const PortInfo& port : svc.ports) {
      std::string srv = SrvName(port, name);
      if (!srv.empty()) AddSrv(srv, port.port, name);
    }
  }

  void AddHeadlessService(const ServiceInfo& svc, const EndpointsInfo& ep,
                          const std::string& name) {
    for (const SubsetInfo& subset : ep.subsets) {
      for (const auto* list : {&subset.ready, &subset.not_ready}) {
        if (list == &subset.not_ready && !svc.publish_not_ready_addresses) continue;
        for (const AddressInfo& address : *list) {
          std::string host_label =
              ValidLabel(address.hostname) ? address.hostname : DashedIp(address.ip);
          std::string host = Child(host_label, name);
          if (host.empty() || !AddAddress(name, kClusterZone, address.ip)) continue;
          AddAddress(host, kClusterZone, address.ip);
          AddPtr(address.ip, host);
          for (const PortInfo& port : subset.ports) {
            std::string srv = SrvName(port, name);
            if (!srv.empty()) AddSrv(srv, port.port, host);
          }
        }
      }
    }
  }

  // Every proper ancestor of a name in the cluster zone exists (with no
  // records, if nothing else): svc.<zone>, <ns>.svc.<zone>, _tcp.<svc>...
  void AddEmptyNonTerminals() {
    const std::string& apex = zones_[kClusterZone].wire;
    std::vector<std::string> missing;
    for (const auto& [name, node] : nodes_) {
      if (node.zone != kClusterZone) continue;
      std::string_view n = name;
      while (n.size() > apex.size()) {
        n.remove_prefix(1 + static_cast<uint8_t>(n[0]));
        if (n.size() <= apex.size()) break;
        if (!nodes_.count(std::string(n))) missing.emplace_back(n);
      }
    }
    for (std::string& name : missing) nodes_[std::move(name)];
  }

  // Sorted without duplicates; SRV records share a weight of 100.
  static void Normalize(uint16_t type, std::vector<Pending>* records) {
    std::sort(records->begin(), records->end());
    records->erase(std::unique(records->begin(), records->end()), records->end());
    if (type == kTypeSRV && !records->empty()) {
      uint16_t weight = static_cast<uint16_t>(std::max<size_t>(1, 100 / records->size()));
      for (Pending& r : *records) {
        r.rdata[2] = static_cast<char>(weight >> 8);
        r.rdata[3] = static_cast<char>(weight & 0xFF);
      }
    }
  }

  View::RRSet MakeSet(const std::string& name, uint16_t type, const std::vector<Pending>* records) {
    View::RRSet set;
    set.type = type;
    // Every question for this name puts the answer section here.
    const size_t answer_base = kHeaderSize + name.size() + 4;
    std::vector<std::pair<size_t, const std::string*>> targets;  // (offset in response, name)
    for (const Pending& r : *records) {
      size_t start = set.answer.size();
      AppendRecord(&set.answer, "", type, r.rdata);
      set.answer_ends.push_back(static_cast<uint32_t>(set.answer.size()));
      if (r.target.empty()) continue;
      bool seen = std::any_of(targets.begin(), targets.end(),
                              [&](const auto& t) { return *t.second == r.target; });
      if (seen) continue;
      size_t in_rdata = type == kTypeSRV ? 6 : 0;
      targets.emplace_back(answer_base + start + kRecordHeader + in_rdata, &r.target);
    }
    for (const auto& [offset, target] : targets) {
      auto it = nodes_.find(*target);
      if (it == nodes_.end() || it->second.cname) continue;
      std::string owner = *target;
      if (offset <= kMaxPointer) {
        owner.clear();
        Put16(&owner, static_cast<uint16_t>(0xC000 | offset));
      }
      for (uint16_t t : {kTypeA, kTypeAAAA}) {
        auto records_of = it->second.types.find(t);
        if (records_of == it->second.types.end()) continue;
        for (const Pending& r : records_of->second) {
          AppendRecord(&set.additional, owner, t, r.rdata);
          set.additional_ends.push_back(static_cast<uint32_t>(set.additional.size()));
        }
      }
    }
    return set;
  }

  // owner "" is the question name (a pointer to offset 12).
  void AppendRecord(std::string* out, const std::string& owner, uint16_t type,
                    const std::string& rdata) {
    if (owner.empty()) {
      Put16(out, 0xC000 | kHeaderSize);
    } else {
      *out += owner;
    }
    Put16(out, type);
    Put16(out, kClassIN);
    Put32(out, options_.ttl);
    Put16(out, static_cast<uint16_t>(rdata.size()));
    *out += rdata;
  }

  const ViewOptions& options_;
  std::vector<View::Zone> zones_;
  std::string ns_name_;
  std::unordered_map<std::string, Node> nodes_;
};

StatusOr<std::shared_ptr<const View>> View::Build(const ViewOptions& options,
                                                  const ClusterState& state) {
  ViewBuilder builder(options);
  RETURN_IF_ERROR(builder.Build(state));
  return builder.Finish();
}

// --- Answering ---------------------------------------------------------------

namespace {

// How many of the records ending at ends fit in room bytes.
size_t RecordsThatFit(const std::vector<uint32_t>& ends, size_t room) {
  return std::upper_bound(ends.begin(), ends.end(), room) - ends.begin();
}

}  // namespace

Outcome View::Answer(const Query& q, Transport transport, std::span<uint8_t> out) const {
  const size_t limit = q.MaxResponseSize(transport);
  Writer w(out, limit);
  const uint16_t ra = options_.forwarding ? kFlagRa : 0;
  const size_t opt_size = q.has_edns ? kOptRecordSize : 0;

  auto finish = [&](uint16_t an, uint16_t ns, uint16_t ar) {
    w.set_limit(limit);
    if (q.has_edns && WriteOpt(0, &w)) ++ar;
    SetCounts(&w, an, ns, ar);
    return Outcome{Action::kReply, w.size()};
  };
  auto negative = [&](uint8_t rcode, const Zone& zone) {
    if (!WriteResponseStart(q, kFlagAa | ra, rcode, &w)) return Outcome{};
    size_t at = 0;
    uint16_t ns = 0;
    w.set_limit(limit - opt_size);
    if (q.EndsWith(zone.wire, &at) && w.room() >= 2 + zone.soa.size()) {
      w.U16(static_cast<uint16_t>(0xC000 | (kHeaderSize + at)));
      w.Bytes(zone.soa.data(), zone.soa.size());
      ns = 1;
    }
    return finish(0, ns, 0);
  };

  auto it = nodes_.find(q.lower_name());
  if (it == nodes_.end()) {
    if (q.EndsWith(zones_[kClusterZone].wire)) return negative(kNxDomain, zones_[kClusterZone]);
    if (options_.forwarding) return Outcome{Action::kForward, 0};
    return Outcome{Action::kReply, WriteError(q, kServFail, /*with_question=*/true, 0, out)};
  }
  const Node& node = it->second;
  // The sets that answer: a CNAME answers every type; ANY takes them all.
  const RRSet* first = nullptr;
  const RRSet* last = nullptr;
  if (node.cname || q.qtype == kTypeANY) {
    if (!node.sets.empty()) {
      first = node.sets.data();
      last = first + (node.cname ? 1 : node.sets.size());
    }
  } else {
    for (const RRSet& set : node.sets) {
      if (set.type == q.qtype) {
        first = &set;
        last = first + 1;
        break;
      }
    }
  }
  if (!first) return negative(kNoError, zones_[node.zone]);

  if (!WriteResponseStart(q, kFlagAa | ra, kNoError, &w)) return Outcome{};
  w.set_limit(limit - opt_size);
  uint16_t an = 0, ar = 0;
  bool truncated = false;
  for (const RRSet* set = first; set != last; ++set) {
    if (set->answer.size() <= w.room()) {
      w.Bytes(set->answer.data(), set->answer.size());
      an = static_cast<uint16_t>(an + set->answer_ends.size());
      continue;
    }
    truncated = true;
    if (transport == Transport::kUdp) {
      // Over UDP the client retries over TCP: send no partial RRset.
      an = 0;
      w.Truncate(kHeaderSize + q.name_size + 4);
    } else {
      size_t n = RecordsThatFit(set->answer_ends, w.room());
      if (n) w.Bytes(set->answer.data(), set->answer_ends[n - 1]);
      an = static_cast<uint16_t>(an + n);
    }
    break;
  }
  if (truncated) {
    w.PatchU16(2, static_cast<uint16_t>((out[2] << 8 | out[3]) | kFlagTc));
    return finish(an, 0, 0);
  }
  // Additional records only for a single set (SRV, NS), as many as fit.
  if (last - first == 1 && !first->additional.empty()) {
    size_t n = RecordsThatFit(first->additional_ends, w.room());
    if (n) w.Bytes(first->additional.data(), first->additional_ends[n - 1]);
    ar = static_cast<uint16_t>(n);
  }
  return finish(an, 0, ar);
}

Outcome Respond(const View* view, std::span<const uint8_t> packet, Transport transport,
                std::span<uint8_t> out, Query* q) {
  switch (ParseQuery(packet, q)) {
    case ParseResult::kDrop:
      return Outcome{};
    case ParseResult::kFormErr:
      return Outcome{Action::kReply, WriteError(*q, kFormErr, /*with_question=*/false, 0, out)};
    case ParseResult::kNotImp:
      return Outcome{Action::kReply, WriteError(*q, kNotImp, /*with_question=*/false, 0, out)};
    case ParseResult::kBadVersion:
      return Outcome{Action::kReply, WriteError(*q, kBadVers, /*with_question=*/true, 0, out)};
    case ParseResult::kOk:
      break;
  }
  uint8_t rcode = kNoError;
  if (q->qtype == kTypeOPT) {
    rcode = kFormErr;
  } else if (q->qtype == kTypeAXFR || q->qtype == kTypeIXFR) {
    rcode = kRefused;  // no zone transfers
  } else if (q->qtype >= 249 && q->qtype <= 254) {
    rcode = kNotImp;  // TKEY, TSIG, MAILB, MAILA as questions
  } else if (q->qclass != kClassIN && q->qclass != kClassANY) {
    rcode = kRefused;
  } else if (!view) {
    rcode = kServFail;  // not synced with the cluster yet
  }
  if (rcode != kNoError) {
    return Outcome{Action::kReply, WriteError(*q, rcode, /*with_question=*/true, 0, out)};
  }
  return view->Answer(*q, transport, out);
}

}  // namespace kennel::dns
