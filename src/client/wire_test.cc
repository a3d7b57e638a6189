#include "client/wire.h"

#include <gtest/gtest.h>

#include "apiserver/errors.h"
#include "apiserver/request_info.h"

namespace kennel::client {
namespace {

TEST(QueryEscapeTest, KeepsUnreservedEncodesTheRest) {
  EXPECT_EQ(QueryEscape("aZ09-_.~"), "aZ09-_.~");
  EXPECT_EQ(QueryEscape("a=b,c d&e/f?g+h%"), "a%3Db%2Cc%20d%26e%2Ff%3Fg%2Bh%25");
  EXPECT_EQ(QueryEscape("\xc3\xa9"), "%C3%A9");
  std::string odd = "k in (a,b),!x,y!=z";
  EXPECT_EQ(apiserver::UrlDecode(QueryEscape(odd)), odd);
}

TEST(WatchQueryTest, CarriesSelectorsVersionAndBookmarks) {
  ListOptions o;
  o.label_selector = "app=web";
  o.resource_version = "17";
  apiserver::Query q = apiserver::ParseQuery(WatchQuery(o));
  EXPECT_TRUE(apiserver::QueryFlag(q, "watch"));
  EXPECT_TRUE(apiserver::QueryFlag(q, "allowWatchBookmarks"));
  EXPECT_EQ(apiserver::QueryValue(q, "labelSelector"), "app=web");
  EXPECT_EQ(apiserver::QueryValue(q, "resourceVersion"), "17");
  EXPECT_EQ(q.count("fieldSelector"), 0u);
  EXPECT_EQ(ListQuery({}), "");
}

TEST(ParseWatchLineTest, EventsAndGarbage) {
  auto e = ParseWatchLine(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "ADDED");
  EXPECT_EQ(e->object["metadata"]["name"], "a");
  EXPECT_FALSE(ParseWatchLine("{not json").ok());
  EXPECT_FALSE(ParseWatchLine(R"({"object":{}})").ok());
  EXPECT_FALSE(ParseWatchLine("[1,2]").ok());
}

TEST(WatchErrorStatusTest, GoneAndOthers) {
  // The ERROR event Kubernetes sends when a watch's resourceVersion is compacted.
  json gone = apiserver::StatusBody(Gone("too old resource version: 5 (120)"));
  auto e = ParseWatchLine(json{{"type", "ERROR"}, {"object", gone}}.dump());
  ASSERT_TRUE(e.ok());
  Status s = WatchErrorStatus(e->object);
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_EQ(s.message(), "too old resource version: 5 (120)");
  EXPECT_EQ(WatchErrorStatus(apiserver::StatusBody(Internal("x"))).code(), Code::kInternal);
  EXPECT_EQ(WatchErrorStatus(json::object()).code(), Code::kInternal);
  EXPECT_FALSE(WatchErrorStatus(json{{"kind", "Status"}, {"code", 200}}).ok());
}

TEST(LineSplitterTest, SplitsAcrossPieces) {
  LineSplitter s;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  s.Feed("{\"a\":", collect);
  EXPECT_TRUE(lines.empty());
  s.Feed("1}\n{\"b\"", collect);
  s.Feed(":2}\r\n\n{\"c\":3}\n{\"d", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(s.rest(), "{\"d");
}

TEST(LineSplitterTest, StopsWhenAsked) {
  LineSplitter s;
  int seen = 0;
  s.Feed("1\n2\n3\n", [&](std::string_view) { return ++seen < 2; });
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace kennel::client
