// The StatefulSet controller over the in-process client on a real Handler and
// embedded store. There is no agent: the tests play the kubelet, binding pods
// to a node (so that deletion is graceful), writing their status Running and
// Ready through /status, and finishing their deletion (grace 0).
#include "controllers/statefulset.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
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
const client::Resource kRevisions{"apps", "v1", "controllerrevisions", true};

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = kDeadline) {
  return client::Eventually(cond, timeout);
}

// The negative half of an ordering rule: cond stays true for a while. The
// controller reacts within milliseconds, so 300 ms is ample.
bool Consistently(const std::function<bool()>& cond) {
  auto end = Clock::now() + std::chrono::milliseconds(300);
  while (Clock::now() < end) {
    if (!cond()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

json SetJson(const std::string& name, int replicas, const json& extra_spec = json::object()) {
  json set = {
      {"apiVersion", "apps/v1"},
      {"kind", "StatefulSet"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"replicas", replicas},
        {"serviceName", "svc"},
        {"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", name}}}}},
          {"spec",
           {{"containers",
             {{{"name", "c"}, {"image", "host"}, {"command", {"sleep", "infinity"}}}}}}}}}}}};
  for (const auto& [k, v] : extra_spec.items()) set["spec"][k] = v;
  return set;
}

json ClaimTemplate(const std::string& name, const std::string& size) {
  return {
      {"metadata", {{"name", name}}},
      {"spec",
       {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", size}}}}}}}};
}

class StatefulSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    auto c = StatefulSetController::Start(cluster_.client());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    controller_ = std::move(*c);
  }
  void TearDown() override { controller_.reset(); }

  client::Client* api() { return cluster_.client(); }

  void Create(const json& set) {
    auto r = api()->Create(client::kStatefulSets, "default", set);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::optional<json> Pod(const std::string& name) {
    auto p = api()->Get(client::kPods, "default", name);
    if (!p.ok()) return std::nullopt;
    return *p;
  }
  bool Exists(const std::string& name) { return Pod(name).has_value(); }
  bool Terminating(const std::string& name) {
    auto p = Pod(name);
    return p && (*p)["metadata"].contains("deletionTimestamp");
  }
  std::string PodUid(const std::string& name) {
    auto p = Pod(name);
    return p ? (*p)["metadata"].value("uid", "") : "";
  }
  std::string RevisionOf(const std::string& name) {
    auto p = Pod(name);
    return p ? (*p)["metadata"]["labels"].value("controller-revision-hash", "") : "";
  }

  json Set(const std::string& name) {
    auto s = api()->Get(client::kStatefulSets, "default", name);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : json();
  }

  void Patch(const std::string& set, const json& patch) {
    auto r = api()->Patch(client::kStatefulSets, "default", set, client::PatchType::kMerge, patch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // The kubelet's part: the pod is on node-1 (so deleting it is graceful)
  // and Running, with Ready as given.
  void Kubelet(const std::string& name, bool ready = true, const std::string& phase = "Running") {
    auto pod = Pod(name);
    ASSERT_TRUE(pod) << name;
    if ((*pod)["spec"].value("nodeName", "").empty()) {
      json binding = {{"apiVersion", "v1"},
                      {"kind", "Binding"},
                      {"metadata", {{"name", name}}},
                      {"target", {{"kind", "Node"}, {"name", "node-1"}}}};
      auto b = api()->PostSubresource(client::kPods, "default", name, "binding", binding);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      pod = Pod(name);
    }
    (*pod)["status"]["phase"] = phase;
    (*pod)["status"]["conditions"] = {{{"type", "Ready"},
                                       {"status", ready ? "True" : "False"},
                                       {"lastTransitionTime", NowRfc3339()}}};
    auto r = api()->UpdateStatus(client::kPods, "default", *pod);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // The kubelet confirms a graceful deletion.
  void Finish(const std::string& name) {
    client::DeleteOptions options;
    options.grace_period_seconds = 0;
    Status st = api()->Delete(client::kPods, "default", name, options);
    ASSERT_TRUE(st.ok() || st.code() == Code::kNotFound) << st.ToString();
  }

  // Waits for pod name to exist and makes it Ready.
  void WaitAndReady(const std::string& name) {
    ASSERT_TRUE(WaitFor([&] { return Exists(name); })) << name << " never created";
    Kubelet(name);
  }

  std::vector<json> Revisions() {
    auto l = api()->List(kRevisions, "default");
    EXPECT_TRUE(l.ok());
    return l.ok() ? l->items : std::vector<json>{};
  }

  // Creates the set and brings all n pods up in order.
  void CreateReady(const json& set) {
    Create(set);
    std::string name = set["metadata"]["name"];
    int n = set["spec"]["replicas"];
    for (int i = 0; i < n; ++i) {
      std::string pod = name;
      pod += "-";
      pod += std::to_string(i);
      WaitAndReady(pod);
    }
    ASSERT_TRUE(WaitFor([&] { return Set(name)["status"].value("readyReplicas", 0) == n; }));
  }

  client::TestCluster cluster_;
  std::unique_ptr<StatefulSetController> controller_;
};

TEST_F(StatefulSetTest, OrderedReadyCreatesOnePodAtATimeWithStableIdentity) {
  Create(SetJson("web", 3));
  ASSERT_TRUE(WaitFor([&] { return Exists("web-0"); }));
  EXPECT_TRUE(Consistently([&] { return !Exists("web-1"); })) << "web-1 before web-0 was Ready";
  Kubelet("web-0", /*ready=*/false);
  EXPECT_TRUE(Consistently([&] { return !Exists("web-1"); })) << "web-1 while web-0 unready";
  Kubelet("web-0");
  ASSERT_TRUE(WaitFor([&] { return Exists("web-1"); }));
  EXPECT_TRUE(Consistently([&] { return !Exists("web-2"); }));
  Kubelet("web-1");
  WaitAndReady("web-2");

  json set = Set("web");
  json pod = *Pod("web-1");
  EXPECT_EQ(pod["spec"]["hostname"], "web-1");
  EXPECT_EQ(pod["spec"]["subdomain"], "svc");
  EXPECT_EQ(pod["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "web-1");
  EXPECT_EQ(pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "1");
  ASSERT_EQ(pod["metadata"]["ownerReferences"].size(), 1u);
  json ref = pod["metadata"]["ownerReferences"][0];
  EXPECT_EQ(ref["kind"], "StatefulSet");
  EXPECT_EQ(ref["uid"], set["metadata"]["uid"]);
  EXPECT_EQ(ref["controller"], true);
  EXPECT_EQ(ref["blockOwnerDeletion"], true);

  ASSERT_TRUE(WaitFor([&] {
    json s = Set("web")["status"];
    return s.value("readyReplicas", 0) == 3 && s.value("availableReplicas", 0) == 3;
  }));
  json status = Set("web")["status"];
  EXPECT_EQ(status["replicas"], 3);
  EXPECT_EQ(status["currentReplicas"], 3);
  EXPECT_EQ(status["updatedReplicas"], 3);
  EXPECT_EQ(status["observedGeneration"], Set("web")["metadata"]["generation"]);
  EXPECT_EQ(status["collisionCount"], 0);
  std::string revision = status["currentRevision"];
  EXPECT_EQ(status["updateRevision"], revision);
  EXPECT_EQ(pod["metadata"]["labels"]["controller-revision-hash"], revision);
  auto revisions = Revisions();
  ASSERT_EQ(revisions.size(), 1u);
  EXPECT_EQ(revisions[0]["metadata"]["name"], revision);
  EXPECT_EQ(revisions[0]["revision"], 1);
  EXPECT_EQ(revisions[0]["data"]["spec"]["template"]["$patch"], "replace");
  EXPECT_EQ(revisions[0]["metadata"]["ownerReferences"][0]["uid"], set["metadata"]["uid"]);
  EXPECT_EQ(revisions[0]["metadata"]["labels"]["app"], "web");
}

TEST_F(StatefulSetTest, ScaleDownDeletesHighestFirstOneAtATime) {
  CreateReady(SetJson("web", 3));
  Patch("web", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-2"); }));
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-1"); }))
      << "web-1 deleted while web-2 still exists";
  Finish("web-2");
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-1"); }));
  EXPECT_TRUE(Exists("web-0"));
  Finish("web-1");
  EXPECT_TRUE(Consistently([&] { return Exists("web-0") && !Terminating("web-0"); }));
  ASSERT_TRUE(WaitFor([&] { return Set("web")["status"].value("replicas", -1) == 1; }));
}

TEST_F(StatefulSetTest, ScaleDownWaitsForHealthyPeers) {
  CreateReady(SetJson("web", 3));
  Kubelet("web-0", /*ready=*/false);
  // The scale-down must reach a controller that has seen web-0 unready (its
  // status says so); else it would rightly delete web-2 at once.
  ASSERT_TRUE(WaitFor([&] { return Set("web")["status"].value("readyReplicas", 0) == 2; }));
  Patch("web", {{"spec", {{"replicas", 2}}}});
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-2"); }));
  Kubelet("web-0");
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-2"); }));
}

TEST_F(StatefulSetTest, ParallelCreatesAndDeletesWithoutWaiting) {
  Create(SetJson("par", 3, {{"podManagementPolicy", "Parallel"}}));
  ASSERT_TRUE(WaitFor([&] { return Exists("par-0") && Exists("par-1") && Exists("par-2"); }));
  Kubelet("par-0");
  Kubelet("par-1");
  Kubelet("par-2");
  Patch("par", {{"spec", {{"replicas", 0}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("par-0") && Terminating("par-2"); }));
}

// Counts pod creates in flight through it, each held for a moment so that
// overlapping ones overlap observably.
class CreateCountingClient : public client::Client {
 public:
  explicit CreateCountingClient(client::Client* inner) : inner_(inner) {}
  StatusOr<client::Response> Do(const client::Request& request) override {
    bool pod_create = request.method == "POST" && request.path.ends_with("/pods");
    if (!pod_create) return inner_->Do(request);
    int now = ++in_flight_;
    for (int seen = max_in_flight_.load(); now > seen;) {
      if (max_in_flight_.compare_exchange_weak(seen, now)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto response = inner_->Do(request);
    --in_flight_;
    return response;
  }
  StatusOr<std::unique_ptr<client::WatchHandle>> Watch(
      const client::Resource& resource, const std::string& ns, const client::ListOptions& options,
      client::WatchCallback on_event, client::WatchClosedCallback on_closed) override {
    return inner_->Watch(resource, ns, options, std::move(on_event), std::move(on_closed));
  }
  int max_in_flight() const { return max_in_flight_; }

 private:
  client::Client* inner_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

TEST_F(StatefulSetTest, ParallelCreatesPetsConcurrentlyInGrowingBatches) {
  controller_.reset();  // this test's controller goes through the counting client
  CreateCountingClient counting(api());
  auto c = StatefulSetController::Start(&counting);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  controller_ = std::move(*c);
  Create(SetJson("wide", 40, {{"podManagementPolicy", "Parallel"}}));
  ASSERT_TRUE(WaitFor([&] {
    auto pods = api()->List(client::kPods, "default");
    return pods.ok() && pods->items.size() == 40;
  }));
  // Batches of 1, 2, 4, 8, 16, 9: one at a time would take 40 × 20 ms and
  // never have two in flight.
  EXPECT_GE(counting.max_in_flight(), 8);
  EXPECT_LE(counting.max_in_flight(), 32);
  controller_.reset();  // before the counting client goes
}

TEST_F(StatefulSetTest, DeletedPetComesBackWithItsNameOnlyOnceGone) {
  CreateReady(SetJson("web", 2));
  std::string old_uid = PodUid("web-0");
  ASSERT_TRUE(api()->Delete(client::kPods, "default", "web-0").ok());
  ASSERT_TRUE(Terminating("web-0"));
  EXPECT_TRUE(Consistently([&] { return PodUid("web-0") == old_uid; }))
      << "a replacement while the old pod terminates";
  Finish("web-0");
  ASSERT_TRUE(WaitFor([&] { return !PodUid("web-0").empty() && PodUid("web-0") != old_uid; }));
  EXPECT_EQ((*Pod("web-0"))["spec"]["hostname"], "web-0");
}

TEST_F(StatefulSetTest, FailedPodIsDeletedAndRecreated) {
  CreateReady(SetJson("web", 1));
  std::string old_uid = PodUid("web-0");
  Kubelet("web-0", /*ready=*/false, "Failed");
  ASSERT_TRUE(WaitFor([&] { return !PodUid("web-0").empty() && PodUid("web-0") != old_uid; }));
}

TEST_F(StatefulSetTest, ClaimsComeBeforePodsAndOutliveScaleDownUnderRetain) {
  Create(SetJson("db", 2, {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "1Gi")})}}));
  ASSERT_TRUE(WaitFor([&] { return Exists("db-0"); }));
  auto claim = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-0");
  ASSERT_TRUE(claim.ok()) << "the pod exists before its claim";
  EXPECT_EQ((*claim)["metadata"]["labels"]["app"], "db");
  EXPECT_FALSE((*claim)["metadata"].contains("ownerReferences"));
  EXPECT_LE(std::stoll((*claim)["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll((*Pod("db-0"))["metadata"]["resourceVersion"].get<std::string>()));
  json volumes = (*Pod("db-0"))["spec"]["volumes"];
  ASSERT_FALSE(volumes.empty());
  EXPECT_EQ(volumes[0]["name"], "data");
  EXPECT_EQ(volumes[0]["persistentVolumeClaim"]["claimName"], "data-db-0");
  Kubelet("db-0");
  WaitAndReady("db-1");
  ASSERT_TRUE(api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1").ok());

  Patch("db", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("db-1"); }));
  Finish("db-1");
  EXPECT_TRUE(Consistently([&] {
    auto c = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1");
    return c.ok() && !(*c)["metadata"].contains("ownerReferences");
  }));
  // Back up: the existing claim is used as is.
  std::string claim_uid =
      (*api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1"))["metadata"]["uid"];
  Patch("db", {{"spec", {{"replicas", 2}}}});
  ASSERT_TRUE(WaitFor([&] { return Exists("db-1"); }));
  EXPECT_EQ(
      (*api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1"))["metadata"]["uid"],
      claim_uid);
}

TEST_F(StatefulSetTest, RetentionPolicyDeleteSetsOwnerReferences) {
  json policy = {{"whenDeleted", "Delete"}, {"whenScaled", "Delete"}};
  CreateReady(SetJson("db", 2,
                      {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "1Gi")})},
                       {"persistentVolumeClaimRetentionPolicy", policy}}));
  std::string set_uid = Set("db")["metadata"]["uid"];
  auto claim = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1");
  ASSERT_TRUE(claim.ok());
  ASSERT_EQ((*claim)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ((*claim)["metadata"]["ownerReferences"][0]["uid"], set_uid);

  // Condemned: the claim now belongs to the pod, set before the pod goes.
  std::string pod_uid = PodUid("db-1");
  Patch("db", {{"spec", {{"replicas", 1}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("db-1"); }));
  claim = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1");
  ASSERT_TRUE(claim.ok());
  ASSERT_EQ((*claim)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ((*claim)["metadata"]["ownerReferences"][0]["kind"], "Pod");
  EXPECT_EQ((*claim)["metadata"]["ownerReferences"][0]["uid"], pod_uid);
  // In range, whenScaled=Delete only: no reference on db-0's claim.
  claim = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-0");
  EXPECT_EQ((*claim)["metadata"]["ownerReferences"][0]["uid"], set_uid);
}

TEST_F(StatefulSetTest, RollingUpdateGoesDownToThePartition) {
  CreateReady(SetJson(
      "web", 3,
      {{"updateStrategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 1}}}}}}));
  std::string old_rev = Set("web")["status"]["currentRevision"];
  Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-2"); }));
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-1"); })) << "web-1 before web-2 is back";
  Finish("web-2");
  ASSERT_TRUE(WaitFor([&] { return Exists("web-2") && !Terminating("web-2"); }));
  std::string new_rev = Set("web")["status"]["updateRevision"];
  EXPECT_NE(new_rev, old_rev);
  EXPECT_EQ(RevisionOf("web-2"), new_rev);
  EXPECT_EQ((*Pod("web-2"))["metadata"]["annotations"]["v"], "2");
  Kubelet("web-2");
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-1"); }));
  Finish("web-1");
  WaitAndReady("web-1");
  EXPECT_EQ(RevisionOf("web-1"), new_rev);
  // The partition holds web-0 at the old revision.
  EXPECT_TRUE(
      Consistently([&] { return !Terminating("web-0") && RevisionOf("web-0") == old_rev; }));
  ASSERT_TRUE(WaitFor([&] { return Set("web")["status"].value("updatedReplicas", 0) == 2; }));
  json status = Set("web")["status"];
  EXPECT_EQ(status["currentRevision"], old_rev);
  EXPECT_EQ(status["currentReplicas"], 1);

  // Partition 0 finishes the rollout; currentRevision follows.
  Patch("web", {{"spec", {{"updateStrategy", {{"rollingUpdate", {{"partition", 0}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-0"); }));
  Finish("web-0");
  WaitAndReady("web-0");
  ASSERT_TRUE(
      WaitFor([&] { return Set("web")["status"].value("currentRevision", "") == new_rev; }));
  EXPECT_EQ(Set("web")["status"]["currentReplicas"], 3);
  EXPECT_EQ(Revisions().size(), 2u);
}

TEST_F(StatefulSetTest, MaxUnavailableTwoReplacesTwoAtOnce) {
  CreateReady(SetJson("web", 4,
                      {{"podManagementPolicy", "Parallel"},
                       {"updateStrategy",
                        {{"type", "RollingUpdate"},
                         {"rollingUpdate", {{"partition", 0}, {"maxUnavailable", 2}}}}}}));
  Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-3") && Terminating("web-2"); }));
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-1") && !Terminating("web-0"); }));
  Finish("web-3");
  Finish("web-2");
  WaitAndReady("web-3");
  WaitAndReady("web-2");
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-1") && Terminating("web-0"); }));
}

TEST_F(StatefulSetTest, MaxUnavailablePercentRoundsUp) {
  json set = SetJson("web", 5);
  EXPECT_EQ(StatefulSetMaxUnavailable(set), 1);
  set["spec"]["updateStrategy"] = {{"rollingUpdate", {{"maxUnavailable", "30%"}}}};
  EXPECT_EQ(StatefulSetMaxUnavailable(set), 2);
  set["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = "1%";
  EXPECT_EQ(StatefulSetMaxUnavailable(set), 1);
  set["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 3;
  EXPECT_EQ(StatefulSetMaxUnavailable(set), 3);
}

TEST_F(StatefulSetTest, OnDeleteWaitsForTheUserAndRecreatesAtTheUpdateRevision) {
  CreateReady(SetJson("web", 2, {{"updateStrategy", {{"type", "OnDelete"}}}}));
  std::string old_rev = Set("web")["status"]["currentRevision"];
  Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "2"}}}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Set("web")["status"].value("updateRevision", "") != old_rev; }));
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-1") && !Terminating("web-0"); }));
  ASSERT_TRUE(api()->Delete(client::kPods, "default", "web-1").ok());
  Finish("web-1");
  ASSERT_TRUE(WaitFor([&] { return Exists("web-1"); }));
  EXPECT_EQ(RevisionOf("web-1"), Set("web")["status"]["updateRevision"]);
  EXPECT_EQ(RevisionOf("web-0"), old_rev);
}

TEST_F(StatefulSetTest, RollbackReusesTheOldRevisionAndHistoryIsPruned) {
  CreateReady(SetJson("web", 1, {{"revisionHistoryLimit", 1}}));
  std::string rev1 = Set("web")["status"]["currentRevision"];
  for (const char* v : {"2", "3"}) {
    Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", v}}}}}}}}}});
    ASSERT_TRUE(WaitFor([&] { return Terminating("web-0"); }));
    Finish("web-0");
    WaitAndReady("web-0");
    ASSERT_TRUE(WaitFor([&] {
      json s = Set("web")["status"];
      return s.value("currentRevision", "") == s.value("updateRevision", "") &&
             s.value("currentRevision", "") == RevisionOf("web-0");
    }));
  }
  // Three templates, limit 1: the live one plus one old revision remain.
  ASSERT_TRUE(WaitFor([&] { return Revisions().size() == 2; }));
  // Roll back as `kubectl rollout undo` does: send an old revision's data.
  json old;
  for (const json& r : Revisions()) {
    if (r["metadata"]["name"] != Set("web")["status"]["currentRevision"]) old = r;
  }
  ASSERT_TRUE(old.is_object());
  auto r = api()->Patch(client::kStatefulSets, "default", "web", client::PatchType::kStrategicMerge,
                        old["data"]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(WaitFor(
      [&] { return Set("web")["status"].value("updateRevision", "") == old["metadata"]["name"]; }));
  auto revs = Revisions();
  int64_t max_rev = 0, old_number = 0;
  for (const json& rev : revs) {
    max_rev = std::max<int64_t>(max_rev, rev["revision"].get<int64_t>());
    if (rev["metadata"]["name"] == old["metadata"]["name"]) old_number = rev["revision"];
  }
  EXPECT_EQ(old_number, max_rev) << "the reused revision is renumbered as the newest";
  EXPECT_EQ(old_number, 4);
}

TEST_F(StatefulSetTest, StuckRolloutHealsOnceTheTemplateIsFixed) {
  CreateReady(SetJson("web", 3));
  std::string good = Set("web")["status"]["currentRevision"];
  // A broken template: web-2 comes back at it and never gets Ready.
  Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", {{"v", "broken"}}}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-2"); }));
  Finish("web-2");
  ASSERT_TRUE(WaitFor([&] { return Exists("web-2") && RevisionOf("web-2") != good; }));
  Kubelet("web-2", /*ready=*/false);
  EXPECT_TRUE(Consistently([&] { return !Terminating("web-1"); }));
  // The fix (here: back to the good template). Kubernetes would wait for
  // web-2 forever; Kennel replaces it.
  Patch("web", {{"spec", {{"template", {{"metadata", {{"annotations", nullptr}}}}}}}});
  ASSERT_TRUE(WaitFor([&] { return Terminating("web-2"); }));
  Finish("web-2");
  ASSERT_TRUE(WaitFor([&] { return Exists("web-2") && RevisionOf("web-2") == good; }));
  Kubelet("web-2");
  ASSERT_TRUE(WaitFor([&] {
    json s = Set("web")["status"];
    return s.value("readyReplicas", 0) == 3 && s.value("updatedReplicas", 0) == 3;
  }));
}

TEST_F(StatefulSetTest, GrowingClaimTemplatesExpandsEveryClaimInOrder) {
  CreateReady(
      SetJson("db", 2, {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "1Gi")})}}));
  Patch("db", {{"spec", {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "2Gi")})}}}});
  auto request = [&](const std::string& claim) {
    auto c = api()->Get(client::kPersistentVolumeClaims, "default", claim);
    return c.ok() ? (*c)["spec"]["resources"]["requests"].value("storage", "") : "";
  };
  ASSERT_TRUE(
      WaitFor([&] { return request("data-db-0") == "2Gi" && request("data-db-1") == "2Gi"; }));
  auto c0 = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-0");
  auto c1 = api()->Get(client::kPersistentVolumeClaims, "default", "data-db-1");
  EXPECT_LT(std::stoll((*c0)["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll((*c1)["metadata"]["resourceVersion"].get<std::string>()));
  ASSERT_TRUE(WaitFor([&] {
    json conditions = Set("db")["status"].value("conditions", json::array());
    for (const json& c : conditions) {
      if (c["type"] == "VolumeClaimsResized") return c["status"] == "True";
    }
    return false;
  }));
  // The pods were left alone.
  EXPECT_FALSE(Terminating("db-0"));
  EXPECT_FALSE(Terminating("db-1"));
}

TEST_F(StatefulSetTest, ShrinkingClaimTemplatesIsRefused) {
  Create(SetJson("db", 1, {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "2Gi")})}}));
  auto r = api()->Patch(
      client::kStatefulSets, "default", "db", client::PatchType::kMerge,
      {{"spec", {{"volumeClaimTemplates", json::array({ClaimTemplate("data", "1Gi")})}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_NE(
      r.status().message().find("spec.volumeClaimTemplates[0].spec.resources.requests.storage"),
      std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("can not be less than previous value"), std::string::npos);
  // Other changes to the claim templates stay forbidden.
  json other = ClaimTemplate("data", "2Gi");
  other["spec"]["accessModes"] = {"ReadWriteMany"};
  r = api()->Patch(client::kStatefulSets, "default", "db", client::PatchType::kMerge,
                   {{"spec", {{"volumeClaimTemplates", json::array({other})}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Forbidden: updates to statefulset spec"), std::string::npos)
      << r.status().message();
}

TEST(StatefulSetRevisions, HashIsStableAndSpeltSafely) {
  json set = SetJson("web", 1);
  json data = StatefulSetRevisionData(set);
  EXPECT_EQ(data["spec"]["template"]["$patch"], "replace");
  std::string h = StatefulSetRevisionHash(data, 0);
  EXPECT_EQ(h, StatefulSetRevisionHash(data, 0));
  EXPECT_NE(h, StatefulSetRevisionHash(data, 1));
  EXPECT_EQ(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

}  // namespace
}  // namespace kennel::controllers
