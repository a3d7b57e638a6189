// A client for etcd v3's gRPC API, the transport of the etcd store
// (store/etcd.h explains why gRPC). Not part of the store's contract.
//
// One gRPC channel (one HTTP/2 connection) per endpoint carries every call
// and every watch stream to that member. Calls go to a preferred endpoint and
// move on to the next when it fails them.
//
// Threads: one thread of its own drives the completion queue and runs every
// callback this class invokes (the "I/O thread"). The *Sync calls must not be
// made on that thread.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/internal/etcd_rpc.pb.h"
#include "store/store.h"

namespace kennel::store::internal {

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // http:// or https:// URLs, no path
  std::string ca_file, cert_file, key_file;
  std::chrono::milliseconds request_timeout{5000};
};

// How a failed call may be retried on another endpoint.
enum class CallKind {
  kRead,   // idempotent: after any transport error or an unavailable member
  kWrite,  // only when the request certainly did not reach etcd
};

template <typename Response>
using EtcdCallback = std::function<void(StatusOr<Response>)>;

struct WatchSpec {
  std::string key;        // etcd key bytes
  std::string range_end;  // etcd range end bytes; "\0" = every key from `key` on
  int64_t start_revision = 0;
};

struct WatchCallbacks {
  // Events in revision order, never empty; keys are etcd keys. A delete's kv
  // carries the value and create_revision the key had (from prev_kv).
  std::function<void(std::vector<Event>)> on_events;
  // etcd compacted a revision the stream still needed: the stream has stopped.
  std::function<void(int64_t compact_revision)> on_compacted;
  // Optional: etcd accepted the stream (again, after each re-establishment).
  std::function<void()> on_created;
};

class EtcdClient {
 public:
  // Errors: kBadRequest for a malformed endpoint or unreadable TLS files.
  static StatusOr<std::unique_ptr<EtcdClient>> Create(const EtcdClientOptions& options);
  ~EtcdClient();  // Shutdown(), then frees everything

  // Each runs one call, retried on other endpoints as `kind` allows within the
  // request timeout, and calls done on the I/O thread with the answer or the
  // mapped error (kGone for a compacted revision, kUnavailable or kTimeout
  // when etcd cannot answer; for a write whose outcome is unknown, the message
  // says so). After Shutdown began, done runs at once on the calling thread
  // with kUnavailable.
  void Range(etcdserverpb::RangeRequest request, EtcdCallback<etcdserverpb::RangeResponse> done);
  void Txn(etcdserverpb::TxnRequest request, CallKind kind,
           EtcdCallback<etcdserverpb::TxnResponse> done);
  void Compact(etcdserverpb::CompactionRequest request,
               EtcdCallback<etcdserverpb::CompactionResponse> done);

  // Blocking forms, for threads other than the I/O thread.
  StatusOr<etcdserverpb::RangeResponse> RangeSync(etcdserverpb::RangeRequest request);
  StatusOr<etcdserverpb::CompactionResponse> CompactSync(etcdserverpb::CompactionRequest request);

  // Starts a watch stream; returns its id. Callbacks run on the I/O thread.
  uint64_t StartWatch(WatchSpec spec, WatchCallbacks callbacks);
  // Stops a stream: no callback of it starts after StopWatch returns on the
  // I/O thread; from another thread, one already running may still finish.
  void StopWatch(uint64_t id);

  // Runs fn on the I/O thread after delay, unless Shutdown began first.
  void Schedule(std::chrono::milliseconds delay, std::function<void()> fn);

  // Refuses new calls, waits for the calls in flight (each ends within
  // request_timeout), closes every watch and joins the I/O thread. Idempotent.
  // Must not be called on the I/O thread.
  void Shutdown();

  // Watch streams etcd created for this client (including re-establishments).
  int64_t watch_streams_created() const;
  // "http://a:2379, http://b:2379", for error messages.
  const std::string& endpoint_list() const;

  class Impl;

 private:
  explicit EtcdClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Runs f, logging what it throws instead of letting an exception out into
// the completion-queue or dispatch thread that called it.
template <typename F>
void RunGuarded(F& f, const char* what) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("etcd store: {} threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("etcd store: {} threw a non-exception", what);
  }
}

// An etcd key-value as the store's (the key still carries etcd's key prefix).
KeyValue FromEtcd(etcdserverpb::KeyValue&& kv);

// The smallest key greater than every key that starts with prefix ("\0" if
// there is none, which etcd reads as "to the end").
std::string PrefixEnd(const std::string& prefix);

}  // namespace kennel::store::internal
