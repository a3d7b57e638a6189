// The etcd store backend: the Store contract over a real etcd v3 cluster.
//
// Transport: etcd's v3 gRPC API (KV.Range, KV.Txn, KV.Compact and the
// bidirectional Watch stream), with Debian's gRPC C++ and protobuf and our own
// minimal etcd_rpc.proto (internal/). The JSON gateway, which the first
// version used, costs etcd about 1.7x the CPU per request (HTTP/1.1, JSON and
// base64, then a loopback gRPC hop inside etcd) and Kennel a JSON parse of
// every answer and event: over it Kennel reached 0.29x raw etcd's puts/s,
// over gRPC 0.6x and more (docs/benchmarks.md).
//
// Semantics (store.h), mapped onto etcd:
// - Revisions are etcd's. Several Kennel servers, or several key prefixes, may
//   share one etcd: revisions then also count the others' writes.
// - Create is a txn "create_revision == 0 → put" (failed: kAlreadyExists);
//   Update and Delete compare mod_revision (or, for kAnyRevision,
//   create_revision > 0); their failure branch reads the key in the same txn
//   to tell kNotFound from kConflict.
// - Get, Range and Revision() are linearizable reads. Revision() cannot fail:
//   while etcd is unreachable it returns, after request_timeout, the highest
//   revision this store has seen.
// - Watches: the store keeps ONE etcd watch stream over its whole key prefix,
//   started at open from the then-current revision, which feeds an in-memory
//   window of the last history_events events; every Store::Watch is served
//   from that window and then from the stream, so many watchers cost etcd one
//   stream. A watch from before the window but still in etcd's history gets
//   its own etcd stream from after_revision+1 (kept for the watch's lifetime);
//   if etcd has compacted that revision, Watch fails with kGone. A broken
//   stream (member down) is re-established on another endpoint from the last
//   revision it delivered + 1, so there are no gaps and no duplicates.
// - Compaction: every compaction_interval the store compacts etcd to the
//   revision it observed one interval earlier, as kube-apiserver does. Several
//   stores sharing the etcd and the key prefix take turns through a
//   compare-and-swap on the key "<key_prefix>/compact_rev_key", so only one
//   compacts per interval. Compaction is etcd-wide; that key is reserved (the
//   store hides it from Get, Range and Watch and refuses writes to it).
//
// Errors: etcd unreachable (every endpoint refused, or no leader) →
// kUnavailable naming the endpoints; a request without an answer within
// request_timeout → kTimeout (for a write, its outcome is unknown: it is never
// reported as a success); a compacted revision → kGone. Reads are retried on
// the next endpoint until request_timeout; a write is retried elsewhere only
// when it certainly did not reach etcd (no connection, "no leader").
//
// Threads: one I/O thread runs every connection; one dispatch thread runs every
// callback, write and watch alike, one at a time, so callbacks must not block
// (Get/Range from a callback are allowed: they wait for the I/O thread only).
//
// Lifecycle: destroying the store waits for requests in flight (each ends
// within request_timeout), so queued writes complete or fail with kUnavailable;
// writes issued during destruction fail with kUnavailable. Watch handles may
// outlive the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://...", ...
  std::string key_prefix;              // prepended to every key in etcd ("" = none); e.g. "/kennel"
  std::string ca_file, cert_file, key_file;  // client TLS (optional; for https:// endpoints)
  std::chrono::milliseconds request_timeout{5000};
  int64_t history_events = 100'000;               // in-memory watch history window, in events
  std::chrono::seconds compaction_interval{300};  // 0 = never compact
};

// Connects, reads the current revision and starts the shared watch stream.
// Errors: kBadRequest for bad options (endpoint URLs, TLS files);
// kUnavailable / kTimeout if no endpoint answers within request_timeout.
StatusOr<std::unique_ptr<Store>> OpenEtcd(const EtcdOptions& options);

}  // namespace kennel::store
