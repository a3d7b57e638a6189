// The watch delivery both store backends share. Not part of the store's
// contract.
//
// A backend keeps its live watchers in a vector and, for each batch of new
// events, calls FanOut to queue every event a watcher wants on it; the
// watchers that became due go to the backend's dispatch thread, which calls
// Deliver on each. A WatchHandle's destructor calls Cancel.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/store.h"

namespace kennel::store::internal {

struct Watcher {
  Watcher(std::string p, int64_t after, WatchCallback cb)
      : prefix(std::move(p)), after_revision(after), callback(std::move(cb)) {}

  const std::string prefix;
  const int64_t after_revision;
  // Set once under mu; read without it by FanOut to prune dead watchers.
  std::atomic<bool> cancelled{false};

  std::mutex mu;
  std::condition_variable idle;  // signalled when running_on is cleared
  WatchCallback callback;        // guarded by mu except while running_on is set
  std::vector<Event> pending;    // guarded by mu
  bool scheduled = false;        // guarded by mu: queued for the dispatch thread
  std::thread::id running_on;    // guarded by mu: thread inside callback, if any
};

bool HasPrefix(std::string_view s, std::string_view prefix);

// Drops cancelled watchers from `watchers`, queues on each other one the
// events after its after_revision under its prefix, and appends to
// `to_deliver` those that now have events and were not yet scheduled
// (marking them scheduled). The caller holds whatever guards `watchers`.
void FanOut(std::vector<std::shared_ptr<Watcher>>& watchers, const std::vector<Event>& events,
            std::vector<std::shared_ptr<Watcher>>& to_deliver);

// Dispatch thread: runs w's callback once with every pending event (unless it
// was cancelled), logging what it throws.
void Deliver(Watcher& w);

// A handle's destruction: no callback starts afterwards, and one running on
// another thread has returned. From inside its own callback it does not wait
// (that would deadlock); Deliver then drops the callback when it returns.
void Cancel(Watcher& w);

}  // namespace kennel::store::internal
