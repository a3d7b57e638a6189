// DesiredSubsets on its own, then the controller over the in-process client
// on a real Handler and embedded store: it must follow pods within moments,
// and write only when something shown changes.
#include "controllers/endpoints.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/io_context.hpp>
// clang-format on
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "apiserver/handler.h"
#include "client/test_cluster.h"
#include "store/embedded.h"

namespace kennel::controllers {
namespace {

namespace asio = boost::asio;
using client::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Every wait has this deadline; the controller is event-driven and normally
// answers within milliseconds.
constexpr auto kDeadline = std::chrono::seconds(5);

json ServiceJson(const std::string& name, const json& ports, const json& selector = nullptr) {
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"team", "a"}}}}},
              {"spec",
               {{"ipFamilies", {"IPv4"}},
                {"selector", selector.is_null() ? json{{"app", name}} : selector},
                {"ports", ports}}}};
  return svc;
}

std::string Uid(const std::string& pod) {
  std::string uid = "uid-";  // built with += (GCC 12 warns falsely on "lit" + std::string)
  uid += pod;
  return uid;
}

json PodJson(const std::string& name, const json& labels, const std::string& ip, bool ready,
             const json& container_ports = json::array()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", "default"}, {"uid", Uid(name)}, {"labels", labels}}},
          {"spec",
           {{"nodeName", "node-1"},
            {"containers", {{{"name", "c"}, {"image", "host"}, {"ports", container_ports}}}}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", ip},
            {"podIPs", {{{"ip", ip}}}},
            {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

json Address(const std::string& ip, const std::string& pod) {
  return {
      {"ip", ip},
      {"nodeName", "node-1"},
      {"targetRef", {{"kind", "Pod"}, {"namespace", "default"}, {"name", pod}, {"uid", Uid(pod)}}}};
}

const json kHttp =
    json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", 8080}}});

TEST(DesiredSubsets, ReadyAndNotReadyPodsShareOneSubsetSortedByIp) {
  json svc = ServiceJson("web", kHttp);
  json subsets =
      DesiredSubsets(svc, {PodJson("b", {}, "10.0.0.2", true), PodJson("a", {}, "10.0.0.10", true),
                           PodJson("c", {}, "10.0.0.3", false)});
  json want = json::array({{{"addresses", {Address("10.0.0.10", "a"), Address("10.0.0.2", "b")}},
                            {"notReadyAddresses", {Address("10.0.0.3", "c")}},
                            {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}}});
  EXPECT_EQ(subsets, want) << subsets.dump(2);
}

TEST(DesiredSubsets, LeavesOutPodsWithoutIpTerminalOrTerminating) {
  json svc = ServiceJson("web", kHttp);
  json no_ip = PodJson("no-ip", {}, "", true);
  no_ip["status"].erase("podIPs");
  json done = PodJson("done", {}, "10.0.0.4", false);
  done["status"]["phase"] = "Succeeded";
  json going = PodJson("going", {}, "10.0.0.5", true);
  going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_EQ(DesiredSubsets(svc, {no_ip, done, going}), json::array());
  // publishNotReadyAddresses: terminating and unready pods are addresses.
  svc["spec"]["publishNotReadyAddresses"] = true;
  json unready = PodJson("unready", {}, "10.0.0.6", false);
  json subsets = DesiredSubsets(svc, {no_ip, done, going, unready});
  ASSERT_EQ(subsets.size(), 1u) << subsets.dump(2);
  EXPECT_EQ(subsets[0]["addresses"],
            json::array({Address("10.0.0.5", "going"), Address("10.0.0.6", "unready")}));
  EXPECT_FALSE(subsets[0].contains("notReadyAddresses"));
}

TEST(DesiredSubsets, NamedTargetPortsResolvePerPodIntoSeparateSubsets) {
  json ports = json::array(
      {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", "web"}},
       {{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}, {"targetPort", 9100}}});
  json svc = ServiceJson("web", ports);
  json old_pod = PodJson("old", {}, "10.0.0.2", true,
                         {{{"name", "web"}, {"containerPort", 8080}, {"protocol", "TCP"}}});
  json new_pod = PodJson("new", {}, "10.0.0.3", true, {{{"name", "web"}, {"containerPort", 9090}}});
  json portless = PodJson("portless", {}, "10.0.0.4", true);  // no port named "web"
  json subsets = DesiredSubsets(svc, {old_pod, new_pod, portless});
  json metrics = {{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}};
  json want = json::array(
      {{{"addresses", {Address("10.0.0.2", "old")}},
        {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}},
       {{"addresses",
         {Address("10.0.0.2", "old"), Address("10.0.0.3", "new"), Address("10.0.0.4", "portless")}},
        {"ports", {metrics}}},
       {{"addresses", {Address("10.0.0.3", "new")}},
        {"ports", {{{"name", "http"}, {"port", 9090}, {"protocol", "TCP"}}}}}});
  EXPECT_EQ(subsets, want) << subsets.dump(2);
}

TEST(DesiredSubsets, HeadlessServiceGetsHostnamesAndMayHaveNoPorts) {
  json svc = ServiceJson("db", json::array());
  svc["spec"]["clusterIP"] = "None";
  svc["spec"]["clusterIPs"] = {"None"};
  json pet = PodJson("db-0", {}, "10.0.0.7", true);
  pet["spec"]["hostname"] = "db-0";
  pet["spec"]["subdomain"] = "db";
  json stranger = PodJson("other", {}, "10.0.0.8", true);
  stranger["spec"]["hostname"] = "other";
  stranger["spec"]["subdomain"] = "elsewhere";
  json subsets = DesiredSubsets(svc, {pet, stranger});
  json with_host = Address("10.0.0.7", "db-0");
  with_host["hostname"] = "db-0";
  EXPECT_EQ(subsets, json::array({{{"addresses", {with_host, Address("10.0.0.8", "other")}}}}))
      << subsets.dump(2);
}

// ---------------------------------------------------------------------------
// The controller.

class EndpointsControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    client_ = cluster_.client();
  }

  void TearDown() override { controller_.reset(); }

  void StartController() {
    auto started = EndpointsController::Start(client_);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    controller_ = std::move(started).value();
  }

  // Creates the pod, then writes its status as an agent would; returns it.
  json CreatePod(const json& pod) {
    auto created = client_->Create(client::kPods, "default", pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return json();
    json with_status = *created;
    with_status["status"] = pod["status"];
    auto updated = client_->UpdateStatus(client::kPods, "default", with_status);
    EXPECT_TRUE(updated.ok()) << updated.status().ToString();
    return updated.ok() ? *updated : json();
  }

  void SetReady(const std::string& pod, bool ready) {
    auto current = client_->Get(client::kPods, "default", pod);
    ASSERT_TRUE(current.ok());
    (*current)["status"]["conditions"] = {
        {{"type", "Ready"}, {"status", ready ? "True" : "False"}}};
    ASSERT_TRUE(client_->UpdateStatus(client::kPods, "default", *current).ok());
  }

  json CreateService(const json& svc) {
    auto created = client_->Create(client::kServices, "default", svc);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  // The Endpoints object, or null when there is none.
  json GetEndpoints(const std::string& name) {
    auto got = client_->Get(client::kEndpoints, "default", name);
    return got.ok() ? *got : json();
  }

  // Polls until pred holds on the Endpoints (null when absent), or the deadline.
  bool WaitEndpoints(const std::string& name, const std::function<bool(const json&)>& pred) {
    auto deadline = Clock::now() + kDeadline;
    while (Clock::now() < deadline) {
      if (pred(GetEndpoints(name))) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  static std::vector<std::string> Ips(const json& ep, const char* field) {
    std::vector<std::string> out;
    if (!ep.is_object() || !ep.contains("subsets")) return out;
    for (const json& s : ep["subsets"]) {
      for (const json& a : s.value(field, json::array())) out.push_back(a["ip"]);
    }
    return out;
  }

  client::TestCluster cluster_;
  client::Client* client_ = nullptr;
  std::unique_ptr<EndpointsController> controller_;
};

using Strings = std::vector<std::string>;

TEST_F(EndpointsControllerTest, EndpointsFollowPodsReadinessAndDeletion) {
  StartController();
  CreateService(ServiceJson("web", kHttp));
  // An Endpoints object with no subsets exists at once, labelled as the Service.
  ASSERT_TRUE(WaitEndpoints("web", [](const json& ep) { return ep.is_object(); }));
  json ep = GetEndpoints("web");
  EXPECT_FALSE(ep.contains("subsets")) << ep.dump();
  EXPECT_EQ(ep["metadata"]["labels"], json({{"team", "a"}}));

  json web1 = CreatePod(PodJson("web-1", {{"app", "web"}}, "10.244.0.5", true));
  CreatePod(PodJson("web-2", {{"app", "web"}}, "10.244.0.6", false));
  CreatePod(PodJson("db-1", {{"app", "db"}}, "10.244.0.7", true));
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return Ips(e, "addresses") == Strings{"10.244.0.5"} &&
           Ips(e, "notReadyAddresses") == Strings{"10.244.0.6"};
  })) << GetEndpoints("web").dump();
  ep = GetEndpoints("web");
  EXPECT_EQ(ep["subsets"][0]["ports"],
            json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}));
  json want = Address("10.244.0.5", "web-1");
  want["targetRef"]["uid"] = web1["metadata"]["uid"];  // the server's, not ours
  EXPECT_EQ(ep["subsets"][0]["addresses"][0], want);

  SetReady("web-2", true);
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return Ips(e, "addresses") == Strings{"10.244.0.5", "10.244.0.6"} &&
           Ips(e, "notReadyAddresses").empty();
  })) << GetEndpoints("web").dump();
  SetReady("web-1", false);
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return Ips(e, "addresses") == Strings{"10.244.0.6"} &&
           Ips(e, "notReadyAddresses") == Strings{"10.244.0.5"};
  })) << GetEndpoints("web").dump();

  // A graceful delete marks the pod terminating: it leaves at once.
  ASSERT_TRUE(client_->Delete(client::kPods, "default", "web-2").ok());
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return Ips(e, "addresses").empty() && Ips(e, "notReadyAddresses") == Strings{"10.244.0.5"};
  })) << GetEndpoints("web").dump();
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(client_->Delete(client::kPods, "default", "web-1", now).ok());
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return e.is_object() && !e.contains("subsets");
  })) << GetEndpoints("web").dump();

  // The Service goes: so do its Endpoints.
  ASSERT_TRUE(client_->Delete(client::kServices, "default", "web").ok());
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) { return e.is_null(); }));
}

TEST_F(EndpointsControllerTest, StartsFromWhatExistsAndLeavesSelectorlessServicesAlone) {
  CreatePod(PodJson("web-1", {{"app", "web"}}, "10.244.0.5", true));
  CreateService(ServiceJson("web", kHttp));
  json manual = ServiceJson("manual", kHttp);
  manual["spec"].erase("selector");
  CreateService(manual);
  json user_ep = {{"apiVersion", "v1"},
                  {"kind", "Endpoints"},
                  {"metadata", {{"name", "manual"}, {"namespace", "default"}}},
                  {"subsets",
                   {{{"addresses", {{{"ip", "192.168.1.1"}}}},
                     {"ports", {{{"port", 5432}, {"protocol", "TCP"}}}}}}}};
  auto created = client_->Create(client::kEndpoints, "default", user_ep);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // Endpoints nobody's Service owns any more are cleaned up at start.
  json orphan = user_ep;
  orphan["metadata"]["name"] = "orphan";
  ASSERT_TRUE(client_->Create(client::kEndpoints, "default", orphan).ok());

  StartController();
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) {
    return Ips(e, "addresses") == Strings{"10.244.0.5"};
  })) << GetEndpoints("web").dump();
  ASSERT_TRUE(WaitEndpoints("orphan", [](const json& e) { return e.is_null(); }));
  // A pod the selectorless Service would "match" changes nothing there.
  CreatePod(PodJson("manual-1", {{"app", "manual"}}, "10.244.0.9", true));
  CreatePod(PodJson("web-2", {{"app", "web"}}, "10.244.0.6", true));
  ASSERT_TRUE(WaitEndpoints("web", [](const json& e) { return Ips(e, "addresses").size() == 2; }));
  json after = GetEndpoints("manual");
  EXPECT_EQ(after["metadata"]["resourceVersion"], (*created)["metadata"]["resourceVersion"]);
  EXPECT_EQ(after["subsets"], user_ep["subsets"]);
}

TEST_F(EndpointsControllerTest, WritesOnlyWhenSomethingShownChanges) {
  StartController();
  CreateService(ServiceJson("web", kHttp));
  CreateService(ServiceJson("other", kHttp));
  CreatePod(PodJson("web-1", {{"app", "web"}}, "10.244.0.5", true));
  ASSERT_TRUE(WaitEndpoints(
      "web", [](const json& e) { return Ips(e, "addresses") == Strings{"10.244.0.5"}; }));
  std::string rv = GetEndpoints("web")["metadata"]["resourceVersion"];

  // A status heartbeat and an annotation: nothing Endpoints show.
  auto pod = client_->Get(client::kPods, "default", "web-1");
  ASSERT_TRUE(pod.ok());
  (*pod)["status"]["conditions"].push_back({{"type", "ContainersReady"}, {"status", "True"}});
  ASSERT_TRUE(client_->UpdateStatus(client::kPods, "default", *pod).ok());
  ASSERT_TRUE(client_
                  ->Patch(client::kPods, "default", "web-1", client::PatchType::kMerge,
                          {{"metadata", {{"annotations", {{"note", "x"}}}}}})
                  .ok());
  // A later change elsewhere, handled in order after those: once it shows,
  // the controller has seen them.
  CreatePod(PodJson("other-1", {{"app", "other"}}, "10.244.0.8", true));
  ASSERT_TRUE(WaitEndpoints(
      "other", [](const json& e) { return Ips(e, "addresses") == Strings{"10.244.0.8"}; }));
  EXPECT_EQ(GetEndpoints("web")["metadata"]["resourceVersion"], rv);

  // An edit behind the controller's back is put back.
  json tampered = GetEndpoints("web");
  tampered["subsets"][0]["addresses"][0]["ip"] = "10.244.0.99";
  ASSERT_TRUE(client_->Update(client::kEndpoints, "default", tampered).ok());
  ASSERT_TRUE(WaitEndpoints(
      "web", [](const json& e) { return Ips(e, "addresses") == Strings{"10.244.0.5"}; }));
}

TEST_F(EndpointsControllerTest, LabelsFollowTheServiceAndMarkHeadless) {
  StartController();
  json svc = ServiceJson("db", json::array());
  svc["spec"]["clusterIP"] = "None";
  svc["spec"]["clusterIPs"] = {"None"};
  CreateService(svc);
  json pet = PodJson("db-0", {{"app", "db"}}, "10.244.0.7", true);
  pet["spec"]["hostname"] = "db-0";
  pet["spec"]["subdomain"] = "db";
  CreatePod(pet);
  ASSERT_TRUE(WaitEndpoints("db", [](const json& e) {
    return Ips(e, "addresses") == Strings{"10.244.0.7"};
  })) << GetEndpoints("db").dump();
  json ep = GetEndpoints("db");
  EXPECT_EQ(ep["subsets"][0]["addresses"][0]["hostname"], "db-0");
  EXPECT_EQ(ep["metadata"]["labels"],
            json({{"team", "a"}, {"service.kubernetes.io/headless", ""}}));
  ASSERT_TRUE(client_
                  ->Patch(client::kServices, "default", "db", client::PatchType::kMerge,
                          {{"metadata", {{"labels", {{"team", "b"}}}}}})
                  .ok());
  ASSERT_TRUE(WaitEndpoints("db", [](const json& e) {
    return e.is_object() && e["metadata"]["labels"].value("team", "") == "b";
  }));
}

}  // namespace
}  // namespace kennel::controllers
