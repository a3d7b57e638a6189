#include "controllers/endpoints.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "api/json_access.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::controllers {
namespace {

using client::json;
using Labels = std::map<std::string, std::string>;

constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";
// Endpoints used as leader-election locks have no Service and must stay.
constexpr const char* kLeaderAnnotation = "control-plane.alpha.kubernetes.io/leader";

const json& Member(const json& obj, const char* name) { return api::Field(obj, name); }
using api::Str;

int Int(const json& obj, const char* name) {
  const json& v = Member(obj, name);
  return v.is_number_integer() ? v.get<int>() : 0;
}

Labels StringMap(const json& obj) {
  Labels out;
  if (!obj.is_object()) return out;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// A Service's selector as Kubernetes reads it: equality on every label; an
// empty or absent selector selects nothing here (the Service has none).
bool Selects(const Labels& selector, const Labels& labels) {
  if (selector.empty()) return false;
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

std::string Key(const std::string& ns, const std::string& name) {
  std::string key = ns;
  key += "/";
  key += name;
  return key;
}

// What the controller needs of a pod, compiled once per pod version; equal
// views mean the pod's Endpoints entries cannot have changed.
struct PodView {
  struct Port {
    std::string name;
    int number = 0;
    std::string protocol;
    bool operator==(const Port&) const = default;
  };
  std::string ns;
  std::string name;
  std::string uid;
  std::vector<std::string> ips;  // status.podIPs, else status.podIP
  std::string node;
  std::string hostname;
  std::string subdomain;
  Labels labels;
  bool ready = false;
  bool terminating = false;
  bool terminal = false;
  std::vector<Port> ports;  // every container's
  bool operator==(const PodView&) const = default;
};

PodView ViewOf(const json& pod) {
  PodView v;
  const json& meta = Member(pod, "metadata");
  const json& spec = Member(pod, "spec");
  const json& status = Member(pod, "status");
  v.ns = Str(meta, "namespace");
  v.name = Str(meta, "name");
  v.uid = Str(meta, "uid");
  v.labels = StringMap(Member(meta, "labels"));
  v.terminating = !Member(meta, "deletionTimestamp").is_null();
  v.node = Str(spec, "nodeName");
  v.hostname = Str(spec, "hostname");
  v.subdomain = Str(spec, "subdomain");
  const json& pod_ips = Member(status, "podIPs");
  if (pod_ips.is_array()) {
    for (const json& ip : pod_ips) {
      std::string text = Str(ip, "ip");
      if (!text.empty()) v.ips.push_back(text);
    }
  }
  if (v.ips.empty() && !Str(status, "podIP").empty()) v.ips.push_back(Str(status, "podIP"));
  std::string phase = Str(status, "phase");
  v.terminal = phase == "Succeeded" || phase == "Failed";
  const json& conditions = Member(status, "conditions");
  if (conditions.is_array()) {
    for (const json& c : conditions) {
      if (Str(c, "type") == "Ready") v.ready = Str(c, "status") == "True";
    }
  }
  const json& containers = Member(spec, "containers");
  if (containers.is_array()) {
    for (const json& c : containers) {
      const json& ports = Member(c, "ports");
      if (!ports.is_array()) continue;
      for (const json& p : ports) {
        std::string protocol = Str(p, "protocol");
        v.ports.push_back(
            {Str(p, "name"), Int(p, "containerPort"), protocol.empty() ? "TCP" : protocol});
      }
    }
  }
  return v;
}

// The port a pod serves a service port on (Kubernetes' FindPort): a named
// targetPort is looked up among the pod's container ports of the same
// protocol; a number (or none) is taken as is.
std::optional<int> FindPort(const PodView& pod, const json& service_port) {
  const json& target = Member(service_port, "targetPort");
  std::string protocol = Str(service_port, "protocol");
  if (protocol.empty()) protocol = "TCP";
  if (target.is_string()) {
    for (const PodView::Port& p : pod.ports) {
      if (p.name == target.get<std::string>() && p.protocol == protocol) return p.number;
    }
    return std::nullopt;
  }
  if (target.is_number_integer() && target.get<int>() != 0) return target.get<int>();
  return Int(service_port, "port");
}

// The pod address of the service's family (its first ipFamilies entry), or
// "" when the pod has none of that family.
std::string AddressFor(const json& spec, const PodView& pod) {
  const json& families = Member(spec, "ipFamilies");
  if (!families.is_array() || families.empty() || !families[0].is_string()) {
    return pod.ips.empty() ? "" : pod.ips[0];
  }
  bool want_v6 = families[0].get<std::string>() == "IPv6";
  for (const std::string& ip : pod.ips) {
    if ((ip.find(':') != std::string::npos) == want_v6) return ip;
  }
  return "";
}

std::string PrimaryClusterIp(const json& spec) {
  const json& ips = Member(spec, "clusterIPs");
  if (ips.is_array() && !ips.empty() && ips[0].is_string()) return ips[0].get<std::string>();
  return Str(spec, "clusterIP");
}

json ComputeSubsets(const json& service, const std::vector<const PodView*>& pods) {
  const json& spec = Member(service, "spec");
  const std::string service_name = Str(Member(service, "metadata"), "name");
  const bool publish_not_ready = Member(spec, "publishNotReadyAddresses") == json(true);
  const bool headless = PrimaryClusterIp(spec) == "None";
  const json& service_ports = Member(spec, "ports");
  const bool has_ports = service_ports.is_array() && !service_ports.empty();

  struct AddrKey {
    std::string ip;
    std::string uid;
    auto operator<=>(const AddrKey&) const = default;
  };
  struct PortKey {
    std::string name;
    int port = 0;  // -1: the portless sentinel of a headless service
    std::string protocol;
    std::string app_protocol;
    auto operator<=>(const PortKey&) const = default;
  };
  std::map<AddrKey, json> addresses;
  std::map<PortKey, std::map<AddrKey, bool>> ready_by_port;

  for (const PodView* pod : pods) {
    if (pod->terminal) continue;
    if (pod->terminating && !publish_not_ready) continue;
    std::string ip = AddressFor(spec, *pod);
    if (ip.empty()) continue;
    AddrKey key{ip, pod->uid};
    json address = {
        {"ip", ip},
        {"targetRef",
         {{"kind", "Pod"}, {"namespace", pod->ns}, {"name", pod->name}, {"uid", pod->uid}}}};
    if (!pod->node.empty()) address["nodeName"] = pod->node;
    if (!pod->hostname.empty() && pod->subdomain == service_name) {
      address["hostname"] = pod->hostname;
    }
    addresses.emplace(key, std::move(address));
    const bool ready = publish_not_ready || pod->ready;
    auto record = [&](PortKey port) {
      auto& by_addr = ready_by_port[std::move(port)];
      auto it = by_addr.find(key);
      // Not ready wins over ready for the same address.
      if (it == by_addr.end() || it->second) by_addr[key] = ready;
    };
    if (!has_ports) {
      if (headless) record(PortKey{"", -1, "", ""});
      continue;
    }
    for (const json& sp : service_ports) {
      std::optional<int> number = FindPort(*pod, sp);
      if (!number) continue;
      std::string protocol = Str(sp, "protocol");
      record(PortKey{Str(sp, "name"), *number, protocol.empty() ? "TCP" : protocol,
                     Str(sp, "appProtocol")});
    }
  }

  // RepackSubsets: the ports served by exactly the same addresses (with the
  // same readiness) share a subset.
  std::map<std::vector<std::pair<AddrKey, bool>>, std::vector<PortKey>> groups;
  for (const auto& [port, by_addr] : ready_by_port) {
    groups[std::vector<std::pair<AddrKey, bool>>(by_addr.begin(), by_addr.end())].push_back(port);
  }
  json subsets = json::array();
  for (const auto& [members, ports] : groups) {
    json ready = json::array();
    json not_ready = json::array();
    for (const auto& [key, is_ready] : members) {
      (is_ready ? ready : not_ready).push_back(addresses.at(key));
    }
    json endpoint_ports = json::array();
    for (const PortKey& p : ports) {
      if (p.port < 0) continue;
      json port = {{"port", p.port}, {"protocol", p.protocol}};
      if (!p.name.empty()) port["name"] = p.name;
      if (!p.app_protocol.empty()) port["appProtocol"] = p.app_protocol;
      endpoint_ports.push_back(std::move(port));
    }
    json subset = json::object();
    if (!ready.empty()) subset["addresses"] = std::move(ready);
    if (!not_ready.empty()) subset["notReadyAddresses"] = std::move(not_ready);
    if (!endpoint_ports.empty()) subset["ports"] = std::move(endpoint_ports);
    subsets.push_back(std::move(subset));
  }
  return subsets;
}

// The labels Kubernetes gives a Service's Endpoints: the Service's, plus the
// headless marker when it has no cluster IP.
json EndpointsLabels(const json& service) {
  json labels = Member(Member(service, "metadata"), "labels");
  if (!labels.is_object()) labels = json::object();
  std::string ip = PrimaryClusterIp(Member(service, "spec"));
  if (ip.empty() || ip == "None") {
    labels[kHeadlessLabel] = "";
  } else {
    labels.erase(kHeadlessLabel);
  }
  return labels;
}

// Services this controller manages: a selector, and not ExternalName.
bool Managed(const json& service) {
  const json& spec = Member(service, "spec");
  return !StringMap(Member(spec, "selector")).empty() && Str(spec, "type") != "ExternalName";
}

class EndpointsControllerImpl : public EndpointsController {
 public:
  EndpointsControllerImpl(client::Client* client, EndpointsOptions options)
      : client_(client),
        options_(options),
        services_(client, client::kServices, ""),
        pods_(client, client::kPods, ""),
        endpoints_(client, client::kEndpoints, "") {}

  ~EndpointsControllerImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    services_.Stop();
    pods_.Stop();
    endpoints_.Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
  }

  void Run() {
    client::InformerHandler on_service;
    on_service.on_add = [this](const json& s) { ServiceChanged(s, /*deleted=*/false); };
    on_service.on_update = [this](const json&, const json& s) { ServiceChanged(s, false); };
    on_service.on_delete = [this](const json& s) { ServiceChanged(s, /*deleted=*/true); };
    services_.AddHandler(std::move(on_service));

    client::InformerHandler on_pod;
    on_pod.on_add = [this](const json& p) { PodChanged(p, /*deleted=*/false); };
    on_pod.on_update = [this](const json&, const json& p) { PodChanged(p, false); };
    on_pod.on_delete = [this](const json& p) { PodChanged(p, /*deleted=*/true); };
    pods_.AddHandler(std::move(on_pod));

    client::InformerHandler on_endpoints;
    on_endpoints.on_update = [this](const json&, const json& e) { EndpointsChanged(e); };
    on_endpoints.on_delete = [this](const json& e) { EndpointsChanged(e); };
    endpoints_.AddHandler(std::move(on_endpoints));

    services_.Start();
    pods_.Start();
    endpoints_.Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this, first = i == 0] { Work(first); });
    }
  }

 private:
  // Informer handlers: keep the indexes, queue keys.

  void ServiceChanged(const json& service, bool deleted) {
    const json& meta = Member(service, "metadata");
    std::string ns = Str(meta, "namespace");
    std::string name = Str(meta, "name");
    {
      std::lock_guard<std::mutex> lock(mu_);
      Labels selector = StringMap(Member(Member(service, "spec"), "selector"));
      if (deleted || selector.empty()) {
        selectors_[ns].erase(name);
      } else {
        selectors_[ns][name] = std::move(selector);
      }
    }
    queue_.Add(Key(ns, name));
  }

  void PodChanged(const json& pod, bool deleted) {
    PodView view = ViewOf(pod);
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& in_ns = pods_by_ns_[view.ns];
      auto it = in_ns.find(view.name);
      std::shared_ptr<const PodView> old = it != in_ns.end() ? it->second : nullptr;
      if (!deleted && old && *old == view) return;  // nothing Endpoints show changed
      auto services = selectors_.find(view.ns);
      if (services != selectors_.end()) {
        for (const auto& [name, selector] : services->second) {
          if (Selects(selector, view.labels) || (old && Selects(selector, old->labels))) {
            keys.push_back(Key(view.ns, name));
          }
        }
      }
      if (deleted) {
        in_ns.erase(view.name);
        if (in_ns.empty()) pods_by_ns_.erase(view.ns);
      } else {
        std::string name = view.name;
        in_ns[name] = std::make_shared<const PodView>(std::move(view));
      }
    }
    for (const auto& key : keys) queue_.Add(key);
  }

  void EndpointsChanged(const json& endpoints) {
    std::string key = client::Informer::KeyOf(endpoints);
    auto service = services_.Get(key);
    if (service && Managed(*service)) queue_.Add(key);
  }

  // Workers.

  void Work(bool first) {
    // A partial view would write partial Endpoints: wait for every cache.
    for (client::Informer* inf : {&services_, &pods_, &endpoints_}) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
    }
    if (first) QueueLeftovers();
    queue_.Process("endpoints", [this](const std::string& key) { return Reconcile(key); });
  }

  // Endpoints whose Service went away while nobody watched.
  void QueueLeftovers() {
    for (const json& ep : endpoints_.List()) {
      if (Member(Member(Member(ep, "metadata"), "annotations"), kLeaderAnnotation).is_string()) {
        continue;
      }
      std::string key = client::Informer::KeyOf(ep);
      if (!services_.Get(key)) queue_.Add(key);
    }
  }

  Status Reconcile(const std::string& key) {
    size_t slash = key.find('/');
    std::string ns = key.substr(0, slash);
    std::string name = key.substr(slash + 1);
    auto service = services_.Get(key);
    if (!service) {
      Status st = client_->Delete(client::kEndpoints, ns, name);
      if (!st.ok() && st.code() != Code::kNotFound) return st;
      return Status::Ok();
    }
    if (!Managed(*service)) return Status::Ok();
    Labels selector = StringMap(Member(Member(*service, "spec"), "selector"));
    std::vector<std::shared_ptr<const PodView>> matching;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto in_ns = pods_by_ns_.find(ns);
      if (in_ns != pods_by_ns_.end()) {
        for (const auto& [pod_name, pod] : in_ns->second) {
          if (Selects(selector, pod->labels)) matching.push_back(pod);
        }
      }
    }
    std::vector<const PodView*> pods;
    pods.reserve(matching.size());
    for (const auto& p : matching) pods.push_back(p.get());
    json subsets = ComputeSubsets(*service, pods);
    json labels = EndpointsLabels(*service);

    auto current = endpoints_.Get(key);
    if (!current) {
      json endpoints = {{"apiVersion", "v1"},
                        {"kind", "Endpoints"},
                        {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}}};
      if (!subsets.empty()) endpoints["subsets"] = subsets;
      return client_->Create(client::kEndpoints, ns, endpoints).status();
    }
    json current_subsets = Member(*current, "subsets");
    if (current_subsets.is_null()) current_subsets = json::array();
    json current_labels = Member(Member(*current, "metadata"), "labels");
    if (current_labels.is_null()) current_labels = json::object();
    if (current_subsets == subsets && current_labels == labels) return Status::Ok();
    json next = *current;
    next["metadata"]["labels"] = labels;
    if (subsets.empty()) {
      next.erase("subsets");
    } else {
      next["subsets"] = subsets;
    }
    return client_->Update(client::kEndpoints, ns, next).status();
  }

  client::Client* client_;
  EndpointsOptions options_;
  client::Informer services_;
  client::Informer pods_;
  client::Informer endpoints_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ = false;                                           // guarded by mu_
  std::map<std::string, std::map<std::string, Labels>> selectors_;  // guarded by mu_: ns → svc
  // guarded by mu_: ns → pod name → view (shared, so Reconcile reads them unlocked)
  std::map<std::string, std::map<std::string, std::shared_ptr<const PodView>>> pods_by_ns_;
};

}  // namespace

json DesiredSubsets(const json& service, const std::vector<json>& pods) {
  std::vector<PodView> views;
  views.reserve(pods.size());
  for (const json& p : pods) views.push_back(ViewOf(p));
  std::vector<const PodView*> ptrs;
  for (const PodView& v : views) ptrs.push_back(&v);
  return ComputeSubsets(service, ptrs);
}

StatusOr<std::unique_ptr<EndpointsController>> EndpointsController::Start(
    client::Client* client, EndpointsOptions options) {
  if (client == nullptr) return BadRequest("the endpoints controller needs a client");
  auto controller = std::make_unique<EndpointsControllerImpl>(client, options);
  controller->Run();
  return std::unique_ptr<EndpointsController>(std::move(controller));
}

}  // namespace kennel::controllers
