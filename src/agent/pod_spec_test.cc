#include "agent/pod_spec.h"

#include <gtest/gtest.h>

namespace kennel::agent {
namespace {

json Pod() {
  return json::parse(R"({
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1",
                 "labels": {"app": "web"}, "annotations": {"note": "hi"}},
    "spec": {"nodeName": "n1", "hostname": "web-0", "subdomain": "web",
             "containers": [{"name": "c", "image": "host"}]}
  })");
}

ObjectGetter Objects() {
  return [](const std::string& kind, const std::string& ns,
            const std::string& name) -> StatusOr<json> {
    if (ns != "shop") return NotFound("wrong namespace");
    if (kind == "ConfigMap" && name == "cfg") {
      return json::parse(R"({"data": {"MODE": "fast", "bad key": "x", "LEVEL": "3"}})");
    }
    if (kind == "Secret" && name == "sec") {
      return json::parse(R"({"data": {"PASSWORD": "czNjcjN0"}})");  // "s3cr3t"
    }
    return NotFound(kind + " " + name + " not found");
  };
}

const PodRuntimeFacts kFacts{"10.244.0.7", "192.168.1.5", "n1"};

TEST(ResolveEnvTest, EnvFromThenEnvWithExpansionAndRefs) {
  json c = json::parse(R"json({
    "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
    "env": [
      {"name": "A", "value": "one"},
      {"name": "B", "value": "$(A)-two-$(MISSING)-$$(A)"},
      {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
      {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
      {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
      {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
      {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "PASSWORD"}}},
      {"name": "CFG_MODE", "value": "overridden"}
    ]
})json");
  auto env = ResolveEnv(Pod(), c, kFacts, Objects());
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  std::vector<std::string> want = {
      "CFG_LEVEL=3", "CFG_MODE=overridden", "A=one",   "B=one-two-$(MISSING)-$(A)",
      "NAME=web-0",  "IP=10.244.0.7",       "NODE=n1", "APP=web",
      "PW=s3cr3t"};
  EXPECT_EQ(*env, want);
}

TEST(ResolveEnvTest, MissingSourcesFailUnlessOptional) {
  json missing_cm = json::parse(R"({"env": [{"name": "X", "valueFrom":
      {"configMapKeyRef": {"name": "nope", "key": "k"}}}]})");
  auto env = ResolveEnv(Pod(), missing_cm, kFacts, Objects());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), Code::kNotFound);
  EXPECT_NE(env.status().message().find("configmap \"nope\" not found"), std::string::npos);

  json missing_key = json::parse(R"({"env": [{"name": "X", "valueFrom":
      {"configMapKeyRef": {"name": "cfg", "key": "NOPE"}}}]})");
  EXPECT_EQ(ResolveEnv(Pod(), missing_key, kFacts, Objects()).status().code(), Code::kNotFound);

  json optional = json::parse(R"({"env": [{"name": "X", "valueFrom":
      {"configMapKeyRef": {"name": "nope", "key": "k", "optional": true}}}],
      "envFrom": [{"secretRef": {"name": "nope", "optional": true}}]})");
  auto ok = ResolveEnv(Pod(), optional, kFacts, Objects());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->empty());
}

TEST(ContainerArgvTest, CommandThenArgsExpanded) {
  json c = json::parse(R"json({"command": ["sh", "-c"], "args": ["echo $(GREETING) $HOME"]})json");
  EXPECT_EQ(ContainerArgv(c, {"GREETING=hello"}),
            (std::vector<std::string>{"sh", "-c", "echo hello $HOME"}));
  EXPECT_TRUE(ContainerArgv(json::object(), {}).empty());
}

TEST(PodHostnameTest, HostnameOrName) {
  EXPECT_EQ(PodHostname(Pod()), "web-0");
  json p = Pod();
  p["spec"].erase("hostname");
  p["metadata"]["name"] = "other";
  EXPECT_EQ(PodHostname(p), "other");
}

TEST(HostsFileTest, FqdnWithSubdomainAndAliases) {
  json p = Pod();
  p["spec"]["hostAliases"] =
      json::parse(R"([{"ip": "10.1.2.3", "hostnames": ["db", "db.local"]}])");
  std::string hosts = HostsFile(p, "10.244.0.7", "cluster.local");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("10.244.0.7\tweb-0.web.shop.svc.cluster.local\tweb-0\n"), std::string::npos)
      << hosts;
  EXPECT_NE(hosts.find("10.1.2.3\tdb\tdb.local\n"), std::string::npos) << hosts;
  p["spec"].erase("subdomain");
  EXPECT_NE(HostsFile(p, "10.244.0.7", "cluster.local").find("10.244.0.7\tweb-0\n"),
            std::string::npos);
}

TEST(ResolvConfTest, ClusterFirstDefaultNoneAndDnsConfig) {
  ClusterDns dns{"10.96.0.10", "cluster.local", "/etc/resolv.conf"};
  const std::string host = "search corp.example\nnameserver 192.168.1.1\noptions edns0\n";
  json p = Pod();
  EXPECT_EQ(ResolvConf(p, dns, host),
            "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n");
  p["spec"]["dnsPolicy"] = "Default";
  EXPECT_EQ(ResolvConf(p, dns, host),
            "search corp.example\nnameserver 192.168.1.1\noptions edns0\n");
  p["spec"]["dnsPolicy"] = "None";
  p["spec"]["dnsConfig"] = json::parse(
      R"({"nameservers": ["1.1.1.1"], "searches": ["a.b"], "options": [{"name": "ndots", "value": "2"}]})");
  EXPECT_EQ(ResolvConf(p, dns, host), "search a.b\nnameserver 1.1.1.1\noptions ndots:2\n");
  // dnsConfig merges into ClusterFirst; its ndots replaces the default.
  p["spec"]["dnsPolicy"] = "ClusterFirst";
  EXPECT_EQ(ResolvConf(p, dns, host),
            "search shop.svc.cluster.local svc.cluster.local cluster.local a.b\n"
            "nameserver 10.96.0.10\nnameserver 1.1.1.1\noptions ndots:2\n");
  // No cluster DNS server yet: the host's settings.
  p["spec"].erase("dnsConfig");
  dns.server_ip = "";
  EXPECT_EQ(ResolvConf(p, dns, host),
            "search corp.example\nnameserver 192.168.1.1\noptions edns0\n");
}

TEST(ResourcesTest, LimitsAndRequests) {
  json c = json::parse(
      R"({"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "1"}}})");
  EXPECT_EQ(ResourceMilliCpu(c, "limits"), 500);
  EXPECT_EQ(ResourceMemoryBytes(c, "limits"), 64 << 20);
  EXPECT_EQ(ResourceMilliCpu(c, "requests"), 1000);
  EXPECT_EQ(ResourceMemoryBytes(c, "requests"), 0);
}

}  // namespace
}  // namespace kennel::agent
