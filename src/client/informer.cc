#include "client/informer.h"

#include <algorithm>

#include "base/thread.h"
#include "client/wire.h"

namespace kennel::client {
namespace {

constexpr std::chrono::milliseconds kMinBackoff(100);
constexpr std::chrono::milliseconds kMaxBackoff(5000);

std::string Meta(const json& object, const char* field) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Informer::Informer(Client* client, Resource resource, std::string ns, ListOptions selectors)
    : client_(client), resource_(std::move(resource)), ns_(std::move(ns)) {
  selectors_.label_selector = std::move(selectors.label_selector);
  selectors_.field_selector = std::move(selectors.field_selector);
  selectors_.metadata_only = selectors.metadata_only;
}

Informer::~Informer() { Stop(); }

void Informer::AddHandler(InformerHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    NameThisThread("informer");
    Run();
  });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    stopped_ = true;
    synced_cv_.notify_all();
  }
  // From a handler the thread cannot join itself; it stops once the handler returns.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

bool Informer::SleepUnlessStopping(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(cache_mu_);
  synced_cv_.wait_for(lock, timeout, [&] { return synced_ || stopped_; });
  return synced_;
}

std::optional<json> Informer::Get(const std::string& key) const {
  ObjectRef found = Find(key);
  if (!found) return std::nullopt;
  return *found;
}

std::vector<json> Informer::List() const {
  std::vector<json> out;
  for (const ObjectRef& object : Snapshot()) out.push_back(*object);
  return out;
}

Informer::ObjectRef Informer::Find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

std::vector<Informer::ObjectRef> Informer::Snapshot() const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  std::vector<ObjectRef> out;
  out.reserve(cache_.size());
  for (const auto& [key, object] : cache_) out.push_back(object);
  return out;
}

std::string Informer::KeyOf(const json& object) {
  std::string ns = Meta(object, "namespace");
  std::string name = Meta(object, "name");
  return ns.empty() ? name : ns + "/" + name;
}

void Informer::Run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  bool need_list = true;
  while (!Stopping()) {
    Status status = Status::Ok();
    if (need_list) status = ListAndSync();
    bool progressed = false;
    if (status.ok()) {
      need_list = false;
      status = WatchUntilEnd(&progressed);
      // Destroyed here, not on the client's watch thread, and before any
      // relist, so no event of an old watch interleaves with a new list.
      watch_.reset();
    }
    if (progressed) backoff = kMinBackoff;
    if (status.ok()) continue;  // a normal end: resume from resource_version_
    need_list = true;
    if (!SleepUnlessStopping(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  watch_.reset();
}

Status Informer::ListAndSync() {
  // One unpaged list: pages after the first read the latest state here, so
  // only a single page is a snapshot that a watch can resume from.
  ListOptions options = selectors_;
  ASSIGN_OR_RETURN(ListResult list, client_->List(resource_, ns_, options));
  std::map<std::string, ObjectRef> fresh;
  for (auto& item : list.items) {
    std::string key = KeyOf(item);
    fresh.emplace(std::move(key), std::make_shared<const json>(std::move(item)));
  }
  std::map<std::string, ObjectRef> old;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    old.swap(cache_);
    cache_ = fresh;
  }
  resource_version_ = list.resource_version;
  MarkApplied(resource_version_);
  for (const auto& [key, object] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      for (auto& h : handlers_) {
        if (h.on_add) h.on_add(*object);
      }
    } else if (Meta(*it->second, "resourceVersion") != Meta(*object, "resourceVersion")) {
      for (auto& h : handlers_) {
        if (h.on_update) h.on_update(*it->second, *object);
      }
    }
  }
  for (const auto& [key, object] : old) {
    if (fresh.count(key) != 0) continue;
    for (auto& h : handlers_) {
      if (h.on_delete) h.on_delete(*object);
    }
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
  return Status::Ok();
}

void Informer::Push(Incoming incoming) {
  std::lock_guard<std::mutex> lock(mu_);
  incoming_.push_back(std::move(incoming));
  cv_.notify_all();
}

Status Informer::WatchUntilEnd(bool* progressed) {
  ListOptions options = selectors_;
  options.resource_version = resource_version_;
  uint64_t id = ++watch_id_;
  ASSIGN_OR_RETURN(watch_, client_->Watch(
                               resource_, ns_, options,
                               [this, id](WatchEvent e) {
                                 Push({id, false, std::move(e), Status::Ok()});
                               },
                               [this, id](const Status& s) {
                                 Push({id, true, WatchEvent{}, s});
                               }));
  for (;;) {
    Incoming in;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !incoming_.empty(); });
      if (stopping_) return Status::Ok();
      in = std::move(incoming_.front());
      incoming_.pop_front();
    }
    if (in.watch_id != id) continue;  // queued by an earlier, destroyed watch
    if (in.closed) return in.status;
    if (in.event.type == "ERROR") return WatchErrorStatus(in.event.object);
    *progressed = true;
    Apply(std::move(in.event));
  }
}

void Informer::MarkApplied(const std::string& resource_version) {
  int64_t v = ResourceVersionNumber(resource_version);
  if (v > applied_revision_.load()) applied_revision_.store(v);
}

void Informer::Apply(WatchEvent event) {
  std::string rv = Meta(event.object, "resourceVersion");
  if (!rv.empty()) resource_version_ = rv;
  if (event.type == "ADDED" || event.type == "MODIFIED") {
    Upsert(std::move(event.object), rv);
  } else if (event.type == "DELETED") {
    Remove(event.object, rv);
  } else if (event.type == "BOOKMARK") {
    MarkApplied(rv);  // only its resourceVersion matters
  }
}

void Informer::Upsert(json object, const std::string& resource_version) {
  std::string key = KeyOf(object);
  ObjectRef old;
  ObjectRef cached = std::make_shared<const json>(std::move(object));
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto [it, inserted] = cache_.try_emplace(std::move(key));
    old = std::move(it->second);
    it->second = cached;
  }
  MarkApplied(resource_version);
  for (auto& h : handlers_) {
    if (old && h.on_update) h.on_update(*old, *cached);
    if (!old && h.on_add) h.on_add(*cached);
  }
}

void Informer::Remove(const json& object, const std::string& resource_version) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    cache_.erase(KeyOf(object));
  }
  MarkApplied(resource_version);
  for (auto& h : handlers_) {
    if (h.on_delete) h.on_delete(object);
  }
}

}  // namespace kennel::client
