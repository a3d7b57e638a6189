// Validation of built-in kinds, as the Kubernetes API server validates them on
// create and update (k8s.io/kubernetes pkg/apis/*/validation, 1.32).
//
// Callers: the API server, after defaulting (see defaults.h) and before
// storage, on every create, update and patch of a served kind. The object is
// the whole wire object: apiVersion, kind, metadata, spec/data/...; status is
// not checked. Pure function: safe from any thread; never throws, whatever
// the JSON holds.
//
// Result:
//   OK, or
//   kInvalid with Kubernetes' message and causes, e.g.
//     message  `StatefulSet.apps "web" is invalid: spec.replicas: Invalid value: -1: must be
//               greater than or equal to 0`
//     cause    {reason "FieldValueInvalid", field "spec.replicas",
//               message "Invalid value: -1: must be greater than or equal to 0"}
//   Several causes are joined as `... is invalid: [cause1, cause2]` (identical
//   ones once). Reasons are Kubernetes' CauseTypes: FieldValueRequired,
//   FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate,
//   FieldValueNotFound, FieldValueForbidden, FieldValueTooLong, and
//   FieldValueTypeInvalid for a field of the wrong JSON type ("must be of type
//   integer"). Bad values are shown as the Go API server shows them: strings
//   quoted (Go %q), numbers plainly, label maps as map[string]string{"k":"v"},
//   selectors as v1.LabelSelector{...}, a few structs in Go syntax; other
//   composite values as compact JSON.
//   kBadRequest when apiVersion/kind name no served kind; kInternal only on a
//   bug (no exception escapes).
//
// What is checked (Kubernetes' rules; its messages wherever known):
//   - metadata: name present and a DNS-1123 subdomain (a label for Namespace
//     and StatefulSet, a DNS-1035 label for Service); namespace present and a
//     label for namespaced kinds, absent otherwise; label keys/values,
//     annotation keys and total size (256 KiB), finalizers, ownerReferences.
//     On update name, namespace, uid and creationTimestamp are immutable and
//     the name format is not re-checked (as Kubernetes, so old objects stay
//     deletable).
//   - Pod specs, in Pods and in workload templates: containers, init
//     containers, ports, env, volumes and mounts, resources (quantities parse,
//     requests <= limits), probes, restart/DNS policies, hostname, tolerations.
//     Unlike Kubernetes 1.32, a StatefulSet's template spec is checked too
//     (Kubernetes only finds the errors when creating the pods); its
//     volumeClaimTemplates count as volumes for the mounts.
//   - Per kind: StatefulSet, Deployment, ReplicaSet, Service, Endpoints,
//     ConfigMap, Secret, PersistentVolumeClaim, PersistentVolume, Namespace,
//     Node, Event, ServiceAccount, StorageClass, ControllerRevision, Lease,
//     PriorityClass, with their update rules (StatefulSet spec freeze,
//     selector and clusterIP immutability, PVC growth-only requests, immutable
//     ConfigMaps and Secrets, StorageClass provisioner/parameters, PriorityClass
//     value and preemptionPolicy...). A PriorityClass's reserved "system-"
//     prefix and user maximum are checked on create only, as Kubernetes does.
//
// Deliberate differences from Kubernetes 1.32: a Pod update may set
// spec.nodeName once (binding goes through the same check); a StatefulSet's
// serviceName must be a DNS label (the 1.33 rule); PVC requests may grow
// whether or not the claim is bound; Endpoints addresses need only be valid
// IPs (loopback and link-local are not refused); request/limit messages quote
// quantities as written rather than canonicalised.
//
// Fields the defaulter fills (restartPolicy, dnsPolicy, protocol,
// podManagementPolicy, updateStrategy.type, ...) are checked when present; an
// absent one is taken as its default, an explicit "" is reported Required.
//
// The API server fills metadata.name (from generateName) and, for namespaced
// kinds, metadata.namespace (from the request path) before calling this.
//
// On update the API server must first carry allocated values the client may
// omit (Service clusterIP/clusterIPs) over from the stored object, as
// Kubernetes does; an emptied clusterIP is reported here as Kubernetes
// reports it ("primary clusterIP can not be unset").
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace kennel::api {

// old_obj is null on create and the stored object on update.
Status ValidateObject(const nlohmann::json& obj, const nlohmann::json* old_obj);

}  // namespace kennel::api
