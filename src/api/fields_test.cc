#include "api/fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/openapi.h"
#include "api/registry.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

json Parse(const char* text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

std::vector<std::string> Unknown(const json& obj) {
  return UnknownFields(obj, obj.value("apiVersion", ""), obj.value("kind", ""));
}

// ---------------------------------------------------------------------------
// A corpus of realistic, complete objects: every field here is a real field of
// Kubernetes 1.32, so none may be reported.

constexpr char kPod[] = R"json({
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web-0",
    "generateName": "web-",
    "namespace": "default",
    "uid": "4f2a8c3e-8d5e-4a1b-9c0f-2b7e6d1a9f00",
    "resourceVersion": "12345",
    "generation": 1,
    "creationTimestamp": "2024-12-01T10:00:00Z",
    "deletionTimestamp": "2024-12-01T11:00:00Z",
    "deletionGracePeriodSeconds": 30,
    "labels": {"app": "web", "apps.kubernetes.io/pod-index": "0"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-12-01T10:00:00Z"},
    "finalizers": ["example.com/protect"],
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                         "uid": "9a1b2c3d-0000-4000-8000-000000000001", "controller": true,
                         "blockOwnerDeletion": true}],
    "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                       "apiVersion": "v1", "time": "2024-12-01T10:00:00Z",
                       "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}},
                      {"manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                       "time": "2024-12-01T10:00:05Z", "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:status": {"f:phase": {}}}, "subresource": "status"}]
  },
  "spec": {
    "activeDeadlineSeconds": 3600,
    "affinity": {
      "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
          "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/os",
                                                       "operator": "In", "values": ["linux"]}],
                                 "matchFields": [{"key": "metadata.name", "operator": "NotIn",
                                                  "values": ["node-9"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In",
                                                              "values": ["a"]}]}}]},
      "podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
          {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "zone",
           "namespaces": ["default"], "namespaceSelector": {},
           "matchLabelKeys": ["pod-template-hash"], "mismatchLabelKeys": ["tenant"]}]},
      "podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchExpressions": [
              {"key": "app", "operator": "In", "values": ["web"]}]},
              "topologyKey": "kubernetes.io/hostname"}}]}
    },
    "automountServiceAccountToken": false,
    "containers": [{
      "name": "web",
      "image": "nginx:1.27",
      "imagePullPolicy": "IfNotPresent",
      "command": ["nginx"],
      "args": ["-g", "daemon off;"],
      "workingDir": "/usr/share/nginx",
      "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"},
                {"name": "dns", "containerPort": 53, "hostPort": 5353, "hostIP": "0.0.0.0",
                 "protocol": "UDP"}],
      "env": [
        {"name": "PLAIN", "value": "x"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                         "fieldPath": "metadata.name"}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"containerName": "web",
                                                            "resource": "limits.memory",
                                                            "divisor": "1Mi"}}},
        {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k",
                                                          "optional": true}}},
        {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password",
                                                        "optional": false}}}],
      "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "cfg", "optional": true}},
                  {"secretRef": {"name": "s", "optional": false}}],
      "resources": {"limits": {"cpu": "500m", "memory": "256Mi", "nvidia.com/gpu": 1},
                    "requests": {"cpu": 0.25, "memory": "128Mi", "ephemeral-storage": "1Gi"},
                    "claims": [{"name": "gpu", "request": "big"}]},
      "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
      "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "web",
                        "readOnly": false, "mountPropagation": "HostToContainer"},
                       {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true,
                        "recursiveReadOnly": "IfPossible", "subPathExpr": "$(POD_NAME)"}],
      "volumeDevices": [{"name": "block", "devicePath": "/dev/xvda"}],
      "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "host": "localhost",
                                    "scheme": "HTTPS",
                                    "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                        "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 2,
                        "successThreshold": 1, "failureThreshold": 3,
                        "terminationGracePeriodSeconds": 10},
      "readinessProbe": {"tcpSocket": {"port": 80, "host": "127.0.0.1"}, "periodSeconds": 5},
      "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
      "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "echo started"]}},
                    "preStop": {"httpGet": {"path": "/drain", "port": 8080}}},
      "terminationMessagePath": "/dev/termination-log",
      "terminationMessagePolicy": "FallbackToLogsOnError",
      "securityContext": {"allowPrivilegeEscalation": false, "privileged": false,
                          "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                          "runAsUser": 1000, "runAsGroup": 1000, "procMount": "Default",
                          "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                          "seccompProfile": {"type": "RuntimeDefault"},
                          "appArmorProfile": {"type": "RuntimeDefault"},
                          "seLinuxOptions": {"level": "s0:c123,c456", "role": "r",
                                             "type": "t", "user": "u"},
                          "windowsOptions": {"gmsaCredentialSpecName": "g",
                                             "hostProcess": false,
                                             "runAsUserName": "ContainerUser"}},
      "stdin": false, "stdinOnce": false, "tty": false
    }, {
      "name": "grpc",
      "image": "example.com/grpc@sha256:0123456789abcdef",
      "livenessProbe": {"grpc": {"port": 9090, "service": "health"}},
      "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
      "resources": {}
    }],
    "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["svc.cluster.local"],
                  "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]},
    "dnsPolicy": "ClusterFirstWithHostNet",
    "enableServiceLinks": true,
    "ephemeralContainers": [{"name": "debugger", "image": "busybox", "stdin": true,
                             "tty": true, "targetContainerName": "web",
                             "terminationMessagePolicy": "File"}],
    "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
    "hostIPC": false, "hostNetwork": false, "hostPID": false, "hostUsers": true,
    "hostname": "web-0",
    "subdomain": "web",
    "setHostnameAsFQDN": false,
    "imagePullSecrets": [{"name": "regcred"}],
    "initContainers": [{
      "name": "init",
      "image": "busybox:1.36",
      "command": ["sh", "-c", "true"],
      "restartPolicy": "Always",
      "resources": {"requests": {"cpu": "10m"}},
      "volumeMounts": [{"name": "data", "mountPath": "/data"}]
    }],
    "nodeName": "node-1",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "os": {"name": "linux"},
    "overhead": {"cpu": "250m", "memory": "120Mi"},
    "preemptionPolicy": "PreemptLowerPriority",
    "priority": 1000,
    "priorityClassName": "high",
    "readinessGates": [{"conditionType": "example.com/ready"}],
    "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"},
                       {"name": "tmp", "resourceClaimTemplateName": "tmpl"}],
    "resources": {"limits": {"cpu": "2"}},
    "restartPolicy": "Always",
    "runtimeClassName": "runc",
    "schedulerName": "default-scheduler",
    "schedulingGates": [{"name": "example.com/gate"}],
    "securityContext": {"fsGroup": 2000, "fsGroupChangePolicy": "OnRootMismatch",
                        "runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": true,
                        "supplementalGroups": [4000], "supplementalGroupsPolicy": "Merge",
                        "seccompProfile": {"type": "Localhost",
                                           "localhostProfile": "profiles/audit.json"},
                        "appArmorProfile": {"type": "Unconfined"},
                        "seLinuxChangePolicy": "MountOption",
                        "seLinuxOptions": {"level": "s0"},
                        "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                        "windowsOptions": {"runAsUserName": "x"}},
    "serviceAccount": "web",
    "serviceAccountName": "web",
    "shareProcessNamespace": false,
    "terminationGracePeriodSeconds": 30,
    "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                     "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "dedicated", "operator": "Equal", "value": "web",
                     "effect": "NoSchedule"}],
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                   "whenUnsatisfiable": "DoNotSchedule",
                                   "labelSelector": {"matchLabels": {"app": "web"}},
                                   "minDomains": 2, "nodeAffinityPolicy": "Honor",
                                   "nodeTaintsPolicy": "Ignore",
                                   "matchLabelKeys": ["pod-template-hash"]}],
    "volumes": [
      {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420, "optional": true,
                                    "items": [{"key": "a", "path": "a.conf", "mode": 256}]}},
      {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256, "optional": false,
                                 "items": [{"key": "tls.crt", "path": "tls.crt"}]}},
      {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
      {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
      {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0", "readOnly": false}},
      {"name": "share", "nfs": {"server": "nfs.local", "path": "/exports", "readOnly": true}},
      {"name": "all-in-one", "projected": {"defaultMode": 420, "sources": [
          {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3600,
                                   "path": "token"}},
          {"configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}],
                         "optional": true}},
          {"secret": {"name": "s", "items": [{"key": "b", "path": "b"}]}},
          {"downwardAPI": {"items": [{"path": "labels",
                                      "fieldRef": {"fieldPath": "metadata.labels"}}]}},
          {"clusterTrustBundle": {"signerName": "example.com/signer", "path": "ca.pem",
                                  "labelSelector": {"matchLabels": {"a": "b"}},
                                  "optional": true}}]}},
      {"name": "csi", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true,
                              "fsType": "ext4",
                              "volumeAttributes": {"secretProviderClass": "vault"},
                              "nodePublishSecretRef": {"name": "creds"}}},
      {"name": "podinfo", "downwardAPI": {"defaultMode": 420, "items": [
          {"path": "cpu", "resourceFieldRef": {"containerName": "web",
                                               "resource": "requests.cpu",
                                               "divisor": "1m"}, "mode": 420},
          {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
      {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
          "metadata": {"labels": {"type": "scratch"}},
          "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                   "resources": {"requests": {"storage": "1Gi"}}}}}},
      {"name": "model", "image": {"reference": "example.com/model:v1",
                                  "pullPolicy": "IfNotPresent"}},
      {"name": "repo", "gitRepo": {"repository": "https://example.com/r.git",
                                   "revision": "main", "directory": "."}},
      {"name": "iscsi", "iscsi": {"targetPortal": "10.0.0.2:3260", "iqn": "iqn.x", "lun": 0,
                                  "fsType": "ext4", "readOnly": true}},
      {"name": "block", "persistentVolumeClaim": {"claimName": "block"}}
    ]
  },
  "status": {
    "phase": "Running",
    "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": "2024-12-01T10:00:10Z"},
                   {"type": "PodScheduled", "status": "True", "reason": "Scheduled",
                    "message": "ok", "lastTransitionTime": "2024-12-01T10:00:00Z"}],
    "hostIP": "10.0.0.5",
    "hostIPs": [{"ip": "10.0.0.5"}],
    "podIP": "10.244.1.7",
    "podIPs": [{"ip": "10.244.1.7"}, {"ip": "fd00::7"}],
    "startTime": "2024-12-01T10:00:00Z",
    "qosClass": "Burstable",
    "nominatedNodeName": "",
    "message": "",
    "reason": "",
    "resize": "InProgress",
    "containerStatuses": [{
      "name": "web", "ready": true, "started": true, "restartCount": 1,
      "image": "docker.io/library/nginx:1.27",
      "imageID": "docker.io/library/nginx@sha256:abc",
      "containerID": "containerd://0123",
      "state": {"running": {"startedAt": "2024-12-01T10:00:05Z"}},
      "lastState": {"terminated": {"exitCode": 137, "signal": 9, "reason": "OOMKilled",
                                   "message": "killed", "containerID": "containerd://0122",
                                   "startedAt": "2024-12-01T09:00:00Z",
                                   "finishedAt": "2024-12-01T10:00:00Z"}},
      "allocatedResources": {"cpu": "250m", "memory": "128Mi"},
      "allocatedResourcesStatus": [{"name": "claim:gpu", "resources": [
          {"resourceID": "gpu-0", "health": "Healthy"}]}],
      "resources": {"limits": {"cpu": "500m"}, "requests": {"cpu": "250m"}},
      "user": {"linux": {"uid": 1000, "gid": 1000, "supplementalGroups": [4000]}},
      "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": false,
                        "recursiveReadOnly": "Disabled"}]
    }, {
      "name": "grpc", "ready": false, "restartCount": 0, "image": "grpc", "imageID": "",
      "state": {"waiting": {"reason": "ContainerCreating", "message": "pulling"}}
    }],
    "initContainerStatuses": [{"name": "init", "ready": true, "restartCount": 0,
                               "image": "busybox:1.36", "imageID": "sha256:1",
                               "started": true,
                               "state": {"running": {"startedAt": "2024-12-01T10:00:01Z"}}}],
    "ephemeralContainerStatuses": [{"name": "debugger", "ready": false, "restartCount": 0,
                                    "image": "busybox", "imageID": "",
                                    "state": {"terminated": {"exitCode": 0}}}],
    "resourceClaimStatuses": [{"name": "gpu", "resourceClaimName": "web-0-gpu"}]
  }
})json";

constexpr char kStatefulSet[] = R"json({
  "apiVersion": "apps/v1",
  "kind": "StatefulSet",
  "metadata": {
    "name": "web",
    "namespace": "default",
    "labels": {"app": "web"},
    "annotations": {
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\"}\n"
    },
    "uid": "9a1b2c3d-0000-4000-8000-000000000001",
    "resourceVersion": "777",
    "generation": 3,
    "creationTimestamp": "2024-12-01T10:00:00Z"
  },
  "spec": {
    "replicas": 3,
    "selector": {"matchLabels": {"app": "web"},
                 "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
    "serviceName": "web",
    "podManagementPolicy": "Parallel",
    "revisionHistoryLimit": 5,
    "minReadySeconds": 10,
    "ordinals": {"start": 1},
    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
    "updateStrategy": {"type": "RollingUpdate",
                       "rollingUpdate": {"partition": 0, "maxUnavailable": "50%"}},
    "template": {
      "metadata": {"creationTimestamp": null, "labels": {"app": "web"},
                   "annotations": {"prometheus.io/scrape": "true"}},
      "spec": {
        "terminationGracePeriodSeconds": 10,
        "containers": [{
          "name": "nginx",
          "image": "registry.k8s.io/nginx-slim:0.24",
          "ports": [{"containerPort": 80, "name": "web"}],
          "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                        "limits": {"memory": "128Mi"}},
          "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
          "livenessProbe": {"tcpSocket": {"port": "web"}},
          "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}],
          "securityContext": {"runAsNonRoot": true}
        }],
        "volumes": [{"name": "cfg", "configMap": {"name": "web-cfg"}}],
        "tolerations": [{"operator": "Exists"}]
      }
    },
    "volumeClaimTemplates": [{
      "apiVersion": "v1",
      "kind": "PersistentVolumeClaim",
      "metadata": {"name": "www", "creationTimestamp": null, "labels": {"app": "web"}},
      "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
               "volumeMode": "Filesystem",
               "resources": {"requests": {"storage": "1Gi"}, "limits": {"storage": "2Gi"}},
               "selector": {"matchLabels": {"tier": "fast"}}},
      "status": {"phase": "Pending"}
    }]
  },
  "status": {
    "observedGeneration": 3,
    "replicas": 3,
    "readyReplicas": 3,
    "currentReplicas": 3,
    "updatedReplicas": 3,
    "availableReplicas": 3,
    "currentRevision": "web-7b9c6d5f4",
    "updateRevision": "web-7b9c6d5f4",
    "collisionCount": 0,
    "conditions": [{"type": "Ready", "status": "True",
                    "lastTransitionTime": "2024-12-01T10:00:00Z", "reason": "r", "message": "m"}]
  }
})json";

constexpr char kDeployment[] = R"json({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "api", "namespace": "prod", "labels": {"app": "api"},
               "annotations": {"deployment.kubernetes.io/revision": "4"}, "generation": 4},
  "spec": {
    "replicas": 2,
    "paused": false,
    "progressDeadlineSeconds": 600,
    "revisionHistoryLimit": 10,
    "minReadySeconds": 5,
    "selector": {"matchLabels": {"app": "api"}},
    "strategy": {"type": "RollingUpdate",
                 "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
    "template": {
      "metadata": {"labels": {"app": "api"}},
      "spec": {
        "serviceAccountName": "api",
        "containers": [{"name": "api", "image": "example.com/api:v4",
                        "args": ["--port=8080"],
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        "envFrom": [{"configMapRef": {"name": "api"}}],
                        "resources": {"requests": {"cpu": "200m"}}}],
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "api"}},
             "topologyKey": "kubernetes.io/hostname"}]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app": "api"}}}]
      }
    }
  },
  "status": {
    "observedGeneration": 4,
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "unavailableReplicas": 0,
    "collisionCount": 1,
    "conditions": [{"type": "Available", "status": "True",
                    "lastUpdateTime": "2024-12-01T10:00:00Z",
                    "lastTransitionTime": "2024-12-01T10:00:00Z",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability."}]
  }
})json";

constexpr char kReplicaSet[] = R"json({
  "apiVersion": "apps/v1",
  "kind": "ReplicaSet",
  "metadata": {"name": "api-5d4f8b7c9", "namespace": "prod",
               "labels": {"app": "api", "pod-template-hash": "5d4f8b7c9"},
               "annotations": {"deployment.kubernetes.io/desired-replicas": "2",
                               "deployment.kubernetes.io/max-replicas": "3",
                               "deployment.kubernetes.io/revision": "4"},
               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api",
                                    "uid": "1", "controller": true,
                                    "blockOwnerDeletion": true}]},
  "spec": {"replicas": 2, "minReadySeconds": 5,
           "selector": {"matchLabels": {"app": "api", "pod-template-hash": "5d4f8b7c9"}},
           "template": {"metadata": {"labels": {"app": "api",
                                                "pod-template-hash": "5d4f8b7c9"}},
                        "spec": {"containers": [{"name": "api", "image": "example.com/api:v4"}]}}},
  "status": {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2,
             "availableReplicas": 2, "observedGeneration": 1,
             "conditions": [{"type": "ReplicaFailure", "status": "False",
                             "lastTransitionTime": "2024-12-01T10:00:00Z"}]}
})json";

constexpr char kService[] = R"json({
  "apiVersion": "v1",
  "kind": "Service",
  "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
               "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
               "finalizers": ["service.kubernetes.io/load-balancer-cleanup"]},
  "spec": {
    "type": "LoadBalancer",
    "selector": {"app": "web"},
    "ports": [{"name": "http", "protocol": "TCP", "appProtocol": "http", "port": 80,
               "targetPort": "http", "nodePort": 30080},
              {"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8443,
               "nodePort": 30443}],
    "clusterIP": "10.96.0.10",
    "clusterIPs": ["10.96.0.10", "fd00:10:96::a"],
    "ipFamilies": ["IPv4", "IPv6"],
    "ipFamilyPolicy": "PreferDualStack",
    "externalIPs": ["192.0.2.10"],
    "externalTrafficPolicy": "Local",
    "internalTrafficPolicy": "Cluster",
    "healthCheckNodePort": 32000,
    "loadBalancerIP": "192.0.2.20",
    "loadBalancerSourceRanges": ["192.0.2.0/24"],
    "loadBalancerClass": "example.com/lb",
    "allocateLoadBalancerNodePorts": true,
    "publishNotReadyAddresses": false,
    "sessionAffinity": "ClientIP",
    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
    "trafficDistribution": "PreferClose"
  },
  "status": {
    "loadBalancer": {"ingress": [{"ip": "192.0.2.20", "hostname": "lb.example.com",
                                  "ipMode": "VIP",
                                  "ports": [{"port": 80, "protocol": "TCP",
                                             "error": "CreatingLoadBalancerFailed"}]}]},
    "conditions": [{"type": "LoadBalancerReady", "status": "True", "observedGeneration": 1,
                    "lastTransitionTime": "2024-12-01T10:00:00Z", "reason": "Ready",
                    "message": "ok"}]
  }
})json";

constexpr char kExternalNameService[] = R"json({
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "db"},
  "spec": {"type": "ExternalName", "externalName": "db.example.com"}
})json";

constexpr char kPersistentVolumeClaim[] = R"json({
  "apiVersion": "v1",
  "kind": "PersistentVolumeClaim",
  "metadata": {"name": "data", "namespace": "default",
               "annotations": {"pv.kubernetes.io/bind-completed": "yes",
                               "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"},
               "finalizers": ["kubernetes.io/pvc-protection"]},
  "spec": {
    "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"],
    "resources": {"requests": {"storage": "10Gi"}, "limits": {"storage": "20Gi"}},
    "storageClassName": "gp3",
    "volumeAttributesClassName": "silver",
    "volumeMode": "Block",
    "volumeName": "pvc-1234",
    "selector": {"matchLabels": {"tier": "fast"}},
    "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                   "name": "snap-1"},
    "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                      "name": "snap-1", "namespace": "backups"}
  },
  "status": {
    "phase": "Bound",
    "accessModes": ["ReadWriteOnce"],
    "capacity": {"storage": "10Gi"},
    "allocatedResources": {"storage": "10Gi"},
    "allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"},
    "currentVolumeAttributesClassName": "bronze",
    "modifyVolumeStatus": {"targetVolumeAttributesClassName": "silver",
                           "status": "InProgress"},
    "conditions": [{"type": "Resizing", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": "2024-12-01T10:00:00Z", "reason": "r",
                    "message": "m"}]
  }
})json";

// One PersistentVolume per volume source: PersistentVolumeSpec is a union.
constexpr const char* kPersistentVolumeSources[] = {
    R"json({"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1", "readOnly": false,
                    "fsType": "ext4", "volumeAttributes": {"a": "b"},
                    "controllerExpandSecretRef": {"name": "s", "namespace": "kube-system"},
                    "controllerPublishSecretRef": {"name": "s", "namespace": "kube-system"},
                    "nodeExpandSecretRef": {"name": "s", "namespace": "kube-system"},
                    "nodePublishSecretRef": {"name": "s", "namespace": "kube-system"},
                    "nodeStageSecretRef": {"name": "s", "namespace": "kube-system"}}})json",
    R"json({"local": {"path": "/mnt/disks/ssd1", "fsType": "xfs"}})json",
    R"json({"hostPath": {"path": "/data/pv1", "type": "DirectoryOrCreate"}})json",
    R"json({"nfs": {"server": "10.0.0.9", "path": "/exports/pv", "readOnly": false}})json",
    R"json({"iscsi": {"targetPortal": "10.0.0.2:3260", "iqn": "iqn.2001-04.com.example:storage",
                      "lun": 1, "iscsiInterface": "default", "fsType": "ext4",
                      "readOnly": false, "portals": ["10.0.0.3:3260"],
                      "chapAuthDiscovery": true, "chapAuthSession": true,
                      "secretRef": {"name": "chap", "namespace": "default"},
                      "initiatorName": "iqn.1996-04.de.suse:01:1"}})json",
    R"json({"rbd": {"monitors": ["10.0.0.4:6789"], "image": "img", "fsType": "ext4",
                    "pool": "rbd", "user": "admin", "keyring": "/etc/ceph/keyring",
                    "secretRef": {"name": "ceph", "namespace": "default"},
                    "readOnly": true}})json",
    R"json({"cephfs": {"monitors": ["10.0.0.4:6789"], "path": "/", "user": "admin",
                       "secretFile": "/etc/ceph/secret",
                       "secretRef": {"name": "ceph", "namespace": "default"},
                       "readOnly": false}})json",
    R"json({"fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2, "fsType": "ext4",
                   "readOnly": true, "wwids": ["3600508b400105e210000900000490000"]}})json",
    R"json({"awsElasticBlockStore": {"volumeID": "vol-0a1b", "fsType": "ext4", "partition": 1,
                                     "readOnly": false}})json",
    R"json({"gcePersistentDisk": {"pdName": "disk-1", "fsType": "ext4", "partition": 0,
                                  "readOnly": false}})json",
    R"json({"azureDisk": {"diskName": "d", "diskURI": "https://x/d.vhd", "cachingMode": "None",
                          "fsType": "ext4", "readOnly": false, "kind": "Managed"}})json",
    R"json({"azureFile": {"secretName": "azure", "shareName": "share", "readOnly": false,
                          "secretNamespace": "default"}})json",
    R"json({"cinder": {"volumeID": "v", "fsType": "ext4", "readOnly": false,
                       "secretRef": {"name": "c", "namespace": "default"}}})json",
    R"json({"flexVolume": {"driver": "example/lvm", "fsType": "ext4",
                           "secretRef": {"name": "f", "namespace": "default"},
                           "readOnly": false, "options": {"size": "1G"}}})json",
    R"json({"glusterfs": {"endpoints": "gluster", "path": "vol", "readOnly": false,
                          "endpointsNamespace": "default"}})json",
    R"json({"vsphereVolume": {"volumePath": "[ds] vol.vmdk", "fsType": "ext4",
                              "storagePolicyName": "gold", "storagePolicyID": "1"}})json",
    R"json({"portworxVolume": {"volumeID": "px", "fsType": "ext4", "readOnly": false}})json",
    R"json({"photonPersistentDisk": {"pdID": "p", "fsType": "ext4"}})json",
    R"json({"quobyte": {"registry": "r:7861", "volume": "v", "readOnly": false, "user": "u",
                        "group": "g", "tenant": "t"}})json",
    R"json({"scaleIO": {"gateway": "https://gw", "system": "s",
                        "secretRef": {"name": "sio", "namespace": "default"},
                        "sslEnabled": true, "protectionDomain": "pd", "storagePool": "sp",
                        "storageMode": "ThinProvisioned", "volumeName": "v", "fsType": "xfs",
                        "readOnly": false}})json",
    R"json({"storageos": {"volumeName": "v", "volumeNamespace": "default", "fsType": "ext4",
                          "readOnly": false,
                          "secretRef": {"kind": "Secret", "name": "s", "namespace": "d"}}})json",
    R"json({"flocker": {"datasetName": "ds", "datasetUUID": "u"}})json",
};

constexpr char kPersistentVolume[] = R"json({
  "apiVersion": "v1",
  "kind": "PersistentVolume",
  "metadata": {"name": "pv1", "labels": {"type": "local"},
               "annotations": {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"},
               "finalizers": ["kubernetes.io/pv-protection"]},
  "spec": {
    "capacity": {"storage": "10Gi"},
    "accessModes": ["ReadWriteOnce"],
    "persistentVolumeReclaimPolicy": "Retain",
    "storageClassName": "local-storage",
    "volumeAttributesClassName": "gold",
    "volumeMode": "Filesystem",
    "mountOptions": ["hard", "nfsvers=4.1"],
    "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "data",
                 "namespace": "default", "uid": "u", "resourceVersion": "5"},
    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}}
  },
  "status": {"phase": "Bound", "message": "", "reason": "",
             "lastPhaseTransitionTime": "2024-12-01T10:00:00Z"}
})json";

constexpr char kStorageClass[] = R"json({
  "apiVersion": "storage.k8s.io/v1",
  "kind": "StorageClass",
  "metadata": {"name": "gp3",
               "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
  "provisioner": "ebs.csi.aws.com",
  "parameters": {"type": "gp3", "csi.storage.k8s.io/fstype": "ext4"},
  "reclaimPolicy": "Delete",
  "allowVolumeExpansion": true,
  "volumeBindingMode": "WaitForFirstConsumer",
  "mountOptions": ["debug"],
  "allowedTopologies": [{"matchLabelExpressions": [
      {"key": "topology.ebs.csi.aws.com/zone", "values": ["us-east-1a", "us-east-1b"]}]}]
})json";

constexpr char kNode[] = R"json({
  "apiVersion": "v1",
  "kind": "Node",
  "metadata": {"name": "node-1",
               "labels": {"kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux",
                          "node-role.kubernetes.io/control-plane": ""},
               "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                               "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
  "spec": {
    "podCIDR": "10.244.1.0/24",
    "podCIDRs": ["10.244.1.0/24", "fd00:10:244:1::/64"],
    "providerID": "kind://docker/kind/node-1",
    "unschedulable": false,
    "externalID": "node-1",
    "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
               {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                "timeAdded": "2024-12-01T10:00:00Z", "value": ""}],
    "configSource": {"configMap": {"name": "kubelet", "namespace": "kube-system",
                                   "kubeletConfigKey": "kubelet"}}
  },
  "status": {
    "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi",
                 "hugepages-2Mi": "0"},
    "allocatable": {"cpu": "7800m", "memory": "31Gi", "pods": "110"},
    "phase": "Running",
    "conditions": [{"type": "Ready", "status": "True",
                    "lastHeartbeatTime": "2024-12-01T10:00:00Z",
                    "lastTransitionTime": "2024-12-01T09:00:00Z",
                    "reason": "KubeletReady", "message": "kubelet is posting ready status"},
                   {"type": "MemoryPressure", "status": "False",
                    "lastHeartbeatTime": "2024-12-01T10:00:00Z",
                    "lastTransitionTime": "2024-12-01T09:00:00Z",
                    "reason": "KubeletHasSufficientMemory", "message": "ok"}],
    "addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                  {"type": "Hostname", "address": "node-1"}],
    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    "nodeInfo": {"machineID": "m", "systemUUID": "s", "bootID": "b",
                 "kernelVersion": "6.8.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                 "containerRuntimeVersion": "containerd://1.7.18",
                 "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
                 "operatingSystem": "linux", "architecture": "amd64"},
    "images": [{"names": ["registry.k8s.io/etcd@sha256:abc", "registry.k8s.io/etcd:3.5.16"],
                "sizeBytes": 57680541}],
    "volumesInUse": ["kubernetes.io/csi/ebs.csi.aws.com^vol-1"],
    "volumesAttached": [{"name": "kubernetes.io/csi/ebs.csi.aws.com^vol-1",
                         "devicePath": "/dev/xvdba"}],
    "config": {"active": {"configMap": {"name": "kubelet", "namespace": "kube-system",
                                        "kubeletConfigKey": "kubelet",
                                        "resourceVersion": "1", "uid": "u"}},
               "lastKnownGood": {}, "assigned": {}, "error": ""},
    "runtimeHandlers": [{"name": "runc", "features": {"recursiveReadOnlyMounts": true,
                                                       "userNamespaces": true}}],
    "features": {"supplementalGroupsPolicy": true}
  }
})json";

constexpr char kEvent[] = R"json({
  "apiVersion": "v1",
  "kind": "Event",
  "metadata": {"name": "web-0.17a3b2c1d0e9f8a7", "namespace": "default"},
  "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web-0",
                     "namespace": "default", "uid": "u", "resourceVersion": "12345",
                     "fieldPath": "spec.containers{web}"},
  "reason": "Pulled",
  "message": "Successfully pulled image \"nginx:1.27\"",
  "source": {"component": "kubelet", "host": "node-1"},
  "firstTimestamp": "2024-12-01T10:00:00Z",
  "lastTimestamp": "2024-12-01T10:05:00Z",
  "count": 3,
  "type": "Normal",
  "eventTime": "2024-12-01T10:00:00.123456Z",
  "series": {"count": 2, "lastObservedTime": "2024-12-01T10:05:00.000001Z"},
  "action": "Pulling",
  "related": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
  "reportingComponent": "kubelet",
  "reportingInstance": "node-1"
})json";

constexpr char kLease[] = R"json({
  "apiVersion": "coordination.k8s.io/v1",
  "kind": "Lease",
  "metadata": {"name": "node-1", "namespace": "kube-node-lease",
               "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "node-1",
                                    "uid": "u"}]},
  "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
           "acquireTime": "2024-12-01T10:00:00.000000Z",
           "renewTime": "2024-12-01T10:05:00.123456Z", "leaseTransitions": 2,
           "strategy": "OldestEmulationVersion", "preferredHolder": "node-2"}
})json";

constexpr char kPriorityClass[] = R"json({
  "apiVersion": "scheduling.k8s.io/v1",
  "kind": "PriorityClass",
  "metadata": {"name": "system-node-critical", "uid": "u", "resourceVersion": "74",
               "generation": 1, "creationTimestamp": "2024-12-01T10:00:00Z"},
  "value": 2000001000,
  "globalDefault": false,
  "description": "Used for system critical pods that must not be moved from their current node.",
  "preemptionPolicy": "PreemptLowerPriority"
})json";

constexpr char kControllerRevision[] = R"json({
  "apiVersion": "apps/v1",
  "kind": "ControllerRevision",
  "metadata": {"name": "web-7b9c6d5f4", "namespace": "default",
               "labels": {"app": "web", "controller.kubernetes.io/hash": "7b9c6d5f4"},
               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                    "name": "web", "uid": "u", "controller": true,
                                    "blockOwnerDeletion": true}]},
  "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                          "anything": "goes"}]}}}},
  "revision": 2
})json";

constexpr char kEndpoints[] = R"json({
  "apiVersion": "v1",
  "kind": "Endpoints",
  "metadata": {"name": "web", "namespace": "default",
               "labels": {"app": "web"},
               "annotations": {"endpoints.kubernetes.io/last-change-trigger-time":
                                   "2024-12-01T10:00:00Z"}},
  "subsets": [{
    "addresses": [{"ip": "10.244.1.7", "hostname": "web-0", "nodeName": "node-1",
                   "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "default",
                                 "uid": "u"}}],
    "notReadyAddresses": [{"ip": "10.244.2.8"}],
    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "appProtocol": "http"}]
  }]
})json";

constexpr char kServiceAccount[] = R"json({
  "apiVersion": "v1",
  "kind": "ServiceAccount",
  "metadata": {"name": "web", "namespace": "default",
               "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/web"}},
  "automountServiceAccountToken": false,
  "imagePullSecrets": [{"name": "regcred"}],
  "secrets": [{"name": "web-token", "namespace": "default", "kind": "Secret",
               "apiVersion": "v1", "uid": "u", "resourceVersion": "1", "fieldPath": ""}]
})json";

constexpr char kNamespace[] = R"json({
  "apiVersion": "v1",
  "kind": "Namespace",
  "metadata": {"name": "prod", "labels": {"kubernetes.io/metadata.name": "prod"}},
  "spec": {"finalizers": ["kubernetes"]},
  "status": {"phase": "Terminating",
             "conditions": [{"type": "NamespaceDeletionContentFailure", "status": "False",
                             "lastTransitionTime": "2024-12-01T10:00:00Z",
                             "reason": "ContentDeleted", "message": "All content deleted"}]}
})json";

constexpr char kSecret[] = R"json({
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": {"name": "tls", "namespace": "default"},
  "type": "kubernetes.io/tls",
  "immutable": true,
  "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
  "stringData": {"extra": "plain text", "spec": "not a field"}
})json";

constexpr char kConfigMap[] = R"json({
  "apiVersion": "v1",
  "kind": "ConfigMap",
  "metadata": {"name": "cfg", "namespace": "default"},
  "immutable": false,
  "data": {"app.properties": "a=b\n", "dataa": "a key, not a field"},
  "binaryData": {"logo.png": "iVBORw0KGgo="}
})json";

constexpr char kScale[] = R"json({
  "apiVersion": "autoscaling/v1",
  "kind": "Scale",
  "metadata": {"name": "web", "namespace": "default", "resourceVersion": "777"},
  "spec": {"replicas": 5},
  "status": {"replicas": 3, "selector": "app=web"}
})json";

// What kubectl 1.32 sends, byte for byte: `kubectl create deployment web
// --image=nginx`, `kubectl run`, `kubectl create service clusterip`,
// `kubectl create configmap/secret/namespace/serviceaccount`, `kubectl apply`
// (with its last-applied annotation) and an edited `kubectl get -o json`.
constexpr const char* kKubectlSent[] = {
    R"json({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},"strategy":{}},"status":{}})json",
    R"json({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"run":"web"}},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}],"resources":{}}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst"},"status":{}})json",
    R"json({"kind":"Pod","apiVersion":"v1","metadata":{"name":"tmp","creationTimestamp":null,"labels":{"run":"tmp"}},"spec":{"containers":[{"name":"tmp","image":"busybox","args":["sh"],"resources":{},"stdin":true,"stdinOnce":true,"tty":true}],"restartPolicy":"Never","dnsPolicy":"ClusterFirst"},"status":{}})json",
    R"json({"kind":"Service","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"web"},"type":"ClusterIP"},"status":{"loadBalancer":{}}})json",
    R"json({"kind":"Service","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"ports":[{"protocol":"TCP","port":80,"targetPort":80}],"selector":{"app":"web"}},"status":{"loadBalancer":{}}})json",
    R"json({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg","creationTimestamp":null},"data":{"a":"1"}})json",
    R"json({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},"data":{"password":"aHVudGVyMg=="},"type":"Opaque"})json",
    R"json({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"prod","creationTimestamp":null},"spec":{},"status":{}})json",
    R"json({"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null}})json",
    R"json({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"annotations\":{},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":2}}\n"},"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"serviceName":"web","template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx","name":"nginx"}]}}}})json",
    R"json({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"deployment.kubernetes.io/revision":"1"},"creationTimestamp":"2024-12-01T10:00:00Z","generation":2,"labels":{"app":"web"},"managedFields":[{"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}},"manager":"kubectl-create","operation":"Update","time":"2024-12-01T10:00:00Z"},{"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:replicas":{}}},"manager":"kube-controller-manager","operation":"Update","subresource":"status","time":"2024-12-01T10:00:01Z"}],"name":"web","namespace":"default","resourceVersion":"900","uid":"0b8e5f2c-1d3a-4c5e-8f7a-9b0c1d2e3f40"},"spec":{"progressDeadlineSeconds":600,"replicas":3,"revisionHistoryLimit":10,"selector":{"matchLabels":{"app":"web"}},"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"},"type":"RollingUpdate"},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.27","imagePullPolicy":"Always","name":"nginx","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"terminationGracePeriodSeconds":30}}},"status":{"availableReplicas":1,"conditions":[{"lastTransitionTime":"2024-12-01T10:00:05Z","lastUpdateTime":"2024-12-01T10:00:05Z","message":"Deployment has minimum availability.","reason":"MinimumReplicasAvailable","status":"True","type":"Available"}],"observedGeneration":1,"readyReplicas":1,"replicas":1,"updatedReplicas":1}})json",
    R"json({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"default"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})json",
    R"json({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}]})json",
};

std::vector<std::pair<std::string, json>> Corpus() {
  std::vector<std::pair<std::string, json>> c;
  for (const char* text : {kPod, kStatefulSet, kDeployment, kReplicaSet, kService,
                           kExternalNameService, kPersistentVolumeClaim, kPersistentVolume,
                           kStorageClass, kNode, kEvent, kLease, kControllerRevision, kEndpoints,
                           kServiceAccount, kNamespace, kSecret, kConfigMap, kScale}) {
    json j = Parse(text);
    c.emplace_back(j.value("kind", ""), std::move(j));
  }
  c.emplace_back("PriorityClass", Parse(kPriorityClass));
  for (const char* source : kPersistentVolumeSources) {
    json pv = Parse(kPersistentVolume);
    json s = Parse(source);
    pv["spec"].update(s);
    c.emplace_back("PersistentVolume " + s.begin().key(), std::move(pv));
  }
  for (const char* text : kKubectlSent) {
    json j = Parse(text);
    c.emplace_back("kubectl " + j.value("kind", ""), std::move(j));
  }
  return c;
}

TEST(UnknownFields, RealisticObjectsOfEveryServedKindHaveNone) {
  std::set<std::string> kinds;
  for (const auto& [name, obj] : Corpus()) {
    EXPECT_THAT(Unknown(obj), IsEmpty()) << name;
    kinds.insert(obj.value("kind", ""));
    json pruned = obj;
    PruneUnknownFields(pruned, obj.value("apiVersion", ""), obj.value("kind", ""));
    EXPECT_EQ(pruned, obj) << name;
  }
  for (const ResourceInfo& info : AllResources()) {
    EXPECT_TRUE(kinds.count(info.kind) > 0) << "no corpus object of kind " << info.kind;
  }
}

TEST(UnknownFields, EveryServedKindHasASchemaThatCatchesATopLevelTypo) {
  for (const ResourceInfo& info : AllResources()) {
    json obj = {{"apiVersion", info.ApiVersion()},
                {"kind", info.kind},
                {"metadata", {{"name", "x"}}},
                {"metadataa", 1}};
    EXPECT_THAT(Unknown(obj), ElementsAre("metadataa")) << info.kind;
  }
}

// ---------------------------------------------------------------------------
// Real typos.

TEST(UnknownFields, FindsTyposWithKubernetesPaths) {
  json cm = Parse(kConfigMap);
  cm["dataa"] = {{"a", "b"}};
  cm["metadata"]["labelz"] = {{"app", "x"}};
  EXPECT_THAT(Unknown(cm), ElementsAre("dataa", "metadata.labelz"));

  json deploy = Parse(kDeployment);
  deploy["spec"]["replica"] = 3;
  EXPECT_THAT(Unknown(deploy), ElementsAre("spec.replica"));

  json sts = Parse(kStatefulSet);
  sts["spec"]["template"]["spec"]["containers"][0]["imagee"] = "nginx";
  EXPECT_THAT(Unknown(sts), ElementsAre("spec.template.spec.containers[0].imagee"));
}

TEST(UnknownFields, FindsTyposDeepInListsAndSortsThem) {
  json pod = Parse(kPod);
  json& spec = pod["spec"];
  spec["containers"][1]["livenessProbe"]["grpc"]["servce"] = "x";
  spec["containers"][0]["env"][2]["valueFrom"]["resourceFieldRef"]["divider"] = "1";
  spec["containers"][0]["ports"][1]["hostIp"] = "0.0.0.0";
  spec["initContainers"][0]["volumeMounts"][0]["mountpath"] = "/x";
  spec["volumes"][0]["configMap"]["items"][0]["mod"] = 1;
  spec["tolerations"][1]["effects"] = "NoSchedule";
  pod["metadata"]["ownerReferences"][0]["controler"] = true;
  pod["metadata"]["managedFields"][1]["operations"] = "Update";
  pod["status"]["containerStatuses"][0]["state"]["running"]["startAt"] = "now";
  pod["status"]["podIPs"][1]["address"] = "fd00::7";
  pod["statuss"] = json::object();
  EXPECT_THAT(
      Unknown(pod),
      ElementsAre("metadata.managedFields[1].operations", "metadata.ownerReferences[0].controler",
                  "spec.containers[0].env[2].valueFrom.resourceFieldRef."
                  "divider",
                  "spec.containers[0].ports[1].hostIp",
                  "spec.containers[1].livenessProbe.grpc.servce",
                  "spec.initContainers[0].volumeMounts[0].mountpath", "spec.tolerations[1].effects",
                  "spec.volumes[0].configMap.items[0].mod",
                  "status.containerStatuses[0].state.running.startAt", "status.podIPs[1].address",
                  "statuss"));

  json sts = Parse(kStatefulSet);
  sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClass"] = "fast";
  sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["request"] = json::object();
  sts["spec"]["updateStrategy"]["rollingUpdate"]["partitions"] = 1;
  sts["spec"]["template"]["metadata"]["label"] = json::object();
  sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDelete"] = "Retain";
  EXPECT_THAT(Unknown(sts), ElementsAre("spec.persistentVolumeClaimRetentionPolicy.whenDelete",
                                        "spec.template.metadata.label",
                                        "spec.updateStrategy.rollingUpdate.partitions",
                                        "spec.volumeClaimTemplates[0].spec.resources.request",
                                        "spec.volumeClaimTemplates[0].spec.storageClass"));
}

TEST(UnknownFields, CaseMatters) {
  json deploy = Parse(kDeployment);
  deploy["spec"]["Replicas"] = 1;
  deploy["spec"]["template"]["spec"]["containers"][0]["Image"] = "x";
  EXPECT_THAT(Unknown(deploy),
              ElementsAre("spec.Replicas", "spec.template.spec.containers[0].Image"));
}

TEST(UnknownFields, ReportsUnknownFieldsWhateverTheirValue) {
  json svc = Parse(kExternalNameService);
  svc["spec"]["ports"] = Parse(R"([{"port": 80, "nodeport": null, "target": {"a": 1}}])");
  EXPECT_THAT(Unknown(svc), ElementsAre("spec.ports[0].nodeport", "spec.ports[0].target"));
}

// ---------------------------------------------------------------------------
// What is never unknown.

TEST(UnknownFields, MapsAndPreservedSubtreesAdmitAnyKey) {
  json pod = Parse(kPod);
  pod["metadata"]["labels"]["anything"] = "x";
  pod["metadata"]["annotations"]["spec.replica"] = "x";
  pod["spec"]["nodeSelector"]["imagee"] = "x";
  pod["spec"]["containers"][0]["resources"]["limits"]["example.com/foo"] = "1";
  pod["spec"]["containers"][0]["securityContext"]["futureField"] = true;
  pod["spec"]["affinity"]["nodeAffinity"]["somethingNew"] = json::object();
  pod["spec"]["volumes"][7]["csi"]["newKnob"] = 1;
  pod["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"] = {{"f:whatever", json::object()}};
  // PodSpec itself is modelled partially (x-kubernetes-preserve-unknown-fields).
  pod["spec"]["somePodSpecField"] = 1;
  EXPECT_THAT(Unknown(pod), IsEmpty());

  json cr = Parse(kControllerRevision);
  cr["data"]["status"] = {{"x", 1}};  // RawExtension
  EXPECT_THAT(Unknown(cr), IsEmpty());
}

TEST(UnknownFields, PreservedNodesStillCheckTheFieldsTheyName) {
  // PodSpec and Volume preserve unknown fields, yet containers and configMap are typed.
  json pod = Parse(kPod);
  pod["spec"]["containers"][0]["imagee"] = "x";
  pod["spec"]["volumes"][0]["configMap"]["nam"] = "x";
  EXPECT_THAT(Unknown(pod),
              ElementsAre("spec.containers[0].imagee", "spec.volumes[0].configMap.nam"));
}

TEST(UnknownFields, TypeMismatchesAreLeftToValidation) {
  json deploy = Parse(kDeployment);
  deploy["spec"]["template"]["spec"]["containers"] = {{"name", "not-a-list"}};
  deploy["spec"]["selector"] = "app=web";
  deploy["spec"]["replicas"] = {{"count", 1}};
  EXPECT_THAT(Unknown(deploy), IsEmpty());
}

TEST(UnknownFields, KindsWithoutSchemaAndNonObjects) {
  EXPECT_THAT(UnknownFields(json{{"foo", 1}}, "example.com/v1", "Widget"), IsEmpty());
  EXPECT_THAT(UnknownFields(json{{"foo", 1}}, "v1", "Widget"), IsEmpty());
  EXPECT_THAT(UnknownFields(json{{"foo", 1}}, "apps/v2", "Deployment"), IsEmpty());
  EXPECT_THAT(UnknownFields(json::array({1, 2}), "v1", "Pod"), IsEmpty());
  EXPECT_THAT(UnknownFields(json(), "v1", "Pod"), IsEmpty());
  json s = "text";
  PruneUnknownFields(s, "v1", "Pod");
  EXPECT_EQ(s, "text");
}

TEST(UnknownFields, ListsAndScale) {
  json list = Parse(kKubectlSent[std::size(kKubectlSent) - 1]);
  list["items"][0]["spec"]["containers"][0]["imagee"] = "x";
  list["metadata"]["continu"] = "";
  EXPECT_THAT(Unknown(list), ElementsAre("items[0].spec.containers[0].imagee", "metadata.continu"));
  json scale = Parse(kScale);
  scale["spec"]["replica"] = 1;
  EXPECT_THAT(Unknown(scale), ElementsAre("spec.replica"));
}

// ---------------------------------------------------------------------------
// Pruning.

TEST(PruneUnknownFields, RemovesExactlyTheUnknownFields) {
  const json original = Parse(kStatefulSet);
  json typo = original;
  typo["spec"]["replica"] = 3;
  typo["spec"]["template"]["spec"]["containers"][0]["imagee"] = "nginx";
  typo["spec"]["template"]["spec"]["containers"][0]["ports"][0]["nam"] = "x";
  typo["spec"]["volumeClaimTemplates"][0]["spec"]["storageClass"] = "fast";
  typo["metadata"]["labelz"] = {{"a", "b"}};
  typo["foo"] = {{"bar", 1}};
  EXPECT_THAT(Unknown(typo), ElementsAre("foo", "metadata.labelz", "spec.replica",
                                         "spec.template.spec.containers[0].imagee",
                                         "spec.template.spec.containers[0].ports[0].nam",
                                         "spec.volumeClaimTemplates[0].spec.storageClass"));
  PruneUnknownFields(typo, "apps/v1", "StatefulSet");
  EXPECT_EQ(typo, original);
  EXPECT_THAT(Unknown(typo), IsEmpty());
}

TEST(PruneUnknownFields, KeepsMapsPreservedFieldsAndEmptiedObjects) {
  json cm = Parse(kConfigMap);
  cm["dataa"] = {{"a", "b"}};
  json expected = Parse(kConfigMap);
  PruneUnknownFields(cm, "v1", "ConfigMap");
  EXPECT_EQ(cm, expected);

  json pod = Parse(kPod);
  pod["spec"]["securityContext"]["futureField"] = true;
  pod["spec"]["os"] = {{"nam", "linux"}};  // os is not modelled: preserved
  pod["spec"]["dnsConfig"]["x"] = 1;
  pod["spec"]["containers"][1]["resources"] = {{"limit", {{"cpu", "1"}}}};
  json want = pod;
  want["spec"]["containers"][1]["resources"] = json::object();  // emptied, not removed
  PruneUnknownFields(pod, "v1", "Pod");
  EXPECT_EQ(pod, want);
}

// ---------------------------------------------------------------------------
// Messages.

TEST(UnknownFieldMessages, MatchKubernetes) {
  EXPECT_EQ(UnknownFieldMessage("spec.foo"), "unknown field \"spec.foo\"");
  EXPECT_EQ(StrictDecodingErrorMessage({"dataa", "spec.foo"}),
            "strict decoding error: unknown field \"dataa\", unknown field \"spec.foo\"");
  EXPECT_EQ(StrictDecodingErrorMessage({}), "");
}

// ---------------------------------------------------------------------------
// The schemas the walk reads.

TEST(SchemaAccessors, FindKindsAndRefs) {
  const json* sts = SchemaForKind("apps/v1", "StatefulSet");
  ASSERT_NE(sts, nullptr);
  EXPECT_TRUE((*sts)["properties"].contains("spec"));
  ASSERT_NE(SchemaForKind("v1", "PodList"), nullptr);
  ASSERT_NE(SchemaForKind("autoscaling/v1", "Scale"), nullptr);
  EXPECT_EQ(SchemaForKind("v1", "StatefulSet"), nullptr);
  EXPECT_EQ(SchemaForKind("apps/v1", "Widget"), nullptr);
  const json* spec = SchemaForRef("#/components/schemas/io.k8s.api.core.v1.PodSpec");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec, SchemaForRef("io.k8s.api.core.v1.PodSpec"));
  EXPECT_EQ(SchemaForRef("io.k8s.api.core.v1.Nope"), nullptr);
  // Lists of structs are arrays, as upstream's (kubectl explain prints []Object).
  for (const char* field : {"schedulingGates", "resourceClaims"}) {
    EXPECT_EQ((*spec)["properties"][field]["type"], "array") << field;
  }
  EXPECT_EQ(
      (*SchemaForRef("io.k8s.api.core.v1.ResourceRequirements"))["properties"]["claims"]["type"],
      "array");
}

// ---------------------------------------------------------------------------
// Cost.

TEST(UnknownFields, CheckingAStatefulSetTakesMicroseconds) {
  const json sts = Parse(kStatefulSet);
  EXPECT_GT(sts.dump().size(), 2000u);
  UnknownFields(sts, "apps/v1", "StatefulSet");  // compile the schemas
  constexpr int kRounds = 2000;
  size_t found = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) found += UnknownFields(sts, "apps/v1", "StatefulSet").size();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double micros =
      std::chrono::duration<double, std::micro>(elapsed).count() / static_cast<double>(kRounds);
  EXPECT_EQ(found, 0u);
  std::printf("UnknownFields(StatefulSet, %zu bytes): %.2f us per check\n", sts.dump().size(),
              micros);
#ifdef NDEBUG
  EXPECT_LT(micros, 200.0);
#else
  EXPECT_LT(micros, 2000.0);
#endif
}

}  // namespace
}  // namespace kennel::api
