#include "apiserver/request_info.h"

#include <optional>

namespace kennel::apiserver {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(UrlDecode(path.substr(i, j - i)));
    i = j + 1;
  }
  return parts;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls on_part for each sep-separated part of s, trimmed.
template <typename F>
void ForEachPart(std::string_view s, char sep, F on_part) {
  while (true) {
    size_t end = s.find(sep);
    on_part(Trim(s.substr(0, end)));
    if (end == std::string_view::npos) return;
    s.remove_prefix(end + 1);
  }
}

// One Accept alternative ("application/json;as=Table;v=v1;g=meta.k8s.io"):
// what it asks for, or nothing when this server cannot make it.
std::optional<Representation> RepresentationOf(std::string_view alternative, bool list) {
  std::string_view media;
  std::string_view as, group, version;
  bool first = true;
  ForEachPart(alternative, ';', [&](std::string_view part) {
    if (first) {
      media = part;
      first = false;
      return;
    }
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return;
    std::string_view key = Trim(part.substr(0, eq));
    std::string_view value = Trim(part.substr(eq + 1));
    if (key == "as") as = value;
    if (key == "g") group = value;
    if (key == "v") version = value;
  });
  if (media != "application/json" && media != "application/*" && media != "*/*") {
    return std::nullopt;
  }
  if (as.empty()) return Representation::kObject;
  if (group != "meta.k8s.io") return std::nullopt;
  if (as == "Table" && (version == "v1" || version == "v1beta1")) return Representation::kTable;
  if (version != "v1") return std::nullopt;
  if (as == (list ? "PartialObjectMetadataList" : "PartialObjectMetadata")) {
    return Representation::kMetadata;
  }
  return std::nullopt;
}

}  // namespace

Representation NegotiateRepresentation(std::string_view accept, bool list) {
  std::optional<Representation> chosen;
  ForEachPart(accept, ',', [&](std::string_view alternative) {
    if (!chosen) chosen = RepresentationOf(alternative, list);
  });
  return chosen.value_or(Representation::kObject);
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

Query ParseQuery(std::string_view raw) {
  Query q;
  size_t i = 0;
  while (i <= raw.size() && !raw.empty()) {
    size_t j = raw.find('&', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view pair = raw.substr(i, j - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key = UrlDecode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
      q[key].push_back(std::move(value));
    }
    if (j == raw.size()) break;
    i = j + 1;
  }
  return q;
}

std::string QueryValue(const Query& q, const std::string& key, const std::string& fallback) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return fallback;
  return it->second.front();
}

bool QueryFlag(const Query& q, const std::string& key) {
  std::string v = QueryValue(q, key);
  return v == "true" || v == "1";
}

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, const Query& query) {
  RequestInfo info;
  std::vector<std::string> parts = SplitPath(path);
  size_t at = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    info.version = parts[1];
    at = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    info.group = parts[1];
    info.version = parts[2];
    at = 3;
  } else {
    return info;
  }
  std::vector<std::string> rest(parts.begin() + at, parts.end());
  if (rest.empty()) return info;
  info.is_resource_request = true;
  // /namespaces/{ns}/{resource}… names a namespaced resource, except the
  // namespace object's own subresources (/namespaces/{ns}/status|finalize).
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.namespace_ = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.resource = rest[0];
  if (rest.size() > 1) info.name = rest[1];
  if (rest.size() > 2) info.subresource = rest[2];
  if (info.resource == "namespaces") info.namespace_ = info.name.empty() ? "" : info.name;
  // For the namespace object itself, "namespace" is its own name; callers treat
  // namespaces as cluster-scoped, so clear it.
  if (info.resource == "namespaces") info.namespace_.clear();

  if (method == "GET") {
    if (!info.name.empty()) {
      info.verb = "get";
    } else {
      info.verb = QueryFlag(query, "watch") ? "watch" : "list";
    }
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  }
  return info;
}

}  // namespace kennel::apiserver
