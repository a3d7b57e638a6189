// The ReplicaSet controller over the in-process client on a real Handler and
// embedded store. No agent runs pods: tests set pod status through the
// status subresource.
#include "controllers/replicaset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "client/test_cluster.h"

namespace kennel::controllers {
namespace {

using client::json;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(10);

bool Eventually(const std::function<bool()>& cond) { return client::Eventually(cond, kDeadline); }

json ReplicaSetJson(const std::string& name, int replicas, int min_ready = 0) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"minReadySeconds", min_ready},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}, {"tier", "web"}}}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}}}}}};
}

json PodJson(const std::string& name, const json& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}};
}

class ReplicaSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    auto c = ReplicaSetController::Start(client());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    controller_ = std::move(c).value();
  }
  void TearDown() override { controller_.reset(); }

  client::Client* client() { return cluster_.client(); }

  // The pods a ReplicaSet controls (by its uid), sorted by name.
  std::vector<json> Owned(const std::string& rs_name) {
    auto rs = client()->Get(kReplicaSets, "default", rs_name);
    std::vector<json> out;
    if (!rs.ok()) return out;
    auto pods = client()->List(client::kPods, "default");
    if (!pods.ok()) return out;
    for (const json& p : pods->items) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      for (const json& ref : p["metadata"].value("ownerReferences", json::array())) {
        if (ref["uid"] == (*rs)["metadata"]["uid"] && ref.value("controller", false)) {
          out.push_back(p);
        }
      }
    }
    return out;
  }

  json Status(const std::string& rs_name) {
    auto rs = client()->Get(kReplicaSets, "default", rs_name);
    return rs.ok() ? (*rs)["status"] : json();
  }

  void SetPodStatus(const json& pod, const std::string& phase, bool ready,
                    const std::string& node = "") {
    json p = pod;
    if (!node.empty()) {
      json binding = {{"apiVersion", "v1"},
                      {"kind", "Binding"},
                      {"metadata", {{"name", p["metadata"]["name"]}}},
                      {"target", {{"kind", "Node"}, {"name", node}}}};
      auto bound = client()->PostSubresource(client::kPods, "default", p["metadata"]["name"],
                                             "binding", binding);
      ASSERT_TRUE(bound.ok()) << bound.status().ToString();
      auto fresh = client()->Get(client::kPods, "default", p["metadata"]["name"]);
      ASSERT_TRUE(fresh.ok());
      p = *fresh;
    }
    p["status"]["phase"] = phase;
    p["status"]["conditions"] = {{{"type", "Ready"},
                                  {"status", ready ? "True" : "False"},
                                  {"lastTransitionTime", NowRfc3339()}}};
    auto r = client()->UpdateStatus(client::kPods, "default", p);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  client::TestCluster cluster_;
  std::unique_ptr<ReplicaSetController> controller_;
};

TEST_F(ReplicaSetTest, CreatesPodsFromTheTemplateWithAControllerReference) {
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 3)).ok());
  ASSERT_TRUE(Eventually([&] { return Owned("web").size() == 3; }));
  for (const json& p : Owned("web")) {
    EXPECT_EQ(p["metadata"]["generateName"], "web-");
    EXPECT_EQ(p["metadata"]["labels"]["tier"], "web");
    const json& ref = p["metadata"]["ownerReferences"][0];
    EXPECT_EQ(ref["kind"], "ReplicaSet");
    EXPECT_EQ(ref["controller"], true);
    EXPECT_EQ(ref["blockOwnerDeletion"], true);
  }
  EXPECT_TRUE(Eventually([&] {
    json s = Status("web");
    return s.value("replicas", 0) == 3 && s.value("fullyLabeledReplicas", 0) == 3 &&
           s.value("observedGeneration", 0) == 1;
  })) << Status("web");
  // Exactly three: expectations kept it from creating more on a stale cache.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto all = client()->List(client::kPods, "default");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 3u);
}

TEST_F(ReplicaSetTest, ReplacesADeletedPodAndCountsReadyAndAvailable) {
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 2)).ok());
  ASSERT_TRUE(Eventually([&] { return Owned("web").size() == 2; }));
  std::vector<json> pods = Owned("web");
  SetPodStatus(pods[0], "Running", true);
  SetPodStatus(pods[1], "Running", false);
  EXPECT_TRUE(Eventually([&] {
    json s = Status("web");
    return s.value("readyReplicas", 0) == 1 && s.value("availableReplicas", 0) == 1;
  })) << Status("web");
  std::string gone = pods[1]["metadata"]["name"];
  ASSERT_TRUE(client()->Delete(client::kPods, "default", gone).ok());
  EXPECT_TRUE(Eventually([&] {
    std::vector<json> now = Owned("web");
    return now.size() == 2 && std::none_of(now.begin(), now.end(), [&](const json& p) {
             return p["metadata"]["name"] == gone;
           });
  }));
}

TEST_F(ReplicaSetTest, ScaleDownDeletesUnscheduledThenNotReadyPodsFirst) {
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 4)).ok());
  ASSERT_TRUE(Eventually([&] { return Owned("web").size() == 4; }));
  std::vector<json> pods = Owned("web");
  SetPodStatus(pods[0], "Running", true, "node-a");
  SetPodStatus(pods[1], "Running", true, "node-b");
  SetPodStatus(pods[2], "Running", false, "node-c");  // scheduled, not ready
  // pods[3] stays unscheduled.
  std::set<std::string> kept = {pods[0]["metadata"]["name"], pods[1]["metadata"]["name"]};
  auto scaled = client()->Patch(kReplicaSets, "default", "web", client::PatchType::kMerge,
                                {{"spec", {{"replicas", 2}}}});
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_TRUE(Eventually([&] {
    std::set<std::string> names;
    for (const json& p : Owned("web")) names.insert(p["metadata"]["name"].get<std::string>());
    return names == kept;
  }));
  EXPECT_TRUE(Eventually([&] { return Status("web").value("replicas", 0) == 2; }));
}

TEST_F(ReplicaSetTest, AdoptsMatchingOrphansAndReleasesPodsThatStopMatching) {
  ASSERT_TRUE(client()->Create(client::kPods, "default", PodJson("stray", {{"app", "web"}})).ok());
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 2)).ok());
  ASSERT_TRUE(Eventually([&] { return Owned("web").size() == 2; }));
  auto stray = client()->Get(client::kPods, "default", "stray");
  ASSERT_TRUE(stray.ok());
  ASSERT_TRUE((*stray)["metadata"].contains("ownerReferences")) << *stray;
  // Relabelled: released, and replaced.
  auto relabelled = client()->Patch(client::kPods, "default", "stray", client::PatchType::kMerge,
                                    {{"metadata", {{"labels", {{"app", "other"}}}}}});
  ASSERT_TRUE(relabelled.ok());
  EXPECT_TRUE(Eventually([&] {
    auto p = client()->Get(client::kPods, "default", "stray");
    return p.ok() && (*p)["metadata"].value("ownerReferences", json::array()).empty() &&
           Owned("web").size() == 2;
  }));
  auto p = client()->Get(client::kPods, "default", "stray");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)["metadata"].value("ownerReferences", json::array()).empty()) << *p;
}

TEST_F(ReplicaSetTest, AvailableOnlyAfterMinReadySeconds) {
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 1, 1)).ok());
  ASSERT_TRUE(Eventually([&] { return Owned("web").size() == 1; }));
  SetPodStatus(Owned("web")[0], "Running", true);
  ASSERT_TRUE(Eventually([&] { return Status("web").value("readyReplicas", 0) == 1; }));
  EXPECT_EQ(Status("web").value("availableReplicas", 0), 0) << Status("web");
  EXPECT_TRUE(Eventually([&] { return Status("web").value("availableReplicas", 0) == 1; }))
      << Status("web");
}

TEST_F(ReplicaSetTest, RecordsEventsForCreatesAndFailures) {
  ASSERT_TRUE(client()->Create(kReplicaSets, "default", ReplicaSetJson("web", 1)).ok());
  auto has_event = [&](const std::string& reason) {
    auto events = client()->List(client::kEvents, "default");
    if (!events.ok()) return false;
    for (const json& e : events->items) {
      if (e.value("reason", "") == reason && e["involvedObject"]["name"] == "web") return true;
    }
    return false;
  };
  EXPECT_TRUE(Eventually([&] { return has_event("SuccessfulCreate"); }));
  // Pods the API refuses (Priority admission: no such class): FailedCreate
  // and the ReplicaFailure condition.
  json bad = ReplicaSetJson("bad", 1);
  bad["spec"]["template"]["spec"]["priorityClassName"] = "no-such-class";
  auto created = client()->Create(kReplicaSets, "default", bad);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto has_failure = [&] {
    auto events = client()->List(client::kEvents, "default");
    if (!events.ok()) return false;
    for (const json& e : events->items) {
      if (e.value("reason", "") == "FailedCreate" && e["involvedObject"]["name"] == "bad") {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(Eventually(has_failure));
  EXPECT_TRUE(Eventually([&] {
    json s = Status("bad");
    return s.contains("conditions") && s["conditions"][0]["type"] == "ReplicaFailure";
  })) << Status("bad");
}

}  // namespace
}  // namespace kennel::controllers
