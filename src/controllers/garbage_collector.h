// Garbage collector: honours metadata.ownerReferences as
// kube-controller-manager's garbage collector does, for the three deletion
// propagation policies (`kubectl delete --cascade=background|foreground|orphan`).
//
// The API server's part (apiserver/handler.cc): a delete with
// propagationPolicy Foreground only marks the owner (deletionTimestamp) and
// adds the `foregroundDeletion` finalizer; Orphan adds the `orphan` finalizer;
// Background (the default) deletes the owner at once. An object whose last
// finalizer goes is deleted by the server.
//
// How it reconciles. An informer per kind that can own or be owned (every
// served kind but Events and Namespaces, which the namespace deletion owns)
// keeps two indexes: uid → object, and owner uid → dependents. A work queue of
// objects ("<kind index>|ns/name") is fed by:
//   - an object added with ownerReferences or a GC finalizer, or changed in
//     its ownerReferences, finalizers or deletionTimestamp: itself;
//   - an object deleted: its dependents (their owner may be gone) and its
//     owners (a foreground owner may be waiting for it);
//   - an object starting its deletion: its owners.
// Reconcile(item) (dependents of an owner being deleted with a finalizer
// are listed from the server, not the caches, so that one created just
// before the deletion is not missed):
//   - being deleted with `orphan`: removes the item's uid from every
//     dependent's ownerReferences, then removes the finalizer;
//   - being deleted with `foregroundDeletion`: deletes every dependent not yet
//     being deleted (as below, so a dependent with another live owner only
//     loses this reference), then removes the finalizer once no dependent
//     with blockOwnerDeletion remains;
//   - otherwise, with ownerReferences: each owner is looked up by uid (the
//     index, else a live GET by kind and name whose uid must match). With a
//     live owner the item stays (references to gone or foreground-deleting
//     owners are dropped); with none it is deleted — Foreground when it
//     blocks a foreground-deleting owner, else Background.
// Owners of unknown kinds count as live. Workers start once every cache has
// synced. Failures (conflicts, a server error) retry with the queue's
// back-off.
//
// Threads: one thread per informer (handlers only index and queue) and
// `workers` worker threads. Destruction stops them all.
#pragma once

#include <memory>
#include <vector>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

inline constexpr const char* kOrphanFinalizer = "orphan";
inline constexpr const char* kForegroundFinalizer = "foregroundDeletion";

struct GarbageCollectorOptions {
  int workers = 2;
  // The kinds watched; empty: every served kind but Events and Namespaces.
  std::vector<client::Resource> resources;
};

class GarbageCollector {
 public:
  // Starts the informers and workers; client must outlive the collector.
  static StatusOr<std::unique_ptr<GarbageCollector>> Start(client::Client* client,
                                                           GarbageCollectorOptions options = {});
  virtual ~GarbageCollector() = default;
};

}  // namespace kennel::controllers
