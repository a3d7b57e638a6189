#include "apiserver/request_info.h"

#include <gtest/gtest.h>

namespace kennel::apiserver {
namespace {

RequestInfo Parse(std::string_view method, std::string_view target) {
  size_t q = target.find('?');
  Query query = ParseQuery(q == std::string_view::npos ? "" : target.substr(q + 1));
  return ParseRequestInfo(method, target.substr(0, q), query);
}

TEST(RequestInfo, NamespacedItemWithSubresource) {
  RequestInfo i = Parse("PATCH", "/apis/apps/v1/namespaces/default/statefulsets/web/scale");
  EXPECT_TRUE(i.is_resource_request);
  EXPECT_EQ(i.group, "apps");
  EXPECT_EQ(i.namespace_, "default");
  EXPECT_EQ(i.resource, "statefulsets");
  EXPECT_EQ(i.name, "web");
  EXPECT_EQ(i.subresource, "scale");
  EXPECT_EQ(i.verb, "patch");
}

TEST(RequestInfo, WatchListAcrossNamespaces) {
  RequestInfo i = Parse("GET", "/api/v1/pods?watch=1&resourceVersion=5");
  EXPECT_EQ(i.group, "");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.namespace_, "");
  EXPECT_EQ(i.verb, "watch");
}

TEST(RequestInfo, NamespaceObjectAndItsStatus) {
  RequestInfo get = Parse("GET", "/api/v1/namespaces/kube-system");
  EXPECT_EQ(get.resource, "namespaces");
  EXPECT_EQ(get.name, "kube-system");
  EXPECT_EQ(get.verb, "get");
  RequestInfo status = Parse("PUT", "/api/v1/namespaces/x/status");
  EXPECT_EQ(status.resource, "namespaces");
  EXPECT_EQ(status.name, "x");
  EXPECT_EQ(status.subresource, "status");
}

TEST(RequestInfo, DeleteWithoutNameIsDeleteCollection) {
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/configmaps").verb, "deletecollection");
  EXPECT_EQ(Parse("DELETE", "/api/v1/namespaces/a/configmaps/c").verb, "delete");
}

TEST(RequestInfo, NonResourcePaths) {
  EXPECT_FALSE(Parse("GET", "/apis").is_resource_request);
  EXPECT_FALSE(Parse("GET", "/api/v1").is_resource_request);
  EXPECT_FALSE(Parse("GET", "/healthz").is_resource_request);
}

TEST(Query, DecodesRepeatedAndEscapedValues) {
  Query q = ParseQuery("labelSelector=app%3Dweb%2Ctier+in+(a)&command=ls&command=-l&x");
  EXPECT_EQ(QueryValue(q, "labelSelector"), "app=web,tier in (a)");
  EXPECT_EQ(q["command"].size(), 2u);
  EXPECT_EQ(QueryValue(q, "x", "d"), "");
  EXPECT_EQ(QueryValue(q, "missing", "d"), "d");
}

}  // namespace
}  // namespace kennel::apiserver
