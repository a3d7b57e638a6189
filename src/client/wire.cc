#include "client/wire.h"

#include <cctype>

namespace kennel::client {

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void AppendQuery(std::string& query, std::string_view key, std::string_view value) {
  if (!query.empty()) query.push_back('&');
  query += QueryEscape(key);
  query.push_back('=');
  query += QueryEscape(value);
}

namespace {

void AppendSelectors(std::string& query, const ListOptions& options) {
  if (!options.label_selector.empty()) {
    AppendQuery(query, "labelSelector", options.label_selector);
  }
  if (!options.field_selector.empty()) {
    AppendQuery(query, "fieldSelector", options.field_selector);
  }
}

}  // namespace

std::string ListQuery(const ListOptions& options) {
  std::string query;
  AppendSelectors(query, options);
  if (options.limit > 0) AppendQuery(query, "limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) AppendQuery(query, "continue", options.continue_token);
  if (!options.resource_version.empty()) {
    AppendQuery(query, "resourceVersion", options.resource_version);
  }
  return query;
}

std::string WatchQuery(const ListOptions& options) {
  std::string query = "watch=1";
  AppendSelectors(query, options);
  if (!options.resource_version.empty()) {
    AppendQuery(query, "resourceVersion", options.resource_version);
  }
  AppendQuery(query, "allowWatchBookmarks", "true");
  return query;
}

std::string AcceptFor(const ListOptions& options, bool list) {
  if (!options.metadata_only) return "application/json";
  // Whole objects last: a server without metadata views still answers, with
  // more than was asked (metadata included).
  return list ? "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
              : "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
}

StatusOr<WatchEvent> ParseWatchLine(std::string_view line) {
  json parsed = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Internal("watch stream carried a line that is not JSON: " +
                    std::string(line.substr(0, 200)));
  }
  auto type = parsed.find("type");
  auto object = parsed.find("object");
  if (type == parsed.end() || !type->is_string() || object == parsed.end()) {
    return Internal("watch stream carried a line that is not an event: " +
                    std::string(line.substr(0, 200)));
  }
  WatchEvent event;
  event.type = type->get<std::string>();
  event.object = std::move(*object);
  return event;
}

Status WatchErrorStatus(const json& object) {
  // An ERROR event is the Status the server would have answered the watch
  // request with; map it exactly like a response.
  Response response;
  response.code = 500;
  if (object.is_object()) {
    auto code = object.find("code");
    if (code != object.end() && code->is_number_integer()) response.code = code->get<int>();
  }
  response.content_type = "application/json";
  response.body = object.dump(-1, ' ', false, json::error_handler_t::replace);
  Status status = StatusFromResponse(response);
  // A Status with a 2xx code still ended the watch abnormally.
  return status.ok() ? Internal("watch ended with an ERROR event: " + response.body) : status;
}

void LineSplitter::Feed(std::string_view data,
                        const std::function<bool(std::string_view)>& on_line) {
  buffer_.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!on_line(line)) break;
  }
  buffer_.erase(0, start);
}

}  // namespace kennel::client
