// The embedded store backend: durable, crash-safe, single process.
//
// SQLite in WAL mode holds the current state of every key and the global
// revision; a writer thread takes every write queued since its last commit,
// checks each against the latest state, commits them in one transaction with
// one fsync (group commit), and only then publishes them to readers and
// watchers and acknowledges them. Reads are served from an in-memory copy of
// the committed state; watch history is a bounded in-memory window of recent
// events (a watch from before it, e.g. after a restart, gets kGone).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store {

struct EmbeddedOptions {
  std::string path;                  // SQLite database file; created if absent
  int64_t history_events = 100'000;  // watch history window, in events
  bool fsync = true;                 // false only for tests that measure CPU cost
};

StatusOr<std::unique_ptr<Store>> OpenEmbedded(const EmbeddedOptions& options);

}  // namespace kennel::store
