#include "client/workqueue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

namespace kennel::client {
namespace {

constexpr std::chrono::milliseconds kBaseBackoff(5);
constexpr std::chrono::milliseconds kMaxBackoff(1000 * 1000);

}  // namespace

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_ || dirty_.count(key) != 0) return;
  dirty_.insert(key);
  // Its worker re-queues it on Done(): one worker per key at a time.
  if (processing_.count(key) != 0) return;
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  AddAfterLocked(key, delay);
}

void WorkQueue::AddAfterLocked(const std::string& key, std::chrono::milliseconds delay) {
  if (shutdown_) return;
  if (delay <= std::chrono::milliseconds(0)) {
    AddLocked(key);
    return;
  }
  Clock::time_point at = Clock::now() + delay;
  auto [it, inserted] = waiting_.emplace(key, at);
  if (!inserted) it->second = std::min(it->second, at);
  // A Get() sleeping until a later deadline must wake for this one.
  cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::NextBackoffLocked(const std::string& key) const {
  auto it = failures_.find(key);
  int n = it == failures_.end() ? 0 : it->second;
  // 5 ms * 2^n, computed without overflow: 2^18 * 5 ms already passes the cap.
  if (n >= 18) return kMaxBackoff;
  return std::min(kMaxBackoff, kBaseBackoff * (int64_t{1} << n));
}

std::chrono::milliseconds WorkQueue::NextBackoff(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return NextBackoffLocked(key);
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  // Read and bumped under one lock: concurrent failures of a key each double it.
  std::chrono::milliseconds delay = NextBackoffLocked(key);
  ++failures_[key];
  AddAfterLocked(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      AddLocked(it->first);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutdown_) return std::nullopt;
    PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      cv_.wait(lock);
      continue;
    }
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [key, at] : waiting_) next = std::min(next, at);
    cv_.wait_until(lock, next);
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) != 0 && !shutdown_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t due = 0;
  Clock::time_point now = Clock::now();
  for (const auto& [key, at] : waiting_) {
    // Counted as Get() would promote it: not already dirty, not being processed.
    if (at <= now && dirty_.count(key) == 0 && processing_.count(key) == 0) ++due;
  }
  return queue_.size() + due;
}

void WorkQueue::Process(const char* who,
                        const std::function<Status(const std::string&)>& reconcile) {
  while (auto key = Get()) {
    Status st = reconcile(*key);
    if (st.ok()) {
      Forget(*key);
    } else {
      Code c = st.code();
      if (c != Code::kConflict && c != Code::kAlreadyExists && c != Code::kNotFound) {
        spdlog::warn("{}: {}: {}", who, *key, st.ToString());
      }
      AddRateLimited(*key);
    }
    Done(*key);
  }
}

}  // namespace kennel::client
