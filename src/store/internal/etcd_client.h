// A client for etcd v3's JSON gateway, the transport of the etcd store
// (store/etcd.h explains why the gateway). Not part of the store's contract.
//
// Unary calls go over a pool of HTTP/1.1 keep-alive connections per endpoint
// (grown on demand up to max_connections_per_endpoint, so concurrent writes
// are not serialized on one connection). Watches are long-lived streams, one
// connection each, that reconnect by themselves.
//
// Threads: one I/O thread of its own runs every connection, timer and
// callback this class invokes. CallSync must not be called on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store::internal {

using Json = nlohmann::json;

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // http:// or https:// URLs, no path
  std::string ca_file, cert_file, key_file;
  std::chrono::milliseconds request_timeout{5000};
  size_t max_connections_per_endpoint = 64;
};

// How a failed call may be retried on another endpoint.
enum class CallKind {
  kRead,   // idempotent: after any transport error or an unavailable member
  kWrite,  // only when the request certainly did not reach etcd
};

using CallCallback = std::function<void(StatusOr<Json>)>;

struct WatchSpec {
  std::string key;        // etcd key bytes (not base64)
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

  // Runs one POST of `body` to `path` (e.g. "/v3/kv/range") and calls done, on
  // the I/O thread, with the parsed response or the mapped error. After
  // Shutdown began, done runs at once on the calling thread with kUnavailable.
  void Call(std::string path, Json body, CallKind kind, CallCallback done);
  // Blocking Call, for threads other than the I/O thread.
  StatusOr<Json> CallSync(std::string path, Json body, CallKind kind);

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

// The smallest key greater than every key that starts with prefix ("\0" if
// there is none, which etcd reads as "to the end").
std::string PrefixEnd(const std::string& prefix);
// An int64 field as etcd's JSON gateway writes it: a string, absent when 0.
int64_t JsonInt(const Json& object, const char* field);
// A bytes field (base64), absent when empty. Throws on bad base64, like json.
std::string JsonBytes(const Json& object, const char* field);

}  // namespace kennel::store::internal
