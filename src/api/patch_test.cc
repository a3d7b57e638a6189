#include "api/patch.h"

#include <gtest/gtest.h>

#include <string>

namespace kennel::api {
namespace {

using nlohmann::json;

json J(const char* text) { return json::parse(text); }

// ---------------------------------------------------------------------------
// RFC 6902: the examples of its appendix A, then errors.
// ---------------------------------------------------------------------------

struct JsonPatchCase {
  const char* name;
  const char* doc;
  const char* patch;
  const char* want;
};

class JsonPatchRfcExample : public ::testing::TestWithParam<JsonPatchCase> {};

TEST_P(JsonPatchRfcExample, ProducesTheRfcResult) {
  const JsonPatchCase& c = GetParam();
  StatusOr<json> got = ApplyJsonPatch(J(c.doc), J(c.patch));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, J(c.want));
}

INSTANTIATE_TEST_SUITE_P(
    Rfc6902, JsonPatchRfcExample,
    ::testing::Values(
        JsonPatchCase{"A1AddObjectMember", R"({"foo":"bar"})",
                      R"([{"op":"add","path":"/baz","value":"qux"}])",
                      R"({"baz":"qux","foo":"bar"})"},
        JsonPatchCase{"A2AddArrayElement", R"({"foo":["bar","baz"]})",
                      R"([{"op":"add","path":"/foo/1","value":"qux"}])",
                      R"({"foo":["bar","qux","baz"]})"},
        JsonPatchCase{"A3RemoveObjectMember", R"({"baz":"qux","foo":"bar"})",
                      R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
        JsonPatchCase{"A4RemoveArrayElement", R"({"foo":["bar","qux","baz"]})",
                      R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
        JsonPatchCase{"A5ReplaceValue", R"({"baz":"qux","foo":"bar"})",
                      R"([{"op":"replace","path":"/baz","value":"boo"}])",
                      R"({"baz":"boo","foo":"bar"})"},
        JsonPatchCase{"A6MoveValue",
                      R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                      R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
                      R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
        JsonPatchCase{"A7MoveArrayElement", R"({"foo":["all","grass","cows","eat"]})",
                      R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
                      R"({"foo":["all","cows","eat","grass"]})"},
        JsonPatchCase{"A8TestSucceeds", R"({"baz":"qux","foo":["a",2,"c"]})",
                      R"([{"op":"test","path":"/baz","value":"qux"},
                          {"op":"test","path":"/foo/1","value":2}])",
                      R"({"baz":"qux","foo":["a",2,"c"]})"},
        JsonPatchCase{"A10AddNestedMember", R"({"foo":"bar"})",
                      R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
                      R"({"foo":"bar","child":{"grandchild":{}}})"},
        JsonPatchCase{"A11IgnoresUnknownMembers", R"({"foo":"bar"})",
                      R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
                      R"({"foo":"bar","baz":"qux"})"},
        JsonPatchCase{"A14EscapeOrdering", R"({"/":9,"~1":10})",
                      R"([{"op":"test","path":"/~01","value":10}])", R"({"/":9,"~1":10})"},
        JsonPatchCase{"A16AddArrayValue", R"({"foo":["bar"]})",
                      R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
                      R"({"foo":["bar",["abc","def"]]})"},
        JsonPatchCase{"CopyValue", R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
                      R"({"a":{"b":1},"c":{"b":1}})"},
        JsonPatchCase{"SlashEscapeInKey", R"({"metadata":{"labels":{"app":"web"}}})",
                      R"([{"op":"add","path":"/metadata/labels/example.com~1tier","value":"db"}])",
                      R"({"metadata":{"labels":{"app":"web","example.com/tier":"db"}}})"},
        JsonPatchCase{"EmptyPathReplacesDocument", R"({"a":1})",
                      R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})"},
        JsonPatchCase{"ScaleReplicas", R"({"spec":{"replicas":1}})",
                      R"([{"op":"replace","path":"/spec/replicas","value":3}])",
                      R"({"spec":{"replicas":3}})"}),
    [](const ::testing::TestParamInfo<JsonPatchCase>& info) { return info.param.name; });

Status JsonPatchError(const char* doc, const char* patch) {
  StatusOr<json> got = ApplyJsonPatch(J(doc), J(patch));
  EXPECT_FALSE(got.ok()) << "unexpectedly produced " << got->dump();
  return got.status();
}

TEST(JsonPatch, A9FailedTestIsInvalidAndNamesOpAndPath) {
  Status s = JsonPatchError(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("test"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("/baz"), std::string::npos) << s.message();
}

TEST(JsonPatch, A12AddToMissingParentIsInvalid) {
  Status s =
      JsonPatchError(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("/baz/bat"), std::string::npos) << s.message();
}

TEST(JsonPatch, A15StringDoesNotEqualNumber) {
  EXPECT_EQ(
      JsonPatchError(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])").code(),
      Code::kInvalid);
}

TEST(JsonPatch, ReplaceOfMissingMemberIsInvalidAndNamesTheOperation) {
  Status s = JsonPatchError(R"({"spec":{}})",
                            R"([{"op":"test","path":"/spec","value":{}},
                                {"op":"replace","path":"/spec/replicas","value":3}])");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("operation 1 (replace \"/spec/replicas\")"), std::string::npos)
      << s.message();
}

TEST(JsonPatch, RemoveOfMissingOrOutOfRangeIsInvalid) {
  EXPECT_EQ(JsonPatchError(R"({"a":1})", R"([{"op":"remove","path":"/b"}])").code(),
            Code::kInvalid);
  EXPECT_EQ(JsonPatchError(R"({"a":[1]})", R"([{"op":"remove","path":"/a/1"}])").code(),
            Code::kInvalid);
  EXPECT_EQ(JsonPatchError(R"({"a":[1]})", R"([{"op":"remove","path":"/a/-"}])").code(),
            Code::kInvalid);
  EXPECT_EQ(JsonPatchError(R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/01"}])").code(),
            Code::kInvalid);
}

TEST(JsonPatch, AddPastTheEndOfAnArrayIsInvalid) {
  EXPECT_EQ(JsonPatchError(R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":3}])").code(),
            Code::kInvalid);
}

TEST(JsonPatch, MoveIntoItsOwnChildIsInvalid) {
  EXPECT_EQ(
      JsonPatchError(R"({"a":{"b":{}}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])").code(),
      Code::kInvalid);
}

TEST(JsonPatch, MalformedDocumentsAreBadRequests) {
  const char* doc = R"({"a":1})";
  for (const char* patch : {
           R"({"op":"add","path":"/b","value":1})",     // not an array
           R"([1])",                                    // operation not an object
           R"([{"path":"/a"}])",                        // no op
           R"([{"op":"frobnicate","path":"/a"}])",      // unknown op
           R"([{"op":"add","value":1}])",               // no path
           R"([{"op":"add","path":"/b"}])",             // no value
           R"([{"op":"move","path":"/b"}])",            // no from
           R"([{"op":"remove","path":"a"}])",           // pointer without leading slash
           R"([{"op":"remove","path":"/a~2"}])",        // bad escape
           R"([{"op":"replace","path":7,"value":1}])",  // path not a string
       }) {
    EXPECT_EQ(JsonPatchError(doc, patch).code(), Code::kBadRequest) << patch;
  }
}

TEST(JsonPatch, FailureLeavesNoPartialResultAndInputUntouched) {
  const json doc = J(R"({"a":1})");
  StatusOr<json> got = ApplyJsonPatch(
      doc, J(R"([{"op":"replace","path":"/a","value":2},{"op":"remove","path":"/zzz"}])"));
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(doc, J(R"({"a":1})"));
}

// ---------------------------------------------------------------------------
// RFC 7386: the examples of its appendix A.
// ---------------------------------------------------------------------------

TEST(MergePatch, Rfc7386AppendixExamples) {
  struct Case {
    const char* doc;
    const char* patch;
    const char* want;
  };
  const Case cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const Case& c : cases) {
    StatusOr<json> got = ApplyMergePatch(J(c.doc), J(c.patch));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, J(c.want)) << c.doc << " + " << c.patch;
  }
}

TEST(MergePatch, KubectlScaleAndLabelShapes) {
  json sts = J(R"({"metadata":{"name":"web","labels":{"app":"web","old":"x"}},
                   "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"a"}]}}}})");
  StatusOr<json> got = ApplyMergePatch(sts, J(R"({"metadata":{"labels":{"old":null,"tier":"db"}},
                                 "spec":{"replicas":3}})"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["metadata"]["labels"], J(R"({"app":"web","tier":"db"})"));
  EXPECT_EQ((*got)["spec"]["replicas"], 3);
  EXPECT_EQ((*got)["spec"]["template"], sts["spec"]["template"]);
}

// ---------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------

json Smp(const json& doc, const char* patch, const char* api_version = "apps/v1",
         const char* kind = "StatefulSet") {
  StatusOr<json> got = ApplyStrategicMergePatch(doc, J(patch), api_version, kind);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? *got : json();
}

Status SmpError(const json& doc, const char* patch, const char* api_version = "apps/v1",
                const char* kind = "StatefulSet") {
  StatusOr<json> got = ApplyStrategicMergePatch(doc, J(patch), api_version, kind);
  EXPECT_FALSE(got.ok()) << "unexpectedly produced " << got->dump();
  return got.status();
}

// A StatefulSet whose pod template has two containers, env, ports and volumes.
json StatefulSet() {
  return J(R"({
    "apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":"web","namespace":"default","labels":{"app":"web","tier":"front"},
                "finalizers":["a","b"]},
    "spec":{"replicas":2,"serviceName":"web",
      "selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{
          "containers":[
            {"name":"nginx","image":"nginx:1.1",
             "ports":[{"containerPort":80,"name":"http"}],
             "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
             "args":["--x","--y"],
             "volumeMounts":[{"name":"data","mountPath":"/data"}]},
            {"name":"sidecar","image":"busybox:1"}],
          "tolerations":[{"key":"k1","operator":"Exists"}],
          "volumes":[{"name":"data","emptyDir":{}},{"name":"cfg","configMap":{"name":"c"}}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]},
    "status":{"replicas":2,"conditions":[{"type":"X","status":"True"}]}})");
}

const json& PodSpecOf(const json& sts) { return sts["spec"]["template"]["spec"]; }
const json& Nginx(const json& sts) { return PodSpecOf(sts)["containers"][0]; }

// Names of a keyed list, in order, to assert merge and order at once.
std::vector<std::string> Names(const json& list, const char* key = "name") {
  std::vector<std::string> out;
  for (const json& e : list) out.push_back(e.at(key).get<std::string>());
  return out;
}

TEST(StrategicMergePatch, ContainerImageChangeByNameKeepsOtherContainers) {
  json got = Smp(
      StatefulSet(),
      R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.2"}]}}}})");
  ASSERT_EQ(Names(PodSpecOf(got)["containers"]), (std::vector<std::string>{"nginx", "sidecar"}));
  EXPECT_EQ(Nginx(got)["image"], "nginx:1.2");
  EXPECT_EQ(Nginx(got)["env"], Nginx(StatefulSet())["env"]);  // untouched fields stay
  EXPECT_EQ(PodSpecOf(got)["containers"][1], PodSpecOf(StatefulSet())["containers"][1]);
  EXPECT_EQ(got["spec"]["replicas"], 2);
}

TEST(StrategicMergePatch, ClientSideApplyPatchAsKubectlSendsIt) {
  json got = Smp(StatefulSet(), R"({
      "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"x\":1}\n"}},
      "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],
                                  "containers":[{"image":"nginx:1.2","name":"nginx"}]}}}})");
  EXPECT_EQ(got["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            "{\"x\":1}\n");
  EXPECT_EQ(got["metadata"]["labels"], StatefulSet()["metadata"]["labels"]);
  EXPECT_EQ(Nginx(got)["image"], "nginx:1.2");
  // sidecar is not in the order list: it stays, placed by its position in the live list.
  EXPECT_EQ(Names(PodSpecOf(got)["containers"]), (std::vector<std::string>{"nginx", "sidecar"}));
  EXPECT_FALSE(PodSpecOf(got).contains("$setElementOrder/containers"));
}

TEST(StrategicMergePatch, ApplyDeletesAContainerWithPatchDelete) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"nginx"}],
      "containers":[{"name":"sidecar","$patch":"delete"}]}}}})");
  EXPECT_EQ(Names(PodSpecOf(got)["containers"]), (std::vector<std::string>{"nginx"}));
  EXPECT_EQ(Nginx(got), Nginx(StatefulSet()));
}

TEST(StrategicMergePatch, EnvAddedAndRemovedByName) {
  json added = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
      "$setElementOrder/env":[{"name":"A"},{"name":"B"},{"name":"C"}],
      "env":[{"name":"C","value":"3"}]}]}}}})");
  EXPECT_EQ(Nginx(added)["env"],
            J(R"([{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}])"));

  json changed = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
      "env":[{"name":"B","value":"22"}]}]}}}})");
  EXPECT_EQ(Nginx(changed)["env"], J(R"([{"name":"A","value":"1"},{"name":"B","value":"22"}])"));

  json removed = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
      "env":[{"name":"A","$patch":"delete"}]}]}}}})");
  EXPECT_EQ(Nginx(removed)["env"], J(R"([{"name":"B","value":"2"}])"));
}

TEST(StrategicMergePatch, NewElementWithoutSetElementOrderGoesFirstAsInKubernetes) {
  // Kubernetes places a patch element with no live neighbour before the live
  // ones unless $setElementOrder says where it goes.
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
      "env":[{"name":"C","value":"3"}]}]}}}})");
  EXPECT_EQ(Names(Nginx(got)["env"]), (std::vector<std::string>{"C", "A", "B"}));
}

TEST(StrategicMergePatch, SetElementOrderReordersWithoutChangingElements) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"sidecar"},{"name":"nginx"}]}}}})");
  EXPECT_EQ(Names(PodSpecOf(got)["containers"]), (std::vector<std::string>{"sidecar", "nginx"}));
  EXPECT_EQ(PodSpecOf(got)["containers"][1], Nginx(StatefulSet()));
}

TEST(StrategicMergePatch, SetElementOrderInterleavesServerOnlyElementsByLiveOrder) {
  // The preserve-order design's env example: ENV5 and ENV4 were added on the
  // server; the user's apply deletes ENV3 and adds ENV6.
  json pod = J(R"({"spec":{"containers":[{"name":"c","env":[
      {"name":"ENV2"},{"name":"ENV5"},{"name":"ENV1"},{"name":"ENV3"},{"name":"ENV4"}]}]}})");
  json got = Smp(pod, R"({"spec":{"containers":[{"name":"c",
      "$setElementOrder/env":[{"name":"ENV1"},{"name":"ENV2"},{"name":"ENV6"}],
      "env":[{"name":"ENV3","$patch":"delete"},{"name":"ENV6","value":"new"}]}]}})",
                 "v1", "Pod");
  EXPECT_EQ(Names(got["spec"]["containers"][0]["env"]),
            (std::vector<std::string>{"ENV5", "ENV1", "ENV2", "ENV6", "ENV4"}));
}

TEST(StrategicMergePatch, RetainKeysSwitchesAVolumeFromEmptyDirToHostPath) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "$setElementOrder/volumes":[{"name":"data"},{"name":"cfg"}],
      "volumes":[{"$retainKeys":["hostPath","name"],"emptyDir":null,
                  "hostPath":{"path":"/srv"},"name":"data"}]}}}})");
  EXPECT_EQ(
      PodSpecOf(got)["volumes"],
      J(R"([{"name":"data","hostPath":{"path":"/srv"}},{"name":"cfg","configMap":{"name":"c"}}])"));
}

TEST(StrategicMergePatch, RetainKeysDropsUnlistedKeysEvenWithoutNulls) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "volumes":[{"$retainKeys":["name","secret"],"name":"cfg","secret":{"secretName":"s"}}]}}}})");
  EXPECT_EQ(PodSpecOf(got)["volumes"][1], J(R"({"name":"cfg","secret":{"secretName":"s"}})"));
}

TEST(StrategicMergePatch, RetainKeysMustCoverThePatch) {
  Status s = SmpError(StatefulSet(), R"({"spec":{"template":{"spec":{
      "volumes":[{"$retainKeys":["name"],"name":"data","hostPath":{"path":"/srv"}}]}}}})");
  EXPECT_EQ(s.code(), Code::kBadRequest);
}

TEST(StrategicMergePatch, PatchReplaceOnTemplateAsRolloutUndoSendsIt) {
  json sts = StatefulSet();
  json got = Smp(sts, R"({"spec":{"template":{"$patch":"replace",
      "metadata":{"creationTimestamp":null,"labels":{"app":"web","rev":"1"}},
      "spec":{"containers":[{"name":"nginx","image":"nginx:1.0"}]}}}})");
  EXPECT_EQ(got["spec"]["template"], J(R"({"metadata":{"labels":{"app":"web","rev":"1"}},
                  "spec":{"containers":[{"name":"nginx","image":"nginx:1.0"}]}})"));
  got["spec"].erase("template");
  sts["spec"].erase("template");
  EXPECT_EQ(got, sts);  // everything outside the template is untouched
}

TEST(StrategicMergePatch, PatchReplaceAsListElementReplacesTheList) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "containers":[{"$patch":"replace"},{"name":"only","image":"x"}]}}}})");
  EXPECT_EQ(PodSpecOf(got)["containers"], J(R"([{"name":"only","image":"x"}])"));
}

TEST(StrategicMergePatch, PatchDeleteOnAMapEmptiesIt) {
  json got = Smp(StatefulSet(), R"({"metadata":{"labels":{"$patch":"delete"}}})");
  EXPECT_EQ(got["metadata"]["labels"], json::object());
}

TEST(StrategicMergePatch, PatchMergeIsTheDefault) {
  json got = Smp(StatefulSet(), R"({"metadata":{"labels":{"$patch":"merge","x":"y"}}})");
  EXPECT_EQ(got["metadata"]["labels"], J(R"({"app":"web","tier":"front","x":"y"})"));
}

TEST(StrategicMergePatch, ServicePortsMergeByPortNotContainerPort) {
  json svc = J(R"({"metadata":{"name":"web"},"spec":{"type":"ClusterIP",
      "ports":[{"name":"http","port":80,"targetPort":80},{"name":"https","port":443}]}})");
  json got = Smp(svc, R"({"spec":{"ports":[{"port":80,"targetPort":8080}]}})", "v1", "Service");
  EXPECT_EQ(got["spec"]["ports"], J(R"([{"name":"http","port":80,"targetPort":8080},
                                        {"name":"https","port":443}])"));
}

TEST(StrategicMergePatch, ContainerPortsMergeByContainerPort) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{"containers":[{"name":"nginx",
      "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":9090,"name":"metrics"}]}]}}}})");
  EXPECT_EQ(Nginx(got)["ports"], J(R"([{"containerPort":80,"name":"http","protocol":"TCP"},
                                       {"containerPort":9090,"name":"metrics"}])"));
}

TEST(StrategicMergePatch, FinalizersMergeAsASet) {
  json got = Smp(StatefulSet(), R"({"metadata":{"finalizers":["b","c"]}})");
  EXPECT_EQ(got["metadata"]["finalizers"], J(R"(["a","b","c"])"));
}

TEST(StrategicMergePatch, DeleteFromPrimitiveListRemovesFinalizers) {
  json got = Smp(StatefulSet(), R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})");
  EXPECT_EQ(got["metadata"]["finalizers"], J(R"(["b"])"));
}

TEST(StrategicMergePatch, PrimitiveListOrderFollowsTheDesignExample) {
  json doc = J(R"({"metadata":{"finalizers":["b","e","a","c","d"]}})");
  json got = Smp(doc, R"({"metadata":{"$setElementOrder/finalizers":["a","b","f"],
                                      "$deleteFromPrimitiveList/finalizers":["c"],
                                      "finalizers":["f"]}})");
  EXPECT_EQ(got["metadata"]["finalizers"], J(R"(["e","a","b","f","d"])"));
}

TEST(StrategicMergePatch, NullRemovesALabel) {
  json got = Smp(StatefulSet(), R"({"metadata":{"labels":{"tier":null,"new":"1"}}})");
  EXPECT_EQ(got["metadata"]["labels"], J(R"({"app":"web","new":"1"})"));
}

TEST(StrategicMergePatch, NullForAnAbsentKeyIsIgnored) {
  json got = Smp(StatefulSet(), R"({"spec":{"minReadySeconds":null}})");
  EXPECT_FALSE(got["spec"].contains("minReadySeconds"));
  EXPECT_EQ(got, StatefulSet());
}

TEST(StrategicMergePatch, ListsWithoutStrategyAreReplacedWhole) {
  json got = Smp(StatefulSet(), R"({"spec":{
      "volumeClaimTemplates":[{"metadata":{"name":"c"}}],
      "template":{"spec":{"tolerations":[{"key":"k2","operator":"Exists"}],
                          "containers":[{"name":"nginx","args":["--z"]}]}}}})");
  EXPECT_EQ(got["spec"]["volumeClaimTemplates"], J(R"([{"metadata":{"name":"c"}}])"));
  EXPECT_EQ(PodSpecOf(got)["tolerations"], J(R"([{"key":"k2","operator":"Exists"}])"));
  EXPECT_EQ(Nginx(got)["args"], J(R"(["--z"])"));
}

TEST(StrategicMergePatch, EndpointsSubsetsAreReplacedWhole) {
  json ep = J(R"({"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]})");
  json got = Smp(ep, R"({"subsets":[{"addresses":[{"ip":"10.0.0.2"}]}]})", "v1", "Endpoints");
  EXPECT_EQ(got["subsets"], J(R"([{"addresses":[{"ip":"10.0.0.2"}]}])"));
}

TEST(StrategicMergePatch, StatusConditionsMergeByType) {
  json got = Smp(StatefulSet(), R"({"status":{"conditions":[{"type":"Y","status":"False"},
                                                          {"type":"X","status":"False"}]}})");
  EXPECT_EQ(got["status"]["conditions"],
            J(R"([{"type":"Y","status":"False"},{"type":"X","status":"False"}])"));
}

TEST(StrategicMergePatch, NodeAddressesMergeByTypeAndOwnerReferencesByUid) {
  json node = J(R"({"metadata":{"ownerReferences":[{"uid":"u1","name":"a"}]},
      "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},
                             {"type":"Hostname","address":"n1"}]}})");
  json got = Smp(node, R"({"metadata":{"ownerReferences":[{"uid":"u1","name":"b"}]},
      "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"}]}})",
                 "v1", "Node");
  EXPECT_EQ(got["metadata"]["ownerReferences"], J(R"([{"uid":"u1","name":"b"}])"));
  EXPECT_EQ(got["status"]["addresses"], J(R"([{"type":"InternalIP","address":"10.0.0.9"},
                                              {"type":"Hostname","address":"n1"}])"));
}

TEST(StrategicMergePatch, PodSpecListsMergeInPodsAndDeployments) {
  json pod = J(R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"1"}]}})");
  json got = Smp(pod, R"({"spec":{"containers":[{"name":"b","image":"2"}]}})", "v1", "Pod");
  EXPECT_EQ(got["spec"]["containers"], J(R"([{"name":"a","image":"1"},{"name":"b","image":"2"}])"));

  json deploy = J(R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"1"},
                                                               {"name":"b","image":"1"}]}}}})");
  got = Smp(deploy, R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"2"}]}}}})",
            "apps/v1", "Deployment");
  EXPECT_EQ(Names(got["spec"]["template"]["spec"]["containers"]),
            (std::vector<std::string>{"a", "b"}));
}

TEST(StrategicMergePatch, NoDirectiveSurvivesWhereTheDocumentHadNothing) {
  json got = Smp(StatefulSet(), R"({"spec":{"template":{"spec":{
      "$setElementOrder/initContainers":[{"name":"init"}],
      "initContainers":[{"name":"init","image":"i","$setElementOrder/env":[{"name":"E"}],
                         "env":[{"name":"E","value":"v"},{"name":"G","$patch":"delete"}]},
                        {"name":"gone","$patch":"delete"}],
      "affinity":{"$patch":"replace","nodeAffinity":{"$retainKeys":["x"],"x":1}}}}}})");
  EXPECT_EQ(PodSpecOf(got)["initContainers"],
            J(R"([{"name":"init","image":"i","env":[{"name":"E","value":"v"}]}])"));
  EXPECT_EQ(PodSpecOf(got)["affinity"], J(R"({"nodeAffinity":{"x":1}})"));
  EXPECT_EQ(got.dump().find('$'), std::string::npos) << got.dump();
}

TEST(StrategicMergePatch, UnsupportedKindIsUnsupportedMediaType) {
  EXPECT_EQ(SmpError(J(R"({"spec":{}})"), R"({"spec":{"x":1}})", "example.com/v1", "Widget").code(),
            Code::kUnsupportedMediaType);
  EXPECT_EQ(SmpError(J("{}"), "{}", "v1", "StatefulSet").code(), Code::kUnsupportedMediaType);
}

TEST(StrategicMergePatch, MalformedPatchesAreBadRequests) {
  for (const char* patch : {
           R"([])",                                                // not an object
           R"({"metadata":{"$frobnicate":1}})",                    // unknown directive
           R"({"metadata":{"labels":{"$patch":"bogus"}}})",        // unknown $patch
           R"({"metadata":{"$retainKeys":"name"}})",               // retainKeys not a list
           R"({"metadata":{"$setElementOrder/finalizers":"a"}})",  // order not a list
           R"({"metadata":{"$deleteFromPrimitiveList/":["a"]}})",  // no field name
           R"({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}})",  // no merge key
           R"({"spec":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}})",
           R"({"metadata":{"finalizers":["a",{"b":1}]}})",         // mixed elements
           R"({"spec":{"template":{"spec":{
               "$setElementOrder/containers":[{"name":"sidecar"}],
               "containers":[{"name":"nginx","image":"y"}]}}}})",  // order contradicts
       }) {
    EXPECT_EQ(SmpError(StatefulSet(), patch).code(), Code::kBadRequest) << patch;
  }
}

TEST(StrategicMergePatch, InputsAreNotModified) {
  const json doc = StatefulSet();
  const json patch = J(R"({"metadata":{"labels":{"app":null}},"spec":{"replicas":5}})");
  StatusOr<json> got = ApplyStrategicMergePatch(doc, patch, "apps/v1", "StatefulSet");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(doc, StatefulSet());
  EXPECT_EQ(patch, J(R"({"metadata":{"labels":{"app":null}},"spec":{"replicas":5}})"));
  EXPECT_EQ((*got)["spec"]["replicas"], 5);
}

}  // namespace
}  // namespace kennel::api
