// The embedded store backend: durable, crash-safe, single process.
//
// SQLite in WAL mode holds the current state of every key and the global
// revision; a writer thread takes every write queued since its last commit,
// checks each against the latest state, commits them in one transaction with
// one fsync (group commit), and only then publishes them to readers and
// watchers and acknowledges them. Reads are served from an in-memory copy of
// the committed state; watch history is a bounded in-memory window of recent
// events (a watch from before it, e.g. after a restart, gets kGone).
//
// Threads: the store runs two threads of its own. The writer thread validates,
// commits and publishes batches. The dispatch thread runs every callback, write
// and watch alike, one at a time: callbacks never run concurrently with each
// other, so they must not block (and must never wait for another write of this
// store, which would deadlock). Within one watch, events arrive in revision
// order; a write's callback runs after the write is visible to Get/Range.
//
// Lifecycle: the database is locked exclusively while the store is open; a
// second OpenEmbedded of the same path, in this process or another, fails with
// kUnavailable. Destroying the store commits and acknowledges every write
// queued before it, delivers pending watch events, then stops; a write issued
// during destruction (e.g. from a callback) fails with kUnavailable, its
// callback run at once on the calling thread. Watch handles may outlive the
// store.
//
// Errors: a failed SQLite transaction fails every write of its batch with
// kInternal and publishes none of them; the store stays usable unless rolling
// that transaction back fails too, after which every write fails with kInternal
// (reopen the store).
//
// Throughput: a batch is as large as the writes queued while the previous one
// was being fsynced, so N writers that each wait for their ack share about one
// fsync per N/2 writes (16 writers: ~8-10 writes per transaction).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store {

struct EmbeddedOptions {
  std::string path;                  // SQLite database file; created if absent
  int64_t history_events = 100'000;  // watch history window, in events (memory: one
                                     // event holds up to two copies of a value)
  bool fsync = true;                 // false only for tests that measure CPU cost:
                                     // writes then survive a crash but not power loss
  // How often the writer thread checkpoints the WAL into the database and
  // truncates it (PRAGMA wal_checkpoint(TRUNCATE)), if anything was written
  // since the last time; 0 = never. SQLite's automatic checkpoints reuse the
  // WAL but never shrink it, so after a burst of churn it would stay large.
  std::chrono::milliseconds checkpoint_interval{60'000};
};

// Opens (creating if needed) the database at options.path and loads every key
// into memory. The fresh store's revision is 1; a reopened one continues from
// its persisted revision with an empty watch history.
// Errors: kBadRequest for bad options; kUnavailable if the database is already
// open; kInternal for I/O or database errors.
StatusOr<std::unique_ptr<Store>> OpenEmbedded(const EmbeddedOptions& options);

}  // namespace kennel::store
