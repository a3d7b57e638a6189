// Decoding of Kubernetes' protobuf wire encoding into Kennel's JSON objects.
//
// kubectl's generator commands (`kubectl create namespace|configmap|secret|
// service|deployment|serviceaccount|priorityclass ...`) POST their object as
// `application/vnd.kubernetes.protobuf` and never retry in JSON, so the API
// server must read that encoding; it always answers in JSON, so there is no
// encoder. The decoder is driven by hand-written schema tables
// (internal/proto_schema.cc) and skips fields it does not know, so objects
// from newer clients still decode.
//
// Decodable kinds: v1 Namespace, ConfigMap, Secret, Service, ServiceAccount,
// Pod, PersistentVolumeClaim; apps/v1 Deployment, ReplicaSet, StatefulSet;
// scheduling.k8s.io/v1 PriorityClass.
// Their `status` is never decoded (the server ignores it on writes anyway),
// nor are affinity, topologySpreadConstraints, dnsConfig, managedFields or
// projected/downwardAPI volumes.
//
// Thread-safe; no exception escapes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"

namespace kennel::api {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

// Decodes a Kubernetes protobuf body: the 4-byte magic "k8s\0", then a
// runtime.Unknown {typeMeta{apiVersion = 1, kind = 2} = 1, raw = 2,
// contentEncoding = 3, contentType = 4} whose raw holds the object's message.
//
// Returns the object as Kubernetes JSON: apiVersion and kind set, JSON field
// names, unset or zero fields omitted as `omitempty` would (Go pointer fields
// such as spec.replicas or a volume's emptyDir are kept even when zero/empty),
// IntOrString as a number or string, Quantity as its string, Time as an
// RFC 3339 string in UTC, []byte (Secret data) as a base64 string.
//
// Errors: kBadRequest for a malformed body (bad magic, truncated or
// inconsistent wire data, invalid UTF-8 in a string, missing apiVersion or
// kind); kUnsupportedMediaType for a kind without a schema here (the message
// names its apiVersion and kind) or a raw payload with a content encoding or
// type other than plain protobuf.
StatusOr<nlohmann::json> DecodeKubernetesProtobuf(std::string_view body);

}  // namespace kennel::api
