// ReplicaSet controller: keeps spec.replicas pods matching each ReplicaSet's
// selector, as kube-controller-manager's replicaset controller does.
//
// How it reconciles. Informers on ReplicaSets and Pods feed a work queue of
// ReplicaSet keys ("ns/name"):
//   - a ReplicaSet added, changed or deleted queues itself;
//   - a pod added, changed or deleted queues its controller (the ownerReference
//     with controller: true, checked by uid); an orphan pod queues every
//     ReplicaSet of its namespace whose selector matches it (adoption); a pod
//     whose labels or controller changed queues the old controller too.
// Reconcile(key) reads the caches:
//   - claims pods (ControllerRefManager): active pods (not terminal, not
//     being deleted) it controls and that still match; matching orphans are
//     adopted (a strategic merge patch adding the controller reference, after
//     a live check that the ReplicaSet still exists with that uid); pods it
//     controls that stopped matching are released (the reference removed);
//   - unless the ReplicaSet is being deleted, and only when its expectations
//     are satisfied (every create and delete it issued has been seen by the
//     pod informer, or 5 minutes passed), creates the missing pods from the
//     template (generateName "<rs>-", the controller reference; in slow-start
//     batches 1, 2, 4, …, stopping at the first failure) or deletes the
//     extras, choosing as Kubernetes ranks them: unscheduled before
//     scheduled, Pending before Unknown before Running, not ready before
//     ready, lower controller.kubernetes.io/pod-deletion-cost first, more
//     pods on the same node first, most recently ready first, more restarts
//     first, newer first;
//   - writes status (replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas after minReadySeconds, observedGeneration, the
//     ReplicaFailure condition) when it changed, and requeues itself after
//     minReadySeconds while pods are ready but not yet available.
// Events: SuccessfulCreate, SuccessfulDelete, FailedCreate, FailedDelete.
//
// Threads: one thread per informer (handlers only index and queue) and
// `workers` worker threads; an event recorder thread. Destruction stops all.
#pragma once

#include <memory>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

inline const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};

struct ReplicaSetOptions {
  int workers = 2;
  // At most this many creates or deletes per sync (Kubernetes' burstReplicas).
  int burst_replicas = 500;
};

class ReplicaSetController {
 public:
  // Starts the informers and workers; client must outlive the controller.
  static StatusOr<std::unique_ptr<ReplicaSetController>> Start(client::Client* client,
                                                               ReplicaSetOptions options = {});
  virtual ~ReplicaSetController() = default;
};

}  // namespace kennel::controllers
