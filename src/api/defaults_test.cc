#include "api/defaults.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kennel::api {
namespace {

using json = nlohmann::json;

json Defaulted(json obj) {
  ApplyDefaults(obj);
  return obj;
}

json CreateDefaulted(json obj) {
  ApplyCreateDefaults(obj);
  return obj;
}

// Defaulting twice must change nothing the first pass did not.
void ExpectIdempotent(const json& obj) {
  json once = Defaulted(obj);
  EXPECT_EQ(Defaulted(once), once) << obj.dump();
  json created = CreateDefaulted(obj);
  EXPECT_EQ(CreateDefaulted(created), created) << obj.dump();
}

json MinimalPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "default"},
    "spec": {"containers": [{"name": "c", "image": "nginx"}]}
  })");
}

json PodTemplate() {
  return json::parse(R"({
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
                             "ports": [{"containerPort": 80}]}]}
  })");
}

json Workload(const char* kind) {
  return json{
      {"apiVersion", "apps/v1"},
      {"kind", kind},
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"template", PodTemplate()}}}};
}

// --- Pod --------------------------------------------------------------------

TEST(PodDefaults, FillsSpecContainerAndStatusDefaults) {
  json pod = Defaulted(MinimalPod());
  const json& spec = pod["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Always");
  EXPECT_EQ(spec["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(spec["schedulerName"], "default-scheduler");
  EXPECT_EQ(spec["securityContext"], json::object());
  EXPECT_EQ(spec["enableServiceLinks"], true);
  EXPECT_EQ(spec["serviceAccountName"], "default");
  EXPECT_EQ(spec["serviceAccount"], "default");
  const json& c = spec["containers"][0];
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(c["terminationMessagePolicy"], "File");
  EXPECT_EQ(c["imagePullPolicy"], "Always");
  EXPECT_EQ(c["resources"], json::object());
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(pod["status"]["qosClass"], "BestEffort");
}

TEST(PodDefaults, KeepsExplicitValues) {
  json pod = MinimalPod();
  pod["spec"]["restartPolicy"] = "Never";
  pod["spec"]["dnsPolicy"] = "Default";
  pod["spec"]["terminationGracePeriodSeconds"] = 0;
  pod["spec"]["schedulerName"] = "mine";
  pod["spec"]["securityContext"] = {{"runAsUser", 1000}};
  pod["spec"]["enableServiceLinks"] = false;
  pod["spec"]["serviceAccountName"] = "builder";
  pod["spec"]["containers"][0]["imagePullPolicy"] = "Never";
  pod["spec"]["containers"][0]["terminationMessagePolicy"] = "FallbackToLogsOnError";
  pod["status"] = {{"phase", "Running"}, {"qosClass", "Burstable"}};
  json d = Defaulted(pod);
  EXPECT_EQ(d["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(d["spec"]["dnsPolicy"], "Default");
  EXPECT_EQ(d["spec"]["terminationGracePeriodSeconds"], 0);
  EXPECT_EQ(d["spec"]["schedulerName"], "mine");
  EXPECT_EQ(d["spec"]["securityContext"]["runAsUser"], 1000);
  EXPECT_EQ(d["spec"]["enableServiceLinks"], false);
  EXPECT_EQ(d["spec"]["serviceAccountName"], "builder");
  EXPECT_EQ(d["spec"]["serviceAccount"], "builder");
  EXPECT_EQ(d["spec"]["containers"][0]["imagePullPolicy"], "Never");
  EXPECT_EQ(d["spec"]["containers"][0]["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_EQ(d["status"]["phase"], "Running");
  EXPECT_EQ(d["status"]["qosClass"], "Burstable");
}

TEST(PodDefaults, DeprecatedServiceAccountIsAnAlias) {
  json pod = MinimalPod();
  pod["spec"]["serviceAccount"] = "legacy";
  EXPECT_EQ(Defaulted(pod)["spec"]["serviceAccountName"], "legacy");
  pod["spec"]["serviceAccountName"] = "modern";
  EXPECT_EQ(Defaulted(pod)["spec"]["serviceAccount"], "modern");
}

TEST(PodDefaults, ImagePullPolicyFollowsTheTag) {
  EXPECT_EQ(DefaultImagePullPolicy("nginx"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:latest"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:1.25"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("registry.k8s.io/pause:3.9"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("localhost:5000/app"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("localhost:5000/app:v2"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("busybox@sha256:abcd"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("busybox:latest@sha256:abcd"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy(""), "IfNotPresent");
}

TEST(PodDefaults, PortsProbesEnvAndInitContainers) {
  json pod = MinimalPod();
  json& c = pod["spec"]["containers"][0];
  c["ports"] = {{{"containerPort", 80}}, {{"containerPort", 53}, {"protocol", "UDP"}}};
  c["livenessProbe"] = {{"httpGet", {{"port", 80}}}};
  c["readinessProbe"] = {{"tcpSocket", {{"port", 80}}}, {"periodSeconds", 5}};
  c["startupProbe"] = {{"grpc", {{"port", 9000}}}};
  c["env"] = {
      {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "CPU"}, {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}}}}}}};
  c["lifecycle"] = {{"preStop", {{"httpGet", {{"port", 80}, {"path", "/stop"}}}}}};
  pod["spec"]["initContainers"] = {{{"name", "init"}, {"image", "busybox:1.36"}}};
  json d = Defaulted(pod);
  const json& dc = d["spec"]["containers"][0];
  EXPECT_EQ(dc["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(dc["ports"][1]["protocol"], "UDP");
  EXPECT_FALSE(dc["ports"][0].contains("hostPort"));
  const json& live = dc["livenessProbe"];
  EXPECT_EQ(live["timeoutSeconds"], 1);
  EXPECT_EQ(live["periodSeconds"], 10);
  EXPECT_EQ(live["successThreshold"], 1);
  EXPECT_EQ(live["failureThreshold"], 3);
  EXPECT_EQ(live["httpGet"]["path"], "/");
  EXPECT_EQ(live["httpGet"]["scheme"], "HTTP");
  EXPECT_EQ(dc["readinessProbe"]["periodSeconds"], 5);
  EXPECT_EQ(dc["readinessProbe"]["failureThreshold"], 3);
  EXPECT_EQ(dc["startupProbe"]["grpc"]["service"], "");
  EXPECT_EQ(dc["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
  EXPECT_EQ(dc["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"], "0");
  EXPECT_EQ(dc["lifecycle"]["preStop"]["httpGet"]["path"], "/stop");
  EXPECT_EQ(dc["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP");
  const json& init = d["spec"]["initContainers"][0];
  EXPECT_EQ(init["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(init["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(init["resources"], json::object());
}

TEST(PodDefaults, ProbeZeroTimingsCountAsUnset) {
  json pod = MinimalPod();
  pod["spec"]["containers"][0]["livenessProbe"] = {
      {"exec", {{"command", {"true"}}}}, {"timeoutSeconds", 0}, {"failureThreshold", 7}};
  json probe = Defaulted(pod)["spec"]["containers"][0]["livenessProbe"];
  EXPECT_EQ(probe["timeoutSeconds"], 1);
  EXPECT_EQ(probe["failureThreshold"], 7);
}

TEST(PodDefaults, Volumes) {
  json pod = MinimalPod();
  pod["spec"]["volumes"] = json::parse(R"([
    {"name": "scratch"},
    {"name": "cfg", "configMap": {"name": "cm"}},
    {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
    {"name": "info", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
    {"name": "proj", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
    {"name": "host", "hostPath": {"path": "/data"}},
    {"name": "data", "persistentVolumeClaim": {"claimName": "data-0"}},
    {"name": "mem", "emptyDir": {"medium": "Memory"}}
  ])");
  json v = Defaulted(pod)["spec"]["volumes"];
  EXPECT_EQ(v[0]["emptyDir"], json::object());
  EXPECT_EQ(v[1]["configMap"]["defaultMode"], 420);
  EXPECT_EQ(v[2]["secret"]["defaultMode"], 256);
  EXPECT_EQ(v[3]["downwardAPI"]["defaultMode"], 420);
  EXPECT_EQ(v[3]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"], "v1");
  EXPECT_EQ(v[4]["projected"]["defaultMode"], 420);
  EXPECT_EQ(v[4]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"], 3600);
  EXPECT_EQ(v[5]["hostPath"]["type"], "");
  EXPECT_EQ(v[6],
            json::parse(R"({"name": "data", "persistentVolumeClaim": {"claimName": "data-0"}})"));
  EXPECT_EQ(v[7]["emptyDir"]["medium"], "Memory");
}

TEST(PodDefaults, RequestsDefaultToLimits) {
  json pod = MinimalPod();
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}},
                                               {"requests", {{"cpu", "100m"}}}};
  json r = Defaulted(pod)["spec"]["containers"][0]["resources"];
  EXPECT_EQ(r["requests"]["cpu"], "100m");
  EXPECT_EQ(r["requests"]["memory"], "128Mi");
}

TEST(PodDefaults, HostNetworkPodsPublishContainerPortsOnTheHost) {
  json pod = MinimalPod();
  pod["spec"]["hostNetwork"] = true;
  pod["spec"]["containers"][0]["ports"] = {{{"containerPort", 8080}}};
  EXPECT_EQ(Defaulted(pod)["spec"]["containers"][0]["ports"][0]["hostPort"], 8080);
}

TEST(PodDefaults, QosClass) {
  json pod = MinimalPod();
  json& res = pod["spec"]["containers"][0]["resources"];
  EXPECT_EQ(PodQosClass(Defaulted(pod)), "BestEffort");

  res = {{"requests", {{"cpu", "100m"}}}};
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Burstable");

  res = {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}};
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Guaranteed");

  // Equal quantities written differently are still equal.
  res = {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}},
         {"requests", {{"cpu", "1000m"}, {"memory", "1024Mi"}}}};
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Guaranteed");

  res = {{"limits", {{"cpu", "0.5"}, {"memory", "1e9"}}},
         {"requests", {{"cpu", "500m"}, {"memory", "1G"}}}};
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Guaranteed");

  res = {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}},
         {"requests", {{"cpu", "500m"}, {"memory", "1Gi"}}}};
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Burstable");

  // Every container needs both limits for Guaranteed.
  res = {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}};
  pod["spec"]["containers"].push_back({{"name", "side"}, {"image", "busybox"}});
  EXPECT_EQ(Defaulted(pod)["status"]["qosClass"], "Burstable");

  // Only cpu and memory count.
  json other = MinimalPod();
  other["spec"]["containers"][0]["resources"] = {{"limits", {{"nvidia.com/gpu", "1"}}}};
  EXPECT_EQ(Defaulted(other)["status"]["qosClass"], "BestEffort");
}

TEST(PodDefaults, Idempotent) {
  json pod = MinimalPod();
  pod["spec"]["containers"][0]["livenessProbe"] = {{"httpGet", {{"port", 80}}}};
  pod["spec"]["volumes"] = {{{"name", "x"}}};
  ExpectIdempotent(pod);
}

// --- Create-only -------------------------------------------------------------

TEST(PodCreateDefaults, AddsDefaultTolerations) {
  json pod = CreateDefaulted(MinimalPod());
  const json& spec = pod["spec"];
  ASSERT_EQ(spec["tolerations"].size(), 2u);
  EXPECT_EQ(spec["tolerations"][0],
            json::parse(R"({"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                            "effect": "NoExecute", "tolerationSeconds": 300})"));
  EXPECT_EQ(spec["tolerations"][1]["key"], "node.kubernetes.io/unreachable");
  // Priority needs the PriorityClass objects: admission's job (priority.h).
  EXPECT_FALSE(spec.contains("priority"));
  EXPECT_FALSE(spec.contains("preemptionPolicy"));
  // The ordinary defaults are there too.
  EXPECT_EQ(spec["restartPolicy"], "Always");
}

TEST(PodCreateDefaults, RespectsExistingTolerations) {
  json pod = MinimalPod();
  pod["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/not-ready"},
                                 {"operator", "Exists"},
                                 {"effect", "NoExecute"},
                                 {"tolerationSeconds", 5}}};
  json d = CreateDefaulted(pod);
  ASSERT_EQ(d["spec"]["tolerations"].size(), 2u);
  EXPECT_EQ(d["spec"]["tolerations"][0]["tolerationSeconds"], 5);
  EXPECT_EQ(d["spec"]["tolerations"][1]["key"], "node.kubernetes.io/unreachable");

  json all = MinimalPod();
  all["spec"]["tolerations"] = {{{"operator", "Exists"}}};  // tolerates everything
  EXPECT_EQ(CreateDefaulted(all)["spec"]["tolerations"].size(), 1u);
}

TEST(PodCreateDefaults, UpdateDefaultsDoNotAddThem) {
  json pod = Defaulted(MinimalPod());
  EXPECT_FALSE(pod["spec"].contains("tolerations"));
  EXPECT_FALSE(pod["spec"].contains("priority"));
}

// --- Workloads ----------------------------------------------------------------

TEST(StatefulSetDefaults, FillsSpecDefaults) {
  json sts = Workload("StatefulSet");
  sts["spec"]["volumeClaimTemplates"] = json::parse(R"([
    {"metadata": {"name": "data"},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
  ])");
  json d = Defaulted(sts);
  const json& spec = d["spec"];
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(spec["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(spec["updateStrategy"],
            json::parse(R"({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})"));
  EXPECT_EQ(spec["revisionHistoryLimit"], 10);
  EXPECT_EQ(spec["persistentVolumeClaimRetentionPolicy"],
            json::parse(R"({"whenDeleted": "Retain", "whenScaled": "Retain"})"));
  EXPECT_FALSE(spec.contains("minReadySeconds"));
  const json& pvc = spec["volumeClaimTemplates"][0];
  EXPECT_EQ(pvc["apiVersion"], "v1");
  EXPECT_EQ(pvc["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(pvc["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ(pvc["status"]["phase"], "Pending");
  EXPECT_EQ(d["status"]["replicas"], 0);
  EXPECT_EQ(d["status"]["availableReplicas"], 0);
}

TEST(StatefulSetDefaults, TemplateGetsPodSpecDefaultsOnly) {
  json tpl = Defaulted(Workload("StatefulSet"))["spec"]["template"];
  const json& spec = tpl["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Always");
  EXPECT_EQ(spec["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(spec["schedulerName"], "default-scheduler");
  EXPECT_EQ(spec["securityContext"], json::object());
  EXPECT_EQ(spec["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(spec["containers"][0]["ports"][0]["protocol"], "TCP");
  // These belong to Pods, set by Pod defaulting and admission, not templates.
  EXPECT_FALSE(spec.contains("enableServiceLinks"));
  EXPECT_FALSE(spec.contains("serviceAccountName"));
  EXPECT_FALSE(tpl.contains("status"));
  EXPECT_EQ(tpl["metadata"]["labels"]["app"], "web");
}

TEST(StatefulSetDefaults, KeepsExplicitValues) {
  json sts = Workload("StatefulSet");
  sts["spec"]["replicas"] = 0;
  sts["spec"]["podManagementPolicy"] = "Parallel";
  sts["spec"]["revisionHistoryLimit"] = 2;
  sts["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                   {"rollingUpdate", {{"partition", 2}}}};
  sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"}};
  json spec = Defaulted(sts)["spec"];
  EXPECT_EQ(spec["replicas"], 0);
  EXPECT_EQ(spec["podManagementPolicy"], "Parallel");
  EXPECT_EQ(spec["revisionHistoryLimit"], 2);
  EXPECT_EQ(spec["updateStrategy"]["rollingUpdate"]["partition"], 2);
  EXPECT_EQ(spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Delete");
  EXPECT_EQ(spec["persistentVolumeClaimRetentionPolicy"]["whenScaled"], "Retain");
}

TEST(StatefulSetDefaults, ExplicitStrategyTypesKeepTheirShape) {
  json on_delete = Workload("StatefulSet");
  on_delete["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  EXPECT_EQ(Defaulted(on_delete)["spec"]["updateStrategy"], json({{"type", "OnDelete"}}));

  // Kubernetes adds rollingUpdate only when it also defaulted the type.
  json rolling = Workload("StatefulSet");
  rolling["spec"]["updateStrategy"] = {{"type", "RollingUpdate"}};
  EXPECT_EQ(Defaulted(rolling)["spec"]["updateStrategy"], json({{"type", "RollingUpdate"}}));

  json partial = Workload("StatefulSet");
  partial["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                       {"rollingUpdate", json::object()}};
  EXPECT_EQ(Defaulted(partial)["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
}

TEST(StatefulSetDefaults, Idempotent) {
  json sts = Workload("StatefulSet");
  sts["spec"]["volumeClaimTemplates"] = {{{"metadata", {{"name", "d"}}}, {"spec", json::object()}}};
  ExpectIdempotent(sts);
}

TEST(DeploymentDefaults, FillsSpecDefaults) {
  json d = Defaulted(Workload("Deployment"));
  const json& spec = d["spec"];
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(spec["strategy"], json::parse(R"({"type": "RollingUpdate",
      "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})"));
  EXPECT_EQ(spec["revisionHistoryLimit"], 10);
  EXPECT_EQ(spec["progressDeadlineSeconds"], 600);
  EXPECT_EQ(spec["template"]["spec"]["restartPolicy"], "Always");
  EXPECT_FALSE(d.contains("status"));
}

TEST(DeploymentDefaults, KeepsExplicitValues) {
  json deploy = Workload("Deployment");
  deploy["spec"]["replicas"] = 3;
  deploy["spec"]["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}}}};
  json spec = Defaulted(deploy)["spec"];
  EXPECT_EQ(spec["replicas"], 3);
  EXPECT_EQ(spec["strategy"]["rollingUpdate"]["maxSurge"], 1);
  EXPECT_EQ(spec["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");

  json recreate = Workload("Deployment");
  recreate["spec"]["strategy"] = {{"type", "Recreate"}};
  EXPECT_EQ(Defaulted(recreate)["spec"]["strategy"], json({{"type", "Recreate"}}));
  ExpectIdempotent(Workload("Deployment"));
}

TEST(ReplicaSetDefaults, ReplicasAndTemplate) {
  json rs = Defaulted(Workload("ReplicaSet"));
  EXPECT_EQ(rs["spec"]["replicas"], 1);
  EXPECT_EQ(rs["spec"]["template"]["spec"]["schedulerName"], "default-scheduler");
  EXPECT_EQ(rs["status"]["replicas"], 0);
  json explicit_rs = Workload("ReplicaSet");
  explicit_rs["spec"]["replicas"] = 4;
  EXPECT_EQ(Defaulted(explicit_rs)["spec"]["replicas"], 4);
  ExpectIdempotent(Workload("ReplicaSet"));
}

// --- Service -------------------------------------------------------------------

json Service(json spec) {
  return {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "s"}}}, {"spec", spec}};
}

TEST(ServiceDefaults, ClusterIpService) {
  json svc = Defaulted(Service(json::parse(R"({
    "selector": {"app": "web"},
    "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]})")));
  const json& spec = svc["spec"];
  EXPECT_EQ(spec["type"], "ClusterIP");
  EXPECT_EQ(spec["sessionAffinity"], "None");
  EXPECT_EQ(spec["internalTrafficPolicy"], "Cluster");
  EXPECT_EQ(spec["ipFamilyPolicy"], "SingleStack");
  EXPECT_EQ(spec["ipFamilies"], json({"IPv4"}));
  EXPECT_FALSE(spec.contains("externalTrafficPolicy"));
  EXPECT_EQ(spec["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(spec["ports"][0]["targetPort"], 80);
  EXPECT_EQ(spec["ports"][1]["protocol"], "UDP");
  EXPECT_EQ(spec["ports"][1]["targetPort"], "dns");
}

TEST(ServiceDefaults, ZeroOrEmptyTargetPortMeansPort) {
  json svc = Defaulted(Service(json::parse(R"({
    "ports": [{"port": 80, "targetPort": 0}, {"port": 81, "targetPort": ""}]})")));
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 80);
  EXPECT_EQ(svc["spec"]["ports"][1]["targetPort"], 81);
}

TEST(ServiceDefaults, ClusterIpAndClusterIpsMirror) {
  json a = Defaulted(Service({{"clusterIP", "10.96.0.10"}}));
  EXPECT_EQ(a["spec"]["clusterIPs"], json({"10.96.0.10"}));
  json b = Defaulted(Service({{"clusterIPs", {"10.96.0.11"}}}));
  EXPECT_EQ(b["spec"]["clusterIP"], "10.96.0.11");
  json headless = Defaulted(Service({{"clusterIP", "None"}}));
  EXPECT_EQ(headless["spec"]["clusterIPs"], json({"None"}));
  EXPECT_EQ(headless["spec"]["ipFamilies"], json({"IPv4"}));
  json v6 = Defaulted(Service({{"clusterIP", "fd00::10"}}));
  EXPECT_EQ(v6["spec"]["ipFamilies"], json({"IPv6"}));
}

TEST(ServiceDefaults, ExternallyReachableTypes) {
  json node_port = Defaulted(Service({{"type", "NodePort"}, {"ports", {{{"port", 80}}}}}));
  EXPECT_EQ(node_port["spec"]["externalTrafficPolicy"], "Cluster");
  EXPECT_FALSE(node_port["spec"].contains("allocateLoadBalancerNodePorts"));
  json lb = Defaulted(Service({{"type", "LoadBalancer"}, {"externalTrafficPolicy", "Local"}}));
  EXPECT_EQ(lb["spec"]["externalTrafficPolicy"], "Local");
  EXPECT_EQ(lb["spec"]["allocateLoadBalancerNodePorts"], true);
  json external_ips = Defaulted(Service({{"externalIPs", {"1.2.3.4"}}}));
  EXPECT_EQ(external_ips["spec"]["externalTrafficPolicy"], "Cluster");
}

TEST(ServiceDefaults, ExternalNameGetsNoIpFields) {
  json svc = Defaulted(Service({{"type", "ExternalName"}, {"externalName", "example.com"}}));
  EXPECT_FALSE(svc["spec"].contains("ipFamilies"));
  EXPECT_FALSE(svc["spec"].contains("ipFamilyPolicy"));
  EXPECT_FALSE(svc["spec"].contains("internalTrafficPolicy"));
  EXPECT_EQ(svc["spec"]["sessionAffinity"], "None");
}

TEST(ServiceDefaults, SessionAffinity) {
  json client_ip = Defaulted(Service({{"sessionAffinity", "ClientIP"}}));
  EXPECT_EQ(client_ip["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"], 10800);
  json kept =
      Defaulted(Service({{"sessionAffinity", "ClientIP"},
                         {"sessionAffinityConfig", {{"clientIP", {{"timeoutSeconds", 60}}}}}}));
  EXPECT_EQ(kept["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"], 60);
  json none = Defaulted(Service({{"sessionAffinityConfig", {{"clientIP", json::object()}}}}));
  EXPECT_FALSE(none["spec"].contains("sessionAffinityConfig"));
}

TEST(ServiceDefaults, Idempotent) {
  ExpectIdempotent(Service({{"ports", {{{"port", 80}}}}, {"type", "LoadBalancer"}}));
  ExpectIdempotent(Service({{"sessionAffinity", "ClientIP"}}));
}

// --- Storage and cluster kinds -------------------------------------------------

TEST(StorageDefaults, PersistentVolumeClaim) {
  json pvc = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "metadata": {"name": "data-web-0"}, "spec": {"accessModes": ["ReadWriteOnce"]}})"));
  EXPECT_EQ(pvc["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ(pvc["status"]["phase"], "Pending");
  json bound = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "spec": {"volumeMode": "Block"}, "status": {"phase": "Bound"}})"));
  EXPECT_EQ(bound["spec"]["volumeMode"], "Block");
  EXPECT_EQ(bound["status"]["phase"], "Bound");
}

TEST(StorageDefaults, PersistentVolume) {
  json pv = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolume",
      "metadata": {"name": "pv1"}, "spec": {"hostPath": {"path": "/data"}}})"));
  EXPECT_EQ(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
  EXPECT_EQ(pv["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ(pv["spec"]["hostPath"]["type"], "");
  EXPECT_EQ(pv["status"]["phase"], "Pending");
  json del = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolume",
      "spec": {"persistentVolumeReclaimPolicy": "Delete"}})"));
  EXPECT_EQ(del["spec"]["persistentVolumeReclaimPolicy"], "Delete");
}

TEST(StorageDefaults, StorageClass) {
  json sc = Defaulted(json::parse(R"({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
      "metadata": {"name": "local"}, "provisioner": "kennel.io/local"})"));
  EXPECT_EQ(sc["reclaimPolicy"], "Delete");
  EXPECT_EQ(sc["volumeBindingMode"], "Immediate");
  json wait = Defaulted(json::parse(R"({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
      "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"})"));
  EXPECT_EQ(wait["reclaimPolicy"], "Retain");
  EXPECT_EQ(wait["volumeBindingMode"], "WaitForFirstConsumer");
}

TEST(SchedulingDefaults, PriorityClassValueAndPreemptionPolicy) {
  json pc = Defaulted(json::parse(R"({"apiVersion": "scheduling.k8s.io/v1",
      "kind": "PriorityClass", "metadata": {"name": "high"}})"));
  EXPECT_EQ(pc["value"], 0);
  EXPECT_EQ(pc["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_FALSE(pc.contains("globalDefault"));
  json never = Defaulted(json::parse(R"({"apiVersion": "scheduling.k8s.io/v1",
      "kind": "PriorityClass", "value": 7, "preemptionPolicy": "Never"})"));
  EXPECT_EQ(never["value"], 7);
  EXPECT_EQ(never["preemptionPolicy"], "Never");
  // An explicit "" is the client's, for validation to refuse.
  json blank = Defaulted(json::parse(R"({"apiVersion": "scheduling.k8s.io/v1",
      "kind": "PriorityClass", "value": 7, "preemptionPolicy": ""})"));
  EXPECT_EQ(blank["preemptionPolicy"], "");
  ExpectIdempotent(pc);
}

TEST(NamespaceDefaults, NameLabelAndActivePhase) {
  json ns = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "lie", "x": "y"}}})"));
  EXPECT_EQ(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  EXPECT_EQ(ns["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(ns["status"]["phase"], "Active");
  EXPECT_FALSE(ns.contains("spec"));  // the finalizer is create-only
  json terminating = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "old"}, "status": {"phase": "Terminating"}})"));
  EXPECT_EQ(terminating["status"]["phase"], "Terminating");
  // generateName-only namespaces have no name to label with yet.
  json unnamed = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"generateName": "x-"}})"));
  EXPECT_FALSE(unnamed["metadata"].contains("labels"));
}

TEST(NamespaceDefaults, CreateAddsKubernetesFinalizerOnce) {
  json ns = CreateDefaulted(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "team-a"}})"));
  EXPECT_EQ(ns["spec"]["finalizers"], json({"kubernetes"}));
  EXPECT_EQ(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  json other = CreateDefaulted(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "b"}, "spec": {"finalizers": ["example.com/x"]}})"));
  EXPECT_EQ(other["spec"]["finalizers"], json({"example.com/x", "kubernetes"}));
  ExpectIdempotent(json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "c"}})"));
}

TEST(OtherDefaults, SecretType) {
  EXPECT_EQ(Defaulted({{"apiVersion", "v1"}, {"kind", "Secret"}})["type"], "Opaque");
  EXPECT_EQ(
      Defaulted({{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", "kubernetes.io/tls"}})["type"],
      "kubernetes.io/tls");
}

TEST(OtherDefaults, NodeAllocatableFromCapacity) {
  json node = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Node",
      "metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}})"));
  EXPECT_EQ(node["status"]["allocatable"], json({{"cpu", "4"}, {"pods", "110"}}));
  json own = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Node",
      "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3"}}})"));
  EXPECT_EQ(own["status"]["allocatable"]["cpu"], "3");
  json bare = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Node", "spec": {}})"));
  EXPECT_FALSE(bare.contains("status"));
}

TEST(OtherDefaults, EventAlwaysCarriesReportingFields) {
  json ev = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Event",
      "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Scheduled"})"));
  EXPECT_EQ(ev["reportingComponent"], "");
  EXPECT_EQ(ev["reportingInstance"], "");
  EXPECT_EQ(ev["source"], json::object());
  json own = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Event",
      "reportingComponent": "kubelet", "source": {"component": "kubelet"}})"));
  EXPECT_EQ(own["reportingComponent"], "kubelet");
  EXPECT_EQ(own["source"]["component"], "kubelet");
}

TEST(OtherDefaults, EndpointsPortProtocol) {
  json ep = Defaulted(json::parse(R"({"apiVersion": "v1", "kind": "Endpoints",
      "subsets": [{"ports": [{"port": 80}]}]})"));
  EXPECT_EQ(ep["subsets"][0]["ports"][0]["protocol"], "TCP");
}

TEST(OtherDefaults, KindsWithoutDefaultsAreUntouched) {
  for (const json& obj : {json::parse(R"({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                              "metadata": {"name": "l"}, "spec": {}})"),
                          json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "c"}})"),
                          // Same kind name, different group: not ours to default.
                          json::parse(R"({"apiVersion": "example.com/v1", "kind": "Pod",
                              "spec": {"containers": [{"name": "c"}]}})"),
                          json::parse(R"({"kind": "Pod"})")}) {
    EXPECT_EQ(Defaulted(obj), obj);
    EXPECT_EQ(CreateDefaulted(obj), obj);
  }
}

TEST(Robustness, MalformedShapesDoNotThrow) {
  std::vector<json> bad = {
      json::array(),
      json("Pod"),
      json::parse(R"({"apiVersion": "v1", "kind": "Pod", "spec": "nope"})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": "x"},
                      "status": 3})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [1, null,
                      {"ports": "x", "resources": [], "livenessProbe": 4, "image": 7}],
                      "volumes": [{"name": "v", "secret": "s"}], "tolerations": 5}})"),
      json::parse(R"({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {
                      "updateStrategy": "x", "template": {"spec": []},
                      "volumeClaimTemplates": [{"spec": 1, "status": []}]}, "status": []})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80,
                      "targetPort": null}], "clusterIPs": "x", "ipFamilies": 4,
                      "sessionAffinity": "ClientIP", "sessionAffinityConfig": 1}})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n",
                      "labels": []}, "spec": {"finalizers": "x"}})"),
      json::parse(R"({"apiVersion": "v1", "kind": "Node", "status": {"capacity": 1}})"),
  };
  for (json obj : bad) {
    EXPECT_NO_THROW(ApplyDefaults(obj)) << obj.dump();
    EXPECT_NO_THROW(ApplyCreateDefaults(obj)) << obj.dump();
    EXPECT_NO_THROW(PodQosClass(obj));
  }
}

}  // namespace
}  // namespace kennel::api
