// How API objects live in the store: their keys, their stored bytes, and the
// metadata the server owns (uid, timestamps, resourceVersion).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/registry.h"
#include "base/status.h"
#include "store/store.h"

namespace kennel::apiserver {

// "/registry/statefulsets.apps/default/web", "/registry/namespaces/default".
std::string ObjectKey(const api::ResourceInfo& info, const std::string& ns,
                      const std::string& name);
// The prefix under which a list finds objects: one namespace, or all (ns "").
std::string ListPrefix(const api::ResourceInfo& info, const std::string& ns);

// The stored form carries no resourceVersion: the store's mod_revision is the
// resourceVersion, so it is put back on every read.
std::string EncodeForStore(nlohmann::json object);
StatusOr<nlohmann::json> DecodeFromStore(const store::KeyValue& kv);
// For a delete event: the last state with resourceVersion = the delete revision.
StatusOr<nlohmann::json> DecodeFromStore(const std::string& value, int64_t revision);

// One serialization of an object, split where metadata.resourceVersion goes,
// so the write path gets both the stored bytes (no resourceVersion) and the
// response text (with the revision the store assigns) from a single dump.
// Both equal what nlohmann's dump() gives for the object without / with that
// resourceVersion.
class StoredText {
 public:
  explicit StoredText(const nlohmann::json& object);
  std::string Stored() const;
  std::string WithResourceVersion(int64_t revision) const;

 private:
  bool spliced_ = false;          // false: metadata is missing or not an object
  nlohmann::json fallback_;       // the object as is, when not spliced
  std::string head_;              // up to the metadata members sorting before the key
  std::string tail_;              // from the members sorting after it to the end
  bool head_has_member_ = false;  // metadata members before the key
  bool tail_has_member_ = false;  // metadata members after the key
};

// A random RFC 4122 version 4 UUID.
std::string NewUid();
// Five characters from Kubernetes' generateName alphabet (no vowels, no 0/1/3).
std::string RandomSuffix();

// The parts of an object that are "spec": everything but metadata and status
// (and apiVersion/kind). Generation rises when they change.
nlohmann::json SpecPart(const nlohmann::json& object);

}  // namespace kennel::apiserver
