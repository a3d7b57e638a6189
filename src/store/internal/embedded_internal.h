// Test-only introspection and fault injection for the embedded store.
//
// Not part of the store's contract: production code must not include this.
// Every function accepts any Store and does nothing (or returns nullopt) when it
// is not an embedded store.
#pragma once

#include <cstdint>
#include <optional>

#include "store/store.h"

namespace kennel::store::internal {

struct EmbeddedCounters {
  int64_t transactions = 0;      // SQLite transactions committed
  int64_t committed_writes = 0;  // writes those transactions carried
  int64_t failed_batches = 0;    // batches whose transaction failed
};

// A snapshot of the store's counters; nullopt if `store` is not embedded.
std::optional<EmbeddedCounters> GetEmbeddedCounters(Store& store);

// Makes the next `count` batches that reach SQLite fail as if COMMIT had
// failed: the transaction is rolled back and every write in it gets kInternal.
void InjectCommitFailures(Store& store, int count);

// While paused, the writer thread takes no new batch (a batch it already
// took still completes), so writes queued meanwhile all go into one batch
// once it is resumed. Destroying the store overrides a pause.
void PauseWriter(Store& store, bool paused);

}  // namespace kennel::store::internal
