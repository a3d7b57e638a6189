// Client's transport-independent parts: paths, the typed helpers' requests
// (seen through a fake transport), and the mapping of answers to Status.
#include "client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apiserver/errors.h"
#include "apiserver/request_info.h"

namespace kennel::client {
namespace {

using ::testing::HasSubstr;

// Records requests and answers each with a canned response.
class FakeClient : public Client {
 public:
  StatusOr<Response> Do(const Request& request) override {
    requests.push_back(request);
    return next;
  }
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource&, const std::string&,
                                               const ListOptions&, WatchCallback,
                                               WatchClosedCallback) override {
    return Status(Code::kMethodNotAllowed, "not in this fake");
  }
  std::vector<Request> requests;
  Response next{200, "application/json", "{}"};
};

Response StatusResponse(const Status& status) {
  json body = apiserver::StatusBody(status, {"", "configmaps", "x", "ConfigMap"});
  return Response{apiserver::HttpCode(status.code()), "application/json", body.dump()};
}

TEST(ResourcePathTest, Forms) {
  EXPECT_EQ(ResourcePath(kPods, "default"), "/api/v1/namespaces/default/pods");
  EXPECT_EQ(ResourcePath(kPods, ""), "/api/v1/pods");
  EXPECT_EQ(ResourcePath(kPods, "ns", "web-0"), "/api/v1/namespaces/ns/pods/web-0");
  EXPECT_EQ(ResourcePath(kPods, "ns", "web-0", "binding"),
            "/api/v1/namespaces/ns/pods/web-0/binding");
  EXPECT_EQ(ResourcePath(kNodes, "ignored", "n1", "status"), "/api/v1/nodes/n1/status");
  EXPECT_EQ(ResourcePath(kStatefulSets, "ns", "web"),
            "/apis/apps/v1/namespaces/ns/statefulsets/web");
  EXPECT_EQ(ResourcePath(kLeases, ""), "/apis/coordination.k8s.io/v1/leases");
  // A name that is not a valid object name still addresses one resource.
  EXPECT_EQ(ResourcePath(kConfigMaps, "ns", "a/b c"), "/api/v1/namespaces/ns/configmaps/a%2Fb%20c");
}

TEST(StatusFromResponseTest, MapsCodesAndReasons) {
  struct Case {
    Status status;
    Code want;
  };
  std::vector<Case> cases = {
      {BadRequest("bad"), Code::kBadRequest},
      {Status(Code::kUnauthorized, "Unauthorized"), Code::kUnauthorized},
      {Status(Code::kForbidden, "no"), Code::kForbidden},
      {NotFound("configmaps \"x\" not found"), Code::kNotFound},
      {Status(Code::kMethodNotAllowed, "m"), Code::kMethodNotAllowed},
      {Status(Code::kNotAcceptable, "n"), Code::kNotAcceptable},
      {AlreadyExists("configmaps \"x\" already exists"), Code::kAlreadyExists},
      {Conflict("the object has been modified"), Code::kConflict},
      {Gone("too old resource version: 5 (90)"), Code::kGone},
      {Status(Code::kRequestEntityTooLarge, "big"), Code::kRequestEntityTooLarge},
      {UnsupportedMediaType("apply"), Code::kUnsupportedMediaType},
      {Status(Code::kTooManyRequests, "slow down"), Code::kTooManyRequests},
      {Internal("boom"), Code::kInternal},
      {Unavailable("closing"), Code::kUnavailable},
      {Status(Code::kTimeout, "late"), Code::kTimeout},
  };
  for (const auto& c : cases) {
    Status got = StatusFromResponse(StatusResponse(c.status));
    EXPECT_EQ(got.code(), c.want) << c.status.ToString() << " → " << got.ToString();
    EXPECT_EQ(got.message(), c.status.message());
  }
}

TEST(StatusFromResponseTest, ConflictWithoutReasonIsConflict) {
  Response r{409, "application/json", R"({"kind":"Status","code":409,"message":"m"})"};
  EXPECT_EQ(StatusFromResponse(r).code(), Code::kConflict);
  r.body = R"({"kind":"Status","code":409,"reason":"AlreadyExists","message":"m"})";
  EXPECT_EQ(StatusFromResponse(r).code(), Code::kAlreadyExists);
}

TEST(StatusFromResponseTest, InvalidKeepsCauses) {
  Status invalid =
      Invalid("ConfigMap \"Bad\" is invalid",
              {{"FieldValueInvalid", "a lowercase RFC 1123 subdomain", "metadata.name"}});
  Status got = StatusFromResponse(StatusResponse(invalid));
  EXPECT_EQ(got.code(), Code::kInvalid);
  ASSERT_EQ(got.causes().size(), 1u);
  EXPECT_EQ(got.causes()[0].field, "metadata.name");
  EXPECT_EQ(got.causes()[0].reason, "FieldValueInvalid");
  EXPECT_EQ(got.causes()[0].message, "a lowercase RFC 1123 subdomain");
}

TEST(StatusFromResponseTest, NonStatusBodyNamesCodeAndBody) {
  Status got = StatusFromResponse({502, "text/html", "<html>bad gateway</html>"});
  EXPECT_EQ(got.code(), Code::kInternal);
  EXPECT_THAT(got.message(), HasSubstr("502"));
  EXPECT_THAT(got.message(), HasSubstr("bad gateway"));
  got = StatusFromResponse({404, "", ""});
  EXPECT_EQ(got.code(), Code::kNotFound);
  EXPECT_THAT(got.message(), HasSubstr("404"));
  EXPECT_THAT(got.message(), HasSubstr("empty body"));
  // A long body is cut, not copied whole into the message.
  got = StatusFromResponse({500, "", std::string(10000, 'x')});
  EXPECT_LT(got.message().size(), 400u);
  EXPECT_TRUE(StatusFromResponse({201, "", ""}).ok());
}

TEST(ClientHelpersTest, ListEncodesQuery) {
  FakeClient c;
  c.next.body = R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"42","continue":"tok"},
                   "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})";
  ListOptions o;
  o.label_selector = "app in (web,db),!canary";
  o.field_selector = "metadata.name=a b";
  o.limit = 5;
  o.continue_token = "x/y+z=";
  auto list = c.List(kConfigMaps, "ns", o);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->resource_version, "42");
  EXPECT_EQ(list->continue_token, "tok");
  ASSERT_EQ(c.requests.size(), 1u);
  const Request& r = c.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/v1/namespaces/ns/configmaps");
  EXPECT_EQ(r.query,
            "labelSelector=app%20in%20%28web%2Cdb%29%2C%21canary&fieldSelector=metadata.name%"
            "3Da%20b&limit=5&continue=x%2Fy%2Bz%3D");
  // The server's parser gets back exactly what was asked for.
  apiserver::Query q = apiserver::ParseQuery(r.query);
  EXPECT_EQ(apiserver::QueryValue(q, "labelSelector"), o.label_selector);
  EXPECT_EQ(apiserver::QueryValue(q, "fieldSelector"), o.field_selector);
  EXPECT_EQ(apiserver::QueryValue(q, "continue"), o.continue_token);
}

TEST(ClientHelpersTest, WritesUseObjectNameAndNamespace) {
  FakeClient c;
  json cm = {{"metadata", {{"name", "cfg"}, {"namespace", "team"}}}};
  ASSERT_TRUE(c.Create(kConfigMaps, "", cm).ok());
  ASSERT_TRUE(c.Update(kConfigMaps, "", cm).ok());
  ASSERT_TRUE(c.UpdateStatus(kStatefulSets, "other", cm).ok());
  ASSERT_EQ(c.requests.size(), 3u);
  EXPECT_EQ(c.requests[0].method, "POST");
  EXPECT_EQ(c.requests[0].path, "/api/v1/namespaces/team/configmaps");
  EXPECT_EQ(json::parse(c.requests[0].body), cm);
  EXPECT_EQ(c.requests[1].method, "PUT");
  EXPECT_EQ(c.requests[1].path, "/api/v1/namespaces/team/configmaps/cfg");
  EXPECT_EQ(c.requests[2].path, "/apis/apps/v1/namespaces/other/statefulsets/cfg/status");
}

TEST(ClientHelpersTest, PatchContentTypes) {
  FakeClient c;
  ASSERT_TRUE(c.Patch(kPods, "ns", "p", PatchType::kJson, json::array()).ok());
  ASSERT_TRUE(c.Patch(kPods, "ns", "p", PatchType::kMerge, json::object()).ok());
  ASSERT_TRUE(c.Patch(kPods, "ns", "p", PatchType::kStrategicMerge, json::object(), "status").ok());
  ASSERT_EQ(c.requests.size(), 3u);
  EXPECT_EQ(c.requests[0].content_type, "application/json-patch+json");
  EXPECT_EQ(c.requests[1].content_type, "application/merge-patch+json");
  EXPECT_EQ(c.requests[2].content_type, "application/strategic-merge-patch+json");
  EXPECT_EQ(c.requests[2].path, "/api/v1/namespaces/ns/pods/p/status");
  for (const auto& r : c.requests) EXPECT_EQ(r.method, "PATCH");
}

TEST(ClientHelpersTest, DeleteSendsDeleteOptions) {
  FakeClient c;
  ASSERT_TRUE(c.Delete(kPods, "ns", "p").ok());
  DeleteOptions o;
  o.grace_period_seconds = 0;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "u-1";
  o.precondition_resource_version = "7";
  ASSERT_TRUE(c.Delete(kPods, "ns", "p", o).ok());
  ASSERT_EQ(c.requests.size(), 2u);
  EXPECT_EQ(c.requests[0].method, "DELETE");
  EXPECT_EQ(json::parse(c.requests[0].body),
            json({{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}));
  json want = {{"kind", "DeleteOptions"},
               {"apiVersion", "v1"},
               {"gracePeriodSeconds", 0},
               {"propagationPolicy", "Foreground"},
               {"preconditions", {{"uid", "u-1"}, {"resourceVersion", "7"}}}};
  EXPECT_EQ(json::parse(c.requests[1].body), want);
}

TEST(ClientHelpersTest, ErrorsAndUndecodableBodies) {
  FakeClient c;
  c.next = StatusResponse(NotFound("configmaps \"x\" not found"));
  auto got = c.Get(kConfigMaps, "ns", "x");
  EXPECT_EQ(got.status().code(), Code::kNotFound);
  EXPECT_EQ(c.Delete(kConfigMaps, "ns", "x").code(), Code::kNotFound);
  c.next = Response{200, "application/json", "not json"};
  EXPECT_EQ(c.Get(kConfigMaps, "ns", "x").status().code(), Code::kInternal);
}

}  // namespace
}  // namespace kennel::client
