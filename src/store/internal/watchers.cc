#include "store/internal/watchers.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace kennel::store::internal {

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

void FanOut(std::vector<std::shared_ptr<Watcher>>& watchers, const std::vector<Event>& events,
            std::vector<std::shared_ptr<Watcher>>& to_deliver) {
  std::erase_if(watchers, [](const std::shared_ptr<Watcher>& w) {
    return w->cancelled.load(std::memory_order_acquire);
  });
  for (const std::shared_ptr<Watcher>& w : watchers) {
    std::unique_lock wlock(w->mu, std::defer_lock);
    for (const Event& ev : events) {
      if (ev.revision() <= w->after_revision || !HasPrefix(ev.kv.key, w->prefix)) continue;
      if (!wlock.owns_lock()) wlock.lock();
      w->pending.push_back(ev);
    }
    if (wlock.owns_lock() && !w->scheduled && !w->pending.empty()) {
      w->scheduled = true;
      to_deliver.push_back(w);
    }
  }
}

void Deliver(Watcher& w) {
  std::vector<Event> events;
  {
    std::lock_guard lock(w.mu);
    w.scheduled = false;
    if (w.cancelled.load(std::memory_order_relaxed) || w.pending.empty()) return;
    events.swap(w.pending);
    w.running_on = std::this_thread::get_id();
  }
  try {
    w.callback(events);
  } catch (const std::exception& e) {
    spdlog::error("store: watch callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("store: watch callback threw a non-exception");
  }
  WatchCallback dead;
  {
    std::lock_guard lock(w.mu);
    w.running_on = std::thread::id();
    // The handle was destroyed from inside this callback and left it to us.
    if (w.cancelled.load(std::memory_order_relaxed)) dead = std::move(w.callback);
  }
  w.idle.notify_all();
}

void Cancel(Watcher& w) {
  WatchCallback dead;  // destroyed after the lock is released: its captures may take locks
  std::unique_lock lock(w.mu);
  w.cancelled.store(true, std::memory_order_release);
  w.pending.clear();
  // From inside its own callback the running callback is our caller: waiting
  // would deadlock, and `cancelled` already keeps it from ever running again.
  auto self = std::this_thread::get_id();
  w.idle.wait(lock, [&] { return w.running_on == std::thread::id() || w.running_on == self; });
  // Drop the callback's captures now rather than at the next write, unless it
  // is executing (then Deliver drops it when it returns).
  if (w.running_on == std::thread::id()) dead = std::move(w.callback);
}

}  // namespace kennel::store::internal
