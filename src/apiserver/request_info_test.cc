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

namespace kennel::apiserver {
namespace {

constexpr const char* kKubectlTable =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s."
    "io,application/json";

TEST(NegotiateRepresentation, PlainJsonAndNoPreference) {
  for (bool list : {false, true}) {
    EXPECT_EQ(NegotiateRepresentation("", list), Representation::kObject);
    EXPECT_EQ(NegotiateRepresentation("application/json", list), Representation::kObject);
    EXPECT_EQ(NegotiateRepresentation("*/*", list), Representation::kObject);
  }
}

TEST(NegotiateRepresentation, KubectlsTableForObjectsAndLists) {
  EXPECT_EQ(NegotiateRepresentation(kKubectlTable, false), Representation::kTable);
  EXPECT_EQ(NegotiateRepresentation(kKubectlTable, true), Representation::kTable);
  // Parameters in any order, with spaces around them.
  EXPECT_EQ(NegotiateRepresentation("application/json; g=meta.k8s.io; v=v1; as=Table", true),
            Representation::kTable);
}

TEST(NegotiateRepresentation, MetadataOnlyInTheRightArity) {
  const char* one = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
  const char* list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
  EXPECT_EQ(NegotiateRepresentation(one, false), Representation::kMetadata);
  EXPECT_EQ(NegotiateRepresentation(list, true), Representation::kMetadata);
  // A list asked as one object (or the reverse) cannot be made: plain JSON.
  EXPECT_EQ(NegotiateRepresentation(one, true), Representation::kObject);
  EXPECT_EQ(NegotiateRepresentation(list, false), Representation::kObject);
}

TEST(NegotiateRepresentation, SkipsAlternativesItCannotMake) {
  // Protobuf first, as client-go's metadata client offers it: the JSON
  // alternative after it wins.
  EXPECT_EQ(NegotiateRepresentation("application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;"
                                    "g=meta.k8s.io;v=v1,application/json;as="
                                    "PartialObjectMetadata;g=meta.k8s.io;v=v1",
                                    false),
            Representation::kMetadata);
  // An unknown view or group, then plain JSON.
  EXPECT_EQ(NegotiateRepresentation("application/json;as=Scale;g=autoscaling;v=v1,application/json",
                                    false),
            Representation::kObject);
  EXPECT_EQ(NegotiateRepresentation("application/json;as=Table;g=example.com;v=v1", true),
            Representation::kObject);
  EXPECT_EQ(NegotiateRepresentation("application/json;as=PartialObjectMetadata;g=meta.k8s.io;"
                                    "v=v1beta1,application/json;as=Table;g=meta.k8s.io;v=v1",
                                    false),
            Representation::kTable);
}

}  // namespace
}  // namespace kennel::apiserver
