#include "proxy/ruleset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "proxy/proxy.h"

namespace kennel::proxy {
namespace {

using nlohmann::json;

json Service(const std::string& name, const std::string& cluster_ip, json ports,
             const std::string& type = "ClusterIP") {
  return {{"metadata", {{"namespace", "default"}, {"name", name}}},
          {"spec", {{"type", type}, {"clusterIP", cluster_ip}, {"ports", std::move(ports)}}}};
}

json Endpoints(const std::string& name, json subsets) {
  return {{"metadata", {{"namespace", "default"}, {"name", name}}},
          {"subsets", std::move(subsets)}};
}

TEST(ResolveServicePorts, MatchesEndpointPortsByNameAndProtocol) {
  auto svc = Service("web", "10.96.0.20",
                     json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}},
                                  {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}}}));
  auto ep = Endpoints(
      "web",
      json::array(
          {{{"addresses", json::array({{{"ip", "10.244.0.6"}}, {{"ip", "10.244.0.5"}}})},
            {"notReadyAddresses", json::array({{{"ip", "10.244.0.9"}}})},
            {"ports", json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}},
                                   {{"name", "dns"}, {"port", 5353}, {"protocol", "UDP"}}})}}}));
  auto ports = ResolveServicePorts({svc}, {ep});
  ASSERT_EQ(ports.size(), 2u);
  // Sorted by port: dns (53) first.
  EXPECT_EQ(ports[0].protocol, "udp");
  EXPECT_EQ(ports[0].backends, (std::vector<Backend>{{"10.244.0.5", 5353}, {"10.244.0.6", 5353}}));
  EXPECT_EQ(ports[1].protocol, "tcp");
  EXPECT_EQ(ports[1].port, 80);
  // Not-ready addresses never receive traffic.
  EXPECT_EQ(ports[1].backends, (std::vector<Backend>{{"10.244.0.5", 8080}, {"10.244.0.6", 8080}}));
}

TEST(ResolveServicePorts, SkipsHeadlessExternalNameAndKeepsEmptyServices) {
  auto headless = Service("db", "None", json::array({{{"port", 5432}}}));
  auto external = Service("ext", "", json::array({{{"port", 80}}}), "ExternalName");
  auto empty = Service("empty", "10.96.0.30", json::array({{{"port", 80}}}));
  auto ports = ResolveServicePorts({headless, external, empty}, {});
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].service, "default/empty");
  EXPECT_EQ(ports[0].protocol, "tcp");  // the default protocol
  EXPECT_TRUE(ports[0].backends.empty());
}

TEST(ResolveServicePorts, NodePortOnlyForNodePortTypes) {
  auto np =
      Service("np", "10.96.0.40", json::array({{{"port", 80}, {"nodePort", 30080}}}), "NodePort");
  auto cip = Service("cip", "10.96.0.41", json::array({{{"port", 80}, {"nodePort", 30081}}}));
  auto ports = ResolveServicePorts({np, cip}, {});
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].service, "default/cip");
  EXPECT_EQ(ports[0].node_port, 0);
  EXPECT_EQ(ports[1].node_port, 30080);
}

TEST(BuildRuleset, BalancesAcrossBackendsAndRejectsWithoutEndpoints) {
  std::vector<ServicePort> ports = {
      {"default/web",
       "http",
       "tcp",
       "10.96.0.20",
       80,
       30080,
       {{"10.244.0.5", 8080}, {"10.244.0.6", 8080}}},
      {"default/one", "", "udp", "10.96.0.21", 53, 0, {{"10.244.0.7", 5353}}},
      {"default/none", "", "tcp", "10.96.0.22", 80, 30090, {}},
  };
  std::string script = BuildRuleset(ports, {"kennel_proxy_t", "10.244.0.0/24"});
  // Replaced as a whole, in one transaction.
  EXPECT_EQ(script.rfind("table ip kennel_proxy_t {}\ndelete table ip kennel_proxy_t\n", 0), 0u);
  EXPECT_NE(script.find("10.96.0.20 . tcp . 80 : goto svc_0"), std::string::npos) << script;
  EXPECT_NE(script.find("tcp . 30080 : goto svc_0"), std::string::npos);
  EXPECT_NE(script.find("meta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.244.0.5 . 8080, "
                        "1 : 10.244.0.6 . 8080 }"),
            std::string::npos);
  EXPECT_NE(script.find("10.96.0.21 . udp . 53 : goto svc_1"), std::string::npos);
  EXPECT_NE(script.find("meta l4proto udp dnat to 10.244.0.7:5353"), std::string::npos);
  // No endpoint: no DNAT chain, a reject instead.
  EXPECT_EQ(script.find("svc_2"), std::string::npos);
  EXPECT_NE(script.find("elements = { 10.96.0.22 . tcp . 80 }"), std::string::npos);
  EXPECT_NE(script.find("elements = { tcp . 30090 }"), std::string::npos);
  EXPECT_NE(script.find("ip saddr 10.244.0.0/24 masquerade"), std::string::npos);
}

TEST(BuildRuleset, EmptySetsHaveNoElementsLine) {
  std::string script = BuildRuleset({}, {"kennel_proxy_t", ""});
  EXPECT_EQ(script.find("elements"), std::string::npos) << script;
  EXPECT_EQ(script.find("masquerade"), std::string::npos);
}

TEST(TableForBridge, KeepsIdentifiersValid) {
  EXPECT_EQ(TableForBridge("kennel0"), "kennel_proxy_kennel0");
  EXPECT_EQ(TableForBridge("br-test.1"), "kennel_proxy_br_test_1");
}

// The kernel accepts what BuildRuleset writes: loaded for real into a table
// of its own, then removed. Needs root and nft.
TEST(BuildRuleset, NftAcceptsTheScript) {
  if (geteuid() != 0) GTEST_SKIP() << "nft needs root";
  if (std::system("command -v nft >/dev/null 2>&1") != 0) GTEST_SKIP() << "nft not installed";
  std::vector<ServicePort> ports = {
      {"default/web",
       "http",
       "tcp",
       "10.96.0.20",
       80,
       30080,
       {{"10.244.0.5", 8080}, {"10.244.0.6", 8080}}},
      {"default/one", "", "udp", "10.96.0.21", 53, 0, {{"10.244.0.7", 5353}}},
      {"default/sctp", "", "sctp", "10.96.0.23", 99, 0, {{"10.244.0.8", 99}}},
      {"default/none", "", "tcp", "10.96.0.22", 80, 30090, {}},
  };
  std::string script = BuildRuleset(ports, {"kennel_proxy_check", "10.244.0.0/24"});
  EXPECT_TRUE(ApplyNftScript("nft", "list tables\n").ok());
  Status st = ApplyNftScript("nft", script);
  EXPECT_TRUE(st.ok()) << st.message() << "\n" << script;
  EXPECT_TRUE(ApplyNftScript("nft", DeleteTableScript("kennel_proxy_check")).ok());
  Status bad = ApplyNftScript("nft", "table ip kennel_proxy_check { chain c { nonsense } }\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("nonsense"), std::string::npos) << bad.message();
}

TEST(ApplyNftScript, MissingCommandSaysWhatToInstall) {
  Status st = ApplyNftScript("/nonexistent/nft", "list tables\n");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nftables"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kennel::proxy
