// An informer: a local, eventually consistent copy of one collection, kept by
// listing it and then watching from the list's resourceVersion, as client-go's
// shared informers do. Controllers read the cache instead of the server and
// react to changes through handlers.
//
// Failures: a watch that ends normally (server timeout) resumes from the last
// resourceVersion seen; one that fails (kGone, connection lost, ERROR event)
// relists, after a back-off of 100 ms doubling to 5 s (reset once a watch
// delivers events). A relist turns what changed meanwhile into adds, updates
// (resourceVersion differs) and deletes (vanished objects).
//
// Threads: the informer runs one thread of its own; handlers run on it, one
// at a time, in event order, with no lock held (they may read the cache).
// Get/List/HasSynced/WaitForSync may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

namespace kennel::client {

struct InformerHandler {
  std::function<void(const json& object)> on_add;
  std::function<void(const json& old_object, const json& new_object)> on_update;
  // The object's last known state.
  std::function<void(const json& object)> on_delete;
};

class Informer {
 public:
  // client must outlive the informer. selectors' label and field selectors
  // restrict what is cached, and its metadata_only caches PartialObjectMetadata
  // instead of whole objects; its other fields are ignored.
  Informer(Client* client, Resource resource, std::string ns, ListOptions selectors = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start().
  void AddHandler(InformerHandler handler);
  void Start();
  // Stops the thread; no handler runs after it returns. From a handler it only
  // asks the thread to stop (the informer must then outlive that handler's
  // return, and its destructor must run on another thread).
  void Stop();

  // True once the first list is in the cache and its adds were handled.
  bool HasSynced() const;
  // Returns early (false unless synced) once Stop() was called, so a
  // controller stopping while the API is unreachable does not wait it out.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // key: "ns/name", or "name" for cluster-scoped objects (KeyOf).
  std::optional<json> Get(const std::string& key) const;
  // A snapshot of every cached object, in key order.
  std::vector<json> List() const;

  // The same without copying: cached objects are immutable and shared, so a
  // controller that reads every object of a kind on each sync (a set's pods
  // and claims) does not copy them all each time.
  using ObjectRef = std::shared_ptr<const json>;
  ObjectRef Find(const std::string& key) const;  // null when absent
  std::vector<ObjectRef> Snapshot() const;

  static std::string KeyOf(const json& object);

  // The collection revision up to which every change is in the cache (0
  // before the first list, or for resourceVersions that are not numbers). It
  // rises before the handlers of that change run, so a controller that
  // remembers its own writes until the informer shows them can tell, under
  // the lock its handlers take, whether a write is already seen (or its
  // object already deleted) and must not be remembered at all.
  int64_t AppliedRevision() const { return applied_revision_.load(); }

 private:
  // A watch callback's news, queued for the informer's thread.
  struct Incoming {
    uint64_t watch_id = 0;
    bool closed = false;
    WatchEvent event;
    Status status;
  };

  void Run();
  Status ListAndSync();
  // Opens a watch from resource_version_ and applies its events until it
  // ends: Ok for a normal end, else why it failed. *progressed is set once an
  // event arrives.
  Status WatchUntilEnd(bool* progressed);
  void Apply(WatchEvent event);
  void Upsert(json object, const std::string& resource_version);
  void Remove(const json& object, const std::string& resource_version);
  // Raises AppliedRevision to resource_version (ResourceVersionNumber; 0 changes nothing).
  void MarkApplied(const std::string& resource_version);
  void Push(Incoming incoming);
  // Waits d unless Stop() comes first; false when stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds d);
  bool Stopping();

  Client* client_;
  Resource resource_;
  std::string ns_;
  ListOptions selectors_;
  std::vector<InformerHandler> handlers_;

  mutable std::mutex cache_mu_;
  mutable std::condition_variable synced_cv_;
  std::map<std::string, ObjectRef> cache_;
  std::atomic<int64_t> applied_revision_{0};
  bool synced_ = false;
  bool stopped_ = false;  // guarded by cache_mu_: wakes WaitForSync

  std::mutex mu_;  // incoming_, stopping_
  std::condition_variable cv_;
  std::deque<Incoming> incoming_;
  bool stopping_ = false;

  // The informer thread's own state.
  std::string resource_version_;
  uint64_t watch_id_ = 0;
  std::unique_ptr<WatchHandle> watch_;

  std::thread thread_;
};

}  // namespace kennel::client
