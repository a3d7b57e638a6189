// StatefulSets on a real single-node cluster (`kennel up`, root only), driven
// by the real kubectl: ordered creation and deletion, `rollout
// status|history|undo`, a partitioned rolling update, a pet coming back with
// its name and hostname, and claims named after their pets.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kWeb = R"(apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: http, port: 80}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: host
        command: ["sleep", "infinity"]
        readinessProbe:
          exec: {command: ["true"]}
          periodSeconds: 1
)";

class StatefulSetE2eTest : public UpClusterTest {
 protected:
  // Names in the order they first appear in a `kubectl get -w` stream whose
  // lines are "NAME DELETED" (DELETED "<none>" or a timestamp), restricted to
  // lines where the pod is (deleting=true) or is not being deleted.
  static std::vector<std::string> FirstSeen(const std::string& out, bool deleting) {
    std::vector<std::string> order;
    std::istringstream in(out);
    std::string name, deleted;
    while (in >> name >> deleted) {
      if (name == "NAME") continue;
      if ((deleted != "<none>") != deleting) continue;
      if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
    }
    return order;
  }

  std::unique_ptr<BackgroundProcess> WatchPods() {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{
            "kubectl", "--kubeconfig", server_->kubeconfig(), "get", "pods", "-l", "app=web", "-w",
            "-o", "custom-columns=NAME:.metadata.name,DEL:.metadata.deletionTimestamp"},
        std::vector<std::string>{"KUBECACHEDIR=" + dir_.path() + "/kubectl-cache"});
  }

  std::string Jsonpath(const std::vector<std::string>& object, const std::string& path) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), object.begin(), object.end());
    args.push_back("-o");
    args.push_back("jsonpath=" + path);
    auto r = server_->Kubectl(args);
    return r.exit_code == 0 ? r.out : "";
  }

  void RolloutStatus() {
    auto r = server_->Kubectl({"rollout", "status", "statefulset/web", "--timeout=120s"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << server_->log();
  }
};

TEST_F(StatefulSetE2eTest, OrderedPetsScaleRollOutAndRollBackWithKubectl) {
  auto watch = WatchPods();
  Apply(kWeb);
  RolloutStatus();
  ASSERT_TRUE(watch->WaitForOutput("web-2", seconds(20))) << watch->output();
  EXPECT_EQ(FirstSeen(watch->output(), false),
            (std::vector<std::string>{"web-0", "web-1", "web-2"}))
      << watch->output();
  // web-1 came only after web-0 was Ready.
  std::string web0_ready =
      Jsonpath({"pod", "web-0"}, R"({.status.conditions[?(@.type=="Ready")].lastTransitionTime})");
  std::string web1_created = Jsonpath({"pod", "web-1"}, "{.metadata.creationTimestamp}");
  EXPECT_LE(web0_ready, web1_created);

  // Identity: hostname, subdomain, labels, owner.
  json pod = GetPod("web-1");
  EXPECT_EQ(pod["spec"]["hostname"], "web-1");
  EXPECT_EQ(pod["spec"]["subdomain"], "web");
  EXPECT_EQ(pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"], "1");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
  auto hostname = server_->Kubectl({"exec", "web-1", "--", "hostname"});
  EXPECT_EQ(hostname.out, "web-1\n") << hostname.err;

  // Scale down: web-2 goes before web-1; back up in order.
  server_->KubectlOk({"scale", "statefulset", "web", "--replicas=1"});
  ASSERT_TRUE(WaitFor(
      [&] {
        return server_->Kubectl({"get", "pod", "web-1"}).exit_code != 0;
      },
      seconds(60)))
      << server_->log();
  EXPECT_EQ(FirstSeen(watch->output(), true), (std::vector<std::string>{"web-2", "web-1"}))
      << watch->output();
  server_->KubectlOk({"scale", "statefulset", "web", "--replicas=3"});
  RolloutStatus();

  // A partitioned rolling update: only web-2 moves.
  std::string rev1 = Jsonpath({"statefulset", "web"}, "{.status.currentRevision}");
  server_->KubectlOk({"patch", "statefulset", "web", "-p",
                      R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}})"});
  server_->KubectlOk({"annotate", "statefulset", "web", "kubernetes.io/change-cause=v2"});
  server_->KubectlOk({"patch", "statefulset", "web", "-p",
                      R"({"spec":{"template":{"metadata":{"annotations":{"v":"2"}}}}})"});
  RolloutStatus();
  std::string rev2 = Jsonpath({"statefulset", "web"}, "{.status.updateRevision}");
  EXPECT_NE(rev1, rev2);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Jsonpath({"pod", "web-2"}, "{.metadata.labels.controller-revision-hash}") == rev2;
      },
      seconds(60)));
  EXPECT_EQ(Jsonpath({"pod", "web-0"}, "{.metadata.labels.controller-revision-hash}"), rev1);
  EXPECT_EQ(Jsonpath({"pod", "web-1"}, "{.metadata.labels.controller-revision-hash}"), rev1);

  // The rest of the rollout, then history and undo.
  server_->KubectlOk({"patch", "statefulset", "web", "-p",
                      R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}})"});
  RolloutStatus();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Jsonpath({"statefulset", "web"}, "{.status.currentRevision}") == rev2;
      },
      seconds(60)));
  std::string history = server_->KubectlOk({"rollout", "history", "statefulset/web"});
  EXPECT_NE(history.find("REVISION"), std::string::npos) << history;
  EXPECT_NE(history.find("1 "), std::string::npos) << history;
  EXPECT_NE(history.find("2 "), std::string::npos) << history;
  EXPECT_NE(history.find("v2"), std::string::npos) << history;
  std::string detail =
      server_->KubectlOk({"rollout", "history", "statefulset/web", "--revision=2"});
  EXPECT_NE(detail.find("Pod Template"), std::string::npos) << detail;

  server_->KubectlOk({"rollout", "undo", "statefulset/web"});
  RolloutStatus();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Jsonpath({"statefulset", "web"}, "{.status.currentRevision}") == rev1 &&
               Jsonpath({"pod", "web-0"}, "{.metadata.labels.controller-revision-hash}") == rev1;
      },
      seconds(90)))
      << server_->KubectlOk({"get", "statefulset", "web", "-o", "yaml"});
  EXPECT_EQ(Jsonpath({"pod", "web-2"}, "{.metadata.annotations.v}"), "");
  history = server_->KubectlOk({"rollout", "history", "statefulset/web"});
  EXPECT_NE(history.find("3 "), std::string::npos) << history;

  // A pet deleted comes back with its name and hostname (and a new uid).
  std::string uid = Jsonpath({"pod", "web-1"}, "{.metadata.uid}");
  server_->KubectlOk({"delete", "pod", "web-1"});
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string now = Jsonpath({"pod", "web-1"}, "{.metadata.uid}");
        return !now.empty() && now != uid;
      },
      seconds(60)));
  RolloutStatus();
  hostname = server_->Kubectl({"exec", "web-1", "--", "hostname"});
  EXPECT_EQ(hostname.out, "web-1\n") << hostname.err;
  watch->Kill();
}

TEST_F(StatefulSetE2eTest, ClaimsAreNamedAfterTheirPets) {
  Apply(R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: host
        command: ["sleep", "infinity"]
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Mi}}
)");
  ASSERT_TRUE(WaitFor(
      [&] {
        return server_->Kubectl({"get", "pvc", "data-db-0"}).exit_code == 0 &&
               server_->Kubectl({"get", "pvc", "data-db-1"}).exit_code == 0;
      },
      seconds(30)))
      << server_->log();
  ASSERT_TRUE(WaitFor([&] { return GetPod("db-1").is_object(); }, seconds(30)));
  json pod = GetPod("db-1");
  bool found = false;
  for (const json& v : pod["spec"]["volumes"]) {
    if (v["name"] == "data") {
      EXPECT_EQ(v["persistentVolumeClaim"]["claimName"], "data-db-1");
      found = true;
    }
  }
  EXPECT_TRUE(found) << pod.dump(2);
  // Volume data persistence across a pet's restart needs the storage
  // provisioner; it is tested with it.
}

}  // namespace
}  // namespace kennel::e2e
