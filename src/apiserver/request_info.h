// Parsing a request path and query into what it asks for, the way
// Kubernetes' RequestInfoFactory does: group, version, namespace, resource,
// name, subresource and verb.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kennel::apiserver {

// Query parameters; a key may repeat (exec's command=…&command=…).
using Query = std::map<std::string, std::vector<std::string>>;

// "%2F" → "/", "+" → " ".
std::string UrlDecode(std::string_view s);
Query ParseQuery(std::string_view raw);
// The first value of key, or fallback.
std::string QueryValue(const Query& q, const std::string& key, const std::string& fallback = "");
bool QueryFlag(const Query& q, const std::string& key);  // "true"/"1"

struct RequestInfo {
  bool is_resource_request = false;
  std::string group;  // "" for /api
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  // get, list, watch, create, update, patch, delete, deletecollection.
  std::string verb;
};

// method: GET, POST, PUT, PATCH, DELETE.
RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, const Query& query);

// What a response carries, as the Accept header asks (Kubernetes' content
// negotiation, JSON only): the objects themselves; a meta.k8s.io Table, which
// kubectl prints; or only each object's metadata (PartialObjectMetadata),
// which client-go's metadata informers ask for, so a controller that needs no
// more (the garbage collector watches every kind) neither receives nor keeps
// whole objects.
enum class Representation { kObject, kTable, kMetadata };

inline constexpr const char* kTableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
inline constexpr const char* kMetadataContentType =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
inline constexpr const char* kMetadataListContentType =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

// The first of accept's comma-separated alternatives this server can make for
// one object or a watch (list = false: as=PartialObjectMetadata) or for a
// list (list = true: as=PartialObjectMetadataList). Alternatives it cannot
// make (protobuf, another as=, a metadata kind of the wrong arity) are
// skipped; when none is left the answer is plain JSON, as kubectl always
// offers it last anyway.
Representation NegotiateRepresentation(std::string_view accept, bool list);

}  // namespace kennel::apiserver
