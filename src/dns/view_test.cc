#include "dns/view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kennel::dns {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

json Service(const std::string& name, json spec, const std::string& ns = "default") {
  return {{"metadata", {{"name", name}, {"namespace", ns}}}, {"spec", std::move(spec)}};
}

json Endpoints(const std::string& name, json subsets, const std::string& ns = "default") {
  return {{"metadata", {{"name", name}, {"namespace", ns}}}, {"subsets", std::move(subsets)}};
}

json Pod(const std::string& name, const std::string& ip, const std::string& ns = "default",
         const std::string& phase = "Running") {
  return {{"metadata", {{"name", name}, {"namespace", ns}}},
          {"status", {{"phase", phase}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}}}};
}

class DnsViewTest : public ::testing::Test {
 protected:
  void AddService(const json& svc) {
    auto info = ServiceFromJson(svc);
    ASSERT_TRUE(info);
    state_.services[info->ns + "/" + info->name] = *info;
  }
  void AddEndpoints(const json& ep) {
    auto info = EndpointsFromJson(ep);
    ASSERT_TRUE(info);
    state_.endpoints[info->ns + "/" + info->name] = *info;
  }
  void AddPod(const json& pod) {
    auto info = PodFromJson(pod);
    ASSERT_TRUE(info);
    state_.pods[info->ns + "/" + info->name] = *info;
  }

  // A typical cluster: a ClusterIP service with two named ports and one
  // unnamed, a headless StatefulSet service with two ready pets and one
  // unready, and an ExternalName.
  void SetUpCluster() {
    AddService(Service("api", {{"type", "ClusterIP"},
                               {"clusterIP", "10.96.0.50"},
                               {"clusterIPs", {"10.96.0.50"}},
                               {"ports",
                                {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}},
                                 {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
                                 {{"port", 9000}}}}}));
    AddService(Service("web", {{"clusterIP", "None"},
                               {"clusterIPs", {"None"}},
                               {"ports", {{{"name", "http"}, {"port", 80}}}}}));
    AddEndpoints(
        Endpoints("web", {{{"addresses",
                            {{{"ip", "10.244.0.5"}, {"hostname", "web-0"}},
                             {{"ip", "10.244.0.6"}, {"hostname", "web-1"}}}},
                           {"notReadyAddresses", {{{"ip", "10.244.0.7"}, {"hostname", "web-2"}}}},
                           {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}}}));
    AddService(Service("db", {{"type", "ExternalName"}, {"externalName", "db.example.com"}}));
    AddPod(Pod("web-0", "10.244.0.5"));
  }

  void Build() {
    auto view = View::Build(options_, state_);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    view_ = *view;
  }

  struct Reply {
    Outcome outcome;
    Message m;
    std::vector<std::string> answer, authority, additional;
    size_t size = 0;
  };

  Reply Ask(const std::string& name, uint16_t type, Transport transport = Transport::kUdp,
            int edns = -1) {
    auto packet = BuildQuery(name, {.id = 42, .qtype = type, .edns_udp_size = edns});
    EXPECT_TRUE(packet.ok());
    return AskPacket(*packet, transport);
  }

  Reply AskPacket(const std::vector<uint8_t>& packet, Transport transport = Transport::kUdp) {
    Reply r;
    std::vector<uint8_t> out(kMaxTcpSize);
    Query q;
    r.outcome = Respond(view_.get(), packet, transport, out, &q);
    if (r.outcome.action != Action::kReply) return r;
    r.size = r.outcome.size;
    EXPECT_LE(r.size, q.MaxResponseSize(transport));
    auto m = DecodeMessage(std::span<const uint8_t>(out.data(), r.outcome.size));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return r;
    r.m = *m;
    for (const auto& rec : m->answer) r.answer.push_back(rec.ToString());
    for (const auto& rec : m->authority) r.authority.push_back(rec.ToString());
    for (const auto& rec : m->additional) {
      if (rec.type != kTypeOPT) r.additional.push_back(rec.ToString());
    }
    return r;
  }

  ViewOptions options_;
  ClusterState state_;
  std::shared_ptr<const View> view_;
};

MATCHER(IsSoa, "") { return arg.find(" IN SOA ns.dns.cluster.local. hostmaster.") != arg.npos; }

TEST_F(DnsViewTest, ClusterIpServiceAnswersItsAddress) {
  SetUpCluster();
  Build();
  Reply r = Ask("api.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(r.m.id, 42);
  EXPECT_EQ(r.m.rcode, kNoError);
  EXPECT_TRUE(r.m.has_flag(kFlagAa));
  EXPECT_TRUE(r.m.has_flag(kFlagQr));
  EXPECT_TRUE(r.m.has_flag(kFlagRd));
  EXPECT_FALSE(r.m.has_flag(kFlagTc));
  EXPECT_THAT(r.answer, ElementsAre("api.default.svc.cluster.local. 5 IN A 10.96.0.50"));
  EXPECT_THAT(r.authority, IsEmpty());
}

TEST_F(DnsViewTest, MatchingIgnoresCaseAndEchoesTheQuestion) {
  SetUpCluster();
  Build();
  Reply r = Ask("API.Default.SVC.Cluster.Local.", kTypeA);
  ASSERT_EQ(r.m.question.size(), 1u);
  EXPECT_EQ(r.m.question[0].name, "API.Default.SVC.Cluster.Local.");
  EXPECT_THAT(r.answer, ElementsAre("API.Default.SVC.Cluster.Local. 5 IN A 10.96.0.50"));
}

TEST_F(DnsViewTest, SrvForNamedPortsPointsAtTheServiceWithItsAddress) {
  SetUpCluster();
  Build();
  Reply r = Ask("_http._tcp.api.default.svc.cluster.local", kTypeSRV);
  EXPECT_THAT(r.answer, ElementsAre("_http._tcp.api.default.svc.cluster.local. 5 IN SRV 0 100 80 "
                                    "api.default.svc.cluster.local."));
  EXPECT_THAT(r.additional, ElementsAre("api.default.svc.cluster.local. 5 IN A 10.96.0.50"));
  r = Ask("_dns._udp.api.default.svc.cluster.local", kTypeSRV);
  EXPECT_THAT(r.answer, ElementsAre("_dns._udp.api.default.svc.cluster.local. 5 IN SRV 0 100 53 "
                                    "api.default.svc.cluster.local."));
  // The port is TCP only; the unnamed port has no record.
  EXPECT_EQ(Ask("_http._udp.api.default.svc.cluster.local", kTypeSRV).m.rcode, kNxDomain);
  // _tcp.<svc> exists as a prefix: NODATA.
  r = Ask("_tcp.api.default.svc.cluster.local", kTypeSRV);
  EXPECT_EQ(r.m.rcode, kNoError);
  EXPECT_THAT(r.answer, IsEmpty());
}

TEST_F(DnsViewTest, HeadlessServiceAnswersReadyEndpointsOnly) {
  SetUpCluster();
  Build();
  Reply r = Ask("web.default.svc.cluster.local", kTypeA);
  EXPECT_THAT(r.answer, UnorderedElementsAre("web.default.svc.cluster.local. 5 IN A 10.244.0.5",
                                             "web.default.svc.cluster.local. 5 IN A 10.244.0.6"));
  r = Ask("web-0.web.default.svc.cluster.local", kTypeA);
  EXPECT_THAT(r.answer, ElementsAre("web-0.web.default.svc.cluster.local. 5 IN A 10.244.0.5"));
  EXPECT_EQ(Ask("web-2.web.default.svc.cluster.local", kTypeA).m.rcode, kNxDomain);
}

TEST_F(DnsViewTest, HeadlessSrvNamesEachPetWithTheEndpointPort) {
  SetUpCluster();
  Build();
  Reply r = Ask("_http._tcp.web.default.svc.cluster.local", kTypeSRV);
  EXPECT_THAT(r.answer,
              UnorderedElementsAre("_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 50 8080 "
                                   "web-0.web.default.svc.cluster.local.",
                                   "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 50 8080 "
                                   "web-1.web.default.svc.cluster.local."));
  EXPECT_THAT(r.additional,
              UnorderedElementsAre("web-0.web.default.svc.cluster.local. 5 IN A 10.244.0.5",
                                   "web-1.web.default.svc.cluster.local. 5 IN A 10.244.0.6"));
}

TEST_F(DnsViewTest, PublishNotReadyAddressesIncludesUnreadyOnes) {
  AddService(Service("peers", {{"clusterIP", "None"}, {"publishNotReadyAddresses", true}}));
  AddEndpoints(Endpoints("peers", {{{"addresses", {{{"ip", "10.244.1.2"}}}},
                                    {"notReadyAddresses", {{{"ip", "10.244.1.3"}}}},
                                    {"ports", {{{"name", "peer"}, {"port", 7000}}}}}}));
  Build();
  Reply r = Ask("peers.default.svc.cluster.local", kTypeA);
  EXPECT_THAT(r.answer, UnorderedElementsAre("peers.default.svc.cluster.local. 5 IN A 10.244.1.2",
                                             "peers.default.svc.cluster.local. 5 IN A 10.244.1.3"));
  // Without hostnames, targets are named after the IP, and resolve.
  r = Ask("_peer._tcp.peers.default.svc.cluster.local", kTypeSRV);
  EXPECT_THAT(r.answer,
              UnorderedElementsAre("_peer._tcp.peers.default.svc.cluster.local. 5 IN SRV 0 50 7000 "
                                   "10-244-1-2.peers.default.svc.cluster.local.",
                                   "_peer._tcp.peers.default.svc.cluster.local. 5 IN SRV 0 50 7000 "
                                   "10-244-1-3.peers.default.svc.cluster.local."));
  r = Ask("10-244-1-3.peers.default.svc.cluster.local", kTypeA);
  EXPECT_THAT(r.answer,
              ElementsAre("10-244-1-3.peers.default.svc.cluster.local. 5 IN A 10.244.1.3"));
}

TEST_F(DnsViewTest, HeadlessServiceWithoutReadyEndpointsDoesNotExist) {
  AddService(Service("idle", {{"clusterIP", "None"}}));
  AddEndpoints(Endpoints("idle", {{{"notReadyAddresses", {{{"ip", "10.244.1.9"}}}}}}));
  AddService(Service("bare", {{"clusterIP", "None"}}));  // no Endpoints object at all
  Build();
  Reply r = Ask("idle.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(r.m.rcode, kNxDomain);
  EXPECT_THAT(r.authority, ElementsAre(IsSoa()));
  EXPECT_EQ(Ask("bare.default.svc.cluster.local", kTypeA).m.rcode, kNxDomain);
}

TEST_F(DnsViewTest, ExternalNameIsACnameForEveryType) {
  SetUpCluster();
  Build();
  for (uint16_t type : {kTypeA, kTypeAAAA, kTypeCNAME, kTypeSRV}) {
    Reply r = Ask("db.default.svc.cluster.local", type);
    EXPECT_EQ(r.m.rcode, kNoError);
    EXPECT_THAT(r.answer, ElementsAre("db.default.svc.cluster.local. 5 IN CNAME db.example.com."))
        << TypeName(type);
  }
}

TEST_F(DnsViewTest, PtrRecordsForClusterAndEndpointIps) {
  SetUpCluster();
  AddService(Service("v6", {{"clusterIPs", {"fd00::10"}}}));
  Build();
  EXPECT_THAT(Ask("50.0.96.10.in-addr.arpa", kTypePTR).answer,
              ElementsAre("50.0.96.10.in-addr.arpa. 5 IN PTR api.default.svc.cluster.local."));
  EXPECT_THAT(
      Ask("6.0.244.10.in-addr.arpa", kTypePTR).answer,
      ElementsAre("6.0.244.10.in-addr.arpa. 5 IN PTR web-1.web.default.svc.cluster.local."));
  std::string v6 = ReverseName("fd00::10");
  EXPECT_EQ(v6, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
  EXPECT_THAT(Ask(v6, kTypePTR).answer,
              ElementsAre(v6 + ". 5 IN PTR v6.default.svc.cluster.local."));
  EXPECT_THAT(Ask("v6.default.svc.cluster.local", kTypeAAAA).answer,
              ElementsAre("v6.default.svc.cluster.local. 5 IN AAAA fd00::10"));
  // A reverse name we know, asked for another type: NODATA under in-addr.arpa's SOA.
  Reply r = Ask("50.0.96.10.in-addr.arpa", kTypeA);
  EXPECT_EQ(r.m.rcode, kNoError);
  EXPECT_THAT(r.answer, IsEmpty());
  ASSERT_EQ(r.authority.size(), 1u);
  EXPECT_EQ(r.authority[0].rfind("in-addr.arpa. 5 IN SOA ns.dns.cluster.local. ", 0), 0u)
      << r.authority[0];
}

TEST_F(DnsViewTest, PodRecordsOnlyForPodsOfThatNamespace) {
  SetUpCluster();
  Build();
  EXPECT_THAT(Ask("10-244-0-5.default.pod.cluster.local", kTypeA).answer,
              ElementsAre("10-244-0-5.default.pod.cluster.local. 5 IN A 10.244.0.5"));
  EXPECT_EQ(Ask("10-244-0-5.other.pod.cluster.local", kTypeA).m.rcode, kNxDomain);
  EXPECT_EQ(Ask("10-244-0-99.default.pod.cluster.local", kTypeA).m.rcode, kNxDomain);
  AddPod(Pod("done", "10.244.0.8", "default", "Succeeded"));
  Build();
  EXPECT_EQ(Ask("10-244-0-8.default.pod.cluster.local", kTypeA).m.rcode, kNxDomain);
}

TEST_F(DnsViewTest, NxdomainAndNodataCarryTheSoa) {
  SetUpCluster();
  Build();
  Reply r = Ask("nope.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(r.m.rcode, kNxDomain);
  EXPECT_TRUE(r.m.has_flag(kFlagAa));
  EXPECT_THAT(r.answer, IsEmpty());
  ASSERT_THAT(r.authority, ElementsAre(IsSoa()));
  EXPECT_EQ(r.authority[0].rfind("cluster.local. 5 IN SOA ", 0), 0u);
  EXPECT_NE(r.authority[0].find(" 7200 1800 86400 5"), std::string::npos) << r.authority[0];
  // Exists with another type.
  r = Ask("api.default.svc.cluster.local", kTypeAAAA);
  EXPECT_EQ(r.m.rcode, kNoError);
  EXPECT_THAT(r.answer, IsEmpty());
  EXPECT_THAT(r.authority, ElementsAre(IsSoa()));
  // Empty non-terminals.
  for (const char* name : {"svc.cluster.local", "default.svc.cluster.local", "pod.cluster.local",
                           "default.pod.cluster.local"}) {
    r = Ask(name, kTypeA);
    EXPECT_EQ(r.m.rcode, kNoError) << name;
    EXPECT_THAT(r.authority, ElementsAre(IsSoa())) << name;
  }
  EXPECT_EQ(Ask("other.svc.cluster.local", kTypeA).m.rcode, kNxDomain);
  EXPECT_EQ(Ask("x.api.default.svc.cluster.local", kTypeA).m.rcode, kNxDomain);
}

TEST_F(DnsViewTest, ApexHasSoaNsAndTheSchemaVersion) {
  options_.nameserver_ips = {"10.244.0.1"};
  Build();
  Reply r = Ask("cluster.local", kTypeSOA);
  ASSERT_THAT(r.answer, ElementsAre(IsSoa()));
  r = Ask("cluster.local", kTypeNS);
  EXPECT_THAT(r.answer, ElementsAre("cluster.local. 5 IN NS ns.dns.cluster.local."));
  EXPECT_THAT(r.additional, ElementsAre("ns.dns.cluster.local. 5 IN A 10.244.0.1"));
  EXPECT_THAT(Ask("dns-version.cluster.local", kTypeTXT).answer,
              ElementsAre("dns-version.cluster.local. 5 IN TXT \"1.1.0\""));
  EXPECT_EQ(Ask("cluster.local", kTypeANY).answer.size(), 2u);
}

TEST_F(DnsViewTest, AnotherClusterDomain) {
  options_.zone = "Kennel.Internal.";
  SetUpCluster();
  Build();
  EXPECT_THAT(Ask("api.default.svc.kennel.internal", kTypeA).answer,
              ElementsAre("api.default.svc.kennel.internal. 5 IN A 10.96.0.50"));
  EXPECT_EQ(Ask("api.default.svc.cluster.local", kTypeA).outcome.action, Action::kReply);
  EXPECT_EQ(Ask("api.default.svc.cluster.local", kTypeA).m.rcode, kServFail);
  options_.zone = "bad..zone";
  EXPECT_FALSE(View::Build(options_, state_).ok());
}

TEST_F(DnsViewTest, LargeAnswersTruncateOverUdpAndFitOverTcp) {
  AddService(Service("big", {{"clusterIP", "None"}, {"ports", {{{"name", "p"}, {"port", 1}}}}}));
  json addresses = json::array();
  for (int i = 0; i < 200; ++i) addresses.push_back({{"ip", "10.1." + std::to_string(i) + ".1"}});
  AddEndpoints(
      Endpoints("big", {{{"addresses", addresses}, {"ports", {{{"name", "p"}, {"port", 1}}}}}}));
  Build();
  Reply r = Ask("big.default.svc.cluster.local", kTypeA);
  EXPECT_TRUE(r.m.has_flag(kFlagTc));
  EXPECT_THAT(r.answer, IsEmpty());
  EXPECT_EQ(r.m.question.size(), 1u);
  // With EDNS0 and a big enough buffer it fits (200 × 16 bytes), with OPT echoed.
  r = Ask("big.default.svc.cluster.local", kTypeA, Transport::kUdp, 4096);
  EXPECT_FALSE(r.m.has_flag(kFlagTc));
  EXPECT_EQ(r.answer.size(), 200u);
  ASSERT_EQ(r.m.additional.size(), 1u);
  EXPECT_EQ(r.m.additional[0].type, kTypeOPT);
  EXPECT_EQ(r.m.additional[0].klass, kMaxUdpSize);
  r = Ask("big.default.svc.cluster.local", kTypeA, Transport::kUdp, 1232);
  EXPECT_TRUE(r.m.has_flag(kFlagTc));
  EXPECT_LE(r.size, 1232u);
  r = Ask("big.default.svc.cluster.local", kTypeA, Transport::kTcp);
  EXPECT_FALSE(r.m.has_flag(kFlagTc));
  EXPECT_EQ(r.answer.size(), 200u);
  // SRV with 200 targets: over TCP answers and additionals all fit.
  r = Ask("_p._tcp.big.default.svc.cluster.local", kTypeSRV, Transport::kTcp);
  EXPECT_EQ(r.answer.size(), 200u);
  EXPECT_EQ(r.additional.size(), 200u);
}

TEST_F(DnsViewTest, AdditionalRecordsAreDroppedBeforeTruncating) {
  AddService(Service("mid", {{"clusterIP", "None"}}));
  json addresses = json::array();
  for (int i = 0; i < 5; ++i) {
    addresses.push_back(
        {{"ip", "10.2.0." + std::to_string(i + 1)},
         {"hostname", "a-rather-long-host-name-for-pet-number-" + std::to_string(i)}});
  }
  AddEndpoints(
      Endpoints("mid", {{{"addresses", addresses}, {"ports", {{{"name", "p"}, {"port", 1}}}}}}));
  Build();
  Reply r = Ask("_p._tcp.mid.default.svc.cluster.local", kTypeSRV);
  EXPECT_FALSE(r.m.has_flag(kFlagTc));
  EXPECT_EQ(r.answer.size(), 5u);
  EXPECT_LT(r.additional.size(), 5u);
  EXPECT_LE(r.size, 512u);
}

TEST_F(DnsViewTest, OutsideTheZoneForwardsOrFails) {
  Build();
  Reply r = Ask("example.com", kTypeA);
  EXPECT_EQ(r.m.rcode, kServFail);
  EXPECT_FALSE(r.m.has_flag(kFlagRa));
  // Unknown reverse names are not ours either.
  EXPECT_EQ(Ask("1.1.1.1.in-addr.arpa", kTypePTR).m.rcode, kServFail);
  options_.forwarding = true;
  Build();
  EXPECT_EQ(Ask("example.com", kTypeA).outcome.action, Action::kForward);
  EXPECT_TRUE(Ask("cluster.local", kTypeSOA).m.has_flag(kFlagRa));
}

TEST_F(DnsViewTest, RespondRefusesWhatItDoesNotServe) {
  Build();
  std::vector<uint8_t> out(512);
  Query q;
  std::vector<uint8_t> garbage = {0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(Respond(view_.get(), garbage, Transport::kUdp, out, &q).action, Action::kDrop);
  garbage.resize(20, 0xFF);
  garbage[2] = 0x01;  // a query, opcode 0, QDCOUNT 1, rest garbage
  Reply r = AskPacket(garbage);
  EXPECT_EQ(r.m.rcode, kFormErr);
  EXPECT_EQ(r.m.id, 0xABCD);
  auto chaos = BuildQuery("version.bind", {.qtype = kTypeTXT, .qclass = 3});
  EXPECT_EQ(AskPacket(*chaos).m.rcode, kRefused);
  EXPECT_EQ(Ask("cluster.local", kTypeAXFR, Transport::kTcp).m.rcode, kRefused);
  EXPECT_EQ(Ask("cluster.local", kTypeOPT).m.rcode, kFormErr);
  auto v1 = BuildQuery("cluster.local", {.edns_udp_size = 1232});
  (*v1)[v1->size() - 5] = 1;  // EDNS version 1
  r = AskPacket(*v1);
  EXPECT_EQ(r.m.rcode, 0);
  ASSERT_EQ(r.m.additional.size(), 1u);
  EXPECT_EQ(r.m.additional[0].ttl >> 24, 1u);  // extended rcode 16 = BADVERS
  // Not synced yet: SERVFAIL.
  auto packet = BuildQuery("api.default.svc.cluster.local", {});
  EXPECT_GT(Respond(nullptr, *packet, Transport::kUdp, out, &q).size, 0u);
  EXPECT_EQ(out[3] & 0xF, kServFail);
}

TEST(DnsDashedIp, NamesAddressesAsLabels) {
  EXPECT_EQ(DashedIp("10.0.0.5"), "10-0-0-5");
  EXPECT_EQ(DashedIp("fd00::1"), "fd00--1");
  EXPECT_EQ(DashedIp("::1"), "0--1");
  EXPECT_EQ(DashedIp("fd00::"), "fd00--0");
  EXPECT_EQ(DashedIp("nope"), "");
  EXPECT_EQ(ReverseName("10.0.0.5"), "5.0.0.10.in-addr.arpa");
  EXPECT_EQ(ReverseName("nope"), "");
}

}  // namespace
}  // namespace kennel::dns
