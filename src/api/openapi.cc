#include "api/openapi.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/registry.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;
using Props = std::vector<std::pair<std::string, json>>;

// ---------------------------------------------------------------------------
// Component names, as upstream spells them.

constexpr char kRefPrefix[] = "#/components/schemas/";

std::string Meta(std::string_view n) {
  return "io.k8s.apimachinery.pkg.apis.meta.v1." + std::string(n);
}
std::string Core(std::string_view n) { return "io.k8s.api.core.v1." + std::string(n); }
std::string Apps(std::string_view n) { return "io.k8s.api.apps.v1." + std::string(n); }
std::string Storage(std::string_view n) { return "io.k8s.api.storage.v1." + std::string(n); }
std::string Coord(std::string_view n) { return "io.k8s.api.coordination.v1." + std::string(n); }
std::string Sched(std::string_view n) { return "io.k8s.api.scheduling.v1." + std::string(n); }
constexpr char kQuantity[] = "io.k8s.apimachinery.pkg.api.resource.Quantity";
constexpr char kIntOrString[] = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
constexpr char kRawExtension[] = "io.k8s.apimachinery.pkg.runtime.RawExtension";
constexpr char kScale[] = "io.k8s.api.autoscaling.v1.Scale";

// The group as upstream's Go package names it: "core" for "", else its first
// label ("storage" for storage.k8s.io).
std::string ShortGroup(const std::string& group) {
  return group.empty() ? "core" : group.substr(0, group.find('.'));
}

// "io.k8s.api.apps.v1.": the prefix of every component of a group-version.
std::string SchemaPrefix(const std::string& group, const std::string& version) {
  return "io.k8s.api." + ShortGroup(group) + "." + version + ".";
}

std::string KindSchemaName(const ResourceInfo& info) {
  return SchemaPrefix(info.group, info.version) + info.kind;
}

// ---------------------------------------------------------------------------
// Schema builders. Each returns one JSON schema; Obj assembles structs.

json Described(json s, std::string_view desc) {
  if (!desc.empty()) s["description"] = desc;
  return s;
}
json Str(std::string_view d) { return Described({{"type", "string"}}, d); }
json Enum(std::string_view d, std::vector<std::string> values) {
  return Described({{"type", "string"}, {"enum", values}}, d);
}
json Int32(std::string_view d) { return Described({{"type", "integer"}, {"format", "int32"}}, d); }
json Int64(std::string_view d) { return Described({{"type", "integer"}, {"format", "int64"}}, d); }
json Bool(std::string_view d) { return Described({{"type", "boolean"}}, d); }
json Bytes(std::string_view d) { return Described({{"type", "string"}, {"format", "byte"}}, d); }
json RefOnly(const std::string& name) { return {{"$ref", kRefPrefix + name}}; }
// A struct-valued field: upstream wraps the $ref in allOf so a description can sit beside it.
json Ref(const std::string& name, std::string_view d) {
  return Described({{"allOf", json::array({RefOnly(name)})}}, d);
}
json Time(std::string_view d) { return Ref(Meta("Time"), d); }
json Qty(std::string_view d) { return Ref(kQuantity, d); }
json IntOrStr(std::string_view d) { return Ref(kIntOrString, d); }
json StrList(std::string_view d) {
  return Described({{"type", "array"}, {"items", {{"type", "string"}, {"default", ""}}}}, d);
}
json Atomic(json list) {
  list["x-kubernetes-list-type"] = "atomic";
  return list;
}
json AtomicMap(json map) {
  map["x-kubernetes-map-type"] = "atomic";
  return map;
}
json StrSet(std::string_view d) {
  json s = StrList(d);
  s["x-kubernetes-list-type"] = "set";
  return s;
}
json ListOf(const std::string& name, std::string_view d) {
  return Described(
      {{"type", "array"},
       {"items", {{"allOf", json::array({RefOnly(name)})}, {"default", json::object()}}}},
      d);
}
// A list merged element-wise by a strategic merge patch, keyed by `key`.
json MergeList(const std::string& name, std::string_view d, std::string_view key,
               std::string_view strategy = "merge") {
  json s = ListOf(name, d);
  s["x-kubernetes-list-type"] = "map";
  s["x-kubernetes-list-map-keys"] = json::array({key});
  s["x-kubernetes-patch-merge-key"] = key;
  s["x-kubernetes-patch-strategy"] = strategy;
  return s;
}
// A list of ports, merged by `key` but listed as unique by (`key`, protocol).
json PortMergeList(const std::string& name, std::string_view d, std::string_view key) {
  json s = MergeList(name, d, key);
  s["x-kubernetes-list-map-keys"] = json::array({key, "protocol"});
  return s;
}
json StrMap(std::string_view d) {
  return Described(
      {{"type", "object"}, {"additionalProperties", {{"type", "string"}, {"default", ""}}}}, d);
}
json QtyMap(std::string_view d) {
  return Described({{"type", "object"}, {"additionalProperties", RefOnly(kQuantity)}}, d);
}
// A nested object whose fields are not modelled here.
json Open(std::string_view d) {
  return Described({{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}, d);
}

// A list of structs whose fields are not modelled here, unique by `key` like upstream's.
json OpenMapList(std::string_view d, std::string_view key) {
  json s = Described({{"type", "array"}, {"items", Open("")}}, d);
  s["x-kubernetes-list-type"] = "map";
  s["x-kubernetes-list-map-keys"] = json::array({key});
  return s;
}

using Required = std::vector<std::string>;
enum ObjFlags : int {
  kPartial = 1,  // not every upstream field is modelled: preserve unknown fields
  kAtomic = 2,   // x-kubernetes-map-type: atomic
};

json Obj(std::string_view d, const Props& props, const Required& required = {}, int flags = 0) {
  json s = Described({{"type", "object"}}, d);
  json p = json::object();
  for (const auto& [name, schema] : props) p[name] = schema;
  s["properties"] = std::move(p);
  if (!required.empty()) s["required"] = required;
  if ((flags & kPartial) != 0) s["x-kubernetes-preserve-unknown-fields"] = true;
  if ((flags & kAtomic) != 0) s["x-kubernetes-map-type"] = "atomic";
  return s;
}

json Gvk(std::string_view group, std::string_view version, std::string_view kind) {
  return {{"group", group}, {"version", version}, {"kind", kind}};
}

const char kApiVersionDoc[] =
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#resources";
const char kKindDoc[] =
    "Kind is a string value representing the REST resource this object represents. Servers may "
    "infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";
const char kMetadataDoc[] =
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
const char kListMetaDoc[] =
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";

// A top-level kind: apiVersion, kind and metadata, then `props`.
json Kind(std::string_view d, std::string_view group, std::string_view kind, Props props,
          const Required& required = {}, int flags = 0) {
  Props all = {{"apiVersion", Str(kApiVersionDoc)},
               {"kind", Str(kKindDoc)},
               {"metadata", Ref(Meta("ObjectMeta"), kMetadataDoc)}};
  for (auto& p : props) all.push_back(std::move(p));
  json s = Obj(d, all, required, flags);
  s["x-kubernetes-group-version-kind"] = json::array({Gvk(group, "v1", kind)});
  return s;
}

// A kind whose fields are a `spec` and a `status` of the types <kind>Spec and
// <kind>Status, which `component` (Core, Apps, ...) names like the kind's own.
json SpecStatusKind(std::string (*component)(std::string_view), std::string_view group,
                    const std::string& kind, std::string_view d, std::string_view spec_doc,
                    std::string_view status_doc) {
  return Kind(d, group, kind,
              {{"spec", Ref(component(kind + "Spec"), spec_doc)},
               {"status", Ref(component(kind + "Status"), status_doc)}});
}

json ListKind(const ResourceInfo& info, const std::string& item_ref) {
  const std::string& item_kind = info.kind;
  json s = Obj(item_kind + "List is a list of " + item_kind + " objects.",
               {{"apiVersion", Str(kApiVersionDoc)},
                {"items", ListOf(item_ref, "items is the list of " + item_kind + " objects.")},
                {"kind", Str(kKindDoc)},
                {"metadata", Ref(Meta("ListMeta"), kListMetaDoc)}},
               {"items"});
  s["x-kubernetes-group-version-kind"] =
      json::array({Gvk(info.group, info.version, item_kind + "List")});
  return s;
}

// A status condition; upstream has one named type per kind with the same shape.
json Condition(std::string_view d, bool probe_times) {
  Props p = {{"type", Str("Type of condition.")},
             {"status", Str("Status of the condition, one of True, False, Unknown.")},
             {"reason", Str("The reason for the condition's last transition.")},
             {"message", Str("A human readable message indicating details about the transition.")},
             {"lastTransitionTime",
              Time("Last time the condition transitioned from one status to another.")}};
  if (probe_times) p.push_back({"lastProbeTime", Time("Last time we probed the condition.")});
  p.push_back({"lastUpdateTime", Time("The last time this condition was updated.")});
  return Obj(d, p, {"type", "status"}, kPartial);
}

using Schemas = std::map<std::string, json>;

// ---------------------------------------------------------------------------
// meta.k8s.io/v1 and other shared types.

void AddMetaSchemas(Schemas& s) {
  s[Meta("Time")] = Described({{"type", "string"}, {"format", "date-time"}},
                              "Time is a wrapper around time.Time which supports correct "
                              "marshaling to YAML and JSON.");
  s[Meta("MicroTime")] =
      Described({{"type", "string"}, {"format", "date-time"}},
                "MicroTime is version of Time with microsecond level precision.");
  s[kQuantity] = Described(
      {{"oneOf", json::array({{{"type", "string"}}, {{"type", "number"}}})}},
      "Quantity is a fixed-point representation of a number, such as 100m, 1Gi or 500M. It is "
      "serialized as a string: <number><suffix> with suffixes Ki, Mi, Gi, Ti, Pi, Ei (binary), "
      "m, k, M, G, T, P, E (decimal) or an exponent.");
  s[kIntOrString] =
      Described({{"format", "int-or-string"},
                 {"oneOf", json::array({{{"type", "integer"}}, {{"type", "string"}}})}},
                "IntOrString is a type that can hold an int32 or a string.");
  s[kRawExtension] = Open("RawExtension is used to hold extensions in external versions.");
  s[Meta("FieldsV1")] = Open("FieldsV1 stores a set of fields in a data structure like a Trie.");
  s[Meta("Patch")] = Described({{"type", "object"}},
                               "Patch is provided to give a concrete name and type to the "
                               "Kubernetes PATCH request body.");
  s[Meta("OwnerReference")] = Obj(
      "OwnerReference contains enough information to let you identify an owning object. An "
      "owning object must be in the same namespace as the dependent, or be cluster-scoped, so "
      "there is no namespace field.",
      {{"apiVersion", Str("API version of the referent.")},
       {"kind", Str("Kind of the referent.")},
       {"name", Str("Name of the referent.")},
       {"uid", Str("UID of the referent.")},
       {"controller", Bool("If true, this reference points to the managing controller.")},
       {"blockOwnerDeletion",
        Bool("If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner "
             "cannot be deleted from the key-value store until this reference is removed.")}},
      {"apiVersion", "kind", "name", "uid"}, kAtomic);
  s[Meta("ManagedFieldsEntry")] = Obj(
      "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource "
      "that the fieldset applies to.",
      {{"apiVersion", Str("APIVersion defines the version of this resource that this field set "
                          "applies to.")},
       {"fieldsType", Str("FieldsType is the discriminator for the different fields format and "
                          "version. There is currently only one possible value: \"FieldsV1\"")},
       {"fieldsV1", Ref(Meta("FieldsV1"), "FieldsV1 holds the first JSON version format.")},
       {"manager", Str("Manager is an identifier of the workflow managing these fields.")},
       {"operation", Str("Operation is the type of operation which lead to this "
                         "ManagedFieldsEntry being created. The only valid values for this field "
                         "are 'Apply' and 'Update'.")},
       {"subresource", Str("Subresource is the name of the subresource used to update that "
                           "object, or empty string if the object was updated through the main "
                           "resource.")},
       {"time", Time("Time is the timestamp of when the ManagedFields entry was added.")}});
  s[Meta("ObjectMeta")] = Obj(
      "ObjectMeta is metadata that all persisted resources must have, which includes all "
      "objects users must create.",
      {{"annotations",
        StrMap("Annotations is an unstructured key value map stored with a resource that may be "
               "set by external tools to store and retrieve arbitrary metadata. They are not "
               "queryable and should be preserved when modifying objects. More info: "
               "https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations")},
       {"creationTimestamp",
        Time("CreationTimestamp is a timestamp representing the server time when this object "
             "was created. Clients may not set this value. It is represented in RFC3339 form "
             "and is in UTC. Populated by the system. Read-only. Null for lists.")},
       {"deletionGracePeriodSeconds",
        Int64("Number of seconds allowed for this object to gracefully terminate before it will "
              "be removed from the system. Only set when deletionTimestamp is also set. May "
              "only be shortened. Read-only.")},
       {"deletionTimestamp",
        Time("DeletionTimestamp is RFC 3339 date and time at which this resource will be "
             "deleted. This field is set by the server when a graceful deletion is requested "
             "by the user, and is not directly settable by a client. Read-only.")},
       {"finalizers",
        [] {
          json f = StrSet(
              "Must be empty before the object is deleted from the registry. Each entry is an "
              "identifier for the responsible component that will remove the entry from the "
              "list.");
          f["x-kubernetes-patch-strategy"] = "merge";
          return f;
        }()},
       {"generateName",
        Str("GenerateName is an optional prefix, used by the server, to generate a unique name "
            "ONLY IF the Name field has not been provided.")},
       {"generation",
        Int64("A sequence number representing a specific generation of the desired state. "
              "Populated by the system. Read-only.")},
       {"labels",
        StrMap("Map of string keys and values that can be used to organize and categorize "
               "(scope and select) objects. May match selectors of replication controllers and "
               "services. More info: "
               "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels")},
       {"managedFields",
        Atomic(ListOf(Meta("ManagedFieldsEntry"),
                      "ManagedFields maps workflow-id and version to the set of fields that are "
                      "managed by that workflow. This is mostly for internal housekeeping, and "
                      "users typically shouldn't need to set or understand this field."))},
       {"name",
        Str("Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")},
       {"namespace",
        Str("Namespace defines the space within which each name must be unique. An empty "
            "namespace is equivalent to the \"default\" namespace. Cannot be updated. More "
            "info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces")},
       {"ownerReferences",
        MergeList(Meta("OwnerReference"),
                  "List of objects depended by this object. If ALL objects in the list have been "
                  "deleted, this object will be garbage collected.",
                  "uid")},
       {"resourceVersion",
        Str("An opaque value that represents the internal version of this object that can be "
            "used by clients to determine when objects have changed. Populated by the system. "
            "Read-only.")},
       {"selfLink", Str("Deprecated: selfLink is a legacy read-only field that is no longer "
                        "populated by the system.")},
       {"uid", Str("UID is the unique in time and space value for this object. It is typically "
                   "generated by the server on successful creation of a resource and is not "
                   "allowed to change on PUT operations. Populated by the system. Read-only.")}});
  s[Meta("ListMeta")] = Obj(
      "ListMeta describes metadata that synthetic resources must have, including lists and "
      "various status objects.",
      {{"continue", Str("continue may be set if the user set a limit on the number of items "
                        "returned, and indicates that the server has more data available.")},
       {"remainingItemCount", Int64("remainingItemCount is the number of subsequent items in the "
                                    "list which are not included in this list response.")},
       {"resourceVersion", Str("String that identifies the server's internal version of this "
                               "object that can be used by clients to determine when objects "
                               "have changed.")},
       {"selfLink", Str("Deprecated: selfLink is a legacy read-only field that is no longer "
                        "populated by the system.")}});
  s[Meta("LabelSelectorRequirement")] = Obj(
      "A label selector requirement is a selector that contains values, a key, and an operator "
      "that relates the key and values.",
      {{"key", Str("key is the label key that the selector applies to.")},
       {"operator", Str("operator represents a key's relationship to a set of values. Valid "
                        "operators are In, NotIn, Exists and DoesNotExist.")},
       {"values", Atomic(StrList("values is an array of string values. If the operator is In or "
                                 "NotIn, the values array must be non-empty. If the operator is "
                                 "Exists or DoesNotExist, the values array must be empty."))}},
      {"key", "operator"});
  s[Meta("LabelSelector")] = Obj(
      "A label selector is a label query over a set of resources. The result of matchLabels and "
      "matchExpressions are ANDed. An empty label selector matches all objects. A null label "
      "selector matches no objects.",
      {{"matchExpressions",
        Atomic(ListOf(Meta("LabelSelectorRequirement"),
                      "matchExpressions is a list of label selector requirements. The "
                      "requirements are ANDed."))},
       {"matchLabels",
        StrMap("matchLabels is a map of {key,value} pairs. A single {key,value} in the "
               "matchLabels map is equivalent to an element of matchExpressions, whose key field "
               "is \"key\", the operator is \"In\", and the values array contains only "
               "\"value\". The requirements are ANDed.")}},
      {}, kAtomic);
  s[Meta("Condition")] = Condition(
      "Condition contains details for one aspect of the current state of this API Resource.",
      false);
  s[Meta("Status")] =
      Obj("Status is a return value for calls that don't return other objects.",
          {{"apiVersion", Str(kApiVersionDoc)},
           {"code", Int32("Suggested HTTP return code for this status, 0 if not set.")},
           {"details", Open("Extended data associated with the reason.")},
           {"kind", Str(kKindDoc)},
           {"message", Str("A human-readable description of the status of this operation.")},
           {"metadata", Ref(Meta("ListMeta"), kListMetaDoc)},
           {"reason", Str("A machine-readable description of why this operation is in the "
                          "\"Failure\" status.")},
           {"status", Str("Status of the operation. One of: \"Success\" or \"Failure\".")}});
  s[Meta("DeleteOptions")] =
      Obj("DeleteOptions may be provided when deleting an API object.",
          {{"apiVersion", Str(kApiVersionDoc)},
           {"dryRun", Atomic(StrList("When present, indicates that modifications should not be "
                                     "persisted."))},
           {"gracePeriodSeconds", Int64("The duration in seconds before the object should be "
                                        "deleted.")},
           {"kind", Str(kKindDoc)},
           {"orphanDependents", Bool("Deprecated: please use the PropagationPolicy.")},
           {"preconditions", Open("Must be fulfilled before a deletion is carried out.")},
           {"propagationPolicy",
            Str("Whether and how garbage collection will be performed. Acceptable values are: "
                "'Orphan', 'Background', 'Foreground'.")}},
          {}, kPartial);
}

// ---------------------------------------------------------------------------
// core/v1: the pod template and its parts.

void AddContainerSchemas(Schemas& s) {
  s[Core("ContainerPort")] = Obj(
      "ContainerPort represents a network port in a single container.",
      {{"containerPort", Int32("Number of port to expose on the pod's IP address. This must be a "
                               "valid port number, 0 < x < 65536.")},
       {"hostIP", Str("What host IP to bind the external port to.")},
       {"hostPort", Int32("Number of port to expose on the host. Most containers do not need "
                          "this.")},
       {"name", Str("If specified, this must be an IANA_SVC_NAME and unique within the pod. "
                    "Each named port in a pod must have a unique name. Name for the port that "
                    "can be referred to by services.")},
       {"protocol", Enum("Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\".",
                         {"SCTP", "TCP", "UDP"})}},
      {"containerPort"});
  s[Core("ConfigMapKeySelector")] =
      Obj("Selects a key from a ConfigMap.",
          {{"key", Str("The key to select.")},
           {"name", Str("Name of the referent.")},
           {"optional", Bool("Specify whether the ConfigMap or its key must be defined")}},
          {"key"}, kAtomic);
  s[Core("SecretKeySelector")] =
      Obj("SecretKeySelector selects a key of a Secret.",
          {{"key", Str("The key of the secret to select from.  Must be a valid secret key.")},
           {"name", Str("Name of the referent.")},
           {"optional", Bool("Specify whether the Secret or its key must be defined")}},
          {"key"}, kAtomic);
  s[Core("ObjectFieldSelector")] = Obj(
      "ObjectFieldSelector selects an APIVersioned field of an object.",
      {{"apiVersion", Str("Version of the schema the FieldPath is written in terms of, defaults "
                          "to \"v1\".")},
       {"fieldPath", Str("Path of the field to select in the specified API version.")}},
      {"fieldPath"}, kAtomic);
  s[Core("ResourceFieldSelector")] =
      Obj("ResourceFieldSelector represents container resources (cpu, memory) and their output "
          "format",
          {{"containerName", Str("Container name: required for volumes, optional for env vars")},
           {"divisor", Qty("Specifies the output format of the exposed resources, defaults to "
                           "\"1\"")},
           {"resource", Str("Required: resource to select")}},
          {"resource"}, kAtomic);
  s[Core("EnvVarSource")] =
      Obj("EnvVarSource represents a source for the value of an EnvVar.",
          {{"configMapKeyRef", Ref(Core("ConfigMapKeySelector"), "Selects a key of a ConfigMap.")},
           {"fieldRef", Ref(Core("ObjectFieldSelector"),
                            "Selects a field of the pod: supports metadata.name, "
                            "metadata.namespace, `metadata.labels['<KEY>']`, "
                            "`metadata.annotations['<KEY>']`, spec.nodeName, "
                            "spec.serviceAccountName, status.hostIP, status.podIP, "
                            "status.podIPs.")},
           {"resourceFieldRef",
            Ref(Core("ResourceFieldSelector"),
                "Selects a resource of the container: only resources limits and requests "
                "(limits.cpu, limits.memory, requests.cpu, requests.memory, ...) are currently "
                "supported.")},
           {"secretKeyRef", Ref(Core("SecretKeySelector"),
                                "Selects a key of a secret in the pod's "
                                "namespace")}});
  s[Core("EnvVar")] = Obj(
      "EnvVar represents an environment variable present in a Container.",
      {{"name", Str("Name of the environment variable. Must be a C_IDENTIFIER.")},
       {"value", Str("Variable references $(VAR_NAME) are expanded using the previously defined "
                     "environment variables in the container and any service environment "
                     "variables. Defaults to \"\".")},
       {"valueFrom", Ref(Core("EnvVarSource"),
                         "Source for the environment variable's value. "
                         "Cannot be used if value is not empty.")}},
      {"name"});
  s[Core("ConfigMapEnvSource")] =
      Obj("ConfigMapEnvSource selects a ConfigMap to populate the environment variables with.",
          {{"name", Str("Name of the referent.")},
           {"optional", Bool("Specify whether the ConfigMap must be defined")}});
  s[Core("SecretEnvSource")] =
      Obj("SecretEnvSource selects a Secret to populate the environment variables with.",
          {{"name", Str("Name of the referent.")},
           {"optional", Bool("Specify whether the Secret must be defined")}});
  s[Core("EnvFromSource")] =
      Obj("EnvFromSource represents the source of a set of ConfigMaps or Secrets",
          {{"configMapRef", Ref(Core("ConfigMapEnvSource"), "The ConfigMap to select from")},
           {"prefix", Str("Optional text to prepend to the name of each environment variable.")},
           {"secretRef", Ref(Core("SecretEnvSource"), "The Secret to select from")}});
  s[Core("VolumeMount")] = Obj(
      "VolumeMount describes a mounting of a Volume within a container.",
      {{"mountPath", Str("Path within the container at which the volume should be mounted.  "
                         "Must not contain ':'.")},
       {"mountPropagation", Str("mountPropagation determines how mounts are propagated from the "
                                "host to container and the other way around.")},
       {"name", Str("This must match the Name of a Volume.")},
       {"readOnly", Bool("Mounted read-only if true, read-write otherwise (false or "
                         "unspecified). Defaults to false.")},
       {"recursiveReadOnly", Str("RecursiveReadOnly specifies whether read-only mounts should be "
                                 "handled recursively.")},
       {"subPath", Str("Path within the volume from which the container's volume should be "
                       "mounted. Defaults to \"\" (volume's root).")},
       {"subPathExpr", Str("Expanded path within the volume from which the container's volume "
                           "should be mounted.")}},
      {"name", "mountPath"});
  s[Core("VolumeDevice")] =
      Obj("volumeDevice describes a mapping of a raw block device within a container.",
          {{"devicePath", Str("devicePath is the path inside of the container that the device will "
                              "be mapped to.")},
           {"name", Str("name must match the name of a persistentVolumeClaim in the pod")}},
          {"name", "devicePath"});
  s[Core("ResourceRequirements")] =
      Obj("ResourceRequirements describes the compute resource requirements.",
          {{"claims",
            OpenMapList("Claims lists the names of resources, defined in spec.resourceClaims, "
                        "that are used by this container.",
                        "name")},
           {"limits", QtyMap("Limits describes the maximum amount of compute resources allowed. "
                             "More info: https://kubernetes.io/docs/concepts/configuration/"
                             "manage-resources-containers/")},
           {"requests", QtyMap("Requests describes the minimum amount of compute resources "
                               "required. If Requests is omitted for a container, it defaults to "
                               "Limits if that is explicitly specified, otherwise to an "
                               "implementation-defined value. More info: "
                               "https://kubernetes.io/docs/concepts/configuration/"
                               "manage-resources-containers/")}});
  s[Core("ExecAction")] = Obj(
      "ExecAction describes a \"run in container\" action.",
      {{"command", Atomic(StrList("Command is the command line to execute inside the container, "
                                  "the working directory for the command  is root ('/') in the "
                                  "container's filesystem. The command is simply exec'd, it is "
                                  "not run inside a shell."))}});
  s[Core("HTTPGetAction")] = Obj(
      "HTTPGetAction describes an action based on HTTP Get requests.",
      {{"host", Str("Host name to connect to, defaults to the pod IP.")},
       {"httpHeaders", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                        "Custom headers to set in the request. HTTP allows "
                                        "repeated headers."))},
       {"path", Str("Path to access on the HTTP server.")},
       {"port", IntOrStr("Name or number of the port to access on the container. Number must be "
                         "in the range 1 to 65535. Name must be an IANA_SVC_NAME.")},
       {"scheme",
        Enum("Scheme to use for connecting to the host. Defaults to HTTP.", {"HTTP", "HTTPS"})}},
      {"port"});
  s[Core("TCPSocketAction")] = Obj(
      "TCPSocketAction describes an action based on opening a socket",
      {{"host", Str("Optional: Host name to connect to, defaults to the pod IP.")},
       {"port", IntOrStr("Number or name of the port to access on the container. Number must be "
                         "in the range 1 to 65535. Name must be an IANA_SVC_NAME.")}},
      {"port"});
  s[Core("GRPCAction")] =
      Obj("GRPCAction specifies an action involving a GRPC service.",
          {{"port", Int32("Port number of the gRPC service. Number must be in the range 1 to "
                          "65535.")},
           {"service",
            Str("Service is the name of the service to place in the gRPC HealthCheckRequest. "
                "If this is not specified, the default behavior is defined by gRPC.")}},
          {"port"});
  s[Core("Probe")] = Obj(
      "Probe describes a health check to be performed against a container to determine whether "
      "it is alive or ready to receive traffic.",
      {{"exec", Ref(Core("ExecAction"), "Exec specifies a command to execute in the container.")},
       {"failureThreshold", Int32("Minimum consecutive failures for the probe to be considered "
                                  "failed after having succeeded. Defaults to 3. Minimum value "
                                  "is 1.")},
       {"grpc", Ref(Core("GRPCAction"), "GRPC specifies a GRPC HealthCheckRequest.")},
       {"httpGet", Ref(Core("HTTPGetAction"),
                       "HTTPGet specifies an HTTP GET request to "
                       "perform.")},
       {"initialDelaySeconds", Int32("Number of seconds after the container has started before "
                                     "liveness probes are initiated.")},
       {"periodSeconds", Int32("How often (in seconds) to perform the probe. Default to 10 "
                               "seconds. Minimum value is 1.")},
       {"successThreshold", Int32("Minimum consecutive successes for the probe to be considered "
                                  "successful after having failed. Defaults to 1. Must be 1 for "
                                  "liveness and startup. Minimum value is 1.")},
       {"tcpSocket", Ref(Core("TCPSocketAction"),
                         "TCPSocket specifies a connection to a TCP "
                         "port.")},
       {"terminationGracePeriodSeconds",
        Int64("Optional duration in seconds the pod needs to terminate gracefully upon probe "
              "failure.")},
       {"timeoutSeconds", Int32("Number of seconds after which the probe times out. Defaults to "
                                "1 second. Minimum value is 1.")}});
  s[Core("Container")] = Obj(
      "A single application container that you want to run within a pod.",
      {{"args", Atomic(StrList("Arguments to the entrypoint. The container image's CMD is used "
                               "if this is not provided. Variable references $(VAR_NAME) are "
                               "expanded using the container's environment. Cannot be "
                               "updated."))},
       {"command", Atomic(StrList("Entrypoint array. Not executed within a shell. The container "
                                  "image's ENTRYPOINT is used if this is not provided. Cannot be "
                                  "updated."))},
       {"env", MergeList(Core("EnvVar"),
                         "List of environment variables to set in the container. "
                         "Cannot be updated.",
                         "name")},
       {"envFrom", Atomic(ListOf(Core("EnvFromSource"),
                                 "List of sources to populate environment variables in the "
                                 "container. Cannot be updated."))},
       {"image", Str("Container image name. More info: "
                     "https://kubernetes.io/docs/concepts/containers/images")},
       {"imagePullPolicy", Enum("Image pull policy. One of Always, Never, IfNotPresent. Defaults "
                                "to Always if :latest tag is specified, or IfNotPresent "
                                "otherwise. Cannot be updated.",
                                {"Always", "IfNotPresent", "Never"})},
       {"lifecycle", Open("Actions that the management system should take in response to "
                          "container lifecycle events. Cannot be updated.")},
       {"livenessProbe", Ref(Core("Probe"),
                             "Periodic probe of container liveness. Container "
                             "will be restarted if the probe fails. Cannot be "
                             "updated.")},
       {"name", Str("Name of the container specified as a DNS_LABEL. Each container in a pod "
                    "must have a unique name (DNS_LABEL). Cannot be updated.")},
       {"ports",
        PortMergeList(Core("ContainerPort"),
                      "List of ports to expose from the container. Not specifying a port here "
                      "DOES NOT prevent that port from being exposed.",
                      "containerPort")},
       {"readinessProbe", Ref(Core("Probe"),
                              "Periodic probe of container service readiness. "
                              "Container will be removed from service endpoints "
                              "if the probe fails. Cannot be updated.")},
       {"resizePolicy", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                         "Resources resize policy for the container."))},
       {"resources", Ref(Core("ResourceRequirements"),
                         "Compute Resources required by this container. Cannot be updated. More "
                         "info: https://kubernetes.io/docs/concepts/configuration/"
                         "manage-resources-containers/")},
       {"restartPolicy", Str("RestartPolicy defines the restart behavior of individual "
                             "containers in a pod. This field may only be set for init "
                             "containers, and the only allowed value is \"Always\".")},
       {"securityContext", Open("SecurityContext defines the security options the container "
                                "should be run with.")},
       {"startupProbe", Ref(Core("Probe"),
                            "StartupProbe indicates that the Pod has successfully "
                            "initialized. Cannot be updated.")},
       {"stdin", Bool("Whether this container should allocate a buffer for stdin in the "
                      "container runtime. Default is false.")},
       {"stdinOnce", Bool("Whether the container runtime should close the stdin channel after "
                          "it has been opened by a single attach. Default is false")},
       {"terminationMessagePath", Str("Path at which the file to which the container's "
                                      "termination message will be written is mounted into the "
                                      "container's filesystem. Defaults to "
                                      "/dev/termination-log.")},
       {"terminationMessagePolicy", Enum("Indicate how the termination message should be "
                                         "populated. Defaults to File.",
                                         {"FallbackToLogsOnError", "File"})},
       {"tty", Bool("Whether this container should allocate a TTY for itself, also requires "
                    "'stdin' to be true. Default is false.")},
       {"volumeDevices", MergeList(Core("VolumeDevice"),
                                   "volumeDevices is the list of block "
                                   "devices to be used by the container.",
                                   "devicePath")},
       {"volumeMounts", MergeList(Core("VolumeMount"),
                                  "Pod volumes to mount into the "
                                  "container's filesystem. Cannot be "
                                  "updated.",
                                  "mountPath")},
       {"workingDir", Str("Container's working directory. If not specified, the container "
                          "runtime's default will be used. Cannot be updated.")}},
      {"name"});
}

void AddVolumeSchemas(Schemas& s) {
  s[Core("KeyToPath")] =
      Obj("Maps a string key to a path within a volume.",
          {{"key", Str("key is the key to project.")},
           {"mode", Int32("mode is Optional: mode bits used to set permissions on this file.")},
           {"path", Str("path is the relative path of the file to map the key to. May not be an "
                        "absolute path. May not contain the path element '..'.")}},
          {"key", "path"});
  const json items = Atomic(ListOf(Core("KeyToPath"),
                                   "items: if unspecified, each key-value pair in the Data field "
                                   "of the referenced object will be projected into the volume "
                                   "as a file whose name is the key and content is the value."));
  s[Core("EmptyDirVolumeSource")] =
      Obj("Represents an empty directory for a pod.",
          {{"medium", Str("medium represents what type of storage medium should back this "
                          "directory. The default is \"\" which means to use the node's default "
                          "medium. Must be an empty string (default) or Memory.")},
           {"sizeLimit", Qty("sizeLimit is the total amount of local storage required for this "
                             "EmptyDir volume.")}});
  s[Core("HostPathVolumeSource")] = Obj(
      "Represents a host path mapped into a pod.",
      {{"path", Str("path of the directory on the host. If the path is a symlink, it will follow "
                    "the link to the real path.")},
       {"type", Enum("type for HostPath Volume. Defaults to \"\".",
                     {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                      "FileOrCreate", "Socket"})}},
      {"path"});
  s[Core("ConfigMapVolumeSource")] = Obj(
      "Adapts a ConfigMap into a volume.",
      {{"defaultMode", Int32("defaultMode is optional: mode bits used to set permissions on "
                             "created files by default. Defaults to 0644.")},
       {"items", items},
       {"name", Str("Name of the referent.")},
       {"optional", Bool("optional specify whether the ConfigMap or its keys must be defined")}});
  s[Core("SecretVolumeSource")] =
      Obj("Adapts a Secret into a volume.",
          {{"defaultMode", Int32("defaultMode is Optional: mode bits used to set permissions on "
                                 "created files by default. Defaults to 0644.")},
           {"items", items},
           {"optional", Bool("optional field specify whether the Secret or its keys must be "
                             "defined")},
           {"secretName", Str("secretName is the name of the secret in the pod's namespace to "
                              "use.")}});
  s[Core("PersistentVolumeClaimVolumeSource")] = Obj(
      "PersistentVolumeClaimVolumeSource references the user's PVC in the same namespace.",
      {{"claimName", Str("claimName is the name of a PersistentVolumeClaim in the same namespace "
                         "as the pod using this volume.")},
       {"readOnly", Bool("readOnly Will force the ReadOnly setting in VolumeMounts. Default "
                         "false.")}},
      {"claimName"});
  s[Core("NFSVolumeSource")] =
      Obj("Represents an NFS mount that lasts the lifetime of a pod.",
          {{"path", Str("path that is exported by the NFS server.")},
           {"readOnly", Bool("readOnly here will force the NFS export to be mounted with read-only "
                             "permissions. Defaults to false.")},
           {"server", Str("server is the hostname or IP address of the NFS server.")}},
          {"server", "path"});
  s[Core("Volume")] = Obj(
      "Volume represents a named volume in a pod that may be accessed by any container in the "
      "pod.",
      {{"configMap", Ref(Core("ConfigMapVolumeSource"),
                         "configMap represents a configMap that "
                         "should populate this volume")},
       {"csi", Open("csi (Container Storage Interface) represents ephemeral storage that is "
                    "handled by certain external CSI drivers.")},
       {"downwardAPI", Open("downwardAPI represents downward API about the pod that should "
                            "populate this volume")},
       {"emptyDir", Ref(Core("EmptyDirVolumeSource"),
                        "emptyDir represents a temporary directory "
                        "that shares a pod's lifetime.")},
       {"ephemeral", Open("ephemeral represents a volume that is handled by a cluster storage "
                          "driver.")},
       {"hostPath", Ref(Core("HostPathVolumeSource"),
                        "hostPath represents a pre-existing file or directory on the host machine "
                        "that is directly exposed to the container.")},
       {"name", Str("name of the volume. Must be a DNS_LABEL and unique within the pod.")},
       {"nfs", Ref(Core("NFSVolumeSource"),
                   "nfs represents an NFS mount on the host that shares "
                   "a pod's lifetime")},
       {"persistentVolumeClaim",
        Ref(Core("PersistentVolumeClaimVolumeSource"),
            "persistentVolumeClaimVolumeSource represents a reference to a PersistentVolumeClaim "
            "in the same namespace.")},
       {"projected", Open("projected items for all in one resources secrets, configmaps, and "
                          "downward API")},
       {"secret", Ref(Core("SecretVolumeSource"),
                      "secret represents a secret that should "
                      "populate this volume.")}},
      {"name"}, kPartial);
}

void AddPodSchemas(Schemas& s) {
  s[Core("LocalObjectReference")] = Obj(
      "LocalObjectReference contains enough information to let you locate the referenced object "
      "inside the same namespace.",
      {{"name", Str("Name of the referent.")}}, {}, kAtomic);
  s[Core("Toleration")] = Obj(
      "The pod this Toleration is attached to tolerates any taint that matches the triple "
      "<key,value,effect> using the matching operator <operator>.",
      {{"effect", Enum("Effect indicates the taint effect to match. Empty means match all taint "
                       "effects.",
                       {"NoExecute", "NoSchedule", "PreferNoSchedule"})},
       {"key", Str("Key is the taint key that the toleration applies to. Empty means match all "
                   "taint keys.")},
       {"operator", Enum("Operator represents a key's relationship to the value. Valid operators "
                         "are Exists and Equal. Defaults to Equal.",
                         {"Equal", "Exists"})},
       {"tolerationSeconds", Int64("TolerationSeconds represents the period of time the "
                                   "toleration (which must be of effect NoExecute) tolerates the "
                                   "taint.")},
       {"value", Str("Value is the taint value the toleration matches to.")}});
  s[Core("PodReadinessGate")] =
      Obj("PodReadinessGate contains the reference to a pod condition",
          {{"conditionType", Str("ConditionType refers to a condition in the pod's condition list "
                                 "with matching type.")}},
          {"conditionType"});
  s[Core("PodSpec")] = Obj(
      "PodSpec is a description of a pod.",
      {{"activeDeadlineSeconds", Int64("Optional duration in seconds the pod may be active on "
                                       "the node relative to StartTime before the system will "
                                       "actively try to mark it failed and kill associated "
                                       "containers.")},
       {"affinity", Open("If specified, the pod's scheduling constraints")},
       {"automountServiceAccountToken", Bool("AutomountServiceAccountToken indicates whether a "
                                             "service account token should be automatically "
                                             "mounted.")},
       {"containers", MergeList(Core("Container"),
                                "List of containers belonging to the pod. Containers cannot "
                                "currently be added or removed. There must be at least one "
                                "container in a Pod. Cannot be updated.",
                                "name")},
       {"dnsConfig", Open("Specifies the DNS parameters of a pod.")},
       {"dnsPolicy", Enum("Set DNS policy for the pod. Defaults to \"ClusterFirst\".",
                          {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"})},
       {"enableServiceLinks", Bool("EnableServiceLinks indicates whether information about "
                                   "services should be injected into pod's environment "
                                   "variables. Optional: Defaults to true.")},
       {"ephemeralContainers", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                                "List of ephemeral containers run in this pod."))},
       {"hostAliases", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                        "HostAliases is an optional list of hosts and IPs that "
                                        "will be injected into the pod's hosts file if "
                                        "specified."))},
       {"hostIPC", Bool("Use the host's ipc namespace. Optional: Default to false.")},
       {"hostNetwork", Bool("Host networking requested for this pod. Use the host's network "
                            "namespace. Default to false.")},
       {"hostPID", Bool("Use the host's pid namespace. Optional: Default to false.")},
       {"hostUsers", Bool("Use the host's user namespace. Optional: Default to true.")},
       {"hostname", Str("Specifies the hostname of the Pod If not specified, the pod's hostname "
                        "will be set to a system-defined value.")},
       {"imagePullSecrets", MergeList(Core("LocalObjectReference"),
                                      "ImagePullSecrets is an optional list of references to "
                                      "secrets in the same namespace to use for pulling any of "
                                      "the images used by this PodSpec.",
                                      "name")},
       {"initContainers", MergeList(Core("Container"),
                                    "List of initialization containers belonging to the pod. "
                                    "Init containers are executed in order prior to containers "
                                    "being started.",
                                    "name")},
       {"nodeName", Str("NodeName indicates in which node this pod is scheduled. If empty, this "
                        "pod is a candidate for scheduling by the scheduler defined in "
                        "schedulerName.")},
       {"nodeSelector",
        AtomicMap(StrMap("NodeSelector is a selector which must be true for the pod to fit on a "
                         "node. Selector which must match a node's labels for the pod to be "
                         "scheduled on that node."))},
       {"os", Open("Specifies the OS of the containers in the pod.")},
       {"overhead", QtyMap("Overhead represents the resource overhead associated with running a "
                           "pod for a given RuntimeClass.")},
       {"preemptionPolicy", Str("PreemptionPolicy is the Policy for preempting pods with lower "
                                "priority. One of Never, PreemptLowerPriority.")},
       {"priority", Int32("The priority value. Various system components use this field to find "
                          "the priority of the pod.")},
       {"priorityClassName", Str("If specified, indicates the pod's priority.")},
       {"readinessGates", Atomic(ListOf(Core("PodReadinessGate"),
                                        "If specified, all readiness gates will be evaluated for "
                                        "pod readiness."))},
       {"resourceClaims",
        OpenMapList("ResourceClaims defines which ResourceClaims must be allocated "
                    "and reserved before the Pod is allowed to start.",
                    "name")},
       {"resources", Ref(Core("ResourceRequirements"),
                         "Resources is the total amount of CPU and Memory resources required by "
                         "all containers in the pod.")},
       {"restartPolicy", Enum("Restart policy for all containers within the pod. One of Always, "
                              "OnFailure, Never. Default to Always.",
                              {"Always", "Never", "OnFailure"})},
       {"runtimeClassName", Str("RuntimeClassName refers to a RuntimeClass object in the "
                                "node.k8s.io group, which should be used to run this pod.")},
       {"schedulerName", Str("If specified, the pod will be dispatched by specified scheduler. "
                             "If not specified, the pod will be dispatched by default "
                             "scheduler.")},
       {"schedulingGates",
        OpenMapList("SchedulingGates is an opaque list of values that if specified "
                    "will block scheduling the pod.",
                    "name")},
       {"securityContext", Open("SecurityContext holds pod-level security attributes and common "
                                "container settings. Optional: Defaults to empty.")},
       {"serviceAccount", Str("DeprecatedServiceAccount is a deprecated alias for "
                              "ServiceAccountName. Deprecated: Use serviceAccountName "
                              "instead.")},
       {"serviceAccountName", Str("ServiceAccountName is the name of the ServiceAccount to use "
                                  "to run this pod.")},
       {"setHostnameAsFQDN", Bool("If true the pod's hostname will be configured as the pod's "
                                  "FQDN, rather than the leaf name (the default).")},
       {"shareProcessNamespace", Bool("Share a single process namespace between all of the "
                                      "containers in a pod.")},
       {"subdomain", Str("If specified, the fully qualified Pod hostname will be "
                         "\"<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>\". If "
                         "not specified, the pod will not have a domainname at all.")},
       {"terminationGracePeriodSeconds",
        Int64("Optional duration in seconds the pod needs to terminate gracefully. May be "
              "decreased in delete request. Defaults to 30 seconds.")},
       {"tolerations", Atomic(ListOf(Core("Toleration"),
                                     "If specified, the pod's "
                                     "tolerations."))},
       {"topologySpreadConstraints",
        Described({{"type", "array"}, {"items", Open("")}},
                  "TopologySpreadConstraints describes how a group of pods ought to spread "
                  "across topology domains.")},
       {"volumes", MergeList(Core("Volume"),
                             "List of volumes that can be mounted by containers belonging to "
                             "the pod. More info: "
                             "https://kubernetes.io/docs/concepts/storage/volumes",
                             "name", "merge,retainKeys")}},
      {"containers"}, kPartial);
  s[Core("PodTemplateSpec")] =
      Obj("PodTemplateSpec describes the data a pod should have when created from a template",
          {{"metadata", Ref(Meta("ObjectMeta"), kMetadataDoc)},
           {"spec", Ref(Core("PodSpec"),
                        "Specification of the desired behavior of the pod. More "
                        "info: https://git.k8s.io/community/contributors/devel/"
                        "sig-architecture/api-conventions.md"
                        "#spec-and-status")}});
  s[Core("ContainerStateWaiting")] =
      Obj("ContainerStateWaiting is a waiting state of a container.",
          {{"message", Str("Message regarding why the container is not yet running.")},
           {"reason", Str("(brief) reason the container is not yet running.")}});
  s[Core("ContainerStateRunning")] =
      Obj("ContainerStateRunning is a running state of a container.",
          {{"startedAt", Time("Time at which the container was last (re-)started")}});
  s[Core("ContainerStateTerminated")] =
      Obj("ContainerStateTerminated is a terminated state of a container.",
          {{"containerID", Str("Container's ID in the format '<type>://<container_id>'")},
           {"exitCode", Int32("Exit status from the last termination of the container")},
           {"finishedAt", Time("Time at which the container last terminated")},
           {"message", Str("Message regarding the last termination of the container")},
           {"reason", Str("(brief) reason from the last termination of the container")},
           {"signal", Int32("Signal from the last termination of the container")},
           {"startedAt", Time("Time at which previous execution of the container started")}},
          {"exitCode"});
  s[Core("ContainerState")] =
      Obj("ContainerState holds a possible state of container. Only one of its members may be "
          "specified. If none of them is specified, the default one is ContainerStateWaiting.",
          {{"running", Ref(Core("ContainerStateRunning"), "Details about a running container")},
           {"terminated", Ref(Core("ContainerStateTerminated"),
                              "Details about a terminated "
                              "container")},
           {"waiting", Ref(Core("ContainerStateWaiting"), "Details about a waiting container")}});
  s[Core("ContainerStatus")] =
      Obj("ContainerStatus contains details for the current status of this container.",
          {{"containerID", Str("ContainerID is the ID of the container in the format "
                               "'<type>://<container_id>'.")},
           {"image", Str("Image is the name of container image that the container is running.")},
           {"imageID", Str("ImageID is the image ID of the container's image.")},
           {"lastState", Ref(Core("ContainerState"),
                             "LastTerminationState holds the last "
                             "termination state of the container to help "
                             "debug container crashes and restarts.")},
           {"name", Str("Name is a DNS_LABEL representing the unique name of the container.")},
           {"ready", Bool("Ready specifies whether the container is currently passing its "
                          "readiness check.")},
           {"restartCount", Int32("RestartCount holds the number of times the container has been "
                                  "restarted.")},
           {"started", Bool("Started indicates whether the container has finished its postStart "
                            "lifecycle hook and passed its startup probe.")},
           {"state", Ref(Core("ContainerState"),
                         "State holds details about the container's current "
                         "condition.")}},
          {"name", "ready", "restartCount", "image", "imageID"}, kPartial);
  s[Core("PodCondition")] =
      Condition("PodCondition contains details for the current condition of this pod.", true);
  s[Core("PodIP")] = Obj("PodIP represents a single IP address allocated to the pod.",
                         {{"ip", Str("IP is the IP address assigned to the pod")}}, {"ip"});
  s[Core("HostIP")] = Obj("HostIP represents a single IP address allocated to the host.",
                          {{"ip", Str("IP is the IP address assigned to the host")}}, {"ip"});
  s[Core("PodStatus")] = Obj(
      "PodStatus represents information about the status of a pod. Status may trail the actual "
      "state of a system, especially if the node that hosts the pod cannot contact the control "
      "plane.",
      {{"conditions", MergeList(Core("PodCondition"), "Current service state of pod.", "type")},
       {"containerStatuses", Atomic(ListOf(Core("ContainerStatus"),
                                           "The list has one entry per container in the "
                                           "manifest."))},
       {"hostIP", Str("hostIP holds the IP address of the host to which the pod is assigned.")},
       {"hostIPs", Atomic(ListOf(Core("HostIP"),
                                 "hostIPs holds the IP addresses allocated to "
                                 "the host."))},
       {"initContainerStatuses", Atomic(ListOf(Core("ContainerStatus"),
                                               "The list has one entry per init container in "
                                               "the manifest."))},
       {"message", Str("A human readable message indicating details about why the pod is in "
                       "this condition.")},
       {"nominatedNodeName", Str("nominatedNodeName is set only when this pod preempts other "
                                 "pods on the node, but it cannot be scheduled right away as "
                                 "preemption victims receive their graceful termination "
                                 "periods.")},
       {"phase", Enum("The phase of a Pod is a simple, high-level summary of where the Pod is in "
                      "its lifecycle.",
                      {"Failed", "Pending", "Running", "Succeeded", "Unknown"})},
       {"podIP", Str("podIP address allocated to the pod. Routable at least within the "
                     "cluster. Empty if not yet allocated.")},
       {"podIPs",
        MergeList(Core("PodIP"), "podIPs holds the IP addresses allocated to the pod.", "ip")},
       {"qosClass", Enum("The Quality of Service (QOS) classification assigned to the pod based "
                         "on resource requirements.",
                         {"BestEffort", "Burstable", "Guaranteed"})},
       {"reason", Str("A brief CamelCase message indicating details about why the pod is in "
                      "this state. e.g. 'Evicted'")},
       {"startTime", Time("RFC 3339 date and time at which the object was acknowledged by the "
                          "Kubelet.")}},
      {}, kPartial);
  s[Core("Pod")] = SpecStatusKind(Core, "", "Pod",
                                  "Pod is a collection of containers that can run on a host. This "
                                  "resource is created by clients and scheduled onto hosts.",
                                  "Specification of the desired behavior of the pod.",
                                  "Most recently observed status of the pod. This data may not be "
                                  "up to date. Populated by the system. Read-only.");
}

// ---------------------------------------------------------------------------
// core/v1: everything else served.

void AddServiceSchemas(Schemas& s) {
  s[Core("ServicePort")] = Obj(
      "ServicePort contains information on service's port.",
      {{"appProtocol", Str("The application protocol for this port.")},
       {"name", Str("The name of this port within the service. This must be a DNS_LABEL. All "
                    "ports within a ServiceSpec must have unique names.")},
       {"nodePort", Int32("The port on each node on which this service is exposed when type is "
                          "NodePort or LoadBalancer. Usually assigned by the system.")},
       {"port", Int32("The port that will be exposed by this service.")},
       {"protocol", Enum("The IP protocol for this port. Supports \"TCP\", \"UDP\", and "
                         "\"SCTP\". Default is TCP.",
                         {"SCTP", "TCP", "UDP"})},
       {"targetPort", IntOrStr("Number or name of the port to access on the pods targeted by the "
                               "service. If this is a string, it will be looked up as a named "
                               "port in the target Pod's container ports. If this is not "
                               "specified, the value of the 'port' field is used.")}},
      {"port"});
  s[Core("ServiceSpec")] = Obj(
      "ServiceSpec describes the attributes that a user creates on a service.",
      {{"allocateLoadBalancerNodePorts", Bool("allocateLoadBalancerNodePorts defines if NodePorts "
                                              "will be automatically allocated for services with "
                                              "type LoadBalancer.")},
       {"clusterIP", Str("clusterIP is the IP address of the service and is usually assigned "
                         "randomly. \"None\" makes a headless service.")},
       {"clusterIPs", Atomic(StrList("ClusterIPs is a list of IP addresses assigned to this "
                                     "service, and are usually assigned randomly."))},
       {"externalIPs", Atomic(StrList("externalIPs is a list of IP addresses for which nodes in "
                                      "the cluster will also accept traffic for this service."))},
       {"externalName", Str("externalName is the external reference that discovery mechanisms "
                            "will return as an alias for this service (e.g. a DNS CNAME "
                            "record). Requires type to be \"ExternalName\".")},
       {"externalTrafficPolicy", Enum("externalTrafficPolicy describes how nodes distribute "
                                      "service traffic they receive on one of the Service's "
                                      "\"externally-facing\" addresses.",
                                      {"Cluster", "Local"})},
       {"healthCheckNodePort", Int32("healthCheckNodePort specifies the healthcheck nodePort for "
                                     "the service.")},
       {"internalTrafficPolicy", Enum("InternalTrafficPolicy describes how nodes distribute "
                                      "service traffic they receive on the ClusterIP.",
                                      {"Cluster", "Local"})},
       {"ipFamilies", Atomic(StrList("IPFamilies is a list of IP families (e.g. IPv4, IPv6) "
                                     "assigned to this service."))},
       {"ipFamilyPolicy", Enum("IPFamilyPolicy represents the dual-stack-ness requested or "
                               "required by this Service.",
                               {"PreferDualStack", "RequireDualStack", "SingleStack"})},
       {"loadBalancerClass", Str("loadBalancerClass is the class of the load balancer "
                                 "implementation this Service belongs to.")},
       {"loadBalancerIP", Str("Only applies to Service Type: LoadBalancer. Deprecated.")},
       {"loadBalancerSourceRanges", Atomic(StrList("If specified and supported by the platform, "
                                                   "traffic through the cloud-provider "
                                                   "load-balancer will be restricted to the "
                                                   "specified client IPs."))},
       {"ports", PortMergeList(Core("ServicePort"),
                               "The list of ports that are exposed by this service. More info: "
                               "https://kubernetes.io/docs/concepts/services-networking/"
                               "service/#virtual-ips-and-service-proxies",
                               "port")},
       {"publishNotReadyAddresses", Bool("publishNotReadyAddresses indicates that any agent which "
                                         "deals with endpoints for this Service should disregard "
                                         "any indications of ready/not-ready.")},
       {"selector",
        AtomicMap(StrMap("Route service traffic to pods with label keys and values matching "
                         "this selector. If empty or not present, the service is assumed to "
                         "have an external process managing its endpoints."))},
       {"sessionAffinity", Enum("Supports \"ClientIP\" and \"None\". Used to maintain session "
                                "affinity. Defaults to None.",
                                {"ClientIP", "None"})},
       {"sessionAffinityConfig", Open("sessionAffinityConfig contains the configurations of "
                                      "session affinity.")},
       {"trafficDistribution", Str("TrafficDistribution offers a way to express preferences for "
                                   "how traffic is distributed to Service endpoints.")},
       {"type", Enum("type determines how the Service is exposed. Defaults to ClusterIP. Valid "
                     "options are ExternalName, ClusterIP, NodePort, and LoadBalancer.",
                     {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"})}},
      {}, kPartial);
  s[Core("ServiceStatus")] = Obj(
      "ServiceStatus represents the current status of a service.",
      {{"conditions", MergeList(Meta("Condition"), "Current service state", "type")},
       {"loadBalancer", Open("LoadBalancer contains the current status of the load-balancer, if "
                             "one is present.")}});
  s[Core("Service")] = SpecStatusKind(
      Core, "", "Service",
      "Service is a named abstraction of software service (for example, mysql) consisting of local "
      "port (for example 3306) that the proxy listens on, and the selector that determines which "
      "pods will answer requests sent through the proxy.",
      "Spec defines the behavior of a service.",
      "Most recently observed status of the service. Populated by the system. Read-only.");
  s[Core("ObjectReference")] = Obj(
      "ObjectReference contains enough information to let you inspect or modify the referred "
      "object.",
      {{"apiVersion", Str("API version of the referent.")},
       {"fieldPath", Str("If referring to a piece of an object instead of an entire object, this "
                         "string should contain a valid JSON/Go field access statement, such as "
                         "desiredState.manifest.containers[2].")},
       {"kind", Str("Kind of the referent.")},
       {"name", Str("Name of the referent.")},
       {"namespace", Str("Namespace of the referent.")},
       {"resourceVersion", Str("Specific resourceVersion to which this reference is made, if "
                               "any.")},
       {"uid", Str("UID of the referent.")}},
      {}, kAtomic);
  s[Core("EndpointAddress")] = Obj("EndpointAddress is a tuple that describes single IP address.",
                                   {{"hostname", Str("The Hostname of this endpoint")},
                                    {"ip", Str("The IP of this endpoint.")},
                                    {"nodeName", Str("Optional: Node hosting this endpoint.")},
                                    {"targetRef", Ref(Core("ObjectReference"),
                                                      "Reference to object providing the "
                                                      "endpoint.")}},
                                   {"ip"}, kAtomic);
  s[Core("EndpointPort")] =
      Obj("EndpointPort is a tuple that describes a single port.",
          {{"appProtocol", Str("The application protocol for this port.")},
           {"name", Str("The name of this port.  This must match the 'name' field in the "
                        "corresponding ServicePort.")},
           {"port", Int32("The port number of the endpoint.")},
           {"protocol",
            Enum("The IP protocol for this port. Default is TCP.", {"SCTP", "TCP", "UDP"})}},
          {"port"}, kAtomic);
  s[Core("EndpointSubset")] =
      Obj("EndpointSubset is a group of addresses with a common set of ports.",
          {{"addresses", Atomic(ListOf(Core("EndpointAddress"),
                                       "IP addresses which offer the related ports that are marked "
                                       "as ready."))},
           {"notReadyAddresses", Atomic(ListOf(Core("EndpointAddress"),
                                               "IP addresses which offer the related ports but are "
                                               "not currently marked as ready."))},
           {"ports", Atomic(ListOf(Core("EndpointPort"),
                                   "Port numbers available on the related IP "
                                   "addresses."))}});
  s[Core("Endpoints")] = Kind(
      "Endpoints is a collection of endpoints that implement the actual service.", "", "Endpoints",
      {{"subsets", Atomic(ListOf(Core("EndpointSubset"),
                                 "The set of all endpoints is the union of all subsets."))}});
}

void AddConfigSchemas(Schemas& s) {
  s[Core("ConfigMap")] = Kind(
      "ConfigMap holds configuration data for pods to consume.", "", "ConfigMap",
      {{"binaryData", Described({{"type", "object"}, {"additionalProperties", Bytes("")}},
                                "BinaryData contains the binary data. Each key must consist of "
                                "alphanumeric characters, '-', '_' or '.'.")},
       {"data", StrMap("Data contains the configuration data. Each key must consist of "
                       "alphanumeric characters, '-', '_' or '.'.")},
       {"immutable", Bool("Immutable, if set to true, ensures that data stored in the ConfigMap "
                          "cannot be updated (only object metadata can be modified).")}});
  s[Core("Secret")] = Kind(
      "Secret holds secret data of a certain type. The total bytes of the values in the Data "
      "field must be less than MaxSecretSize bytes.",
      "", "Secret",
      {{"data", Described({{"type", "object"}, {"additionalProperties", Bytes("")}},
                          "Data contains the secret data. Each key must consist of alphanumeric "
                          "characters, '-', '_' or '.'. The serialized form of the secret data "
                          "is a base64 encoded string.")},
       {"immutable", Bool("Immutable, if set to true, ensures that data stored in the Secret "
                          "cannot be updated (only object metadata can be modified).")},
       {"stringData", StrMap("stringData allows specifying non-binary secret data in string "
                             "form. It is provided as a write-only input field for convenience. "
                             "All keys and values are merged into the data field on write.")},
       {"type", Str("Used to facilitate programmatic handling of secret data. More info: "
                    "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types")}});
  s[Core("ServiceAccount")] = Kind(
      "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral "
      "systems, for an identity * a principal that can be authenticated and authorized * a set "
      "of secrets",
      "", "ServiceAccount",
      {{"automountServiceAccountToken", Bool("AutomountServiceAccountToken indicates whether "
                                             "pods running as this service account should have "
                                             "an API token automatically mounted.")},
       {"imagePullSecrets", Atomic(ListOf(Core("LocalObjectReference"),
                                          "ImagePullSecrets is a list of references to secrets "
                                          "in the same namespace to use for pulling any images "
                                          "in pods that reference this ServiceAccount."))},
       {"secrets", MergeList(Core("ObjectReference"),
                             "Secrets is a list of the secrets in the same namespace that pods "
                             "running using this ServiceAccount are allowed to use.",
                             "name")}});
  s[Core("NamespaceSpec")] = Obj(
      "NamespaceSpec describes the attributes on a Namespace.",
      {{"finalizers", Atomic(StrList("Finalizers is an opaque list of values that must be empty "
                                     "to permanently remove object from storage."))}});
  s[Core("NamespaceCondition")] =
      Condition("NamespaceCondition contains details about state of namespace.", false);
  s[Core("NamespaceStatus")] =
      Obj("NamespaceStatus is information about the current status of a Namespace.",
          {{"conditions", MergeList(Core("NamespaceCondition"),
                                    "Represents the latest available "
                                    "observations of a namespace's "
                                    "current state.",
                                    "type")},
           {"phase", Enum("Phase is the current lifecycle phase of the namespace.",
                          {"Active", "Terminating"})}});
  s[Core("Namespace")] = SpecStatusKind(
      Core, "", "Namespace",
      "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
      "Spec defines the behavior of the Namespace.",
      "Status describes the current status of a Namespace.");
  s[Core("EventSource")] = Obj("EventSource contains information for an event.",
                               {{"component", Str("Component from which the event is generated.")},
                                {"host", Str("Node name on which the event is generated.")}});
  s[Core("EventSeries")] =
      Obj("EventSeries contain information on series of events, i.e. thing that was/is happening "
          "continuously for some time.",
          {{"count", Int32("Number of occurrences in this series up to the last heartbeat time")},
           {"lastObservedTime", Ref(Meta("MicroTime"), "Time of the last occurrence observed")}});
  s[Core("Event")] = Kind(
      "Event is a report of an event somewhere in the cluster.", "", "Event",
      {{"action", Str("What action was taken/failed regarding to the Regarding object.")},
       {"count", Int32("The number of times this event has occurred.")},
       {"eventTime", Ref(Meta("MicroTime"), "Time when this Event was first observed.")},
       {"firstTimestamp", Time("The time at which the event was first recorded. (Time of server "
                               "receipt is in TypeMeta.)")},
       {"involvedObject", Ref(Core("ObjectReference"), "The object that this event is about.")},
       {"lastTimestamp", Time("The time at which the most recent occurrence of this event was "
                              "recorded.")},
       {"message", Str("A human-readable description of the status of this operation.")},
       {"reason", Str("This should be a short, machine understandable string that gives the "
                      "reason for the transition into the object's current status.")},
       {"related", Ref(Core("ObjectReference"),
                       "Optional secondary object for more complex "
                       "actions.")},
       {"reportingComponent", Str("Name of the controller that emitted this Event, e.g. "
                                  "`kubernetes.io/kubelet`.")},
       {"reportingInstance", Str("ID of the controller instance, e.g. `kubelet-xyzf`.")},
       {"series", Ref(Core("EventSeries"),
                      "Data about the Event series this event represents or "
                      "nil if it's a singleton Event.")},
       {"source", Ref(Core("EventSource"),
                      "The component reporting this event. Should be a "
                      "short machine understandable string.")},
       {"type", Str("Type of this event (Normal, Warning), new types could be added in the "
                    "future")}},
      {"metadata", "involvedObject"});
}

void AddNodeSchemas(Schemas& s) {
  s[Core("Taint")] =
      Obj("The node this Taint is attached to has the \"effect\" on any pod that does not tolerate "
          "the Taint.",
          {{"effect", Enum("Required. The effect of the taint on pods that do not tolerate the "
                           "taint.",
                           {"NoExecute", "NoSchedule", "PreferNoSchedule"})},
           {"key", Str("Required. The taint key to be applied to a node.")},
           {"timeAdded", Time("TimeAdded represents the time at which the taint was added.")},
           {"value", Str("The taint value corresponding to the taint key.")}},
          {"key", "effect"});
  s[Core("NodeSpec")] = Obj(
      "NodeSpec describes the attributes that a node is created with.",
      {{"podCIDR", Str("PodCIDR represents the pod IP range assigned to the node.")},
       {"podCIDRs", StrSet("podCIDRs represents the IP ranges assigned to the node for usage by "
                           "Pods on that node.")},
       {"providerID", Str("ID of the node assigned by the cloud provider in the format: "
                          "<ProviderName>://<ProviderSpecificNodeID>")},
       {"taints", Atomic(ListOf(Core("Taint"), "If specified, the node's taints."))},
       {"unschedulable", Bool("Unschedulable controls node schedulability of new pods. By "
                              "default, node is schedulable.")}},
      {}, kPartial);
  s[Core("NodeCondition")] =
      Obj("NodeCondition contains condition information for a node.",
          {{"lastHeartbeatTime", Time("Last time we got an update on a given condition.")},
           {"lastTransitionTime", Time("Last time the condition transit from one status to "
                                       "another.")},
           {"message", Str("Human readable message indicating details about last transition.")},
           {"reason", Str("(brief) reason for the condition's last transition.")},
           {"status", Str("Status of the condition, one of True, False, Unknown.")},
           {"type", Str("Type of node condition.")}},
          {"type", "status"});
  s[Core("NodeAddress")] =
      Obj("NodeAddress contains information for the node's address.",
          {{"address", Str("The node address.")},
           {"type", Str("Node address type, one of Hostname, ExternalIP or InternalIP.")}},
          {"type", "address"});
  s[Core("NodeSystemInfo")] =
      Obj("NodeSystemInfo is a set of ids/uuids to uniquely identify the node.",
          {{"architecture", Str("The Architecture reported by the node")},
           {"bootID", Str("Boot ID reported by the node.")},
           {"containerRuntimeVersion", Str("ContainerRuntime Version reported by the node through "
                                           "runtime remote API (e.g. containerd://1.4.2).")},
           {"kernelVersion", Str("Kernel Version reported by the node from 'uname -r' (e.g. "
                                 "3.16.0-0.bpo.4-amd64).")},
           {"kubeProxyVersion", Str("Deprecated: KubeProxy Version reported by the node.")},
           {"kubeletVersion", Str("Kubelet Version reported by the node.")},
           {"machineID", Str("MachineID reported by the node.")},
           {"operatingSystem", Str("The Operating System reported by the node")},
           {"osImage", Str("OS Image reported by the node from /etc/os-release (e.g. Debian "
                           "GNU/Linux 7 (wheezy)).")},
           {"systemUUID", Str("SystemUUID reported by the node.")}},
          {}, kPartial);
  s[Core("NodeStatus")] = Obj(
      "NodeStatus is information about the current status of a node.",
      {{"addresses",
        MergeList(Core("NodeAddress"), "List of addresses reachable to the node.", "type")},
       {"allocatable", QtyMap("Allocatable represents the resources of a node that are available "
                              "for scheduling. Defaults to Capacity.")},
       {"capacity", QtyMap("Capacity represents the total resources of a node.")},
       {"conditions", MergeList(Core("NodeCondition"),
                                "Conditions is an array of current "
                                "observed node conditions.",
                                "type")},
       {"daemonEndpoints", Open("Endpoints of daemons running on the Node.")},
       {"images", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                   "List of container images on this node"))},
       {"nodeInfo", Ref(Core("NodeSystemInfo"),
                        "Set of ids/uuids to uniquely identify the "
                        "node.")},
       {"phase", Str("NodePhase is the recently observed lifecycle phase of the node. "
                     "Deprecated.")}},
      {}, kPartial);
  s[Core("Node")] = SpecStatusKind(
      Core, "", "Node",
      "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache "
      "(i.e. in etcd).",
      "Spec defines the behavior of a node.",
      "Most recently observed status of the node. Populated by the system. Read-only.");
}

void AddVolumeClaimSchemas(Schemas& s) {
  s[Core("VolumeResourceRequirements")] =
      Obj("VolumeResourceRequirements describes the storage resource requirements for a volume.",
          {{"limits", QtyMap("Limits describes the maximum amount of compute resources allowed.")},
           {"requests", QtyMap("Requests describes the minimum amount of compute resources "
                               "required.")}});
  s[Core("PersistentVolumeClaimSpec")] = Obj(
      "PersistentVolumeClaimSpec describes the common attributes of storage devices and allows a "
      "Source for provider-specific attributes",
      {{"accessModes", Atomic(StrList("accessModes contains the desired access modes the volume "
                                      "should have. More info: https://kubernetes.io/docs/"
                                      "concepts/storage/persistent-volumes#access-modes-1"))},
       {"dataSource", Open("dataSource field can be used to specify either an existing "
                           "VolumeSnapshot object or an existing PVC.")},
       {"dataSourceRef", Open("dataSourceRef specifies the object from which to populate the "
                              "volume with data, if a non-empty volume is desired.")},
       {"resources", Ref(Core("VolumeResourceRequirements"),
                         "resources represents the minimum resources the volume should have.")},
       {"selector", Ref(Meta("LabelSelector"),
                        "selector is a label query over volumes to "
                        "consider for binding.")},
       {"storageClassName", Str("storageClassName is the name of the StorageClass required by "
                                "the claim. More info: https://kubernetes.io/docs/concepts/"
                                "storage/persistent-volumes#class-1")},
       {"volumeAttributesClassName", Str("volumeAttributesClassName may be used to set the "
                                         "VolumeAttributesClass used by this claim.")},
       {"volumeMode", Enum("volumeMode defines what type of volume is required by the claim. "
                           "Value of Filesystem is implied when not included in claim spec.",
                           {"Block", "Filesystem"})},
       {"volumeName", Str("volumeName is the binding reference to the PersistentVolume backing "
                          "this claim.")}});
  s[Core("PersistentVolumeClaimCondition")] =
      Condition("PersistentVolumeClaimCondition contains details about state of pvc", true);
  s[Core("PersistentVolumeClaimStatus")] =
      Obj("PersistentVolumeClaimStatus is the current status of a persistent volume claim.",
          {{"accessModes", Atomic(StrList("accessModes contains the actual access modes the volume "
                                          "backing the PVC has."))},
           {"allocatedResources", QtyMap("allocatedResources tracks the resources allocated to a "
                                         "PVC including its capacity.")},
           {"capacity", QtyMap("capacity represents the actual resources of the underlying "
                               "volume.")},
           {"conditions",
            MergeList(Core("PersistentVolumeClaimCondition"),
                      "conditions is the current Condition of persistent volume claim.", "type")},
           {"phase", Enum("phase represents the current phase of PersistentVolumeClaim.",
                          {"Bound", "Lost", "Pending"})}},
          {}, kPartial);
  s[Core("PersistentVolumeClaim")] = SpecStatusKind(
      Core, "", "PersistentVolumeClaim",
      "PersistentVolumeClaim is a user's request for and claim to a persistent volume",
      "spec defines the desired characteristics of a volume requested by a pod author. More info: "
      "https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistentvolumeclaims",
      "status represents the current information/status of a persistent volume claim. Read-only.");
  s[Core("PersistentVolumeSpec")] = Obj(
      "PersistentVolumeSpec is the specification of a persistent volume.",
      {{"accessModes", Atomic(StrList("accessModes contains all ways the volume can be mounted. "
                                      "More info: https://kubernetes.io/docs/concepts/storage/"
                                      "persistent-volumes#access-modes"))},
       {"capacity", QtyMap("capacity is the description of the persistent volume's resources and "
                           "capacity.")},
       {"claimRef", Ref(Core("ObjectReference"),
                        "claimRef is part of a bi-directional binding between PersistentVolume "
                        "and PersistentVolumeClaim. Expected to be non-nil when bound.")},
       {"csi", Open("csi represents storage that is handled by an external CSI driver.")},
       {"hostPath", Ref(Core("HostPathVolumeSource"),
                        "hostPath represents a directory on the host. Provisioned by a developer "
                        "or tester.")},
       {"local", Open("local represents directly-attached storage with node affinity")},
       {"mountOptions", Atomic(StrList("mountOptions is the list of mount options, e.g. "
                                       "[\"ro\", \"soft\"]."))},
       {"nfs", Ref(Core("NFSVolumeSource"), "nfs represents an NFS mount on the host.")},
       {"nodeAffinity", Open("nodeAffinity defines constraints that limit what nodes this volume "
                             "can be accessed from.")},
       {"persistentVolumeReclaimPolicy",
        Enum("persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
             "released from its claim. Valid options are Retain (default for manually created "
             "PersistentVolumes), Delete (default for dynamically provisioned "
             "PersistentVolumes), and Recycle (deprecated).",
             {"Delete", "Recycle", "Retain"})},
       {"storageClassName", Str("storageClassName is the name of StorageClass to which this "
                                "persistent volume belongs.")},
       {"volumeAttributesClassName", Str("Name of VolumeAttributesClass to which this persistent "
                                         "volume belongs.")},
       {"volumeMode", Enum("volumeMode defines if a volume is intended to be used with a "
                           "formatted filesystem or to remain in raw block state.",
                           {"Block", "Filesystem"})}},
      {}, kPartial);
  s[Core("PersistentVolumeStatus")] =
      Obj("PersistentVolumeStatus is the current status of a persistent volume.",
          {{"lastPhaseTransitionTime", Time("lastPhaseTransitionTime is the time the phase "
                                            "transitioned from one to another.")},
           {"message", Str("message is a human-readable message indicating details about why the "
                           "volume is in this state.")},
           {"phase", Enum("phase indicates if a volume is available, bound to a claim, or released "
                          "by a claim.",
                          {"Available", "Bound", "Failed", "Pending", "Released"})},
           {"reason", Str("reason is a brief CamelCase string that describes any failure and is "
                          "meant for machine parsing and tidy display in the CLI.")}});
  s[Core("PersistentVolume")] =
      SpecStatusKind(Core, "", "PersistentVolume",
                     "PersistentVolume (PV) is a storage resource provisioned by an administrator. "
                     "It is analogous to a node.",
                     "spec defines a specification of a persistent volume owned by the cluster. "
                     "Provisioned by an administrator.",
                     "status represents the current information/status for the persistent volume. "
                     "Populated by the system. Read-only.");
}

// ---------------------------------------------------------------------------
// apps/v1, storage.k8s.io/v1, coordination.k8s.io/v1, autoscaling/v1 Scale.

json WorkloadStatusCommon(Props extra, std::string_view d, const std::string& condition) {
  Props p = {{"availableReplicas", Int32("Total number of available pods (ready for at least "
                                         "minReadySeconds) targeted by this workload.")},
             {"collisionCount", Int32("Count of hash collisions. The controller uses this field "
                                      "as a collision avoidance mechanism when it needs to "
                                      "create the name for the newest ControllerRevision.")},
             {"conditions", MergeList(condition,
                                      "Represents the latest available observations "
                                      "of the workload's current state.",
                                      "type")},
             {"observedGeneration", Int64("The generation observed by the controller.")},
             {"readyReplicas", Int32("The number of pods targeted by this workload with a Ready "
                                     "Condition.")},
             {"replicas", Int32("Total number of non-terminated pods targeted by this workload "
                                "(their labels match the selector).")}};
  for (auto& e : extra) p.push_back(std::move(e));
  return Obj(d, p, {}, kPartial);
}

const char kSelectorDoc[] =
    "selector is a label query over pods that should match the replica count. It must match "
    "the pod template's labels. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
const char kTemplateDoc[] =
    "template is the object that describes the pod that will be created if insufficient "
    "replicas are detected.";

void AddStatefulSetSchemas(Schemas& s) {
  s[Apps("RollingUpdateStatefulSetStrategy")] =
      Obj("RollingUpdateStatefulSetStrategy is used to communicate parameter for "
          "RollingUpdateStatefulSetStrategyType.",
          {{"maxUnavailable", IntOrStr("The maximum number of pods that can be unavailable during "
                                       "the update. Defaults to 1.")},
           {"partition", Int32("Partition indicates the ordinal at which the StatefulSet should be "
                               "partitioned for updates. During a rolling update, all pods from "
                               "ordinal Replicas-1 to Partition are updated. All pods from ordinal "
                               "Partition-1 to 0 remain untouched. The default value is 0.")}});
  s[Apps("StatefulSetUpdateStrategy")] = Obj(
      "StatefulSetUpdateStrategy indicates the strategy that the StatefulSet controller will use "
      "to perform updates. It includes any additional parameters necessary to perform the update "
      "for the indicated strategy.",
      {{"rollingUpdate", Ref(Apps("RollingUpdateStatefulSetStrategy"),
                             "RollingUpdate is used to communicate parameters when Type is "
                             "RollingUpdateStatefulSetStrategyType.")},
       {"type", Enum("Type indicates the type of the StatefulSetUpdateStrategy. Default is "
                     "RollingUpdate.",
                     {"OnDelete", "RollingUpdate"})}});
  s[Apps("StatefulSetPersistentVolumeClaimRetentionPolicy")] = Obj(
      "StatefulSetPersistentVolumeClaimRetentionPolicy describes the policy used for PVCs "
      "created from the StatefulSet VolumeClaimTemplates.",
      {{"whenDeleted", Str("WhenDeleted specifies what happens to PVCs created from StatefulSet "
                           "VolumeClaimTemplates when the StatefulSet is deleted. The default "
                           "policy of `Retain` causes PVCs to not be affected by StatefulSet "
                           "deletion.")},
       {"whenScaled", Str("WhenScaled specifies what happens to PVCs created from StatefulSet "
                          "VolumeClaimTemplates when the StatefulSet is scaled down. The default "
                          "policy of `Retain` causes PVCs to not be affected by a scaledown.")}});
  s[Apps("StatefulSetOrdinals")] =
      Obj("StatefulSetOrdinals describes the policy used for replica ordinal assignment in this "
          "StatefulSet.",
          {{"start", Int32("start is the number representing the first replica's index. Default is "
                           "0.")}});
  s[Apps("StatefulSetSpec")] = Obj(
      "A StatefulSetSpec is the specification of a StatefulSet.",
      {{"minReadySeconds", Int32("Minimum number of seconds for which a newly created pod should "
                                 "be ready without any of its container crashing for it to be "
                                 "considered available. Defaults to 0.")},
       {"ordinals", Ref(Apps("StatefulSetOrdinals"),
                        "ordinals controls the numbering of replica indices in a StatefulSet. "
                        "The default ordinals behavior assigns a \"0\" index to the first "
                        "replica and increments the index by one for each additional replica "
                        "requested.")},
       {"persistentVolumeClaimRetentionPolicy",
        Ref(Apps("StatefulSetPersistentVolumeClaimRetentionPolicy"),
            "persistentVolumeClaimRetentionPolicy describes the lifecycle of persistent volume "
            "claims created from volumeClaimTemplates. By default, all persistent volume claims "
            "are created as needed and retained until manually deleted.")},
       {"podManagementPolicy", Enum("podManagementPolicy controls how pods are created during "
                                    "initial scale up, when replacing pods on nodes, or when "
                                    "scaling down. The default policy is `OrderedReady`.",
                                    {"OrderedReady", "Parallel"})},
       {"replicas", Int32("replicas is the desired number of replicas of the given Template. "
                          "These are replicas in the sense that they are instantiations of the "
                          "same Template, but individual replicas also have a consistent "
                          "identity. If unspecified, defaults to 1.")},
       {"revisionHistoryLimit", Int32("revisionHistoryLimit is the maximum number of revisions "
                                      "that will be maintained in the StatefulSet's revision "
                                      "history. It defaults to 10.")},
       {"selector", Ref(Meta("LabelSelector"), kSelectorDoc)},
       {"serviceName", Str("serviceName is the name of the service that governs this "
                           "StatefulSet. This service must exist before the StatefulSet, and is "
                           "responsible for the network identity of the set. Pods get "
                           "DNS/hostnames that follow the pattern: "
                           "pod-specific-string.serviceName.default.svc.cluster.local.")},
       {"template", Ref(Core("PodTemplateSpec"),
                        "template is the object that describes the pod that will be created if "
                        "insufficient replicas are detected. Each pod stamped out by the "
                        "StatefulSet will fulfill this Template, but have a unique identity "
                        "from the rest of the StatefulSet.")},
       {"updateStrategy", Ref(Apps("StatefulSetUpdateStrategy"),
                              "updateStrategy indicates the StatefulSetUpdateStrategy that will "
                              "be employed to update Pods in the StatefulSet when a revision is "
                              "made to Template.")},
       {"volumeClaimTemplates", Atomic(ListOf(Core("PersistentVolumeClaim"),
                                              "volumeClaimTemplates is a list of claims that "
                                              "pods are allowed to reference. Every claim in "
                                              "this list must have at least one matching (by "
                                              "name) volumeMount in one container in the "
                                              "template."))}},
      {"selector", "template"});
  s[Apps("StatefulSetCondition")] = Condition(
      "StatefulSetCondition describes the state of a statefulset at a certain point.", false);
  s[Apps("StatefulSetStatus")] = WorkloadStatusCommon(
      {{"currentReplicas", Int32("currentReplicas is the number of Pods created by the "
                                 "StatefulSet controller from the StatefulSet version indicated "
                                 "by currentRevision.")},
       {"currentRevision", Str("currentRevision, if not empty, indicates the version of the "
                               "StatefulSet used to generate Pods in the sequence "
                               "[0,currentReplicas).")},
       {"updateRevision", Str("updateRevision, if not empty, indicates the version of the "
                              "StatefulSet used to generate Pods in the sequence "
                              "[replicas-updatedReplicas,replicas)")},
       {"updatedReplicas", Int32("updatedReplicas is the number of Pods created by the "
                                 "StatefulSet controller from the StatefulSet version indicated "
                                 "by updateRevision.")}},
      "StatefulSetStatus represents the current state of a StatefulSet.",
      Apps("StatefulSetCondition"));
  s[Apps("StatefulSetStatus")]["required"] = json::array({"replicas"});
  s[Apps("StatefulSet")] =
      SpecStatusKind(Apps, "apps", "StatefulSet",
                     "StatefulSet represents a set of pods with consistent identities. Identities "
                     "are defined as:\n  - Network: A single stable DNS and hostname.\n  - "
                     "Storage: As many VolumeClaims as requested.\n\nThe StatefulSet guarantees "
                     "that a given network identity will always map to the same storage identity.",
                     "Spec defines the desired identities of pods in this set.",
                     "Status is the current status of Pods in this StatefulSet. This data may be "
                     "out of date by some window of time.");
}

void AddDeploymentSchemas(Schemas& s) {
  s[Apps("RollingUpdateDeployment")] = Obj(
      "Spec to control the desired behavior of rolling update.",
      {{"maxSurge", IntOrStr("The maximum number of pods that can be scheduled above the desired "
                             "number of pods. Value can be an absolute number (ex: 5) or a "
                             "percentage of desired pods (ex: 10%). Defaults to 25%.")},
       {"maxUnavailable", IntOrStr("The maximum number of pods that can be unavailable during "
                                   "the update. Value can be an absolute number (ex: 5) or a "
                                   "percentage of desired pods (ex: 10%). Defaults to 25%.")}});
  s[Apps("DeploymentStrategy")] =
      Obj("DeploymentStrategy describes how to replace existing pods with new ones.",
          {{"rollingUpdate", Ref(Apps("RollingUpdateDeployment"),
                                 "Rolling update config params. Present only if "
                                 "DeploymentStrategyType = RollingUpdate.")},
           {"type", Enum("Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is "
                         "RollingUpdate.",
                         {"Recreate", "RollingUpdate"})}});
  s[Apps("DeploymentSpec")] = Obj(
      "DeploymentSpec is the specification of the desired behavior of the Deployment.",
      {{"minReadySeconds", Int32("Minimum number of seconds for which a newly created pod should "
                                 "be ready without any of its container crashing, for it to be "
                                 "considered available. Defaults to 0.")},
       {"paused", Bool("Indicates that the deployment is paused.")},
       {"progressDeadlineSeconds", Int32("The maximum time in seconds for a deployment to make "
                                         "progress before it is considered to be failed. "
                                         "Defaults to 600s.")},
       {"replicas", Int32("Number of desired pods. This is a pointer to distinguish between "
                          "explicit zero and not specified. Defaults to 1.")},
       {"revisionHistoryLimit", Int32("The number of old ReplicaSets to retain to allow "
                                      "rollback. Defaults to 10.")},
       {"selector", Ref(Meta("LabelSelector"),
                        "Label selector for pods. Existing ReplicaSets whose pods are selected "
                        "by this will be the ones affected by this deployment. It must match the "
                        "pod template's labels.")},
       {"strategy",
        [] {
          json r = Ref(Apps("DeploymentStrategy"),
                       "The deployment strategy to use to replace "
                       "existing pods with new ones.");
          r["x-kubernetes-patch-strategy"] = "retainKeys";
          return r;
        }()},
       {"template", Ref(Core("PodTemplateSpec"),
                        "Template describes the pods that will be created. The only allowed "
                        "template.spec.restartPolicy value is \"Always\".")}},
      {"selector", "template"});
  s[Apps("DeploymentCondition")] = Condition(
      "DeploymentCondition describes the state of a deployment at a certain point.", false);
  s[Apps("DeploymentStatus")] = WorkloadStatusCommon(
      {{"unavailableReplicas", Int32("Total number of unavailable pods targeted by this "
                                     "deployment.")},
       {"updatedReplicas", Int32("Total number of non-terminated pods targeted by this "
                                 "deployment that have the desired template spec.")}},
      "DeploymentStatus is the most recently observed status of the Deployment.",
      Apps("DeploymentCondition"));
  s[Apps("Deployment")] =
      SpecStatusKind(Apps, "apps", "Deployment",
                     "Deployment enables declarative updates for Pods and ReplicaSets.",
                     "Specification of the desired behavior of the Deployment.",
                     "Most recently observed status of the Deployment.");
  s[Apps("ReplicaSetSpec")] = Obj(
      "ReplicaSetSpec is the specification of a ReplicaSet.",
      {{"minReadySeconds", Int32("Minimum number of seconds for which a newly created pod should "
                                 "be ready without any of its container crashing, for it to be "
                                 "considered available. Defaults to 0.")},
       {"replicas", Int32("Replicas is the number of desired pods. Defaults to 1.")},
       {"selector", Ref(Meta("LabelSelector"), kSelectorDoc)},
       {"template", Ref(Core("PodTemplateSpec"), kTemplateDoc)}},
      {"selector"});
  s[Apps("ReplicaSetCondition")] = Condition(
      "ReplicaSetCondition describes the state of a replica set at a certain point.", false);
  s[Apps("ReplicaSetStatus")] = WorkloadStatusCommon(
      {{"fullyLabeledReplicas", Int32("The number of pods that have labels matching the labels "
                                      "of the pod template of the replicaset.")}},
      "ReplicaSetStatus represents the current status of a ReplicaSet.",
      Apps("ReplicaSetCondition"));
  s[Apps("ReplicaSet")] = SpecStatusKind(
      Apps, "apps", "ReplicaSet",
      "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
      "Spec defines the specification of the desired behavior of the ReplicaSet.",
      "Status is the most recently observed status of the ReplicaSet.");
  s[Apps("ControllerRevision")] = Kind(
      "ControllerRevision implements an immutable snapshot of state data. Clients are "
      "responsible for serializing and deserializing the objects that contain their internal "
      "state. Once a ControllerRevision has been successfully created, it can not be updated.",
      "apps", "ControllerRevision",
      {{"data", Ref(kRawExtension, "Data is the serialized representation of the state.")},
       {"revision", Int64("Revision indicates the revision of the state represented by Data.")}},
      {"revision"});
}

void AddOtherGroupSchemas(Schemas& s) {
  s[Storage("StorageClass")] = Kind(
      "StorageClass describes the parameters for a class of storage for which PersistentVolumes "
      "can be dynamically provisioned.\n\nStorageClasses are non-namespaced; the name of the "
      "storage class according to etcd is in ObjectMeta.Name.",
      "storage.k8s.io", "StorageClass",
      {{"allowVolumeExpansion", Bool("allowVolumeExpansion shows whether the storage class allow "
                                     "volume expand.")},
       {"allowedTopologies", Atomic(Described({{"type", "array"}, {"items", Open("")}},
                                              "allowedTopologies restrict the node topologies "
                                              "where volumes can be dynamically provisioned."))},
       {"mountOptions", Atomic(StrList("mountOptions controls the mountOptions for dynamically "
                                       "provisioned PersistentVolumes of this storage class."))},
       {"parameters", StrMap("parameters holds the parameters for the provisioner that should "
                             "create volumes of this storage class.")},
       {"provisioner", Str("provisioner indicates the type of the provisioner.")},
       {"reclaimPolicy", Enum("reclaimPolicy controls the reclaimPolicy for dynamically "
                              "provisioned PersistentVolumes of this storage class. Defaults to "
                              "Delete.",
                              {"Delete", "Recycle", "Retain"})},
       {"volumeBindingMode", Enum("volumeBindingMode indicates how PersistentVolumeClaims should "
                                  "be provisioned and bound. When unset, VolumeBindingImmediate "
                                  "is used.",
                                  {"Immediate", "WaitForFirstConsumer"})}},
      {"provisioner"});
  s[Coord("LeaseSpec")] = Obj(
      "LeaseSpec is a specification of a Lease.",
      {{"acquireTime", Ref(Meta("MicroTime"),
                           "acquireTime is a time when the current lease was "
                           "acquired.")},
       {"holderIdentity", Str("holderIdentity contains the identity of the holder of a current "
                              "lease.")},
       {"leaseDurationSeconds", Int32("leaseDurationSeconds is a duration that candidates for a "
                                      "lease need to wait to force acquire it. This is measured "
                                      "against the time of last observed renewTime.")},
       {"leaseTransitions", Int32("leaseTransitions is the number of transitions of a lease "
                                  "between holders.")},
       {"preferredHolder", Str("PreferredHolder signals to a lease holder that the lease has a "
                               "more optimal holder and should be given up.")},
       {"renewTime", Ref(Meta("MicroTime"),
                         "renewTime is a time when the current holder of a "
                         "lease has last updated the lease.")},
       {"strategy", Str("Strategy indicates the strategy for picking the leader for coordinated "
                        "leader election.")}});
  s[Coord("Lease")] =
      Kind("Lease defines a lease concept.", "coordination.k8s.io", "Lease",
           {{"spec", Ref(Coord("LeaseSpec"), "spec contains the specification of the Lease.")}});
  s[Sched("PriorityClass")] = Kind(
      "PriorityClass defines mapping from a priority class name to the priority integer value. "
      "The value can be any valid integer.",
      "scheduling.k8s.io", "PriorityClass",
      {{"description", Str("description is an arbitrary string that usually provides guidelines "
                           "on when this priority class should be used.")},
       {"globalDefault",
        Bool("globalDefault specifies whether this PriorityClass should be considered as the "
             "default priority for pods that do not have any priority class. Only one "
             "PriorityClass can be marked as `globalDefault`. However, if more than one "
             "PriorityClasses exists with their `globalDefault` field set to true, the smallest "
             "value of such global default PriorityClasses will be used as the default "
             "priority.")},
       {"preemptionPolicy", Enum("preemptionPolicy is the Policy for preempting pods with lower "
                                 "priority. One of Never, PreemptLowerPriority. Defaults to "
                                 "PreemptLowerPriority if unset.",
                                 {"Never", "PreemptLowerPriority"})},
       {"value", Int32("value represents the integer value of this priority class. This is the "
                       "actual priority that pods receive when they have the name of this class "
                       "in their pod spec.")}},
      {"value"});
  json scale = Kind(
      "Scale represents a scaling request for a resource.", "autoscaling", "Scale",
      {{"spec", Obj("ScaleSpec describes the attributes of a scale subresource.",
                    {{"replicas", Int32("replicas is the desired number of instances for the "
                                        "scaled object.")}})},
       {"status", Obj("ScaleStatus represents the current status of a scale subresource.",
                      {{"replicas", Int32("replicas is the actual number of observed instances "
                                          "of the scaled object.")},
                       {"selector", Str("selector is the label query over pods that should match "
                                        "the replicas count.")}},
                      {"replicas"})}});
  s[kScale] = std::move(scale);
}

const Schemas& AllSchemas() {
  static const Schemas schemas = [] {
    Schemas s;
    AddMetaSchemas(s);
    AddContainerSchemas(s);
    AddVolumeSchemas(s);
    AddPodSchemas(s);
    AddServiceSchemas(s);
    AddConfigSchemas(s);
    AddNodeSchemas(s);
    AddVolumeClaimSchemas(s);
    AddStatefulSetSchemas(s);
    AddDeploymentSchemas(s);
    AddOtherGroupSchemas(s);
    return s;
  }();
  return schemas;
}

// ---------------------------------------------------------------------------
// Paths and operations.

const char kFieldValidationDoc[] =
    "fieldValidation instructs the server on how to handle objects in the request "
    "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This "
    "will ignore any unknown fields that are silently dropped from the object, and will ignore "
    "all but the last duplicate field that the decoder encounters. - Warn: This will send a "
    "warning via the standard warning response header for each unknown field that is dropped "
    "from the object, and for each duplicate field that is encountered. - Strict: This will "
    "fail the request with a BadRequest error if any unknown fields would be dropped from the "
    "object, or if any duplicate fields are present.";

json Param(std::string_view name, std::string_view in, std::string_view desc,
           std::string_view type = "string", bool required = false) {
  json p = {{"name", name},
            {"in", in},
            {"description", desc},
            {"schema", {{"type", type}, {"uniqueItems", true}}}};
  if (required) p["required"] = true;
  return p;
}

json WriteParams(bool with_force) {
  json params = json::array(
      {Param("dryRun", "query",
             "When present, indicates that modifications should not be persisted. Valid values "
             "are: - All: all dry run stages will be processed"),
       Param("fieldManager", "query",
             "fieldManager is a name associated with the actor or entity that is making these "
             "changes."),
       Param("fieldValidation", "query", kFieldValidationDoc)});
  if (with_force) {
    params.push_back(Param("force", "query",
                           "Force is going to \"force\" Apply requests. It means user will "
                           "re-acquire conflicting fields owned by other people.",
                           "boolean"));
  }
  return params;
}

json ListParams() {
  return json::array(
      {Param("continue", "query",
             "The continue option should be set when retrieving more results "
             "from the server."),
       Param("fieldSelector", "query",
             "A selector to restrict the list of returned objects by "
             "their fields. Defaults to everything."),
       Param("labelSelector", "query",
             "A selector to restrict the list of returned objects by "
             "their labels. Defaults to everything."),
       Param("limit", "query",
             "limit is a maximum number of responses to return for a list "
             "call.",
             "integer"),
       Param("resourceVersion", "query",
             "resourceVersion sets a constraint on what resource "
             "versions a request may be served from."),
       Param("timeoutSeconds", "query", "Timeout for the list/watch call.", "integer"),
       Param("watch", "query",
             "Watch for changes to the described resources and return them as "
             "a stream of add, update, and remove notifications.",
             "boolean")});
}

json Content(const std::string& schema_name) {
  const json schema = RefOnly(schema_name);
  return {{"application/json", {{"schema", schema}}}, {"application/yaml", {{"schema", schema}}}};
}

json Responses(std::initializer_list<std::pair<const char*, const char*>> codes,
               const std::string& schema_name) {
  json r = {{"401", {{"description", "Unauthorized"}}}};
  for (const auto& [code, desc] : codes) {
    r[code] = {{"description", desc}, {"content", Content(schema_name)}};
  }
  return r;
}

// Names for operation ids and tags: "AppsV1", "apps_v1", "CoreV1", "core_v1".
struct GroupNames {
  std::string camel;
  std::string tag;
};
std::string Capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}
GroupNames NamesFor(const ResourceInfo& info) {
  const std::string g = ShortGroup(info.group);
  return {Capitalized(g) + Capitalized(info.version), g + "_" + info.version};
}

struct OpBuilder {
  const ResourceInfo& info;
  json gvk;
  GroupNames names;
  std::string scope;  // "Namespaced" or ""

  json Op(std::string_view verb, std::string_view action, std::string_view desc,
          std::string_view suffix = "") const {
    return {
        {"tags", json::array({names.tag})},
        {"description", desc},
        {"operationId", std::string(verb) + names.camel + scope + info.kind + std::string(suffix)},
        {"x-kubernetes-action", action},
        {"x-kubernetes-group-version-kind", gvk}};
  }
};

json RequestBody(json content) { return {{"content", std::move(content)}, {"required", true}}; }

// A request body of any media type holding the schema `schema_name`.
json ObjectBody(const std::string& schema_name) {
  return RequestBody({{"*/*", {{"schema", RefOnly(schema_name)}}}});
}

// The PATCH request body: every patch type but strategic merge (see openapi.h).
json PatchBody() {
  const json schema = {{"schema", RefOnly(Meta("Patch"))}};
  return RequestBody({{"application/apply-patch+yaml", schema},
                      {"application/json-patch+json", schema},
                      {"application/merge-patch+json", schema}});
}

// The parameters every operation of a path shares: `params`, then the
// namespace of a namespaced resource, then `pretty`.
json PathParams(const ResourceInfo& info, json params) {
  if (info.namespaced) {
    params.push_back(Param("namespace", "path",
                           "object name and auth scope, such as for teams "
                           "and projects",
                           "string", true));
  }
  params.push_back(Param("pretty", "query", "If 'true', then the output is pretty printed."));
  return params;
}

// The list-or-watch operation of a collection.
json ListOp(const OpBuilder& b, const std::string& list_ref, std::string_view suffix) {
  json op = b.Op("list", "list", "list or watch objects of kind " + b.info.kind, suffix);
  op["parameters"] = ListParams();
  op["responses"] = Responses({{"200", "OK"}}, list_ref);
  return op;
}

json ItemPathItem(const OpBuilder& b, const std::string& kind_ref, std::string_view sub) {
  const std::string what = sub.empty() ? b.info.kind : std::string(sub) + " of the " + b.info.kind;
  const std::string suffix = sub.empty() ? "" : (sub == "status" ? "Status" : "Scale");
  json item;
  item["get"] = b.Op("read", "get", "read the specified " + what, suffix);
  item["get"]["responses"] = Responses({{"200", "OK"}}, kind_ref);
  item["put"] = b.Op("replace", "put", "replace the specified " + what, suffix);
  item["put"]["parameters"] = WriteParams(false);
  item["put"]["requestBody"] = ObjectBody(kind_ref);
  item["put"]["responses"] = Responses({{"200", "OK"}, {"201", "Created"}}, kind_ref);
  item["patch"] = b.Op("patch", "patch", "partially update the specified " + what, suffix);
  item["patch"]["parameters"] = WriteParams(true);
  item["patch"]["requestBody"] = PatchBody();
  item["patch"]["responses"] = Responses({{"200", "OK"}, {"201", "Created"}}, kind_ref);
  if (sub.empty()) {
    item["delete"] = b.Op("delete", "delete", "delete " + b.info.kind);
    item["delete"]["parameters"] =
        json::array({Param("dryRun", "query",
                           "When present, indicates that modifications should not be "
                           "persisted."),
                     Param("gracePeriodSeconds", "query",
                           "The duration in seconds before the object should "
                           "be deleted.",
                           "integer"),
                     Param("propagationPolicy", "query",
                           "Whether and how garbage collection will be "
                           "performed.")});
    item["delete"]["requestBody"] = ObjectBody(Meta("DeleteOptions"));
    item["delete"]["requestBody"]["required"] = false;
    item["delete"]["responses"] = Responses({{"200", "OK"}, {"202", "Accepted"}}, kind_ref);
  }
  item["parameters"] = PathParams(
      b.info, json::array({Param("name", "path", "name of the " + what, "string", true)}));
  return item;
}

json CollectionPathItem(const OpBuilder& b, const std::string& kind_ref,
                        const std::string& list_ref) {
  json coll;
  coll["get"] = ListOp(b, list_ref, "");
  coll["post"] = b.Op("create", "post", "create a " + b.info.kind);
  coll["post"]["parameters"] = WriteParams(false);
  coll["post"]["requestBody"] = ObjectBody(kind_ref);
  coll["post"]["responses"] =
      Responses({{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}}, kind_ref);
  coll["parameters"] = PathParams(b.info, json::array());
  return coll;
}

// ---------------------------------------------------------------------------
// Documents.

std::string GvPath(const GroupVersion& gv) {
  return gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
}

void CollectRefs(const json& j, std::set<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) {
        const std::string& ref = v.get_ref<const std::string&>();
        if (ref.rfind(kRefPrefix, 0) == 0) out->insert(ref.substr(sizeof(kRefPrefix) - 1));
      } else {
        CollectRefs(v, out);
      }
    }
  } else if (j.is_array()) {
    for (const json& v : j) CollectRefs(v, out);
  }
}

// Adds `names` and every schema they reference, transitively.
void AddWithClosure(const Schemas& all, std::set<std::string> names, json* schemas) {
  while (!names.empty()) {
    const std::string name = *names.begin();
    names.erase(names.begin());
    if (schemas->contains(name)) continue;
    auto it = all.find(name);
    if (it == all.end()) continue;
    (*schemas)[name] = it->second;
    std::set<std::string> refs;
    CollectRefs(it->second, &refs);
    for (const std::string& r : refs) {
      if (!schemas->contains(r)) names.insert(r);
    }
  }
}

// A kind registered after these schemas were written still gets an explainable,
// permissive schema so validation and explain work for it.
json GenericKind(const ResourceInfo& info) {
  json s = Kind(info.kind + " is served by Kennel; its fields are not described here.", info.group,
                info.kind,
                {{"spec", Open("Specification of the desired behavior.")},
                 {"status", Open("Most recently observed status.")}},
                {}, kPartial);
  s["x-kubernetes-group-version-kind"] = json::array({Gvk(info.group, info.version, info.kind)});
  return s;
}

json BuildDocument(const GroupVersion& gv) {
  const Schemas& all = AllSchemas();
  json paths = json::object();
  json schemas = json::object();
  std::set<std::string> roots = {Meta("Status"), Meta("DeleteOptions"), Meta("Patch")};
  const std::string prefix = "/" + GvPath(gv);
  for (const ResourceInfo& info : AllResources()) {
    if (info.group != gv.group || info.version != gv.version) continue;
    const std::string kind_ref = KindSchemaName(info);
    const std::string list_ref = kind_ref + "List";
    const json kind_schema = all.count(kind_ref) > 0 ? all.at(kind_ref) : GenericKind(info);
    schemas[kind_ref] = kind_schema;
    schemas[list_ref] = ListKind(info, kind_ref);
    CollectRefs(kind_schema, &roots);

    const OpBuilder b{info, Gvk(info.group, info.version, info.kind), NamesFor(info),
                      info.namespaced ? "Namespaced" : ""};
    const std::string coll =
        prefix + (info.namespaced ? "/namespaces/{namespace}/" : "/") + info.resource;
    paths[coll] = CollectionPathItem(b, kind_ref, list_ref);
    paths[coll + "/{name}"] = ItemPathItem(b, kind_ref, "");
    if (info.status_subresource)
      paths[coll + "/{name}/status"] = ItemPathItem(b, kind_ref, "status");
    if (info.scale_subresource) {
      OpBuilder sb = b;
      sb.gvk = Gvk("autoscaling", "v1", "Scale");
      paths[coll + "/{name}/scale"] = ItemPathItem(sb, kScale, "scale");
      roots.insert(kScale);
    }
    if (info.namespaced) {  // the cluster-wide list, where explain looks first
      OpBuilder ab = b;
      ab.scope = "";
      paths[prefix + "/" + info.resource] = {{"get", ListOp(ab, list_ref, "ForAllNamespaces")}};
    }
  }
  // Like upstream, a group-version's document describes all of its own types
  // (core/v1 has PodTemplateSpec even without a PodTemplate resource).
  const std::string own_prefix = SchemaPrefix(gv.group, gv.version);
  for (const auto& [name, schema] : all) {
    if (name.rfind(own_prefix, 0) == 0) roots.insert(name);
  }
  AddWithClosure(all, roots, &schemas);
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", std::move(schemas)}}}};
}

std::string Fnv1aHex(std::string_view data) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llX", static_cast<unsigned long long>(h));
  return buf;
}

struct Cache {
  std::map<std::string, json, std::less<>> docs;  // by "api/v1", "apis/apps/v1"
  json index;
};

Cache BuildCache() {
  Cache c;
  c.index = {{"paths", json::object()}};
  for (const GroupVersion& gv : ServedGroupVersions()) {
    const std::string path = GvPath(gv);
    json doc = BuildDocument(gv);
    const std::string hash = Fnv1aHex(doc.dump());
    c.index["paths"][path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hash}};
    c.docs.emplace(path, std::move(doc));
  }
  return c;
}

const Cache& GetCache() {
  static const Cache cache = BuildCache();
  return cache;
}

// The schemas of every served document, by component name and by
// "<apiVersion> <kind>" of their x-kubernetes-group-version-kind.
struct SchemaIndex {
  std::map<std::string, const json*, std::less<>> by_name;
  std::map<std::string, const json*, std::less<>> by_gvk;
};

std::string GvkKey(std::string_view api_version, std::string_view kind) {
  return std::string(api_version) + " " + std::string(kind);
}

SchemaIndex BuildSchemaIndex() {
  SchemaIndex index;
  for (const auto& [path, doc] : GetCache().docs) {
    auto components = doc.find("components");
    if (components == doc.end() || !components->is_object()) continue;
    auto schemas = components->find("schemas");
    if (schemas == components->end() || !schemas->is_object()) continue;
    for (auto it = schemas->begin(); it != schemas->end(); ++it) {
      index.by_name.emplace(it.key(), &it.value());
      auto gvks = it->find("x-kubernetes-group-version-kind");
      if (gvks == it->end() || !gvks->is_array()) continue;
      for (const json& gvk : *gvks) {
        if (!gvk.is_object()) continue;
        const std::string group = gvk.value("group", "");
        const std::string version = gvk.value("version", "");
        const std::string api_version = group.empty() ? version : group + "/" + version;
        index.by_gvk.emplace(GvkKey(api_version, gvk.value("kind", "")), &it.value());
      }
    }
  }
  return index;
}

const SchemaIndex* GetSchemaIndex() {
  static const SchemaIndex* const index = []() -> const SchemaIndex* {
    try {
      return new SchemaIndex(BuildSchemaIndex());
    } catch (const std::exception&) {
      return nullptr;  // cannot happen: the documents are built from constants
    }
  }();
  return index;
}

}  // namespace

nlohmann::json OpenApiIndex() {
  try {
    return GetCache().index;
  } catch (const std::exception&) {
    return {{"paths", json::object()}};  // cannot happen: the documents are built from constants
  }
}

const nlohmann::json* SchemaForRef(std::string_view name_or_ref) {
  constexpr std::string_view kPrefix = kRefPrefix;
  if (name_or_ref.substr(0, kPrefix.size()) == kPrefix) name_or_ref.remove_prefix(kPrefix.size());
  const SchemaIndex* index = GetSchemaIndex();
  if (index == nullptr) return nullptr;
  auto it = index->by_name.find(name_or_ref);
  return it == index->by_name.end() ? nullptr : it->second;
}

const nlohmann::json* SchemaForKind(std::string_view api_version, std::string_view kind) {
  const SchemaIndex* index = GetSchemaIndex();
  if (index == nullptr) return nullptr;
  try {
    auto it = index->by_gvk.find(GvkKey(api_version, kind));
    return it == index->by_gvk.end() ? nullptr : it->second;
  } catch (const std::exception&) {
    return nullptr;
  }
}

StatusOr<nlohmann::json> OpenApiDocument(std::string_view gv_path) {
  while (!gv_path.empty() && gv_path.front() == '/') gv_path.remove_prefix(1);
  try {
    const Cache& cache = GetCache();
    auto it = cache.docs.find(gv_path);
    if (it == cache.docs.end()) {
      return NotFound("the server could not find the requested resource (openapi/v3/" +
                      std::string(gv_path) + ")");
    }
    return it->second;
  } catch (const std::exception& e) {
    return Internal(std::string("building OpenAPI documents: ") + e.what());
  }
}

}  // namespace kennel::api
