#include "api/internal/proto_schema.h"

namespace kennel::api::internal {
namespace {

// Field numbers are those of k8s.io/api core/v1, apps/v1 and scheduling/v1
// and apimachinery meta/v1 generated.proto. Messages are defined leaf first, because each table
// points at the specs of the messages it nests.
using K = FieldKind;
constexpr uint8_t R = kRepeated;
constexpr uint8_t P = kPointer;

// ---- meta/v1 ----

constexpr FieldSpec kLabelSelectorRequirementFields[] = {
    {1, "key", K::kString},
    {2, "operator", K::kString},
    {3, "values", K::kString, R},
};
constexpr MessageSpec kLabelSelectorRequirement{"LabelSelectorRequirement",
                                                kLabelSelectorRequirementFields};

constexpr FieldSpec kLabelSelectorFields[] = {
    {1, "matchLabels", K::kStringMap},
    {2, "matchExpressions", K::kMessage, R, &kLabelSelectorRequirement},
};
constexpr MessageSpec kLabelSelector{"LabelSelector", kLabelSelectorFields};

constexpr FieldSpec kOwnerReferenceFields[] = {
    {5, "apiVersion", K::kString},  {1, "kind", K::kString},
    {3, "name", K::kString},        {4, "uid", K::kString},
    {6, "controller", K::kBool, P}, {7, "blockOwnerDeletion", K::kBool, P},
};
constexpr MessageSpec kOwnerReference{"OwnerReference", kOwnerReferenceFields};

constexpr FieldSpec kObjectMetaFields[] = {
    {1, "name", K::kString},
    {2, "generateName", K::kString},
    {3, "namespace", K::kString},
    {4, "selfLink", K::kString},
    {5, "uid", K::kString},
    {6, "resourceVersion", K::kString},
    {7, "generation", K::kInt64},
    {8, "creationTimestamp", K::kTime},
    {9, "deletionTimestamp", K::kTime, P},
    {10, "deletionGracePeriodSeconds", K::kInt64, P},
    {11, "labels", K::kStringMap},
    {12, "annotations", K::kStringMap},
    {13, "ownerReferences", K::kMessage, R, &kOwnerReference},
    {14, "finalizers", K::kString, R},
};
constexpr MessageSpec kObjectMeta{"ObjectMeta", kObjectMetaFields};

// ---- core/v1: references ----

constexpr FieldSpec kLocalObjectReferenceFields[] = {
    {1, "name", K::kString},
};
constexpr MessageSpec kLocalObjectReference{"LocalObjectReference", kLocalObjectReferenceFields};

constexpr FieldSpec kObjectReferenceFields[] = {
    {1, "kind", K::kString},      {2, "namespace", K::kString},  {3, "name", K::kString},
    {4, "uid", K::kString},       {5, "apiVersion", K::kString}, {6, "resourceVersion", K::kString},
    {7, "fieldPath", K::kString},
};
constexpr MessageSpec kObjectReference{"ObjectReference", kObjectReferenceFields};

constexpr FieldSpec kTypedLocalObjectReferenceFields[] = {
    {1, "apiGroup", K::kString, P},
    {2, "kind", K::kString},
    {3, "name", K::kString},
};
constexpr MessageSpec kTypedLocalObjectReference{"TypedLocalObjectReference",
                                                 kTypedLocalObjectReferenceFields};

// ---- core/v1: volumes ----

constexpr FieldSpec kKeyToPathFields[] = {
    {1, "key", K::kString},
    {2, "path", K::kString},
    {3, "mode", K::kInt32, P},
};
constexpr MessageSpec kKeyToPath{"KeyToPath", kKeyToPathFields};

constexpr FieldSpec kHostPathVolumeSourceFields[] = {
    {1, "path", K::kString},
    {2, "type", K::kString, P},
};
constexpr MessageSpec kHostPathVolumeSource{"HostPathVolumeSource", kHostPathVolumeSourceFields};

constexpr FieldSpec kEmptyDirVolumeSourceFields[] = {
    {1, "medium", K::kString},
    {2, "sizeLimit", K::kQuantity, P},
};
constexpr MessageSpec kEmptyDirVolumeSource{"EmptyDirVolumeSource", kEmptyDirVolumeSourceFields};

constexpr FieldSpec kSecretVolumeSourceFields[] = {
    {1, "secretName", K::kString},
    {2, "items", K::kMessage, R, &kKeyToPath},
    {3, "defaultMode", K::kInt32, P},
    {4, "optional", K::kBool, P},
};
constexpr MessageSpec kSecretVolumeSource{"SecretVolumeSource", kSecretVolumeSourceFields};

constexpr FieldSpec kConfigMapVolumeSourceFields[] = {
    {1, "localObjectReference", K::kInline, 0, &kLocalObjectReference},
    {2, "items", K::kMessage, R, &kKeyToPath},
    {3, "defaultMode", K::kInt32, P},
    {4, "optional", K::kBool, P},
};
constexpr MessageSpec kConfigMapVolumeSource{"ConfigMapVolumeSource", kConfigMapVolumeSourceFields};

constexpr FieldSpec kPersistentVolumeClaimVolumeSourceFields[] = {
    {1, "claimName", K::kString},
    {2, "readOnly", K::kBool},
};
constexpr MessageSpec kPersistentVolumeClaimVolumeSource{"PersistentVolumeClaimVolumeSource",
                                                         kPersistentVolumeClaimVolumeSourceFields};

constexpr FieldSpec kNFSVolumeSourceFields[] = {
    {1, "server", K::kString},
    {2, "path", K::kString},
    {3, "readOnly", K::kBool},
};
constexpr MessageSpec kNFSVolumeSource{"NFSVolumeSource", kNFSVolumeSourceFields};

// Exactly one member is set, and its presence is the volume's type, so every
// member is a pointer: "emptyDir: {}" must survive.
constexpr FieldSpec kVolumeSourceFields[] = {
    {1, "hostPath", K::kMessage, P, &kHostPathVolumeSource},
    {2, "emptyDir", K::kMessage, P, &kEmptyDirVolumeSource},
    {6, "secret", K::kMessage, P, &kSecretVolumeSource},
    {7, "nfs", K::kMessage, P, &kNFSVolumeSource},
    {10, "persistentVolumeClaim", K::kMessage, P, &kPersistentVolumeClaimVolumeSource},
    {19, "configMap", K::kMessage, P, &kConfigMapVolumeSource},
};
constexpr MessageSpec kVolumeSource{"VolumeSource", kVolumeSourceFields};

constexpr FieldSpec kVolumeFields[] = {
    {1, "name", K::kString},
    {2, "volumeSource", K::kInline, 0, &kVolumeSource},
};
constexpr MessageSpec kVolume{"Volume", kVolumeFields};

// ---- core/v1: containers ----

constexpr FieldSpec kContainerPortFields[] = {
    {1, "name", K::kString},     {2, "hostPort", K::kInt32}, {3, "containerPort", K::kInt32},
    {4, "protocol", K::kString}, {5, "hostIP", K::kString},
};
constexpr MessageSpec kContainerPort{"ContainerPort", kContainerPortFields};

constexpr FieldSpec kObjectFieldSelectorFields[] = {
    {1, "apiVersion", K::kString},
    {2, "fieldPath", K::kString},
};
constexpr MessageSpec kObjectFieldSelector{"ObjectFieldSelector", kObjectFieldSelectorFields};

constexpr FieldSpec kResourceFieldSelectorFields[] = {
    {1, "containerName", K::kString},
    {2, "resource", K::kString},
    {3, "divisor", K::kQuantity},
};
constexpr MessageSpec kResourceFieldSelector{"ResourceFieldSelector", kResourceFieldSelectorFields};

// ConfigMapKeySelector and SecretKeySelector share their layout.
constexpr FieldSpec kKeySelectorFields[] = {
    {1, "localObjectReference", K::kInline, 0, &kLocalObjectReference},
    {2, "key", K::kString},
    {3, "optional", K::kBool, P},
};
constexpr MessageSpec kKeySelector{"KeySelector", kKeySelectorFields};

constexpr FieldSpec kEnvVarSourceFields[] = {
    {1, "fieldRef", K::kMessage, P, &kObjectFieldSelector},
    {2, "resourceFieldRef", K::kMessage, P, &kResourceFieldSelector},
    {3, "configMapKeyRef", K::kMessage, P, &kKeySelector},
    {4, "secretKeyRef", K::kMessage, P, &kKeySelector},
};
constexpr MessageSpec kEnvVarSource{"EnvVarSource", kEnvVarSourceFields};

constexpr FieldSpec kEnvVarFields[] = {
    {1, "name", K::kString},
    {2, "value", K::kString},
    {3, "valueFrom", K::kMessage, P, &kEnvVarSource},
};
constexpr MessageSpec kEnvVar{"EnvVar", kEnvVarFields};

// ConfigMapEnvSource and SecretEnvSource share their layout.
constexpr FieldSpec kEnvSourceFields[] = {
    {1, "localObjectReference", K::kInline, 0, &kLocalObjectReference},
    {2, "optional", K::kBool, P},
};
constexpr MessageSpec kEnvSource{"EnvSource", kEnvSourceFields};

constexpr FieldSpec kEnvFromSourceFields[] = {
    {1, "prefix", K::kString},
    {2, "configMapRef", K::kMessage, P, &kEnvSource},
    {3, "secretRef", K::kMessage, P, &kEnvSource},
};
constexpr MessageSpec kEnvFromSource{"EnvFromSource", kEnvFromSourceFields};

// Also VolumeResourceRequirements (PVC spec), which has the same numbers.
constexpr FieldSpec kResourceRequirementsFields[] = {
    {1, "limits", K::kQuantityMap},
    {2, "requests", K::kQuantityMap},
};
constexpr MessageSpec kResourceRequirements{"ResourceRequirements", kResourceRequirementsFields};

constexpr FieldSpec kVolumeMountFields[] = {
    {1, "name", K::kString},
    {2, "readOnly", K::kBool},
    {3, "mountPath", K::kString},
    {4, "subPath", K::kString},
    {5, "mountPropagation", K::kString, P},
    {6, "subPathExpr", K::kString},
};
constexpr MessageSpec kVolumeMount{"VolumeMount", kVolumeMountFields};

constexpr FieldSpec kVolumeDeviceFields[] = {
    {1, "name", K::kString},
    {2, "devicePath", K::kString},
};
constexpr MessageSpec kVolumeDevice{"VolumeDevice", kVolumeDeviceFields};

constexpr FieldSpec kExecActionFields[] = {
    {1, "command", K::kString, R},
};
constexpr MessageSpec kExecAction{"ExecAction", kExecActionFields};

constexpr FieldSpec kHTTPHeaderFields[] = {
    {1, "name", K::kString},
    {2, "value", K::kString},
};
constexpr MessageSpec kHTTPHeader{"HTTPHeader", kHTTPHeaderFields};

constexpr FieldSpec kHTTPGetActionFields[] = {
    {1, "path", K::kString},
    {2, "port", K::kIntOrString},
    {3, "host", K::kString},
    {4, "scheme", K::kString},
    {5, "httpHeaders", K::kMessage, R, &kHTTPHeader},
};
constexpr MessageSpec kHTTPGetAction{"HTTPGetAction", kHTTPGetActionFields};

constexpr FieldSpec kTCPSocketActionFields[] = {
    {1, "port", K::kIntOrString},
    {2, "host", K::kString},
};
constexpr MessageSpec kTCPSocketAction{"TCPSocketAction", kTCPSocketActionFields};

// ProbeHandler and LifecycleHandler share these numbers (grpc and sleep, the
// later additions, are left out).
constexpr FieldSpec kHandlerFields[] = {
    {1, "exec", K::kMessage, P, &kExecAction},
    {2, "httpGet", K::kMessage, P, &kHTTPGetAction},
    {3, "tcpSocket", K::kMessage, P, &kTCPSocketAction},
};
constexpr MessageSpec kHandler{"Handler", kHandlerFields};

constexpr FieldSpec kProbeFields[] = {
    {1, "handler", K::kInline, 0, &kHandler},
    {2, "initialDelaySeconds", K::kInt32},
    {3, "timeoutSeconds", K::kInt32},
    {4, "periodSeconds", K::kInt32},
    {5, "successThreshold", K::kInt32},
    {6, "failureThreshold", K::kInt32},
    {7, "terminationGracePeriodSeconds", K::kInt64, P},
};
constexpr MessageSpec kProbe{"Probe", kProbeFields};

constexpr FieldSpec kLifecycleFields[] = {
    {1, "postStart", K::kMessage, P, &kHandler},
    {2, "preStop", K::kMessage, P, &kHandler},
};
constexpr MessageSpec kLifecycle{"Lifecycle", kLifecycleFields};

constexpr FieldSpec kCapabilitiesFields[] = {
    {1, "add", K::kString, R},
    {2, "drop", K::kString, R},
};
constexpr MessageSpec kCapabilities{"Capabilities", kCapabilitiesFields};

constexpr FieldSpec kSeccompProfileFields[] = {
    {1, "type", K::kString},
    {2, "localhostProfile", K::kString, P},
};
constexpr MessageSpec kSeccompProfile{"SeccompProfile", kSeccompProfileFields};

constexpr FieldSpec kSecurityContextFields[] = {
    {1, "capabilities", K::kMessage, P, &kCapabilities},
    {2, "privileged", K::kBool, P},
    {4, "runAsUser", K::kInt64, P},
    {5, "runAsNonRoot", K::kBool, P},
    {6, "readOnlyRootFilesystem", K::kBool, P},
    {7, "allowPrivilegeEscalation", K::kBool, P},
    {8, "runAsGroup", K::kInt64, P},
    {9, "procMount", K::kString, P},
    {11, "seccompProfile", K::kMessage, P, &kSeccompProfile},
};
constexpr MessageSpec kSecurityContext{"SecurityContext", kSecurityContextFields};

constexpr FieldSpec kContainerFields[] = {
    {1, "name", K::kString},
    {2, "image", K::kString},
    {3, "command", K::kString, R},
    {4, "args", K::kString, R},
    {5, "workingDir", K::kString},
    {6, "ports", K::kMessage, R, &kContainerPort},
    {19, "envFrom", K::kMessage, R, &kEnvFromSource},
    {7, "env", K::kMessage, R, &kEnvVar},
    {8, "resources", K::kMessage, 0, &kResourceRequirements},
    {9, "volumeMounts", K::kMessage, R, &kVolumeMount},
    {21, "volumeDevices", K::kMessage, R, &kVolumeDevice},
    {10, "livenessProbe", K::kMessage, P, &kProbe},
    {11, "readinessProbe", K::kMessage, P, &kProbe},
    {22, "startupProbe", K::kMessage, P, &kProbe},
    {12, "lifecycle", K::kMessage, P, &kLifecycle},
    {13, "terminationMessagePath", K::kString},
    {20, "terminationMessagePolicy", K::kString},
    {14, "imagePullPolicy", K::kString},
    {15, "securityContext", K::kMessage, P, &kSecurityContext},
    {16, "stdin", K::kBool},
    {17, "stdinOnce", K::kBool},
    {18, "tty", K::kBool},
};
constexpr MessageSpec kContainer{"Container", kContainerFields};

// ---- core/v1: pods ----

constexpr FieldSpec kSysctlFields[] = {
    {1, "name", K::kString},
    {2, "value", K::kString},
};
constexpr MessageSpec kSysctl{"Sysctl", kSysctlFields};

constexpr FieldSpec kPodSecurityContextFields[] = {
    {2, "runAsUser", K::kInt64, P},
    {3, "runAsNonRoot", K::kBool, P},
    {4, "supplementalGroups", K::kInt64, R},
    {5, "fsGroup", K::kInt64, P},
    {6, "runAsGroup", K::kInt64, P},
    {7, "sysctls", K::kMessage, R, &kSysctl},
    {9, "fsGroupChangePolicy", K::kString, P},
    {10, "seccompProfile", K::kMessage, P, &kSeccompProfile},
};
constexpr MessageSpec kPodSecurityContext{"PodSecurityContext", kPodSecurityContextFields};

constexpr FieldSpec kTolerationFields[] = {
    {1, "key", K::kString},
    {2, "operator", K::kString},
    {3, "value", K::kString},
    {4, "effect", K::kString},
    {5, "tolerationSeconds", K::kInt64, P},
};
constexpr MessageSpec kToleration{"Toleration", kTolerationFields};

constexpr FieldSpec kHostAliasFields[] = {
    {1, "ip", K::kString},
    {2, "hostnames", K::kString, R},
};
constexpr MessageSpec kHostAlias{"HostAlias", kHostAliasFields};

constexpr FieldSpec kPodSpecFields[] = {
    {1, "volumes", K::kMessage, R, &kVolume},
    {20, "initContainers", K::kMessage, R, &kContainer},
    {2, "containers", K::kMessage, R, &kContainer},
    {3, "restartPolicy", K::kString},
    {4, "terminationGracePeriodSeconds", K::kInt64, P},
    {5, "activeDeadlineSeconds", K::kInt64, P},
    {6, "dnsPolicy", K::kString},
    {7, "nodeSelector", K::kStringMap},
    {8, "serviceAccountName", K::kString},
    {9, "serviceAccount", K::kString},
    {21, "automountServiceAccountToken", K::kBool, P},
    {10, "nodeName", K::kString},
    {11, "hostNetwork", K::kBool},
    {12, "hostPID", K::kBool},
    {13, "hostIPC", K::kBool},
    {27, "shareProcessNamespace", K::kBool, P},
    {14, "securityContext", K::kMessage, P, &kPodSecurityContext},
    {15, "imagePullSecrets", K::kMessage, R, &kLocalObjectReference},
    {16, "hostname", K::kString},
    {17, "subdomain", K::kString},
    {19, "schedulerName", K::kString},
    {22, "tolerations", K::kMessage, R, &kToleration},
    {23, "hostAliases", K::kMessage, R, &kHostAlias},
    {24, "priorityClassName", K::kString},
    {25, "priority", K::kInt32, P},
    {29, "runtimeClassName", K::kString, P},
    {30, "enableServiceLinks", K::kBool, P},
    {31, "preemptionPolicy", K::kString, P},
    {32, "overhead", K::kQuantityMap},
    {35, "setHostnameAsFQDN", K::kBool, P},
};
constexpr MessageSpec kPodSpec{"PodSpec", kPodSpecFields};

constexpr FieldSpec kPodTemplateSpecFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kPodSpec},
};
constexpr MessageSpec kPodTemplateSpec{"PodTemplateSpec", kPodTemplateSpecFields};

// Pod's fields up to spec are PodTemplateSpec's; status (3) is not decoded.
constexpr MessageSpec kPod{"Pod", kPodTemplateSpecFields};

// ---- core/v1: the other served kinds ----

constexpr FieldSpec kNamespaceSpecFields[] = {
    {1, "finalizers", K::kString, R},
};
constexpr MessageSpec kNamespaceSpec{"NamespaceSpec", kNamespaceSpecFields};

constexpr FieldSpec kNamespaceFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kNamespaceSpec},
};
constexpr MessageSpec kNamespace{"Namespace", kNamespaceFields};

constexpr FieldSpec kConfigMapFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {4, "immutable", K::kBool, P},
    {2, "data", K::kStringMap},
    {3, "binaryData", K::kBytesMap},
};
constexpr MessageSpec kConfigMap{"ConfigMap", kConfigMapFields};

constexpr FieldSpec kSecretFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {5, "immutable", K::kBool, P},
    {2, "data", K::kBytesMap},
    {4, "stringData", K::kStringMap},
    {3, "type", K::kString},
};
constexpr MessageSpec kSecret{"Secret", kSecretFields};

constexpr FieldSpec kServiceAccountFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "secrets", K::kMessage, R, &kObjectReference},
    {3, "imagePullSecrets", K::kMessage, R, &kLocalObjectReference},
    {4, "automountServiceAccountToken", K::kBool, P},
};
constexpr MessageSpec kServiceAccount{"ServiceAccount", kServiceAccountFields};

constexpr FieldSpec kServicePortFields[] = {
    {1, "name", K::kString}, {2, "protocol", K::kString},        {6, "appProtocol", K::kString, P},
    {3, "port", K::kInt32},  {4, "targetPort", K::kIntOrString}, {5, "nodePort", K::kInt32},
};
constexpr MessageSpec kServicePort{"ServicePort", kServicePortFields};

constexpr FieldSpec kClientIPConfigFields[] = {
    {1, "timeoutSeconds", K::kInt32, P},
};
constexpr MessageSpec kClientIPConfig{"ClientIPConfig", kClientIPConfigFields};

constexpr FieldSpec kSessionAffinityConfigFields[] = {
    {1, "clientIP", K::kMessage, P, &kClientIPConfig},
};
constexpr MessageSpec kSessionAffinityConfig{"SessionAffinityConfig", kSessionAffinityConfigFields};

constexpr FieldSpec kServiceSpecFields[] = {
    {1, "ports", K::kMessage, R, &kServicePort},
    {2, "selector", K::kStringMap},
    {3, "clusterIP", K::kString},
    {18, "clusterIPs", K::kString, R},
    {4, "type", K::kString},
    {5, "externalIPs", K::kString, R},
    {7, "sessionAffinity", K::kString},
    {8, "loadBalancerIP", K::kString},
    {9, "loadBalancerSourceRanges", K::kString, R},
    {10, "externalName", K::kString},
    {11, "externalTrafficPolicy", K::kString},
    {12, "healthCheckNodePort", K::kInt32},
    {13, "publishNotReadyAddresses", K::kBool},
    {14, "sessionAffinityConfig", K::kMessage, P, &kSessionAffinityConfig},
    {19, "ipFamilies", K::kString, R},
    {17, "ipFamilyPolicy", K::kString, P},
    {20, "allocateLoadBalancerNodePorts", K::kBool, P},
    {21, "loadBalancerClass", K::kString, P},
    {22, "internalTrafficPolicy", K::kString, P},
};
constexpr MessageSpec kServiceSpec{"ServiceSpec", kServiceSpecFields};

constexpr FieldSpec kServiceFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kServiceSpec},
};
constexpr MessageSpec kService{"Service", kServiceFields};

constexpr FieldSpec kPersistentVolumeClaimSpecFields[] = {
    {1, "accessModes", K::kString, R},
    {4, "selector", K::kMessage, P, &kLabelSelector},
    {2, "resources", K::kMessage, 0, &kResourceRequirements},
    {3, "volumeName", K::kString},
    {5, "storageClassName", K::kString, P},
    {6, "volumeMode", K::kString, P},
    {7, "dataSource", K::kMessage, P, &kTypedLocalObjectReference},
};
constexpr MessageSpec kPersistentVolumeClaimSpec{"PersistentVolumeClaimSpec",
                                                 kPersistentVolumeClaimSpecFields};

constexpr FieldSpec kPersistentVolumeClaimFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kPersistentVolumeClaimSpec},
};
constexpr MessageSpec kPersistentVolumeClaim{"PersistentVolumeClaim", kPersistentVolumeClaimFields};

// ---- apps/v1 ----

constexpr FieldSpec kRollingUpdateDeploymentFields[] = {
    {1, "maxUnavailable", K::kIntOrString, P},
    {2, "maxSurge", K::kIntOrString, P},
};
constexpr MessageSpec kRollingUpdateDeployment{"RollingUpdateDeployment",
                                               kRollingUpdateDeploymentFields};

constexpr FieldSpec kDeploymentStrategyFields[] = {
    {1, "type", K::kString},
    {2, "rollingUpdate", K::kMessage, P, &kRollingUpdateDeployment},
};
constexpr MessageSpec kDeploymentStrategy{"DeploymentStrategy", kDeploymentStrategyFields};

constexpr FieldSpec kDeploymentSpecFields[] = {
    {1, "replicas", K::kInt32, P},
    {2, "selector", K::kMessage, P, &kLabelSelector},
    {3, "template", K::kMessage, 0, &kPodTemplateSpec},
    {4, "strategy", K::kMessage, 0, &kDeploymentStrategy},
    {5, "minReadySeconds", K::kInt32},
    {6, "revisionHistoryLimit", K::kInt32, P},
    {7, "paused", K::kBool},
    {9, "progressDeadlineSeconds", K::kInt32, P},
};
constexpr MessageSpec kDeploymentSpec{"DeploymentSpec", kDeploymentSpecFields};

constexpr FieldSpec kDeploymentFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kDeploymentSpec},
};
constexpr MessageSpec kDeployment{"Deployment", kDeploymentFields};

constexpr FieldSpec kReplicaSetSpecFields[] = {
    {1, "replicas", K::kInt32, P},
    {4, "minReadySeconds", K::kInt32},
    {2, "selector", K::kMessage, P, &kLabelSelector},
    {3, "template", K::kMessage, 0, &kPodTemplateSpec},
};
constexpr MessageSpec kReplicaSetSpec{"ReplicaSetSpec", kReplicaSetSpecFields};

constexpr FieldSpec kReplicaSetFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kReplicaSetSpec},
};
constexpr MessageSpec kReplicaSet{"ReplicaSet", kReplicaSetFields};

constexpr FieldSpec kRollingUpdateStatefulSetStrategyFields[] = {
    {1, "partition", K::kInt32, P},
    {2, "maxUnavailable", K::kIntOrString, P},
};
constexpr MessageSpec kRollingUpdateStatefulSetStrategy{"RollingUpdateStatefulSetStrategy",
                                                        kRollingUpdateStatefulSetStrategyFields};

constexpr FieldSpec kStatefulSetUpdateStrategyFields[] = {
    {1, "type", K::kString},
    {2, "rollingUpdate", K::kMessage, P, &kRollingUpdateStatefulSetStrategy},
};
constexpr MessageSpec kStatefulSetUpdateStrategy{"StatefulSetUpdateStrategy",
                                                 kStatefulSetUpdateStrategyFields};

constexpr FieldSpec kStatefulSetRetentionPolicyFields[] = {
    {1, "whenDeleted", K::kString},
    {2, "whenScaled", K::kString},
};
constexpr MessageSpec kStatefulSetRetentionPolicy{"StatefulSetPersistentVolumeClaimRetentionPolicy",
                                                  kStatefulSetRetentionPolicyFields};

constexpr FieldSpec kStatefulSetOrdinalsFields[] = {
    {1, "start", K::kInt32},
};
constexpr MessageSpec kStatefulSetOrdinals{"StatefulSetOrdinals", kStatefulSetOrdinalsFields};

constexpr FieldSpec kStatefulSetSpecFields[] = {
    {1, "replicas", K::kInt32, P},
    {2, "selector", K::kMessage, P, &kLabelSelector},
    {3, "template", K::kMessage, 0, &kPodTemplateSpec},
    {4, "volumeClaimTemplates", K::kMessage, R, &kPersistentVolumeClaim},
    {5, "serviceName", K::kString},
    {6, "podManagementPolicy", K::kString},
    {7, "updateStrategy", K::kMessage, 0, &kStatefulSetUpdateStrategy},
    {8, "revisionHistoryLimit", K::kInt32, P},
    {9, "minReadySeconds", K::kInt32},
    {10, "persistentVolumeClaimRetentionPolicy", K::kMessage, P, &kStatefulSetRetentionPolicy},
    {11, "ordinals", K::kMessage, P, &kStatefulSetOrdinals},
};
constexpr MessageSpec kStatefulSetSpec{"StatefulSetSpec", kStatefulSetSpecFields};

constexpr FieldSpec kStatefulSetFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "spec", K::kMessage, 0, &kStatefulSetSpec},
};
constexpr MessageSpec kStatefulSet{"StatefulSet", kStatefulSetFields};

// ---- scheduling/v1 ----

constexpr FieldSpec kPriorityClassFields[] = {
    {1, "metadata", K::kMessage, 0, &kObjectMeta},
    {2, "value", K::kInt32},
    {3, "globalDefault", K::kBool},
    {4, "description", K::kString},
    {5, "preemptionPolicy", K::kString, P},
};
constexpr MessageSpec kPriorityClass{"PriorityClass", kPriorityClassFields};

struct ObjectSchema {
  std::string_view api_version;
  std::string_view kind;
  const MessageSpec* spec;
};

constexpr ObjectSchema kObjectSchemas[] = {
    {"v1", "Namespace", &kNamespace},
    {"v1", "ConfigMap", &kConfigMap},
    {"v1", "Secret", &kSecret},
    {"v1", "Service", &kService},
    {"v1", "ServiceAccount", &kServiceAccount},
    {"v1", "Pod", &kPod},
    {"v1", "PersistentVolumeClaim", &kPersistentVolumeClaim},
    {"apps/v1", "Deployment", &kDeployment},
    {"apps/v1", "ReplicaSet", &kReplicaSet},
    {"apps/v1", "StatefulSet", &kStatefulSet},
    {"scheduling.k8s.io/v1", "PriorityClass", &kPriorityClass},
};

}  // namespace

const MessageSpec* FindObjectSchema(std::string_view api_version, std::string_view kind) {
  for (const ObjectSchema& s : kObjectSchemas) {
    if (s.api_version == api_version && s.kind == kind) return s.spec;
  }
  return nullptr;
}

}  // namespace kennel::api::internal
