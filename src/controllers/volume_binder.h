// PersistentVolume binder and the built-in kennel.io/local-path provisioner,
// as kube-controller-manager's persistentvolume controller (binder, reclaim)
// plus a dynamic provisioner and the volume expander.
//
// How it reconciles. Informers on claims, volumes, StorageClasses and Nodes
// feed one work queue of "c:ns/name" (claim) and "v:name" (volume) keys; every
// claim and volume is also queued again every `resync` (as Kubernetes'
// 15 s resync), so a retry never depends on an event.
//   - An unbound claim (no pv.kubernetes.io/bind-completed) with
//     spec.volumeName binds to that volume when it is free (or pre-bound to
//     it) and compatible (class, access modes, volume mode, capacity), else
//     stays Pending with a VolumeMismatch/FailedBinding Event. Without
//     volumeName it takes the smallest volume that fits: same class ("" only
//     matches ""), offering every mode the claim asks for, same volumeMode,
//     capacity ≥ request, labels matching the claim's selector, no claimRef
//     (or a claimRef naming this claim, which wins at once), and for a claim
//     with volume.kubernetes.io/selected-node, node affinity admitting that
//     node. A WaitForFirstConsumer claim binds no free volume until the
//     scheduler selected a node (Event WaitForFirstConsumer). Nothing fits:
//     a class with provisioner kennel.io/local-path provisions (below); any
//     other provisioner gets an ExternalProvisioning Event; no class gets
//     FailedBinding "no persistent volumes available for this claim and no
//     storage class is set". Binding writes, in order: the volume's claimRef
//     (with uid; pv.kubernetes.io/bound-by-controller when the controller
//     chose it), its phase Bound, the claim's volumeName and annotations
//     (bind-completed, bound-by-controller), the claim's status (Bound,
//     capacity and accessModes of the volume). Each write is idempotent, so
//     a crash or conflict half-way is finished by the next sync.
//   - A bound claim whose volume vanished, or lost its claimRef to another
//     claim, goes Lost (Event ClaimLost / ClaimMisbound). When its request
//     grows past the volume's capacity: a class with allowVolumeExpansion and
//     a local-path volume → the volume's capacity and then the claim's
//     status.capacity grow (Event VolumeResizeSuccessful; local-path needs no
//     filesystem resize); a class without it → Event VolumeResizeFailed and a
//     claim condition ControllerResizeError=True, reason
//     VolumeExpansionNotAllowed (removed once the volume has grown).
//   - A volume without claimRef (or pre-bound without uid) is Available; one
//     whose claim is bound to it is Bound; one whose claim is gone (not in the
//     cache and not on the server, or another uid) goes Released and is
//     reclaimed: Retain keeps it Released, Recycle fails (Failed), Delete
//     deletes the PersistentVolume object — except a local-path volume, whose
//     node's agent removes the directory and then deletes the object (see
//     agent/local_path.h); if that Node no longer exists, the object is
//     deleted here.
//
// Provisioning (kennel.io/local-path). The node is the claim's selected node
// (WaitForFirstConsumer) or, for Immediate binding, the schedulable node with
// the most free kennel.io/local-storage (allocatable minus the local-path
// volumes pinned there and the claims selected there) that fits the request.
// The volume root is the node's annotation kennel.io/volume-root (the agent
// publishes `<its data dir>/volumes` at registration), so the path is
// interpreted on that node even when it runs on another machine. The
// PersistentVolume is named pvc-<claim uid>: spec.local.path
// <volume root>/pvc-<uid>, node affinity kubernetes.io/hostname In [node],
// capacity = the request, reclaim policy from the class (default Delete),
// annotation pv.kubernetes.io/provisioned-by: kennel.io/local-path, label
// kennel.io/local-path-node=<node> (the agent's informer selects on it), and
// a claimRef pre-bound to the claim; Events Provisioning and
// ProvisioningSucceeded on the claim. The directory itself is created by the
// agent when a pod first mounts the volume.
//
// Writes the controller made are kept as "assumed" objects until the
// informers catch up, so a sync right after a write never acts on the
// version before it (e.g. binding a second claim to a volume it just took);
// every write is a compare-and-swap on resourceVersion, so two workers never
// both win the same volume.
//
// Threads: one per informer (handlers only queue keys), `workers` workers, a
// resync thread, the event recorder's. Destruction stops them all.
#pragma once

#include <chrono>
#include <memory>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

inline constexpr const char* kBindCompletedAnnotation = "pv.kubernetes.io/bind-completed";
inline constexpr const char* kBoundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller";
inline constexpr const char* kProvisionedByAnnotation = "pv.kubernetes.io/provisioned-by";
inline constexpr const char* kSelectedNodeAnnotation = "volume.kubernetes.io/selected-node";
// On a Node: the absolute directory under which its local-path volumes live.
inline constexpr const char* kVolumeRootAnnotation = "kennel.io/volume-root";
// On a local-path PersistentVolume: the node it lives on.
inline constexpr const char* kLocalPathNodeLabel = "kennel.io/local-path-node";

struct VolumeBinderOptions {
  int workers = 4;
  std::chrono::milliseconds resync = std::chrono::seconds(15);
  // At start, create the `local-path` StorageClass when missing (marked the
  // default unless another class already is).
  bool create_default_class = true;
};

class VolumeBinder {
 public:
  // Creates the default class (when asked), starts the informers and
  // workers; client must outlive the binder.
  static StatusOr<std::unique_ptr<VolumeBinder>> Start(client::Client* client,
                                                       VolumeBinderOptions options = {});
  virtual ~VolumeBinder() = default;
};

}  // namespace kennel::controllers
