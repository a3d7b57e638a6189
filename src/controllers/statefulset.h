// StatefulSet controller: gives each StatefulSet (apps/v1) its pods with
// stable identities — `<set>-<ordinal>`, hostname = pod name, subdomain =
// serviceName — and stable storage (a claim `<template>-<set>-<ordinal>` per
// volumeClaimTemplate), as kube-controller-manager's statefulset controller
// does (see /work/shared/design/statefulset-semantics.md).
//
// How it reconciles. Informers on StatefulSets, Pods, PersistentVolumeClaims
// and ControllerRevisions feed a work queue of set keys ("ns/name"): a set
// queues itself; a pod, claim or revision queues the set that controls it (a
// pod or revision without a controller queues the sets whose selector matches
// it, which then adopt it). Reconcile(key) reads only the caches:
//   1. Expectations. Each write the controller makes (create, update, delete
//      of a pod, claim, revision, or its own status) is remembered with the
//      resourceVersion it produced; the set is not reconciled again until the
//      informers have observed every one of them (or 30 s passed), so it never
//      acts on a cache older than its own writes.
//   2. Revisions. The template is hashed into a ControllerRevision
//      `<set>-<hash>` (data = {"spec":{"template":{…,"$patch":"replace"}}},
//      the strategic-merge patch Kubernetes stores and `kubectl rollout
//      undo` sends back); an identical older revision is renumbered rather
//      than duplicated (a rollback); a name clash bumps status.collisionCount.
//   3. Ordinal view. Pods with ordinals in [start, start+replicas) fill slots,
//      the others are condemned. Missing slots get a pod at the current
//      revision below the partition and at the update revision above.
//   4. Heal (beyond Kubernetes, issue 67250): under RollingUpdate, a pod that
//      is not Ready, not terminating, and at a revision other than the update
//      revision (and other than the current one when it sits below the
//      partition) is deleted so it comes back at the right revision, even
//      where OrderedReady would otherwise wait for it forever.
//   5. Replicas, ascending. Failed/Succeeded pods are deleted; a missing pod
//      gets its missing claims, then is created — unless a pod of that name
//      still exists (terminating included) or a claim of it is being deleted
//      or is stale. OrderedReady stops at the first creation and at the first
//      pod not Running+Ready+Available (minReadySeconds; a requeue follows);
//      Parallel goes on.
//   6. Condemned, descending: claim ownerRefs follow
//      persistentVolumeClaimRetentionPolicy first; then OrderedReady deletes
//      one pod at a time, only once higher ones are gone and the rest are
//      healthy; Parallel deletes them all.
//   7. Rolling update (RollingUpdate only): from the top ordinal down to the
//      partition, old-revision pods are deleted as long as fewer than
//      maxUnavailable pods in range are unavailable (maxUnavailable: an int
//      or a percentage of replicas rounded up, at least 1, default 1).
//   8. Claim growth (beyond Kubernetes, issue 68737): when a template's
//      storage request is larger than an existing claim's, claims are patched
//      one ordinal at a time in ascending order; status.conditions carries
//      type "VolumeClaimsResized" (False while growing, True once done).
//   9. Status through /status (replicas, ready, available, current, updated,
//      revisions, observedGeneration, collisionCount); currentRevision is
//      promoted once every pod is updated and ready; revisions no pod uses
//      are pruned beyond revisionHistoryLimit, oldest first.
// Errors requeue the set with the queue's back-off.
//
// Threads: one per informer (handlers only settle expectations and queue
// keys), `workers` workers, and the event recorder's. Destruction stops all.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

struct StatefulSetOptions {
  int workers = 2;
};

class StatefulSetController {
 public:
  // Starts the informers and workers; client must outlive the controller.
  static StatusOr<std::unique_ptr<StatefulSetController>> Start(client::Client* client,
                                                                StatefulSetOptions options = {});
  virtual ~StatefulSetController() = default;
};

// The ControllerRevision data of a set's template, as Kubernetes stores it:
// {"spec":{"template":<template with "$patch":"replace">}}.
nlohmann::json StatefulSetRevisionData(const nlohmann::json& set);

// The hash naming a revision (`<set>-<hash>`): FNV-32 of the data's JSON
// text, then of the collision count when non-zero, printed in decimal and
// spelt with Kubernetes' "safe" alphabet (no vowels, no ambiguous digits).
std::string StatefulSetRevisionHash(const nlohmann::json& data, int64_t collision_count);

// maxUnavailable of a RollingUpdate set: an int, or "N%" of replicas rounded
// up; never below 1.
int StatefulSetMaxUnavailable(const nlohmann::json& set);

}  // namespace kennel::controllers
