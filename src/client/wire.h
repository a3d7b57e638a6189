// What both clients (in-process and HTTP) put on and take off the wire beyond
// plain requests: percent-encoded query strings, and the newline-delimited
// JSON events of a watch. One implementation, so both clients send the same
// queries and read watch streams the same way.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "client/client.h"

namespace kennel::client {

// Percent-encodes everything but RFC 3986's unreserved characters, so
// selectors ("a in (x,y)", "!b", "c=d") survive any query parser.
std::string QueryEscape(std::string_view s);

// Appends "key=value" (value escaped) to query, with '&' when not empty.
void AppendQuery(std::string& query, std::string_view key, std::string_view value);

// The query of a list: labelSelector, fieldSelector, limit, continue,
// resourceVersion, for the options that are set.
std::string ListQuery(const ListOptions& options);

// The query of a watch from options.resource_version with options'
// selectors; always asks for bookmarks, so a quiet watch still learns the
// newest resourceVersion to resume from.
std::string WatchQuery(const ListOptions& options);

// The Accept header of a list (list = true) or of a get or watch with options:
// plain JSON, or PartialObjectMetadata(List) when options.metadata_only.
std::string AcceptFor(const ListOptions& options, bool list);

// One watch line `{"type":..,"object":..}` (without or with its newline).
// Errors: kInternal when the line is not such an object.
StatusOr<WatchEvent> ParseWatchLine(std::string_view line);

// The Status an ERROR event's object (a metav1.Status) carries: code 410
// gives kGone, so watchers know to relist.
Status WatchErrorStatus(const json& object);

// Splits a byte stream, fed in arbitrary pieces, into lines.
class LineSplitter {
 public:
  // Appends data and calls on_line for each complete line (without the
  // newline), in order; stops early when on_line returns false.
  void Feed(std::string_view data, const std::function<bool(std::string_view)>& on_line);
  // The bytes after the last newline.
  const std::string& rest() const { return buffer_; }

 private:
  std::string buffer_;
};

}  // namespace kennel::client
