// The framework and each default plugin, on JSON nodes and pods in a
// ClusterCache, as the scheduler runs them (without the API).
#include "scheduler/framework.h"

#include <gtest/gtest.h>

#include "scheduler/cache.h"
#include "scheduler/plugins.h"
#include "scheduler/preemption.h"

namespace kennel::scheduler {
namespace {

json Node(const std::string& name, const std::string& cpu, const std::string& memory,
          json labels = json::object()) {
  labels["kubernetes.io/hostname"] = name;
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", json::object()},
          {"status",
           {{"allocatable",
             {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}, {"ephemeral-storage", "10Gi"}}}}}};
}

json Pod(const std::string& name = "p", const std::string& cpu = "",
         const std::string& memory = "") {
  json requests = json::object();
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!memory.empty()) requests["memory"] = memory;
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
          {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"requests", requests}}}}}}}}};
}

// Volumes from maps, for VolumeBinding.
class FakeVolumes : public VolumeLister {
 public:
  std::map<std::string, json> claims, volumes, classes;
  std::optional<json> Claim(const std::string& ns, const std::string& name) const override {
    return Find(claims, ns + "/" + name);
  }
  std::optional<json> Volume(const std::string& name) const override { return Find(volumes, name); }
  std::optional<json> StorageClass(const std::string& name) const override {
    return Find(classes, name);
  }

 private:
  static std::optional<json> Find(const std::map<std::string, json>& m, const std::string& k) {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

struct Outcome {
  std::optional<std::string> node;
  std::string message;
};

class FrameworkTest : public ::testing::Test {
 protected:
  FrameworkTest() : framework_(DefaultPlugins(), {}) {}

  void AddNode(const json& node) { cache_.UpsertNode(node); }

  // Places pod as the scheduler would (filter, rank, assume) and returns
  // where it went, or the unschedulable message.
  Outcome Place(const json& pod, bool assume = true) {
    auto info = CompilePod(pod);
    CycleContext ctx{*info, cache_, &volumes_};
    Placement p = framework_.Schedule(ctx);
    Outcome out;
    if (p.feasible.empty()) {
      out.message = UnschedulableMessage(p);
      return out;
    }
    out.node = framework_.SelectHost(ctx, p.feasible);
    if (assume) {
      auto placed = std::make_shared<PodInfo>(*info);
      placed->node_name = *out.node;
      cache_.UpsertPod(placed);
      framework_.Reserve(ctx, cache_, *out.node);
    }
    return out;
  }

  // A pod already running on node.
  void Bind(json pod, const std::string& node) {
    pod["spec"]["nodeName"] = node;
    cache_.UpsertPod(CompilePod(pod));
  }

  ClusterCache cache_;
  Framework framework_;
  FakeVolumes volumes_;
};

json WithAntiAffinity(json pod, const std::string& group, const std::string& key) {
  pod["metadata"]["labels"]["app"] = group;
  pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {{"labelSelector", {{"matchLabels", {{"app", group}}}}}, {"topologyKey", key}}};
  return pod;
}

TEST(PodRequestsTest, SumOfContainersOrLargestInitContainer) {
  json pod = Pod("p", "500m", "1Gi");
  pod["spec"]["containers"].push_back(
      {{"name", "d"}, {"resources", {{"requests", {{"cpu", "250m"}}}}}});
  pod["spec"]["initContainers"] = {
      {{"name", "i"}, {"resources", {{"requests", {{"cpu", "2"}, {"example.com/gpu", "1"}}}}}}};
  Resources r = PodRequests(pod);
  EXPECT_EQ(r.milli_cpu, 2000);  // the init container asks for more than the sum (750m)
  EXPECT_EQ(r.memory, 1LL << 30);
  EXPECT_EQ(r.pods, 1);
  EXPECT_EQ(r.scalar["example.com/gpu"], 1);
}

TEST_F(FrameworkTest, ResourcesFitAndLeastAllocatedSpreads) {
  AddNode(Node("a", "2", "4Gi"));
  AddNode(Node("b", "4", "8Gi"));
  EXPECT_EQ(Place(Pod("p1", "1", "1Gi"), false).node, "b");  // more room left on b
  Bind(Pod("big", "3500m"), "b");
  EXPECT_EQ(Place(Pod("p2", "1", "1Gi"), false).node, "a");
  EXPECT_EQ(Place(Pod("p3", "8", "1Gi")).message, "0/2 nodes are available: 2 Insufficient cpu.");
}

TEST_F(FrameworkTest, SelectorsAffinityTaintsAndUnschedulableNodes) {
  AddNode(Node("ssd", "4", "8Gi", {{"disk", "ssd"}, {"zone", "z1"}}));
  AddNode(Node("hdd", "4", "8Gi", {{"disk", "hdd"}, {"zone", "z2"}}));
  json tainted = Node("tainted", "4", "8Gi", {{"disk", "ssd"}});
  tainted["spec"]["taints"] = {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}};
  AddNode(tainted);
  json cordoned = Node("cordoned", "4", "8Gi", {{"disk", "ssd"}});
  cordoned["spec"]["unschedulable"] = true;
  AddNode(cordoned);

  json pod = Pod();
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_EQ(Place(pod, false).node, "ssd");
  pod["spec"]["nodeSelector"] = {{"disk", "nvme"}};
  EXPECT_EQ(Place(pod).message,
            "0/4 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 "
            "node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable.");

  json affinity = Pod();
  affinity["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
          ["nodeSelectorTerms"] = {
              {{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {"z2"}}}}}}};
  EXPECT_EQ(Place(affinity, false).node, "hdd");

  json tolerant = Pod();
  tolerant["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  tolerant["spec"]["tolerations"] = {
      {{"key", "dedicated"}, {"operator", "Equal"}, {"value", "db"}, {"effect", "NoSchedule"}}};
  Bind(Pod("filler", "4"), "ssd");
  EXPECT_EQ(Place(tolerant, false).node, "tainted");
}

TEST_F(FrameworkTest, PreferredNodeAffinityAndPreferNoScheduleTaints) {
  AddNode(Node("a", "4", "8Gi", {{"zone", "z1"}}));
  json b = Node("b", "4", "8Gi", {{"zone", "z2"}});
  AddNode(b);
  json pod = Pod();
  pod["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
      {{"weight", 50},
       {"preference",
        {{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {"z2"}}}}}}}}};
  EXPECT_EQ(Place(pod, false).node, "b");
  b["spec"]["taints"] = {{{"key", "spot"}, {"effect", "PreferNoSchedule"}}};
  AddNode(b);
  EXPECT_EQ(Place(Pod(), false).node, "a");  // a plain pod avoids the tainted node
}

TEST_F(FrameworkTest, TooManyPodsAndExtendedResources) {
  json small = Node("small", "4", "8Gi");
  small["status"]["allocatable"]["pods"] = "1";
  small["status"]["allocatable"]["kennel.io/local-storage"] = "10Gi";
  AddNode(small);
  json hungry = Pod("hungry");
  hungry["spec"]["containers"][0]["resources"]["requests"]["kennel.io/local-storage"] = "20Gi";
  EXPECT_EQ(Place(hungry).message,
            "0/1 nodes are available: 1 Insufficient kennel.io/local-storage.");
  Bind(Pod("one"), "small");
  EXPECT_EQ(Place(Pod()).message, "0/1 nodes are available: 1 Too many pods.");
}

TEST(NodeResourcesFitTest, SkipsResourcesAnExtenderAccountsFor) {
  ClusterCache cache;
  cache.UpsertNode(Node("n1", "8", "16Gi"));
  json pod = Pod("gpu");
  pod["spec"]["containers"][0]["resources"]["requests"]["example.com/gpu"] = "1";
  auto info = CompilePod(pod);
  CycleContext ctx{*info, cache, nullptr};
  Framework strict(DefaultPlugins(), {});
  EXPECT_TRUE(strict.Schedule(ctx).feasible.empty());  // the node has no such resource
  Framework lenient(DefaultPlugins({"example.com/gpu"}), {});
  EXPECT_EQ(lenient.Schedule(ctx).feasible.size(), 1u);
}

TEST_F(FrameworkTest, NoNodes) { EXPECT_EQ(Place(Pod()).message, "0/0 nodes are available."); }

TEST_F(FrameworkTest, AntiAffinitySpreadsPetsOverHosts) {
  for (const char* n : {"n1", "n2", "n3"}) AddNode(Node(n, "8", "16Gi"));
  std::set<std::string> used;
  for (int i = 0; i < 3; ++i) {
    auto out =
        Place(WithAntiAffinity(Pod("web-" + std::to_string(i)), "web", "kubernetes.io/hostname"));
    ASSERT_TRUE(out.node) << out.message;
    used.insert(*out.node);
  }
  EXPECT_EQ(used.size(), 3u);
  // A fourth pet has no host left; another group is not affected.
  EXPECT_EQ(Place(WithAntiAffinity(Pod("web-3"), "web", "kubernetes.io/hostname")).message,
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  EXPECT_TRUE(Place(WithAntiAffinity(Pod("db-0"), "db", "kubernetes.io/hostname")).node);
}

TEST_F(FrameworkTest, ExistingPodsAntiAffinityKeepsNewcomersAway) {
  AddNode(Node("n1", "8", "16Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("n2", "8", "16Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("n3", "8", "16Gi", {{"topology.kubernetes.io/zone", "b"}}));
  // A loner that wants no "noisy" pod in its zone.
  json loner = Pod("loner");
  loner["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {{"labelSelector", {{"matchLabels", {{"kind", "noisy"}}}}},
       {"topologyKey", "topology.kubernetes.io/zone"}}};
  Bind(loner, "n1");
  json noisy = Pod("noisy");
  noisy["metadata"]["labels"]["kind"] = "noisy";
  EXPECT_EQ(Place(noisy, false).node, "n3");
  noisy["metadata"]["namespace"] = "other";  // the loner's term covers its own namespace only
  EXPECT_TRUE(Place(noisy, false).node);
  cache_.UpsertNode(Node("n3", "8", "16Gi", {{"topology.kubernetes.io/zone", "a"}}));
  noisy["metadata"]["namespace"] = "default";
  EXPECT_EQ(Place(noisy).message,
            "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity "
            "rules.");
  cache_.RemovePod("default/loner");
  EXPECT_TRUE(Place(noisy).node);
}

TEST_F(FrameworkTest, RequiredAffinityFollowsItsKind) {
  AddNode(Node("n1", "8", "16Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("n2", "8", "16Gi", {{"topology.kubernetes.io/zone", "b"}}));
  AddNode(Node("n3", "8", "16Gi", {{"topology.kubernetes.io/zone", "b"}}));
  auto with_cache = [](json pod) {
    pod["metadata"]["labels"]["app"] = "cache";
    pod["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {{"labelSelector", {{"matchLabels", {{"app", "cache"}}}}},
         {"topologyKey", "topology.kubernetes.io/zone"}}};
    return pod;
  };
  // The first of its kind may go anywhere; the rest follow it to its zone.
  auto first = Place(with_cache(Pod("c0")));
  ASSERT_TRUE(first.node);
  std::string zone = *cache_.Node(*first.node)->Label("topology.kubernetes.io/zone");
  for (int i = 1; i < 4; ++i) {
    std::string name = "c";
    name += std::to_string(i);
    auto out = Place(with_cache(Pod(name)));
    ASSERT_TRUE(out.node);
    EXPECT_EQ(*cache_.Node(*out.node)->Label("topology.kubernetes.io/zone"), zone);
  }
  // A pod wanting to be with something that runs nowhere fits nowhere.
  json lonely = Pod("lonely");
  lonely["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {{"labelSelector", {{"matchLabels", {{"app", "ghost"}}}}},
       {"topologyKey", "kubernetes.io/hostname"}}};
  EXPECT_EQ(Place(lonely).message,
            "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
}

TEST_F(FrameworkTest, PreferredAntiAffinityPrefersEmptierHosts) {
  for (const char* n : {"n1", "n2"}) AddNode(Node(n, "8", "16Gi"));
  json pod = Pod("w");
  pod["metadata"]["labels"]["app"] = "w";
  pod["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
      {{"weight", 100},
       {"podAffinityTerm",
        {{"labelSelector", {{"matchLabels", {{"app", "w"}}}}},
         {"topologyKey", "kubernetes.io/hostname"}}}}};
  json other = pod;
  other["metadata"]["name"] = "w-running";
  Bind(other, "n1");
  EXPECT_EQ(Place(pod, false).node, "n2");
}

json Spread(json pod, const std::string& app, const std::string& when, int skew = 1) {
  pod["metadata"]["labels"]["app"] = app;
  pod["spec"]["topologySpreadConstraints"] = {
      {{"maxSkew", skew},
       {"topologyKey", "topology.kubernetes.io/zone"},
       {"whenUnsatisfiable", when},
       {"labelSelector", {{"matchLabels", {{"app", app}}}}}}};
  return pod;
}

TEST_F(FrameworkTest, TopologySpreadKeepsZonesWithinMaxSkew) {
  AddNode(Node("a1", "32", "64Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("a2", "32", "64Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("b1", "2", "64Gi", {{"topology.kubernetes.io/zone", "b"}}));
  AddNode(Node("nozone", "32", "64Gi"));
  std::map<std::string, int> per_zone;
  for (int i = 0; i < 4; ++i) {
    std::string name = "s";
    name += std::to_string(i);
    auto out = Place(Spread(Pod(name, "100m"), "s", "DoNotSchedule"));
    ASSERT_TRUE(out.node) << out.message;
    ++per_zone[*cache_.Node(*out.node)->Label("topology.kubernetes.io/zone")];
  }
  EXPECT_EQ(per_zone["a"], 2);
  EXPECT_EQ(per_zone["b"], 2);
  // Zone b is full of cpu now: a fifth may still go to a (skew 1), a sixth not.
  Bind(Pod("hog", "2"), "b1");
  EXPECT_TRUE(Place(Spread(Pod("s4", "100m"), "s", "DoNotSchedule")).node);
  EXPECT_EQ(Place(Spread(Pod("s5", "100m"), "s", "DoNotSchedule")).message,
            "0/4 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology "
            "spread constraints, 1 node(s) didn't match pod topology spread constraints "
            "(missing required label).");
  // ScheduleAnyway only prefers: it goes to a.
  auto soft = Place(Spread(Pod("t0"), "s", "ScheduleAnyway"), false);
  ASSERT_TRUE(soft.node);
}

TEST_F(FrameworkTest, SoftSpreadPrefersTheEmptierZone) {
  AddNode(Node("a1", "8", "16Gi", {{"topology.kubernetes.io/zone", "a"}}));
  AddNode(Node("b1", "8", "16Gi", {{"topology.kubernetes.io/zone", "b"}}));
  Bind(Spread(Pod("x0"), "x", "ScheduleAnyway"), "a1");
  Bind(Spread(Pod("x1"), "x", "ScheduleAnyway"), "a1");
  EXPECT_EQ(Place(Spread(Pod("x2"), "x", "ScheduleAnyway"), false).node, "b1");
}

TEST_F(FrameworkTest, VolumeBindingFollowsBoundVolumesAndPlacesWaitingClaims) {
  json n1 = Node("n1", "8", "16Gi");
  n1["status"]["allocatable"]["kennel.io/local-storage"] = "10Gi";
  json n2 = Node("n2", "8", "16Gi");
  n2["status"]["allocatable"]["kennel.io/local-storage"] = "100Gi";
  AddNode(n1);
  AddNode(n2);
  auto with_claim = [](json pod, const std::string& claim) {
    pod["spec"]["volumes"] = {
        {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", claim}}}}};
    return pod;
  };
  EXPECT_EQ(Place(with_claim(Pod("a"), "missing")).message,
            "0/2 nodes are available: persistentvolumeclaim \"missing\" not found.");

  volumes_.volumes["pv1"] = json::parse(R"({"metadata": {"name": "pv1"},
    "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
      {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}}})");
  volumes_.claims["default/bound"] = {{"metadata", {{"name", "bound"}}},
                                      {"spec", {{"volumeName", "pv1"}}}};
  EXPECT_EQ(Place(with_claim(Pod("b"), "bound"), false).node, "n1");
  n1["spec"]["unschedulable"] = true;
  AddNode(n1);
  EXPECT_EQ(Place(with_claim(Pod("b"), "bound"), false).message,
            "0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) "
            "were unschedulable.");
  n1["spec"].erase("unschedulable");
  AddNode(n1);

  volumes_.classes["local"] = {{"metadata", {{"name", "local"}}},
                               {"volumeBindingMode", "WaitForFirstConsumer"}};
  volumes_.classes["remote"] = {{"metadata", {{"name", "remote"}}},
                                {"volumeBindingMode", "Immediate"}};
  auto claim = [](const std::string& name, const std::string& cls, const std::string& size) {
    return json{
        {"metadata", {{"name", name}, {"namespace", "default"}}},
        {"spec", {{"storageClassName", cls}, {"resources", {{"requests", {{"storage", size}}}}}}}};
  };
  volumes_.claims["default/imm"] = claim("imm", "remote", "1Gi");
  EXPECT_EQ(Place(with_claim(Pod("c"), "imm")).message,
            "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
  // 50Gi fits only n2; once there, the next 60Gi claim does not fit anywhere.
  volumes_.claims["default/big"] = claim("big", "local", "50Gi");
  EXPECT_EQ(Place(with_claim(Pod("d"), "big")).node, "n2");
  EXPECT_TRUE(cache_.HasClaim("default/big"));
  volumes_.claims["default/bigger"] = claim("bigger", "local", "60Gi");
  EXPECT_EQ(Place(with_claim(Pod("e"), "bigger")).message,
            "0/2 nodes are available: 2 node(s) did not have enough free storage.");
  // A claim whose node was already selected pins the pod there.
  json selected = claim("pinned", "local", "1Gi");
  selected["metadata"]["annotations"][kSelectedNodeAnnotation] = "n1";
  volumes_.claims["default/pinned"] = selected;
  EXPECT_EQ(Place(with_claim(Pod("f"), "pinned"), false).node, "n1");
}

TEST_F(FrameworkTest, LocalHeadroomPrefersRoomOnTheResourceThePodLeansOn) {
  json a = Node("a", "8", "16Gi");
  a["status"]["allocatable"]["kennel.io/network-bandwidth"] = "10G";
  a["status"]["allocatable"]["kennel.io/local-storage"] = "1Ti";
  json b = Node("b", "8", "16Gi");
  b["status"]["allocatable"]["kennel.io/network-bandwidth"] = "40G";
  b["status"]["allocatable"]["kennel.io/local-storage"] = "100Gi";
  AddNode(a);
  AddNode(b);
  json streamer = Pod("streamer");
  streamer["spec"]["containers"][0]["resources"]["requests"]["kennel.io/network-bandwidth"] = "5G";
  streamer["spec"]["containers"][0]["resources"]["requests"]["kennel.io/local-storage"] = "1Gi";
  EXPECT_EQ(Place(streamer, false).node, "b");
  json hoarder = Pod("hoarder");
  hoarder["spec"]["containers"][0]["resources"]["requests"]["kennel.io/local-storage"] = "80Gi";
  EXPECT_EQ(Place(hoarder, false).node, "a");
}

json WithPriority(json pod, int64_t priority) {
  pod["spec"]["priority"] = priority;
  return pod;
}

TEST_F(FrameworkTest, PreemptionEvictsFewestAndLeastImportant) {
  AddNode(Node("n1", "4", "16Gi"));
  AddNode(Node("n2", "4", "16Gi"));
  Bind(WithPriority(Pod("n1-low", "2"), 10), "n1");
  Bind(WithPriority(Pod("n1-mid", "2"), 50), "n1");
  Bind(WithPriority(Pod("n2-low-a", "1"), 10), "n2");
  Bind(WithPriority(Pod("n2-low-b", "1"), 10), "n2");
  Bind(WithPriority(Pod("n2-high", "2"), 1000), "n2");
  auto info = CompilePod(WithPriority(Pod("urgent", "2"), 100));
  CycleContext ctx{*info, cache_, &volumes_};
  Placement p = framework_.Schedule(ctx);
  ASSERT_TRUE(p.feasible.empty());
  PreemptionOutcome out = FindPreemption(framework_, ctx, p);
  ASSERT_TRUE(out.chosen);
  // n1: evicting n1-low (10) is enough; n2 would need two pods of 10.
  EXPECT_EQ(out.chosen->node, "n1");
  ASSERT_EQ(out.chosen->victims.size(), 1u);
  EXPECT_EQ(out.chosen->victims[0]->name, "n1-low");

  // Nothing of lower priority to evict: the message says so per node.
  auto low = CompilePod(WithPriority(Pod("meek", "4"), 5));
  CycleContext low_ctx{*low, cache_, &volumes_};
  Placement lp = framework_.Schedule(low_ctx);
  PreemptionOutcome none = FindPreemption(framework_, low_ctx, lp);
  EXPECT_FALSE(none.chosen);
  EXPECT_EQ(none.message,
            "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming "
            "pod.");
  json never = WithPriority(Pod("polite", "2"), 100);
  never["spec"]["preemptionPolicy"] = "Never";
  auto polite = CompilePod(never);
  CycleContext polite_ctx{*polite, cache_, &volumes_};
  Placement pp = framework_.Schedule(polite_ctx);
  EXPECT_FALSE(FindPreemption(framework_, polite_ctx, pp).chosen);
}

TEST_F(FrameworkTest, PreemptionDoesNotHelpAgainstTaints) {
  json n = Node("n1", "4", "16Gi");
  n["spec"]["taints"] = {{{"key", "k"}, {"effect", "NoSchedule"}}};
  AddNode(n);
  auto info = CompilePod(WithPriority(Pod("urgent", "1"), 100));
  CycleContext ctx{*info, cache_, &volumes_};
  Placement p = framework_.Schedule(ctx);
  PreemptionOutcome out = FindPreemption(framework_, ctx, p);
  EXPECT_FALSE(out.chosen);
  EXPECT_EQ(out.message,
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
}

TEST(FrameworkOptionsTest, SamplesNodesAsKubeSchedulerDoes) {
  Framework adaptive(DefaultPlugins(), {});
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(50), 50);
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(200), 100);    // 49% = 98, at least 100
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(5000), 500);   // 10%
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(10000), 500);  // 5% floor
  FrameworkOptions all;
  all.percentage_of_nodes_to_score = 100;
  EXPECT_EQ(Framework(DefaultPlugins(), all).NumFeasibleNodesToFind(5000), 5000);
}

TEST(FrameworkOptionsTest, DisablingAScorePluginKeepsItsFilter) {
  FrameworkOptions o;
  o.enabled = [](std::string_view point, std::string_view plugin) {
    return !(point == "score" && plugin == "NodeResourcesFit");
  };
  o.score_weights["NodeResourcesBalancedAllocation"] = 0;
  Framework f(DefaultPlugins(), o);
  ClusterCache cache;
  cache.UpsertNode(Node("small", "1", "1Gi"));
  auto pod = CompilePod(Pod("p", "2"));
  CycleContext ctx{*pod, cache, nullptr};
  Placement p = f.Schedule(ctx);
  EXPECT_TRUE(p.feasible.empty());  // the fit filter still runs
  ASSERT_EQ(p.failures.size(), 1u);
  EXPECT_EQ(p.failures[0].reason, "Insufficient cpu");
}

TEST(ClusterCacheTest, CountsFollowPodsNodesAndLabels) {
  ClusterCache cache;
  cache.UpsertNode(Node("n1", "8", "16Gi", {{"zone", "a"}}));
  cache.UpsertNode(Node("n2", "8", "16Gi", {{"zone", "b"}}));
  json pod = Pod("w0", "1");
  pod["metadata"]["labels"]["app"] = "w";
  pod["spec"]["nodeName"] = "n1";
  cache.UpsertPod(CompilePod(pod));
  PodSelectorTerm term =
      CompilePod(WithAntiAffinity(Pod("x"), "w", "zone"))->required_anti_affinity[0];
  EXPECT_EQ(cache.CountMatching(term).at("a"), 1);
  // Moves with the pod, with the node's labels, and goes with the pod.
  pod["spec"]["nodeName"] = "n2";
  cache.UpsertPod(CompilePod(pod));
  EXPECT_EQ(cache.CountMatching(term).count("a"), 0u);
  EXPECT_EQ(cache.CountMatching(term).at("b"), 1);
  cache.UpsertNode(Node("n2", "8", "16Gi", {{"zone", "c"}}));
  EXPECT_EQ(cache.CountMatching(term).at("c"), 1);
  EXPECT_EQ(cache.Domains("zone").count("b"), 0u);
  EXPECT_EQ(cache.Node("n2")->requested.milli_cpu, 1000);
  cache.RemovePod("default/w0");
  EXPECT_TRUE(cache.CountMatching(term).empty());
  EXPECT_EQ(cache.Node("n2")->requested.milli_cpu, 0);
  // A pod on a node not seen yet is attached when the node arrives.
  pod["spec"]["nodeName"] = "n3";
  cache.UpsertPod(CompilePod(pod));
  EXPECT_TRUE(cache.CountMatching(term).empty());
  cache.UpsertNode(Node("n3", "8", "16Gi", {{"zone", "d"}}));
  EXPECT_EQ(cache.CountMatching(term).at("d"), 1);
  EXPECT_EQ(cache.Node("n3")->pods.size(), 1u);
}

TEST(CompilePodTest, MalformedSelectorMakesThePodUnschedulableWithAReason) {
  json pod = Pod();
  pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] =
      json::parse(R"([{"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]},
                       "topologyKey": "kubernetes.io/hostname"}])");
  auto info = CompilePod(pod);
  EXPECT_FALSE(info->error.empty());
  ClusterCache cache;
  cache.UpsertNode(Node("n1", "8", "16Gi"));
  Framework f(DefaultPlugins(), {});
  CycleContext ctx{*info, cache, nullptr};
  Placement p = f.Schedule(ctx);
  ASSERT_TRUE(p.prefilter_reason);
  EXPECT_EQ(*p.prefilter_reason, info->error);
}

}  // namespace
}  // namespace kennel::scheduler
