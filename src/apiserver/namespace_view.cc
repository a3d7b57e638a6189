#include "apiserver/namespace_view.h"

#include <nlohmann/json.hpp>

namespace kennel::apiserver {

Status NamespaceView::Start(store::Store* store, const std::string& prefix) {
  prefix_ = prefix;
  ASSIGN_OR_RETURN(auto range, store->Range({prefix, "", 0}));
  for (const store::KeyValue& kv : range.kvs) Apply(kv.key, kv.value, kv.mod_revision, false);
  ASSIGN_OR_RETURN(
      watch_, store->Watch(prefix, range.revision, [this](const std::vector<store::Event>& events) {
        for (const store::Event& e : events) {
          Apply(e.kv.key, e.kv.value, e.revision(), e.type == store::EventType::kDelete);
        }
      }));
  return Status::Ok();
}

std::optional<bool> NamespaceView::Terminating(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.state == State::kDeleted) return std::nullopt;
  return it->second.state == State::kTerminating;
}

void NamespaceView::Marked(const std::string& name, int64_t revision) {
  Set(name, State::kTerminating, revision);
}

void NamespaceView::Deleted(const std::string& name, int64_t revision) {
  Set(name, State::kDeleted, revision);
}

void NamespaceView::Apply(const std::string& key, const std::string& value, int64_t revision,
                          bool deleted) {
  std::string name = key.substr(prefix_.size());
  if (deleted) return Set(name, State::kDeleted, revision);
  // Only deletionTimestamp matters. A value that does not parse is left to
  // the store read (the view forgets it rather than guess).
  nlohmann::json ns = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  auto meta = ns.is_object() ? ns.find("metadata") : ns.end();
  if (!ns.is_object() || meta == ns.end() || !meta->is_object()) {
    return Set(name, State::kDeleted, revision);
  }
  bool terminating = meta->contains("deletionTimestamp") && !(*meta)["deletionTimestamp"].is_null();
  Set(name, terminating ? State::kTerminating : State::kActive, revision);
}

void NamespaceView::Set(const std::string& name, State state, int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[name];
  if (revision < entry.revision) return;
  entry = {state, revision};
}

}  // namespace kennel::apiserver
