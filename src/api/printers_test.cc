#include "api/printers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/registry.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;

// 2026-11-22T10:00:00Z.
std::chrono::system_clock::time_point Now() {
  return std::chrono::sys_days(std::chrono::year(2026) / 11 / 22) + hours(10);
}

const ResourceInfo& Info(std::string_view group, std::string_view kind) {
  const ResourceInfo* r = FindKind(group, kind);
  if (r == nullptr) {
    ADD_FAILURE() << "kind not registered: " << kind;
    static const ResourceInfo kNone;
    return kNone;
  }
  return *r;
}

std::vector<std::string> Names(const json& columns, int max_priority = 1) {
  std::vector<std::string> out;
  for (const json& c : columns) {
    if (c["priority"].get<int>() <= max_priority) out.push_back(c["name"].get<std::string>());
  }
  return out;
}

json Cells(std::string_view group, std::string_view kind, const json& obj) {
  return TableCells(Info(group, kind), obj, Now());
}

// A cell by column name.
json Cell(std::string_view group, std::string_view kind, const json& obj, std::string_view col) {
  const json columns = TableColumns(Info(group, kind));
  const json cells = Cells(group, kind, obj);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i]["name"] == col) return cells.at(i);
  }
  ADD_FAILURE() << "no column " << col;
  return nullptr;
}

json Meta(std::string name, std::string created = "2026-11-22T09:55:00Z") {
  return {{"name", name}, {"namespace", "default"}, {"creationTimestamp", created}};
}

// --- HumanDuration / HumanAge ------------------------------------------------

TEST(HumanDuration, MatchesUpstreamBuckets) {
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(5)), "5s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(120)), "2m");
  EXPECT_EQ(HumanDuration(minutes(3) + seconds(2)), "3m2s");
  EXPECT_EQ(HumanDuration(minutes(10) + seconds(59)), "10m");
  EXPECT_EQ(HumanDuration(minutes(179)), "179m");
  EXPECT_EQ(HumanDuration(hours(3)), "3h");
  EXPECT_EQ(HumanDuration(hours(5) + minutes(3)), "5h3m");
  EXPECT_EQ(HumanDuration(hours(8) + minutes(30)), "8h");
  EXPECT_EQ(HumanDuration(hours(47)), "47h");
  EXPECT_EQ(HumanDuration(hours(48)), "2d");
  EXPECT_EQ(HumanDuration(hours(51)), "2d3h");
  EXPECT_EQ(HumanDuration(hours(24 * 8)), "8d");
  EXPECT_EQ(HumanDuration(hours(24 * 729)), "729d");
  EXPECT_EQ(HumanDuration(hours(24 * 730)), "2y");
  EXPECT_EQ(HumanDuration(hours(24 * (730 + 30))), "2y30d");
  EXPECT_EQ(HumanDuration(hours(24 * 365 * 9)), "9y");
}

TEST(HumanDuration, ToleratesSmallClockSkewOnly) {
  EXPECT_EQ(HumanDuration(-seconds(1)), "0s");
  EXPECT_EQ(HumanDuration(-std::chrono::milliseconds(1900)), "0s");
  EXPECT_EQ(HumanDuration(-seconds(2)), "<invalid>");
}

TEST(HumanAge, ParsesRfc3339Forms) {
  EXPECT_EQ(HumanAge("2026-11-22T09:55:00Z", Now()), "5m");
  EXPECT_EQ(HumanAge("2026-11-22T09:56:58Z", Now()), "3m2s");
  EXPECT_EQ(HumanAge("2026-11-22T09:59:55.123456Z", Now()), "4s");
  EXPECT_EQ(HumanAge("2026-11-22T11:00:00+02:00", Now()), "60m");  // 09:00Z
  EXPECT_EQ(HumanAge("2026-11-20T07:00:00Z", Now()), "2d3h");
  EXPECT_EQ(HumanAge("2026-11-22T10:00:10Z", Now()), "<invalid>");
}

TEST(HumanAge, UnsetOrGarbageIsUnknown) {
  EXPECT_EQ(HumanAge("", Now()), "<unknown>");
  EXPECT_EQ(HumanAge("yesterday", Now()), "<unknown>");
  EXPECT_EQ(HumanAge("2026-13-40T09:05:00Z", Now()), "<unknown>");
  EXPECT_EQ(HumanAge("2026-11-22T09:05:00", Now()), "<unknown>");
}

// --- Columns -----------------------------------------------------------------

TEST(TableColumns, EveryColumnIsACompleteDefinition) {
  for (const ResourceInfo& info : AllResources()) {
    const json cols = TableColumns(info);
    ASSERT_TRUE(cols.is_array()) << info.kind;
    ASSERT_FALSE(cols.empty()) << info.kind;
    bool has_name = false;
    for (const json& c : cols) {
      ASSERT_TRUE(c["name"].is_string()) << info.kind;
      ASSERT_TRUE(c["type"].is_string()) << info.kind;
      ASSERT_TRUE(c["format"].is_string()) << info.kind;
      ASSERT_TRUE(c["description"].is_string()) << info.kind;
      ASSERT_TRUE(c["priority"].is_number_integer()) << info.kind;
      if (c["name"] == "Name") {
        has_name = true;
        EXPECT_EQ(c["format"], "name") << info.kind;
      } else {
        EXPECT_EQ(c["format"], "") << info.kind << " " << c["name"];
      }
    }
    EXPECT_TRUE(has_name) << info.kind;
  }
}

TEST(TableColumns, CellCountMatchesColumnsForEveryKind) {
  for (const ResourceInfo& info : AllResources()) {
    const size_t n = TableColumns(info).size();
    EXPECT_EQ(TableCells(info, json::object(), Now()).size(), n) << info.kind;
    EXPECT_EQ(TableCells(info, json{{"metadata", Meta("x")}}, Now()).size(), n) << info.kind;
  }
}

TEST(TableColumns, PodColumns) {
  const json cols = TableColumns(Info("", "Pod"));
  EXPECT_THAT(Names(cols, 0), ElementsAre("Name", "Ready", "Status", "Restarts", "Age"));
  EXPECT_THAT(Names(cols), ElementsAre("Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                       "Nominated Node", "Readiness Gates"));
}

TEST(TableColumns, WorkloadColumns) {
  EXPECT_THAT(Names(TableColumns(Info("apps", "StatefulSet"))),
              ElementsAre("Name", "Ready", "Age", "Containers", "Images"));
  EXPECT_THAT(Names(TableColumns(Info("apps", "StatefulSet")), 0),
              ElementsAre("Name", "Ready", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("apps", "Deployment")), 0),
              ElementsAre("Name", "Ready", "Up-to-date", "Available", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("apps", "Deployment"))),
              ElementsAre("Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images",
                          "Selector"));
  EXPECT_THAT(Names(TableColumns(Info("apps", "ReplicaSet"))),
              ElementsAre("Name", "Desired", "Current", "Ready", "Age", "Containers", "Images",
                          "Selector"));
  EXPECT_THAT(Names(TableColumns(Info("apps", "ControllerRevision"))),
              ElementsAre("Name", "Controller", "Revision", "Age"));
}

TEST(TableColumns, CoreColumns) {
  EXPECT_THAT(
      Names(TableColumns(Info("", "Service"))),
      ElementsAre("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"));
  EXPECT_THAT(Names(TableColumns(Info("", "Endpoints"))), ElementsAre("Name", "Endpoints", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("", "ConfigMap"))), ElementsAre("Name", "Data", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("", "Secret"))), ElementsAre("Name", "Type", "Data", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("", "Namespace"))), ElementsAre("Name", "Status", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("", "ServiceAccount"))),
              ElementsAre("Name", "Secrets", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("", "Node")), 0),
              ElementsAre("Name", "Status", "Roles", "Age", "Version"));
  EXPECT_THAT(Names(TableColumns(Info("", "Node"))),
              ElementsAre("Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP",
                          "OS-Image", "Kernel-Version", "Container-Runtime"));
}

TEST(TableColumns, EventColumnsPutNameLastAndWide) {
  const json cols = TableColumns(Info("", "Event"));
  EXPECT_THAT(Names(cols, 0), ElementsAre("Last Seen", "Type", "Reason", "Object", "Message"));
  EXPECT_THAT(Names(cols), ElementsAre("Last Seen", "Type", "Reason", "Object", "Subobject",
                                       "Source", "Message", "First Seen", "Count", "Name"));
  EXPECT_EQ(cols.back()["format"], "name");
}

TEST(TableColumns, StorageColumns) {
  EXPECT_THAT(Names(TableColumns(Info("", "PersistentVolume")), 0),
              ElementsAre("Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim",
                          "StorageClass", "VolumeAttributesClass", "Reason", "Age"));
  EXPECT_EQ(Names(TableColumns(Info("", "PersistentVolume"))).back(), "VolumeMode");
  EXPECT_THAT(Names(TableColumns(Info("", "PersistentVolumeClaim"))),
              ElementsAre("Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                          "VolumeAttributesClass", "Age", "VolumeMode"));
  EXPECT_THAT(Names(TableColumns(Info("storage.k8s.io", "StorageClass"))),
              ElementsAre("Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode",
                          "AllowVolumeExpansion", "Age"));
  EXPECT_THAT(Names(TableColumns(Info("coordination.k8s.io", "Lease"))),
              ElementsAre("Name", "Holder", "Age"));
  const json pc = TableColumns(Info("scheduling.k8s.io", "PriorityClass"));
  EXPECT_THAT(Names(pc, 0),
              ElementsAre("Name", "Value", "Global-Default", "Age", "PreemptionPolicy"));
  EXPECT_EQ(pc[1]["type"], "integer");
  EXPECT_EQ(pc[2]["type"], "boolean");
}

TEST(TableColumns, UnknownKindFallsBackToNameAndAge) {
  ResourceInfo widget = Info("", "ConfigMap");
  widget.group = "example.com";
  widget.kind = "Widget";
  EXPECT_THAT(Names(TableColumns(widget)), ElementsAre("Name", "Age"));
  EXPECT_EQ(TableCells(widget, {{"metadata", Meta("w")}}, Now()), json::array({"w", "5m"}));
}

// --- Pods --------------------------------------------------------------------

json RunningPod() {
  return {
      {"metadata", Meta("web-0")},
      {"spec", {{"nodeName", "node-1"}, {"containers", {{{"name", "nginx"}}, {{"name", "side"}}}}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", "10.1.0.7"},
        {"podIPs", {{{"ip", "10.1.0.7"}}}},
        {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
        {"containerStatuses",
         {{{"name", "nginx"},
           {"ready", true},
           {"restartCount", 0},
           {"state", {{"running", {{"startedAt", "2026-11-22T09:55:05Z"}}}}}},
          {{"name", "side"},
           {"ready", true},
           {"restartCount", 0},
           {"state", {{"running", {{"startedAt", "2026-11-22T09:55:05Z"}}}}}}}}}}};
}

TEST(PodCells, RunningPodHasAllCellsIncludingWide) {
  EXPECT_EQ(Cells("", "Pod", RunningPod()),
            json::array(
                {"web-0", "2/2", "Running", "0", "5m", "10.1.0.7", "node-1", "<none>", "<none>"}));
}

TEST(PodCells, PendingPodWithoutStatusPrintsNone) {
  json pod = {{"metadata", Meta("p")},
              {"spec", {{"containers", {{{"name", "c"}}}}}},
              {"status", {{"phase", "Pending"}}}};
  EXPECT_EQ(Cells("", "Pod", pod), json::array({"p", "0/1", "Pending", "0", "5m", "<none>",
                                                "<none>", "<none>", "<none>"}));
}

TEST(PodCells, CrashLoopBackOffWithLastRestartTime) {
  json pod = RunningPod();
  json& c = pod["status"]["containerStatuses"][0];
  c["ready"] = false;
  c["restartCount"] = 3;
  c["state"] = {{"waiting", {{"reason", "CrashLoopBackOff"}}}};
  c["lastState"] = {{"terminated", {{"exitCode", 1}, {"finishedAt", "2026-11-22T09:55:00Z"}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "CrashLoopBackOff");
  EXPECT_EQ(Cell("", "Pod", pod, "Restarts"), "3 (5m ago)");
  EXPECT_EQ(Cell("", "Pod", pod, "Ready"), "1/2");
}

TEST(PodCells, RestartsWithoutLastStateAreABareCount) {
  json pod = RunningPod();
  pod["status"]["containerStatuses"][0]["restartCount"] = 2;
  pod["status"]["containerStatuses"][1]["restartCount"] = 1;
  EXPECT_EQ(Cell("", "Pod", pod, "Restarts"), "3");
}

TEST(PodCells, CompletedAndErrorReasons) {
  json pod = RunningPod();
  pod["status"]["phase"] = "Succeeded";
  for (json& c : pod["status"]["containerStatuses"]) {
    c["ready"] = false;
    c["state"] = {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}};
  }
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Completed");
  EXPECT_EQ(Cell("", "Pod", pod, "Ready"), "0/2");

  pod["status"]["containerStatuses"][0]["state"] = {{"terminated", {{"exitCode", 137}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "ExitCode:137");
  pod["status"]["containerStatuses"][0]["state"] = {{"terminated", {{"signal", 9}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Signal:9");
}

TEST(PodCells, CompletedBesideRunningContainerIsRunningOrNotReady) {
  json pod = RunningPod();
  pod["status"]["containerStatuses"][1]["state"] = {
      {"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Running");
  pod["status"]["conditions"] = json::array();
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "NotReady");
}

TEST(PodCells, InitContainerProgressAndFailures) {
  json pod = {
      {"metadata", Meta("p")},
      {"spec",
       {{"initContainers", {{{"name", "a"}}, {{"name", "b"}}}}, {"containers", {{{"name", "c"}}}}}},
      {"status",
       {{"phase", "Pending"},
        {"initContainerStatuses",
         {{{"name", "a"}, {"state", {{"running", json::object()}}}},
          {{"name", "b"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}},
        {"containerStatuses",
         {{{"name", "c"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Init:0/2");

  pod["status"]["initContainerStatuses"][0]["state"] = {
      {"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Init:1/2");

  pod["status"]["initContainerStatuses"][1]["state"] = {
      {"waiting", {{"reason", "CrashLoopBackOff"}}}};
  pod["status"]["initContainerStatuses"][1]["restartCount"] = 4;
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Init:CrashLoopBackOff");
  EXPECT_EQ(Cell("", "Pod", pod, "Restarts"), "4");

  pod["status"]["initContainerStatuses"][1]["state"] = {{"terminated", {{"exitCode", 2}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Init:ExitCode:2");
  pod["status"]["initContainerStatuses"][1]["state"] = {
      {"terminated", {{"exitCode", 1}, {"reason", "Error"}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Init:Error");
}

TEST(PodCells, SidecarInitContainersCountTowardsReady) {
  json pod = RunningPod();
  pod["spec"]["initContainers"] = {{{"name", "proxy"}, {"restartPolicy", "Always"}}};
  pod["status"]["initContainerStatuses"] = {{{"name", "proxy"},
                                             {"started", true},
                                             {"ready", true},
                                             {"restartCount", 1},
                                             {"state", {{"running", json::object()}}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Ready"), "3/3");
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Running");
  EXPECT_EQ(Cell("", "Pod", pod, "Restarts"), "1");
}

TEST(PodCells, DeletionTimestampMeansTerminatingUnlessFinished) {
  json pod = RunningPod();
  pod["metadata"]["deletionTimestamp"] = "2026-11-22T09:59:00Z";
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Terminating");
  pod["status"]["phase"] = "Succeeded";
  pod["status"]["containerStatuses"] = json::array();
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Succeeded");
  pod["status"]["phase"] = "Running";
  pod["status"]["reason"] = "NodeLost";
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Unknown");
}

TEST(PodCells, SchedulingGatedAndReasonOverridePhase) {
  json pod = {
      {"metadata", Meta("p")},
      {"spec", {{"containers", {{{"name", "c"}}}}}},
      {"status",
       {{"phase", "Pending"},
        {"conditions",
         {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "SchedulingGated"}}}}}}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "SchedulingGated");
  pod["status"] = {{"phase", "Failed"}, {"reason", "Evicted"}};
  EXPECT_EQ(Cell("", "Pod", pod, "Status"), "Evicted");
}

TEST(PodCells, WideCellsNodeNominatedAndReadinessGates) {
  json pod = RunningPod();
  pod["status"]["nominatedNodeName"] = "node-2";
  pod["spec"]["readinessGates"] = {{{"conditionType", "example.com/a"}},
                                   {{"conditionType", "example.com/b"}}};
  pod["status"]["conditions"].push_back({{"type", "example.com/a"}, {"status", "True"}});
  pod["status"]["conditions"].push_back({{"type", "example.com/b"}, {"status", "False"}});
  EXPECT_EQ(Cell("", "Pod", pod, "Nominated Node"), "node-2");
  EXPECT_EQ(Cell("", "Pod", pod, "Readiness Gates"), "1/2");
  pod["status"].erase("podIPs");
  pod["status"]["podIP"] = "10.1.0.9";
  EXPECT_EQ(Cell("", "Pod", pod, "IP"), "10.1.0.9");
}

// --- Workloads ---------------------------------------------------------------

json Template() {
  return {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec",
           {{"containers",
             {{{"name", "nginx"}, {"image", "nginx:1.27"}},
              {{"name", "side"}, {"image", "busybox"}}}}}}};
}

TEST(WorkloadCells, StatefulSet) {
  json sts = {{"metadata", Meta("web")},
              {"spec", {{"replicas", 3}, {"template", Template()}}},
              {"status", {{"readyReplicas", 2}}}};
  EXPECT_EQ(Cells("apps", "StatefulSet", sts),
            json::array({"web", "2/3", "5m", "nginx,side", "nginx:1.27,busybox"}));
  sts["spec"].erase("replicas");
  sts["status"].erase("readyReplicas");
  EXPECT_EQ(Cell("apps", "StatefulSet", sts, "Ready"), "0/1");
}

TEST(WorkloadCells, DeploymentAndSelectors) {
  json d = {{"metadata", Meta("web")},
            {"spec",
             {{"replicas", 3},
              {"template", Template()},
              {"selector",
               {{"matchLabels", {{"app", "web"}}},
                {"matchExpressions",
                 {{{"key", "tier"}, {"operator", "In"}, {"values", {"b", "a"}}},
                  {{"key", "canary"}, {"operator", "DoesNotExist"}}}}}}}},
            {"status", {{"readyReplicas", 3}, {"updatedReplicas", 2}, {"availableReplicas", 1}}}};
  EXPECT_EQ(Cells("apps", "Deployment", d),
            json::array({"web", "3/3", 2, 1, "5m", "nginx,side", "nginx:1.27,busybox",
                         "app=web,!canary,tier in (a,b)"}));
  d["spec"]["selector"]["matchExpressions"][0]["operator"] = "Near";
  EXPECT_EQ(Cell("apps", "Deployment", d, "Selector"), "<invalid>");
}

TEST(WorkloadCells, ReplicaSet) {
  json rs = {{"metadata", Meta("web-abc")},
             {"spec",
              {{"replicas", 2},
               {"template", Template()},
               {"selector", {{"matchLabels", {{"app", "web"}, {"pod-template-hash", "abc"}}}}}}},
             {"status", {{"replicas", 2}, {"readyReplicas", 1}}}};
  EXPECT_EQ(Cells("apps", "ReplicaSet", rs),
            json::array({"web-abc", 2, 2, 1, "5m", "nginx,side", "nginx:1.27,busybox",
                         "app=web,pod-template-hash=abc"}));
  rs["spec"].erase("selector");
  EXPECT_EQ(Cell("apps", "ReplicaSet", rs, "Selector"), "<none>");
}

TEST(WorkloadCells, ControllerRevisionNamesItsController) {
  json cr = {{"metadata",
              {{"name", "web-7d9f"},
               {"creationTimestamp", "2026-11-22T09:00:00Z"},
               {"ownerReferences",
                {{{"apiVersion", "apps/v1"},
                  {"kind", "StatefulSet"},
                  {"name", "web"},
                  {"uid", "u1"},
                  {"controller", true}}}}}},
             {"revision", 2}};
  EXPECT_EQ(Cells("apps", "ControllerRevision", cr),
            json::array({"web-7d9f", "statefulset.apps/web", 2, "60m"}));
  cr["metadata"]["ownerReferences"][0]["controller"] = false;
  EXPECT_EQ(Cell("apps", "ControllerRevision", cr, "Controller"), "<none>");
  cr["metadata"]["ownerReferences"][0] = {
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "p"}, {"controller", true}};
  EXPECT_EQ(Cell("apps", "ControllerRevision", cr, "Controller"), "pod/p");
}

// --- Services ----------------------------------------------------------------

TEST(ServiceCells, ClusterIPServiceWithNodePorts) {
  json svc = {{"metadata", Meta("web")},
              {"spec",
               {{"type", "NodePort"},
                {"clusterIP", "10.96.0.10"},
                {"clusterIPs", {"10.96.0.10"}},
                {"selector", {{"app", "web"}, {"tier", "fe"}}},
                {"ports",
                 {{{"port", 80}, {"protocol", "TCP"}},
                  {{"port", 443}, {"nodePort", 30443}, {"protocol", "TCP"}},
                  {{"port", 53}, {"protocol", "UDP"}}}}}}};
  EXPECT_EQ(Cells("", "Service", svc),
            json::array({"web", "NodePort", "10.96.0.10", "<none>", "80/TCP,443:30443/TCP,53/UDP",
                         "5m", "app=web,tier=fe"}));
}

TEST(ServiceCells, DefaultsAndEmpties) {
  json svc = {{"metadata", Meta("headless")},
              {"spec", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}}};
  EXPECT_EQ(Cells("", "Service", svc),
            json::array({"headless", "ClusterIP", "None", "<none>", "80/TCP", "5m", "<none>"}));
  svc["spec"] = json::object();
  EXPECT_EQ(Cell("", "Service", svc, "Cluster-IP"), "<none>");
  EXPECT_EQ(Cell("", "Service", svc, "Port(s)"), "<none>");
}

TEST(ServiceCells, ExternalIPsByType) {
  json svc = {{"metadata", Meta("lb")}, {"spec", {{"type", "LoadBalancer"}}}};
  EXPECT_EQ(Cell("", "Service", svc, "External-IP"), "<pending>");
  svc["status"] = {
      {"loadBalancer", {{"ingress", {{{"ip", "203.0.113.9"}}, {{"hostname", "lb.example"}}}}}}};
  EXPECT_EQ(Cell("", "Service", svc, "External-IP"), "203.0.113.9,lb.example");
  svc["spec"]["externalIPs"] = {"198.51.100.1"};
  EXPECT_EQ(Cell("", "Service", svc, "External-IP"), "203.0.113.9,lb.example,198.51.100.1");
  svc["spec"] = {{"type", "ExternalName"}, {"externalName", "db.example.com"}};
  EXPECT_EQ(Cell("", "Service", svc, "External-IP"), "db.example.com");
  svc["spec"] = {{"type", "ClusterIP"}, {"externalIPs", {"1.2.3.4", "5.6.7.8"}}};
  EXPECT_EQ(Cell("", "Service", svc, "External-IP"), "1.2.3.4,5.6.7.8");
}

TEST(EndpointsCells, ListsThreeThenCountsTheRest) {
  json ep = {
      {"metadata", Meta("web")},
      {"subsets",
       {{{"addresses",
          {{{"ip", "10.0.0.1"}}, {{"ip", "10.0.0.2"}}, {{"ip", "10.0.0.3"}}, {{"ip", "10.0.0.4"}}}},
         {"ports", {{{"port", 80}}}}},
        {{"addresses", {{{"ip", "10.0.1.1"}}}}, {"ports", {{{"port", 8080}}}}}}}};
  EXPECT_EQ(Cell("", "Endpoints", ep, "Endpoints"),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...");
  ep["subsets"] = {{{"addresses", {{{"ip", "10.0.0.1"}}}}, {"ports", {{{"port", 80}}}}},
                   {{"addresses", {{{"ip", "fd00::1"}}}}}};
  EXPECT_EQ(Cell("", "Endpoints", ep, "Endpoints"), "10.0.0.1:80,fd00::1");
  ep["subsets"][1] = {{"addresses", {{{"ip", "fd00::1"}}}}, {"ports", {{{"port", 80}}}}};
  EXPECT_EQ(Cell("", "Endpoints", ep, "Endpoints"), "10.0.0.1:80,[fd00::1]:80");
  ep.erase("subsets");
  EXPECT_EQ(Cell("", "Endpoints", ep, "Endpoints"), "<none>");
}

// --- Config, namespaces, nodes, events --------------------------------------

TEST(SimpleCells, ConfigMapSecretNamespaceServiceAccountLease) {
  EXPECT_EQ(Cells("", "ConfigMap",
                  {{"metadata", Meta("cfg")},
                   {"data", {{"a", "1"}, {"b", "2"}}},
                   {"binaryData", {{"c", "AA=="}}}}),
            json::array({"cfg", 3, "5m"}));
  EXPECT_EQ(Cells("", "Secret", {{"metadata", Meta("s")}, {"data", {{"k", "dg=="}}}}),
            json::array({"s", "Opaque", 1, "5m"}));
  EXPECT_EQ(Cell("", "Secret", {{"type", "kubernetes.io/tls"}}, "Type"), "kubernetes.io/tls");
  EXPECT_EQ(
      Cells("", "Namespace", {{"metadata", Meta("prod")}, {"status", {{"phase", "Terminating"}}}}),
      json::array({"prod", "Terminating", "5m"}));
  EXPECT_EQ(Cell("", "Namespace", {{"metadata", Meta("n")}}, "Status"), "Active");
  EXPECT_EQ(Cells("", "ServiceAccount", {{"metadata", Meta("default")}}),
            json::array({"default", 0, "5m"}));
  EXPECT_EQ(
      Cells("coordination.k8s.io", "Lease",
            {{"metadata", Meta("kennel-controller")}, {"spec", {{"holderIdentity", "kennel-1"}}}}),
      json::array({"kennel-controller", "kennel-1", "5m"}));
}

TEST(NodeCells, StatusRolesAndWideInfo) {
  json node = {{"metadata",
                {{"name", "n1"},
                 {"creationTimestamp", "2026-11-20T10:00:00Z"},
                 {"labels",
                  {{"node-role.kubernetes.io/control-plane", ""},
                   {"kubernetes.io/role", "worker"},
                   {"node-role.kubernetes.io/", ""}}}}},
               {"spec", {{"unschedulable", true}}},
               {"status",
                {{"conditions",
                  {{{"type", "MemoryPressure"}, {"status", "False"}},
                   {{"type", "Ready"}, {"status", "True"}}}},
                 {"addresses", {{{"type", "InternalIP"}, {"address", "192.168.1.5"}}}},
                 {"nodeInfo",
                  {{"kubeletVersion", "v1.32.0"},
                   {"osImage", "Debian GNU/Linux 12"},
                   {"kernelVersion", "6.1.0"},
                   {"containerRuntimeVersion", "kennel://0.1"}}}}}};
  EXPECT_EQ(Cells("", "Node", node),
            json::array({"n1", "Ready,SchedulingDisabled", "control-plane,worker", "2d", "v1.32.0",
                         "192.168.1.5", "<none>", "Debian GNU/Linux 12", "6.1.0", "kennel://0.1"}));
  node["status"]["conditions"][1]["status"] = "Unknown";
  node["spec"]["unschedulable"] = false;
  EXPECT_EQ(Cell("", "Node", node, "Status"), "NotReady");
  node["status"] = json::object();
  node["metadata"].erase("labels");
  EXPECT_EQ(Cell("", "Node", node, "Status"), "Unknown");
  EXPECT_EQ(Cell("", "Node", node, "Roles"), "<none>");
  EXPECT_EQ(Cell("", "Node", node, "OS-Image"), "<unknown>");
}

TEST(EventCells, ObjectTimesCountAndSource) {
  json ev = {{"metadata", Meta("web-0.17a")},
             {"involvedObject",
              {{"kind", "Pod"}, {"name", "web-0"}, {"fieldPath", "spec.containers{nginx}"}}},
             {"type", "Normal"},
             {"reason", "Pulled"},
             {"message", "  Container image already present \n"},
             {"source", {{"component", "kubelet"}, {"host", "node-1"}}},
             {"firstTimestamp", "2026-11-22T09:50:00Z"},
             {"lastTimestamp", "2026-11-22T09:58:00Z"},
             {"count", 4}};
  EXPECT_EQ(
      Cells("", "Event", ev),
      json::array({"2m", "Normal", "Pulled", "pod/web-0", "spec.containers{nginx}",
                   "kubelet, node-1", "Container image already present", "10m", 4, "web-0.17a"}));
}

TEST(EventCells, NewStyleEventsUseEventTimeSeriesAndReporter) {
  json ev = {{"metadata", Meta("e")},
             {"involvedObject", {{"kind", "StatefulSet"}}},
             {"eventTime", "2026-11-22T09:57:00.000000Z"},
             {"reportingComponent", "statefulset-controller"}};
  EXPECT_EQ(Cell("", "Event", ev, "Last Seen"), "3m");
  EXPECT_EQ(Cell("", "Event", ev, "First Seen"), "3m");
  EXPECT_EQ(Cell("", "Event", ev, "Count"), 1);
  EXPECT_EQ(Cell("", "Event", ev, "Object"), "statefulset");
  EXPECT_EQ(Cell("", "Event", ev, "Source"), "statefulset-controller");
  ev["series"] = {{"count", 7}, {"lastObservedTime", "2026-11-22T09:59:30.000000Z"}};
  EXPECT_EQ(Cell("", "Event", ev, "Last Seen"), "30s");
  EXPECT_EQ(Cell("", "Event", ev, "Count"), 7);
}

// --- Storage -----------------------------------------------------------------

TEST(StorageCells, PersistentVolume) {
  json pv = {{"metadata",
              {{"name", "pv-1"},
               {"creationTimestamp", "2026-11-22T09:55:00Z"},
               {"annotations", {{"volume.beta.kubernetes.io/storage-class", "slow"}}}}},
             {"spec",
              {{"capacity", {{"storage", "1Gi"}}},
               {"accessModes", {"ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"}},
               {"persistentVolumeReclaimPolicy", "Delete"},
               {"storageClassName", "standard"},
               {"claimRef", {{"namespace", "default"}, {"name", "data-web-0"}}}}},
             {"status", {{"phase", "Bound"}}}};
  EXPECT_EQ(Cells("", "PersistentVolume", pv),
            json::array({"pv-1", "1Gi", "RWO,RWX", "Delete", "Bound", "default/data-web-0", "slow",
                         "<unset>", "", "5m", "<unset>"}));
  pv["metadata"].erase("annotations");
  pv["metadata"]["deletionTimestamp"] = "2026-11-22T09:59:00Z";
  pv["spec"].erase("persistentVolumeReclaimPolicy");
  pv["spec"]["volumeMode"] = "Filesystem";
  EXPECT_EQ(Cell("", "PersistentVolume", pv, "StorageClass"), "standard");
  EXPECT_EQ(Cell("", "PersistentVolume", pv, "Status"), "Terminating");
  EXPECT_EQ(Cell("", "PersistentVolume", pv, "Reclaim Policy"), "Retain");
  EXPECT_EQ(Cell("", "PersistentVolume", pv, "VolumeMode"), "Filesystem");
}

TEST(StorageCells, PersistentVolumeClaimShowsCapacityOnlyWhenBound) {
  json pvc = {{"metadata", Meta("data-web-0")},
              {"spec",
               {{"accessModes", {"ReadWriteOnce"}},
                {"storageClassName", "standard"},
                {"resources", {{"requests", {{"storage", "1Gi"}}}}}}},
              {"status", {{"phase", "Pending"}}}};
  EXPECT_EQ(
      Cells("", "PersistentVolumeClaim", pvc),
      json::array({"data-web-0", "Pending", "", "", "", "standard", "<unset>", "5m", "<unset>"}));
  pvc["spec"]["volumeName"] = "pv-1";
  pvc["status"] = {
      {"phase", "Bound"}, {"accessModes", {"ReadWriteOnce"}}, {"capacity", {{"storage", "2Gi"}}}};
  EXPECT_EQ(Cells("", "PersistentVolumeClaim", pvc),
            json::array({"data-web-0", "Bound", "pv-1", "2Gi", "RWO", "standard", "<unset>", "5m",
                         "<unset>"}));
}

TEST(StorageCells, StorageClassDefaultMarkerAndDefaults) {
  json sc = {{"metadata",
              {{"name", "standard"},
               {"creationTimestamp", "2026-11-22T09:55:00Z"},
               {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
             {"provisioner", "kennel.io/hostpath"}};
  EXPECT_EQ(Cells("storage.k8s.io", "StorageClass", sc),
            json::array(
                {"standard (default)", "kennel.io/hostpath", "Delete", "Immediate", false, "5m"}));
  sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] = "false";
  sc["reclaimPolicy"] = "Retain";
  sc["volumeBindingMode"] = "WaitForFirstConsumer";
  sc["allowVolumeExpansion"] = true;
  EXPECT_EQ(Cells("storage.k8s.io", "StorageClass", sc),
            json::array(
                {"standard", "kennel.io/hostpath", "Retain", "WaitForFirstConsumer", true, "5m"}));
}

TEST(SchedulingCells, PriorityClass) {
  json pc = {{"metadata", {{"name", "high"}, {"creationTimestamp", "2026-11-22T09:55:00Z"}}},
             {"value", 1000},
             {"globalDefault", true},
             {"preemptionPolicy", "Never"}};
  EXPECT_EQ(Cells("scheduling.k8s.io", "PriorityClass", pc),
            json::array({"high", 1000, true, "5m", "Never"}));
  // Unset fields print as Go's zero values.
  json bare = {{"metadata", {{"name", "bare"}, {"creationTimestamp", "2026-11-22T09:55:00Z"}}}};
  EXPECT_EQ(Cells("scheduling.k8s.io", "PriorityClass", bare),
            json::array({"bare", 0, false, "5m", ""}));
}

// --- Robustness --------------------------------------------------------------

TEST(TableCells, MistypedFieldsNeverThrow) {
  const json garbage[] = {
      json(nullptr),
      json(42),
      json::array({1, 2}),
      {{"metadata", "x"}, {"spec", 3}, {"status", json::array()}},
      {{"metadata", {{"name", 5}, {"creationTimestamp", 7}, {"labels", "x"}}},
       {"spec",
        {{"replicas", "three"},
         {"containers", {1, "a", nullptr}},
         {"ports", {{{"port", "http"}}}},
         {"selector", {{"matchExpressions", "x"}}},
         {"template", {{"spec", {{"containers", {{{"name", 1}}}}}}}}}},
       {"status",
        {{"containerStatuses", {{{"state", "running"}, {"restartCount", "x"}}}},
         {"conditions", {nullptr}}}},
       {"subsets", {{{"addresses", 1}, {"ports", {nullptr}}}}}},
  };
  for (const ResourceInfo& info : AllResources()) {
    for (const json& obj : garbage) {
      json cells;
      ASSERT_NO_THROW(cells = TableCells(info, obj, Now())) << info.kind << " " << obj.dump();
      EXPECT_EQ(cells.size(), TableColumns(info).size()) << info.kind;
    }
  }
}

}  // namespace
}  // namespace kennel::api
