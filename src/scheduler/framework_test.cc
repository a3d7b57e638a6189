#include "scheduler/framework.h"

#include <gtest/gtest.h>

namespace kennel::scheduler {
namespace {

json Node(const std::string& name, const std::string& cpu, const std::string& memory,
          const json& labels = json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", json::object()},
          {"status",
           {{"allocatable",
             {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}, {"ephemeral-storage", "10Gi"}}}}}};
}

json Pod(const std::string& cpu = "", const std::string& memory = "") {
  json requests = json::object();
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!memory.empty()) requests["memory"] = memory;
  return {{"metadata", {{"name", "p"}, {"namespace", "default"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"requests", requests}}}}}}}}};
}

NodeInfo Info(const json& node) {
  NodeInfo info;
  info.node = node;
  info.name = node["metadata"]["name"];
  info.allocatable = NodeAllocatable(node);
  return info;
}

Placement PlaceWithDefaults(const json& pod, const std::vector<NodeInfo>& nodes) {
  return Place(pod, nodes, DefaultFilters(), DefaultScores());
}

TEST(PodRequestsTest, SumOfContainersOrLargestInitContainer) {
  json pod = Pod("500m", "1Gi");
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

TEST(PlaceTest, ResourcesFitAndLeastAllocatedSpreads) {
  std::vector<NodeInfo> nodes = {Info(Node("a", "2", "4Gi")), Info(Node("b", "4", "8Gi"))};
  EXPECT_EQ(PlaceWithDefaults(Pod("1", "1Gi"), nodes).node, "b");  // more room left on b
  nodes[1].requested.milli_cpu = 3500;
  EXPECT_EQ(PlaceWithDefaults(Pod("1", "1Gi"), nodes).node, "a");
  Placement none = PlaceWithDefaults(Pod("8", "1Gi"), nodes);
  EXPECT_FALSE(none.node);
  EXPECT_EQ(none.message, "0/2 nodes are available: 2 Insufficient cpu.");
}

TEST(PlaceTest, SelectorsAffinityTaintsAndUnschedulableNodes) {
  json ssd = Node("ssd", "4", "8Gi", {{"disk", "ssd"}, {"zone", "z1"}});
  json hdd = Node("hdd", "4", "8Gi", {{"disk", "hdd"}, {"zone", "z2"}});
  json tainted = Node("tainted", "4", "8Gi", {{"disk", "ssd"}});
  tainted["spec"]["taints"] = {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}};
  json cordoned = Node("cordoned", "4", "8Gi", {{"disk", "ssd"}});
  cordoned["spec"]["unschedulable"] = true;
  std::vector<NodeInfo> nodes = {Info(ssd), Info(hdd), Info(tainted), Info(cordoned)};

  json pod = Pod();
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_EQ(PlaceWithDefaults(pod, nodes).node, "ssd");

  pod["spec"]["nodeSelector"] = {{"disk", "nvme"}};
  EXPECT_EQ(PlaceWithDefaults(pod, nodes).message,
            "0/4 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 "
            "node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable.");

  json affinity = Pod();
  affinity["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
          ["nodeSelectorTerms"] = {
              {{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {"z2"}}}}}}};
  EXPECT_EQ(PlaceWithDefaults(affinity, nodes).node, "hdd");

  // Only the tainted and cordoned nodes: the reasons are counted by kind.
  std::vector<NodeInfo> bad = {Info(tainted), Info(cordoned)};
  EXPECT_EQ(PlaceWithDefaults(Pod(), bad).message,
            "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 "
            "node(s) were unschedulable.");
  json tolerant = Pod();
  tolerant["spec"]["tolerations"] = {
      {{"key", "dedicated"}, {"operator", "Equal"}, {"value", "db"}, {"effect", "NoSchedule"}}};
  EXPECT_EQ(PlaceWithDefaults(tolerant, bad).node, "tainted");
}

TEST(PlaceTest, TooManyPodsAndExtendedResources) {
  json small = Node("small", "4", "8Gi");
  small["status"]["allocatable"]["pods"] = "1";
  small["status"]["allocatable"]["kennel.io/local-storage"] = "10Gi";
  std::vector<NodeInfo> nodes = {Info(small)};
  nodes[0].requested.pods = 1;
  EXPECT_EQ(PlaceWithDefaults(Pod(), nodes).message, "0/1 nodes are available: 1 Too many pods.");
  nodes[0].requested.pods = 0;
  json hungry = Pod();
  hungry["spec"]["containers"][0]["resources"]["requests"]["kennel.io/local-storage"] = "20Gi";
  EXPECT_EQ(PlaceWithDefaults(hungry, nodes).message,
            "0/1 nodes are available: 1 Insufficient kennel.io/local-storage.");
  EXPECT_EQ(PlaceWithDefaults(Pod(), {}).message, "0/0 nodes are available.");
}

}  // namespace
}  // namespace kennel::scheduler
