// What a pod's spec means on this node, as pure functions of the pod object
// (and of the ConfigMaps and Secrets it refers to): the environment and
// argv of each container, the pod's /etc/hosts and /etc/resolv.conf.
// No I/O here beyond the getter the caller passes, so all of it is unit-tested.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::agent {

using nlohmann::json;

// Fetches an object the pod refers to: kind is "ConfigMap" or "Secret".
using ObjectGetter = std::function<StatusOr<json>(const std::string& kind, const std::string& ns,
                                                  const std::string& name)>;

// The keys of the ConfigMap or Secret (kind) named name in ns, with their
// bytes: a Secret's data decoded from base64; a ConfigMap's data, plus its
// binaryData (decoded) when with_binary — volumes carry binaryData, the
// environment does not. nullopt when it does not exist and optional is set;
// otherwise a missing object is kNotFound `configmap "name" not found`.
StatusOr<std::optional<std::map<std::string, std::string>>> ReferencedData(
    const std::string& kind, const std::string& ns, const std::string& name, bool optional,
    bool with_binary, const ObjectGetter& get);

// The facts about the running pod that env and the downward API expose.
struct PodRuntimeFacts {
  std::string pod_ip;
  std::string host_ip;
  std::string node_name;
};

// The container's environment as "KEY=value", Kubernetes' way: envFrom
// sources first (prefix applied, invalid keys skipped), then env, whose
// values expand $(VAR) references to variables defined before them ($$
// escapes). A missing ConfigMap/Secret or key is an error unless optional.
StatusOr<std::vector<std::string>> ResolveEnv(const json& pod, const json& container,
                                              const PodRuntimeFacts& facts,
                                              const ObjectGetter& get);

// command + args with $(VAR) expanded against env. Empty when the container
// gives no command: the `host` image has no entrypoint to fall back to.
std::vector<std::string> ContainerArgv(const json& container, const std::vector<std::string>& env);

// Expands $(NAME) from env ("K=V" entries); $$ is a literal $; unknown
// references stay as written (as Kubernetes does).
std::string ExpandVars(const std::string& in, const std::vector<std::string>& env);

// The value a downward-API fieldRef names (metadata.name, metadata.namespace,
// metadata.uid, metadata.labels['k'], metadata.annotations['k'],
// spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP).
StatusOr<std::string> FieldRefValue(const json& pod, const std::string& field_path,
                                    const PodRuntimeFacts& facts);

// The pod's hostname: spec.hostname, else the pod name (cut to 63 chars).
std::string PodHostname(const json& pod);

struct ClusterDns {
  std::string server_ip;  // "" = no cluster DNS yet: fall back to the host's
  std::string domain = "cluster.local";
  std::string host_resolv_conf = "/etc/resolv.conf";
};

// /etc/hosts: localhost lines, the pod's own name (FQDN first when
// spec.subdomain is set: <hostname>.<subdomain>.<ns>.svc.<domain>), and
// spec.hostAliases.
std::string HostsFile(const json& pod, const std::string& pod_ip, const std::string& domain);

// /etc/resolv.conf per spec.dnsPolicy: ClusterFirst (the default; the cluster
// DNS server, search <ns>.svc.<domain> svc.<domain> <domain>, ndots:5),
// Default (the host's file), None (spec.dnsConfig only); dnsConfig's
// nameservers, searches and options are merged in as Kubernetes does.
std::string ResolvConf(const json& pod, const ClusterDns& dns, const std::string& host_resolv);

// Millicores / bytes of a container's resources.limits or .requests; 0 when
// unset or unparsable (validation refuses bad quantities before this).
int64_t ResourceMilliCpu(const json& container, const char* which);
int64_t ResourceMemoryBytes(const json& container, const char* which);

}  // namespace kennel::agent
