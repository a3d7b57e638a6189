// The one way components talk to the cluster: a Client speaks the Kubernetes
// API (paths, verbs, JSON objects, Status errors), whether it enters the API
// server's request path in-process (`kennel up`) or over HTTPS (`kennel
// agent` on another machine). Controllers, the scheduler and the agent hold a
// Client and never reach into the store or the server's internals.
//
// Threads: every call is synchronous and may be made from any thread except
// the API server's own I/O threads (an in-process call waits for them).
// Watch callbacks run on a thread the client owns, one event at a time, in
// order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::client {

using nlohmann::json;

// A resource as the API routes it: /api/v1/... for the core group ("" group),
// /apis/<group>/<version>/... otherwise.
struct Resource {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural: "pods"
  bool namespaced = true;
};

inline const Resource kPods{"", "v1", "pods", true};
inline const Resource kNodes{"", "v1", "nodes", false};
inline const Resource kNamespaces{"", "v1", "namespaces", false};
inline const Resource kConfigMaps{"", "v1", "configmaps", true};
inline const Resource kSecrets{"", "v1", "secrets", true};
inline const Resource kServices{"", "v1", "services", true};
inline const Resource kEndpoints{"", "v1", "endpoints", true};
inline const Resource kEvents{"", "v1", "events", true};
inline const Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", true};
inline const Resource kPersistentVolumes{"", "v1", "persistentvolumes", false};
inline const Resource kStorageClasses{"storage.k8s.io", "v1", "storageclasses", false};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
inline const Resource kStatefulSets{"apps", "v1", "statefulsets", true};

// A resourceVersion as the revision it is on both stores, for ordering
// versions; 0 when empty or not a number.
int64_t ResourceVersionNumber(const std::string& resource_version);
// The same for an object's metadata.resourceVersion.
int64_t ResourceVersionNumber(const json& object);

// "/api/v1/namespaces/ns/pods/name/sub" and its shorter forms: ns is ignored
// for cluster-scoped resources; empty name gives the collection.
std::string ResourcePath(const Resource& r, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");

struct Request {
  std::string method = "GET";  // GET POST PUT PATCH DELETE
  std::string path;            // "/api/v1/namespaces/default/pods"
  std::string query;           // "labelSelector=a%3Db&limit=5", without '?'
  std::string content_type = "application/json";
  std::string body;
  std::string accept = "application/json";  // what the answer may be (AcceptFor)
};

struct Response {
  int code = 0;
  std::string content_type;
  std::string body;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;
  // Only each object's metadata, as PartialObjectMetadata (client-go's
  // metadata client): for readers that need nothing else, such as the
  // garbage collector, whose informers would otherwise parse and keep every
  // object of every kind whole.
  bool metadata_only = false;
};

struct ListResult {
  std::vector<json> items;
  std::string resource_version;
  std::string continue_token;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", "Orphan", "Background", "Foreground"
  std::string precondition_uid;
  std::string precondition_resource_version;
};

enum class PatchType { kJson, kMerge, kStrategicMerge };

struct WatchEvent {
  std::string type;  // ADDED MODIFIED DELETED BOOKMARK ERROR
  json object;
};

// Destroying the handle stops the watch; after the destructor returns no
// callback of it runs any more (it may be called from inside a callback).
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

// By value, so a consumer that keeps the event (an informer) can move it.
using WatchCallback = std::function<void(WatchEvent)>;
// Called once when the stream ends by itself: Ok for a normal end (server
// timeout), kGone when the resourceVersion is too old (relist), else the error.
using WatchClosedCallback = std::function<void(const Status&)>;

class Client {
 public:
  virtual ~Client() = default;

  // One request/response. A non-2xx answer is still a Response here; the
  // typed helpers below turn it into a Status.
  virtual StatusOr<Response> Do(const Request& request) = 0;

  // Watches a collection (ns "" = all namespaces) from
  // options.resource_version. Returns once the server accepted the watch
  // (an error answer, e.g. 410, comes back here as a Status).
  virtual StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource& resource,
                                                       const std::string& ns,
                                                       const ListOptions& options,
                                                       WatchCallback on_event,
                                                       WatchClosedCallback on_closed) = 0;

  // Typed helpers on Do(): 2xx → the decoded body; otherwise the server's
  // Status turned into a kennel Status (code from HTTP code and reason,
  // message from the Status message).
  StatusOr<json> Get(const Resource& r, const std::string& ns, const std::string& name);
  StatusOr<ListResult> List(const Resource& r, const std::string& ns,
                            const ListOptions& options = {});
  StatusOr<json> Create(const Resource& r, const std::string& ns, const json& object);
  StatusOr<json> Update(const Resource& r, const std::string& ns, const json& object);
  StatusOr<json> UpdateStatus(const Resource& r, const std::string& ns, const json& object);
  StatusOr<json> Patch(const Resource& r, const std::string& ns, const std::string& name,
                       PatchType type, const json& patch, const std::string& subresource = "");
  Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                const DeleteOptions& options = {});
  // POST to a subresource (e.g. pods/NAME/binding), returning the body.
  StatusOr<json> PostSubresource(const Resource& r, const std::string& ns, const std::string& name,
                                 const std::string& subresource, const json& body);
};

// A kennel Status for a non-2xx Response carrying a Kubernetes Status body
// (or any body: then the message says what came back).
Status StatusFromResponse(const Response& response);

struct HttpClientOptions {
  // "https://127.0.0.1:6443"; several servers of one cluster comma-separated,
  // tried in turn when one cannot be reached.
  std::string server;
  std::string token;    // bearer token; "" for none
  std::string ca_file;  // PEM file to verify the server with; "" = system roots
  // No verification at all (an agent joining without the server's CA): the
  // caller says so loudly. The token still authenticates the agent.
  bool insecure_skip_verify = false;
  int timeout_seconds = 30;
  // PEM text to verify the server with, instead of ca_file (a kubeconfig's
  // certificate-authority-data is loaded from memory, never written to disk).
  std::string ca_data;
};

// A client over HTTP(S) with keep-alive connections (a small pool, so
// concurrent callers do not serialize on one socket).
StatusOr<std::unique_ptr<Client>> NewHttpClient(const HttpClientOptions& options);

// Reads server, token and CA from a kubeconfig written by `kennel server`.
StatusOr<HttpClientOptions> HttpOptionsFromKubeconfig(const std::string& path);

}  // namespace kennel::client
