// The garbage collector over the in-process client on a real Handler and
// embedded store: the three propagation policies, dangling references, owners
// checked by uid, and dependents with several owners.
#include "controllers/garbage_collector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "client/test_cluster.h"

namespace kennel::controllers {
namespace {

using client::json;
using Clock = std::chrono::steady_clock;

// The collector is event-driven and normally acts within milliseconds.
constexpr auto kDeadline = std::chrono::seconds(10);

bool Eventually(const std::function<bool()>& cond) { return client::Eventually(cond, kDeadline); }

// owners: a vector, since a braced single json would copy rather than nest.
json ConfigMap(const std::string& name, const std::vector<json>& owners = {}) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}, {"namespace", "default"}}}};
  if (!owners.empty()) cm["metadata"]["ownerReferences"] = json(owners);
  return cm;
}

json Secret(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "default"}}}};
}

json Ref(const json& owner, bool block = false) {
  json ref = {{"apiVersion", owner["apiVersion"]},
              {"kind", owner["kind"]},
              {"name", owner["metadata"]["name"]},
              {"uid", owner["metadata"]["uid"]}};
  if (block) ref["blockOwnerDeletion"] = true;
  return ref;
}

class GarbageCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    auto gc = GarbageCollector::Start(client());
    ASSERT_TRUE(gc.ok()) << gc.status().ToString();
    gc_ = std::move(gc).value();
  }
  void TearDown() override { gc_.reset(); }

  client::Client* client() { return cluster_.client(); }

  json Create(const client::Resource& r, const json& obj) {
    auto created = client()->Create(r, "default", obj);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }
  bool Exists(const client::Resource& r, const std::string& name) {
    return client()->Get(r, "default", name).ok();
  }
  json Get(const client::Resource& r, const std::string& name) {
    auto got = client()->Get(r, "default", name);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : json();
  }
  Status Delete(const client::Resource& r, const std::string& name, const std::string& policy) {
    client::DeleteOptions options;
    options.propagation_policy = policy;
    return client()->Delete(r, "default", name, options);
  }

  client::TestCluster cluster_;
  std::unique_ptr<GarbageCollector> gc_;
};

TEST_F(GarbageCollectorTest, BackgroundDeletesDependentsAfterTheOwner) {
  json owner = Create(client::kSecrets, Secret("owner"));
  Create(client::kConfigMaps, ConfigMap("dep-1", {Ref(owner)}));
  Create(client::kConfigMaps, ConfigMap("dep-2", {Ref(owner, /*block=*/true)}));
  Create(client::kConfigMaps, ConfigMap("unrelated"));
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "Background").ok());
  EXPECT_FALSE(Exists(client::kSecrets, "owner"));
  EXPECT_TRUE(Eventually([&] {
    return !Exists(client::kConfigMaps, "dep-1") && !Exists(client::kConfigMaps, "dep-2");
  }));
  EXPECT_TRUE(Exists(client::kConfigMaps, "unrelated"));
}

TEST_F(GarbageCollectorTest, ForegroundDeletesDependentsBeforeTheOwner) {
  json owner = Create(client::kSecrets, Secret("owner"));
  json mid = Create(client::kConfigMaps, ConfigMap("mid", {Ref(owner, true)}));
  // A grandchild holding `mid` back with a finalizer of its own: the owner
  // must wait for `mid`, which waits for the grandchild.
  json leaf = ConfigMap("leaf", {Ref(mid, true)});
  leaf["metadata"]["finalizers"] = {"example.com/hold"};
  Create(client::kConfigMaps, leaf);
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "Foreground").ok());
  ASSERT_TRUE(Eventually([&] {
    auto l = client()->Get(client::kConfigMaps, "default", "leaf");
    return l.ok() && l->at("metadata").contains("deletionTimestamp");
  }));
  json got = Get(client::kSecrets, "owner");
  EXPECT_EQ(got["metadata"]["finalizers"], json({"foregroundDeletion"}));
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp"));
  EXPECT_TRUE(Exists(client::kConfigMaps, "mid"));
  // Release the grandchild: everything goes, owner last.
  auto released = client()->Patch(client::kConfigMaps, "default", "leaf", client::PatchType::kMerge,
                                  {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_TRUE(Eventually([&] { return !Exists(client::kSecrets, "owner"); }));
  EXPECT_FALSE(Exists(client::kConfigMaps, "mid"));
  EXPECT_FALSE(Exists(client::kConfigMaps, "leaf"));
}

TEST_F(GarbageCollectorTest, ForegroundDoesNotWaitForNonBlockingDependentsButDeletesThem) {
  json owner = Create(client::kSecrets, Secret("owner"));
  Create(client::kConfigMaps, ConfigMap("dep", {Ref(owner)}));
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "Foreground").ok());
  EXPECT_TRUE(Eventually([&] { return !Exists(client::kSecrets, "owner"); }));
  EXPECT_FALSE(Exists(client::kConfigMaps, "dep"));
}

TEST_F(GarbageCollectorTest, OrphanRemovesOnlyTheOwnersReferenceThenTheOwner) {
  json owner = Create(client::kSecrets, Secret("owner"));
  json other = Create(client::kSecrets, Secret("other"));
  Create(client::kConfigMaps, ConfigMap("both", {Ref(owner, true), Ref(other)}));
  Create(client::kConfigMaps, ConfigMap("only", {Ref(owner, true)}));
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "Orphan").ok());
  ASSERT_TRUE(Eventually([&] { return !Exists(client::kSecrets, "owner"); }));
  json both = Get(client::kConfigMaps, "both");
  ASSERT_EQ(both["metadata"]["ownerReferences"].size(), 1u) << both;
  EXPECT_EQ(both["metadata"]["ownerReferences"][0]["uid"], other["metadata"]["uid"]);
  json only = Get(client::kConfigMaps, "only");
  EXPECT_FALSE(only["metadata"].contains("ownerReferences")) << only;
}

TEST_F(GarbageCollectorTest, DeletesObjectsWhoseOwnersAreAllGoneButKeepsThoseWithALiveOne) {
  json live = Create(client::kSecrets, Secret("live"));
  json doomed = Create(client::kSecrets, Secret("doomed"));
  Create(client::kConfigMaps, ConfigMap("shared", {Ref(live), Ref(doomed)}));
  // A reference by name to an object of that name but another uid is dangling.
  json impostor = Ref(live);
  impostor["uid"] = "00000000-0000-0000-0000-000000000000";
  Create(client::kConfigMaps, ConfigMap("dangling", {impostor}));
  EXPECT_TRUE(Eventually([&] { return !Exists(client::kConfigMaps, "dangling"); }));
  ASSERT_TRUE(Delete(client::kSecrets, "doomed", "").ok());
  // The live owner keeps "shared"; the reference to the gone one is dropped.
  EXPECT_TRUE(Eventually([&] {
    auto s = client()->Get(client::kConfigMaps, "default", "shared");
    return s.ok() && s->at("metadata")["ownerReferences"].size() == 1;
  }));
  ASSERT_TRUE(Delete(client::kSecrets, "live", "").ok());
  EXPECT_TRUE(Eventually([&] { return !Exists(client::kConfigMaps, "shared"); }));
}

TEST_F(GarbageCollectorTest, DeletesDependentsOfAnOwnerReleasedByItsFinalizers) {
  json s = Secret("owner");
  s["metadata"]["finalizers"] = {"example.com/hold"};
  json owner = Create(client::kSecrets, s);
  Create(client::kConfigMaps, ConfigMap("dep", {Ref(owner)}));
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "").ok());
  EXPECT_TRUE(Exists(client::kConfigMaps, "dep"));
  auto released = client()->Patch(client::kSecrets, "default", "owner", client::PatchType::kMerge,
                                  {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_TRUE(Eventually([&] { return !Exists(client::kConfigMaps, "dep"); }));
}

TEST_F(GarbageCollectorTest, AnOwnerOfAKindNotWatchedIsLookedUpByUid) {
  // A restart of the collector sees a dependent whose owner vanished while
  // nobody watched.
  gc_.reset();
  json owner = Create(client::kSecrets, Secret("owner"));
  Create(client::kConfigMaps, ConfigMap("dep", {Ref(owner)}));
  Create(client::kConfigMaps, ConfigMap("dep-2", {Ref(owner)}));
  ASSERT_TRUE(Delete(client::kSecrets, "owner", "Background").ok());
  auto recreated = client()->Create(client::kSecrets, "default", Secret("owner"));
  ASSERT_TRUE(recreated.ok());
  GarbageCollectorOptions options;
  options.resources = {client::kConfigMaps};  // secrets only through live lookups
  auto gc = GarbageCollector::Start(client(), options);
  ASSERT_TRUE(gc.ok());
  gc_ = std::move(gc).value();
  EXPECT_TRUE(Eventually([&] {
    return !Exists(client::kConfigMaps, "dep") && !Exists(client::kConfigMaps, "dep-2");
  }));
  EXPECT_TRUE(Exists(client::kSecrets, "owner"));
}

}  // namespace
}  // namespace kennel::controllers
