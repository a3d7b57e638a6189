// The Service allocator on its own, then through the Handler on an embedded
// store: create, update, delete, dry runs, failed writes, concurrent creates
// and restarts.
#include "apiserver/service_ips.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
// clang-format on
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "apiserver/handler.h"
#include "store/embedded.h"
#include "store/forwarding.h"

namespace kennel::apiserver {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using ::testing::HasSubstr;

json Service(const std::string& name, const json& spec_extra = json::object()) {
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"type", "ClusterIP"},
                {"selector", {{"app", name}}},
                {"ports", json::array({{{"port", 80}, {"protocol", "TCP"}}})}}}};
  svc["spec"].update(spec_extra);
  return svc;
}

json NodePortService(const std::string& name, const json& ports) {
  json svc = Service(name, {{"type", "NodePort"}});
  svc["spec"]["ports"] = ports;
  return svc;
}

uint32_t Ip(const std::string& text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text.c_str(), &a), 1) << text;
  return ntohl(a.s_addr);
}

// "s7", "s3-12": built with += (GCC 12 warns falsely on "lit" + std::string).
std::string Name(const char* prefix, int i, int j = -1) {
  std::string out = prefix;
  out += std::to_string(i);
  if (j >= 0) {
    out += "-";
    out += std::to_string(j);
  }
  return out;
}

ServiceCidr Cidr(const std::string& text) { return ServiceCidr::Parse(text).value(); }

TEST(ServiceCidr, ParsesIpv4RangesAndRefusesOthers) {
  ServiceCidr c = Cidr("10.96.0.0/16");
  EXPECT_EQ(c.ToString(), "10.96.0.0/16");
  EXPECT_EQ(c.FirstHost(), "10.96.0.1");
  EXPECT_EQ(Cidr("10.96.7.9/16").ToString(), "10.96.0.0/16");  // host bits ignored
  EXPECT_EQ(Cidr("192.168.4.0/29").FirstHost(), "192.168.4.1");
  for (const char* bad : {"10.96.0.0", "10.0.0.0/8", "10.0.0.0/31", "banana/16", "fd00::/112",
                          "10.96.0.0/", "10.96.0.0/1x"}) {
    EXPECT_EQ(ServiceCidr::Parse(bad).status().code(), Code::kBadRequest) << bad;
  }
  EXPECT_THAT(ServiceCidr::Parse("10.0.0.0/8").status().message(), HasSubstr("too large"));
}

TEST(ServiceAllocator, CreateGivesAFreeAddressInRangeAndFillsBothFields) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    json svc = Service(Name("s", i));
    auto txn = alloc.AllocateCreate(svc);
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    txn->Commit();
    std::string ip = svc["spec"]["clusterIP"];
    EXPECT_EQ(svc["spec"]["clusterIPs"], json::array({ip}));
    uint32_t v = Ip(ip);
    EXPECT_GT(v, Ip("10.96.0.1"));  // neither the network address nor the kubernetes one
    EXPECT_LT(v, Ip("10.96.255.255"));
    EXPECT_TRUE(seen.insert(ip).second) << ip << " given twice";
    EXPECT_TRUE(alloc.IpAllocated(ip));
  }
}

TEST(ServiceAllocator, SmallRangeFillsUpThenSaysRangeIsFull) {
  ServiceAllocator alloc(Cidr("10.0.0.0/28"), 7);  // 14 hosts, .1 kept for kubernetes
  std::set<std::string> seen;
  for (int i = 0; i < 13; ++i) {
    json svc = Service(Name("s", i));
    auto txn = alloc.AllocateCreate(svc);
    ASSERT_TRUE(txn.ok()) << i << ": " << txn.status().ToString();
    txn->Commit();
    seen.insert(svc["spec"]["clusterIP"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), 13u);
  EXPECT_EQ(seen.count("10.0.0.1"), 0u);
  EXPECT_EQ(seen.count("10.0.0.0"), 0u);
  EXPECT_EQ(seen.count("10.0.0.15"), 0u);
  json more = Service("more");
  auto full = alloc.AllocateCreate(more);
  EXPECT_EQ(full.status().code(), Code::kInternal);
  EXPECT_EQ(full.status().message(), "failed to allocate a serviceIP: range is full");
  // The kubernetes address is still there for whoever asks for it.
  json kube = Service("kubernetes", {{"clusterIP", "10.0.0.1"}});
  EXPECT_TRUE(alloc.AllocateCreate(kube).ok());
}

TEST(ServiceAllocator, RequestedAddressIsHonouredOnceAndOnlyInRange) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json a = Service("a", {{"clusterIP", "10.96.0.10"}, {"clusterIPs", {"10.96.0.10"}}});
  auto txn = alloc.AllocateCreate(a);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  txn->Commit();
  EXPECT_EQ(a["spec"]["clusterIP"], "10.96.0.10");

  json b = Service("b", {{"clusterIP", "10.96.0.10"}, {"clusterIPs", {"10.96.0.10"}}});
  auto taken = alloc.AllocateCreate(b);
  EXPECT_EQ(taken.status().code(), Code::kInvalid);
  EXPECT_EQ(taken.status().message(),
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: "
            "failed to allocate IP 10.96.0.10: provided IP is already allocated");
  ASSERT_EQ(taken.status().causes().size(), 1u);
  EXPECT_EQ(taken.status().causes()[0].field, "spec.clusterIPs");
  EXPECT_EQ(taken.status().causes()[0].reason, "FieldValueInvalid");

  for (const char* outside : {"1.2.3.4", "10.96.0.0", "10.96.255.255", "10.97.0.1"}) {
    json c = Service("c", {{"clusterIP", outside}});
    auto out = alloc.AllocateCreate(c);
    EXPECT_EQ(out.status().code(), Code::kInvalid) << outside;
    std::string want = "Service \"c\" is invalid: spec.clusterIPs: Invalid value: []string{\"";
    want += outside;
    want += "\"}: failed to allocate IP ";
    want += outside;
    want += ": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16";
    EXPECT_EQ(out.status().message(), want);
  }
}

TEST(ServiceAllocator, HeadlessAndExternalNameGetNoAddress) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json headless = Service("h", {{"clusterIP", "None"}, {"clusterIPs", {"None"}}});
  auto txn = alloc.AllocateCreate(headless);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(headless["spec"]["clusterIP"], "None");
  json external = Service("e", {{"type", "ExternalName"}, {"externalName", "example.com"}});
  ASSERT_TRUE(alloc.AllocateCreate(external).ok());
  EXPECT_FALSE(external["spec"].contains("clusterIP"));
}

TEST(ServiceAllocator, RevertAndDestructionGiveBackCommitKeeps) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json a = Service("a", {{"clusterIP", "10.96.1.1"}});
  {
    auto txn = alloc.AllocateCreate(a);
    ASSERT_TRUE(txn.ok());
    EXPECT_TRUE(alloc.IpAllocated("10.96.1.1"));
  }  // dropped without Commit: the write failed
  EXPECT_FALSE(alloc.IpAllocated("10.96.1.1"));
  auto txn = alloc.AllocateCreate(a);
  ASSERT_TRUE(txn.ok());
  txn->Revert();
  EXPECT_FALSE(alloc.IpAllocated("10.96.1.1"));
  auto kept = alloc.AllocateCreate(a);
  ASSERT_TRUE(kept.ok());
  kept->Commit();
  EXPECT_TRUE(alloc.IpAllocated("10.96.1.1"));
  alloc.Release(a);
  EXPECT_FALSE(alloc.IpAllocated("10.96.1.1"));
}

TEST(ServiceAllocator, FailedCreateLeavesNothingBehind) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json first = NodePortService("first", {{{"port", 80}, {"nodePort", 30500}}});
  auto kept = alloc.AllocateCreate(first);
  ASSERT_TRUE(kept.ok());
  kept->Commit();
  // Address taken, then the node port refused: the address goes back.
  json second = NodePortService("second", {{{"port", 80}, {"nodePort", 30500}}});
  second["spec"]["clusterIP"] = "10.96.2.2";
  auto refused = alloc.AllocateCreate(second);
  EXPECT_EQ(refused.status().code(), Code::kInvalid);
  EXPECT_EQ(refused.status().message(),
            "Service \"second\" is invalid: spec.ports[0].nodePort: Invalid value: 30500: "
            "provided port is already allocated");
  EXPECT_FALSE(alloc.IpAllocated("10.96.2.2"));
}

TEST(ServiceAllocator, NodePortsComeFromTheRangeAndExplicitOnesAreChecked) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json svc = NodePortService("np", {{{"name", "a"}, {"port", 80}, {"protocol", "TCP"}},
                                    {{"name", "b"}, {"port", 443}, {"nodePort", 30443}},
                                    {{"name", "dns"}, {"port", 53}, {"protocol", "TCP"}},
                                    {{"name", "dns-udp"}, {"port", 53}, {"protocol", "UDP"}}});
  auto txn = alloc.AllocateCreate(svc);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  txn->Commit();
  const json& ports = svc["spec"]["ports"];
  int a = ports[0]["nodePort"];
  EXPECT_GE(a, kNodePortMin);
  EXPECT_LE(a, kNodePortMax);
  EXPECT_EQ(ports[1]["nodePort"], 30443);
  EXPECT_EQ(ports[2]["nodePort"], ports[3]["nodePort"]);  // one node port for TCP and UDP 53
  EXPECT_NE(ports[2]["nodePort"], a);
  EXPECT_TRUE(alloc.NodePortAllocated(30443));
  EXPECT_TRUE(alloc.NodePortAllocated(a));

  json low = NodePortService("low", {{{"port", 80}, {"nodePort", 8080}}});
  auto out = alloc.AllocateCreate(low);
  EXPECT_EQ(out.status().code(), Code::kInvalid);
  EXPECT_EQ(out.status().message(),
            "Service \"low\" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided "
            "port is not in the valid range. The range of valid ports is 30000-32767");

  // A LoadBalancer that opts out gets none, and a ClusterIP never does.
  json lb = Service("lb", {{"type", "LoadBalancer"}, {"allocateLoadBalancerNodePorts", false}});
  ASSERT_TRUE(alloc.AllocateCreate(lb).ok());
  EXPECT_FALSE(lb["spec"]["ports"][0].contains("nodePort"));
  json plain = Service("plain");
  ASSERT_TRUE(alloc.AllocateCreate(plain).ok());
  EXPECT_FALSE(plain["spec"]["ports"][0].contains("nodePort"));

  alloc.Release(svc);
  EXPECT_FALSE(alloc.NodePortAllocated(30443));
  EXPECT_FALSE(alloc.NodePortAllocated(a));
}

TEST(ServiceAllocator, ChangeToExternalNameReleasesTheAddressOnlyOnCommit) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json svc = Service("a", {{"clusterIP", "10.96.3.3"}});
  alloc.AllocateCreate(svc)->Commit();
  json external = svc;
  external["spec"] = {{"type", "ExternalName"}, {"externalName", "example.com"}};
  {
    auto txn = alloc.AllocateUpdate(external, svc);
    ASSERT_TRUE(txn.ok());
  }  // the write failed: the address stays held
  EXPECT_TRUE(alloc.IpAllocated("10.96.3.3"));
  auto txn = alloc.AllocateUpdate(external, svc);
  ASSERT_TRUE(txn.ok());
  txn->Commit();
  EXPECT_FALSE(alloc.IpAllocated("10.96.3.3"));

  // And back: a fresh address.
  json back = Service("a");
  auto again = alloc.AllocateUpdate(back, external);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  again->Commit();
  EXPECT_TRUE(alloc.IpAllocated(back["spec"]["clusterIP"]));
}

TEST(ServiceAllocator, UpdateKeepsHeldNodePortsTakesNewOnesDropsOldOnes) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json svc = NodePortService("np", {{{"name", "a"}, {"port", 80}, {"nodePort", 30080}},
                                    {{"name", "b"}, {"port", 81}, {"nodePort", 30081}}});
  alloc.AllocateCreate(svc)->Commit();
  json next = svc;
  next["spec"]["ports"][1]["nodePort"] = 30082;
  next["spec"]["ports"].push_back({{"name", "c"}, {"port", 82}});
  auto txn = alloc.AllocateUpdate(next, svc);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  EXPECT_TRUE(alloc.NodePortAllocated(30081));  // until the write succeeds
  txn->Commit();
  EXPECT_TRUE(alloc.NodePortAllocated(30080));
  EXPECT_FALSE(alloc.NodePortAllocated(30081));
  EXPECT_TRUE(alloc.NodePortAllocated(30082));
  int c = next["spec"]["ports"][2]["nodePort"];
  EXPECT_TRUE(alloc.NodePortAllocated(c));

  // To ClusterIP: every node port goes.
  json plain = next;
  plain["spec"]["type"] = "ClusterIP";
  for (json& p : plain["spec"]["ports"]) p.erase("nodePort");
  alloc.AllocateUpdate(plain, next)->Commit();
  EXPECT_FALSE(alloc.NodePortAllocated(30080));
  EXPECT_FALSE(alloc.NodePortAllocated(30082));
  EXPECT_FALSE(alloc.NodePortAllocated(c));
}

TEST(ServiceAllocator, RebuildTakesWhatStoredServicesHoldAndReportsConflicts) {
  ServiceAllocator alloc(Cidr("10.96.0.0/16"), 1);
  json a = Service("a", {{"clusterIP", "10.96.0.5"}, {"clusterIPs", {"10.96.0.5"}}});
  json b = NodePortService("b", {{{"port", 80}, {"nodePort", 30000}}});
  b["spec"]["clusterIP"] = "10.96.0.6";
  json dup = Service("dup", {{"clusterIP", "10.96.0.5"}});
  json outside = Service("outside", {{"clusterIP", "10.1.0.5"}});
  json bare = Service("bare");  // stored before addresses were allocated
  auto warnings = alloc.Rebuild({a, b, dup, outside, bare});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("10.96.0.5"));
  EXPECT_THAT(warnings[0], HasSubstr("multiple services"));
  EXPECT_THAT(warnings[1], HasSubstr("not within the service CIDR 10.96.0.0/16"));
  EXPECT_TRUE(alloc.IpAllocated("10.96.0.5"));
  EXPECT_TRUE(alloc.IpAllocated("10.96.0.6"));
  EXPECT_TRUE(alloc.NodePortAllocated(30000));

  // An update of the bare one gives it an address.
  json next = bare;
  auto txn = alloc.AllocateUpdate(next, bare);
  ASSERT_TRUE(txn.ok());
  txn->Commit();
  EXPECT_TRUE(alloc.IpAllocated(next["spec"]["clusterIP"]));

  // A second rebuild starts over.
  alloc.Rebuild({});
  EXPECT_FALSE(alloc.IpAllocated("10.96.0.5"));
  EXPECT_FALSE(alloc.NodePortAllocated(30000));
}

TEST(ServiceAllocator, ConcurrentCreatesNeverShareAnAddress) {
  ServiceAllocator alloc(Cidr("10.0.0.0/24"), 3);  // 253 dynamic addresses
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> seen;
  int failures = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        json svc = Service(Name("s", t, i));
        auto txn = alloc.AllocateCreate(svc);
        std::lock_guard<std::mutex> lock(mu);
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        txn->Commit();
        EXPECT_TRUE(seen.insert(svc["spec"]["clusterIP"].get<std::string>()).second);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 253u);
  EXPECT_EQ(failures, 8 * 40 - 253);
}

TEST(PrepareServiceUpdate, CarriesAllocatedValuesTheClientLeftOut) {
  json current = NodePortService("a", {{{"name", "http"}, {"port", 80}, {"nodePort", 30080}}});
  current["spec"]["clusterIP"] = "10.96.0.9";
  current["spec"]["clusterIPs"] = {"10.96.0.9"};
  json desired = NodePortService("a", {{{"name", "http"}, {"port", 8080}}});
  PrepareServiceUpdate(desired, current);
  EXPECT_EQ(desired["spec"]["clusterIP"], "10.96.0.9");
  EXPECT_EQ(desired["spec"]["clusterIPs"], json::array({"10.96.0.9"}));
  EXPECT_EQ(desired["spec"]["ports"][0]["nodePort"], 30080);
}

TEST(PrepareServiceUpdate, AChangedClusterIpTakesClusterIpsAlong) {
  json current = Service("a", {{"clusterIP", "10.96.0.9"}, {"clusterIPs", {"10.96.0.9"}}});
  json desired = current;
  desired["spec"]["clusterIP"] = "10.96.0.10";
  PrepareServiceUpdate(desired, current);
  EXPECT_EQ(desired["spec"]["clusterIPs"], json::array({"10.96.0.10"}));
}

TEST(PrepareServiceUpdate, ATypeChangeDropsWhatItNoLongerNeeds) {
  json current = NodePortService("a", {{{"port", 80}, {"nodePort", 30080}}});
  current["spec"]["clusterIP"] = "10.96.0.9";
  current["spec"]["clusterIPs"] = {"10.96.0.9"};
  current["spec"]["ipFamilies"] = {"IPv4"};
  current["spec"]["ipFamilyPolicy"] = "SingleStack";
  current["spec"]["externalTrafficPolicy"] = "Cluster";
  json to_cluster_ip = current;
  to_cluster_ip["spec"]["type"] = "ClusterIP";
  PrepareServiceUpdate(to_cluster_ip, current);
  EXPECT_FALSE(to_cluster_ip["spec"]["ports"][0].contains("nodePort"));
  EXPECT_FALSE(to_cluster_ip["spec"].contains("externalTrafficPolicy"));
  EXPECT_EQ(to_cluster_ip["spec"]["clusterIP"], "10.96.0.9");

  json to_external = current;
  to_external["spec"]["type"] = "ExternalName";
  to_external["spec"]["externalName"] = "example.com";
  PrepareServiceUpdate(to_external, current);
  EXPECT_FALSE(to_external["spec"].contains("clusterIP"));
  EXPECT_FALSE(to_external["spec"].contains("clusterIPs"));
  EXPECT_FALSE(to_external["spec"].contains("ipFamilies"));
  EXPECT_FALSE(to_external["spec"].contains("ipFamilyPolicy"));
}

// ---------------------------------------------------------------------------
// Through the Handler.

// Fails the creates of Services whose name starts with "doomed".
class FailingStore : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void Create(std::string key, std::string value, store::WriteCallback done) override {
    if (key.rfind("/registry/services/default/doomed", 0) == 0) {
      done(Status(Code::kUnavailable, "injected failure"));
      return;
    }
    ForwardingStore::Create(std::move(key), std::move(value), std::move(done));
  }
};

class ServiceHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-service-ips-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
    Open("10.96.0.0/16");
  }

  void TearDown() override {
    Close();
    work_.reset();
    for (auto& t : threads_) t.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Open(const std::string& cidr, int api_port = 6443) {
    store::EmbeddedOptions options;
    options.path = dir_ + "/kennel.db";
    options.fsync = false;
    auto opened = store::OpenEmbedded(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    inner_ = std::move(opened).value();
    store_ = std::make_unique<FailingStore>(inner_.get());
    HandlerOptions hopts;
    hopts.server_address = "127.0.0.1:" + std::to_string(api_port);
    hopts.service_cidr = cidr;
    handler_ = std::make_unique<Handler>(store_.get(), hopts);
    Status st = handler_->Bootstrap();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void Close() {
    handler_.reset();
    store_.reset();
    inner_.reset();
  }

  std::future<ApiResponse> Start(const std::string& method, const std::string& path,
                                 const std::string& body = "",
                                 const std::string& content_type = "application/json") {
    ApiRequest req;
    req.method = method;
    size_t q = path.find('?');
    req.path = path.substr(0, q);
    req.query = ParseQuery(q == std::string::npos ? "" : path.substr(q + 1));
    req.body = body;
    req.content_type = content_type;
    req.accept = "application/json";
    return asio::co_spawn(ioc_, handler_->Handle(std::move(req)), asio::use_future);
  }
  ApiResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& content_type = "application/json") {
    return Start(method, path, body, content_type).get();
  }
  json CreateOk(const json& svc) {
    ApiResponse r = Call("POST", kServices, svc.dump());
    EXPECT_EQ(r.code, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  static constexpr const char* kServices = "/api/v1/namespaces/default/services";

  std::string dir_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::vector<std::thread> threads_;
  std::unique_ptr<store::Store> inner_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Handler> handler_;
};

TEST_F(ServiceHandlerTest, TheKubernetesServicePointsAtTheServer) {
  ApiResponse r = Call("GET", std::string(kServices) + "/kubernetes");
  ASSERT_EQ(r.code, 200) << r.body;
  json svc = json::parse(r.body);
  EXPECT_EQ(svc["spec"]["clusterIP"], "10.96.0.1");
  EXPECT_EQ(svc["spec"]["ports"][0]["name"], "https");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 443);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 6443);
  EXPECT_EQ(svc["metadata"]["labels"]["component"], "apiserver");
  EXPECT_FALSE(svc["spec"].contains("selector"));
  r = Call("GET", "/api/v1/namespaces/default/endpoints/kubernetes");
  ASSERT_EQ(r.code, 200) << r.body;
  json ep = json::parse(r.body);
  EXPECT_EQ(ep["subsets"][0]["addresses"][0]["ip"], "127.0.0.1");
  EXPECT_EQ(ep["subsets"][0]["ports"][0]["port"], 6443);

  // A restart on another port moves both; the address stays.
  std::string uid = svc["metadata"]["uid"];
  Close();
  Open("10.96.0.0/16", 7443);
  svc = json::parse(Call("GET", std::string(kServices) + "/kubernetes").body);
  EXPECT_EQ(svc["metadata"]["uid"], uid);
  EXPECT_EQ(svc["spec"]["clusterIP"], "10.96.0.1");
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 7443);
  ep = json::parse(Call("GET", "/api/v1/namespaces/default/endpoints/kubernetes").body);
  EXPECT_EQ(ep["subsets"][0]["ports"][0]["port"], 7443);
}

TEST_F(ServiceHandlerTest, CreateAllocatesAndDefaultsTheFamilies) {
  json svc = CreateOk(Service("web"));
  std::string ip = svc["spec"]["clusterIP"];
  EXPECT_EQ(ip.rfind("10.96.", 0), 0u) << ip;
  EXPECT_EQ(svc["spec"]["clusterIPs"], json::array({ip}));
  EXPECT_EQ(svc["spec"]["ipFamilies"], json::array({"IPv4"}));
  EXPECT_EQ(svc["spec"]["ipFamilyPolicy"], "SingleStack");
  // Stored as answered.
  json got = json::parse(Call("GET", std::string(kServices) + "/web").body);
  EXPECT_EQ(got["spec"]["clusterIP"], ip);
}

TEST_F(ServiceHandlerTest, TakenAndOutOfRangeAddressesAreInvalid) {
  CreateOk(Service("a", {{"clusterIP", "10.96.0.10"}}));
  ApiResponse r = Call("POST", kServices, Service("b", {{"clusterIP", "10.96.0.10"}}).dump());
  EXPECT_EQ(r.code, 422) << r.body;
  json status = json::parse(r.body);
  EXPECT_EQ(status["reason"], "Invalid");
  EXPECT_EQ(status["message"],
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: "
            "failed to allocate IP 10.96.0.10: provided IP is already allocated");
  EXPECT_EQ(status["details"]["causes"][0]["field"], "spec.clusterIPs");
  r = Call("POST", kServices, Service("c", {{"clusterIP", "1.2.3.4"}}).dump());
  EXPECT_EQ(r.code, 422) << r.body;
  EXPECT_THAT(r.body, HasSubstr("provided IP is not in the valid range. The range of valid IPs is "
                                "10.96.0.0/16"));
  r = Call("POST", kServices, Service("k", {{"clusterIP", "10.96.0.1"}}).dump());
  EXPECT_EQ(r.code, 422) << r.body;  // the kubernetes Service's
}

TEST_F(ServiceHandlerTest, ClusterIpIsImmutableButSurvivesUpdatesThatOmitIt) {
  json svc = CreateOk(Service("web"));
  std::string ip = svc["spec"]["clusterIP"];
  // A PUT of the manifest without the address (kubectl replace) keeps it.
  json replace = Service("web");
  replace["spec"]["ports"][0]["port"] = 81;
  ApiResponse r = Call("PUT", std::string(kServices) + "/web", replace.dump());
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["spec"]["clusterIP"], ip);
  // A change is refused as Kubernetes refuses it.
  r = Call("PATCH", std::string(kServices) + "/web", R"({"spec":{"clusterIP":"10.96.9.9"}})",
           "application/merge-patch+json");
  EXPECT_EQ(r.code, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["message"],
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: "
            "[]string{\"10.96.9.9\"}: may not change once set");
  // Changing to ExternalName releases it.
  r = Call("PATCH", std::string(kServices) + "/web",
           R"({"spec":{"type":"ExternalName","externalName":"example.com"}})",
           "application/merge-patch+json");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body)["spec"].contains("clusterIP"));
  CreateOk(Service("other", {{"clusterIP", ip}}));
}

TEST_F(ServiceHandlerTest, DeleteFreesTheAddressAndNodePorts) {
  json np = Service("np", {{"type", "NodePort"}, {"clusterIP", "10.96.0.20"}});
  np["spec"]["ports"][0]["nodePort"] = 30100;
  json created = CreateOk(np);
  EXPECT_EQ(created["spec"]["ports"][0]["nodePort"], 30100);
  ApiResponse r = Call("POST", kServices, np.dump());
  EXPECT_EQ(r.code, 422) << r.body;  // the address is taken before the name is checked
  r = Call("DELETE", std::string(kServices) + "/np");
  ASSERT_EQ(r.code, 200) << r.body;
  CreateOk(np);
}

TEST_F(ServiceHandlerTest, DryRunsAndFailedWritesHoldNothing) {
  ApiResponse r = Call("POST", std::string(kServices) + "?dryRun=All",
                       Service("web", {{"clusterIP", "10.96.0.30"}}).dump());
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["spec"]["clusterIP"], "10.96.0.30");
  r = Call("POST", kServices, Service("doomed", {{"clusterIP", "10.96.0.31"}}).dump());
  EXPECT_EQ(r.code, 503) << r.body;
  CreateOk(Service("web", {{"clusterIP", "10.96.0.30"}}));
  CreateOk(Service("web2", {{"clusterIP", "10.96.0.31"}}));
}

TEST_F(ServiceHandlerTest, ConcurrentCreatesGetDistinctAddresses) {
  Close();
  Open("10.100.0.0/27");  // 29 dynamic addresses
  std::vector<std::future<ApiResponse>> pending;
  for (int i = 0; i < 40; ++i) {
    pending.push_back(Start("POST", kServices, Service(Name("s", i)).dump()));
  }
  std::set<std::string> seen;
  int full = 0;
  for (auto& f : pending) {
    ApiResponse r = f.get();
    if (r.code == 500) {
      EXPECT_THAT(r.body, HasSubstr("range is full"));
      ++full;
      continue;
    }
    ASSERT_EQ(r.code, 201) << r.body;
    EXPECT_TRUE(seen.insert(json::parse(r.body)["spec"]["clusterIP"].get<std::string>()).second);
  }
  EXPECT_EQ(seen.size(), 29u);
  EXPECT_EQ(full, 11);
}

TEST_F(ServiceHandlerTest, ARestartRemembersWhatTheStoreHolds) {
  Close();
  Open("10.100.0.0/29");  // .2 to .6 for users
  std::set<std::string> before;
  for (const char* name : {"a", "b", "c"}) {
    before.insert(CreateOk(Service(name))["spec"]["clusterIP"].get<std::string>());
  }
  Close();
  Open("10.100.0.0/29");
  std::set<std::string> after;
  for (const char* name : {"d", "e"}) {
    std::string ip = CreateOk(Service(name))["spec"]["clusterIP"];
    EXPECT_EQ(before.count(ip), 0u) << ip << " given again after the restart";
    after.insert(ip);
  }
  EXPECT_EQ(after.size(), 2u);
  ApiResponse r = Call("POST", kServices, Service("f").dump());
  EXPECT_EQ(r.code, 500) << r.body;
}

}  // namespace
}  // namespace kennel::apiserver
