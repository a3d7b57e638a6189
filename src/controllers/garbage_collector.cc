#include "controllers/garbage_collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "api/json_access.h"
#include "api/registry.h"
#include "base/thread.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::controllers {
namespace {

using client::json;

const json& Member(const json& obj, const char* name) { return api::Field(obj, name); }
using api::Str;

const json& Meta(const json& obj) { return Member(obj, "metadata"); }

bool Deleting(const json& obj) { return !Member(Meta(obj), "deletionTimestamp").is_null(); }

bool HasFinalizer(const json& obj, const char* finalizer) {
  const json& f = Member(Meta(obj), "finalizers");
  if (!f.is_array()) return false;
  return std::find(f.begin(), f.end(), json(finalizer)) != f.end();
}

std::vector<json> OwnerRefs(const json& obj) {
  const json& refs = Member(Meta(obj), "ownerReferences");
  std::vector<json> out;
  if (!refs.is_array()) return out;
  for (const json& r : refs) {
    if (r.is_object()) out.push_back(r);
  }
  return out;
}

std::set<std::string> OwnerUids(const json& obj) {
  std::set<std::string> out;
  for (const json& r : OwnerRefs(obj)) {
    std::string uid = Str(r, "uid");
    if (!uid.empty()) out.insert(std::move(uid));
  }
  return out;
}

client::Resource ToResource(const api::ResourceInfo& info) {
  return client::Resource{info.group, info.version, info.resource, info.namespaced};
}

std::vector<client::Resource> DefaultResources() {
  std::vector<client::Resource> out;
  for (const api::ResourceInfo& info : api::AllResources()) {
    if (info.group.empty() && (info.kind == "Event" || info.kind == "Namespace")) continue;
    out.push_back(ToResource(info));
  }
  return out;
}

// Owner references, finalizers and deletion timestamps are all the collector
// reads: it lists and caches only metadata, as Kubernetes' does, so watching
// every kind costs a small object per change instead of a whole one (a third
// of the API server's create throughput otherwise).
client::ListOptions MetadataOnly() {
  client::ListOptions options;
  options.metadata_only = true;
  return options;
}

// What an owner reference points at, as Kubernetes' garbage collector sees it.
enum class OwnerState {
  kLive,     // exists and is not waiting for its dependents
  kWaiting,  // being deleted in the foreground: its dependents go first
  kGone,     // absent, or another object (uid) now has its name
};

class GarbageCollectorImpl : public GarbageCollector {
 public:
  GarbageCollectorImpl(client::Client* client, GarbageCollectorOptions options)
      : client_(client), options_(std::move(options)) {
    if (options_.resources.empty()) options_.resources = DefaultResources();
    for (const client::Resource& r : options_.resources) {
      informers_.push_back(std::make_unique<client::Informer>(client, r, "", MetadataOnly()));
    }
  }

  ~GarbageCollectorImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    for (auto& inf : informers_) inf->Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
  }

  void Run() {
    for (size_t i = 0; i < informers_.size(); ++i) {
      client::InformerHandler h;
      h.on_add = [this, i](const json& o) { Added(i, o); };
      h.on_update = [this, i](const json& old, const json& o) { Updated(i, old, o); };
      h.on_delete = [this, i](const json& o) { Deleted(i, o); };
      informers_[i]->AddHandler(std::move(h));
    }
    for (auto& inf : informers_) inf->Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("gc");
        Work();
      });
    }
  }

 private:
  struct Item {
    size_t kind = 0;  // index into informers_
    std::string key;  // "ns/name" or "name"
  };

  static std::string QueueKey(size_t kind, const std::string& key) {
    std::string out = std::to_string(kind);
    out += "|";
    out += key;
    return out;
  }

  static Item ParseQueueKey(const std::string& qkey) {
    size_t bar = qkey.find('|');
    return Item{static_cast<size_t>(std::stoul(qkey.substr(0, bar))), qkey.substr(bar + 1)};
  }

  // Informer handlers: keep the indexes, queue work.

  void Added(size_t kind, const json& obj) {
    Index(kind, obj);
    if (!OwnerRefs(obj).empty() || HasFinalizer(obj, kOrphanFinalizer) ||
        HasFinalizer(obj, kForegroundFinalizer)) {
      queue_.Add(QueueKey(kind, client::Informer::KeyOf(obj)));
    }
  }

  void Updated(size_t kind, const json& old, const json& obj) {
    if (Str(Meta(old), "uid") != Str(Meta(obj), "uid")) {
      Deleted(kind, old);
      Added(kind, obj);
      return;
    }
    const json& om = Meta(old);
    const json& nm = Meta(obj);
    bool refs_changed = Member(om, "ownerReferences") != Member(nm, "ownerReferences");
    bool finalizers_changed = Member(om, "finalizers") != Member(nm, "finalizers");
    bool started_deleting = !Deleting(old) && Deleting(obj);
    if (refs_changed) Index(kind, obj);
    if (refs_changed || finalizers_changed || started_deleting) {
      queue_.Add(QueueKey(kind, client::Informer::KeyOf(obj)));
    }
    if (started_deleting) QueueOwners(obj);
  }

  void Deleted(size_t kind, const json& obj) {
    std::string uid = Str(Meta(obj), "uid");
    std::vector<std::string> dependents;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_uid_.find(uid);
      if (it != by_uid_.end() && it->second.kind == kind) by_uid_.erase(it);
      owners_of_.erase(uid);
      for (const std::string& owner : OwnerUids(obj)) {
        auto d = dependents_.find(owner);
        if (d == dependents_.end()) continue;
        d->second.erase(uid);
        if (d->second.empty()) dependents_.erase(d);
      }
      auto d = dependents_.find(uid);
      if (d != dependents_.end()) {
        for (const auto& [dep_uid, item] : d->second) {
          dependents.push_back(QueueKey(item.kind, item.key));
        }
      }
    }
    for (const std::string& k : dependents) queue_.Add(k);
    QueueOwners(obj);
  }

  void Index(size_t kind, const json& obj) {
    std::string uid = Str(Meta(obj), "uid");
    if (uid.empty()) return;
    Item item{kind, client::Informer::KeyOf(obj)};
    std::lock_guard<std::mutex> lock(mu_);
    // Drop the references an earlier version had.
    auto old = owners_of_.find(uid);
    if (old != owners_of_.end()) {
      for (const std::string& owner : old->second) {
        auto d = dependents_.find(owner);
        if (d == dependents_.end()) continue;
        d->second.erase(uid);
        if (d->second.empty()) dependents_.erase(d);
      }
    }
    std::set<std::string> owners = OwnerUids(obj);
    for (const std::string& owner : owners) dependents_[owner][uid] = item;
    if (owners.empty()) {
      owners_of_.erase(uid);
    } else {
      owners_of_[uid] = std::move(owners);
    }
    by_uid_[uid] = std::move(item);
  }

  void QueueOwners(const json& obj) {
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const std::string& owner : OwnerUids(obj)) {
        auto it = by_uid_.find(owner);
        if (it != by_uid_.end()) keys.push_back(QueueKey(it->second.kind, it->second.key));
      }
    }
    for (const std::string& k : keys) queue_.Add(k);
  }

  // Workers.

  void Work() {
    for (auto& inf : informers_) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
    }
    queue_.Process("garbage collector", [this](const std::string& key) { return Reconcile(key); });
  }

  Status Reconcile(const std::string& qkey) {
    Item item = ParseQueueKey(qkey);
    if (item.kind >= informers_.size()) return Status::Ok();
    std::optional<json> obj = informers_[item.kind]->Get(item.key);
    if (!obj) return Status::Ok();
    if (Deleting(*obj)) {
      if (HasFinalizer(*obj, kOrphanFinalizer)) return OrphanDependents(item.kind, *obj);
      if (HasFinalizer(*obj, kForegroundFinalizer)) {
        return DeleteDependentsInForeground(item.kind, qkey, *obj);
      }
      return Status::Ok();  // being deleted: nothing for its references to do
    }
    if (OwnerRefs(*obj).empty()) return Status::Ok();
    return AttemptToDelete(item.kind, *obj);
  }

  // The dependents of owner as the server has them now. Orphan and
  // foreground deletion act on these rather than on the caches, which may
  // not show yet a dependent created just before the owner's deletion (it
  // would then lose its owner and be collected, or outlive it). Both are
  // rare enough for a list per kind.
  StatusOr<std::vector<std::pair<size_t, json>>> LiveDependents(const json& owner) {
    const std::string uid = Str(Meta(owner), "uid");
    const std::string ns = Str(Meta(owner), "namespace");
    std::vector<std::pair<size_t, json>> out;
    for (size_t k = 0; k < options_.resources.size(); ++k) {
      const client::Resource& r = options_.resources[k];
      // A namespaced owner has dependents only in its namespace.
      if (!ns.empty() && !r.namespaced) continue;
      auto list = client_->List(r, r.namespaced ? ns : "", MetadataOnly());
      if (!list.ok()) return list.status();
      for (json& item : list->items) {
        if (OwnerUids(item).count(uid)) out.emplace_back(k, std::move(item));
      }
    }
    return out;
  }

  // GET, change, PUT on the live object (uid checked), retrying conflicts.
  // change returns false when nothing needs to change.
  Status MutateLive(size_t kind, const json& obj, const std::function<bool(json&)>& change) {
    const client::Resource& r = options_.resources[kind];
    const std::string ns = Str(Meta(obj), "namespace");
    const std::string name = Str(Meta(obj), "name");
    const std::string uid = Str(Meta(obj), "uid");
    Status last = Status::Ok();
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto live = client_->Get(r, ns, name);
      if (!live.ok()) return live.status().code() == Code::kNotFound ? Status::Ok() : live.status();
      if (Str(Meta(*live), "uid") != uid) return Status::Ok();
      json next = *live;
      if (!change(next)) return Status::Ok();
      auto updated = client_->Update(r, ns, next);
      if (updated.ok()) return Status::Ok();
      last = updated.status();
      if (last.code() == Code::kNotFound) return Status::Ok();
      if (last.code() != Code::kConflict) return last;
    }
    return last;
  }

  Status RemoveFinalizer(size_t kind, const json& obj, const char* finalizer) {
    return MutateLive(kind, obj, [finalizer](json& o) {
      json& meta = o["metadata"];
      if (!meta.contains("finalizers") || !meta["finalizers"].is_array()) return false;
      json kept = json::array();
      for (const json& f : meta["finalizers"]) {
        if (f != json(finalizer)) kept.push_back(f);
      }
      if (kept.size() == meta["finalizers"].size()) return false;
      if (kept.empty()) {
        meta.erase("finalizers");
      } else {
        meta["finalizers"] = std::move(kept);
      }
      return true;
    });
  }

  Status RemoveOwnerRefs(size_t kind, const json& obj, const std::set<std::string>& owner_uids) {
    return MutateLive(kind, obj, [&owner_uids](json& o) {
      json& meta = o["metadata"];
      if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return false;
      json kept = json::array();
      for (const json& ref : meta["ownerReferences"]) {
        if (!owner_uids.count(Str(ref, "uid"))) kept.push_back(ref);
      }
      if (kept.size() == meta["ownerReferences"].size()) return false;
      if (kept.empty()) {
        meta.erase("ownerReferences");
      } else {
        meta["ownerReferences"] = std::move(kept);
      }
      return true;
    });
  }

  Status DeleteItem(size_t kind, const json& obj, const std::string& policy) {
    client::DeleteOptions options;
    options.propagation_policy = policy;
    options.precondition_uid = Str(Meta(obj), "uid");
    // Decided on this version: a change since (an owner reference removed
    // by an orphaning) is a conflict, and the item is looked at again.
    options.precondition_resource_version = Str(Meta(obj), "resourceVersion");
    Status st = client_->Delete(options_.resources[kind], Str(Meta(obj), "namespace"),
                                Str(Meta(obj), "name"), options);
    if (st.code() == Code::kNotFound) return Status::Ok();
    return st;
  }

  Status OrphanDependents(size_t kind, const json& owner) {
    const std::string uid = Str(Meta(owner), "uid");
    ASSIGN_OR_RETURN(auto dependents, LiveDependents(owner));
    for (const auto& [dep_kind, dep] : dependents) {
      RETURN_IF_ERROR(RemoveOwnerRefs(dep_kind, dep, {uid}));
    }
    return RemoveFinalizer(kind, owner, kOrphanFinalizer);
  }

  Status DeleteDependentsInForeground(size_t kind, const std::string& qkey, const json& owner) {
    const std::string uid = Str(Meta(owner), "uid");
    bool blocked = false;
    ASSIGN_OR_RETURN(auto dependents, LiveDependents(owner));
    for (const auto& [dep_kind, dep] : dependents) {
      for (const json& ref : OwnerRefs(dep)) {
        if (Str(ref, "uid") == uid && Member(ref, "blockOwnerDeletion") == json(true)) {
          blocked = true;
        }
      }
      if (!Deleting(dep)) RETURN_IF_ERROR(AttemptToDelete(dep_kind, dep));
    }
    if (blocked) {
      // The dependents' deletions queue this owner again; a slow resync backs
      // that up should an event be missed.
      queue_.AddAfter(qkey, std::chrono::seconds(10));
      return Status::Ok();
    }
    return RemoveFinalizer(kind, owner, kForegroundFinalizer);
  }

  StatusOr<OwnerState> StateOf(const json& dependent, const json& ref) {
    const std::string uid = Str(ref, "uid");
    auto classify = [](const json& owner) {
      return Deleting(owner) && HasFinalizer(owner, kForegroundFinalizer) ? OwnerState::kWaiting
                                                                          : OwnerState::kLive;
    };
    std::optional<Item> cached;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_uid_.find(uid);
      if (it != by_uid_.end()) cached = it->second;
    }
    if (cached) {
      std::optional<json> owner = informers_[cached->kind]->Get(cached->key);
      if (owner && Str(Meta(*owner), "uid") == uid) return classify(*owner);
    }
    // Not in the caches: ask the server (the caches may lag behind a new owner).
    const api::ResourceInfo* info =
        api::FindByApiVersionKind(Str(ref, "apiVersion"), Str(ref, "kind"));
    if (info == nullptr) return OwnerState::kLive;  // unknown kind: never collect for it
    std::string ns = Str(Meta(dependent), "namespace");
    if (info->namespaced && ns.empty()) return OwnerState::kGone;  // cannot own a cluster object
    auto owner = client_->Get(ToResource(*info), info->namespaced ? ns : "", Str(ref, "name"));
    if (!owner.ok()) {
      if (owner.status().code() == Code::kNotFound) return OwnerState::kGone;
      return owner.status();
    }
    if (Str(Meta(*owner), "uid") != uid) return OwnerState::kGone;
    return classify(*owner);
  }

  // Decides on the cached item and, when that calls for a change, again on
  // the live one (the cache may still show a reference since removed), as
  // Kubernetes' attemptToDeleteItem does.
  Status AttemptToDelete(size_t kind, const json& cached) {
    ASSIGN_OR_RETURN(bool act, Decide(kind, cached, Apply::kNo));
    if (!act) return Status::Ok();
    auto live = client_->Get(options_.resources[kind], Str(Meta(cached), "namespace"),
                             Str(Meta(cached), "name"));
    if (!live.ok()) return live.status().code() == Code::kNotFound ? Status::Ok() : live.status();
    if (Str(Meta(*live), "uid") != Str(Meta(cached), "uid") || Deleting(*live)) {
      return Status::Ok();
    }
    return Decide(kind, *live, Apply::kYes).status();
  }

  enum class Apply { kNo, kYes };

  // Whether obj's owner references call for a change (dropping references,
  // or deleting obj); with Apply::kYes, makes it.
  StatusOr<bool> Decide(size_t kind, const json& obj, Apply apply) {
    std::set<std::string> gone, waiting;
    bool live = false;
    bool blocks_waiting = false;
    for (const json& ref : OwnerRefs(obj)) {
      ASSIGN_OR_RETURN(OwnerState state, StateOf(obj, ref));
      switch (state) {
        case OwnerState::kLive:
          live = true;
          break;
        case OwnerState::kWaiting:
          waiting.insert(Str(ref, "uid"));
          if (Member(ref, "blockOwnerDeletion") == json(true)) blocks_waiting = true;
          break;
        case OwnerState::kGone:
          gone.insert(Str(ref, "uid"));
          break;
      }
    }
    // Nothing gone or waiting: keep it. That includes a live version whose
    // references an orphaning removed since the cached one was read; it has
    // no owner left and must not be taken for an object whose owners all went.
    if (gone.empty() && waiting.empty()) return false;
    if (apply == Apply::kNo) return true;
    if (live) {
      gone.insert(waiting.begin(), waiting.end());
      RETURN_IF_ERROR(RemoveOwnerRefs(kind, obj, gone));
      return true;
    }
    // No live owner left: the item goes, before a foreground owner it blocks.
    RETURN_IF_ERROR(DeleteItem(kind, obj, blocks_waiting ? "Foreground" : "Background"));
    return true;
  }

  client::Client* client_;
  GarbageCollectorOptions options_;
  std::vector<std::unique_ptr<client::Informer>> informers_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ = false;                                          // guarded by mu_
  std::map<std::string, Item> by_uid_;                             // guarded by mu_
  std::map<std::string, std::set<std::string>> owners_of_;         // guarded by mu_: uid → owners
  std::map<std::string, std::map<std::string, Item>> dependents_;  // guarded by mu_
};

}  // namespace

StatusOr<std::unique_ptr<GarbageCollector>> GarbageCollector::Start(
    client::Client* client, GarbageCollectorOptions options) {
  if (client == nullptr) return BadRequest("the garbage collector needs a client");
  auto gc = std::make_unique<GarbageCollectorImpl>(client, std::move(options));
  gc->Run();
  return std::unique_ptr<GarbageCollector>(std::move(gc));
}

}  // namespace kennel::controllers
