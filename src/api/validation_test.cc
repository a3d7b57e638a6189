#include "api/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kennel::api {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

MATCHER_P3(IsCause, reason, field, message, "") {
  *result_listener << "cause {" << arg.reason << ", " << arg.field << ", " << arg.message << "}";
  return arg.reason == reason && arg.field == field && arg.message == message;
}

MATCHER_P(OnField, field, "") {
  *result_listener << "cause on " << arg.field;
  return arg.field == field;
}

// The causes of an Invalid result; fails the test on any other outcome.
std::vector<StatusCause> Causes(const json& obj, const json* old = nullptr) {
  Status s = ValidateObject(obj, old);
  EXPECT_EQ(s.code(), Code::kInvalid) << s.ToString();
  return s.causes();
}

void ExpectValid(const json& obj, const json* old = nullptr) {
  Status s = ValidateObject(obj, old);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

json::json_pointer P(const std::string& path) { return json::json_pointer(path); }

// Canonical objects, shaped as they are after server-side defaulting.

json Container(const std::string& name) {
  return {{"name", name},
          {"image", "nginx:1.27"},
          {"imagePullPolicy", "IfNotPresent"},
          {"ports", {{{"name", "http"}, {"containerPort", 80}, {"protocol", "TCP"}}}},
          {"resources",
           {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}},
            {"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}}}};
}

json PodSpec() {
  return {{"containers", {Container("web")}},
          {"restartPolicy", "Always"},
          {"dnsPolicy", "ClusterFirst"},
          {"terminationGracePeriodSeconds", 30}};
}

json Pod() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web-0"}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
          {"spec", PodSpec()}};
}

json ClaimTemplate(const std::string& name) {
  return {{"metadata", {{"name", name}}},
          {"spec",
           {{"accessModes", {"ReadWriteOnce"}},
            {"resources", {{"requests", {{"storage", "1Gi"}}}}},
            {"volumeMode", "Filesystem"}}}};
}

json StatefulSet() {
  json pod_spec = PodSpec();
  pod_spec["containers"][0]["volumeMounts"] = {{{"name", "data"}, {"mountPath", "/data"}}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", 3},
            {"serviceName", "web"},
            {"selector", {{"matchLabels", {{"app", "web"}}}}},
            {"template", {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", pod_spec}}},
            {"volumeClaimTemplates", {ClaimTemplate("data")}},
            {"podManagementPolicy", "OrderedReady"},
            {"updateStrategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}}},
            {"revisionHistoryLimit", 10},
            {"persistentVolumeClaimRetentionPolicy",
             {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}}}}};
}

json Deployment() {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", 2},
            {"selector", {{"matchLabels", {{"app", "web"}}}}},
            {"template", {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", PodSpec()}}},
            {"strategy",
             {{"type", "RollingUpdate"},
              {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}}},
            {"revisionHistoryLimit", 10},
            {"progressDeadlineSeconds", 600}}}};
}

json ReplicaSet() {
  json rs = Deployment();
  rs["kind"] = "ReplicaSet";
  rs["spec"].erase("strategy");
  rs["spec"].erase("revisionHistoryLimit");
  rs["spec"].erase("progressDeadlineSeconds");
  return rs;
}

json Service() {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", {{"app", "web"}}},
            {"clusterIP", "10.96.0.10"},
            {"clusterIPs", {"10.96.0.10"}},
            {"sessionAffinity", "None"},
            {"ports",
             {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", "http"}}}}}}};
}

json Named(const std::string& api_version, const std::string& kind, const std::string& name,
           bool namespaced = true) {
  json meta = {{"name", name}};
  if (namespaced) meta["namespace"] = "default";
  return {{"apiVersion", api_version}, {"kind", kind}, {"metadata", meta}};
}

json Pvc() {
  json pvc = Named("v1", "PersistentVolumeClaim", "data-web-0");
  pvc["spec"] = ClaimTemplate("x")["spec"];
  return pvc;
}

json Pv() {
  json pv = Named("v1", "PersistentVolume", "pv-1", false);
  pv["spec"] = {{"capacity", {{"storage", "10Gi"}}},
                {"accessModes", {"ReadWriteOnce"}},
                {"persistentVolumeReclaimPolicy", "Retain"},
                {"hostPath", {{"path", "/var/lib/kennel/pv-1"}}}};
  return pv;
}

// ---------------------------------------------------------------------------
// Result format.

TEST(ValidationFormat, OneCauseUsesKubernetesMessageAndCause) {
  json sts = StatefulSet();
  sts["spec"]["replicas"] = -1;
  Status s = ValidateObject(sts, nullptr);
  ASSERT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "StatefulSet.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be "
            "greater than or equal to 0");
  EXPECT_THAT(s.causes(), ElementsAre(IsCause("FieldValueInvalid", "spec.replicas",
                                              "Invalid value: -1: must be greater than or "
                                              "equal to 0")));
}

TEST(ValidationFormat, SeveralCausesAreBracketed) {
  json pod = Pod();
  pod["spec"]["containers"][0].erase("image");
  pod["spec"]["restartPolicy"] = "Sometimes";
  Status s = ValidateObject(pod, nullptr);
  ASSERT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "Pod \"web-0\" is invalid: [spec.containers[0].image: Required value, "
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
            "\"OnFailure\", \"Never\"]");
  EXPECT_EQ(s.causes().size(), 2u);
}

TEST(ValidationFormat, UnknownKindIsBadRequest) {
  EXPECT_EQ(ValidateObject(Named("v1", "Widget", "w"), nullptr).code(), Code::kBadRequest);
  EXPECT_EQ(ValidateObject(json::array(), nullptr).code(), Code::kBadRequest);
}

TEST(ValidationFormat, WrongJsonTypeIsReportedNotThrown) {
  json sts = StatefulSet();
  sts["spec"]["replicas"] = "three";
  sts["spec"]["template"]["spec"]["containers"] = "web";
  std::vector<StatusCause> causes = Causes(sts);
  EXPECT_THAT(causes, Contains(IsCause("FieldValueTypeInvalid", "spec.replicas",
                                       "Invalid value: \"three\": must be of type integer")));
  EXPECT_THAT(causes, Contains(OnField("spec.template.spec.containers")));
}

// ---------------------------------------------------------------------------
// Metadata.

TEST(ValidationMeta, NameIsRequired) {
  json cm = Named("v1", "ConfigMap", "");
  EXPECT_THAT(Causes(cm), ElementsAre(IsCause("FieldValueRequired", "metadata.name",
                                              "Required value: name or generateName is "
                                              "required")));
}

TEST(ValidationMeta, MostNamesAreDnsSubdomains) {
  ExpectValid(Named("v1", "ConfigMap", "my.config-1"));
  Status s = ValidateObject(Named("v1", "ConfigMap", "My_Config"), nullptr);
  EXPECT_EQ(s.message(),
            "ConfigMap \"My_Config\" is invalid: metadata.name: Invalid value: \"My_Config\": a "
            "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            "'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  ExpectValid(Named("v1", "ConfigMap", std::string(253, 'a')));
  EXPECT_THAT(Causes(Named("v1", "ConfigMap", std::string(254, 'a'))),
              ElementsAre(IsCause("FieldValueInvalid", "metadata.name",
                                  "Invalid value: \"" + std::string(254, 'a') +
                                      "\": must be no more than 253 characters")));
}

TEST(ValidationMeta, NamespaceAndStatefulSetNamesAreLabels) {
  ExpectValid(Named("v1", "Namespace", "team-a", false));
  EXPECT_THAT(Causes(Named("v1", "Namespace", "team.a", false)),
              ElementsAre(IsCause("FieldValueInvalid", "metadata.name",
                                  "Invalid value: \"team.a\": must not contain dots")));
  json sts = StatefulSet();
  sts["metadata"]["name"] = "web.db";
  EXPECT_THAT(Causes(sts), ElementsAre(OnField("metadata.name")));
  json deploy = Deployment();
  deploy["metadata"]["name"] = "web.db";
  ExpectValid(deploy);
  EXPECT_THAT(Causes(Named("v1", "Namespace", std::string(64, 'a'), false)),
              Contains(IsCause("FieldValueInvalid", "metadata.name",
                               "Invalid value: \"" + std::string(64, 'a') +
                                   "\": must be no more than 63 characters")));
}

TEST(ValidationMeta, ServiceNamesAreDns1035Labels) {
  json svc = Service();
  svc["metadata"]["name"] = "1web";
  EXPECT_THAT(Causes(svc),
              ElementsAre(IsCause(
                  "FieldValueInvalid", "metadata.name",
                  "Invalid value: \"1web\": a DNS-1035 label must consist of lower case "
                  "alphanumeric characters or '-', start with an alphabetic character, and end "
                  "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used "
                  "for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")));
  json pod = Pod();
  pod["metadata"]["name"] = "1web";
  ExpectValid(pod);
}

TEST(ValidationMeta, NamespaceRules) {
  json cm = Named("v1", "ConfigMap", "c");
  cm["metadata"].erase("namespace");
  EXPECT_THAT(Causes(cm),
              ElementsAre(IsCause("FieldValueRequired", "metadata.namespace", "Required value")));
  cm["metadata"]["namespace"] = "Team_A";
  EXPECT_THAT(Causes(cm), ElementsAre(OnField("metadata.namespace")));
  json node = Named("v1", "Node", "node-1");
  EXPECT_THAT(Causes(node), ElementsAre(IsCause("FieldValueForbidden", "metadata.namespace",
                                                "Forbidden: not allowed on this type")));
}

TEST(ValidationMeta, Labels) {
  json cm = Named("v1", "ConfigMap", "c");
  cm["metadata"]["labels"] = {{"example.com/app", "web-1"}, {"tier", ""}};
  ExpectValid(cm);
  cm["metadata"]["labels"] = {{"-bad", "ok"}};
  EXPECT_THAT(
      Causes(cm),
      ElementsAre(IsCause(
          "FieldValueInvalid", "metadata.labels",
          "Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' "
          "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
          "'my.name',  or '123-abc', regex used for validation is "
          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")));
  cm["metadata"]["labels"] = {{"app", "bad value"}};
  EXPECT_THAT(
      Causes(cm),
      ElementsAre(IsCause(
          "FieldValueInvalid", "metadata.labels",
          "Invalid value: \"bad value\": a valid label must be an empty string or consist of "
          "alphanumeric characters, '-', '_' or '.', and must start and end with an "
          "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
          "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")));
  cm["metadata"]["labels"] = {{"app", "tab\there \"q\"\x01"}};
  EXPECT_THAT(Causes(cm)[0].message,
              ::testing::StartsWith("Invalid value: \"tab\\there \\\"q\\\"\\x01\": a valid label"));
  cm["metadata"]["labels"] = {{"a/b/c", "x"}};
  EXPECT_THAT(Causes(cm), ElementsAre(OnField("metadata.labels")));
  cm["metadata"]["labels"] = {{"Bad_Prefix/x", "x"}};
  EXPECT_THAT(Causes(cm)[0].message, ::testing::HasSubstr("prefix part a lowercase RFC 1123"));
}

TEST(ValidationMeta, Annotations) {
  json cm = Named("v1", "ConfigMap", "c");
  cm["metadata"]["annotations"] = {{"Example.COM/Note", "any text at all"}};
  ExpectValid(cm);
  cm["metadata"]["annotations"] = {{"bad key", "x"}};
  EXPECT_THAT(Causes(cm), ElementsAre(OnField("metadata.annotations")));
  cm["metadata"]["annotations"] = {{"k", std::string(256 * 1024 - 1, 'x')}};
  ExpectValid(cm);
  cm["metadata"]["annotations"] = {{"k", std::string(256 * 1024, 'x')}};
  EXPECT_THAT(Causes(cm), ElementsAre(IsCause("FieldValueTooLong", "metadata.annotations",
                                              "Too long: must have at most 262144 bytes")));
}

TEST(ValidationMeta, FinalizersAndOwnerReferences) {
  json cm = Named("v1", "ConfigMap", "c");
  cm["metadata"]["finalizers"] = {"kubernetes.io/pvc-protection"};
  cm["metadata"]["ownerReferences"] = {
      {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", "web"}, {"uid", "u1"}}};
  ExpectValid(cm);
  cm["metadata"]["finalizers"] = {"a/b/c"};
  EXPECT_THAT(Causes(cm), ElementsAre(OnField("metadata.finalizers")));
  cm["metadata"].erase("finalizers");
  cm["metadata"]["ownerReferences"][0].erase("uid");
  EXPECT_THAT(Causes(cm), ElementsAre(IsCause("FieldValueInvalid", "metadata.ownerReferences.uid",
                                              "Invalid value: \"\": uid must not be empty")));
  json two = {
      {"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"uid", "u"}, {"controller", true}};
  two["name"] = "a";
  cm["metadata"]["ownerReferences"] = {two, two};
  cm["metadata"]["ownerReferences"][1]["name"] = "b";
  std::vector<StatusCause> causes = Causes(cm);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_THAT(causes[0].message,
              ::testing::HasSubstr("Only one reference can have Controller set to true. Found "
                                   "\"true\" in references for StatefulSet/a and StatefulSet/b"));
}

TEST(ValidationMeta, UpdateKeepsIdentityButNotNameFormat) {
  json old_cm = Named("v1", "ConfigMap", "c");
  old_cm["metadata"]["uid"] = "u1";
  json cm = old_cm;
  cm["metadata"]["labels"] = {{"new", "label"}};
  ExpectValid(cm, &old_cm);
  cm["metadata"]["name"] = "d";
  EXPECT_THAT(Causes(cm, &old_cm), ElementsAre(IsCause("FieldValueInvalid", "metadata.name",
                                                       "Invalid value: \"d\": field is "
                                                       "immutable")));
  cm = old_cm;
  cm["metadata"]["uid"] = "u2";
  EXPECT_THAT(Causes(cm, &old_cm), ElementsAre(OnField("metadata.uid")));
  // A StatefulSet named under the old subdomain rule can still be updated.
  json old_sts = StatefulSet();
  old_sts["metadata"]["name"] = "web.db";
  json sts = old_sts;
  sts["spec"]["replicas"] = 1;
  ExpectValid(sts, &old_sts);
}

// ---------------------------------------------------------------------------
// Pod specs.

TEST(ValidationPod, CanonicalPodIsValid) { ExpectValid(Pod()); }

TEST(ValidationPod, NeedsContainersWithNamesAndImages) {
  json pod = Pod();
  pod["spec"]["containers"] = json::array();
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueRequired", "spec.containers", "Required value")));
  pod = Pod();
  pod[P("/spec/containers/0/name")] = "Web";
  EXPECT_THAT(Causes(pod), ElementsAre(OnField("spec.containers[0].name")));
  pod = Pod();
  pod[P("/spec/containers/0/image")] = "";
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueRequired", "spec.containers[0].image",
                                               "Required value")));
  pod[P("/spec/containers/0/image")] = " nginx";
  EXPECT_THAT(Causes(pod), ElementsAre(OnField("spec.containers[0].image")));
}

TEST(ValidationPod, ContainerNamesAreUniqueAcrossInitAndApp) {
  json pod = Pod();
  json init = Container("setup");
  init.erase("ports");
  pod["spec"]["initContainers"] = {init};
  ExpectValid(pod);
  pod[P("/spec/initContainers/0/name")] = "web";
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueDuplicate", "spec.initContainers[0].name",
                                               "Duplicate value: \"web\"")));
}

TEST(ValidationPod, ContainerPorts) {
  json pod = Pod();
  pod[P("/spec/containers/0/ports/0/containerPort")] = 0;
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueRequired", "spec.containers[0].ports[0].containerPort",
                                  "Required value")));
  pod[P("/spec/containers/0/ports/0/containerPort")] = 70000;
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].ports[0].containerPort",
                                  "Invalid value: 70000: must be between 1 and "
                                  "65535, inclusive")));
  pod = Pod();
  pod[P("/spec/containers/0/ports/0/protocol")] = "HTTP";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueNotSupported", "spec.containers[0].ports[0].protocol",
                                  "Unsupported value: \"HTTP\": supported values: "
                                  "\"SCTP\", \"TCP\", \"UDP\"")));
}

TEST(ValidationPod, ContainerPortNamesAreIanaServiceNames) {
  json pod = Pod();
  pod[P("/spec/containers/0/ports/0/name")] = "metrics-port-01";
  ExpectValid(pod);
  pod[P("/spec/containers/0/ports/0/name")] = "a-very-long-port-name";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].ports[0].name",
                                  "Invalid value: \"a-very-long-port-name\": must "
                                  "be no more than 15 characters")));
  pod[P("/spec/containers/0/ports/0/name")] = "8080";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].ports[0].name",
                                  "Invalid value: \"8080\": must contain at least "
                                  "one letter (a-z)")));
  pod[P("/spec/containers/0/ports/0/name")] = "Http";
  EXPECT_THAT(Causes(pod), ElementsAre(OnField("spec.containers[0].ports[0].name")));
  pod = Pod();
  pod[P("/spec/containers/0/ports/1")] = {{"name", "http"}, {"containerPort", 81}};
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueDuplicate", "spec.containers[0].ports[1].name",
                                  "Duplicate value: \"http\"")));
}

TEST(ValidationPod, EnvNames) {
  json pod = Pod();
  pod[P("/spec/containers/0/env")] = {{{"name", "MY.VAR-1"}, {"value", "x"}},
                                      {{"name", "_X"}, {"value", ""}}};
  ExpectValid(pod);
  pod[P("/spec/containers/0/env/0/name")] = "1VAR";
  EXPECT_THAT(
      Causes(pod),
      ElementsAre(IsCause(
          "FieldValueInvalid", "spec.containers[0].env[0].name",
          "Invalid value: \"1VAR\": a valid environment variable name must consist of "
          "alphabetic characters, digits, '_', '-', or '.', and must not start with a digit "
          "(e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation "
          "is '[-._a-zA-Z][-._a-zA-Z0-9]*')")));
  pod[P("/spec/containers/0/env/0")] = {
      {"name", "X"}, {"value", "v"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "a"}}}}}};
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].env[0].valueFrom",
                                  "Invalid value: \"\": may not be specified when "
                                  "`value` is not empty")));
}

TEST(ValidationPod, VolumesAndMounts) {
  json pod = Pod();
  pod["spec"]["volumes"] = {{{"name", "cache"}, {"emptyDir", json::object()}},
                            {{"name", "cfg"}, {"configMap", {{"name", "web-config"}}}}};
  pod[P("/spec/containers/0/volumeMounts")] = {{{"name", "cache"}, {"mountPath", "/cache"}},
                                               {{"name", "cfg"}, {"mountPath", "/etc/web"}}};
  ExpectValid(pod);

  json dup = pod;
  dup[P("/spec/volumes/1/name")] = "cache";
  EXPECT_THAT(Causes(dup), Contains(IsCause("FieldValueDuplicate", "spec.volumes[1].name",
                                            "Duplicate value: \"cache\"")));
  json bad = pod;
  bad[P("/spec/volumes/0/name")] = "Cache";
  EXPECT_THAT(Causes(bad), Contains(OnField("spec.volumes[0].name")));

  json missing = pod;
  missing[P("/spec/containers/0/volumeMounts/0/name")] = "data";
  EXPECT_THAT(Causes(missing),
              ElementsAre(IsCause("FieldValueNotFound", "spec.containers[0].volumeMounts[0].name",
                                  "Not found: \"data\"")));
  json no_path = pod;
  no_path[P("/spec/containers/0/volumeMounts/0/mountPath")] = "";
  EXPECT_THAT(Causes(no_path), ElementsAre(IsCause("FieldValueRequired",
                                                   "spec.containers[0].volumeMounts[0].mountPath",
                                                   "Required value")));
  json same = pod;
  same[P("/spec/containers/0/volumeMounts/1/mountPath")] = "/cache";
  EXPECT_THAT(Causes(same), ElementsAre(OnField("spec.containers[0].volumeMounts[1].mountPath")));

  json two_sources = pod;
  two_sources[P("/spec/volumes/0/hostPath")] = {{"path", "/tmp"}};
  EXPECT_THAT(Causes(two_sources),
              ElementsAre(IsCause("FieldValueForbidden", "spec.volumes[0].emptyDir",
                                  "Forbidden: may not specify more than 1 volume type")));
  json no_cm = pod;
  no_cm[P("/spec/volumes/1/configMap/name")] = "";
  EXPECT_THAT(Causes(no_cm), ElementsAre(OnField("spec.volumes[1].configMap.name")));
}

TEST(ValidationPod, RestartAndDnsPolicies) {
  json pod = Pod();
  pod["spec"]["restartPolicy"] = "Never";
  pod["spec"]["dnsPolicy"] = "Default";
  ExpectValid(pod);
  pod["spec"]["dnsPolicy"] = "Cluster";
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueNotSupported", "spec.dnsPolicy",
                                               "Unsupported value: \"Cluster\": supported "
                                               "values: \"ClusterFirstWithHostNet\", "
                                               "\"ClusterFirst\", \"Default\", \"None\"")));
  pod["spec"]["dnsPolicy"] = "None";
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueRequired", "spec.dnsConfig",
                                               "Required value: must provide `dnsConfig` when "
                                               "`dnsPolicy` is None")));
  pod["spec"]["dnsConfig"] = {{"nameservers", {"10.96.0.10"}}};
  ExpectValid(pod);
  pod["spec"]["restartPolicy"] = "";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueRequired", "spec.restartPolicy", "Required value")));
}

TEST(ValidationPod, Resources) {
  json pod = Pod();
  pod[P("/spec/containers/0/resources/requests/cpu")] = 0.25;
  pod[P("/spec/containers/0/resources/limits/memory")] = "1Gi";
  ExpectValid(pod);
  pod[P("/spec/containers/0/resources/requests/cpu")] = "2";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].resources.requests",
                                  "Invalid value: \"2\": must be less than or equal "
                                  "to cpu limit of 500m")));
  pod = Pod();
  pod[P("/spec/containers/0/resources/limits/cpu")] = "lots";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.containers[0].resources.limits[cpu]",
                                  "Invalid value: \"lots\": quantities must match "
                                  "the regular expression "
                                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")));
  pod = Pod();
  pod[P("/spec/containers/0/resources/requests/memory")] = "-1Mi";
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueInvalid",
                                               "spec.containers[0].resources.requests[memory]",
                                               "Invalid value: \"-1Mi\": must be greater than or "
                                               "equal to 0")));
  pod = Pod();
  pod[P("/spec/containers/0/resources/limits/gpu")] = "1";
  EXPECT_THAT(Causes(pod), ElementsAre(OnField("spec.containers[0].resources.limits[gpu]")));
}

TEST(ValidationPod, HostnameSubdomainAndGracePeriod) {
  json pod = Pod();
  pod["spec"]["hostname"] = "web-0";
  pod["spec"]["subdomain"] = "web";
  ExpectValid(pod);
  pod["spec"]["hostname"] = "web.0";
  pod["spec"]["subdomain"] = "Web";
  std::vector<StatusCause> causes = Causes(pod);
  EXPECT_THAT(causes, Contains(OnField("spec.hostname")));
  EXPECT_THAT(causes, Contains(OnField("spec.subdomain")));
  pod = Pod();
  pod["spec"]["terminationGracePeriodSeconds"] = -1;
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueInvalid", "spec.terminationGracePeriodSeconds",
                                  "Invalid value: -1: must be greater than or equal "
                                  "to 0")));
  pod = Pod();
  pod["spec"]["activeDeadlineSeconds"] = 0;
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueInvalid", "spec.activeDeadlineSeconds",
                                               "Invalid value: 0: must be between 1 and "
                                               "2147483647, inclusive")));
}

TEST(ValidationPod, Probes) {
  json pod = Pod();
  pod[P("/spec/containers/0/readinessProbe")] = {
      {"httpGet", {{"path", "/healthz"}, {"port", "http"}, {"scheme", "HTTP"}}},
      {"periodSeconds", 10},
      {"successThreshold", 2}};
  pod[P("/spec/containers/0/livenessProbe")] = {{"tcpSocket", {{"port", 80}}}};
  ExpectValid(pod);
  pod[P("/spec/containers/0/livenessProbe")] = {{"periodSeconds", 5}};
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueRequired", "spec.containers[0].livenessProbe",
                                  "Required value: must specify a handler type")));
  pod[P("/spec/containers/0/livenessProbe")] = {{"exec", {{"command", {"true"}}}},
                                                {"tcpSocket", {{"port", 80}}}};
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueForbidden",
                                               "spec.containers[0].livenessProbe.tcpSocket",
                                               "Forbidden: may not specify more than 1 handler "
                                               "type")));
  pod[P("/spec/containers/0/livenessProbe")] = {{"tcpSocket", {{"port", 80}}},
                                                {"successThreshold", 2}};
  EXPECT_THAT(Causes(pod), ElementsAre(IsCause("FieldValueInvalid",
                                               "spec.containers[0].livenessProbe."
                                               "successThreshold",
                                               "Invalid value: 2: must be 1")));
}

TEST(ValidationPod, Tolerations) {
  json pod = Pod();
  pod["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/not-ready"},
                                 {"operator", "Exists"},
                                 {"effect", "NoExecute"},
                                 {"tolerationSeconds", 300}}};
  ExpectValid(pod);
  pod[P("/spec/tolerations/0/operator")] = "Maybe";
  EXPECT_THAT(Causes(pod),
              ElementsAre(IsCause("FieldValueNotSupported", "spec.tolerations[0].operator",
                                  "Unsupported value: \"Maybe\": supported values: "
                                  "\"Equal\", \"Exists\"")));
  pod[P("/spec/tolerations/0/operator")] = "Exists";
  pod[P("/spec/tolerations/0/effect")] = "NoSchedule";
  EXPECT_THAT(Causes(pod), ElementsAre(OnField("spec.tolerations[0].effect")));
}

TEST(ValidationPod, UpdatesMayChangeOnlyImagesAndFew) {
  json old_pod = Pod();
  json pod = old_pod;
  pod[P("/spec/containers/0/image")] = "nginx:1.28";
  pod["spec"]["activeDeadlineSeconds"] = 60;
  pod["spec"]["nodeName"] = "node-1";  // binding
  pod["metadata"]["labels"]["extra"] = "yes";
  ExpectValid(pod, &old_pod);
  pod[P("/spec/containers/0/ports/0/containerPort")] = 8080;
  std::vector<StatusCause> causes = Causes(pod, &old_pod);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec");
  EXPECT_EQ(causes[0].reason, "FieldValueForbidden");
  EXPECT_THAT(causes[0].message,
              ::testing::StartsWith("Forbidden: pod updates may not change fields other than "
                                    "`spec.containers[*].image`,"));
  json bound = old_pod;
  bound["spec"]["nodeName"] = "node-1";
  json moved = bound;
  moved["spec"]["nodeName"] = "node-2";
  EXPECT_THAT(Causes(moved, &bound), ElementsAre(OnField("spec")));
}

// ---------------------------------------------------------------------------
// StatefulSet.

TEST(ValidationStatefulSet, CanonicalIsValid) {
  ExpectValid(StatefulSet());
  json sts = StatefulSet();
  sts["spec"]["serviceName"] = "";  // optional in practice
  ExpectValid(sts);
}

TEST(ValidationStatefulSet, SelectorIsRequiredAndNonEmpty) {
  json sts = StatefulSet();
  sts["spec"].erase("selector");
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueRequired", "spec.selector", "Required value")));
  sts["spec"]["selector"] = json::object();
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueInvalid", "spec.selector",
                                  "Invalid value: v1.LabelSelector{MatchLabels:map[string]"
                                  "string(nil), MatchExpressions:[]v1.LabelSelectorRequirement"
                                  "(nil)}: empty selector is invalid for statefulset")));
}

TEST(ValidationStatefulSet, TemplateLabelsMustMatchSelector) {
  json sts = StatefulSet();
  sts[P("/spec/template/metadata/labels")] = {{"app", "other"}};
  Status s = ValidateObject(sts, nullptr);
  EXPECT_EQ(s.message(),
            "StatefulSet.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: "
            "map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`");
  sts = StatefulSet();
  sts["spec"]["selector"] = {
      {"matchExpressions", {{{"key", "app"}, {"operator", "In"}, {"values", {"web", "api"}}}}}};
  ExpectValid(sts);
  sts[P("/spec/selector/matchExpressions/0/values")] = {"api"};
  EXPECT_THAT(Causes(sts), ElementsAre(OnField("spec.template.metadata.labels")));
}

TEST(ValidationStatefulSet, SelectorExpressionsAreChecked) {
  json sts = StatefulSet();
  sts["spec"]["selector"]["matchExpressions"] = {{{"key", "app"}, {"operator", "In"}}};
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueRequired", "spec.selector.matchExpressions[0].values",
                                  "Required value: must be specified when `operator` is 'In' or "
                                  "'NotIn'")));
  sts["spec"]["selector"]["matchExpressions"] = {{{"key", "app"}, {"operator", "Near"}}};
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueInvalid", "spec.selector.matchExpressions[0].operator",
                                  "Invalid value: \"Near\": not a valid selector "
                                  "operator")));
}

TEST(ValidationStatefulSet, TemplateMustRestartAlways) {
  json sts = StatefulSet();
  sts[P("/spec/template/spec/restartPolicy")] = "OnFailure";
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueNotSupported", "spec.template.spec.restartPolicy",
                                  "Unsupported value: \"OnFailure\": supported "
                                  "values: \"Always\"")));
  sts = StatefulSet();
  sts[P("/spec/template/spec/activeDeadlineSeconds")] = 10;
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueForbidden", "spec.template.spec.activeDeadlineSeconds",
                                  "Forbidden: activeDeadlineSeconds in StatefulSet "
                                  "is not Supported")));
}

TEST(ValidationStatefulSet, TemplatePodSpecIsChecked) {
  json sts = StatefulSet();
  sts[P("/spec/template/spec/containers/0/image")] = "";
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueRequired", "spec.template.spec.containers[0].image",
                                  "Required value")));
  sts = StatefulSet();
  sts[P("/spec/template/metadata/labels/bad key")] = "x";
  EXPECT_THAT(Causes(sts), Contains(OnField("spec.template.labels")));
}

TEST(ValidationStatefulSet, PodManagementPolicy) {
  json sts = StatefulSet();
  sts["spec"]["podManagementPolicy"] = "Parallel";
  ExpectValid(sts);
  sts["spec"]["podManagementPolicy"] = "Random";
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid", "spec.podManagementPolicy",
                                               "Invalid value: \"Random\": must be "
                                               "'OrderedReady' or 'Parallel'")));
}

TEST(ValidationStatefulSet, UpdateStrategy) {
  json sts = StatefulSet();
  sts["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  ExpectValid(sts);
  sts["spec"]["updateStrategy"]["rollingUpdate"] = {{"partition", 1}};
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueInvalid", "spec.updateStrategy.rollingUpdate",
                                  "Invalid value: apps.RollingUpdateStatefulSetStrategy{"
                                  "Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: "
                                  "only allowed for updateStrategy 'RollingUpdate'")));
  sts["spec"]["updateStrategy"] = {{"type", "Recreate"}};
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid", "spec.updateStrategy",
                                               "Invalid value: apps.StatefulSetUpdateStrategy{Type:"
                                               "\"Recreate\", RollingUpdate:(*apps."
                                               "RollingUpdateStatefulSetStrategy)(nil)}: must be "
                                               "'RollingUpdate' or 'OnDelete'")));
  sts = StatefulSet();
  sts[P("/spec/updateStrategy/rollingUpdate/partition")] = -1;
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause(
                               "FieldValueInvalid", "spec.updateStrategy.rollingUpdate.partition",
                               "Invalid value: -1: must be greater than or equal to 0")));
}

TEST(ValidationStatefulSet, MaxUnavailable) {
  json sts = StatefulSet();
  sts[P("/spec/updateStrategy/rollingUpdate/maxUnavailable")] = 2;
  ExpectValid(sts);
  sts[P("/spec/updateStrategy/rollingUpdate/maxUnavailable")] = "50%";
  ExpectValid(sts);
  sts[P("/spec/updateStrategy/rollingUpdate/maxUnavailable")] = 0;
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid",
                                               "spec.updateStrategy.rollingUpdate.maxUnavailable",
                                               "Invalid value: 0: cannot be 0")));
  sts[P("/spec/updateStrategy/rollingUpdate/maxUnavailable")] = "150%";
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid",
                                               "spec.updateStrategy.rollingUpdate.maxUnavailable",
                                               "Invalid value: 150%: must not be greater than "
                                               "100%")));
  sts[P("/spec/updateStrategy/rollingUpdate/maxUnavailable")] = "half";
  EXPECT_THAT(
      Causes(sts),
      Contains(IsCause("FieldValueInvalid", "spec.updateStrategy.rollingUpdate.maxUnavailable",
                       "Invalid value: half: a valid percent string must be a numeric "
                       "string followed by an ending '%' (e.g. '1%',  or '93%', regex "
                       "used for validation is '[0-9]+%')")));
}

TEST(ValidationStatefulSet, CountsAreNonNegative) {
  for (const char* path :
       {"/spec/revisionHistoryLimit", "/spec/minReadySeconds", "/spec/ordinals/start"}) {
    json sts = StatefulSet();
    sts[P(path)] = 0;
    ExpectValid(sts);
    sts[P(path)] = -1;
    std::string field = std::string(path).substr(1);
    std::replace(field.begin(), field.end(), '/', '.');
    EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid", field,
                                                 "Invalid value: -1: must be greater than or "
                                                 "equal to 0")));
  }
}

TEST(ValidationStatefulSet, RetentionPolicy) {
  json sts = StatefulSet();
  sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"},
                                                         {"whenScaled", "Retain"}};
  ExpectValid(sts);
  sts[P("/spec/persistentVolumeClaimRetentionPolicy/whenScaled")] = "Keep";
  EXPECT_THAT(Causes(sts),
              ElementsAre(IsCause("FieldValueNotSupported",
                                  "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                                  "Unsupported value: \"Keep\": supported values: \"Retain\", "
                                  "\"Delete\"")));
}

TEST(ValidationStatefulSet, ServiceNameMustBeALabel) {
  json sts = StatefulSet();
  sts["spec"]["serviceName"] = "web.svc";
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueInvalid", "spec.serviceName",
                                               "Invalid value: \"web.svc\": must not contain "
                                               "dots")));
}

TEST(ValidationStatefulSet, ClaimTemplates) {
  json sts = StatefulSet();
  sts["spec"]["volumeClaimTemplates"][1] = ClaimTemplate("data");
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueDuplicate",
                                               "spec.volumeClaimTemplates[1].metadata.name",
                                               "Duplicate value: \"data\"")));
  sts = StatefulSet();
  sts[P("/spec/volumeClaimTemplates/0/spec")].erase("accessModes");
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueRequired",
                                               "spec.volumeClaimTemplates[0].spec.accessModes",
                                               "Required value: at least 1 access mode is "
                                               "required")));
  sts = StatefulSet();
  sts[P("/spec/volumeClaimTemplates/0/spec/resources")] = json::object();
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueRequired",
                                               "spec.volumeClaimTemplates[0].spec.resources["
                                               "storage]",
                                               "Required value")));
  sts = StatefulSet();
  sts[P("/spec/volumeClaimTemplates/0/metadata/name")] = "Data";
  EXPECT_THAT(Causes(sts), Contains(OnField("spec.volumeClaimTemplates[0].metadata.name")));
  // Without the claim template, the mount of "data" refers to nothing.
  sts = StatefulSet();
  sts["spec"]["volumeClaimTemplates"] = json::array();
  EXPECT_THAT(Causes(sts), ElementsAre(IsCause("FieldValueNotFound",
                                               "spec.template.spec.containers[0].volumeMounts[0]."
                                               "name",
                                               "Not found: \"data\"")));
}

TEST(ValidationStatefulSet, UpdateMayChangeOnlyListedFields) {
  json old_sts = StatefulSet();
  json sts = old_sts;
  sts["spec"]["replicas"] = 5;
  sts[P("/spec/template/spec/containers/0/image")] = "nginx:1.28";
  sts["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  sts["spec"]["minReadySeconds"] = 5;
  sts["spec"]["ordinals"] = {{"start", 1}};
  sts["spec"]["revisionHistoryLimit"] = 3;
  sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"] = "Delete";
  ExpectValid(sts, &old_sts);

  const std::string forbidden =
      "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
      "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
      "'minReadySeconds' are forbidden";
  for (const char* path : {"/spec/serviceName", "/spec/podManagementPolicy"}) {
    sts = old_sts;
    sts[P(path)] = path == std::string("/spec/serviceName") ? "other" : "Parallel";
    EXPECT_THAT(Causes(sts, &old_sts),
                ElementsAre(IsCause("FieldValueForbidden", "spec", forbidden)))
        << path;
  }
  // Kennel relaxes one field: a claim template's storage request may grow
  // (the StatefulSet controller expands the claims), never shrink.
  sts = old_sts;
  sts[P("/spec/volumeClaimTemplates/0/spec/resources/requests/storage")] = "2Gi";
  ExpectValid(sts, &old_sts);
  json grown = sts;
  sts[P("/spec/volumeClaimTemplates/0/spec/resources/requests/storage")] = "512Mi";
  EXPECT_THAT(Causes(sts, &grown),
              ElementsAre(IsCause("FieldValueForbidden",
                                  "spec.volumeClaimTemplates[0].spec.resources.requests.storage",
                                  "Forbidden: field can not be less than previous value (2Gi): the "
                                  "claims of a StatefulSet can grow but not shrink")));
  sts = old_sts;
  sts[P("/spec/volumeClaimTemplates/0/spec/accessModes/0")] = "ReadWriteMany";
  EXPECT_THAT(Causes(sts, &old_sts),
              ElementsAre(IsCause("FieldValueForbidden", "spec", forbidden)));
  sts = old_sts;
  sts[P("/spec/selector/matchLabels/tier")] = "db";
  sts[P("/spec/template/metadata/labels/tier")] = "db";
  EXPECT_THAT(Causes(sts, &old_sts),
              ElementsAre(IsCause("FieldValueForbidden", "spec", forbidden)));
  // Omitting a zero value is not a change.
  json with_empty = old_sts;
  with_empty["spec"]["serviceName"] = "";
  json without = old_sts;
  without["spec"].erase("serviceName");
  ExpectValid(without, &with_empty);
}

// ---------------------------------------------------------------------------
// Deployment and ReplicaSet.

TEST(ValidationDeployment, CanonicalIsValid) {
  ExpectValid(Deployment());
  ExpectValid(ReplicaSet());
}

TEST(ValidationDeployment, ReplicasAndSelector) {
  json d = Deployment();
  d["spec"]["replicas"] = -2;
  EXPECT_THAT(Causes(d), ElementsAre(IsCause("FieldValueInvalid", "spec.replicas",
                                             "Invalid value: -2: must be greater than or equal "
                                             "to 0")));
  d = Deployment();
  d["spec"].erase("selector");
  EXPECT_THAT(Causes(d),
              ElementsAre(IsCause("FieldValueRequired", "spec.selector", "Required value")));
  d["spec"]["selector"] = {{"matchLabels", json::object()}};
  EXPECT_THAT(Causes(d),
              ElementsAre(IsCause("FieldValueInvalid", "spec.selector",
                                  "Invalid value: v1.LabelSelector{MatchLabels:map[string]"
                                  "string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
                                  ": empty selector is invalid for deployment")));
  json rs = ReplicaSet();
  rs[P("/spec/template/metadata/labels/app")] = "api";
  Status s = ValidateObject(rs, nullptr);
  EXPECT_EQ(s.message(),
            "ReplicaSet.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: "
            "map[string]string{\"app\":\"api\"}: `selector` does not match template `labels`");
}

TEST(ValidationDeployment, TemplateRestartPolicy) {
  json rs = ReplicaSet();
  rs[P("/spec/template/spec/restartPolicy")] = "Never";
  EXPECT_THAT(Causes(rs),
              ElementsAre(IsCause("FieldValueNotSupported", "spec.template.spec.restartPolicy",
                                  "Unsupported value: \"Never\": supported values: "
                                  "\"Always\"")));
}

TEST(ValidationDeployment, Strategy) {
  json d = Deployment();
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  ExpectValid(d);
  d["spec"]["strategy"]["rollingUpdate"] = {{"maxSurge", 1}};
  EXPECT_THAT(Causes(d), ElementsAre(IsCause("FieldValueForbidden", "spec.strategy.rollingUpdate",
                                             "Forbidden: may not be specified when strategy "
                                             "`type` is 'Recreate'")));
  d = Deployment();
  d["spec"]["strategy"] = {{"type", "BlueGreen"}};
  EXPECT_THAT(Causes(d), ElementsAre(IsCause("FieldValueNotSupported", "spec.strategy",
                                             "Unsupported value: apps.DeploymentStrategy{Type:"
                                             "\"BlueGreen\", RollingUpdate:(*apps."
                                             "RollingUpdateDeployment)(nil)}: supported values: "
                                             "\"Recreate\", \"RollingUpdate\"")));
  d = Deployment();
  d[P("/spec/strategy/rollingUpdate")] = {{"maxUnavailable", 0}, {"maxSurge", "0%"}};
  EXPECT_THAT(Causes(d),
              ElementsAre(IsCause("FieldValueInvalid", "spec.strategy.rollingUpdate.maxUnavailable",
                                  "Invalid value: 0: may not be 0 when `maxSurge` is "
                                  "0")));
  d = Deployment();
  d["spec"]["minReadySeconds"] = 600;
  EXPECT_THAT(Causes(d), ElementsAre(IsCause("FieldValueInvalid", "spec.progressDeadlineSeconds",
                                             "Invalid value: 600: must be greater than "
                                             "minReadySeconds")));
}

TEST(ValidationDeployment, SelectorIsImmutable) {
  json old_d = Deployment();
  json d = old_d;
  d["spec"]["replicas"] = 10;
  d[P("/spec/template/spec/containers/0/image")] = "nginx:1.28";
  ExpectValid(d, &old_d);
  d[P("/spec/selector/matchLabels/tier")] = "web";
  d[P("/spec/template/metadata/labels/tier")] = "web";
  EXPECT_THAT(Causes(d, &old_d),
              ElementsAre(IsCause("FieldValueInvalid", "spec.selector",
                                  "Invalid value: v1.LabelSelector{MatchLabels:map[string]"
                                  "string{\"app\":\"web\", \"tier\":\"web\"}, MatchExpressions:"
                                  "[]v1.LabelSelectorRequirement(nil)}: field is immutable")));
  json old_rs = ReplicaSet();
  json rs = old_rs;
  rs["spec"]["selector"] = {{"matchExpressions", {{{"key", "app"}, {"operator", "Exists"}}}}};
  EXPECT_THAT(Causes(rs, &old_rs), ElementsAre(OnField("spec.selector")));
}

// ---------------------------------------------------------------------------
// Service and Endpoints.

TEST(ValidationService, CanonicalIsValid) { ExpectValid(Service()); }

TEST(ValidationService, PortsRequiredUnlessHeadlessOrExternalName) {
  json svc = Service();
  svc["spec"]["ports"] = json::array();
  EXPECT_THAT(Causes(svc),
              ElementsAre(IsCause("FieldValueRequired", "spec.ports", "Required value")));
  svc["spec"]["clusterIP"] = "None";
  svc["spec"]["clusterIPs"] = {"None"};
  ExpectValid(svc);
  json ext = Service();
  ext["spec"] = {{"type", "ExternalName"}, {"externalName", "db.example.com."}};
  ExpectValid(ext);
  ext["spec"].erase("externalName");
  EXPECT_THAT(Causes(ext),
              ElementsAre(IsCause("FieldValueRequired", "spec.externalName", "Required value")));
  ext["spec"]["externalName"] = "bad_name";
  EXPECT_THAT(Causes(ext), ElementsAre(OnField("spec.externalName")));
}

TEST(ValidationService, Ports) {
  json svc = Service();
  svc[P("/spec/ports/0/port")] = 0;
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause("FieldValueInvalid", "spec.ports[0].port",
                                               "Invalid value: 0: must be between 1 and 65535, "
                                               "inclusive")));
  svc = Service();
  svc[P("/spec/ports/1")] = {{"port", 443}, {"protocol", "TCP"}, {"targetPort", 8443}};
  EXPECT_THAT(Causes(svc),
              ElementsAre(IsCause("FieldValueRequired", "spec.ports[1].name", "Required value")));
  svc[P("/spec/ports/1/name")] = "http";
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause("FieldValueDuplicate", "spec.ports[1].name",
                                               "Duplicate value: \"http\"")));
  svc[P("/spec/ports/1/name")] = "https";
  ExpectValid(svc);
  svc[P("/spec/ports/1/port")] = 80;
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause(
                               "FieldValueDuplicate", "spec.ports[1]",
                               "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", "
                               "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{"
                               "Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")));
  svc[P("/spec/ports/1/protocol")] = "UDP";
  ExpectValid(svc);
  svc[P("/spec/ports/1/protocol")] = "QUIC";
  EXPECT_THAT(Causes(svc), ElementsAre(OnField("spec.ports[1].protocol")));
}

TEST(ValidationService, TargetPortAndNodePort) {
  json svc = Service();
  svc[P("/spec/ports/0/targetPort")] = 8080;
  ExpectValid(svc);
  svc[P("/spec/ports/0/targetPort")] = "Http_Port";
  EXPECT_THAT(Causes(svc), Contains(OnField("spec.ports[0].targetPort")));
  svc[P("/spec/ports/0/targetPort")] = 0;
  EXPECT_THAT(Causes(svc), ElementsAre(OnField("spec.ports[0].targetPort")));
  svc = Service();
  svc[P("/spec/ports/0/nodePort")] = 30080;
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause("FieldValueForbidden", "spec.ports[0].nodePort",
                                               "Forbidden: may not be used when `type` is "
                                               "'ClusterIP'")));
  svc["spec"]["type"] = "NodePort";
  ExpectValid(svc);
}

TEST(ValidationService, TypeAndClusterIp) {
  json svc = Service();
  svc["spec"]["type"] = "Internal";
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause("FieldValueNotSupported", "spec.type",
                                               "Unsupported value: \"Internal\": supported "
                                               "values: \"ClusterIP\", \"ExternalName\", "
                                               "\"LoadBalancer\", \"NodePort\"")));
  svc = Service();
  svc["spec"]["clusterIP"] = "10.96.0.300";
  svc["spec"]["clusterIPs"] = {"10.96.0.300"};
  EXPECT_THAT(Causes(svc), ElementsAre(IsCause("FieldValueInvalid", "spec.clusterIPs[0]",
                                               "Invalid value: \"10.96.0.300\": must be a valid "
                                               "IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")));
}

TEST(ValidationService, ClusterIpIsImmutable) {
  json old_svc = Service();
  json svc = old_svc;
  svc["spec"]["selector"]["tier"] = "front";
  ExpectValid(svc, &old_svc);
  svc["spec"]["clusterIP"] = "10.96.0.11";
  svc["spec"]["clusterIPs"] = {"10.96.0.11"};
  Status s = ValidateObject(svc, &old_svc);
  EXPECT_EQ(s.message(),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: "
            "[]string{\"10.96.0.11\"}: may not change once set");
  svc["spec"].erase("clusterIP");
  svc["spec"].erase("clusterIPs");
  EXPECT_THAT(Causes(svc, &old_svc),
              ElementsAre(IsCause("FieldValueInvalid", "spec.clusterIPs[0]",
                                  "Invalid value: []string(nil): primary clusterIP can not be "
                                  "unset")));
  json ext = svc;
  ext["spec"] = {{"type", "ExternalName"}, {"externalName", "db.example.com"}};
  ExpectValid(ext, &old_svc);
}

TEST(ValidationEndpoints, AddressesAndPorts) {
  json ep = Named("v1", "Endpoints", "web");
  ep["subsets"] = {{{"addresses", {{{"ip", "10.244.0.5"}, {"hostname", "web-0"}}}},
                    {"ports", {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}}};
  ExpectValid(ep);
  json bad_ip = ep;
  bad_ip[P("/subsets/0/addresses/0/ip")] = "10.244.0";
  EXPECT_THAT(Causes(bad_ip), ElementsAre(IsCause("FieldValueInvalid", "subsets[0].addresses[0].ip",
                                                  "Invalid value: \"10.244.0\": must be a valid "
                                                  "IP address, (e.g. 10.9.8.7 or "
                                                  "2001:db8::ffff)")));
  json v6 = ep;
  v6[P("/subsets/0/addresses/0/ip")] = "fd00::5";
  ExpectValid(v6);
  json bad_port = ep;
  bad_port[P("/subsets/0/ports/0/port")] = 65536;
  EXPECT_THAT(Causes(bad_port), ElementsAre(OnField("subsets[0].ports[0].port")));
  json empty = ep;
  empty[P("/subsets/0/addresses")] = json::array();
  EXPECT_THAT(Causes(empty), ElementsAre(IsCause("FieldValueRequired", "subsets[0]",
                                                 "Required value: must specify `addresses` or "
                                                 "`notReadyAddresses`")));
}

// ---------------------------------------------------------------------------
// ConfigMap and Secret.

TEST(ValidationConfigMap, Keys) {
  json cm = Named("v1", "ConfigMap", "cfg");
  cm["data"] = {{"app.properties", "a=b"}, {"KEY_2", "x"}};
  cm["binaryData"] = {{"logo.png", "iVBORw0KGgo="}};
  ExpectValid(cm);
  cm["data"]["bad key"] = "x";
  EXPECT_THAT(Causes(cm),
              ElementsAre(IsCause(
                  "FieldValueInvalid", "data[bad key]",
                  "Invalid value: \"bad key\": a valid config key must consist of alphanumeric "
                  "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                  "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")));
  cm["data"].erase("bad key");
  cm["data"][".."] = "x";
  EXPECT_THAT(Causes(cm), ElementsAre(IsCause("FieldValueInvalid", "data[..]",
                                              "Invalid value: \"..\": must not be '..'")));
  cm["data"].erase("..");
  cm["data"]["logo.png"] = "x";
  EXPECT_THAT(Causes(cm),
              ElementsAre(IsCause("FieldValueInvalid", "data[logo.png]",
                                  "Invalid value: \"logo.png\": duplicate of key present in "
                                  "binaryData"),
                          IsCause("FieldValueInvalid", "binaryData[logo.png]",
                                  "Invalid value: \"logo.png\": duplicate of key present in "
                                  "data")));
}

TEST(ValidationConfigMap, TotalSize) {
  json cm = Named("v1", "ConfigMap", "big");
  cm["data"] = {{"a", std::string(1024 * 1024, 'x')}};
  ExpectValid(cm);
  cm["data"]["b"] = "y";
  Status s = ValidateObject(cm, nullptr);
  EXPECT_EQ(s.message(),
            "ConfigMap \"big\" is invalid: : Too long: must have at most 1048576 bytes");
  EXPECT_THAT(s.causes(), ElementsAre(IsCause("FieldValueTooLong", "",
                                              "Too long: must have at most 1048576 bytes")));
}

TEST(ValidationConfigMap, ImmutableStaysSo) {
  json old_cm = Named("v1", "ConfigMap", "cfg");
  old_cm["data"] = {{"a", "1"}};
  json cm = old_cm;
  cm["data"]["a"] = "2";
  ExpectValid(cm, &old_cm);
  old_cm["immutable"] = true;
  cm["immutable"] = true;
  EXPECT_THAT(Causes(cm, &old_cm),
              ElementsAre(IsCause("FieldValueForbidden", "data",
                                  "Forbidden: field is immutable when `immutable` is set")));
  cm = old_cm;
  cm["immutable"] = false;
  EXPECT_THAT(Causes(cm, &old_cm), ElementsAre(OnField("immutable")));
}

TEST(ValidationSecret, DataIsBase64) {
  json secret = Named("v1", "Secret", "creds");
  secret["type"] = "Opaque";
  secret["data"] = {{"password", "c2VjcmV0"}, {"empty", ""}};
  secret["stringData"] = {{"user", "admin"}};
  ExpectValid(secret);
  secret["data"]["password"] = "not base64!";
  EXPECT_THAT(Causes(secret),
              ElementsAre(IsCause("FieldValueInvalid", "data[password]",
                                  "Invalid value: \"<secret contents redacted>\": illegal base64 "
                                  "data at input byte 3")));
  secret["data"]["password"] = "c2VjcmV";  // truncated
  EXPECT_THAT(Causes(secret), ElementsAre(OnField("data[password]")));
}

TEST(ValidationSecret, KeysSizeAndTypes) {
  json secret = Named("v1", "Secret", "creds");
  secret["stringData"] = {{"bad/key", "x"}};
  EXPECT_THAT(Causes(secret), ElementsAre(OnField("data[bad/key]")));
  secret["stringData"] = {{"big", std::string(1024 * 1024 + 1, 'x')}};
  EXPECT_THAT(Causes(secret), ElementsAre(IsCause("FieldValueTooLong", "data",
                                                  "Too long: must have at most 1048576 "
                                                  "bytes")));
  json tls = Named("v1", "Secret", "tls");
  tls["type"] = "kubernetes.io/tls";
  tls["data"] = {{"tls.crt", "Y2VydA=="}};
  EXPECT_THAT(Causes(tls),
              ElementsAre(IsCause("FieldValueRequired", "data[tls.key]", "Required value")));
  tls["data"]["tls.key"] = "a2V5";
  ExpectValid(tls);
}

TEST(ValidationSecret, TypeAndImmutableOnUpdate) {
  json old_secret = Named("v1", "Secret", "creds");
  old_secret["type"] = "Opaque";
  json secret = old_secret;
  secret["type"] = "kubernetes.io/basic-auth";
  secret["stringData"] = {{"username", "u"}};
  EXPECT_THAT(Causes(secret, &old_secret),
              ElementsAre(IsCause("FieldValueInvalid", "type",
                                  "Invalid value: \"kubernetes.io/basic-auth\": field is "
                                  "immutable")));
  old_secret["immutable"] = true;
  secret = old_secret;
  secret["data"] = {{"k", "dg=="}};
  EXPECT_THAT(Causes(secret, &old_secret), ElementsAre(OnField("data")));
}

// ---------------------------------------------------------------------------
// Storage.

TEST(ValidationPvc, Spec) {
  ExpectValid(Pvc());
  json pvc = Pvc();
  pvc["spec"]["accessModes"] = {"ReadWriteSometimes"};
  EXPECT_THAT(Causes(pvc), ElementsAre(IsCause("FieldValueNotSupported", "spec.accessModes",
                                               "Unsupported value: \"ReadWriteSometimes\": "
                                               "supported values: \"ReadOnlyMany\", "
                                               "\"ReadWriteMany\", \"ReadWriteOnce\", "
                                               "\"ReadWriteOncePod\"")));
  pvc["spec"]["accessModes"] = {"ReadWriteOncePod", "ReadOnlyMany"};
  EXPECT_THAT(Causes(pvc), ElementsAre(OnField("spec.accessModes")));
  pvc = Pvc();
  pvc[P("/spec/resources/requests")].erase("storage");
  EXPECT_THAT(Causes(pvc), ElementsAre(IsCause("FieldValueRequired", "spec.resources[storage]",
                                               "Required value")));
  pvc[P("/spec/resources/requests/storage")] = "0";
  EXPECT_THAT(Causes(pvc), ElementsAre(IsCause("FieldValueInvalid", "spec.resources[storage]",
                                               "Invalid value: \"0\": must be greater than "
                                               "zero")));
  pvc = Pvc();
  pvc["spec"]["storageClassName"] = "Fast_SSD";
  EXPECT_THAT(Causes(pvc), ElementsAre(OnField("spec.storageClassName")));
}

TEST(ValidationPvc, UpdateMayOnlyGrowAndBind) {
  json old_pvc = Pvc();
  json pvc = old_pvc;
  pvc[P("/spec/resources/requests/storage")] = "2Gi";
  pvc["spec"]["volumeName"] = "pv-1";
  ExpectValid(pvc, &old_pvc);
  pvc[P("/spec/resources/requests/storage")] = "1023Mi";
  EXPECT_THAT(Causes(pvc, &old_pvc),
              ElementsAre(IsCause("FieldValueForbidden", "spec.resources.requests.storage",
                                  "Forbidden: field can not be less than previous value")));
  pvc = old_pvc;
  pvc["spec"]["accessModes"] = {"ReadWriteMany"};
  EXPECT_THAT(Causes(pvc, &old_pvc),
              ElementsAre(IsCause("FieldValueForbidden", "spec",
                                  "Forbidden: spec is immutable after creation except "
                                  "resources.requests and volumeAttributesClassName for bound "
                                  "claims")));
  json bound = old_pvc;
  bound["spec"]["volumeName"] = "pv-1";
  pvc = bound;
  pvc["spec"]["volumeName"] = "pv-2";
  EXPECT_THAT(Causes(pvc, &bound), ElementsAre(OnField("spec")));
}

TEST(ValidationPv, Spec) {
  ExpectValid(Pv());
  json pv = Pv();
  pv["spec"].erase("capacity");
  EXPECT_THAT(Causes(pv),
              ElementsAre(IsCause("FieldValueRequired", "spec.capacity", "Required value")));
  pv = Pv();
  pv["spec"]["nfs"] = {{"server", "nfs.local"}, {"path", "/exports"}};
  EXPECT_THAT(Causes(pv), ElementsAre(IsCause("FieldValueForbidden", "spec.nfs",
                                              "Forbidden: may not specify more than 1 volume "
                                              "type")));
  pv = Pv();
  pv["spec"].erase("hostPath");
  EXPECT_THAT(Causes(pv), ElementsAre(IsCause("FieldValueRequired", "spec",
                                              "Required value: must specify a volume type")));
  pv = Pv();
  pv["spec"]["persistentVolumeReclaimPolicy"] = "Shred";
  EXPECT_THAT(Causes(pv), ElementsAre(OnField("spec.persistentVolumeReclaimPolicy")));
  pv = Pv();
  pv["spec"]["local"] = {{"path", "/mnt/disk"}};
  pv["spec"].erase("hostPath");
  EXPECT_THAT(Causes(pv), ElementsAre(IsCause("FieldValueRequired", "spec.nodeAffinity",
                                              "Required value: Local volume requires node "
                                              "affinity")));
  pv = Pv();
  pv[P("/spec/capacity/storage")] = "0";
  EXPECT_THAT(Causes(pv), ElementsAre(OnField("spec.capacity[storage]")));
}

TEST(ValidationPv, SourceIsImmutable) {
  json old_pv = Pv();
  json pv = old_pv;
  pv[P("/spec/capacity/storage")] = "20Gi";
  ExpectValid(pv, &old_pv);
  pv[P("/spec/hostPath/path")] = "/elsewhere";
  EXPECT_THAT(Causes(pv, &old_pv),
              ElementsAre(IsCause("FieldValueForbidden", "spec.persistentvolumesource",
                                  "Forbidden: spec.persistentvolumesource is immutable after "
                                  "creation")));
}

TEST(ValidationStorageClass, CreateAndUpdate) {
  json sc = Named("storage.k8s.io/v1", "StorageClass", "local", false);
  sc["provisioner"] = "kennel.io/local-path";
  sc["reclaimPolicy"] = "Delete";
  sc["volumeBindingMode"] = "WaitForFirstConsumer";
  sc["parameters"] = {{"dir", "/var/lib/kennel/volumes"}};
  ExpectValid(sc);
  json bad = sc;
  bad.erase("provisioner");
  EXPECT_THAT(Causes(bad),
              ElementsAre(IsCause("FieldValueRequired", "provisioner", "Required value")));
  bad = sc;
  bad["reclaimPolicy"] = "Recycle";
  EXPECT_THAT(Causes(bad), ElementsAre(IsCause("FieldValueNotSupported", "reclaimPolicy",
                                               "Unsupported value: \"Recycle\": supported "
                                               "values: \"Delete\", \"Retain\"")));
  bad = sc;
  bad["volumeBindingMode"] = "Later";
  EXPECT_THAT(Causes(bad), ElementsAre(OnField("volumeBindingMode")));

  json updated = sc;
  updated["allowVolumeExpansion"] = true;
  ExpectValid(updated, &sc);
  updated["parameters"]["dir"] = "/srv";
  updated["provisioner"] = "other.io/x";
  EXPECT_THAT(Causes(updated, &sc),
              ElementsAre(IsCause("FieldValueForbidden", "parameters",
                                  "Forbidden: updates to parameters are forbidden."),
                          IsCause("FieldValueForbidden", "provisioner",
                                  "Forbidden: updates to provisioner are forbidden.")));
}

// ---------------------------------------------------------------------------
// Other kinds.

TEST(ValidationNamespace, Finalizers) {
  json ns = Named("v1", "Namespace", "team-a", false);
  ns["spec"] = {{"finalizers", {"kubernetes"}}};
  ExpectValid(ns);
  ns["spec"]["finalizers"] = {"not/a/name"};
  EXPECT_THAT(Causes(ns), ElementsAre(OnField("spec.finalizers")));
}

TEST(ValidationNode, TaintsAndCidrs) {
  json node = Named("v1", "Node", "node-1", false);
  node["spec"] = {{"podCIDR", "10.244.1.0/24"},
                  {"podCIDRs", {"10.244.1.0/24"}},
                  {"taints", {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}}}};
  ExpectValid(node);
  json bad = node;
  bad[P("/spec/taints/0/effect")] = "Never";
  EXPECT_THAT(Causes(bad), ElementsAre(IsCause("FieldValueNotSupported", "spec.taints[0].effect",
                                               "Unsupported value: \"Never\": supported values: "
                                               "\"NoSchedule\", \"PreferNoSchedule\", "
                                               "\"NoExecute\"")));
  bad = node;
  bad[P("/spec/taints/1")] = bad[P("/spec/taints/0")];
  EXPECT_THAT(Causes(bad),
              ElementsAre(IsCause("FieldValueDuplicate", "spec.taints[1]",
                                  "Duplicate value: core.Taint{Key:\"dedicated\", Value:\"db\", "
                                  "Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must "
                                  "be unique by key and effect pair")));
  bad = node;
  bad[P("/spec/podCIDRs/0")] = "10.244.1.0";
  EXPECT_THAT(Causes(bad), ElementsAre(OnField("spec.podCIDRs[0]")));
  json moved = node;
  moved["spec"]["podCIDR"] = "10.244.2.0/24";
  moved["spec"]["podCIDRs"] = {"10.244.2.0/24"};
  EXPECT_THAT(Causes(moved, &node),
              ElementsAre(IsCause("FieldValueForbidden", "spec.podCIDRs",
                                  "Forbidden: node updates may not change podCIDR except from "
                                  "\"\" to valid")));
  json fresh = Named("v1", "Node", "node-1", false);
  ExpectValid(node, &fresh);
}

TEST(ValidationEvent, InvolvedObject) {
  json ev = Named("v1", "Event", "web-0.17a8");
  ev["involvedObject"] = {{"kind", "Pod"}, {"namespace", "default"}, {"name", "web-0"}};
  ev["reason"] = "Scheduled";
  ExpectValid(ev);
  json node_ev = ev;
  node_ev["involvedObject"] = {{"kind", "Node"}, {"name", "node-1"}};
  ExpectValid(node_ev);
  json missing = ev;
  missing.erase("involvedObject");
  EXPECT_THAT(Causes(missing),
              ElementsAre(IsCause("FieldValueRequired", "involvedObject", "Required value")));
  json elsewhere = ev;
  elsewhere[P("/involvedObject/namespace")] = "kube-system";
  EXPECT_THAT(Causes(elsewhere),
              ElementsAre(IsCause("FieldValueInvalid", "involvedObject.namespace",
                                  "Invalid value: \"kube-system\": does not "
                                  "match event.namespace")));
}

TEST(ValidationServiceAccount, NameOnly) {
  ExpectValid(Named("v1", "ServiceAccount", "default"));
  EXPECT_THAT(Causes(Named("v1", "ServiceAccount", "Default")),
              ElementsAre(OnField("metadata.name")));
}

TEST(ValidationControllerRevision, DataAndRevision) {
  json cr = Named("apps/v1", "ControllerRevision", "web-6d4b9c7f5");
  cr["data"] = {{"spec", {{"template", {{"$patch", "replace"}}}}}};
  cr["revision"] = 1;
  ExpectValid(cr);
  json bad = cr;
  bad["revision"] = -1;
  EXPECT_THAT(Causes(bad), ElementsAre(OnField("revision")));
  bad = cr;
  bad.erase("data");
  EXPECT_THAT(Causes(bad), ElementsAre(IsCause("FieldValueRequired", "data",
                                               "Required value: data is mandatory")));
  // A rollback renumbers a revision; its data never changes.
  json renumbered = cr;
  renumbered["revision"] = 5;
  ExpectValid(renumbered, &cr);
  json edited = cr;
  edited[P("/data/spec/template/x")] = 1;
  EXPECT_THAT(Causes(edited, &cr), ElementsAre(OnField("data")));
}

TEST(ValidationLease, Spec) {
  json lease = Named("coordination.k8s.io/v1", "Lease", "kennel-controllers");
  lease["spec"] = {{"holderIdentity", "server-1"},
                   {"leaseDurationSeconds", 15},
                   {"leaseTransitions", 0},
                   {"renewTime", "2026-01-01T00:00:00.000000Z"}};
  ExpectValid(lease);
  lease["spec"]["leaseDurationSeconds"] = 0;
  EXPECT_THAT(Causes(lease), ElementsAre(IsCause("FieldValueInvalid", "spec.leaseDurationSeconds",
                                                 "Invalid value: 0: must be greater than 0")));
  lease["spec"]["leaseDurationSeconds"] = 15;
  lease["spec"]["leaseTransitions"] = -1;
  EXPECT_THAT(Causes(lease), ElementsAre(OnField("spec.leaseTransitions")));
}

// ---------------------------------------------------------------------------
// PriorityClass.

json PriorityClass(const std::string& name, int64_t value) {
  json pc = Named("scheduling.k8s.io/v1", "PriorityClass", name, false);
  pc["value"] = value;
  pc["preemptionPolicy"] = "PreemptLowerPriority";
  return pc;
}

TEST(ValidationPriorityClass, UserClassesUpToOneBillion) {
  ExpectValid(PriorityClass("high", 1000000000));
  ExpectValid(PriorityClass("negative", -2147483648LL));
  json never = PriorityClass("batch", 10);
  never["preemptionPolicy"] = "Never";
  never["globalDefault"] = true;
  never["description"] = "batch jobs";
  ExpectValid(never);
  Status s = ValidateObject(PriorityClass("too-high", 1000000001), nullptr);
  ASSERT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "PriorityClass.scheduling.k8s.io \"too-high\" is invalid: value: Forbidden: maximum "
            "allowed value of a user defined priority is 1000000000");
  EXPECT_THAT(s.causes(), ElementsAre(IsCause("FieldValueForbidden", "value",
                                              "Forbidden: maximum allowed value of a user "
                                              "defined priority is 1000000000")));
}

TEST(ValidationPriorityClass, SystemPrefixIsReservedForTheBuiltInClasses) {
  ExpectValid(PriorityClass("system-node-critical", 2000001000));
  ExpectValid(PriorityClass("system-cluster-critical", 2000000000));
  EXPECT_THAT(Causes(PriorityClass("system-mine", 10)),
              ElementsAre(IsCause("FieldValueForbidden", "metadata.name",
                                  "Forbidden: priority class names with 'system-' prefix are "
                                  "reserved for system use only. error: system-mine is not a "
                                  "known system priority class")));
  EXPECT_THAT(Causes(PriorityClass("system-node-critical", 5)),
              ElementsAre(IsCause("FieldValueForbidden", "metadata.name",
                                  "Forbidden: priority class names with 'system-' prefix are "
                                  "reserved for system use only. error: value of "
                                  "system-node-critical PriorityClass must be 2000001000")));
  json default_system = PriorityClass("system-cluster-critical", 2000000000);
  default_system["globalDefault"] = true;
  EXPECT_THAT(Causes(default_system),
              ElementsAre(IsCause("FieldValueForbidden", "metadata.name",
                                  "Forbidden: priority class names with 'system-' prefix are "
                                  "reserved for system use only. error: globalDefault of "
                                  "system-cluster-critical PriorityClass must be false")));
}

TEST(ValidationPriorityClass, ValueIsAnInt32AndPolicyAnEnum) {
  json pc = PriorityClass("p", 1);
  pc["value"] = "high";
  EXPECT_THAT(Causes(pc), ElementsAre(IsCause("FieldValueTypeInvalid", "value",
                                              "Invalid value: \"high\": must be of type "
                                              "integer")));
  pc["value"] = 3000000000LL;
  EXPECT_THAT(Causes(pc), Contains(IsCause("FieldValueTypeInvalid", "value",
                                           "Invalid value: 3000000000: must be of type int32")));
  pc = PriorityClass("p", 1);
  pc["preemptionPolicy"] = "Sometimes";
  EXPECT_THAT(Causes(pc), ElementsAre(IsCause("FieldValueNotSupported", "preemptionPolicy",
                                              "Unsupported value: \"Sometimes\": supported "
                                              "values: \"PreemptLowerPriority\", \"Never\"")));
  pc["preemptionPolicy"] = "";
  EXPECT_THAT(Causes(pc),
              ElementsAre(IsCause("FieldValueRequired", "preemptionPolicy", "Required value")));
}

TEST(ValidationPriorityClass, ValueAndPreemptionPolicyAreImmutable) {
  json old_pc = PriorityClass("high", 1000);
  json pc = old_pc;
  pc["description"] = "now described";
  pc["globalDefault"] = true;
  ExpectValid(pc, &old_pc);
  pc["value"] = 2000;
  EXPECT_THAT(Causes(pc, &old_pc),
              ElementsAre(IsCause("FieldValueForbidden", "value",
                                  "Forbidden: may not be changed in an update.")));
  pc = old_pc;
  pc["preemptionPolicy"] = "Never";
  EXPECT_THAT(Causes(pc, &old_pc),
              ElementsAre(IsCause("FieldValueInvalid", "preemptionPolicy",
                                  "Invalid value: \"Never\": field is immutable")));
  // The create-only rules are not re-checked: the built-in classes stay updatable.
  json system = PriorityClass("system-node-critical", 2000001000);
  json labelled = system;
  labelled["metadata"]["labels"] = {{"tier", "system"}};
  ExpectValid(labelled, &system);
}

TEST(ValidationPod, PriorityFieldsAreTyped) {
  json pod = Pod();
  pod["spec"]["priorityClassName"] = "high";
  pod["spec"]["priority"] = 1000;
  pod["spec"]["preemptionPolicy"] = "Never";
  ExpectValid(pod);
  pod["spec"]["priorityClassName"] = "High_Class";
  pod["spec"]["priority"] = "1000";
  pod["spec"]["preemptionPolicy"] = "Sometimes";
  std::vector<StatusCause> causes = Causes(pod);
  EXPECT_THAT(causes, Contains(OnField("spec.priorityClassName")));
  EXPECT_THAT(causes, Contains(IsCause("FieldValueTypeInvalid", "spec.priority",
                                       "Invalid value: \"1000\": must be of type integer")));
  EXPECT_THAT(causes, Contains(OnField("spec.preemptionPolicy")));
}

TEST(ValidationPod, PriorityIsImmutableOnUpdate) {
  json old_pod = Pod();
  old_pod["spec"]["priorityClassName"] = "high";
  old_pod["spec"]["priority"] = 1000;
  old_pod["spec"]["preemptionPolicy"] = "PreemptLowerPriority";
  const json changes[] = {
      {{"priority", 5}}, {{"priorityClassName", "other"}}, {{"preemptionPolicy", "Never"}}};
  for (const json& change : changes) {
    json pod = old_pod;
    pod["spec"].update(change);
    EXPECT_THAT(Causes(pod, &old_pod), ElementsAre(OnField("spec"))) << change;
  }
}

TEST(ValidationAllKinds, EveryServedKindHasWorkingRules) {
  // Each served kind, named badly, reports the name and nothing throws.
  for (const char* api_kind :
       {"v1/Namespace", "v1/Pod", "v1/Service", "v1/Endpoints", "v1/ConfigMap", "v1/Secret",
        "v1/Node", "v1/Event", "v1/PersistentVolume", "v1/PersistentVolumeClaim",
        "v1/ServiceAccount", "apps/v1/StatefulSet", "apps/v1/Deployment", "apps/v1/ReplicaSet",
        "apps/v1/ControllerRevision", "storage.k8s.io/v1/StorageClass",
        "coordination.k8s.io/v1/Lease", "scheduling.k8s.io/v1/PriorityClass"}) {
    std::string s = api_kind;
    std::string kind = s.substr(s.rfind('/') + 1);
    json obj = {{"apiVersion", s.substr(0, s.rfind('/'))},
                {"kind", kind},
                {"metadata", {{"name", "Bad Name"}, {"namespace", "default"}}},
                {"spec", "garbage"}};
    Status st = ValidateObject(obj, &obj);
    EXPECT_TRUE(st.ok() || st.code() == Code::kInvalid) << kind << ": " << st.ToString();
    st = ValidateObject(obj, nullptr);
    EXPECT_EQ(st.code(), Code::kInvalid) << kind;
    EXPECT_THAT(st.causes(), Contains(OnField("metadata.name"))) << kind;
  }
}

}  // namespace
}  // namespace kennel::api
