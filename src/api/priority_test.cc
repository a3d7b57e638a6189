#include "api/priority.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kennel::api {
namespace {

using nlohmann::json;

json Class(const std::string& name, int64_t value, bool global_default = false,
           const std::string& policy = "PreemptLowerPriority") {
  json pc = {{"apiVersion", "scheduling.k8s.io/v1"},
             {"kind", "PriorityClass"},
             {"metadata", {{"name", name}}},
             {"value", value},
             {"preemptionPolicy", policy}};
  if (global_default) pc["globalDefault"] = true;
  return pc;
}

json Pod() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}};
}

std::vector<json> Stored() {
  std::vector<json> classes = SystemPriorityClasses();
  classes.push_back(Class("high", 1000));
  classes.push_back(Class("batch", -10, false, "Never"));
  return classes;
}

TEST(SystemPriorityClasses, AreTheTwoKubernetesShips) {
  std::vector<json> classes = SystemPriorityClasses();
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0], json::parse(R"({
    "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
    "metadata": {"name": "system-node-critical"}, "value": 2000001000,
    "description": "Used for system critical pods that must not be moved from their current node.",
    "preemptionPolicy": "PreemptLowerPriority"})"));
  EXPECT_EQ(classes[1]["metadata"]["name"], "system-cluster-critical");
  EXPECT_EQ(classes[1]["value"], 2000000000);
  EXPECT_EQ(classes[1]["description"],
            "Used for system critical pods that must run in the cluster, but can be moved to "
            "another node if necessary.");
  EXPECT_TRUE(IsSystemPriorityClass("system-node-critical"));
  EXPECT_TRUE(IsSystemPriorityClass("system-cluster-critical"));
  EXPECT_FALSE(IsSystemPriorityClass("system-other"));
  EXPECT_FALSE(IsSystemPriorityClass("high"));
}

TEST(SystemPriorityClasses, MismatchSaysWhatIsWrong) {
  EXPECT_EQ(SystemPriorityClassMismatch("system-node-critical", 2000001000, false), "");
  EXPECT_EQ(SystemPriorityClassMismatch("system-node-critical", 1, false),
            "value of system-node-critical PriorityClass must be 2000001000");
  EXPECT_EQ(SystemPriorityClassMismatch("system-cluster-critical", 2000000000, true),
            "globalDefault of system-cluster-critical PriorityClass must be false");
  EXPECT_EQ(SystemPriorityClassMismatch("system-x", 0, false),
            "system-x is not a known system priority class");
}

TEST(AdmitPodPriority, ClassNameGivesValueAndPolicy) {
  json pod = Pod();
  pod["spec"]["priorityClassName"] = "batch";
  ASSERT_TRUE(AdmitPodPriority(pod, Stored(), "web").ok());
  EXPECT_EQ(pod["spec"]["priority"], -10);
  EXPECT_EQ(pod["spec"]["preemptionPolicy"], "Never");
  EXPECT_EQ(pod["spec"]["priorityClassName"], "batch");

  json critical = Pod();
  critical["spec"]["priorityClassName"] = "system-node-critical";
  ASSERT_TRUE(AdmitPodPriority(critical, Stored(), "web").ok());
  EXPECT_EQ(critical["spec"]["priority"], 2000001000);
  EXPECT_EQ(critical["spec"]["preemptionPolicy"], "PreemptLowerPriority");
}

TEST(AdmitPodPriority, UnknownClassIsForbidden) {
  json pod = Pod();
  pod["spec"]["priorityClassName"] = "gold";
  Status s = AdmitPodPriority(pod, Stored(), "web");
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: no PriorityClass with name gold was found");
  EXPECT_FALSE(pod["spec"].contains("priority"));
}

TEST(AdmitPodPriority, NoClassMeansZeroOrTheGlobalDefault) {
  json pod = Pod();
  ASSERT_TRUE(AdmitPodPriority(pod, Stored(), "web").ok());
  EXPECT_EQ(pod["spec"]["priority"], 0);
  EXPECT_EQ(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_FALSE(pod["spec"].contains("priorityClassName"));

  std::vector<json> classes = Stored();
  classes.push_back(Class("default-tier", 500, true, "Never"));
  classes.push_back(Class("raced-default", 400, true));  // two defaults: the lower wins
  json defaulted = Pod();
  ASSERT_TRUE(AdmitPodPriority(defaulted, classes, "web").ok());
  EXPECT_EQ(defaulted["spec"]["priorityClassName"], "raced-default");
  EXPECT_EQ(defaulted["spec"]["priority"], 400);
  EXPECT_EQ(defaulted["spec"]["preemptionPolicy"], "PreemptLowerPriority");
}

TEST(AdmitPodPriority, ClientValuesMustMatchTheComputedOnes) {
  json pod = Pod();
  pod["spec"]["priorityClassName"] = "high";
  pod["spec"]["priority"] = 1000;
  pod["spec"]["preemptionPolicy"] = "PreemptLowerPriority";
  EXPECT_TRUE(AdmitPodPriority(pod, Stored(), "web").ok());

  json wrong = Pod();
  wrong["spec"]["priority"] = 5;
  Status s = AdmitPodPriority(wrong, Stored(), "web");
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: the integer value of priority (5) must not be provided in "
            "pod spec; priority admission controller computed 0 from the given PriorityClass "
            "name");

  json policy = Pod();
  policy["spec"]["preemptionPolicy"] = "Never";
  s = AdmitPodPriority(policy, Stored(), "");
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"\" is forbidden: the string value of PreemptionPolicy (Never) must not be "
            "provided in pod spec; priority admission controller computed PreemptLowerPriority "
            "from the given PriorityClass name");
}

TEST(AdmitPodPriority, WrongTypesAreLeftForValidation) {
  json pod = Pod();
  pod["spec"]["priority"] = "high";
  json before = pod;
  EXPECT_TRUE(AdmitPodPriority(pod, Stored(), "web").ok());
  EXPECT_EQ(pod, before);
  json no_spec = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"spec", "garbage"}};
  EXPECT_TRUE(AdmitPodPriority(no_spec, Stored(), "web").ok());
}

TEST(KeepPodPriority, AnUpdateThatLeavesThemOutKeepsThem) {
  json old_pod = Pod();
  old_pod["spec"]["priority"] = 1000;
  old_pod["spec"]["preemptionPolicy"] = "Never";
  json pod = Pod();
  KeepPodPriority(pod, old_pod);
  EXPECT_EQ(pod["spec"]["priority"], 1000);
  EXPECT_EQ(pod["spec"]["preemptionPolicy"], "Never");
  // One the client did set stays, for validation to judge.
  json changed = Pod();
  changed["spec"]["priority"] = 7;
  KeepPodPriority(changed, old_pod);
  EXPECT_EQ(changed["spec"]["priority"], 7);
}

TEST(AdmitPriorityClass, OnlyOneGlobalDefault) {
  std::vector<json> classes = Stored();
  EXPECT_TRUE(AdmitPriorityClass(Class("first", 1, true), classes, PriorityClassOp::kCreate).ok());
  classes.push_back(Class("first", 1, true));
  Status s = AdmitPriorityClass(Class("second", 2, true), classes, PriorityClassOp::kCreate);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass first is "
            "already marked as default. Only one default can exist");
  // Not a default: fine. The default itself may be updated; another may not become one.
  EXPECT_TRUE(AdmitPriorityClass(Class("third", 3), classes, PriorityClassOp::kCreate).ok());
  EXPECT_TRUE(AdmitPriorityClass(Class("first", 1, true), classes, PriorityClassOp::kUpdate).ok());
  EXPECT_EQ(AdmitPriorityClass(Class("high", 1000, true), classes, PriorityClassOp::kUpdate).code(),
            Code::kForbidden);
}

}  // namespace
}  // namespace kennel::api
