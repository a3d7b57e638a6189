// Server-side field validation: the fields of an object that its kind does not
// have.
//
// kubectl sends ?fieldValidation=Strict by default (Warn with --validate=warn,
// Ignore with --validate=false). Kubernetes never stores a field its types do
// not define: under Strict the request fails with 400 BadRequest,
//   strict decoding error: unknown field "spec.foo", unknown field "dataa"
// under Warn the fields are dropped and each is reported in a
//   Warning: unknown field "spec.foo"
// header, and under Ignore they are dropped silently.
//
// The types are the OpenAPI v3 schemas of the served documents (openapi.h):
// $ref, single-element allOf wrappers, arrays' items and additionalProperties
// are followed. A field is unknown when its object's schema has properties
// (or is a closed object) that do not name it and neither additionalProperties
// nor x-kubernetes-preserve-unknown-fields admits it. Under a node marked
// x-kubernetes-preserve-unknown-fields, fields the node does not name are kept
// with everything below them, while the fields it does name are still checked
// against their schemas (the CRD pruning rule). Values whose type does not
// match the schema (an object where a string belongs) are left to validation.
//
// Each kind's schema is compiled once, on first use, into a compact lookup
// table shared by all kinds, so checking a typical object costs microseconds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kennel::api {

// Paths of the fields in `obj` that the schema of (api_version, kind) does not
// define, in Kubernetes' notation ("spec.template.spec.containers[0].imagee",
// "dataa"; map entries as "spec.map.key"), sorted. Empty for kinds without a
// schema and for a non-object `obj`. Kinds are the served ones, their Lists and
// autoscaling/v1 Scale.
std::vector<std::string> UnknownFields(const nlohmann::json& obj, std::string_view api_version,
                                       std::string_view kind);

// Removes from `obj`, in place, exactly the fields UnknownFields reports.
void PruneUnknownFields(nlohmann::json& obj, std::string_view api_version, std::string_view kind);

// `unknown field "spec.foo"`: one strict decoding error, and the text of the
// Warning header for it under fieldValidation=Warn.
std::string UnknownFieldMessage(std::string_view path);

// `strict decoding error: unknown field "a", unknown field "b"`: the message
// of the BadRequest under fieldValidation=Strict (Kubernetes prefixes it with
// `<Kind> in version "<version>" cannot be handled as a <Kind>: ` on create
// and update). Empty for no fields.
std::string StrictDecodingErrorMessage(const std::vector<std::string>& paths);

}  // namespace kennel::api
