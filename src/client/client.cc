#include "client/client.h"

#include <charconv>
#include <string_view>

#include "client/wire.h"

namespace kennel::client {
namespace {

constexpr size_t kBodySnippet = 200;

// Path segments carry names the server URL-decodes; escaping keeps a stray
// '/', '?' or '%' from changing which resource is addressed.
std::string PathSegment(const std::string& s) { return QueryEscape(s); }

std::string Dump(const json& j) {
  // Replacing invalid UTF-8 instead of throwing: no exception leaves the client.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool Is2xx(int code) { return code >= 200 && code < 300; }

std::string MetaString(const json& obj, const char* field) {
  if (!obj.is_object()) return "";
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

// The namespace a write goes to: the caller's, else the object's own.
std::string NamespaceFor(const Resource& r, const std::string& ns, const json& object) {
  if (!r.namespaced) return "";
  return ns.empty() ? MetaString(object, "namespace") : ns;
}

Code CodeForHttp(int http_code, const std::string& reason) {
  switch (http_code) {
    case 400:
      return Code::kBadRequest;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 406:
      return Code::kNotAcceptable;
    case 409:
      return reason == "AlreadyExists" ? Code::kAlreadyExists : Code::kConflict;
    case 410:
      return Code::kGone;
    case 413:
      return Code::kRequestEntityTooLarge;
    case 415:
      return Code::kUnsupportedMediaType;
    case 422:
      return Code::kInvalid;
    case 429:
      return Code::kTooManyRequests;
    case 500:
      return Code::kInternal;
    case 503:
      return Code::kUnavailable;
    case 504:
      return Code::kTimeout;
  }
  // Codes Kubernetes does not use for its errors: keep the class right, so a
  // caller's "retry on server error" logic still sees a server error.
  return http_code >= 400 && http_code < 500 ? Code::kBadRequest : Code::kInternal;
}

std::string StringField(const json& obj, const char* field) {
  auto it = obj.find(field);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<StatusCause> CausesOf(const json& status_body) {
  std::vector<StatusCause> causes;
  auto details = status_body.find("details");
  if (details == status_body.end() || !details->is_object()) return causes;
  auto list = details->find("causes");
  if (list == details->end() || !list->is_array()) return causes;
  for (const auto& c : *list) {
    if (!c.is_object()) continue;
    causes.push_back(
        {StringField(c, "reason"), StringField(c, "message"), StringField(c, "field")});
  }
  return causes;
}

std::string FallbackMessage(const Response& response) {
  std::string message = "the server answered HTTP " + std::to_string(response.code);
  if (response.body.empty()) return message + " with an empty body";
  std::string snippet = response.body.substr(0, kBodySnippet);
  if (response.body.size() > kBodySnippet) snippet += "...";
  return message + ": " + snippet;
}

// 2xx → the decoded body; otherwise the answer as a Status.
StatusOr<json> DecodeObject(const StatusOr<Response>& response) {
  if (!response.ok()) return response.status();
  if (!Is2xx(response->code)) return StatusFromResponse(*response);
  json parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Internal("cannot decode the server's answer as JSON: " +
                    response->body.substr(0, kBodySnippet));
  }
  return parsed;
}

Request JsonRequest(std::string method, std::string path, const json& body) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = Dump(body);
  return request;
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

json DeleteOptionsBody(const DeleteOptions& options) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.propagation_policy.empty()) {
    body["propagationPolicy"] = options.propagation_policy;
  }
  json preconditions = json::object();
  if (!options.precondition_uid.empty()) preconditions["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    preconditions["resourceVersion"] = options.precondition_resource_version;
  }
  if (!preconditions.empty()) body["preconditions"] = std::move(preconditions);
  return body;
}

}  // namespace

int64_t ResourceVersionNumber(const std::string& resource_version) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(resource_version.data(),
                                   resource_version.data() + resource_version.size(), v);
  return ec == std::errc() ? v : 0;
}

int64_t ResourceVersionNumber(const json& object) {
  return ResourceVersionNumber(MetaString(object, "resourceVersion"));
}

std::string ResourcePath(const Resource& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string path = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) path += "/namespaces/" + PathSegment(ns);
  path += "/" + r.resource;
  if (name.empty()) return path;
  path += "/" + PathSegment(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

Status StatusFromResponse(const Response& response) {
  if (Is2xx(response.code)) return Status::Ok();
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  bool is_status = body.is_object() && StringField(body, "kind") == "Status";
  std::string reason = is_status ? StringField(body, "reason") : "";
  Code code = CodeForHttp(response.code, reason);
  std::string message = is_status ? StringField(body, "message") : "";
  if (message.empty()) message = FallbackMessage(response);
  return Status(code, std::move(message), is_status ? CausesOf(body) : std::vector<StatusCause>{});
}

StatusOr<json> Client::Get(const Resource& r, const std::string& ns, const std::string& name) {
  Request request;
  request.path = ResourcePath(r, ns, name);
  return DecodeObject(Do(request));
}

StatusOr<ListResult> Client::List(const Resource& r, const std::string& ns,
                                  const ListOptions& options) {
  Request request;
  request.path = ResourcePath(r, ns);
  request.query = ListQuery(options);
  request.accept = AcceptFor(options, /*list=*/true);
  ASSIGN_OR_RETURN(json list, DecodeObject(Do(request)));
  ListResult result;
  auto items = list.find("items");
  if (items != list.end() && items->is_array()) {
    result.items.reserve(items->size());
    for (auto& item : *items) result.items.push_back(std::move(item));
  }
  result.resource_version = MetaString(list, "resourceVersion");
  result.continue_token = MetaString(list, "continue");
  return result;
}

StatusOr<json> Client::Create(const Resource& r, const std::string& ns, const json& object) {
  Request request = JsonRequest("POST", ResourcePath(r, NamespaceFor(r, ns, object)), object);
  return DecodeObject(Do(request));
}

StatusOr<json> Client::Update(const Resource& r, const std::string& ns, const json& object) {
  std::string path = ResourcePath(r, NamespaceFor(r, ns, object), MetaString(object, "name"));
  Request request = JsonRequest("PUT", std::move(path), object);
  return DecodeObject(Do(request));
}

StatusOr<json> Client::UpdateStatus(const Resource& r, const std::string& ns, const json& object) {
  std::string path =
      ResourcePath(r, NamespaceFor(r, ns, object), MetaString(object, "name"), "status");
  Request request = JsonRequest("PUT", std::move(path), object);
  return DecodeObject(Do(request));
}

StatusOr<json> Client::Patch(const Resource& r, const std::string& ns, const std::string& name,
                             PatchType type, const json& patch, const std::string& subresource) {
  Request request = JsonRequest("PATCH", ResourcePath(r, ns, name, subresource), patch);
  request.content_type = PatchContentType(type);
  return DecodeObject(Do(request));
}

Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& options) {
  Request request = JsonRequest("DELETE", ResourcePath(r, ns, name), DeleteOptionsBody(options));
  StatusOr<Response> response = Do(request);
  if (!response.ok()) return response.status();
  return StatusFromResponse(*response);
}

StatusOr<json> Client::PostSubresource(const Resource& r, const std::string& ns,
                                       const std::string& name, const std::string& subresource,
                                       const json& body) {
  Request request = JsonRequest("POST", ResourcePath(r, ns, name, subresource), body);
  return DecodeObject(Do(request));
}

}  // namespace kennel::client
