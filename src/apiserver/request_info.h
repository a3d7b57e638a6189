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

}  // namespace kennel::apiserver
