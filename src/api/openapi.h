// OpenAPI v3 documents for kubectl: GET /openapi/v3 and /openapi/v3/<gv>.
//
// kubectl reads them for three things:
//  * --validate=strict (the default for create/apply/edit/replace) asks whether
//    the PATCH operation of the object's kind takes a `fieldValidation` query
//    parameter. Every item path's operations carry it, so kubectl sends
//    fieldValidation=Strict and skips client-side schema validation.
//  * `kubectl explain` walks components.schemas from the schema whose
//    x-kubernetes-group-version-kind matches, following allOf/$ref, and prints
//    the descriptions. The schemas use upstream's component names
//    (io.k8s.api.apps.v1.StatefulSet, io.k8s.api.core.v1.PodSpec,
//    io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, ...).
//  * Client-side apply could compute its strategic merge patch from these
//    schemas. It does so only when the PATCH operation lists
//    application/strategic-merge-patch+json in its request body, and then any
//    field the schema does not model makes kubectl print "warning: error
//    calculating patch from openapi v3 spec". The schemas here model the
//    common fields, not every field, so PATCH operations deliberately list the
//    other three patch types only: kubectl then falls back, silently, to the
//    patch metadata compiled into it, which is exactly upstream's.
//    x-kubernetes-patch-merge-key / -patch-strategy are still published on
//    the merge lists (containers, env, ports, volumes, volumeMounts, ...) for
//    any other reader.
// Structs not modelled field by field carry
// "x-kubernetes-preserve-unknown-fields": true and never close
// additionalProperties, so no schema reader can reject a valid object.
//
// Documents are built once, on first use, and cached; their hashes are stable
// for a given build and change whenever a document's content changes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"

namespace kennel::api {

// The /openapi/v3 discovery index:
// {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=<H>"},
//           "apis/apps/v1":{...}, ...}}
// with one entry per ServedGroupVersions() element. <H> is the hex FNV-1a hash
// of that group-version document.
nlohmann::json OpenApiIndex();

// The OpenAPI 3.0 document for one group-version path as listed in the index:
// "api/v1", "apis/apps/v1", "apis/storage.k8s.io/v1", ... (a leading '/' is
// tolerated). kNotFound for a group-version that is not served.
StatusOr<nlohmann::json> OpenApiDocument(std::string_view gv_path);

// Read access to the schemas of the served documents, for server-side readers
// (unknown-field detection). The pointers stay valid for the life of the
// process; nullptr when no served document defines the schema.
//
// The component schema named "io.k8s.api.core.v1.PodSpec", also accepted as
// a $ref: "#/components/schemas/io.k8s.api.core.v1.PodSpec".
const nlohmann::json* SchemaForRef(std::string_view name_or_ref);
// The schema whose x-kubernetes-group-version-kind is (apiVersion, kind):
// ("apps/v1", "StatefulSet"), ("v1", "PodList"), ("autoscaling/v1", "Scale").
const nlohmann::json* SchemaForKind(std::string_view api_version, std::string_view kind);

}  // namespace kennel::api
