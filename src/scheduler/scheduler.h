// The scheduler: watches pods that no node has yet (and name no other
// scheduler), places each with the framework's plugins (framework.h), and
// binds it through pods/binding. A pod that fits nowhere stays Pending with
// PodScheduled=False/Unschedulable and a FailedScheduling Event counting the
// reasons, and is tried again when nodes or pods change, with back-off.
#pragma once

#include <memory>

#include "base/status.h"
#include "client/client.h"

namespace kennel::scheduler {

class Scheduler {
 public:
  // Starts watching and placing; client must outlive the scheduler.
  static StatusOr<std::unique_ptr<Scheduler>> Start(client::Client* client);
  virtual ~Scheduler() = default;
};

}  // namespace kennel::scheduler
