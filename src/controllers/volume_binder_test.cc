#include "controllers/volume_binder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "client/test_cluster.h"

namespace kennel::controllers {
namespace {

using client::json;

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string s;
  ((s += parts), ...);
  return s;
}

bool Eventually(const std::function<bool()>& cond) {
  return client::Eventually(cond, std::chrono::seconds(10));
}

class VolumeBinderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    VolumeBinderOptions options;
    options.resync = std::chrono::milliseconds(300);
    auto started = VolumeBinder::Start(client(), options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    binder_ = std::move(started).value();
  }

  client::Client* client() { return cluster_.client(); }

  json Pv(const std::string& name, const std::string& size, json modes = {"ReadWriteOnce"},
          const std::string& cls = "", const std::string& policy = "Retain") {
    json pv = {{"apiVersion", "v1"},
               {"kind", "PersistentVolume"},
               {"metadata", {{"name", name}}},
               {"spec",
                {{"capacity", {{"storage", size}}},
                 {"accessModes", modes},
                 {"persistentVolumeReclaimPolicy", policy},
                 {"hostPath", {{"path", Cat("/tmp/", name)}}}}}};
    if (!cls.empty()) pv["spec"]["storageClassName"] = cls;
    return pv;
  }
  json CreatePv(const json& pv) {
    auto created = client()->Create(client::kPersistentVolumes, "", pv);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  // class_name: nullptr leaves storageClassName out (the default applies).
  json Claim(const std::string& name, const std::string& size, const char* class_name = "",
             json modes = {"ReadWriteOnce"}) {
    json claim = {
        {"apiVersion", "v1"},
        {"kind", "PersistentVolumeClaim"},
        {"metadata", {{"name", name}, {"namespace", "default"}}},
        {"spec", {{"accessModes", modes}, {"resources", {{"requests", {{"storage", size}}}}}}}};
    if (class_name != nullptr) claim["spec"]["storageClassName"] = class_name;
    return claim;
  }
  json CreateClaim(const json& claim) {
    auto created = client()->Create(client::kPersistentVolumeClaims, "default", claim);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  json GetClaim(const std::string& name) {
    auto c = client()->Get(client::kPersistentVolumeClaims, "default", name);
    return c.ok() ? *c : json();
  }
  json GetPv(const std::string& name) {
    auto v = client()->Get(client::kPersistentVolumes, "", name);
    return v.ok() ? *v : json();
  }
  static std::string Phase(const json& o) {
    return o.is_object() ? o.value("status", json::object()).value("phase", "") : "";
  }

  // Waits for the claim to be Bound and returns it.
  json WaitBound(const std::string& name) {
    json claim;
    EXPECT_TRUE(Eventually([&] {
      claim = GetClaim(name);
      return Phase(claim) == "Bound";
    })) << claim.dump(2);
    return claim;
  }

  // An Event on the object with that reason, whose message contains `text`.
  bool HasEvent(const std::string& object, const std::string& reason, const std::string& text) {
    return Eventually([&] {
      auto list = client()->List(client::kEvents, "default");
      if (!list.ok()) return false;
      for (const json& e : list->items) {
        if (e.value("involvedObject", json::object()).value("name", "") == object &&
            e.value("reason", "") == reason &&
            e.value("message", "").find(text) != std::string::npos) {
          return true;
        }
      }
      return false;
    });
  }

  // A ready node with local storage whose agent published its volume root.
  void CreateNode(const std::string& name, const std::string& storage = "100Gi") {
    json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata",
                  {{"name", name},
                   {"labels", {{"kubernetes.io/hostname", name}}},
                   {"annotations", {{kVolumeRootAnnotation, Cat("/data/", name, "/volumes")}}}}},
                 {"status",
                  {{"allocatable", {{"kennel.io/local-storage", storage}, {"cpu", "4"}}},
                   {"capacity", {{"kennel.io/local-storage", storage}, {"cpu", "4"}}},
                   {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
    auto created = client()->Create(client::kNodes, "", node);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void CreateClass(const std::string& name, const std::string& provisioner, const std::string& mode,
                   bool expandable) {
    json sc = {{"apiVersion", "storage.k8s.io/v1"}, {"kind", "StorageClass"},
               {"metadata", {{"name", name}}},      {"provisioner", provisioner},
               {"volumeBindingMode", mode},         {"allowVolumeExpansion", expandable}};
    auto created = client()->Create(client::kStorageClasses, "", sc);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  client::TestCluster cluster_;
  std::unique_ptr<VolumeBinder> binder_;
};

TEST_F(VolumeBinderTest, ClaimBindsTheSmallestVolumeThatFits) {
  CreatePv(Pv("small", "1Gi"));
  CreatePv(Pv("medium", "5Gi"));
  CreatePv(Pv("large", "10Gi"));
  json claim = CreateClaim(Claim("data", "3Gi"));
  json bound = WaitBound("data");
  EXPECT_EQ(bound["spec"]["volumeName"], "medium");
  EXPECT_EQ(bound["metadata"]["annotations"][kBindCompletedAnnotation], "yes");
  EXPECT_EQ(bound["metadata"]["annotations"][kBoundByControllerAnnotation], "yes");
  EXPECT_EQ(bound["status"]["capacity"]["storage"], "5Gi");
  EXPECT_EQ(bound["status"]["accessModes"], json({"ReadWriteOnce"}));
  json pv;
  ASSERT_TRUE(Eventually([&] {
    pv = GetPv("medium");
    return Phase(pv) == "Bound";
  })) << pv.dump(2);
  EXPECT_EQ(pv["spec"]["claimRef"]["name"], "data");
  EXPECT_EQ(pv["spec"]["claimRef"]["namespace"], "default");
  EXPECT_EQ(pv["spec"]["claimRef"]["uid"], claim["metadata"]["uid"]);
  EXPECT_EQ(pv["metadata"]["annotations"][kBoundByControllerAnnotation], "yes");
  EXPECT_EQ(Phase(GetPv("small")), "Available");
  EXPECT_EQ(Phase(GetPv("large")), "Available");
}

TEST_F(VolumeBinderTest, VolumeMustOfferEveryAccessModeTheClaimAsks) {
  CreatePv(Pv("rwo", "1Gi", {"ReadWriteOnce"}));
  CreatePv(Pv("rwx", "2Gi", {"ReadWriteOnce", "ReadWriteMany"}));
  CreateClaim(Claim("shared", "1Gi", "", {"ReadWriteMany", "ReadWriteOnce"}));
  EXPECT_EQ(WaitBound("shared")["spec"]["volumeName"], "rwx");
}

TEST_F(VolumeBinderTest, ClassSelectorAndVolumeModeMustMatch) {
  CreateClass("fast", "kubernetes.io/no-provisioner", "Immediate", false);
  CreatePv(Pv("other-class", "1Gi", {"ReadWriteOnce"}, "fast"));
  json block = Pv("block", "1Gi");
  block["spec"]["volumeMode"] = "Block";
  CreatePv(block);
  json unlabelled = Pv("unlabelled", "1Gi");
  CreatePv(unlabelled);
  json labelled = Pv("labelled", "2Gi");
  labelled["metadata"]["labels"] = {{"tier", "gold"}};
  CreatePv(labelled);
  json claim = Claim("picky", "1Gi");
  claim["spec"]["selector"] = {{"matchLabels", {{"tier", "gold"}}}};
  CreateClaim(claim);
  EXPECT_EQ(WaitBound("picky")["spec"]["volumeName"], "labelled");
  // "" matches only volumes without a class; a class only its volumes.
  CreateClaim(Claim("plain", "1Gi"));
  EXPECT_EQ(WaitBound("plain")["spec"]["volumeName"], "unlabelled");
  CreateClaim(Claim("in-class", "1Gi", "fast"));
  EXPECT_EQ(WaitBound("in-class")["spec"]["volumeName"], "other-class");
  json raw = Claim("raw", "1Gi");
  raw["spec"]["volumeMode"] = "Block";
  CreateClaim(raw);
  EXPECT_EQ(WaitBound("raw")["spec"]["volumeName"], "block");
}

TEST_F(VolumeBinderTest, ClaimNamingAVolumeBindsItWhenCompatible) {
  CreatePv(Pv("big", "10Gi"));
  CreatePv(Pv("exact", "1Gi"));
  json wanted = Claim("wants-big", "1Gi");
  wanted["spec"]["volumeName"] = "big";
  CreateClaim(wanted);
  json bound = WaitBound("wants-big");
  EXPECT_EQ(bound["spec"]["volumeName"], "big");
  // The user chose the volume: not bound by the controller.
  EXPECT_FALSE(bound["metadata"]["annotations"].contains(kBoundByControllerAnnotation));
  EXPECT_EQ(bound["metadata"]["annotations"][kBindCompletedAnnotation], "yes");

  json too_big = Claim("too-big", "5Gi");
  too_big["spec"]["volumeName"] = "exact";
  CreateClaim(too_big);
  EXPECT_TRUE(HasEvent("too-big", "VolumeMismatch", "requested PV is too small"));
  EXPECT_EQ(Phase(GetClaim("too-big")), "Pending");
  EXPECT_EQ(Phase(GetPv("exact")), "Available");
}

TEST_F(VolumeBinderTest, PreBoundVolumeWaitsForItsClaim) {
  json pv = Pv("reserved", "1Gi");
  pv["spec"]["claimRef"] = {{"namespace", "default"}, {"name", "owner"}};
  CreatePv(pv);
  CreateClaim(Claim("stranger", "1Gi"));
  EXPECT_TRUE(HasEvent("stranger", "FailedBinding", "no persistent volumes available"));
  json owner = CreateClaim(Claim("owner", "1Gi"));
  WaitBound("owner");
  json bound = GetPv("reserved");
  EXPECT_EQ(bound["spec"]["claimRef"]["uid"], owner["metadata"]["uid"]);
  // The user pre-bound it: not bound by the controller.
  EXPECT_FALSE(bound["metadata"]
                   .value("annotations", json::object())
                   .contains(kBoundByControllerAnnotation));
}

TEST_F(VolumeBinderTest, ClaimThatCannotBindSaysWhyAndStaysPending) {
  CreateClaim(Claim("lonely", "1Gi"));
  EXPECT_TRUE(HasEvent("lonely", "FailedBinding",
                       "no persistent volumes available for this claim and no storage class is "
                       "set"));
  EXPECT_EQ(Phase(GetClaim("lonely")), "Pending");
  CreateClaim(Claim("classless", "1Gi", "missing"));
  EXPECT_TRUE(HasEvent("classless", "ProvisioningFailed",
                       "storageclass.storage.k8s.io \"missing\" not found"));
  CreateClass("external", "example.com/nfs", "Immediate", false);
  CreateClaim(Claim("external", "1Gi", "external"));
  EXPECT_TRUE(HasEvent("external", "ExternalProvisioning", "'example.com/nfs'"));
}

TEST_F(VolumeBinderTest, DeletedClaimReleasesARetainedVolume) {
  CreatePv(Pv("keep", "1Gi"));
  CreateClaim(Claim("data", "1Gi"));
  WaitBound("data");
  ASSERT_TRUE(client()->Delete(client::kPersistentVolumeClaims, "default", "data").ok());
  json pv;
  ASSERT_TRUE(Eventually([&] {
    pv = GetPv("keep");
    return Phase(pv) == "Released";
  })) << pv.dump(2);
  // Released keeps its claimRef: a new claim does not get the old data.
  CreateClaim(Claim("next", "1Gi"));
  EXPECT_TRUE(HasEvent("next", "FailedBinding", "no persistent volumes available"));
  EXPECT_EQ(Phase(GetPv("keep")), "Released");
}

TEST_F(VolumeBinderTest, DeletedClaimDeletesADeleteVolume) {
  CreatePv(Pv("scratch", "1Gi", {"ReadWriteOnce"}, "", "Delete"));
  CreateClaim(Claim("data", "1Gi"));
  WaitBound("data");
  ASSERT_TRUE(client()->Delete(client::kPersistentVolumeClaims, "default", "data").ok());
  EXPECT_TRUE(Eventually([&] {
    auto pv = client()->Get(client::kPersistentVolumes, "", "scratch");
    return !pv.ok() && pv.status().code() == Code::kNotFound;
  }));
}

TEST_F(VolumeBinderTest, ClaimWhoseVolumeVanishedIsLost) {
  CreatePv(Pv("fragile", "1Gi"));
  CreateClaim(Claim("data", "1Gi"));
  WaitBound("data");
  ASSERT_TRUE(client()->Delete(client::kPersistentVolumes, "", "fragile").ok());
  EXPECT_TRUE(Eventually([&] { return Phase(GetClaim("data")) == "Lost"; }));
  EXPECT_TRUE(HasEvent("data", "ClaimLost", "Bound claim has lost its PersistentVolume"));
}

TEST_F(VolumeBinderTest, ClaimWithoutClassGetsTheDefaultClass) {
  json sc;
  ASSERT_TRUE(Eventually([&] {
    auto got = client()->Get(client::kStorageClasses, "", "local-path");
    if (got.ok()) sc = *got;
    return got.ok();
  }));
  EXPECT_EQ(sc["provisioner"], "kennel.io/local-path");
  EXPECT_EQ(sc["volumeBindingMode"], "WaitForFirstConsumer");
  EXPECT_EQ(sc["reclaimPolicy"], "Delete");
  EXPECT_EQ(sc["allowVolumeExpansion"], true);
  EXPECT_EQ(sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"], "true");
  json defaulted = CreateClaim(Claim("defaulted", "1Gi", nullptr));
  EXPECT_EQ(defaulted["spec"]["storageClassName"], "local-path");
  json none = CreateClaim(Claim("none", "1Gi", ""));
  EXPECT_EQ(none["spec"]["storageClassName"], "");
}

TEST_F(VolumeBinderTest, WaitForFirstConsumerProvisionsOnTheSelectedNode) {
  CreateNode("n1");
  CreateNode("n2");
  json claim = CreateClaim(Claim("data", "2Gi", nullptr));
  EXPECT_TRUE(HasEvent("data", "WaitForFirstConsumer",
                       "waiting for first consumer to be created before binding"));
  EXPECT_EQ(Phase(GetClaim("data")), "Pending");
  // What the scheduler does when it places the claim's first pod.
  json patch = {{"metadata", {{"annotations", {{kSelectedNodeAnnotation, "n2"}}}}}};
  ASSERT_TRUE(client()
                  ->Patch(client::kPersistentVolumeClaims, "default", "data",
                          client::PatchType::kMerge, patch)
                  .ok());
  json bound = WaitBound("data");
  std::string uid = claim["metadata"]["uid"];
  std::string name = Cat("pvc-", uid);
  EXPECT_EQ(bound["spec"]["volumeName"], name);
  EXPECT_EQ(bound["status"]["capacity"]["storage"], "2Gi");
  json pv = GetPv(name);
  EXPECT_EQ(pv["spec"]["local"]["path"], Cat("/data/n2/volumes/", name));
  EXPECT_EQ(pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0],
            json({{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"n2"}}}));
  EXPECT_EQ(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
  EXPECT_EQ(pv["spec"]["storageClassName"], "local-path");
  EXPECT_EQ(pv["spec"]["capacity"]["storage"], "2Gi");
  EXPECT_EQ(pv["spec"]["claimRef"]["uid"], uid);
  EXPECT_EQ(pv["metadata"]["annotations"][kProvisionedByAnnotation], "kennel.io/local-path");
  EXPECT_EQ(pv["metadata"]["labels"][kLocalPathNodeLabel], "n2");
  EXPECT_TRUE(HasEvent("data", "Provisioning", "provisioning volume for claim \"default/data\""));
  EXPECT_TRUE(
      HasEvent("data", "ProvisioningSucceeded", Cat("Successfully provisioned volume ", name)));
  EXPECT_TRUE(Eventually([&] { return Phase(GetPv(name)) == "Bound"; }));
}

TEST_F(VolumeBinderTest, ImmediateProvisioningPicksANodeWithRoom) {
  CreateNode("tiny", "1Gi");
  CreateNode("roomy", "50Gi");
  CreateClass("now", "kennel.io/local-path", "Immediate", true);
  json claim = CreateClaim(Claim("data", "5Gi", "now"));
  json bound = WaitBound("data");
  json pv = GetPv(bound["spec"]["volumeName"]);
  EXPECT_EQ(pv["metadata"]["labels"][kLocalPathNodeLabel], "roomy");
  EXPECT_EQ(pv["spec"]["local"]["path"],
            Cat("/data/roomy/volumes/pvc-", claim["metadata"]["uid"].get<std::string>()));
  // Nothing has 100Gi: the claim says so and waits.
  CreateClaim(Claim("huge", "100Gi", "now"));
  EXPECT_TRUE(HasEvent("huge", "ProvisioningFailed", "no ready node has 100Gi"));
  EXPECT_EQ(Phase(GetClaim("huge")), "Pending");
}

TEST_F(VolumeBinderTest, DeletedClaimReleasesItsProvisionedVolumeForTheAgent) {
  CreateNode("n1");
  CreateClass("now", "kennel.io/local-path", "Immediate", true);
  CreateClaim(Claim("data", "1Gi", "now"));
  std::string name = WaitBound("data")["spec"]["volumeName"];
  ASSERT_TRUE(client()->Delete(client::kPersistentVolumeClaims, "default", "data").ok());
  // Released: the node's agent removes the directory and the object.
  EXPECT_TRUE(Eventually([&] { return Phase(GetPv(name)) == "Released"; }));
  // Without the node, nobody will: the binder deletes the object.
  ASSERT_TRUE(client()->Delete(client::kNodes, "", "n1").ok());
  EXPECT_TRUE(Eventually([&] {
    auto pv = client()->Get(client::kPersistentVolumes, "", name);
    return !pv.ok() && pv.status().code() == Code::kNotFound;
  }));
}

TEST_F(VolumeBinderTest, ExpandableClaimGrowsItsVolume) {
  CreateNode("n1");
  CreateClass("now", "kennel.io/local-path", "Immediate", true);
  CreateClaim(Claim("data", "1Gi", "now"));
  std::string name = WaitBound("data")["spec"]["volumeName"];
  json patch = {{"spec", {{"resources", {{"requests", {{"storage", "3Gi"}}}}}}}};
  ASSERT_TRUE(client()
                  ->Patch(client::kPersistentVolumeClaims, "default", "data",
                          client::PatchType::kMerge, patch)
                  .ok());
  json claim;
  EXPECT_TRUE(Eventually([&] {
    claim = GetClaim("data");
    return claim["status"]["capacity"]["storage"] == "3Gi";
  })) << claim.dump(2);
  EXPECT_EQ(GetPv(name)["spec"]["capacity"]["storage"], "3Gi");
  EXPECT_TRUE(HasEvent("data", "VolumeResizeSuccessful", "to 3Gi succeeded"));
}

TEST_F(VolumeBinderTest, ClaimOfAClassWithoutExpansionIsNotGrown) {
  CreateClass("fixed", "kubernetes.io/no-provisioner", "Immediate", false);
  CreatePv(Pv("fixed-pv", "1Gi", {"ReadWriteOnce"}, "fixed"));
  CreateClaim(Claim("data", "1Gi", "fixed"));
  WaitBound("data");
  json patch = {{"spec", {{"resources", {{"requests", {{"storage", "2Gi"}}}}}}}};
  ASSERT_TRUE(client()
                  ->Patch(client::kPersistentVolumeClaims, "default", "data",
                          client::PatchType::kMerge, patch)
                  .ok());
  EXPECT_TRUE(HasEvent("data", "VolumeResizeFailed",
                       "storageclass \"fixed\" does not allow volume expansion"));
  json claim;
  EXPECT_TRUE(Eventually([&] {
    claim = GetClaim("data");
    for (const json& c : claim["status"].value("conditions", json::array())) {
      if (c["type"] == "ControllerResizeError" && c["status"] == "True") return true;
    }
    return false;
  })) << claim.dump(2);
  EXPECT_EQ(claim["status"]["capacity"]["storage"], "1Gi");
  EXPECT_EQ(GetPv("fixed-pv")["spec"]["capacity"]["storage"], "1Gi");
}

}  // namespace
}  // namespace kennel::controllers
