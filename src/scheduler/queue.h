// The scheduling queue, after kube-scheduler's: pods waiting for a cycle are
// popped highest priority first, then oldest first (the PrioritySort queue
// sort). A pod that fit nowhere is parked until something in the cluster
// changes (a node comes or changes, a pod goes) and then retried after its
// back-off (1 s doubling to 10 s); parked pods are retried anyway after five
// minutes. A pod whose cycle overlapped a cluster change goes to back-off
// rather than parking, so that change is not missed.
//
// Every method may be called from any thread; Pop() blocks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "scheduler/framework.h"

namespace kennel::scheduler {

class SchedulingQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{10000};
    std::chrono::milliseconds max_parked{5 * 60 * 1000};
  };

  SchedulingQueue() : SchedulingQueue(Options{}) {}
  explicit SchedulingQueue(Options options) : options_(options) {}

  // A pending pod, new or updated. An update that changes neither spec nor
  // labels leaves a parked or backing-off pod where it is (the scheduler's
  // own status writes must not retry it); any other goes to the active queue.
  void Add(std::shared_ptr<const PodInfo> pod);
  void Delete(const std::string& key);

  // The pod popped last for key could not be placed: park it (or back it off
  // when the cluster changed during its cycle).
  void Unschedulable(const std::string& key);
  // The pod popped for key names a claim the scheduler has not seen yet
  // (the claim and the pod are created together and their watches race):
  // not a failed attempt, so no back-off; it waits for the next claim event
  // (ClaimChanged) and is retried at once if one came during its cycle.
  void AwaitClaim(const std::string& key);
  // The pod popped for key failed for another reason (e.g. its binding):
  // retry after back-off.
  void Backoff(const std::string& key);
  // The pod was placed: forget its attempts.
  void Done(const std::string& key);

  // Something changed that may let parked pods fit.
  void MoveAllToActive();
  // A claim appeared or changed: pods awaiting one are retried now.
  void ClaimChanged();

  // Blocks until a pod is ready; nullptr after ShutDown().
  std::shared_ptr<const PodInfo> Pop();
  void ShutDown();

  // Counts, for tests and metrics.
  size_t ActiveLen() const;
  size_t ParkedLen() const;
  size_t BackoffLen() const;

 private:
  struct Entry {
    std::shared_ptr<const PodInfo> pod;
    uint64_t seq = 0;  // arrival order among equal priorities
    int attempts = 0;
    Clock::time_point backoff_until{};
    Clock::time_point parked_at{};
    uint64_t popped_at_move = 0;        // move_seq_ when popped
    uint64_t popped_at_claim_move = 0;  // claim_move_seq_ when popped
    bool changed_in_flight = false;
    bool awaits_claim = false;  // parked until ClaimChanged
    enum class Where { kActive, kBackoff, kParked, kInFlight } where = Where::kActive;
    std::multimap<Clock::time_point, Entry*>::iterator backoff_it;
  };
  struct ActiveOrder {
    bool operator()(const Entry* a, const Entry* b) const;
  };

  void ToActiveLocked(Entry& e);
  void ToBackoffLocked(Entry& e);
  void ParkLocked(Entry& e, bool awaits_claim);
  void DetachLocked(Entry& e);  // out of whichever container holds it
  void PromoteLocked(Clock::time_point now);
  std::chrono::milliseconds BackoffFor(int attempts) const;

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  std::set<Entry*, ActiveOrder> active_;
  std::multimap<Clock::time_point, Entry*> backoff_;
  std::set<Entry*> parked_;
  Clock::time_point next_parked_check_{};
  uint64_t next_seq_ = 0;
  uint64_t move_seq_ = 0;
  uint64_t claim_move_seq_ = 0;
  bool shutdown_ = false;
};

}  // namespace kennel::scheduler
