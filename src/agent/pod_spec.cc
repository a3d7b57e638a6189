#include "agent/pod_spec.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "agent/internal/json_fields.h"
#include "api/quantity.h"
#include "base/base64.h"

namespace kennel::agent {
namespace {

using internal::Field;
using internal::Str;

bool Optional(const json& ref) {
  const json& v = Field(ref, "optional");
  return v.is_boolean() && v.get<bool>();
}

// Kubernetes' C_IDENTIFIER-ish rule for env names coming from envFrom: keys
// that are not valid names are skipped (and reported as an event there).
bool ValidEnvName(const std::string& name) {
  if (name.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

void SetEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  std::string prefix = name + "=";
  for (auto& e : env) {
    if (e.compare(0, prefix.size(), prefix) == 0) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

StatusOr<std::optional<std::string>> EnvValueFrom(const json& pod, const json& from,
                                                  const PodRuntimeFacts& facts,
                                                  const ObjectGetter& get) {
  const std::string ns = Str(Field(pod, "metadata"), "namespace");
  if (const json& f = Field(from, "fieldRef"); f.is_object()) {
    ASSIGN_OR_RETURN(std::string v, FieldRefValue(pod, Str(f, "fieldPath"), facts));
    return std::optional<std::string>(v);
  }
  for (const char* kind : {"configMapKeyRef", "secretKeyRef"}) {
    const json& ref = Field(from, kind);
    if (!ref.is_object()) continue;
    std::string k = std::string(kind) == "configMapKeyRef" ? "ConfigMap" : "Secret";
    ASSIGN_OR_RETURN(auto values, ReferencedData(k, ns, Str(ref, "name"), Optional(ref),
                                                 /*with_binary=*/false, get));
    if (!values) return std::optional<std::string>();
    auto it = values->find(Str(ref, "key"));
    if (it == values->end()) {
      if (Optional(ref)) return std::optional<std::string>();
      return NotFound("couldn't find key " + Str(ref, "key") + " in " + k + " " + ns + "/" +
                      Str(ref, "name"));
    }
    return std::optional<std::string>(it->second);
  }
  if (const json& r = Field(from, "resourceFieldRef"); r.is_object()) {
    // The container's own limits; Kubernetes falls back to node allocatable.
    return std::optional<std::string>("0");
  }
  return BadRequest("env valueFrom has no source");
}

}  // namespace

StatusOr<std::optional<std::map<std::string, std::string>>> ReferencedData(
    const std::string& kind, const std::string& ns, const std::string& name, bool optional,
    bool with_binary, const ObjectGetter& get) {
  using Values = std::map<std::string, std::string>;
  auto obj = get(kind, ns, name);
  if (!obj.ok()) {
    if (obj.status().code() != Code::kNotFound) return obj.status();
    if (optional) return std::optional<Values>();
    return NotFound((kind == "Secret" ? "secret \"" : "configmap \"") + name + "\" not found");
  }
  Values values;
  for (const char* field : {"data", "binaryData"}) {
    const bool binary = std::string(field) == "binaryData";
    if (binary && !with_binary) continue;
    const json& data = Field(*obj, field);
    if (!data.is_object()) continue;
    for (auto it = data.begin(); it != data.end(); ++it) {
      if (!it->is_string()) continue;
      if (kind == "Secret" || binary) {
        // stringData never reaches storage: a Secret's values are base64.
        ASSIGN_OR_RETURN(values[it.key()], Base64Decode(it->get<std::string>()));
      } else {
        values[it.key()] = it->get<std::string>();
      }
    }
  }
  return std::optional<Values>(std::move(values));
}

std::string ExpandVars(const std::string& in, const std::vector<std::string>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    size_t close = in[i + 1] == '(' ? in.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out.push_back(in[i]);
      continue;
    }
    std::string name = in.substr(i + 2, close - i - 2);
    std::string prefix = name + "=";
    auto it = std::find_if(env.rbegin(), env.rend(), [&](const std::string& e) {
      return e.compare(0, prefix.size(), prefix) == 0;
    });
    if (it == env.rend()) {
      out.append(in, i, close - i + 1);  // unknown: left as written
    } else {
      out.append(it->substr(prefix.size()));
    }
    i = close;
  }
  return out;
}

StatusOr<std::string> FieldRefValue(const json& pod, const std::string& path,
                                    const PodRuntimeFacts& facts) {
  const json& meta = Field(pod, "metadata");
  if (path == "metadata.name") return Str(meta, "name");
  if (path == "metadata.namespace") return Str(meta, "namespace");
  if (path == "metadata.uid") return Str(meta, "uid");
  if (path == "spec.nodeName") return facts.node_name;
  if (path == "spec.serviceAccountName") {
    std::string sa = Str(Field(pod, "spec"), "serviceAccountName");
    return sa.empty() ? std::string("default") : sa;
  }
  if (path == "status.podIP") return facts.pod_ip;
  if (path == "status.hostIP") return facts.host_ip;
  for (const char* map : {"labels", "annotations"}) {
    std::string prefix = std::string("metadata.") + map + "['";
    if (path.compare(0, prefix.size(), prefix) == 0 && path.size() > prefix.size() + 2 &&
        path.compare(path.size() - 2, 2, "']") == 0) {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return Str(Field(meta, map), key.c_str());
    }
  }
  return BadRequest("unsupported fieldRef fieldPath \"" + path + "\"");
}

StatusOr<std::vector<std::string>> ResolveEnv(const json& pod, const json& container,
                                              const PodRuntimeFacts& facts,
                                              const ObjectGetter& get) {
  const std::string ns = Str(Field(pod, "metadata"), "namespace");
  std::vector<std::string> env;
  const json& env_from = Field(container, "envFrom");
  if (env_from.is_array()) {
    for (const json& src : env_from) {
      std::string prefix = Str(src, "prefix");
      for (const char* kind : {"configMapRef", "secretRef"}) {
        const json& ref = Field(src, kind);
        if (!ref.is_object()) continue;
        std::string k = std::string(kind) == "configMapRef" ? "ConfigMap" : "Secret";
        ASSIGN_OR_RETURN(auto values, ReferencedData(k, ns, Str(ref, "name"), Optional(ref),
                                                     /*with_binary=*/false, get));
        if (!values) continue;
        for (const auto& [key, value] : *values) {
          if (ValidEnvName(prefix + key)) SetEnv(env, prefix + key, value);
        }
      }
    }
  }
  const json& list = Field(container, "env");
  if (list.is_array()) {
    for (const json& e : list) {
      std::string name = Str(e, "name");
      if (name.empty()) continue;
      if (const json& from = Field(e, "valueFrom"); from.is_object()) {
        ASSIGN_OR_RETURN(auto value, EnvValueFrom(pod, from, facts, get));
        if (value) SetEnv(env, name, *value);
        continue;
      }
      SetEnv(env, name, ExpandVars(Str(e, "value"), env));
    }
  }
  return env;
}

std::vector<std::string> ContainerArgv(const json& container, const std::vector<std::string>& env) {
  std::vector<std::string> argv;
  for (const char* part : {"command", "args"}) {
    const json& list = Field(container, part);
    if (!list.is_array()) continue;
    for (const json& a : list) {
      if (a.is_string()) argv.push_back(ExpandVars(a.get<std::string>(), env));
    }
  }
  return argv;
}

std::string PodHostname(const json& pod) {
  std::string host = Str(Field(pod, "spec"), "hostname");
  if (host.empty()) host = Str(Field(pod, "metadata"), "name");
  if (host.size() > 63) host.resize(63);
  while (!host.empty() && (host.back() == '-' || host.back() == '.')) host.pop_back();
  return host;
}

std::string HostsFile(const json& pod, const std::string& pod_ip, const std::string& domain) {
  std::ostringstream out;
  out << "# Kubernetes-managed hosts file (Kennel).\n"
      << "127.0.0.1\tlocalhost\n"
      << "::1\tlocalhost ip6-localhost ip6-loopback\n"
      << "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
      << "fe00::2\tip6-allrouters\n";
  const json& spec = Field(pod, "spec");
  std::string host = PodHostname(pod);
  std::string subdomain = Str(spec, "subdomain");
  if (!pod_ip.empty()) {
    out << pod_ip << '\t';
    if (!subdomain.empty()) {
      out << host << '.' << subdomain << '.' << Str(Field(pod, "metadata"), "namespace") << ".svc."
          << domain << '\t';
    }
    out << host << '\n';
  }
  const json& aliases = Field(spec, "hostAliases");
  if (aliases.is_array()) {
    out << "\n# Entries added by HostAliases.\n";
    for (const json& a : aliases) {
      out << Str(a, "ip");
      const json& names = Field(a, "hostnames");
      if (names.is_array()) {
        for (const json& n : names) {
          if (n.is_string()) out << '\t' << n.get<std::string>();
        }
      }
      out << '\n';
    }
  }
  return out.str();
}

std::string ResolvConf(const json& pod, const ClusterDns& dns, const std::string& host_resolv) {
  const json& spec = Field(pod, "spec");
  std::string policy = Str(spec, "dnsPolicy");
  if (policy.empty()) policy = "ClusterFirst";
  // hostNetwork pods with plain ClusterFirst use the host's settings.
  const json& host_net = Field(spec, "hostNetwork");
  if (policy == "ClusterFirst" && host_net.is_boolean() && host_net.get<bool>()) policy = "Default";
  // Without a cluster DNS server yet, ClusterFirst behaves as Default.
  if ((policy == "ClusterFirst" || policy == "ClusterFirstWithHostNet") && dns.server_ip.empty()) {
    policy = "Default";
  }

  std::vector<std::string> servers, searches, options;
  auto add_unique = [](std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  if (policy == "Default") {
    std::istringstream in(host_resolv);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string key, word;
      words >> key;
      if (key == "nameserver") {
        if (words >> word) add_unique(servers, word);
      } else if (key == "search" || key == "domain") {
        while (words >> word) add_unique(searches, word);
      } else if (key == "options") {
        while (words >> word) add_unique(options, word);
      }
    }
  } else if (policy != "None") {
    const std::string ns = Str(Field(pod, "metadata"), "namespace");
    servers.push_back(dns.server_ip);
    searches = {ns + ".svc." + dns.domain, "svc." + dns.domain, dns.domain};
    options.push_back("ndots:5");
  }
  const json& config = Field(spec, "dnsConfig");
  if (config.is_object()) {
    for (const char* key : {"nameservers", "searches"}) {
      const json& list = Field(config, key);
      if (!list.is_array()) continue;
      for (const json& v : list) {
        if (v.is_string()) add_unique(key[0] == 'n' ? servers : searches, v.get<std::string>());
      }
    }
    const json& opts = Field(config, "options");
    if (opts.is_array()) {
      for (const json& o : opts) {
        std::string name = Str(o, "name");
        std::string value = Str(o, "value");
        if (name.empty()) continue;
        // A pod's option replaces the same-named one (ndots:5 → ndots:2).
        std::erase_if(options, [&](const std::string& e) {
          return e == name || e.compare(0, name.size() + 1, name + ":") == 0;
        });
        options.push_back(value.empty() ? name : name + ":" + value);
      }
    }
  }
  std::ostringstream out;
  if (!searches.empty()) {
    out << "search";
    for (const auto& s : searches) out << ' ' << s;
    out << '\n';
  }
  for (const auto& s : servers) out << "nameserver " << s << '\n';
  if (!options.empty()) {
    out << "options";
    for (const auto& o : options) out << ' ' << o;
    out << '\n';
  }
  return out.str();
}

int64_t ResourceMilliCpu(const json& container, const char* which) {
  std::string q = Str(Field(Field(container, "resources"), which), "cpu");
  if (q.empty()) return 0;
  auto v = api::ParseQuantityMilli(q);
  return v.ok() ? *v : 0;
}

int64_t ResourceMemoryBytes(const json& container, const char* which) {
  std::string q = Str(Field(Field(container, "resources"), which), "memory");
  if (q.empty()) return 0;
  auto v = api::ParseQuantity(q);
  return v.ok() ? *v : 0;
}

}  // namespace kennel::agent
