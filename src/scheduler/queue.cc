#include "scheduler/queue.h"

#include <algorithm>

namespace kennel::scheduler {
namespace {

// Whether an update could change where the pod fits: its spec or labels.
bool SchedulingRelevantChange(const PodInfo& before, const PodInfo& after) {
  auto spec = [](const PodInfo& p) -> const json& {
    static const json none;
    auto it = p.pod.find("spec");
    return it == p.pod.end() ? none : *it;
  };
  return before.labels != after.labels || spec(before) != spec(after);
}

}  // namespace

bool SchedulingQueue::ActiveOrder::operator()(const Entry* a, const Entry* b) const {
  if (a->pod->priority != b->pod->priority) return a->pod->priority > b->pod->priority;
  return a->seq < b->seq;
}

std::chrono::milliseconds SchedulingQueue::BackoffFor(int attempts) const {
  auto d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void SchedulingQueue::DetachLocked(Entry& e) {
  switch (e.where) {
    case Entry::Where::kActive:
      active_.erase(&e);
      break;
    case Entry::Where::kBackoff:
      backoff_.erase(e.backoff_it);
      break;
    case Entry::Where::kParked:
      parked_.erase(&e);
      break;
    case Entry::Where::kInFlight:
      break;
  }
}

void SchedulingQueue::ToActiveLocked(Entry& e) {
  DetachLocked(e);
  e.awaits_claim = false;
  e.where = Entry::Where::kActive;
  active_.insert(&e);
  cv_.notify_one();
}

void SchedulingQueue::ParkLocked(Entry& e, bool awaits_claim) {
  DetachLocked(e);
  e.where = Entry::Where::kParked;
  e.parked_at = Clock::now();
  e.awaits_claim = awaits_claim;
  parked_.insert(&e);
}

void SchedulingQueue::ToBackoffLocked(Entry& e) {
  DetachLocked(e);
  e.where = Entry::Where::kBackoff;
  e.backoff_it = backoff_.emplace(Clock::now() + BackoffFor(e.attempts), &e);
  cv_.notify_one();
}

void SchedulingQueue::Add(std::shared_ptr<const PodInfo> pod) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(pod->key);
  if (it == entries_.end()) {
    auto e = std::make_unique<Entry>();
    e->pod = std::move(pod);
    e->seq = next_seq_++;
    Entry& ref = *e;
    entries_[ref.pod->key] = std::move(e);
    ToActiveLocked(ref);
    return;
  }
  Entry& e = *it->second;
  bool changed = SchedulingRelevantChange(*e.pod, *pod);
  if (e.where == Entry::Where::kActive) {
    active_.erase(&e);  // the order may depend on the new priority
    e.pod = std::move(pod);
    active_.insert(&e);
    return;
  }
  e.pod = std::move(pod);
  if (e.where == Entry::Where::kInFlight) {
    e.changed_in_flight = e.changed_in_flight || changed;
    return;
  }
  if (changed) ToActiveLocked(e);
}

void SchedulingQueue::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  DetachLocked(*it->second);
  entries_.erase(it);
}

void SchedulingQueue::Unschedulable(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second->where != Entry::Where::kInFlight) return;
  Entry& e = *it->second;
  ++e.attempts;
  if (e.changed_in_flight) {
    ToActiveLocked(e);
  } else if (e.popped_at_move != move_seq_) {
    ToBackoffLocked(e);
  } else {
    ParkLocked(e, /*awaits_claim=*/false);
  }
}

void SchedulingQueue::Backoff(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second->where != Entry::Where::kInFlight) return;
  ++it->second->attempts;
  ToBackoffLocked(*it->second);
}

void SchedulingQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second->where != Entry::Where::kInFlight) return;
  entries_.erase(it);
}

void SchedulingQueue::AwaitClaim(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second->where != Entry::Where::kInFlight) return;
  Entry& e = *it->second;
  if (e.changed_in_flight || e.popped_at_claim_move != claim_move_seq_) {
    ToActiveLocked(e);
    return;
  }
  ParkLocked(e, /*awaits_claim=*/true);
}

void SchedulingQueue::ClaimChanged() {
  std::lock_guard lock(mu_);
  ++claim_move_seq_;
  std::vector<Entry*> waiting;
  for (Entry* e : parked_) {
    if (e->awaits_claim) waiting.push_back(e);
  }
  for (Entry* e : waiting) ToActiveLocked(*e);
}

void SchedulingQueue::MoveAllToActive() {
  std::lock_guard lock(mu_);
  ++move_seq_;
  if (parked_.empty()) return;
  auto now = Clock::now();
  std::vector<Entry*> parked(parked_.begin(), parked_.end());
  for (Entry* e : parked) {
    if (e->awaits_claim) continue;  // only a claim can help it
    // Still within its back-off since the failed attempt: wait it out.
    if (e->parked_at + BackoffFor(e->attempts) > now) {
      DetachLocked(*e);
      e->where = Entry::Where::kBackoff;
      e->backoff_it = backoff_.emplace(e->parked_at + BackoffFor(e->attempts), e);
    } else {
      ToActiveLocked(*e);
    }
  }
  cv_.notify_all();
}

void SchedulingQueue::PromoteLocked(Clock::time_point now) {
  while (!backoff_.empty() && backoff_.begin()->first <= now) {
    ToActiveLocked(*backoff_.begin()->second);
  }
  if (now < next_parked_check_) return;
  next_parked_check_ = now + std::chrono::seconds(1);
  std::vector<Entry*> stale;
  for (Entry* e : parked_) {
    if (e->parked_at + options_.max_parked <= now) stale.push_back(e);
  }
  for (Entry* e : stale) ToActiveLocked(*e);
}

std::shared_ptr<const PodInfo> SchedulingQueue::Pop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutdown_) return nullptr;
    auto now = Clock::now();
    PromoteLocked(now);
    if (!active_.empty()) {
      Entry* e = *active_.begin();
      active_.erase(active_.begin());
      e->where = Entry::Where::kInFlight;
      e->popped_at_move = move_seq_;
      e->popped_at_claim_move = claim_move_seq_;
      e->changed_in_flight = false;
      return e->pod;
    }
    auto wake = now + std::chrono::seconds(1);
    if (!backoff_.empty()) wake = std::min(wake, backoff_.begin()->first);
    cv_.wait_until(lock, wake);
  }
}

void SchedulingQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t SchedulingQueue::ActiveLen() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

size_t SchedulingQueue::ParkedLen() const {
  std::lock_guard lock(mu_);
  return parked_.size();
}

size_t SchedulingQueue::BackoffLen() const {
  std::lock_guard lock(mu_);
  return backoff_.size();
}

}  // namespace kennel::scheduler
