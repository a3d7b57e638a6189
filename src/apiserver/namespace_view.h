// Which namespaces exist and which are terminating, as the NamespaceLifecycle
// admission of kube-apiserver sees them: from a cache fed by a watch, not
// from a store read per request. On etcd that read was a second round trip
// for every create (half of a create's cost); on the embedded store it was a
// map lookup either way.
//
// Like Kubernetes' namespace lister, the view may lag the store by a moment:
// a namespace it does not know yet (created an instant ago, perhaps through
// another server) is unknown, and the caller reads the store then.
//
// Threads: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "store/store.h"

namespace kennel::apiserver {

class NamespaceView {
 public:
  // Loads the stored namespaces and follows their changes from then on.
  // prefix: the store key prefix of namespaces ("/registry/namespaces/").
  Status Start(store::Store* store, const std::string& prefix);

  // true: terminating (has a deletionTimestamp); false: active; nullopt: not
  // known to the view (absent, deleted, or not seen yet).
  std::optional<bool> Terminating(const std::string& name) const;

  // This server's own namespace writes, told at once (at the write's
  // revision) so that its next request sees them even before the watch does.
  void Marked(const std::string& name, int64_t revision);   // now terminating
  void Deleted(const std::string& name, int64_t revision);  // gone

 private:
  enum class State { kActive, kTerminating, kDeleted };
  struct Entry {
    State state = State::kActive;
    int64_t revision = 0;  // of the write that set it: older news is ignored
  };
  void Apply(const std::string& key, const std::string& value, int64_t revision, bool deleted);
  void Set(const std::string& name, State state, int64_t revision);

  std::string prefix_;
  mutable std::mutex mu_;
  // Deleted namespaces stay as tombstones, so that a late event from before
  // the deletion cannot bring them back.
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::unique_ptr<store::WatchHandle> watch_;
};

}  // namespace kennel::apiserver
