#include "apiserver/object_cache.h"

#include <string_view>

#include "apiserver/objects.h"

namespace kennel::apiserver {

std::shared_ptr<const std::string> DecodedObject::WatchLine(const char* type) const {
  const std::string_view t(type);
  const int slot = t == "ADDED" ? 0 : t == "MODIFIED" ? 1 : 2;
  std::call_once(line_once_[slot], [&] {
    std::string line;
    line.reserve(text.size() + 32);
    line += "{\"type\":\"";
    line += t;
    line += "\",\"object\":";
    line += text;
    line += "}\n";
    lines_[slot] = std::make_shared<const std::string>(std::move(line));
  });
  return lines_[slot];
}

StatusOr<DecodedPtr> ObjectCache::Decode(const std::string& key, const std::string& value,
                                         int64_t revision) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (it != by_key_.end() && it->second->revision == revision) return it->second;
  }
  // Parsed outside the lock: two readers may race to parse the same revision,
  // which costs one extra parse and is harmless.
  ASSIGN_OR_RETURN(nlohmann::json obj, DecodeFromStore(value, revision));
  return Insert(key, revision, std::move(obj));
}

DecodedPtr ObjectCache::Insert(const std::string& key, int64_t revision, nlohmann::json object) {
  auto decoded = std::make_shared<DecodedObject>();
  decoded->revision = revision;
  object["metadata"]["resourceVersion"] = std::to_string(revision);
  decoded->text = object.dump();
  decoded->object = std::move(object);
  return Remember(key, std::move(decoded));
}

DecodedPtr ObjectCache::Insert(const std::string& key, int64_t revision, nlohmann::json object,
                               std::string text) {
  auto decoded = std::make_shared<DecodedObject>();
  decoded->revision = revision;
  object["metadata"]["resourceVersion"] = std::to_string(revision);
  decoded->text = std::move(text);
  decoded->object = std::move(object);
  return Remember(key, std::move(decoded));
}

DecodedPtr ObjectCache::Remember(const std::string& key, DecodedPtr decoded) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = by_key_.try_emplace(key, decoded);
  if (!inserted) {
    // Never replace a newer revision with an older one a slow reader parsed.
    if (it->second->revision > decoded->revision) return decoded;
    it->second = decoded;
    return decoded;
  }
  insertion_order_.push_back(key);
  while (by_key_.size() > capacity_ && !insertion_order_.empty()) {
    by_key_.erase(insertion_order_.front());
    insertion_order_.pop_front();
  }
  return decoded;
}

}  // namespace kennel::apiserver
