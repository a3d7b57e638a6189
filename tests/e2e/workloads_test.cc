// Deployments, ReplicaSets and cascading deletion through the real kubectl
// against a real `kennel server`. No agent runs pods: they stay Pending, and
// where a test needs them Ready it sets their status as an agent would
// (`kubectl patch --subresource=status`).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr auto kDeadline = seconds(30);

class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<KennelServer>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  std::string Ok(const std::vector<std::string>& args, const std::string& in = "") {
    return server_->KubectlOk(args, in);
  }

  json GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> a = args;
    a.push_back("-o");
    a.push_back("json");
    RunResult r = server_->Kubectl(a);
    if (r.exit_code != 0) return json();
    return json::parse(r.out, nullptr, false);
  }

  std::vector<json> Items(const std::string& kind, const std::string& selector = "") {
    std::vector<std::string> args = {"get", kind};
    if (!selector.empty()) {
      args.push_back("-l");
      args.push_back(selector);
    }
    json list = GetJson(args);
    if (!list.is_object() || !list.contains("items")) return {};
    return list["items"].get<std::vector<json>>();
  }

  // Pods of app=web not being deleted.
  std::vector<json> LivePods() {
    std::vector<json> out;
    for (const json& p : Items("pods", "app=web")) {
      if (!p["metadata"].contains("deletionTimestamp")) out.push_back(p);
    }
    return out;
  }

  // Marks every pod of app=web Running and Ready.
  void MakePodsReady() {
    for (const json& p : LivePods()) {
      if (p.value("status", json::object()).value("phase", "") == "Running") continue;
      server_->Kubectl(
          {"patch", "pod", p["metadata"]["name"], "--subresource=status", "--type=merge", "-p",
           R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})"});
    }
  }

  bool RolledOut(int replicas) {
    json d = GetJson({"get", "deployment", "web"});
    if (!d.is_object()) return false;
    json s = d.value("status", json::object());
    return s.value("observedGeneration", 0) >= d["metadata"].value("generation", 1) &&
           s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas &&
           s.value("availableReplicas", 0) == replicas;
  }

  // Creates deployment web (image host) with n replicas, its pods Ready.
  void CreateRolledOut(int n) {
    Ok({"create", "deployment", "web", "--image=host", "--replicas=" + std::to_string(n)});
    ASSERT_TRUE(WaitFor(
        [&] {
          MakePodsReady();
          return RolledOut(n);
        },
        kDeadline))
        << GetJson({"get", "deployment", "web"}).dump();
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
};

TEST_F(WorkloadsTest, CreateDeploymentMakesAReplicaSetAndPods) {
  Ok({"create", "deployment", "web", "--image=host", "--replicas=3"});
  ASSERT_TRUE(WaitFor([&] { return LivePods().size() == 3; }, kDeadline));
  std::vector<json> sets = Items("rs", "app=web");
  ASSERT_EQ(sets.size(), 1u);
  std::string rs = sets[0]["metadata"]["name"];
  std::string hash = sets[0]["metadata"]["labels"]["pod-template-hash"];
  EXPECT_EQ(rs, std::string("web-").append(hash));
  for (const json& p : LivePods()) {
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["name"], rs);
    EXPECT_EQ(p["metadata"]["labels"]["pod-template-hash"], hash);
  }
  // Pods that never run leave it unavailable.
  EXPECT_TRUE(WaitFor(
      [&] {
        json d = GetJson({"get", "deployment", "web"});
        return d.is_object() &&
               d.value("status", json::object()).value("unavailableReplicas", 0) == 3;
      },
      kDeadline));
}

TEST_F(WorkloadsTest, RolloutStatusScaleSetImageHistoryAndUndo) {
  CreateRolledOut(2);
  std::string out = Ok({"rollout", "status", "deployment/web", "--timeout=20s"});
  EXPECT_NE(out.find("successfully rolled out"), std::string::npos) << out;

  Ok({"scale", "deployment", "web", "--replicas=4"});
  ASSERT_TRUE(WaitFor(
      [&] {
        MakePodsReady();
        return RolledOut(4);
      },
      kDeadline));

  Ok({"annotate", "deployment", "web", "kubernetes.io/change-cause=to host2"});
  Ok({"set", "image", "deployment/web", "host=host2"});
  ASSERT_TRUE(WaitFor(
      [&] {
        MakePodsReady();
        return Items("rs", "app=web").size() == 2 && RolledOut(4);
      },
      kDeadline))
      << GetJson({"get", "deployment", "web"}).dump();
  out = Ok({"rollout", "history", "deployment/web"});
  EXPECT_NE(out.find("1 "), std::string::npos) << out;
  EXPECT_NE(out.find("2         to host2"), std::string::npos) << out;

  Ok({"rollout", "undo", "deployment/web"});
  ASSERT_TRUE(WaitFor(
      [&] {
        MakePodsReady();
        json d = GetJson({"get", "deployment", "web"});
        return d.is_object() && d["spec"]["template"]["spec"]["containers"][0]["image"] == "host" &&
               RolledOut(4);
      },
      kDeadline))
      << GetJson({"get", "deployment", "web"}).dump();
  json d = GetJson({"get", "deployment", "web"});
  EXPECT_EQ(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
  out = Ok({"rollout", "history", "deployment/web"});
  EXPECT_NE(out.find("3 "), std::string::npos) << out;
}

TEST_F(WorkloadsTest, DeleteBackgroundRemovesReplicaSetsAndPods) {
  CreateRolledOut(2);
  Ok({"delete", "deployment", "web", "--cascade=background"});
  EXPECT_TRUE(
      WaitFor([&] { return Items("rs", "app=web").empty() && Items("pods", "app=web").empty(); },
              kDeadline));
}

TEST_F(WorkloadsTest, DeleteForegroundRemovesDependentsBeforeTheOwner) {
  CreateRolledOut(2);
  // kubectl waits for the deployment to be gone, which the foreground
  // finalizer holds until its ReplicaSet (and so its pods) are gone.
  Ok({"delete", "deployment", "web", "--cascade=foreground"});
  EXPECT_TRUE(Items("rs", "app=web").empty());
  EXPECT_TRUE(LivePods().empty());
}

TEST_F(WorkloadsTest, DeleteOrphanLeavesReplicaSetAndPodsWithoutTheOwner) {
  CreateRolledOut(2);
  Ok({"delete", "deployment", "web", "--cascade=orphan"});
  std::vector<json> sets = Items("rs", "app=web");
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_FALSE(sets[0]["metadata"].contains("ownerReferences")) << sets[0].dump();
  // The ReplicaSet keeps (and still controls) its pods.
  std::vector<json> pods = LivePods();
  EXPECT_EQ(pods.size(), 2u);
  for (const json& p : pods) {
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet") << p.dump();
  }
  // And a new deployment with the same selector adopts it back.
  Ok({"create", "deployment", "web", "--image=host", "--replicas=2"});
  EXPECT_TRUE(WaitFor(
      [&] {
        std::vector<json> s = Items("rs", "app=web");
        return s.size() == 1 && s[0]["metadata"].contains("ownerReferences");
      },
      kDeadline));
}

}  // namespace
}  // namespace kennel::e2e
