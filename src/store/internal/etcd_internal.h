// Test-only introspection for the etcd store.
//
// Not part of the store's contract: production code must not include this.
// Every function accepts any Store and returns nullopt (or kBadRequest) when it
// is not an etcd store.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store::internal {

struct EtcdCounters {
  int64_t watch_streams_created = 0;  // etcd watch streams created, re-establishments included
  int64_t own_stream_watches = 0;     // Store watches that needed a stream of their own
  int64_t compaction_turns = 0;       // compaction-key compare-and-swaps this store won
  int64_t compactions = 0;            // compactions this store ran
  int64_t last_compacted_revision = 0;
};

std::optional<EtcdCounters> GetEtcdCounters(Store& store);

// Compacts etcd's history up to `revision`, as the periodic compactor would.
Status CompactEtcd(Store& store, int64_t revision);

}  // namespace kennel::store::internal
