// Server-side defaulting of built-in kinds, as the Kubernetes API server does
// it before validation and storage.
//
// Callers: the API server runs ApplyCreateDefaults() on every create and
// ApplyDefaults() on every update (including patches, after the patch is
// applied), then validates. Both mutate the object in place, are idempotent
// (running them twice equals running them once), keep every value the client
// set, never throw, and leave objects they do not understand (unknown kinds,
// fields of the wrong JSON type) alone for validation to reject.
//
// Defaults follow Kubernetes 1.32 with default feature gates: the
// k8s.io/kubernetes pkg/apis/*/v1 defaulters, plus the few fields that
// Kubernetes fills in through its create strategies or admission plugins and
// that clients observe (Pod status.phase/qosClass, serviceAccountName,
// default tolerations, Namespace finalizer). Pod priority comes from the
// PriorityClass objects, which the API server reads: see priority.h. A field Kubernetes
// treats as unset when it is the zero value ("" for most strings, 0 for
// non-pointer integers such as probe thresholds) is defaulted the same way
// here; pointer fields (replicas, terminationGracePeriodSeconds...) are only
// defaulted when absent or null, so an explicit 0 stays.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kennel::api {

// Fills the fields Kubernetes defaults on create and update for the built-in
// kind named by obj's apiVersion and kind ("v1"/"Pod", "apps/v1"/
// "StatefulSet"...); any other apiVersion, including none, is left alone.
// Per kind:
//   Pod: spec as below plus enableServiceLinks, serviceAccountName "default",
//     requests defaulted from limits, hostNetwork hostPorts; status.phase
//     Pending and status.qosClass when absent.
//   Pod templates (StatefulSet, Deployment, ReplicaSet): the PodSpec defaults
//     only — restartPolicy Always, dnsPolicy ClusterFirst,
//     terminationGracePeriodSeconds 30, schedulerName default-scheduler,
//     securityContext {}; per container terminationMessagePath/Policy,
//     imagePullPolicy (Always for :latest or untagged, else IfNotPresent),
//     resources {}, port protocol TCP, probe timings (1/10/1/3) and httpGet
//     path/scheme, env fieldRef apiVersion; per volume emptyDir {} when no
//     source, defaultMode 420 on secret/configMap/downwardAPI/projected.
//   StatefulSet: replicas 1, podManagementPolicy OrderedReady, updateStrategy
//     {RollingUpdate, partition 0}, revisionHistoryLimit 10,
//     persistentVolumeClaimRetentionPolicy Retain/Retain, volumeClaimTemplates
//     as PVCs (with apiVersion/kind), status.replicas/availableReplicas 0.
//   Deployment: replicas 1, strategy RollingUpdate 25%/25%,
//     revisionHistoryLimit 10, progressDeadlineSeconds 600.
//   ReplicaSet: replicas 1, status.replicas 0.
//   Service: type ClusterIP, sessionAffinity None (ClientIP gets a 10800 s
//     timeout), port protocol TCP and targetPort = port, internalTrafficPolicy
//     Cluster, externalTrafficPolicy Cluster when externally reachable,
//     allocateLoadBalancerNodePorts true for LoadBalancer, single-stack
//     ipFamilyPolicy/ipFamilies and clusterIP <-> clusterIPs mirrored (not for
//     ExternalName).
//   Endpoints: port protocol TCP.
//   PersistentVolumeClaim: volumeMode Filesystem, status.phase Pending.
//   PersistentVolume: persistentVolumeReclaimPolicy Retain, volumeMode
//     Filesystem, status.phase Pending.
//   Namespace: label kubernetes.io/metadata.name = name (always),
//     status.phase Active.
//   Secret: type Opaque.
//   Node: status.allocatable = status.capacity when absent.
//   StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate.
//   PriorityClass: value 0 when absent, preemptionPolicy PreemptLowerPriority.
//   Event: reportingComponent/reportingInstance "" and source {}.
//   Lease, ConfigMap, ServiceAccount, ControllerRevision: nothing.
void ApplyDefaults(nlohmann::json& obj);

// ApplyDefaults() plus what Kubernetes sets only when an object is created
// (which must not come back on update, or it would undo later changes):
//   Namespace: spec.finalizers gains "kubernetes" (the namespace controller
//     removes it when finalizing, so update must not restore it).
//   Pod: the DefaultTolerationSeconds tolerations (not-ready and unreachable,
//     NoExecute, 300 s) unless already tolerated. (priority and
//     preemptionPolicy: AdmitPodPriority in priority.h.)
void ApplyCreateDefaults(nlohmann::json& obj);

// The Kubernetes QoS class of a Pod ("Guaranteed", "Burstable" or
// "BestEffort") from its containers' cpu/memory requests and limits, after
// defaulting (requests default to limits).
std::string PodQosClass(const nlohmann::json& pod);

// "Always" for an image with the tag "latest" or no tag and no digest,
// otherwise "IfNotPresent" (the imagePullPolicy default).
std::string DefaultImagePullPolicy(const std::string& image);

}  // namespace kennel::api
