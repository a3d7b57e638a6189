// The API server's request path, independent of HTTP: a request (method,
// path, query, headers that matter, body) in, a response out. The HTTP server
// feeds it; the in-process client (for `kennel up`) enters it the same way, so
// every caller gets the same defaulting, validation and error mapping.
//
// Threads: Handle() is a coroutine on the caller's Asio executor; it suspends
// while the store makes a write durable, so one thread serves many requests.
// The Handler holds no per-request state and may be shared by all threads.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
// clang-format on
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/request_info.h"
#include "base/status.h"
#include "store/store.h"

namespace kennel::apiserver {

struct ApiRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string path;    // without the query
  Query query;
  std::string content_type;
  std::string accept;
  std::string body;
};

struct ApiResponse {
  int code = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One watch event line, newline-terminated. Shared: watchers that show an
// event alike get the one line (DecodedObject::WatchLine).
using WatchLine = std::shared_ptr<const std::string>;

// One open watch. The store's dispatch thread hands raw events to the sink
// given to OpenWatch; the consumer renders them with Render(), never on the
// store's writer thread. Render, RenderObject and BookmarkLine may be called
// from any thread, one at a time. Destroying the stream stops it.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Newline-terminated event lines owed before any live event: the current
  // state as ADDED events when the watch started at "any"/"latest".
  virtual std::vector<std::string> TakeInitialLines() = 0;
  // The line for one store event after selector filtering (an object that
  // stops matching is sent as DELETED), or null when nothing is sent.
  virtual WatchLine Render(const store::Event& event) = 0;
  // The same event as an object (none when nothing is sent), for a consumer
  // in this process: no serialization to be parsed back (the in-process
  // client's informers would otherwise parse every object of every kind
  // they watch).
  struct Object {
    const char* type;  // ADDED MODIFIED DELETED
    nlohmann::json object;
  };
  virtual std::optional<Object> RenderObject(const store::Event& event) = 0;
  // A BOOKMARK line carrying the newest revision seen, or "" when the client did
  // not ask for bookmarks or nothing happened since the last line.
  virtual std::string BookmarkLine() = 0;
};

using WatchEventSink = std::function<void(const std::vector<store::Event>&)>;

struct HandlerOptions {
  std::string server_address;  // "127.0.0.1:6443", for /api's serverAddressByClientCIDRs
  size_t max_body_bytes = 3 * 1024 * 1024;
  // Services' cluster IPs come from here (see service_ips.h).
  std::string service_cidr = "10.96.0.0/16";
};

class Handler {
 public:
  Handler(store::Store* store, HandlerOptions options);
  ~Handler();

  // Creates what every cluster has, where missing: namespaces default,
  // kube-system, kube-public and kube-node-lease, and the priority classes
  // system-node-critical and system-cluster-critical. Idempotent.
  // Also takes the Services' cluster IPs and node ports from the store (and
  // gives any Service stored without them theirs), and, when server_address is
  // set, keeps the `kubernetes` Service and Endpoints of namespace default
  // pointing at it. Fails on a bad service_cidr.
  Status Bootstrap();

  // Resumes background work a restart interrupted (namespaces left
  // Terminating are finalized) on executor; call once after Bootstrap().
  void StartBackground(boost::asio::any_io_executor executor);

  // True for a GET that asks to watch (?watch=1|true).
  static bool IsWatch(const ApiRequest& request);

  boost::asio::awaitable<ApiResponse> Handle(ApiRequest request);

  // Opens a watch for a request where IsWatch() holds. content_type receives
  // the type of the stream's lines (JSON, or Table rows).
  StatusOr<std::unique_ptr<WatchStream>> OpenWatch(const ApiRequest& request, WatchEventSink sink,
                                                   std::string* content_type);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A Kubernetes Status error response for status.
ApiResponse ErrorResponse(const Status& status);

}  // namespace kennel::apiserver
