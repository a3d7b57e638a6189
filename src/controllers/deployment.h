// Deployment controller: rolls a Deployment's pods out through ReplicaSets,
// one per pod template, as kube-controller-manager's deployment controller
// does, so that `kubectl rollout status|history|undo` and `kubectl scale` work.
//
// How it reconciles. Informers on Deployments and ReplicaSets feed a work
// queue of Deployment keys ("ns/name"): a Deployment added or changed queues
// itself; a ReplicaSet added, changed or deleted queues its controlling
// Deployment (by uid), an orphan one every Deployment of its namespace whose
// selector matches it. Reconcile(key), from the caches:
//   - claims ReplicaSets: those it controls that still match its selector;
//     adopts matching orphans and releases those that stopped matching;
//   - the new ReplicaSet is the one whose template equals the Deployment's
//     (ignoring the `pod-template-hash` label); when none, one named
//     `<deployment>-<hash>` is created (the hash: FNV-1a of the template and
//     status.collisionCount, in Kubernetes' safe alphabet; a name taken by
//     another template bumps collisionCount), its template and selector
//     carrying `pod-template-hash`;
//   - revisions: the new ReplicaSet gets `deployment.kubernetes.io/revision`
//     = 1 + the highest old one (also copied onto the Deployment), and the
//     Deployment's annotations (e.g. kubernetes.io/change-cause);
//   - RollingUpdate: scales the new ReplicaSet up within replicas + maxSurge,
//     and the old ones down (unhealthy pods first) keeping replicas -
//     maxUnavailable available (surge rounded up, unavailability down; both
//     zero → one unavailable); Recreate: scales every old ReplicaSet to 0,
//     waits until their pods are gone, then scales the new one up;
//   - a paused Deployment is only scaled; a complete rollout deletes the
//     oldest empty ReplicaSets beyond revisionHistoryLimit;
//   - status: replicas, updatedReplicas, readyReplicas, availableReplicas,
//     unavailableReplicas, observedGeneration, and the conditions Available
//     (MinimumReplicasAvailable / MinimumReplicasUnavailable) and Progressing
//     (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
//     NewReplicaSetAvailable, ProgressDeadlineExceeded after
//     progressDeadlineSeconds without progress).
// Not done: proportional scaling of several active ReplicaSets during a
// rollout (a resize then goes to the new ReplicaSet alone).
// Events: ScalingReplicaSet on the Deployment.
//
// Threads: one thread per informer, `workers` worker threads and an event
// recorder thread. Destruction stops them all.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

inline const client::Resource kDeployments{"apps", "v1", "deployments", true};

struct DeploymentOptions {
  int workers = 2;
};

class DeploymentController {
 public:
  // Starts the informers and workers; client must outlive the controller.
  static StatusOr<std::unique_ptr<DeploymentController>> Start(client::Client* client,
                                                               DeploymentOptions options = {});
  virtual ~DeploymentController() = default;
};

// The `pod-template-hash` of a pod template (a JSON PodTemplateSpec) and a
// collision count: stable for equal inputs, made of [bcdfghjklmnpqrstvwxz2-9].
std::string PodTemplateHash(const nlohmann::json& pod_template, int64_t collision_count);

// maxSurge and maxUnavailable (ints or "N%") resolved against replicas as
// Kubernetes' ResolveFenceposts does: surge rounds up, unavailable down, and
// when both come out 0 unavailable is 1.
struct Fenceposts {
  int64_t surge = 0;
  int64_t unavailable = 0;
};
StatusOr<Fenceposts> ResolveFenceposts(const nlohmann::json& max_surge,
                                       const nlohmann::json& max_unavailable, int64_t replicas);

}  // namespace kennel::controllers
