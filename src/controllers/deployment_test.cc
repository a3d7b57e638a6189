// The Deployment controller with the ReplicaSet controller over the
// in-process client on a real Handler and embedded store; a test "kubelet"
// marks pods Running and Ready through the status subresource, since no agent
// runs them.
#include "controllers/deployment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "client/test_cluster.h"
#include "controllers/replicaset.h"

namespace kennel::controllers {
namespace {

using client::json;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(15);

bool Eventually(const std::function<bool()>& cond) { return client::Eventually(cond, kDeadline); }

TEST(ResolveFenceposts, RoundsSurgeUpAndUnavailableDown) {
  auto f = ResolveFenceposts("25%", "25%", 10);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->surge, 3);
  EXPECT_EQ(f->unavailable, 2);
  f = ResolveFenceposts("25%", "25%", 1);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->surge, 1);
  EXPECT_EQ(f->unavailable, 0);
  f = ResolveFenceposts(0, 0, 5);  // both zero: one may be unavailable
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->surge, 0);
  EXPECT_EQ(f->unavailable, 1);
  EXPECT_FALSE(ResolveFenceposts("x%", 1, 5).ok());
}

TEST(PodTemplateHash, IsStableSafeAndChangesWithTheTemplateAndCollisions) {
  json t = {{"metadata", {{"labels", {{"app", "web"}}}}},
            {"spec", {{"containers", json::array()}}}};
  std::string h = PodTemplateHash(t, 0);
  EXPECT_EQ(h, PodTemplateHash(t, 0));
  EXPECT_NE(h, PodTemplateHash(t, 1));
  json u = t;
  u["metadata"]["labels"]["v"] = "2";
  EXPECT_NE(h, PodTemplateHash(u, 0));
  EXPECT_EQ(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos) << h;
}

json DeploymentJson(const std::string& name, int replicas, const std::string& image = "host") {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}}}}}};
}

class DeploymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    auto rs = ReplicaSetController::Start(client());
    ASSERT_TRUE(rs.ok());
    rs_ = std::move(rs).value();
    auto d = DeploymentController::Start(client());
    ASSERT_TRUE(d.ok());
    deploy_ = std::move(d).value();
    kubelet_ = std::thread([this] { Kubelet(); });
  }
  void TearDown() override {
    stop_ = true;
    kubelet_.join();
    deploy_.reset();
    rs_.reset();
  }

  client::Client* client() { return cluster_.client(); }

  // Marks every pod Running and Ready, as an agent would once it started it.
  void Kubelet() {
    while (!stop_) {
      if (ready_pods_) {
        auto pods = client()->List(client::kPods, "default");
        if (pods.ok()) {
          for (json p : pods->items) {
            if (p["metadata"].contains("deletionTimestamp")) continue;
            if (p.value("status", json::object()).value("phase", "") == "Running") continue;
            p["status"]["phase"] = "Running";
            p["status"]["conditions"] = {
                {{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", NowRfc3339()}}};
            (void)client()->UpdateStatus(client::kPods, "default", p);
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  json Get(const std::string& name) {
    auto d = client()->Get(kDeployments, "default", name);
    return d.ok() ? *d : json();
  }

  std::vector<json> Sets() {
    auto l = client()->List(kReplicaSets, "default");
    return l.ok() ? l->items : std::vector<json>{};
  }

  bool RolledOut(const std::string& name, int replicas) {
    json d = Get(name);
    const json s = d.value("status", json::object());
    return s.value("observedGeneration", 0) >= d["metadata"].value("generation", 1) &&
           s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas &&
           s.value("availableReplicas", 0) == replicas;
  }

  static std::string Condition(const json& d, const std::string& type, const char* field) {
    const json status = d.value("status", json::object());
    for (const json& c : status.value("conditions", json::array())) {
      if (c["type"] == type) return c.value(field, "");
    }
    return "";
  }

  client::TestCluster cluster_;
  std::unique_ptr<ReplicaSetController> rs_;
  std::unique_ptr<DeploymentController> deploy_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_pods_{true};
  std::thread kubelet_;
};

TEST_F(DeploymentTest, CreatesAHashedReplicaSetAndBecomesAvailable) {
  ASSERT_TRUE(client()->Create(kDeployments, "default", DeploymentJson("web", 3)).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 3); })) << Get("web");
  std::vector<json> sets = Sets();
  ASSERT_EQ(sets.size(), 1u);
  const json& rs = sets[0];
  std::string hash = rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"];
  std::string name = "web-";
  name += hash;
  EXPECT_EQ(rs["metadata"]["name"], name);
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
  EXPECT_EQ(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  json d = Get("web");
  EXPECT_EQ(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
  EXPECT_EQ(Condition(d, "Available", "status"), "True");
  EXPECT_EQ(Condition(d, "Available", "reason"), "MinimumReplicasAvailable");
  EXPECT_TRUE(Eventually([&] {
    return Condition(Get("web"), "Progressing", "reason") == "NewReplicaSetAvailable";
  })) << Get("web");
}

TEST_F(DeploymentTest, RollingUpdateMovesToANewReplicaSetAndKeepsHistory) {
  ASSERT_TRUE(client()->Create(kDeployments, "default", DeploymentJson("web", 4)).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 4); })) << Get("web");
  std::string first = Sets()[0]["metadata"]["name"];
  auto patched = client()->Patch(
      kDeployments, "default", "web", client::PatchType::kMerge,
      {{"metadata", {{"annotations", {{"kubernetes.io/change-cause", "v2"}}}}},
       {"spec", {{"template", {{"metadata", {{"labels", {{"app", "web"}, {"v", "2"}}}}}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  ASSERT_TRUE(Eventually([&] { return Sets().size() == 2 && RolledOut("web", 4); })) << Get("web");
  for (const json& rs : Sets()) {
    if (rs["metadata"]["name"] == first) {
      EXPECT_EQ(rs["spec"]["replicas"], 0);
      EXPECT_EQ(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
    } else {
      EXPECT_EQ(rs["spec"]["replicas"], 4);
      EXPECT_EQ(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");
      EXPECT_EQ(rs["metadata"]["annotations"]["kubernetes.io/change-cause"], "v2");
    }
  }
  // Back to the first template (what `kubectl rollout undo` does): the old
  // ReplicaSet is scaled up again as revision 3.
  patched = client()->Patch(
      kDeployments, "default", "web", client::PatchType::kJson,
      json::array({{{"op", "remove"}, {"path", "/spec/template/metadata/labels/v"}}}));
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_TRUE(Eventually([&] {
    auto rs = client()->Get(kReplicaSets, "default", first);
    return rs.ok() && (*rs)["spec"]["replicas"] == 4 &&
           (*rs)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3" &&
           RolledOut("web", 4);
  })) << Get("web");
  EXPECT_EQ(Get("web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
}

TEST_F(DeploymentTest, NeverHasMoreThanSurgeOrFewerThanMaxUnavailableAllowDuringARollout) {
  ready_pods_ = true;
  json d = DeploymentJson("web", 4);
  d["spec"]["strategy"] = {{"type", "RollingUpdate"},
                           {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}};
  ASSERT_TRUE(client()->Create(kDeployments, "default", d).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 4); }));
  auto patched = client()->Patch(
      kDeployments, "default", "web", client::PatchType::kMerge,
      {{"spec", {{"template", {{"metadata", {{"labels", {{"app", "web"}, {"v", "2"}}}}}}}}}});
  ASSERT_TRUE(patched.ok());
  int64_t max_total = 0;
  bool done = Eventually([&] {
    int64_t total = 0;
    for (const json& rs : Sets()) total += rs["spec"].value("replicas", 0);
    max_total = std::max(max_total, total);
    return Sets().size() == 2 && RolledOut("web", 4);
  });
  EXPECT_TRUE(done) << Get("web");
  EXPECT_LE(max_total, 5);
}

TEST_F(DeploymentTest, RecreateScalesTheOldReplicaSetDownFirst) {
  json d = DeploymentJson("web", 2);
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  ASSERT_TRUE(client()->Create(kDeployments, "default", d).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 2); }));
  auto patched = client()->Patch(
      kDeployments, "default", "web", client::PatchType::kMerge,
      {{"spec", {{"template", {{"metadata", {{"labels", {{"app", "web"}, {"v", "2"}}}}}}}}}});
  ASSERT_TRUE(patched.ok());
  bool overlap = false;
  bool done = Eventually([&] {
    std::vector<json> sets = Sets();
    int active = 0;
    for (const json& rs : sets) active += rs["spec"].value("replicas", 0) > 0 ? 1 : 0;
    overlap |= active > 1;
    return sets.size() == 2 && RolledOut("web", 2);
  });
  EXPECT_TRUE(done) << Get("web");
  EXPECT_FALSE(overlap);
}

TEST_F(DeploymentTest, ScalesAndKeepsOnlyRevisionHistoryLimitOldReplicaSets) {
  json d = DeploymentJson("web", 1);
  d["spec"]["revisionHistoryLimit"] = 1;
  ASSERT_TRUE(client()->Create(kDeployments, "default", d).ok());
  ASSERT_TRUE(Eventually([&] { return RolledOut("web", 1); }));
  for (const char* v : {"2", "3", "4"}) {
    auto patched = client()->Patch(
        kDeployments, "default", "web", client::PatchType::kMerge,
        {{"spec", {{"template", {{"metadata", {{"labels", {{"app", "web"}, {"v", v}}}}}}}}}});
    ASSERT_TRUE(patched.ok());
    ASSERT_TRUE(Eventually([&] { return RolledOut("web", 1); })) << Get("web");
  }
  EXPECT_TRUE(Eventually([&] { return Sets().size() == 2; })) << Sets().size();
  auto scaled = client()->Patch(kDeployments, "default", "web", client::PatchType::kMerge,
                                {{"spec", {{"replicas", 3}}}});
  ASSERT_TRUE(scaled.ok());
  EXPECT_TRUE(Eventually([&] { return RolledOut("web", 3); })) << Get("web");
}

TEST_F(DeploymentTest, ReportsUnavailableWhilePodsAreNotReady) {
  ready_pods_ = false;
  ASSERT_TRUE(client()->Create(kDeployments, "default", DeploymentJson("web", 2)).ok());
  EXPECT_TRUE(Eventually([&] {
    json d = Get("web");
    return d.value("status", json::object()).value("unavailableReplicas", 0) == 2 &&
           Condition(d, "Available", "reason") == "MinimumReplicasUnavailable" &&
           Condition(d, "Progressing", "status") == "True";
  })) << Get("web");
}

}  // namespace
}  // namespace kennel::controllers
