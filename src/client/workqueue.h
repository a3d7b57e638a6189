// A controller's work queue of keys ("ns/name"), with client-go's semantics:
// - a key is queued at most once: adding a queued key does nothing;
// - a key is processed by one worker at a time: adding a key that is being
//   processed queues it again when its worker calls Done();
// - AddAfter delays a key; AddRateLimited delays it by its per-key back-off
//   (5 ms doubling per failure up to 1000 s, client-go's default item
//   limiter), which Forget() resets once the key was handled successfully.
//
// Threads: every method may be called from any thread. Get() blocks; it
// returns nullopt once ShutDown() was called (queued keys are dropped: the
// controller is stopping).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"

namespace kennel::client {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  WorkQueue() = default;
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  // Adds key once delay has passed; a key already waiting keeps the earlier time.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // AddAfter with the key's back-off, which then doubles.
  void AddRateLimited(const std::string& key);
  // The key was handled: its back-off starts over at 5 ms.
  void Forget(const std::string& key);
  // Failures counted for key since the last Forget.
  int NumRequeues(const std::string& key) const;
  // The back-off AddRateLimited would use for key now.
  std::chrono::milliseconds NextBackoff(const std::string& key) const;

  // Blocks until a key is ready (then the caller must call Done(key)) or the
  // queue is shut down (nullopt).
  std::optional<std::string> Get();
  void Done(const std::string& key);

  // The worker loop of a controller: until ShutDown(), takes each ready key
  // and reconciles it; success forgets the key's back-off, failure requeues
  // it rate-limited. Failures are logged under `who`, except the races a
  // level-triggered controller expects to lose now and then (conflict,
  // already exists, not found): its cache catches up and it tries again.
  void Process(const char* who, const std::function<Status(const std::string&)>& reconcile);

  void ShutDown();
  bool ShuttingDown() const;
  // Keys ready to be handed out (not those waiting for a delay).
  size_t Len() const;

 private:
  void AddLocked(const std::string& key);
  void AddAfterLocked(const std::string& key, std::chrono::milliseconds delay);
  std::chrono::milliseconds NextBackoffLocked(const std::string& key) const;
  // Moves keys whose delay has passed into the queue.
  void PromoteDueLocked(Clock::time_point now);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // needs processing (queued, or re-queued on Done)
  std::set<std::string> processing_;  // handed out by Get, not yet Done
  std::map<std::string, Clock::time_point> waiting_;  // AddAfter keys and their time
  std::map<std::string, int> failures_;
  bool shutdown_ = false;
};

}  // namespace kennel::client
