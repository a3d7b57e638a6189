#include "client/events.h"

#include <spdlog/spdlog.h>

#include "api/json_access.h"
#include "base/thread.h"
#include "base/time.h"

namespace kennel::client {
namespace {

constexpr size_t kMaxRemembered = 4096;

}  // namespace

EventRecorder::EventRecorder(Client* client, std::string component, size_t max_queued)
    : client_(client), component_(std::move(component)), max_queued_(max_queued) {
  thread_ = std::thread([this] {
    NameThisThread("events");
    Run();
  });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::Record(const json& object, const std::string& kind, const std::string& type,
                           const std::string& reason, const std::string& message) {
  Pending p;
  p.ns = api::Str(api::Field(object, "metadata"), "namespace");
  if (p.ns.empty()) p.ns = "default";  // events about cluster objects live there
  p.involved = {{"apiVersion", object.value("apiVersion", "v1")},
                {"kind", object.value("kind", kind)},
                {"name", api::Str(api::Field(object, "metadata"), "name")},
                {"namespace", api::Str(api::Field(object, "metadata"), "namespace")},
                {"uid", api::Str(api::Field(object, "metadata"), "uid")},
                {"resourceVersion", api::Str(api::Field(object, "metadata"), "resourceVersion")}};
  p.type = type;
  p.reason = reason;
  p.message = message;
  p.time = NowRfc3339();
  std::lock_guard lock(mu_);
  if (queue_.size() >= max_queued_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(p));
  cv_.notify_one();
}

void EventRecorder::Flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

uint64_t EventRecorder::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void EventRecorder::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Write(p);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

void EventRecorder::Write(const Pending& e) {
  std::string key = e.involved.value("uid", "") + "\x1f" + e.involved.value("name", "") + "\x1f" +
                    e.reason + "\x1f" + e.message;
  auto seen = written_.find(key);
  if (seen != written_.end()) {
    Written& w = seen->second;
    json patch = {{"count", w.count + 1}, {"lastTimestamp", e.time}};
    auto st = client_->Patch(kEvents, e.ns, w.name, PatchType::kMerge, patch);
    if (st.ok()) {
      ++w.count;
      lru_.splice(lru_.begin(), lru_, w.lru);
      return;
    }
    // Gone (expired or deleted): write it anew.
    lru_.erase(w.lru);
    written_.erase(seen);
  }
  const std::string name = e.involved.value("name", "object") + "." + std::to_string(WallNowNs());
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", e.ns}}},
                {"involvedObject", e.involved},
                {"reason", e.reason},
                {"message", e.message},
                {"type", e.type},
                {"source", {{"component", component_}}},
                {"reportingComponent", component_},
                {"reportingInstance", component_},
                {"firstTimestamp", e.time},
                {"lastTimestamp", e.time},
                {"count", 1}};
  auto created = client_->Create(kEvents, e.ns, event);
  if (!created.ok()) {
    spdlog::debug("event {} for {}: {}", e.reason, e.involved.value("name", ""),
                  created.status().ToString());
    return;
  }
  lru_.push_front(key);
  written_[key] = Written{name, 1, lru_.begin()};
  if (written_.size() > kMaxRemembered) {
    written_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace kennel::client
