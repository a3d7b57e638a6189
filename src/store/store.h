// The store: a revisioned, watchable key-value space with etcd v3's semantics.
//
// Contract (kept to what etcd v3 can do, so an etcd backend can implement it):
// - One global revision counts every successful write (create, update, delete)
//   in the whole store. It starts at 1 for an empty store (as etcd's does) and
//   never goes backwards, across restarts included.
// - Each live key has create_revision (the write that created it) and
//   mod_revision (the last write to it). A deleted key is gone; re-creating it
//   gives it a new create_revision.
// - Writes are compare-and-swap on mod_revision: Create succeeds only if the key
//   is absent; Update and Delete take the mod_revision the caller last saw (or
//   kAnyRevision) and fail with kConflict if the key has changed since.
// - A write is acknowledged (its callback runs with OK) only once it is durable:
//   it survives kill -9 of the process and power loss per fsync's promise.
// - Range reads the latest committed state: keys with a prefix in key order,
//   starting at start_key, at most limit of them, and says whether more remain.
// - Watch delivers, in revision order and without gaps, every committed event
//   under a prefix with revision > after_revision. Events older than the
//   store's history window are compacted: watching from there fails with kGone.
//
// Threads: every method may be called from any thread. Write callbacks and watch
// callbacks run on a store thread; they must not block (post work elsewhere).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::store {

// A mod_revision that matches any revision in Update/Delete.
inline constexpr int64_t kAnyRevision = 0;

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
};

struct RangeRequest {
  std::string prefix;     // keys that start with this
  std::string start_key;  // first key to return (inclusive); empty = from the prefix
  int64_t limit = 0;      // at most this many; 0 = no limit
};

struct RangeResponse {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;  // the store revision the read saw
  bool more = false;     // more keys under the prefix follow the last one returned
};

enum class EventType { kPut, kDelete };

struct Event {
  EventType type = EventType::kPut;
  // For kPut: the key's new state. For kDelete: key and the value it had before
  // deletion, with mod_revision = the delete's revision and create_revision kept.
  KeyValue kv;
  // The key's state just before this event; empty for a create.
  std::optional<KeyValue> prev_kv;
  int64_t revision() const { return kv.mod_revision; }
};

// Result of a write: for Create/Update the key's new state; for Delete the
// deleted state as in Event (mod_revision = the delete's revision). The
// embedded store runs it before it delivers the write's events to watchers
// (so what a writer caches on acknowledgement is there for them); over etcd
// the two arrive independently.
using WriteCallback = std::function<void(StatusOr<KeyValue>)>;
// Receives a batch of events in revision order. Never called concurrently for
// one watch. Must not block.
using WatchCallback = std::function<void(const std::vector<Event>&)>;

// Cancels its watch when destroyed; after the destructor returns the callback is
// not running and will never run again.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Errors: kAlreadyExists if the key exists.
  virtual void Create(std::string key, std::string value, WriteCallback done) = 0;
  // Errors: kNotFound if absent; kConflict if mod_revision differs from expected.
  virtual void Update(std::string key, std::string value, int64_t expected_mod_revision,
                      WriteCallback done) = 0;
  // Errors: kNotFound if absent; kConflict if mod_revision differs from expected.
  virtual void Delete(std::string key, int64_t expected_mod_revision, WriteCallback done) = 0;

  // Errors: kNotFound if absent.
  virtual StatusOr<KeyValue> Get(const std::string& key) = 0;
  virtual StatusOr<RangeResponse> Range(const RangeRequest& request) = 0;
  // The latest committed revision.
  virtual int64_t Revision() = 0;

  // Errors: kGone if events after after_revision have left the history window.
  // An after_revision at or past Revision() just waits for new events.
  virtual StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix,
                                                       int64_t after_revision,
                                                       WatchCallback callback) = 0;
};

// Blocking conveniences over the asynchronous writes, for callers that are not
// on an event loop (tests, tools). Never call them from a store callback.
StatusOr<KeyValue> CreateSync(Store& store, std::string key, std::string value);
StatusOr<KeyValue> UpdateSync(Store& store, std::string key, std::string value,
                              int64_t expected_mod_revision);
StatusOr<KeyValue> DeleteSync(Store& store, std::string key, int64_t expected_mod_revision);

}  // namespace kennel::store
