// Decoded API objects by store key and revision, shared by every reader.
//
// The store holds objects as JSON bytes. Parsing them is most of the API
// server's CPU when every get, every read-modify-write and every watcher of an
// event parses the same bytes again (a watch event fanned out to 100 watchers
// was parsed 100 times). The cache parses each (key, revision) once and keeps
// the parsed object together with its serialized text, so a get, a list or a
// watch event can answer with bytes already made.
//
// Threads: all methods may be called from any thread. Entries are immutable
// and shared; a bounded number of keys is kept (oldest insertions go first).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "base/status.h"

namespace kennel::apiserver {

struct DecodedObject {
  int64_t revision = 0;
  nlohmann::json object;  // metadata.resourceVersion set to revision
  std::string text;       // object.dump()

  // `{"type":TYPE,"object":text}` and a newline: this object as a watch
  // event line, for TYPE one of ADDED, MODIFIED, DELETED. Made on first use
  // and shared, so an event fanned out to 100 watchers is rendered once (not
  // 100 times). Call it only once the fields above are final.
  std::shared_ptr<const std::string> WatchLine(const char* type) const;

 private:
  static constexpr int kWatchTypes = 3;
  mutable std::once_flag line_once_[kWatchTypes];
  mutable std::shared_ptr<const std::string> lines_[kWatchTypes];
};
using DecodedPtr = std::shared_ptr<const DecodedObject>;

class ObjectCache {
 public:
  explicit ObjectCache(size_t capacity = 8192) : capacity_(capacity) {}

  // The object stored under key as value at revision: from the cache when this
  // revision was seen before, else parsed now. Errors: kInternal for bytes
  // that are not a JSON object (a corrupt store).
  StatusOr<DecodedPtr> Decode(const std::string& key, const std::string& value, int64_t revision);

  // Records an object the server just wrote at revision (its resourceVersion
  // is set here), so the next read of it skips the parse.
  DecodedPtr Insert(const std::string& key, int64_t revision, nlohmann::json object);
  // The same, when the caller already has the object's text (with that
  // resourceVersion): saves serializing it again.
  DecodedPtr Insert(const std::string& key, int64_t revision, nlohmann::json object,
                    std::string text);

 private:
  DecodedPtr Remember(const std::string& key, DecodedPtr decoded);

  const size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, DecodedPtr> by_key_;  // guarded by mu_
  std::deque<std::string> insertion_order_;             // guarded by mu_; may repeat keys
};

}  // namespace kennel::apiserver
