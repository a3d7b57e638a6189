// Stable storage on a real `kennel up`: the default local-path class, dynamic
// provisioning on the node, data that outlives pods, reclaim policies, and
// `kubectl get pv,pvc` as Kubernetes prints them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "up_cluster.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;

class StorageTest : public UpClusterTest {
 protected:
  json Get(const std::vector<std::string>& what) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.push_back("-o");
    args.push_back("json");
    auto r = server_->Kubectl(args);
    if (r.exit_code != 0) return json();
    return json::parse(r.out, nullptr, false);
  }

  std::string WaitClaimBound(const std::string& name) {
    json claim;
    EXPECT_TRUE(WaitFor(
        [&] {
          claim = Get({"pvc", name});
          return claim.is_object() && claim["status"].value("phase", "") == "Bound";
        },
        std::chrono::seconds(60)))
        << claim.dump(2) << server_->log();
    return claim.is_object() ? claim["spec"].value("volumeName", "") : "";
  }

  bool Gone(const std::vector<std::string>& what) {
    return WaitFor(
        [&] {
          std::vector<std::string> args = {"get"};
          args.insert(args.end(), what.begin(), what.end());
          auto r = server_->Kubectl(args);
          return r.exit_code != 0 && r.err.find("NotFound") != std::string::npos;
        },
        std::chrono::seconds(60));
  }

  // A pod on the claim "data" running `script` once, scheduled by the scheduler.
  static std::string PodOnClaim(const std::string& name, const std::string& script) {
    std::string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ";
    pod += name;
    pod +=
        "\nspec:\n  restartPolicy: Never\n  volumes:\n  - name: data\n    persistentVolumeClaim:\n"
        "      claimName: data\n  containers:\n  - name: app\n    image: host\n"
        "    command: [\"sh\", \"-c\", \"";
    pod += script;
    pod += "\"]\n    volumeMounts: [{name: data, mountPath: /data}]\n";
    return pod;
  }
};

TEST_F(StorageTest, ProvisionedVolumeKeepsDataAcrossPodsAndGoesWithItsClaim) {
  Apply(R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 64Mi
)");
  json claim = Get({"pvc", "data"});
  ASSERT_TRUE(claim.is_object());
  EXPECT_EQ(claim["spec"]["storageClassName"], "local-path");  // the default class
  Apply(PodOnClaim("writer", "echo kept > /data/file"));
  WaitPod(
      "writer", [](const json& p) { return Phase(p, "Succeeded"); }, std::chrono::seconds(60));
  std::string volume = WaitClaimBound("data");
  std::string expected = "pvc-";
  expected += claim["metadata"]["uid"].get<std::string>();
  ASSERT_EQ(volume, expected);
  json pv = Get({"pv", volume});
  ASSERT_TRUE(pv.is_object());
  EXPECT_EQ(pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
              ["values"][0],
            node_);
  EXPECT_EQ(pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
            "kennel.io/local-path");
  EXPECT_EQ(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
  std::string dir = pv["spec"]["local"]["path"];
  EXPECT_EQ(dir,
            (std::filesystem::path(dir_.path()) / "volumes" / volume).lexically_normal().string());
  std::ifstream file(dir + "/file");
  std::string content;
  std::getline(file, content);
  EXPECT_EQ(content, "kept");

  // Another pod on the same claim reads what the first wrote.
  ASSERT_EQ(server_->Kubectl({"delete", "pod", "writer"}).exit_code, 0);
  Apply(PodOnClaim("reader", "cat /data/file"));
  json reader = WaitPod(
      "reader", [](const json& p) { return Phase(p, "Succeeded"); }, std::chrono::seconds(60));
  EXPECT_EQ(Logs(reader, "app"), "kept\n");

  // Columns as Kubernetes prints them.
  auto table = server_->Kubectl({"get", "pv,pvc"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* column : {"CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM",
                             "STORAGECLASS", "VOLUME", "AGE"}) {
    EXPECT_NE(table.out.find(column), std::string::npos) << column << "\n" << table.out;
  }
  for (const char* cell : {"64Mi", "RWO", "Delete", "Bound", "default/data", "local-path"}) {
    EXPECT_NE(table.out.find(cell), std::string::npos) << cell << "\n" << table.out;
  }

  // Delete policy: the claim gone, the volume and its directory go too.
  ASSERT_EQ(server_->Kubectl({"delete", "pod", "reader"}).exit_code, 0);
  ASSERT_EQ(server_->Kubectl({"delete", "pvc", "data"}).exit_code, 0);
  EXPECT_TRUE(Gone({"pv", volume})) << server_->log();
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(dir); }, std::chrono::seconds(30)));
}

TEST_F(StorageTest, APodStartsPromptlyOnceItsLateClaimIsBound) {
  // A pod on this node whose claim has no volume yet: it waits in
  // ContainerCreating, saying so.
  Apply(R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: late
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {for: late}}
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: waits
spec:
  nodeName: NODE
  terminationGracePeriodSeconds: 1  # sleep as PID 1 ignores SIGTERM
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: late}
  containers:
  - name: app
    image: host
    command: ["sleep", "infinity"]
    volumeMounts: [{name: data, mountPath: /data}]
)");
  ASSERT_TRUE(WaitFor(
      [&] {
        json pod = Get({"pod", "waits"});
        return pod.is_object() && pod.dump().find("is not bound yet") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << server_->log();
  // Long enough for a failure's back-off to have grown to seconds (5 ms
  // doubling: the 11th retry comes 5 s after the 10th), which is what a pod
  // waiting for its claim must not be subject to.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  auto bound_at = std::chrono::steady_clock::now();
  Apply(R"(apiVersion: v1
kind: PersistentVolume
metadata:
  name: late-volume
  labels: {for: late}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath: {path: DIR/late, type: DirectoryOrCreate}
)");
  ASSERT_TRUE(WaitFor(
      [&] {
        json pod = Get({"pod", "waits"});
        return pod.is_object() && pod["status"].value("phase", "") == "Running";
      },
      std::chrono::seconds(30)))
      << Get({"pod", "waits"}).dump(2) << Get({"pvc", "late"}).dump(2) << server_->log();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - bound_at);
  EXPECT_LT(took.count(), 2000) << "the pod ran " << took.count() << " ms after its volume came";
}

TEST_F(StorageTest, StaticRetainVolumeBindsAndIsReleased) {
  Apply(R"(apiVersion: v1
kind: PersistentVolume
metadata:
  name: static
  labels: {disk: ssd}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: DIR/static, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: wants-ssd
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {disk: ssd}}
  resources:
    requests:
      storage: 1Gi
)");
  EXPECT_EQ(WaitClaimBound("wants-ssd"), "static");
  json claim = Get({"pvc", "wants-ssd"});
  EXPECT_EQ(claim["status"]["capacity"]["storage"], "2Gi");
  ASSERT_EQ(server_->Kubectl({"delete", "pvc", "wants-ssd"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        json pv = Get({"pv", "static"});
        return pv.is_object() && pv["status"].value("phase", "") == "Released";
      },
      std::chrono::seconds(30)));
  auto table = server_->Kubectl({"get", "pv", "static"});
  EXPECT_NE(table.out.find("Released"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Retain"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("default/wants-ssd"), std::string::npos) << table.out;
}

TEST_F(StorageTest, ClaimWithoutVolumesOrClassSaysWhy) {
  Apply(R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orphan
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
)");
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = server_->Kubectl({"get", "events", "--field-selector",
                                   "involvedObject.name=orphan,reason=FailedBinding"});
        return r.out.find("no storage class is set") != std::string::npos;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(Get({"pvc", "orphan"})["status"]["phase"], "Pending");
}

}  // namespace
}  // namespace kennel::e2e
