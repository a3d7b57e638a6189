#include "api/openapi.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "api/registry.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string PathOf(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

json Doc(std::string_view gv_path) {
  StatusOr<json> doc = OpenApiDocument(gv_path);
  EXPECT_TRUE(doc.ok()) << gv_path << ": " << doc.status().ToString();
  return doc.ok() ? *doc : json::object();
}

const json& Schema(const json& doc, const std::string& name) {
  static const json kNull;
  const json& schemas = doc["components"]["schemas"];
  auto it = schemas.find(name);
  if (it == schemas.end()) {
    ADD_FAILURE() << "missing schema " << name;
    return kNull;
  }
  return *it;
}

// Follows {"allOf":[{"$ref":...}]} or {"$ref":...} to the named schema.
std::string RefName(const json& field) {
  const json* ref = nullptr;
  if (field.contains("$ref")) ref = &field["$ref"];
  if (field.contains("allOf")) ref = &field["allOf"][0]["$ref"];
  if (ref == nullptr || !ref->is_string()) return "";
  return ref->get<std::string>().substr(std::string("#/components/schemas/").size());
}

// The kubectl query-param verifier: the first PATCH operation for `gvk` decides.
bool PatchSupportsFieldValidation(const json& doc, const json& gvk) {
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    const json& op = item["patch"];
    if (op.value("x-kubernetes-group-version-kind", json()) != gvk) continue;
    for (const json& p : op["parameters"]) {
      if (p["name"] == "fieldValidation") return true;
    }
    return false;
  }
  return false;
}

TEST(OpenApiIndex, ListsEveryServedGroupVersion) {
  const json index = OpenApiIndex();
  ASSERT_TRUE(index["paths"].is_object());
  std::set<std::string> want;
  for (const GroupVersion& gv : ServedGroupVersions()) want.insert(PathOf(gv));
  std::set<std::string> got;
  for (const auto& [path, entry] : index["paths"].items()) {
    got.insert(path);
    ASSERT_TRUE(entry["serverRelativeURL"].is_string());
    EXPECT_THAT(entry["serverRelativeURL"].get<std::string>(),
                StartsWith("/openapi/v3/" + path + "?hash="));
  }
  EXPECT_EQ(got, want);
  EXPECT_TRUE(got.count("api/v1"));
  EXPECT_TRUE(got.count("apis/apps/v1"));
}

TEST(OpenApiIndex, HashesAreStableAndDistinct) {
  const json a = OpenApiIndex();
  const json b = OpenApiIndex();
  EXPECT_EQ(a, b);
  std::set<std::string> urls;
  for (const auto& [path, entry] : a["paths"].items()) {
    const std::string url = entry["serverRelativeURL"];
    const std::string hash = url.substr(url.find("?hash=") + 6);
    EXPECT_EQ(hash.size(), 16u) << url;
    EXPECT_EQ(hash.find_first_not_of("0123456789ABCDEF"), std::string::npos) << url;
    urls.insert(hash);
  }
  EXPECT_EQ(urls.size(), a["paths"].size());  // different documents, different hashes
}

TEST(OpenApiDocument, UnknownGroupVersionIsNotFound) {
  EXPECT_EQ(OpenApiDocument("apis/batch/v1").status().code(), Code::kNotFound);
  EXPECT_EQ(OpenApiDocument("api/v2").status().code(), Code::kNotFound);
  EXPECT_EQ(OpenApiDocument("").status().code(), Code::kNotFound);
  EXPECT_TRUE(OpenApiDocument("/apis/apps/v1").ok());
}

TEST(OpenApiDocument, HasOpenApiHeader) {
  for (const GroupVersion& gv : ServedGroupVersions()) {
    const json doc = Doc(PathOf(gv));
    EXPECT_EQ(doc["openapi"], "3.0.0");
    EXPECT_EQ(doc["info"]["title"], "Kubernetes");
    EXPECT_EQ(doc["info"]["version"], "v1.32.0");
    EXPECT_TRUE(doc["paths"].is_object());
    EXPECT_TRUE(doc["components"]["schemas"].is_object());
  }
}

TEST(OpenApiDocument, EveryKindPatchTakesFieldValidation) {
  for (const ResourceInfo& info : AllResources()) {
    const json doc = Doc(PathOf({info.group, info.version}));
    const json gvk = {{"group", info.group}, {"version", info.version}, {"kind", info.kind}};
    EXPECT_TRUE(PatchSupportsFieldValidation(doc, gvk)) << info.kind;
  }
}

TEST(OpenApiDocument, StatefulSetItemPathOperations) {
  const json doc = Doc("apis/apps/v1");
  const json& item = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"];
  ASSERT_TRUE(item.is_object());
  const json gvk = {{"group", "apps"}, {"version", "v1"}, {"kind", "StatefulSet"}};
  for (const char* verb : {"get", "put", "patch", "delete"}) {
    ASSERT_TRUE(item.contains(verb)) << verb;
    EXPECT_EQ(item[verb]["x-kubernetes-group-version-kind"], gvk) << verb;
  }
  EXPECT_EQ(item["patch"]["operationId"], "patchAppsV1NamespacedStatefulSet");
  EXPECT_EQ(item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.StatefulSet");
  std::set<std::string> params;
  for (const json& p : item["patch"]["parameters"]) params.insert(p["name"]);
  EXPECT_TRUE(params.count("fieldValidation"));
  EXPECT_TRUE(params.count("fieldManager"));
  EXPECT_TRUE(params.count("force"));
  std::set<std::string> put_params;
  for (const json& p : item["put"]["parameters"]) put_params.insert(p["name"]);
  EXPECT_TRUE(put_params.count("fieldValidation"));
}

TEST(OpenApiDocument, PatchBodyOmitsStrategicMergeSoKubectlUsesBuiltinPatchMeta) {
  const json doc = Doc("apis/apps/v1");
  const json& content = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]
                           ["patch"]["requestBody"]["content"];
  EXPECT_TRUE(content.contains("application/merge-patch+json"));
  EXPECT_TRUE(content.contains("application/json-patch+json"));
  EXPECT_TRUE(content.contains("application/apply-patch+yaml"));
  EXPECT_FALSE(content.contains("application/strategic-merge-patch+json"));
}

TEST(OpenApiDocument, CollectionAndSubresourcePaths) {
  const json apps = Doc("apis/apps/v1");
  const json& coll = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets"];
  EXPECT_EQ(coll["get"]["x-kubernetes-action"], "list");
  EXPECT_EQ(coll["post"]["x-kubernetes-group-version-kind"]["kind"], "StatefulSet");
  EXPECT_EQ(coll["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.StatefulSetList");
  EXPECT_TRUE(apps["paths"].contains("/apis/apps/v1/statefulsets"));
  const json& scale =
      apps["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale"];
  EXPECT_EQ(scale["patch"]["x-kubernetes-group-version-kind"],
            json({{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}));
  EXPECT_TRUE(
      apps["paths"].contains("/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/status"));
  EXPECT_FALSE(apps["paths"].contains(
      "/apis/apps/v1/namespaces/{namespace}/controllerrevisions/{name}/status"));

  const json core = Doc("api/v1");
  EXPECT_TRUE(core["paths"].contains("/api/v1/namespaces/{name}"));  // cluster-scoped
  EXPECT_TRUE(core["paths"].contains("/api/v1/nodes/{name}"));
  EXPECT_TRUE(core["paths"].contains("/api/v1/namespaces/{namespace}/pods/{name}"));
  EXPECT_FALSE(core["paths"].contains("/api/v1/namespaces/{namespace}/nodes/{name}"));
  const json& ns_item = core["paths"]["/api/v1/namespaces/{name}"];
  for (const json& p : ns_item["parameters"]) EXPECT_NE(p["name"], "namespace");
  EXPECT_TRUE(Doc("apis/storage.k8s.io/v1")["paths"].contains(
      "/apis/storage.k8s.io/v1/storageclasses/{name}"));
  EXPECT_TRUE(Doc("apis/coordination.k8s.io/v1")["paths"].contains(
      "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"));
}

TEST(OpenApiDocument, EveryRefResolvesWithinItsDocument) {
  for (const GroupVersion& gv : ServedGroupVersions()) {
    const json doc = Doc(PathOf(gv));
    const std::string text = doc.dump();
    const std::string needle = "\"$ref\":\"#/components/schemas/";
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      const size_t start = pos + needle.size();
      const std::string name = text.substr(start, text.find('"', start) - start);
      EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << PathOf(gv) << ": " << name;
    }
  }
}

TEST(OpenApiDocument, TopLevelKindsCarryGvkArrays) {
  for (const ResourceInfo& info : AllResources()) {
    const json doc = Doc(PathOf({info.group, info.version}));
    const std::string g = info.group.empty() ? "core" : info.group.substr(0, info.group.find('.'));
    const json& s = Schema(doc, "io.k8s.api." + g + ".v1." + info.kind);
    ASSERT_TRUE(s["x-kubernetes-group-version-kind"].is_array()) << info.kind;
    EXPECT_EQ(s["x-kubernetes-group-version-kind"][0],
              json({{"group", info.group}, {"version", "v1"}, {"kind", info.kind}}));
    EXPECT_EQ(RefName(s["properties"]["metadata"]),
              "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    EXPECT_TRUE(s["properties"]["apiVersion"]["description"].is_string()) << info.kind;
    const json& list = Schema(doc, "io.k8s.api." + g + ".v1." + info.kind + "List");
    EXPECT_EQ(list["x-kubernetes-group-version-kind"][0]["kind"], info.kind + "List");
  }
}

TEST(OpenApiSchemas, ExplainStatefulSetSpecFindsDescribedFields) {
  const json doc = Doc("apis/apps/v1");
  const json& sts = Schema(doc, "io.k8s.api.apps.v1.StatefulSet");
  ASSERT_EQ(RefName(sts["properties"]["spec"]), "io.k8s.api.apps.v1.StatefulSetSpec");
  EXPECT_THAT(sts["properties"]["spec"]["description"].get<std::string>(),
              HasSubstr("desired identities"));
  const json& spec = Schema(doc, "io.k8s.api.apps.v1.StatefulSetSpec");
  EXPECT_EQ(spec["required"], json({"selector", "template"}));
  for (const char* field :
       {"replicas", "selector", "template", "serviceName", "volumeClaimTemplates", "updateStrategy",
        "podManagementPolicy", "revisionHistoryLimit", "minReadySeconds",
        "persistentVolumeClaimRetentionPolicy", "ordinals"}) {
    ASSERT_TRUE(spec["properties"].contains(field)) << field;
    EXPECT_FALSE(spec["properties"][field].value("description", "").empty()) << field;
  }
  EXPECT_EQ(RefName(spec["properties"]["template"]), "io.k8s.api.core.v1.PodTemplateSpec");
  EXPECT_EQ(RefName(spec["properties"]["selector"]),
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector");
  EXPECT_EQ(spec["properties"]["replicas"]["type"], "integer");
  EXPECT_EQ(
      RefName(Schema(
          doc, "io.k8s.api.apps.v1.StatefulSetUpdateStrategy")["properties"]["rollingUpdate"]),
      "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy");
  // Types that apps/v1 borrows from core/v1 travel with it.
  Schema(doc, "io.k8s.api.core.v1.PodSpec");
  Schema(doc, "io.k8s.api.core.v1.PersistentVolumeClaim");
  Schema(doc, "io.k8s.api.core.v1.Container");
}

TEST(OpenApiSchemas, ExplainPodSpecContainersHasMergeMetadata) {
  const json doc = Doc("api/v1");
  const json& pod_spec = Schema(doc, "io.k8s.api.core.v1.PodSpec");
  const json& containers = pod_spec["properties"]["containers"];
  EXPECT_EQ(containers["type"], "array");
  EXPECT_EQ(RefName(containers["items"]), "io.k8s.api.core.v1.Container");
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
  EXPECT_FALSE(containers["description"].get<std::string>().empty());
  const json& volumes = pod_spec["properties"]["volumes"];
  EXPECT_EQ(volumes["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
  EXPECT_EQ(pod_spec["properties"]["initContainers"]["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(pod_spec["x-kubernetes-preserve-unknown-fields"], true);
  EXPECT_FALSE(pod_spec.contains("additionalProperties"));

  const json& container = Schema(doc, "io.k8s.api.core.v1.Container");
  EXPECT_EQ(container["properties"]["env"]["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(container["properties"]["ports"]["x-kubernetes-patch-merge-key"], "containerPort");
  EXPECT_EQ(container["properties"]["volumeMounts"]["x-kubernetes-patch-merge-key"], "mountPath");
  EXPECT_EQ(RefName(container["properties"]["resources"]),
            "io.k8s.api.core.v1.ResourceRequirements");
  EXPECT_EQ(RefName(container["properties"]["livenessProbe"]), "io.k8s.api.core.v1.Probe");
  EXPECT_EQ(container["required"], json({"name"}));
  for (const char* field : {"name", "image", "command", "args", "env", "ports", "resources",
                            "volumeMounts", "imagePullPolicy", "readinessProbe"}) {
    EXPECT_FALSE(container["properties"][field].value("description", "").empty()) << field;
  }
  EXPECT_EQ(container["properties"]["imagePullPolicy"]["enum"],
            json({"Always", "IfNotPresent", "Never"}));
}

TEST(OpenApiSchemas, CoreSchemasDescribeTheMainTypes) {
  const json doc = Doc("api/v1");
  for (const char* name : {"PodSpec",
                           "PodTemplateSpec",
                           "Container",
                           "ContainerPort",
                           "EnvVar",
                           "VolumeMount",
                           "Volume",
                           "ResourceRequirements",
                           "Probe",
                           "ServiceSpec",
                           "ServicePort",
                           "ConfigMap",
                           "Secret",
                           "PersistentVolumeClaimSpec",
                           "PersistentVolumeClaimStatus",
                           "PersistentVolumeSpec",
                           "Namespace",
                           "NodeSpec",
                           "NodeStatus",
                           "Event",
                           "ServiceAccount",
                           "Endpoints"}) {
    const json& s = Schema(doc, std::string("io.k8s.api.core.v1.") + name);
    EXPECT_EQ(s["type"], "object") << name;
    EXPECT_FALSE(s.value("description", "").empty()) << name;
    EXPECT_FALSE(s["properties"].empty()) << name;
  }
  const json& meta = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  for (const char* field : {"name", "namespace", "labels", "annotations", "uid", "resourceVersion",
                            "generation", "creationTimestamp", "deletionTimestamp",
                            "ownerReferences", "finalizers", "managedFields"}) {
    EXPECT_TRUE(meta["properties"].contains(field)) << field;
  }
  EXPECT_EQ(meta["properties"]["ownerReferences"]["x-kubernetes-patch-merge-key"], "uid");
  EXPECT_EQ(meta["properties"]["labels"]["additionalProperties"]["type"], "string");
  const json& svc_spec = Schema(doc, "io.k8s.api.core.v1.ServiceSpec");
  EXPECT_EQ(svc_spec["properties"]["ports"]["x-kubernetes-patch-merge-key"], "port");
  EXPECT_EQ(RefName(Schema(doc, "io.k8s.api.core.v1.ServicePort")["properties"]["targetPort"]),
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
  EXPECT_EQ(RefName(Schema(doc, "io.k8s.api.core.v1.Event")["properties"]["involvedObject"]),
            "io.k8s.api.core.v1.ObjectReference");
  EXPECT_EQ(Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.Time")["format"], "date-time");
  EXPECT_EQ(Schema(doc, "io.k8s.api.core.v1.PersistentVolumeClaimSpec")["properties"]["resources"]
                                                                       ["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.VolumeResourceRequirements");
}

TEST(OpenApiSchemas, OtherGroupsDescribeTheirKinds) {
  const json storage = Doc("apis/storage.k8s.io/v1");
  const json& sc = Schema(storage, "io.k8s.api.storage.v1.StorageClass");
  EXPECT_EQ(sc["required"], json({"provisioner"}));
  EXPECT_TRUE(sc["properties"].contains("volumeBindingMode"));
  const json lease_doc = Doc("apis/coordination.k8s.io/v1");
  const json& lease = Schema(lease_doc, "io.k8s.api.coordination.v1.LeaseSpec");
  EXPECT_FALSE(lease["properties"]["holderIdentity"]["description"].get<std::string>().empty());
  EXPECT_EQ(RefName(lease["properties"]["renewTime"]),
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime");
  const json apps = Doc("apis/apps/v1");
  const json& cr = Schema(apps, "io.k8s.api.apps.v1.ControllerRevision");
  EXPECT_EQ(cr["properties"]["revision"]["format"], "int64");
  EXPECT_EQ(RefName(cr["properties"]["data"]), "io.k8s.apimachinery.pkg.runtime.RawExtension");
  const json& deploy = Schema(apps, "io.k8s.api.apps.v1.DeploymentSpec");
  EXPECT_EQ(RefName(deploy["properties"]["strategy"]), "io.k8s.api.apps.v1.DeploymentStrategy");
  // Documents hold only what they reference: apps/v1 has no Node.
  EXPECT_FALSE(apps["components"]["schemas"].contains("io.k8s.api.core.v1.Node"));
  const json scheduling = Doc("apis/scheduling.k8s.io/v1");
  const json& pc = Schema(scheduling, "io.k8s.api.scheduling.v1.PriorityClass");
  EXPECT_EQ(pc["required"], json({"value"}));
  EXPECT_EQ(pc["properties"]["value"]["format"], "int32");
  EXPECT_EQ(pc["properties"]["globalDefault"]["type"], "boolean");
  EXPECT_EQ(pc["properties"]["preemptionPolicy"]["enum"], json({"Never", "PreemptLowerPriority"}));
  EXPECT_EQ(pc["x-kubernetes-group-version-kind"][0]["group"], "scheduling.k8s.io");
  EXPECT_TRUE(scheduling["paths"].contains("/apis/scheduling.k8s.io/v1/priorityclasses/{name}"));
}

TEST(OpenApiDocument, DocumentsAreCachedAndIdentical) {
  EXPECT_EQ(Doc("api/v1"), Doc("api/v1"));
  EXPECT_NE(Doc("api/v1"), Doc("apis/apps/v1"));
}

}  // namespace
}  // namespace kennel::api
