#include "apiserver/objects.h"

#include <gtest/gtest.h>

namespace kennel::apiserver {
namespace {

using nlohmann::json;

json WithRv(json obj, int64_t rv) {
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  return obj;
}

json WithoutRv(json obj) {
  obj["metadata"].erase("resourceVersion");
  return obj;
}

void ExpectSameAsDump(const json& obj) {
  StoredText text(obj);
  EXPECT_EQ(text.Stored(), WithoutRv(obj).dump()) << obj;
  EXPECT_EQ(text.WithResourceVersion(42), WithRv(obj, 42).dump()) << obj;
  EXPECT_EQ(json::parse(text.WithResourceVersion(7)), WithRv(obj, 7));
}

TEST(StoredText, MatchesDumpForTypicalObjects) {
  ExpectSameAsDump({{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"data", {{"resourceVersion", "user data, not metadata"}}},
                    {"metadata",
                     {{"name", "c"},
                      {"namespace", "default"},
                      {"uid", "u-1"},
                      {"labels", {{"a", "b"}}},
                      {"creationTimestamp", "2026-11-22T00:00:00Z"}}}});
  ExpectSameAsDump({{"apiVersion", "apps/v1"},
                    {"kind", "StatefulSet"},
                    {"metadata", {{"name", "web"}, {"resourceVersion", "9"}}},
                    {"spec", {{"replicas", 3}}},
                    {"status", json::object()}});
}

TEST(StoredText, MatchesDumpAtTheEdges) {
  ExpectSameAsDump({{"metadata", json::object()}});
  ExpectSameAsDump({{"metadata", {{"uid", "only-after"}}}});
  ExpectSameAsDump({{"metadata", {{"name", "only-before"}}}});
  ExpectSameAsDump({{"metadata", {{"name", "x"}}}, {"zzz", {1, 2, "\"quoted\""}}});
  ExpectSameAsDump({{"a\"b", 1}, {"metadata", {{"name", "é\n"}}}});
}

TEST(StoredText, FallsBackWithoutAMetadataObject) {
  json obj = {{"kind", "X"}, {"metadata", "not an object"}};
  StoredText text(obj);
  EXPECT_EQ(text.Stored(), obj.dump());
  EXPECT_EQ(text.WithResourceVersion(3), obj.dump()) << "nowhere to put it, and no throw";
}

}  // namespace
}  // namespace kennel::apiserver
