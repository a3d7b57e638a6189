#include "apiserver/handler.h"

#include <spdlog/spdlog.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>

#include "api/defaults.h"
#include "api/fields.h"
#include "api/openapi.h"
#include "api/patch.h"
#include "api/printers.h"
#include "api/priority.h"
#include "api/protobuf.h"
#include "api/registry.h"
#include "api/selector.h"
#include "api/storage.h"
#include "api/validation.h"
#include "apiserver/discovery.h"
#include "apiserver/errors.h"
#include "apiserver/namespace_view.h"
#include "apiserver/object_cache.h"
#include "apiserver/objects.h"
#include "apiserver/service_ips.h"
#include "base/base64.h"
#include "base/time.h"

namespace kennel::apiserver {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using KvResult = StatusOr<store::KeyValue>;

constexpr int kMaxUpdateAttempts = 16;
constexpr auto kNamespaceFinalizeDelay = std::chrono::seconds(2);
constexpr auto kNamespaceRetryInterval = std::chrono::seconds(1);
// Namespaces every cluster has; deleting them is refused as Kubernetes does.
const char* const kSystemNamespaces[] = {"default", "kube-system", "kube-public",
                                         "kube-node-lease"};

// Suspends the calling coroutine until the store acknowledges one write. The
// store calls back on a thread of its own; the result is posted back to the
// coroutine's executor so the coroutine resumes where it ran. acknowledged,
// when given, runs first, on the store's thread, while the coroutine is still
// suspended (so it may use the coroutine's locals): the place to put the
// written object in the cache before the store tells watchers of the write,
// which it does after acknowledging it. Otherwise each watcher raced the
// coroutine's resumption and mostly lost, parsing the stored bytes again.
template <typename Start, typename Acknowledged = void (*)(const KvResult&)>
asio::awaitable<KvResult> AwaitWrite(
    Start start, Acknowledged acknowledged = [](const KvResult&) {}) {
  auto shared =
      co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::shared_ptr<KvResult>)>(
          [start = std::move(start), acknowledged = std::move(acknowledged)](auto handler) mutable {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            start([h, acknowledged = std::move(acknowledged)](KvResult r) mutable {
              acknowledged(r);
              auto result = std::make_shared<KvResult>(std::move(r));
              auto ex = asio::get_associated_executor(*h);
              asio::post(ex, [h, result]() mutable { (*h)(result); });
            });
          },
          asio::use_awaitable);
  co_return std::move(*shared);
}

ApiResponse JsonResponse(int code, const json& body) {
  ApiResponse r;
  r.code = code;
  r.body = body.dump();
  return r;
}

bool IsPod(const api::ResourceInfo& info) { return info.group.empty() && info.kind == "Pod"; }
bool IsService(const api::ResourceInfo& info) {
  return info.group.empty() && info.kind == "Service";
}
bool IsPriorityClass(const api::ResourceInfo& info) {
  return info.group == "scheduling.k8s.io" && info.kind == "PriorityClass";
}

std::string MediaType(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

const json& Metadata(const json& obj) {
  static const json kEmpty = json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string MetaString(const json& obj, const char* field) {
  const json& m = Metadata(obj);
  auto it = m.find(field);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

json Labels(const json& obj) {
  const json& m = Metadata(obj);
  auto it = m.find("labels");
  return it != m.end() ? *it : json(nullptr);
}

// The finalizers without the garbage collector's, plus the one the policy asks for.
json WithGcFinalizers(const json& finalizers, const std::string& policy) {
  json out = json::array();
  for (const json& f : finalizers) {
    if (f != "orphan" && f != "foregroundDeletion") out.push_back(f);
  }
  if (policy == "Orphan") out.push_back("orphan");
  if (policy == "Foreground") out.push_back("foregroundDeletion");
  return out;
}

bool HasFinalizers(const json& obj) {
  const json& m = Metadata(obj);
  auto it = m.find("finalizers");
  return it != m.end() && it->is_array() && !it->empty();
}

// The grace period a pod's deletion gets, as Kubernetes decides it: a pod
// that a node runs is only marked (deletionTimestamp = now + grace) so that
// its agent can stop it and then delete it with grace 0; a pod no node has
// taken is deleted at once. nullopt: delete now.
std::optional<int64_t> PodGracePeriod(const json& pod, const json& options) {
  const json& spec = pod.value("spec", json::object());
  if (spec.value("nodeName", "").empty()) return std::nullopt;
  int64_t grace = spec.value("terminationGracePeriodSeconds", int64_t{30});
  if (auto it = options.find("gracePeriodSeconds");
      it != options.end() && it->is_number_integer()) {
    grace = it->get<int64_t>();
  }
  // A pod that never started or already ended has nothing left to stop.
  const std::string phase = pod.value("status", json::object()).value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") grace = 0;
  if (grace <= 0) return std::nullopt;
  return grace;
}

// A pod marked for graceful deletion waits for its agent's grace-0 delete,
// whatever its finalizers do.
bool AwaitsGracefulDeletion(const json& obj) {
  const json& m = Metadata(obj);
  auto it = m.find("deletionGracePeriodSeconds");
  return it != m.end() && it->is_number_integer() && it->get<int64_t>() > 0;
}

// Kubernetes' server-side field validation: its types cannot hold a field
// they do not define, so an unknown field is refused (Strict), or dropped
// with a warning (Warn, the default) or silently (Ignore).
Status EnforceFieldValidation(const Query& query, const api::ResourceInfo& info, json& obj,
                              std::vector<std::string>* warnings) {
  std::vector<std::string> unknown = api::UnknownFields(obj, info.ApiVersion(), info.kind);
  if (unknown.empty()) return Status::Ok();
  std::string mode = QueryValue(query, "fieldValidation", "Warn");
  if (mode == "Strict") {
    return BadRequest(info.kind + " in version \"" + info.version + "\" cannot be handled as a " +
                      info.kind + ": " + api::StrictDecodingErrorMessage(unknown));
  }
  if (mode != "Warn" && mode != "Ignore") {
    return BadRequest("fieldValidation must be Ignore, Warn or Strict, got \"" + mode + "\"");
  }
  api::PruneUnknownFields(obj, info.ApiVersion(), info.kind);
  if (mode == "Warn") {
    for (const auto& path : unknown) warnings->push_back(api::UnknownFieldMessage(path));
  }
  return Status::Ok();
}

// RFC 7234 warning headers, as kubectl prints them ("Warning: <text>").
void AddWarnings(ApiResponse& response, const std::vector<std::string>& warnings) {
  for (const auto& text : warnings) {
    std::string quoted;
    for (char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    response.headers.emplace_back("Warning", "299 - \"" + quoted + "\"");
  }
}

// An object that was not stored (a dry run, or one just deleted), in the
// shape responses take.
DecodedPtr Unstored(json object) {
  auto decoded = std::make_shared<DecodedObject>();
  decoded->text = object.dump();
  decoded->object = std::move(object);
  return decoded;
}

ErrorSubject Subject(const api::ResourceInfo& info, const std::string& name) {
  return ErrorSubject{info.group, info.resource, name, info.kind};
}

// Deeper JSON than any Kubernetes object needs; the limit keeps the
// recursive parse, copy, compare and dump far from the thread's stack limit.
constexpr int kMaxJsonDepth = 1000;

// The nesting depth of a JSON text, counting brackets outside strings: a
// cheap scan that rejects a hostile body before the recursive parser sees it.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// Every JSON text from a client is parsed here: malformed or hostile input
// becomes a 400, never an exception or a crash.
StatusOr<json> ParseClientJson(std::string_view text, const char* what) {
  if (!NestingWithin(text, kMaxJsonDepth)) {
    return BadRequest(std::string(what) + " is nested more than " + std::to_string(kMaxJsonDepth) +
                      " levels deep");
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return BadRequest(std::string(what) + " could not be decoded as JSON");
  return parsed;
}

ApiResponse Error(const Status& s, const ErrorSubject& subject = {}) {
  return JsonResponse(HttpCode(s.code()), StatusBody(s, subject));
}

// Parses a request body as JSON, or as Kubernetes protobuf when kubectl's
// generator commands send that.
StatusOr<json> DecodeBody(const ApiRequest& req) {
  std::string type = MediaType(req.content_type);
  if (type == api::kProtobufContentType) return api::DecodeKubernetesProtobuf(req.body);
  if (!type.empty() && type != "application/json" && type != "application/yaml" &&
      type.find("json") == std::string::npos) {
    return UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted "
        "media types include: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf");
  }
  if (type == "application/yaml") {
    return UnsupportedMediaType(
        "YAML bodies are not supported by Kennel: send JSON (kubectl "
        "always does)");
  }
  ASSIGN_OR_RETURN(json body, ParseClientJson(req.body, "the body of the request"));
  if (!body.is_object()) return BadRequest("the body of the request must be a JSON object");
  return body;
}

struct ContinueToken {
  int64_t revision = 0;
  std::string start_key;
};

std::string EncodeContinue(const ContinueToken& t) {
  return Base64Encode(
      json{{"v", "meta.k8s.io/v1"}, {"rv", t.revision}, {"start", t.start_key}}.dump());
}

StatusOr<ContinueToken> DecodeContinue(const std::string& token) {
  auto raw = Base64Decode(token);
  if (!raw.ok()) return BadRequest("continue key is not valid");
  auto parsed = ParseClientJson(*raw, "the continue key");
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("rv") || !j["rv"].is_number_integer() || !j.contains("start") ||
      !j["start"].is_string()) {
    return BadRequest("continue key is not valid");
  }
  return ContinueToken{j["rv"].get<int64_t>(), j["start"].get<std::string>()};
}

StatusOr<int64_t> ParseInt(const std::string& text, const char* what) {
  if (text.empty()) return int64_t{0};
  try {
    size_t used = 0;
    int64_t v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    return BadRequest(std::string("invalid ") + what + ": " + text);
  }
}

// Selectors of a list or watch request.
struct Filter {
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  std::optional<api::FieldSelector> names;  // from a watch on one object's URL
  bool Empty() const { return !labels && !fields && !names; }
  bool Matches(const json& obj) const {
    if (labels && !labels->Matches(Labels(obj))) return false;
    if (fields && !fields->Matches(obj)) return false;
    if (names && !names->Matches(obj)) return false;
    return true;
  }
};

StatusOr<Filter> ParseFilter(const Query& q, const api::ResourceInfo& info) {
  Filter f;
  std::string ls = QueryValue(q, "labelSelector");
  if (!ls.empty()) {
    ASSIGN_OR_RETURN(auto sel, api::LabelSelector::Parse(ls));
    if (!sel.Empty()) f.labels = std::move(sel);
  }
  std::string fs = QueryValue(q, "fieldSelector");
  if (!fs.empty()) {
    ASSIGN_OR_RETURN(auto sel, api::FieldSelector::Parse(fs, info.kind));
    if (!sel.Empty()) f.fields = std::move(sel);
  }
  return f;
}

// An object as a metadata-only reader sees it (meta.k8s.io/v1).
json PartialObjectMetadata(const json& metadata) {
  return {
      {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", metadata}};
}

const char* ContentTypeOf(Representation representation, bool list) {
  switch (representation) {
    case Representation::kTable:
      return kTableContentType;
    case Representation::kMetadata:
      return list ? kMetadataListContentType : kMetadataContentType;
    case Representation::kObject:
      break;
  }
  return "application/json";
}

json TableFor(const api::ResourceInfo& info, const std::vector<json>& objects,
              const std::string& resource_version, bool include_object,
              const std::string& continue_token) {
  auto now = std::chrono::system_clock::now();
  json rows = json::array();
  for (const auto& obj : objects) {
    rows.push_back({{"cells", api::TableCells(info, obj, now)},
                    {"object", include_object ? obj : PartialObjectMetadata(Metadata(obj))}});
  }
  json meta = {{"resourceVersion", resource_version}};
  if (!continue_token.empty()) meta["continue"] = continue_token;
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", api::TableColumns(info)},
          {"rows", rows}};
}

// The autoscaling/v1 Scale view of a StatefulSet, Deployment or ReplicaSet.
json ToScale(const json& obj) {
  const json& meta = Metadata(obj);
  json scale_meta = json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (meta.contains(k)) scale_meta[k] = meta[k];
  }
  auto int_at = [&](const json::json_pointer& ptr, int64_t fallback) {
    return obj.contains(ptr) && obj[ptr].is_number_integer() ? obj[ptr].get<int64_t>() : fallback;
  };
  int64_t spec_replicas = int_at("/spec/replicas"_json_pointer, 1);
  int64_t status_replicas = int_at("/status/replicas"_json_pointer, 0);
  std::string selector;
  auto sel = obj.contains("spec") && obj["spec"].is_object() && obj["spec"].contains("selector")
                 ? api::LabelSelector::FromJson(obj["spec"]["selector"])
                 : StatusOr<api::LabelSelector>(BadRequest("no selector"));
  if (sel.ok()) selector = sel->ToString();
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", scale_meta},
          {"spec", {{"replicas", spec_replicas}}},
          {"status", {{"replicas", status_replicas}, {"selector", selector}}}};
}

class WatchStreamImpl;

}  // namespace

class Handler::Impl {
 public:
  Impl(store::Store* store, HandlerOptions options)
      : store_(store),
        options_(options),
        service_cidr_(ServiceCidr::Parse(options_.service_cidr)),
        service_ips_(service_cidr_.ok() ? *service_cidr_
                                        : *ServiceCidr::Parse(kDefaultServiceCidr)) {}

  Status Bootstrap();
  void StartBackground(asio::any_io_executor executor);
  asio::awaitable<ApiResponse> Handle(ApiRequest req);
  StatusOr<std::unique_ptr<WatchStream>> OpenWatch(const ApiRequest& req, WatchEventSink sink,
                                                   std::string* content_type);

 private:
  ApiResponse NonResource(const ApiRequest& req);
  asio::awaitable<ApiResponse> Resource(const ApiRequest& req, const RequestInfo& ri,
                                        const api::ResourceInfo& info);
  ApiResponse Get(const ApiRequest& req, const RequestInfo& ri, const api::ResourceInfo& info);
  ApiResponse List(const ApiRequest& req, const RequestInfo& ri, const api::ResourceInfo& info);
  // POST pods/NAME/binding: the scheduler's one write to a pod's spec.
  asio::awaitable<ApiResponse> Bind(const ApiRequest& req, const RequestInfo& ri,
                                    const api::ResourceInfo& info);
  asio::awaitable<ApiResponse> Create(const ApiRequest& req, const RequestInfo& ri,
                                      const api::ResourceInfo& info);
  asio::awaitable<ApiResponse> Update(const ApiRequest& req, const RequestInfo& ri,
                                      const api::ResourceInfo& info);
  ApiResponse UpdateResponse(const ApiRequest& req, const RequestInfo& ri,
                             const api::ResourceInfo& info, const StatusOr<DecodedPtr>& result,
                             const std::vector<std::string>& warnings);
  asio::awaitable<ApiResponse> Patch(const ApiRequest& req, const RequestInfo& ri,
                                     const api::ResourceInfo& info);
  asio::awaitable<ApiResponse> Delete(const ApiRequest& req, const RequestInfo& ri,
                                      const api::ResourceInfo& info);
  asio::awaitable<ApiResponse> DeleteCollection(const ApiRequest& req, const RequestInfo& ri,
                                                const api::ResourceInfo& info);

  // Creates obj (already decoded) in namespace ns; shared by POST and by
  // server-side create paths.
  // Coroutines take their arguments by value and callers pass named values:
  // GCC 12 mishandles temporaries that live across a co_await.
  asio::awaitable<StatusOr<DecodedPtr>> CreateObject(const api::ResourceInfo& info, std::string ns,
                                                     json obj, bool dry_run);
  // Read-modify-write with compare-and-swap, retried on conflicts the caller
  // did not cause: mutate gets the current object and returns the desired one.
  using Mutation = std::function<StatusOr<json>(const json& current)>;
  asio::awaitable<StatusOr<DecodedPtr>> GuaranteedUpdate(const api::ResourceInfo& info,
                                                         std::string ns, std::string name,
                                                         std::string subresource, Mutation mutate,
                                                         bool dry_run);
  // Deletes one object honouring finalizers and grace; returns its last state.
  // The propagation policy only sets the garbage collector's finalizers
  // (orphan, foregroundDeletion): dependents are the controller's job
  // (controllers/garbage_collector.h), as in Kubernetes.
  asio::awaitable<StatusOr<json>> DeleteObject(const api::ResourceInfo& info, std::string ns,
                                               std::string name, json options, bool dry_run);
  // One pass over a Terminating namespace; returns how many objects remain.
  asio::awaitable<StatusOr<size_t>> DeleteNamespaceContents(std::string ns);
  // Deletes a Terminating namespace's contents, then the namespace.
  asio::awaitable<void> FinalizeNamespace(std::string ns);

  // Bootstrap's part for Services: the allocator from the stored Services,
  // then the kubernetes Service and Endpoints.
  Status BootstrapServices();
  Status CheckNamespaceWritable(const std::string& ns);
  // Every stored object of a cluster-scoped v1 resource (PriorityClasses for
  // the Priority admission plugin, StorageClasses for DefaultStorageClass).
  StatusOr<std::vector<json>> StoredObjects(const char* group, const char* resource);
  // Kubernetes' mutating admission on create: the Priority plugin resolves a
  // pod's priority, DefaultStorageClass gives a claim without a class the
  // default one. requested_name is the name the request carried.
  Status MutatingAdmission(const api::ResourceInfo& info, json& obj,
                           const std::string& requested_name);
  // Validating admission on create and update: at most one default
  // PriorityClass.
  Status ValidatingAdmission(const api::ResourceInfo& info, const json& obj,
                             api::PriorityClassOp op);
  StatusOr<DecodedPtr> Decode(const store::KeyValue& kv) {
    return cache_.Decode(kv.key, kv.value, kv.mod_revision);
  }
  StatusOr<DecodedPtr> ReadDecoded(const api::ResourceInfo& info, const std::string& ns,
                                   const std::string& name, store::KeyValue* kv_out);
  StatusOr<json> ReadObject(const api::ResourceInfo& info, const std::string& ns,
                            const std::string& name, store::KeyValue* kv_out);
  // The object as the request asked to see it (Table or JSON).
  ApiResponse ObjectResponse(int code, const ApiRequest& req, const api::ResourceInfo& info,
                             const DecodedPtr& decoded);
  ApiResponse ObjectResponse(int code, const ApiRequest& req, const api::ResourceInfo& info,
                             const json& obj);

  store::Store* store_;
  HandlerOptions options_;
  ObjectCache cache_;
  StatusOr<ServiceCidr> service_cidr_;
  ServiceAllocator service_ips_;  // Services' cluster IPs and node ports
  NamespaceView namespaces_;      // NamespaceLifecycle's cache, from Bootstrap on
};

// ---------------------------------------------------------------------------
// Watch streams.

namespace {

class WatchStreamImpl : public WatchStream {
 public:
  WatchStreamImpl(const api::ResourceInfo& info, Filter filter, Representation representation,
                  bool bookmarks, ObjectCache* cache)
      : info_(info),
        filter_(std::move(filter)),
        representation_(representation),
        bookmarks_(bookmarks),
        cache_(cache) {}

  void SetHandle(std::unique_ptr<store::WatchHandle> handle) { handle_ = std::move(handle); }
  void AddInitial(std::string line) { initial_.push_back(std::move(line)); }
  void SetRevision(int64_t revision) { last_revision_ = revision; }

  std::vector<std::string> TakeInitialLines() override { return std::move(initial_); }

  WatchLine Render(const store::Event& event) override {
    auto selected = Select(event);
    return selected ? Line(selected->first, selected->second) : nullptr;
  }

  std::optional<Object> RenderObject(const store::Event& event) override {
    auto selected = Select(event);
    if (!selected) return std::nullopt;
    last_sent_revision_ = std::max(last_sent_revision_, last_revision_);
    return Object{selected->first, View(selected->second->object)};
  }

  // What one store event means to this watch: the event type and object to
  // send, or nothing when neither the old nor the new state matches.
  std::optional<std::pair<const char*, DecodedPtr>> Select(const store::Event& event) {
    last_revision_ = std::max(last_revision_, event.revision());
    // Every watcher of an event shares one parse and one serialization.
    auto cur = cache_->Decode(event.kv.key, event.kv.value, event.revision());
    if (!cur.ok()) return std::nullopt;
    bool cur_match = event.type == store::EventType::kPut && filter_.Matches((*cur)->object);
    bool prev_match = false;
    if (event.prev_kv && !filter_.Empty()) {
      auto prev =
          cache_->Decode(event.prev_kv->key, event.prev_kv->value, event.prev_kv->mod_revision);
      prev_match = prev.ok() && filter_.Matches((*prev)->object);
    } else if (event.prev_kv) {
      prev_match = true;  // no selectors: everything matches
    }
    if (event.type == store::EventType::kDelete) {
      // The deleted object's last state, as Kubernetes sends it.
      cur_match = filter_.Matches((*cur)->object);
      if (!cur_match) return std::nullopt;
      return std::pair{"DELETED", *cur};
    }
    if (cur_match) return std::pair{prev_match ? "MODIFIED" : "ADDED", *cur};
    if (prev_match) return std::pair{"DELETED", *cur};  // stopped matching the selectors
    return std::nullopt;
  }

  // The object as this watch shows it: whole, a Table, or its metadata.
  json View(const json& obj) const {
    switch (representation_) {
      case Representation::kTable:
        return TableFor(info_, {obj}, MetaString(obj, "resourceVersion"), false, "");
      case Representation::kMetadata:
        return PartialObjectMetadata(Metadata(obj));
      case Representation::kObject:
        break;
    }
    return obj;
  }

  std::string BookmarkLine() override {
    if (!bookmarks_ || last_revision_ <= last_sent_revision_) return "";
    last_sent_revision_ = last_revision_;
    return json{{"type", "BOOKMARK"},
                {"object", Bookmark({{"resourceVersion", std::to_string(last_revision_)}})}}
               .dump() +
           "\n";
  }

  // A BOOKMARK event's object: the watched kind with only metadata, or a
  // PartialObjectMetadata for a metadata-only watch (every object of such a
  // watch is one).
  json Bookmark(json metadata) const {
    if (representation_ == Representation::kMetadata) return PartialObjectMetadata(metadata);
    return {{"kind", info_.kind}, {"apiVersion", info_.ApiVersion()}, {"metadata", metadata}};
  }

  WatchLine Line(const char* type, const DecodedPtr& decoded) {
    last_sent_revision_ = std::max(last_sent_revision_, last_revision_);
    if (representation_ != Representation::kObject) {
      return std::make_shared<const std::string>(
          json{{"type", type}, {"object", View(decoded->object)}}.dump() + "\n");
    }
    return decoded->WatchLine(type);
  }

 private:
  const api::ResourceInfo& info_;
  Filter filter_;
  Representation representation_;
  bool bookmarks_;
  std::vector<std::string> initial_;
  int64_t last_revision_ = 0;
  int64_t last_sent_revision_ = 0;
  ObjectCache* cache_;
  std::unique_ptr<store::WatchHandle> handle_;
};

}  // namespace

StatusOr<std::unique_ptr<WatchStream>> Handler::Impl::OpenWatch(const ApiRequest& req,
                                                                WatchEventSink sink,
                                                                std::string* content_type) {
  RequestInfo ri = ParseRequestInfo(req.method, req.path, req.query);
  const api::ResourceInfo* info = api::FindResource(ri.group, ri.version, ri.resource);
  if (!ri.is_resource_request || info == nullptr) {
    return NotFound("the server could not find the requested resource");
  }
  if (!info->namespaced && !ri.namespace_.empty()) {
    return NotFound("the server could not find the requested resource");
  }
  ASSIGN_OR_RETURN(Filter filter, ParseFilter(req.query, *info));
  if (!ri.name.empty()) {
    // A watch on one object's URL is a watch on its collection for that name.
    ASSIGN_OR_RETURN(auto by_name,
                     api::FieldSelector::Parse("metadata.name=" + ri.name, info->kind));
    filter.names = std::move(by_name);
  }
  Representation representation = NegotiateRepresentation(req.accept, /*list=*/false);
  *content_type = ContentTypeOf(representation, /*list=*/false);
  auto stream = std::make_unique<WatchStreamImpl>(
      *info, filter, representation, QueryFlag(req.query, "allowWatchBookmarks"), &cache_);
  std::string rv = QueryValue(req.query, "resourceVersion");
  bool initial_events = QueryFlag(req.query, "sendInitialEvents");
  std::string prefix = ListPrefix(*info, ri.namespace_);
  int64_t after = 0;
  if (rv.empty() || rv == "0" || initial_events) {
    // "Start at most recent" (or any): the current state as ADDED events, then
    // changes after the revision that state was read at.
    ASSIGN_OR_RETURN(auto range, store_->Range({prefix, "", 0}));
    for (const auto& kv : range.kvs) {
      auto obj = Decode(kv);
      if (obj.ok() && filter.Matches((*obj)->object)) {
        stream->AddInitial(*stream->Line("ADDED", *obj));
      }
    }
    after = range.revision;
    stream->SetRevision(after);
    if (initial_events) {
      json obj = stream->Bookmark({{"resourceVersion", std::to_string(after)},
                                   {"annotations", {{"k8s.io/initial-events-end", "true"}}}});
      stream->AddInitial(json{{"type", "BOOKMARK"}, {"object", obj}}.dump() + "\n");
    }
  } else {
    ASSIGN_OR_RETURN(after, ParseInt(rv, "resourceVersion"));
    stream->SetRevision(after);
  }
  auto handle = store_->Watch(prefix, after, std::move(sink));
  if (!handle.ok()) {
    if (handle.status().code() == Code::kGone) {
      return Gone("too old resource version: " + rv + " (" + std::to_string(store_->Revision()) +
                  ")");
    }
    return handle.status();
  }
  stream->SetHandle(std::move(handle).value());
  return std::unique_ptr<WatchStream>(std::move(stream));
}

// ---------------------------------------------------------------------------
// Requests.

Status Handler::Impl::Bootstrap() {
  // Only what is missing is created: objects a user changed stay as they are.
  auto create_if_missing = [&](const api::ResourceInfo& info, json obj) -> Status {
    std::string key = ObjectKey(info, "", MetaString(obj, "name"));
    if (store_->Get(key).ok()) return Status::Ok();
    obj["metadata"]["uid"] = NewUid();
    obj["metadata"]["creationTimestamp"] = NowRfc3339();
    api::ApplyCreateDefaults(obj);
    auto r = store::CreateSync(*store_, key, EncodeForStore(std::move(obj)));
    if (!r.ok() && r.status().code() != Code::kAlreadyExists) return r.status();
    return Status::Ok();
  };
  const api::ResourceInfo* ns_info = api::FindResource("", "v1", "namespaces");
  for (const char* name : kSystemNamespaces) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    RETURN_IF_ERROR(create_if_missing(*ns_info, std::move(ns)));
  }
  RETURN_IF_ERROR(namespaces_.Start(store_, ListPrefix(*ns_info, "")));
  // Kubernetes' API server creates the built-in priority classes at start-up.
  const api::ResourceInfo* pc_info =
      api::FindResource("scheduling.k8s.io", "v1", "priorityclasses");
  for (json pc : api::SystemPriorityClasses()) {
    pc["metadata"]["generation"] = 1;
    RETURN_IF_ERROR(create_if_missing(*pc_info, std::move(pc)));
  }
  return BootstrapServices();
}

Status Handler::Impl::BootstrapServices() {
  if (!service_cidr_.ok()) return service_cidr_.status();
  const api::ResourceInfo* svc_info = api::FindResource("", "v1", "services");
  ASSIGN_OR_RETURN(auto range, store_->Range({ListPrefix(*svc_info, ""), "", 0}));
  std::vector<json> services;
  std::vector<store::KeyValue> kvs;
  for (const auto& kv : range.kvs) {
    auto obj = DecodeFromStore(kv);
    if (!obj.ok()) continue;
    services.push_back(std::move(*obj));
    kvs.push_back(kv);
  }
  // The store is the truth: what the stored Services hold is taken.
  for (const auto& warning : service_ips_.Rebuild(services)) spdlog::warn("services: {}", warning);
  // Services stored before Kennel allocated addresses get theirs now.
  for (size_t i = 0; i < services.size(); ++i) {
    json next = services[i];
    auto allocation = service_ips_.AllocateUpdate(next, services[i]);
    if (!allocation.ok()) {
      spdlog::warn("services: {}: {}", kvs[i].key, allocation.status().ToString());
      continue;
    }
    if (next == services[i]) continue;
    auto written =
        store::UpdateSync(*store_, kvs[i].key, EncodeForStore(next), kvs[i].mod_revision);
    if (!written.ok()) return written.status();
    allocation->Commit();
  }
  if (options_.server_address.empty()) return Status::Ok();
  // The kubernetes Service and its Endpoints point at this server, as
  // kube-apiserver keeps them (its port may differ at every start).
  size_t colon = options_.server_address.rfind(':');
  std::string host = options_.server_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(options_.server_address.c_str() + colon + 1);
  json want = KubernetesService(*service_cidr_, port);
  std::string key = ObjectKey(*svc_info, "default", "kubernetes");
  auto stored = store_->Get(key);
  if (!stored.ok()) {
    json obj = want;
    obj["metadata"]["uid"] = NewUid();
    obj["metadata"]["creationTimestamp"] = NowRfc3339();
    api::ApplyCreateDefaults(obj);
    auto allocation = service_ips_.AllocateCreate(obj);
    if (allocation.ok()) {
      auto created = store::CreateSync(*store_, key, EncodeForStore(obj));
      if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
        return created.status();
      }
      allocation->Commit();
    } else {
      spdlog::warn("services: cannot create the kubernetes Service: {}",
                   allocation.status().ToString());
    }
  } else if (auto obj = DecodeFromStore(*stored);
             obj.ok() && (*obj)["spec"]["ports"] != want["spec"]["ports"]) {
    (*obj)["spec"]["ports"] = want["spec"]["ports"];
    RETURN_IF_ERROR(
        store::UpdateSync(*store_, key, EncodeForStore(*obj), stored->mod_revision).status());
  }
  const api::ResourceInfo* ep_info = api::FindResource("", "v1", "endpoints");
  json want_ep = KubernetesEndpoints(host, port);
  std::string ep_key = ObjectKey(*ep_info, "default", "kubernetes");
  auto stored_ep = store_->Get(ep_key);
  if (!stored_ep.ok()) {
    json obj = want_ep;
    obj["metadata"]["uid"] = NewUid();
    obj["metadata"]["creationTimestamp"] = NowRfc3339();
    auto created = store::CreateSync(*store_, ep_key, EncodeForStore(obj));
    if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  } else if (auto obj = DecodeFromStore(*stored_ep);
             obj.ok() && obj->value("subsets", json()) != want_ep["subsets"]) {
    (*obj)["subsets"] = want_ep["subsets"];
    RETURN_IF_ERROR(
        store::UpdateSync(*store_, ep_key, EncodeForStore(*obj), stored_ep->mod_revision).status());
  }
  return Status::Ok();
}

asio::awaitable<ApiResponse> Handler::Impl::Handle(ApiRequest req) {
  if (req.body.size() > options_.max_body_bytes) {
    co_return Error(
        Status(Code::kRequestEntityTooLarge,
               "Request entity too large: limit is " + std::to_string(options_.max_body_bytes)));
  }
  RequestInfo ri = ParseRequestInfo(req.method, req.path, req.query);
  if (!ri.is_resource_request) co_return NonResource(req);
  const api::ResourceInfo* info = api::FindResource(ri.group, ri.version, ri.resource);
  if (info == nullptr) {
    co_return Error(NotFound("the server could not find the requested resource"));
  }
  co_return co_await Resource(req, ri, *info);
}

ApiResponse Handler::Impl::NonResource(const ApiRequest& req) {
  const std::string& p = req.path;
  bool aggregated = req.accept.find("as=APIGroupDiscoveryList") != std::string::npos;
  if (req.method != "GET") {
    return Error(Status(Code::kMethodNotAllowed, "the server does not allow this method"));
  }
  if (p == "/version" || p == "/version/") return JsonResponse(200, VersionInfo());
  if (p == "/api" || p == "/api/" || p == "/apis" || p == "/apis/") {
    bool core = p.rfind("/api", 0) == 0 && p.rfind("/apis", 0) != 0;
    if (aggregated) {
      ApiResponse r = JsonResponse(200, AggregatedDiscovery(core));
      r.content_type = kAggregatedDiscoveryContentType;
      return r;
    }
    return JsonResponse(200,
                        core ? LegacyCoreVersions(options_.server_address) : LegacyGroupList());
  }
  if (p == "/api/v1") return JsonResponse(200, *ResourceList("", "v1"));
  if (p.rfind("/apis/", 0) == 0) {
    std::string rest = p.substr(6);
    size_t slash = rest.find('/');
    std::string group = rest.substr(0, slash);
    if (slash == std::string::npos || slash + 1 == rest.size()) {
      if (auto g = GroupInfo(group)) return JsonResponse(200, *g);
    } else if (auto list = ResourceList(group, rest.substr(slash + 1))) {
      return JsonResponse(200, *list);
    }
  }
  if (p == "/openapi/v3" || p == "/openapi/v3/") return JsonResponse(200, api::OpenApiIndex());
  if (p.rfind("/openapi/v3/", 0) == 0) {
    auto doc = api::OpenApiDocument(p.substr(12));
    if (doc.ok()) return JsonResponse(200, *doc);
  }
  return Error(NotFound("the server could not find the requested resource"));
}

asio::awaitable<ApiResponse> Handler::Impl::Resource(const ApiRequest& req, const RequestInfo& ri,
                                                     const api::ResourceInfo& info) {
  if ((info.namespaced && ri.namespace_.empty() && !ri.name.empty()) ||
      (!info.namespaced && !ri.namespace_.empty())) {
    co_return Error(NotFound("the server could not find the requested resource"));
  }
  if (ri.subresource == "binding" && info.kind == "Pod" && info.group.empty()) {
    if (ri.verb != "create") {
      co_return Error(Status(Code::kMethodNotAllowed,
                             "the server does not allow this method on the requested resource"));
    }
    co_return co_await Bind(req, ri, info);
  }
  if (!ri.subresource.empty()) {
    bool known = (ri.subresource == "status" && info.status_subresource) ||
                 (ri.subresource == "scale" && info.scale_subresource);
    if (!known) co_return Error(NotFound("the server could not find the requested resource"));
    if (ri.verb != "get" && ri.verb != "update" && ri.verb != "patch") {
      co_return Error(Status(Code::kMethodNotAllowed,
                             "the server does not allow this method on "
                             "the requested resource"));
    }
  }
  if (ri.verb == "get") co_return Get(req, ri, info);
  if (ri.verb == "list") co_return List(req, ri, info);
  if (ri.verb == "watch") {
    co_return Error(BadRequest("watch requests are served by the streaming path"));
  }
  if (ri.verb == "create") {
    if (!ri.name.empty()) {
      co_return Error(Status(Code::kMethodNotAllowed,
                             "the server does not allow this method on "
                             "the requested resource"));
    }
    co_return co_await Create(req, ri, info);
  }
  if (ri.verb == "update") co_return co_await Update(req, ri, info);
  if (ri.verb == "patch") co_return co_await Patch(req, ri, info);
  if (ri.verb == "delete") co_return co_await Delete(req, ri, info);
  if (ri.verb == "deletecollection") co_return co_await DeleteCollection(req, ri, info);
  co_return Error(Status(Code::kMethodNotAllowed, "the server does not allow this method"));
}

StatusOr<DecodedPtr> Handler::Impl::ReadDecoded(const api::ResourceInfo& info,
                                                const std::string& ns, const std::string& name,
                                                store::KeyValue* kv_out) {
  auto kv = store_->Get(ObjectKey(info, ns, name));
  if (!kv.ok()) {
    if (kv.status().code() == Code::kNotFound) return NotFoundError(info.GroupResource(), name);
    return kv.status();
  }
  if (kv_out) *kv_out = *kv;
  return Decode(*kv);
}

StatusOr<json> Handler::Impl::ReadObject(const api::ResourceInfo& info, const std::string& ns,
                                         const std::string& name, store::KeyValue* kv_out) {
  ASSIGN_OR_RETURN(DecodedPtr decoded, ReadDecoded(info, ns, name, kv_out));
  return decoded->object;
}

ApiResponse Handler::Impl::ObjectResponse(int code, const ApiRequest& req,
                                          const api::ResourceInfo& info,
                                          const DecodedPtr& decoded) {
  if (NegotiateRepresentation(req.accept, /*list=*/false) != Representation::kObject) {
    return ObjectResponse(code, req, info, decoded->object);
  }
  ApiResponse r;
  r.code = code;
  r.body = decoded->text;
  return r;
}

ApiResponse Handler::Impl::ObjectResponse(int code, const ApiRequest& req,
                                          const api::ResourceInfo& info, const json& obj) {
  // Only the object itself has other views: a Status (a delete's answer) is
  // sent as it is.
  Representation representation = obj.value("kind", "") == info.kind
                                      ? NegotiateRepresentation(req.accept, /*list=*/false)
                                      : Representation::kObject;
  ApiResponse r;
  switch (representation) {
    case Representation::kTable:
      r = JsonResponse(code, TableFor(info, {obj}, MetaString(obj, "resourceVersion"),
                                      QueryValue(req.query, "includeObject") == "Object", ""));
      break;
    case Representation::kMetadata:
      r = JsonResponse(code, PartialObjectMetadata(Metadata(obj)));
      break;
    case Representation::kObject:
      return JsonResponse(code, obj);
  }
  r.content_type = ContentTypeOf(representation, /*list=*/false);
  return r;
}

// resourceVersion on a read: "" is the latest, "0" any; N means "not older
// than N", and only the latest state is kept, so a future N cannot be served
// (Kubernetes answers 504 "Too large resource version") and an Exact read of
// an older N has been compacted (410).
// The store's revision is asked only when the request names one: on etcd it
// is a round trip of its own.
Status CheckReadResourceVersion(const Query& query, store::Store& store) {
  std::string rv = QueryValue(query, "resourceVersion");
  if (rv.empty() || rv == "0") return Status::Ok();
  ASSIGN_OR_RETURN(int64_t wanted, ParseInt(rv, "resourceVersion"));
  const int64_t current = store.Revision();
  if (wanted < 0) return BadRequest("invalid resourceVersion: " + rv);
  if (wanted > current) {
    return Status(Code::kTimeout,
                  "Too large resource version: " + rv + ", current: " + std::to_string(current));
  }
  if (QueryValue(query, "resourceVersionMatch") == "Exact" && wanted != current) {
    return Gone("too old resource version: " + rv + " (" + std::to_string(current) + ")");
  }
  return Status::Ok();
}

ApiResponse Handler::Impl::Get(const ApiRequest& req, const RequestInfo& ri,
                               const api::ResourceInfo& info) {
  Status rv_ok = CheckReadResourceVersion(req.query, *store_);
  if (!rv_ok.ok() && rv_ok.code() == Code::kTimeout) return Error(rv_ok);
  auto obj = ReadDecoded(info, ri.namespace_, ri.name, nullptr);
  if (!obj.ok()) return Error(obj.status(), Subject(info, ri.name));
  if (ri.subresource == "scale") return JsonResponse(200, ToScale((*obj)->object));
  return ObjectResponse(200, req, info, *obj);
}

ApiResponse Handler::Impl::List(const ApiRequest& req, const RequestInfo& ri,
                                const api::ResourceInfo& info) {
  auto filter = ParseFilter(req.query, info);
  if (!filter.ok()) return Error(filter.status());
  if (QueryValue(req.query, "continue").empty()) {
    Status rv_ok = CheckReadResourceVersion(req.query, *store_);
    if (!rv_ok.ok()) return Error(rv_ok);
  }
  auto limit = ParseInt(QueryValue(req.query, "limit"), "limit");
  if (!limit.ok()) return Error(limit.status());
  std::string prefix = ListPrefix(info, ri.namespace_);
  std::string start = prefix;
  int64_t revision = 0;
  std::string cont = QueryValue(req.query, "continue");
  if (!cont.empty()) {
    auto token = DecodeContinue(cont);
    if (!token.ok() || token->start_key.rfind(prefix, 0) != 0) {
      return Error(BadRequest("continue key is not valid for this list"));
    }
    start = token->start_key;
    revision = token->revision;
  }
  std::vector<DecodedPtr> items;
  bool more = false;
  std::string next_start;
  // Pages through the store until the page is full of matching objects: with
  // a selector, a store page of N keys may hold fewer than N matches.
  while (true) {
    int64_t want = *limit > 0 ? *limit - static_cast<int64_t>(items.size()) : 0;
    auto range = store_->Range({prefix, start, want > 0 ? std::max<int64_t>(want, 64) : 0});
    if (!range.ok()) return Error(range.status());
    if (revision == 0) revision = range->revision;
    bool stopped_early = false;
    for (const auto& kv : range->kvs) {
      if (*limit > 0 && static_cast<int64_t>(items.size()) >= *limit) {
        stopped_early = true;
        next_start = kv.key;
        break;
      }
      auto obj = Decode(kv);
      if (!obj.ok()) continue;
      if (filter->Matches((*obj)->object)) items.push_back(std::move(*obj));
    }
    if (stopped_early) {
      more = true;
      break;
    }
    if (!range->more) break;
    start = range->kvs.back().key + std::string(1, '\0');
    if (*limit > 0 && static_cast<int64_t>(items.size()) >= *limit) {
      more = true;
      next_start = start;
      break;
    }
  }
  std::string token = more ? EncodeContinue({revision, next_start}) : "";
  std::string rv = std::to_string(revision);
  Representation representation = NegotiateRepresentation(req.accept, /*list=*/true);
  if (representation == Representation::kTable) {
    std::vector<json> objects;
    objects.reserve(items.size());
    for (const auto& item : items) objects.push_back(item->object);
    ApiResponse r = JsonResponse(
        200,
        TableFor(info, objects, rv, QueryValue(req.query, "includeObject") == "Object", token));
    r.content_type = kTableContentType;
    return r;
  }
  json meta = {{"resourceVersion", rv}};
  if (!token.empty()) meta["continue"] = token;
  if (representation == Representation::kMetadata) {
    json list_items = json::array();
    for (const auto& item : items) {
      list_items.push_back(PartialObjectMetadata(Metadata(item->object)));
    }
    ApiResponse r = JsonResponse(200, {{"kind", "PartialObjectMetadataList"},
                                       {"apiVersion", "meta.k8s.io/v1"},
                                       {"metadata", meta},
                                       {"items", std::move(list_items)}});
    r.content_type = kMetadataListContentType;
    return r;
  }
  // The list is spliced from each object's cached text rather than built as
  // one JSON tree and serialized again.
  ApiResponse r;
  r.body = "{\"kind\":" + json(info.ListKind()).dump() +
           ",\"apiVersion\":" + json(info.ApiVersion()).dump() + ",\"metadata\":" + meta.dump() +
           ",\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) r.body += ',';
    r.body += items[i]->text;
  }
  r.body += "]}";
  return r;
}

Status Handler::Impl::CheckNamespaceWritable(const std::string& ns) {
  std::optional<bool> terminating = namespaces_.Terminating(ns);
  if (!terminating) {
    // Not in the view (yet): the store says, as Kubernetes' lister falls
    // back to a live read.
    const api::ResourceInfo* ns_info = api::FindResource("", "v1", "namespaces");
    auto obj = ReadDecoded(*ns_info, "", ns, nullptr);
    if (!obj.ok()) return obj.status();
    terminating = !MetaString((*obj)->object, "deletionTimestamp").empty();
  }
  if (*terminating) {
    return Status(Code::kForbidden, "unable to create new content in namespace " + ns +
                                        " because it is being terminated");
  }
  return Status::Ok();
}

StatusOr<std::vector<json>> Handler::Impl::StoredObjects(const char* group, const char* resource) {
  const api::ResourceInfo* info = api::FindResource(group, "v1", resource);
  ASSIGN_OR_RETURN(auto range, store_->Range({ListPrefix(*info, ""), "", 0}));
  std::vector<json> out;
  out.reserve(range.kvs.size());
  for (const auto& kv : range.kvs) {
    auto decoded = Decode(kv);
    if (decoded.ok()) out.push_back((*decoded)->object);
  }
  return out;
}

Status Handler::Impl::MutatingAdmission(const api::ResourceInfo& info, json& obj,
                                        const std::string& requested_name) {
  if (info.group.empty() && info.kind == "PersistentVolumeClaim") {
    ASSIGN_OR_RETURN(std::vector<json> classes, StoredObjects("storage.k8s.io", "storageclasses"));
    api::AdmitClaimStorageClass(obj, classes);
    return Status::Ok();
  }
  if (!IsPod(info)) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<json> classes,
                   StoredObjects("scheduling.k8s.io", "priorityclasses"));
  return api::AdmitPodPriority(obj, classes, requested_name);
}

Status Handler::Impl::ValidatingAdmission(const api::ResourceInfo& info, const json& obj,
                                          api::PriorityClassOp op) {
  if (!IsPriorityClass(info)) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<json> classes,
                   StoredObjects("scheduling.k8s.io", "priorityclasses"));
  return api::AdmitPriorityClass(obj, classes, op);
}

asio::awaitable<StatusOr<DecodedPtr>> Handler::Impl::CreateObject(const api::ResourceInfo& info,
                                                                  std::string ns, json obj,
                                                                  bool dry_run) {
  if (obj.contains("kind") && obj["kind"] != info.kind) {
    co_return BadRequest("the kind of the object (" + obj["kind"].dump() +
                         ") does not match the resource " + info.GroupResource());
  }
  if (obj.contains("apiVersion") && obj["apiVersion"] != info.ApiVersion()) {
    co_return BadRequest("the API version in the data (" + obj["apiVersion"].dump() +
                         ") does not match the expected API version (" + info.ApiVersion() + ")");
  }
  obj["kind"] = info.kind;
  obj["apiVersion"] = info.ApiVersion();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  json& meta = obj["metadata"];
  if (info.namespaced) {
    std::string body_ns = MetaString(obj, "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      co_return BadRequest(
          "the namespace of the provided object does not match the namespace "
          "sent on the request");
    }
    meta["namespace"] = ns;
    Status st = CheckNamespaceWritable(ns);
    if (!st.ok()) co_return st;
  } else {
    meta.erase("namespace");
  }
  // Server-owned metadata: whatever the client sent is replaced.
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = NowRfc3339();
  // PriorityClass has no spec, but its create strategy sets generation too.
  if (obj.contains("spec") || IsPriorityClass(info)) meta["generation"] = 1;
  if (info.status_subresource && info.kind != "Pod" && info.kind != "Node" &&
      info.kind != "Namespace") {
    obj.erase("status");  // status is the controllers' to write, through /status
  }
  bool generated = false;
  std::string generate_name = MetaString(obj, "generateName");
  const std::string requested_name = MetaString(obj, "name");
  if (requested_name.empty() && !generate_name.empty()) {
    meta["name"] = generate_name + RandomSuffix();
    generated = true;
  }
  api::ApplyCreateDefaults(obj);
  // Kubernetes' order: mutating admission, validation, validating admission.
  Status mutated = MutatingAdmission(info, obj, requested_name);
  if (!mutated.ok()) co_return mutated;
  Status valid = api::ValidateObject(obj, nullptr);
  if (!valid.ok()) co_return valid;
  Status admitted = ValidatingAdmission(info, obj, api::PriorityClassOp::kCreate);
  if (!admitted.ok()) co_return admitted;
  // A Service's cluster IP and node ports, reserved until the write ends:
  // kept if it succeeds, given back otherwise (and after a dry run).
  ServiceAllocation allocation;
  if (IsService(info)) {
    auto allocated = service_ips_.AllocateCreate(obj);
    if (!allocated.ok()) co_return allocated.status();
    allocation = std::move(*allocated);
  }
  if (dry_run) co_return Unstored(std::move(obj));
  for (int attempt = 0;; ++attempt) {
    std::string name = MetaString(obj, "name");
    std::string key = ObjectKey(info, ns, name);
    StoredText text(obj);
    std::string value = text.Stored();
    auto start_write = [&](store::WriteCallback done) {
      store_->Create(key, value, std::move(done));
    };
    DecodedPtr created;
    auto remember = [&](const KvResult& r) {
      if (!r.ok()) return;
      created = cache_.Insert(key, r->mod_revision, std::move(obj),
                              text.WithResourceVersion(r->mod_revision));
    };
    auto kv = co_await AwaitWrite(start_write, remember);
    if (kv.ok()) {
      allocation.Commit();
      co_return created;
    }
    if (kv.status().code() == Code::kAlreadyExists) {
      if (generated && attempt < 8) {
        obj["metadata"]["name"] = generate_name + RandomSuffix();
        continue;
      }
      co_return AlreadyExistsError(info.GroupResource(), name);
    }
    co_return kv.status();
  }
}

asio::awaitable<ApiResponse> Handler::Impl::Create(const ApiRequest& req, const RequestInfo& ri,
                                                   const api::ResourceInfo& info) {
  auto body = DecodeBody(req);
  if (!body.ok()) co_return Error(body.status());
  bool dry_run = QueryValue(req.query, "dryRun") == "All";
  std::string name = MetaString(*body, "name");
  std::vector<std::string> warnings;
  Status fields_ok = EnforceFieldValidation(req.query, info, *body, &warnings);
  if (!fields_ok.ok()) co_return Error(fields_ok, Subject(info, name));
  auto created = co_await CreateObject(info, ri.namespace_, std::move(*body), dry_run);
  if (!created.ok()) co_return Error(created.status(), Subject(info, name));
  ApiResponse response = ObjectResponse(201, req, info, *created);
  AddWarnings(response, warnings);
  co_return response;
}

asio::awaitable<ApiResponse> Handler::Impl::Bind(const ApiRequest& req, const RequestInfo& ri,
                                                 const api::ResourceInfo& info) {
  auto body = DecodeBody(req);
  if (!body.ok()) co_return Error(body.status());
  const json target = body->value("target", json::object());
  const std::string node = target.value("name", "");
  if (node.empty() || target.value("kind", "Node") != "Node") {
    co_return Error(Invalid("Binding \"" + ri.name + "\" is invalid: target.name: Required value",
                            {{"FieldValueRequired", "Required value", "target.name"}}));
  }
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    store::KeyValue kv;
    auto pod = ReadObject(info, ri.namespace_, ri.name, &kv);
    if (!pod.ok()) co_return Error(pod.status());
    const json spec = pod->value("spec", json::object());
    if (!spec.value("nodeName", "").empty()) {
      co_return Error(Conflict("pod " + ri.name + " is already assigned to node \"" +
                               spec.value("nodeName", "") + "\""));
    }
    if (!MetaString(*pod, "deletionTimestamp").empty()) {
      co_return Error(
          Conflict("pod " + ri.name + " is being deleted, cannot be assigned to a host"));
    }
    json next = *pod;
    next["spec"]["nodeName"] = node;
    json conditions = json::array();
    for (const json& c : next["status"].value("conditions", json::array())) {
      if (c.value("type", "") != "PodScheduled") conditions.push_back(c);
    }
    conditions.push_back({{"type", "PodScheduled"},
                          {"status", "True"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", NowRfc3339()}});
    next["status"]["conditions"] = conditions;
    auto start_write = [&](store::WriteCallback done) {
      store_->Update(kv.key, EncodeForStore(next), kv.mod_revision, std::move(done));
    };
    auto written = co_await AwaitWrite(start_write);
    if (!written.ok()) {
      if (written.status().code() == Code::kConflict) continue;
      co_return Error(written.status());
    }
    co_return JsonResponse(201, {{"kind", "Status"},
                                 {"apiVersion", "v1"},
                                 {"metadata", json::object()},
                                 {"status", "Success"},
                                 {"code", 201}});
  }
  co_return Error(ConflictError(info.GroupResource(), ri.name));
}

// Applies the server's rules for an update to `desired` given `current`: the
// server owns uid, creationTimestamp, deletion fields and generation; the main
// resource cannot change status and /status cannot change anything else.
StatusOr<json> PrepareForUpdate(const api::ResourceInfo& info, const json& current, json desired,
                                const std::string& subresource) {
  if (subresource == "status") {
    json out = current;
    out["status"] = desired.contains("status") ? desired["status"] : json::object();
    return out;
  }
  if (!desired.is_object()) return BadRequest("the object must be a JSON object");
  if (desired.contains("kind") && desired["kind"] != info.kind) {
    return BadRequest("the kind of the object does not match " + info.kind);
  }
  desired["kind"] = info.kind;
  desired["apiVersion"] = info.ApiVersion();
  if (!desired.contains("metadata") || !desired["metadata"].is_object()) {
    desired["metadata"] = json::object();
  }
  if (desired.contains("apiVersion") && desired["apiVersion"] != info.ApiVersion()) {
    return BadRequest("the API version in the data (" + desired["apiVersion"].dump() +
                      ") does not match the expected API version (" + info.ApiVersion() + ")");
  }
  json& meta = desired["metadata"];
  const json& cur_meta = Metadata(current);
  for (const char* k : {"name", "namespace", "resourceVersion", "uid", "generateName"}) {
    if (meta.contains(k) && !meta[k].is_string()) {
      return BadRequest(std::string("metadata.") + k + " must be a string");
    }
  }
  if (meta.contains("name") && meta["name"] != cur_meta["name"]) {
    return BadRequest("the name of the object (" + meta["name"].get<std::string>() +
                      ") does not match the name on the URL (" + MetaString(current, "name") + ")");
  }
  if (info.namespaced && meta.contains("namespace") && meta["namespace"] != cur_meta["namespace"]) {
    return BadRequest(
        "the namespace of the provided object does not match the namespace sent "
        "on the request");
  }
  for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation"}) {
    if (cur_meta.contains(k)) {
      meta[k] = cur_meta[k];
    } else {
      meta.erase(k);
    }
  }
  if (info.status_subresource) {
    if (current.contains("status")) {
      desired["status"] = current["status"];
    } else {
      desired.erase("status");
    }
  }
  if (IsService(info)) PrepareServiceUpdate(desired, current);
  api::ApplyDefaults(desired);
  if (IsPod(info)) api::KeepPodPriority(desired, current);
  if (SpecPart(desired) != SpecPart(current) && current.contains("spec")) {
    meta["generation"] = cur_meta.value("generation", int64_t{1}) + 1;
  }
  return desired;
}

asio::awaitable<StatusOr<DecodedPtr>> Handler::Impl::GuaranteedUpdate(
    const api::ResourceInfo& info, std::string ns, std::string name, std::string subresource,
    Mutation mutate, bool dry_run) {
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    store::KeyValue kv;
    auto current_decoded = ReadDecoded(info, ns, name, &kv);
    if (!current_decoded.ok()) co_return current_decoded.status();
    const json* current = &(*current_decoded)->object;
    auto desired = mutate(*current);
    if (!desired.ok()) co_return desired.status();
    auto prepared = PrepareForUpdate(info, *current, std::move(*desired), subresource);
    if (!prepared.ok()) co_return prepared.status();
    json next = std::move(*prepared);
    next["metadata"]["resourceVersion"] = (*current)["metadata"]["resourceVersion"];
    if (next == *current) co_return *current_decoded;  // no-op: no write, same resourceVersion
    Status valid = api::ValidateObject(next, current);
    if (!valid.ok()) co_return valid;
    Status admitted = ValidatingAdmission(info, next, api::PriorityClassOp::kUpdate);
    if (!admitted.ok()) co_return admitted;
    ServiceAllocation allocation;  // reverted unless the write succeeds
    if (IsService(info) && subresource.empty()) {
      auto allocated = service_ips_.AllocateUpdate(next, *current);
      if (!allocated.ok()) co_return allocated.status();
      allocation = std::move(*allocated);
    }
    if (dry_run) co_return Unstored(std::move(next));
    // An object being deleted whose last finalizer just went is deleted now.
    bool finalize = !MetaString(next, "deletionTimestamp").empty() && !HasFinalizers(next) &&
                    !AwaitsGracefulDeletion(next);
    std::string key = ObjectKey(info, ns, name);
    StoredText text(next);
    std::string value = text.Stored();
    int64_t expected = kv.mod_revision;
    auto start_write = [&](store::WriteCallback done) {
      if (finalize) {
        store_->Delete(key, expected, std::move(done));
      } else {
        store_->Update(key, value, expected, std::move(done));
      }
    };
    // The stored state, for releasing a Service's values once it is gone.
    std::optional<json> deleted;
    if (finalize && IsService(info)) deleted = *current;
    DecodedPtr updated;
    auto remember = [&](const KvResult& r) {
      if (!r.ok() || finalize) return;
      updated = cache_.Insert(key, r->mod_revision, std::move(next),
                              text.WithResourceVersion(r->mod_revision));
    };
    auto result = co_await AwaitWrite(start_write, remember);
    if (result.ok()) {
      if (finalize) {
        allocation.Revert();
        if (deleted) service_ips_.Release(*deleted);
        next["metadata"]["resourceVersion"] = std::to_string(result->mod_revision);
        co_return Unstored(std::move(next));
      }
      allocation.Commit();
      co_return updated;
    }
    if (result.status().code() == Code::kConflict) continue;  // raced a writer: re-read
    if (result.status().code() == Code::kNotFound) {
      co_return NotFoundError(info.GroupResource(), name);
    }
    co_return result.status();
  }
  co_return ConflictError(info.GroupResource(), name);
}

// The resourceVersion precondition carried by an update or patch body.
Status CheckResourceVersion(const api::ResourceInfo& info, const json& current,
                            const json& desired) {
  std::string want = MetaString(desired, "resourceVersion");
  if (!want.empty() && want != MetaString(current, "resourceVersion")) {
    return ConflictError(info.GroupResource(), MetaString(current, "name"));
  }
  return Status::Ok();
}

// The answer to a PUT or PATCH: the Scale view for /scale, else the object,
// with any field-validation warnings.
ApiResponse Handler::Impl::UpdateResponse(const ApiRequest& req, const RequestInfo& ri,
                                          const api::ResourceInfo& info,
                                          const StatusOr<DecodedPtr>& result,
                                          const std::vector<std::string>& warnings) {
  if (!result.ok()) return Error(result.status(), Subject(info, ri.name));
  if (ri.subresource == "scale") return JsonResponse(200, ToScale((*result)->object));
  ApiResponse response = ObjectResponse(200, req, info, *result);
  AddWarnings(response, warnings);
  return response;
}

asio::awaitable<ApiResponse> Handler::Impl::Update(const ApiRequest& req, const RequestInfo& ri,
                                                   const api::ResourceInfo& info) {
  auto body = DecodeBody(req);
  if (!body.ok()) co_return Error(body.status(), Subject(info, ri.name));
  json desired = std::move(*body);
  bool dry_run = QueryValue(req.query, "dryRun") == "All";
  std::vector<std::string> warnings;
  if (ri.subresource != "scale") {
    Status fields_ok = EnforceFieldValidation(req.query, info, desired, &warnings);
    if (!fields_ok.ok()) co_return Error(fields_ok, Subject(info, ri.name));
  }
  Mutation mutate = [&](const json& current) -> StatusOr<json> {
    if (ri.subresource == "scale") {
      RETURN_IF_ERROR(CheckResourceVersion(info, current, desired));
      json next = current;
      auto replicas = desired.value("/spec/replicas"_json_pointer, json());
      if (!replicas.is_number_integer()) {
        return Invalid(
            "Scale.autoscaling \"" + ri.name + "\" is invalid: spec.replicas: Required value",
            {{"FieldValueRequired", "Required value", "spec.replicas"}});
      }
      next["spec"]["replicas"] = replicas;
      return next;
    }
    RETURN_IF_ERROR(CheckResourceVersion(info, current, desired));
    return desired;
  };
  auto result =
      co_await GuaranteedUpdate(info, ri.namespace_, ri.name, ri.subresource, mutate, dry_run);
  co_return UpdateResponse(req, ri, info, result, warnings);
}

asio::awaitable<ApiResponse> Handler::Impl::Patch(const ApiRequest& req, const RequestInfo& ri,
                                                  const api::ResourceInfo& info) {
  std::string type = MediaType(req.content_type);
  if (type == "application/apply-patch+yaml") {
    co_return Error(UnsupportedMediaType(
        "server-side apply is not supported by Kennel yet: use client-side apply "
        "(kubectl apply without --server-side)"));
  }
  if (type != "application/json-patch+json" && type != "application/merge-patch+json" &&
      type != "application/strategic-merge-patch+json") {
    co_return Error(UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json"));
  }
  auto parsed_patch = ParseClientJson(req.body, "the patch");
  if (!parsed_patch.ok()) co_return Error(parsed_patch.status());
  json patch = std::move(*parsed_patch);
  bool dry_run = QueryValue(req.query, "dryRun") == "All";
  std::vector<std::string> warnings;
  auto apply = [&](const json& doc, const std::string& api_version,
                   const std::string& kind) -> StatusOr<json> {
    if (type == "application/json-patch+json") return api::ApplyJsonPatch(doc, patch);
    if (type == "application/merge-patch+json") return api::ApplyMergePatch(doc, patch);
    return api::ApplyStrategicMergePatch(doc, patch, api_version, kind);
  };
  Mutation mutate = [&](const json& current) -> StatusOr<json> {
    if (ri.subresource == "scale") {
      json scale = ToScale(current);
      ASSIGN_OR_RETURN(json patched, apply(scale, "autoscaling/v1", "Scale"));
      RETURN_IF_ERROR(CheckResourceVersion(info, current, patched));
      json next = current;
      // Scale's spec.replicas is a plain int32: null or absent means 0.
      json replicas = patched.value("/spec/replicas"_json_pointer, json());
      next["spec"]["replicas"] = replicas.is_null() ? json(0) : replicas;
      return next;
    }
    auto applied = apply(current, info.ApiVersion(), info.kind);
    if (!applied.ok() && applied.status().code() == Code::kInvalid &&
        applied.status().causes().empty()) {
      // kubectl rebuilds an Invalid message from its causes: give it one.
      return Invalid(applied.status().message(),
                     {{"FieldValueInvalid", applied.status().message(), ""}});
    }
    ASSIGN_OR_RETURN(json patched, std::move(applied));
    RETURN_IF_ERROR(CheckResourceVersion(info, current, patched));
    // The stored object has no unknown fields: any now present came in the patch.
    warnings.clear();
    RETURN_IF_ERROR(EnforceFieldValidation(req.query, info, patched, &warnings));
    return patched;
  };
  auto result =
      co_await GuaranteedUpdate(info, ri.namespace_, ri.name, ri.subresource, mutate, dry_run);
  co_return UpdateResponse(req, ri, info, result, warnings);
}

asio::awaitable<void> Handler::Impl::FinalizeNamespace(std::string ns) {
  // Kubernetes' namespace controller gets to a Terminating namespace after a
  // moment, and tools rely on that: `kubectl delete -f` of a manifest that
  // holds a namespace and its contents deletes the namespace first and its
  // contents next, expecting them still there. Give them the same moment.
  // Then delete until the namespace is empty: objects held by finalizers keep
  // it Terminating until their finalizers go, as in Kubernetes.
  asio::steady_timer pause(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  for (int round = 0;; ++round) {
    pause.expires_after(round == 0 ? kNamespaceFinalizeDelay : kNamespaceRetryInterval);
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto remaining = co_await DeleteNamespaceContents(ns);
    if (!remaining.ok()) {
      spdlog::warn("finalizing namespace {}: {}", ns, remaining.status().ToString());
      continue;
    }
    if (*remaining == 0) break;
  }
  const api::ResourceInfo* ns_info = api::FindResource("", "v1", "namespaces");
  std::string key = ObjectKey(*ns_info, "", ns);
  auto start_delete = [&](store::WriteCallback done) {
    store_->Delete(key, store::kAnyRevision, std::move(done));
  };
  auto r = co_await AwaitWrite(start_delete);
  if (r.ok()) namespaces_.Deleted(ns, r->mod_revision);
  if (!r.ok() && r.status().code() != Code::kNotFound) {
    spdlog::warn("deleting namespace {}: {}", ns, r.status().ToString());
  }
}

asio::awaitable<StatusOr<size_t>> Handler::Impl::DeleteNamespaceContents(std::string ns) {
  for (const auto& info : api::AllResources()) {
    if (!info.namespaced) continue;
    auto range = store_->Range({ListPrefix(info, ns), "", 0});
    if (!range.ok()) co_return range.status();
    for (const auto& kv : range->kvs) {
      auto obj = DecodeFromStore(kv);
      if (!obj.ok()) continue;
      if (!MetaString(*obj, "deletionTimestamp").empty()) continue;  // finalizers hold it
      std::string name = MetaString(*obj, "name");
      // Deleted one by one through the normal path, which re-reads on a
      // conflict (a controller may write meanwhile); Background, as
      // Kubernetes' namespace controller does: dependents are in this
      // namespace too.
      json options = {{"propagationPolicy", "Background"}};
      auto r = co_await DeleteObject(info, ns, name, options, false);
      if (!r.ok() && r.status().code() != Code::kNotFound) co_return r.status();
    }
  }
  size_t remaining = 0;
  for (const auto& info : api::AllResources()) {
    if (!info.namespaced) continue;
    auto range = store_->Range({ListPrefix(info, ns), "", 0});
    if (!range.ok()) co_return range.status();
    remaining += range->kvs.size();
  }
  co_return remaining;
}

void Handler::Impl::StartBackground(asio::any_io_executor executor) {
  const api::ResourceInfo* ns_info = api::FindResource("", "v1", "namespaces");
  auto range = store_->Range({ListPrefix(*ns_info, ""), "", 0});
  if (!range.ok()) return;
  for (const auto& kv : range->kvs) {
    auto obj = DecodeFromStore(kv);
    if (obj.ok() && !MetaString(*obj, "deletionTimestamp").empty()) {
      asio::co_spawn(executor, FinalizeNamespace(MetaString(*obj, "name")), asio::detached);
    }
  }
}

asio::awaitable<StatusOr<json>> Handler::Impl::DeleteObject(const api::ResourceInfo& info,
                                                            std::string ns, std::string name,
                                                            json options, bool dry_run) {
  std::string policy = options.value("propagationPolicy", "");
  if (policy.empty() && options.contains("orphanDependents") &&
      options["orphanDependents"] == true) {
    policy = "Orphan";
  }
  if (!policy.empty() && policy != "Orphan" && policy != "Background" && policy != "Foreground") {
    co_return Invalid(
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
        "value: \"" +
            policy + "\"",
        {{"FieldValueNotSupported", "Unsupported value: \"" + policy + "\"", "propagationPolicy"}});
  }
  if (IsPriorityClass(info) && api::IsSystemPriorityClass(name)) {
    co_return Status(Code::kForbidden,
                     info.GroupResource() + " \"" + name +
                         "\" is forbidden: this is a system priority class and cannot be deleted");
  }
  if (info.kind == "Namespace") {
    for (const char* sys : kSystemNamespaces) {
      if (name == sys && std::string(sys) != "kube-node-lease") {
        co_return Status(Code::kForbidden, "namespaces \"" + name +
                                               "\" is forbidden: this namespace may not be "
                                               "deleted");
      }
    }
  }
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    store::KeyValue kv;
    auto current = ReadObject(info, ns, name, &kv);
    if (!current.ok()) co_return current.status();
    const json pre = options.value("preconditions", json::object());
    if (pre.contains("uid") && pre["uid"].is_string() &&
        pre["uid"] != Metadata(*current).value("uid", "")) {
      co_return Conflict(
          "Precondition failed: UID in precondition: " + pre["uid"].get<std::string>() +
          ", UID in object meta: " + MetaString(*current, "uid"));
    }
    if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string() &&
        pre["resourceVersion"] != MetaString(*current, "resourceVersion")) {
      co_return Conflict(
          "Precondition failed: ResourceVersion in precondition: " +
          pre["resourceVersion"].get<std::string>() +
          ", ResourceVersion in object meta: " + MetaString(*current, "resourceVersion"));
    }
    if (dry_run) co_return *current;
    // The garbage collector's finalizers, as Kubernetes' registry sets them:
    // an explicit policy decides (Orphan → orphan, Foreground →
    // foregroundDeletion, Background → neither); without one the object keeps
    // those it has, and the default is Background for every kind served.
    const json old_finalizers = Metadata(*current).value("finalizers", json::array());
    json finalizers = old_finalizers;
    if (!policy.empty()) finalizers = WithGcFinalizers(old_finalizers, policy);
    const bool finalizers_changed = finalizers != old_finalizers;
    // A namespace first turns Terminating (its contents go in the background,
    // then the namespace itself, as in Kubernetes); a pod on a node waits for
    // its agent; finalizers hold any other object. Each is only marked now.
    const bool is_namespace = info.kind == "Namespace";
    std::optional<int64_t> grace;
    if (info.kind == "Pod" && info.group.empty()) grace = PodGracePeriod(*current, options);
    // The object as marked for deletion, when it is only marked now.
    std::optional<json> mark;
    if (grace) {
      // Marked already: only a shorter grace period (or other finalizers)
      // changes anything.
      const bool keep_deadline =
          AwaitsGracefulDeletion(*current) &&
          Metadata(*current)["deletionGracePeriodSeconds"].get<int64_t>() <= *grace;
      if (keep_deadline && !finalizers_changed) co_return *current;
      mark = *current;
      if (!keep_deadline) {
        (*mark)["metadata"]["deletionTimestamp"] =
            FormatRfc3339(std::chrono::system_clock::now() + std::chrono::seconds(*grace));
        (*mark)["metadata"]["deletionGracePeriodSeconds"] = *grace;
      }
    } else if (is_namespace || !finalizers.empty()) {
      const bool marked =
          !MetaString(*current, "deletionTimestamp").empty() && !AwaitsGracefulDeletion(*current);
      if (marked && !finalizers_changed) co_return *current;
      mark = *current;
      if (!marked) {
        (*mark)["metadata"]["deletionTimestamp"] = NowRfc3339();
        (*mark)["metadata"]["deletionGracePeriodSeconds"] = 0;
      }
      if (is_namespace) (*mark)["status"]["phase"] = "Terminating";
    }
    if (mark) {
      if (finalizers.empty()) {
        (*mark)["metadata"].erase("finalizers");
      } else {
        (*mark)["metadata"]["finalizers"] = finalizers;
      }
      json next = std::move(*mark);
      auto start_mark = [&](store::WriteCallback done) {
        store_->Update(kv.key, EncodeForStore(next), kv.mod_revision, std::move(done));
      };
      auto marked = co_await AwaitWrite(start_mark);
      if (!marked.ok()) {
        if (marked.status().code() == Code::kConflict) continue;
        co_return marked.status();
      }
      next["metadata"]["resourceVersion"] = std::to_string(marked->mod_revision);
      if (is_namespace) {
        namespaces_.Marked(name, marked->mod_revision);
        auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(executor, FinalizeNamespace(name), asio::detached);
      }
      co_return next;
    }
    auto start_write = [&](store::WriteCallback done) {
      store_->Delete(kv.key, kv.mod_revision, done);
    };
    auto r = co_await AwaitWrite(start_write);
    if (!r.ok()) {
      if (r.status().code() == Code::kConflict) continue;
      if (r.status().code() == Code::kNotFound) co_return NotFoundError(info.GroupResource(), name);
      co_return r.status();
    }
    if (IsService(info)) service_ips_.Release(*current);
    json last = *current;
    last["metadata"]["resourceVersion"] = std::to_string(r->mod_revision);
    co_return last;
  }
  co_return ConflictError(info.GroupResource(), name);
}

// DeleteOptions from the body, with the query's gracePeriodSeconds and
// propagationPolicy taking precedence as in Kubernetes.
StatusOr<json> DeleteOptions(const ApiRequest& req) {
  json options = json::object();
  if (!req.body.empty()) {
    ASSIGN_OR_RETURN(options, ParseClientJson(req.body, "the DeleteOptions body"));
    if (!options.is_object()) {
      return BadRequest("the body of the request could not be decoded as DeleteOptions");
    }
  }
  // Typed as Kubernetes' DeleteOptions, so the rest of the path can trust them.
  auto typed = [&](const char* field, bool ok) -> Status {
    if (options.contains(field) && !ok) {
      return BadRequest(std::string("DeleteOptions.") + field + " has the wrong type");
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(
      typed("propagationPolicy", options.value("propagationPolicy", json()).is_string()));
  RETURN_IF_ERROR(
      typed("orphanDependents", options.value("orphanDependents", json()).is_boolean()));
  RETURN_IF_ERROR(
      typed("gracePeriodSeconds", options.value("gracePeriodSeconds", json()).is_number_integer()));
  RETURN_IF_ERROR(typed("preconditions", options.value("preconditions", json()).is_object()));
  RETURN_IF_ERROR(typed("dryRun", options.value("dryRun", json()).is_array()));
  std::string policy = QueryValue(req.query, "propagationPolicy");
  if (!policy.empty()) options["propagationPolicy"] = policy;
  std::string grace = QueryValue(req.query, "gracePeriodSeconds");
  if (!grace.empty()) {
    ASSIGN_OR_RETURN(int64_t g, ParseInt(grace, "gracePeriodSeconds"));
    options["gracePeriodSeconds"] = g;
  }
  if (QueryValue(req.query, "dryRun") == "All") options["dryRun"] = {"All"};
  return options;
}

asio::awaitable<ApiResponse> Handler::Impl::Delete(const ApiRequest& req, const RequestInfo& ri,
                                                   const api::ResourceInfo& info) {
  auto options = DeleteOptions(req);
  if (!options.ok()) co_return Error(options.status());
  bool dry_run = options->contains("dryRun");
  auto result = co_await DeleteObject(info, ri.namespace_, ri.name, *options, dry_run);
  if (!result.ok()) co_return Error(result.status(), Subject(info, ri.name));
  co_return JsonResponse(200, *result);
}

asio::awaitable<ApiResponse> Handler::Impl::DeleteCollection(const ApiRequest& req,
                                                             const RequestInfo& ri,
                                                             const api::ResourceInfo& info) {
  auto options = DeleteOptions(req);
  if (!options.ok()) co_return Error(options.status());
  auto filter = ParseFilter(req.query, info);
  if (!filter.ok()) co_return Error(filter.status());
  auto range = store_->Range({ListPrefix(info, ri.namespace_), "", 0});
  if (!range.ok()) co_return Error(range.status());
  bool dry_run = options->contains("dryRun");
  json deleted = json::array();
  for (const auto& kv : range->kvs) {
    auto obj = DecodeFromStore(kv);
    if (!obj.ok() || !filter->Matches(*obj)) continue;
    std::string obj_ns = MetaString(*obj, "namespace");
    std::string obj_name = MetaString(*obj, "name");
    // The built-in classes stay (Kubernetes would delete them here and
    // recreate them only at its next start).
    if (IsPriorityClass(info) && api::IsSystemPriorityClass(obj_name)) continue;
    auto r = co_await DeleteObject(info, obj_ns, obj_name, *options, dry_run);
    if (!r.ok() && r.status().code() != Code::kNotFound) co_return Error(r.status());
    if (r.ok()) deleted.push_back(std::move(*r));
  }
  co_return JsonResponse(200, json{{"kind", info.ListKind()},
                                   {"apiVersion", info.ApiVersion()},
                                   {"metadata", {{"resourceVersion", ""}}},
                                   {"items", deleted}});
}

// ---------------------------------------------------------------------------

Handler::Handler(store::Store* store, HandlerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
Handler::~Handler() = default;

Status Handler::Bootstrap() { return impl_->Bootstrap(); }

void Handler::StartBackground(asio::any_io_executor executor) {
  impl_->StartBackground(std::move(executor));
}

bool Handler::IsWatch(const ApiRequest& request) {
  return request.method == "GET" && QueryFlag(request.query, "watch");
}

asio::awaitable<ApiResponse> Handler::Handle(ApiRequest request) {
  // The request path returns errors as values; an exception here is a bug,
  // and it must cost one request a 500, never the connection or the process.
  std::string failure;
  try {
    co_return co_await impl_->Handle(std::move(request));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  spdlog::error("internal error serving a request: {}", failure);
  co_return Error(Internal("internal error: " + failure));
}

StatusOr<std::unique_ptr<WatchStream>> Handler::OpenWatch(const ApiRequest& request,
                                                          WatchEventSink sink,
                                                          std::string* content_type) {
  return impl_->OpenWatch(request, std::move(sink), content_type);
}

ApiResponse ErrorResponse(const Status& status) { return Error(status); }

}  // namespace kennel::apiserver
