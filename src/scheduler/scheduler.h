// The scheduler: watches pods that no node has yet (and that name this
// scheduler), places each with the framework's plugins (framework.h,
// plugins.h) and the configured extenders (extender.h), and binds it through
// pods/binding. Scheduling is one thread over an incremental cluster cache
// (cache.h); bindings run on a pool of their own, so many are in flight and
// share the store's group commits, while the pod counts as placed (assumed)
// from the moment it is chosen. A pod that fits nowhere may preempt lower-
// priority pods (preemption.h); otherwise it stays Pending with
// PodScheduled=False/Unschedulable and a FailedScheduling Event counting the
// reasons, parked in the queue (queue.h) until the cluster changes.
#pragma once

#include <memory>

#include "base/status.h"
#include "client/client.h"
#include "scheduler/config.h"

namespace kennel::scheduler {

struct SchedulerOptions {
  SchedulerConfig config;
  int bind_workers = 16;  // bindings in flight at once
};

class Scheduler {
 public:
  // Starts watching and placing; client must outlive the scheduler.
  static StatusOr<std::unique_ptr<Scheduler>> Start(client::Client* client,
                                                    SchedulerOptions options = {});
  virtual ~Scheduler() = default;
};

}  // namespace kennel::scheduler
