#include "apiserver/object_cache.h"

#include <gtest/gtest.h>

namespace kennel::apiserver {
namespace {

TEST(ObjectCache, ParsesOncePerRevisionAndSetsResourceVersion) {
  ObjectCache cache;
  auto a = cache.Decode("/k", R"({"metadata":{"name":"x"}})", 5);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->object["metadata"]["resourceVersion"], "5");
  EXPECT_EQ((*a)->text, (*a)->object.dump());
  auto again = cache.Decode("/k", "not even json", 5);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), a->get()) << "the same revision is served from the cache";
}

TEST(ObjectCache, ANewRevisionIsParsedAgain) {
  ObjectCache cache;
  ASSERT_TRUE(cache.Decode("/k", R"({"metadata":{"name":"x"},"v":1})", 5).ok());
  auto b = cache.Decode("/k", R"({"metadata":{"name":"x"},"v":2})", 6);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->object["v"], 2);
}

TEST(ObjectCache, InsertedWritesServeTheNextRead) {
  ObjectCache cache;
  cache.Insert("/k", 9, {{"metadata", {{"name", "x"}}}, {"v", 3}});
  auto hit = cache.Decode("/k", "garbage that would fail to parse", 9);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ((*hit)->object["v"], 3);
}

TEST(ObjectCache, CorruptBytesAreAnInternalError) {
  ObjectCache cache;
  EXPECT_EQ(cache.Decode("/k", "[1,2]", 1).status().code(), Code::kInternal);
  EXPECT_EQ(cache.Decode("/k", "{", 1).status().code(), Code::kInternal);
}

TEST(ObjectCache, KeepsAtMostItsCapacity) {
  ObjectCache cache(2);
  cache.Insert("/a", 1, {{"metadata", nlohmann::json::object()}});
  cache.Insert("/b", 1, {{"metadata", nlohmann::json::object()}});
  cache.Insert("/c", 1, {{"metadata", nlohmann::json::object()}});
  // "/a" was evicted: its revision must be parsed again from the bytes.
  auto a = cache.Decode("/a", R"({"metadata":{},"fresh":true})", 1);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE((*a)->object.contains("fresh"));
}

TEST(ObjectCache, AnOlderRevisionNeverReplacesANewerOne) {
  ObjectCache cache;
  cache.Insert("/k", 7, {{"metadata", nlohmann::json::object()}, {"v", 7}});
  ASSERT_TRUE(cache.Decode("/k", R"({"metadata":{},"v":6})", 6).ok());
  auto seven = cache.Decode("/k", "unused", 7);
  ASSERT_TRUE(seven.ok());
  EXPECT_EQ((*seven)->object["v"], 7);
}

TEST(ObjectCache, AWatchLineIsRenderedOnceAndShared) {
  ObjectCache cache;
  auto decoded = cache.Decode("/k", R"({"metadata":{"name":"k"}})", 3);
  ASSERT_TRUE(decoded.ok());
  auto added = (*decoded)->WatchLine("ADDED");
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(*added, R"({"type":"ADDED","object":)" + (*decoded)->text + "}\n");
  auto parsed = nlohmann::json::parse(*added);
  EXPECT_EQ(parsed["object"]["metadata"]["resourceVersion"], "3");
  // The next watcher of the same event gets the same bytes, not a copy.
  EXPECT_EQ((*decoded)->WatchLine("ADDED").get(), added.get());
  // Another type is another line.
  auto deleted = (*decoded)->WatchLine("DELETED");
  EXPECT_NE(deleted.get(), added.get());
  EXPECT_EQ(nlohmann::json::parse(*deleted)["type"], "DELETED");
  EXPECT_EQ(nlohmann::json::parse(*(*decoded)->WatchLine("MODIFIED"))["type"], "MODIFIED");
}

}  // namespace
}  // namespace kennel::apiserver
