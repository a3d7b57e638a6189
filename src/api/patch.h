// The three PATCH body formats the API server accepts, applied to an object
// held as JSON. kubectl computes every patch on the client side (see
// shared/design/kubectl-wire.md §2); the server only has to apply one.
//
// All functions are pure: they never modify their arguments, return the
// patched copy, and are safe to call from any thread. No exception escapes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"

namespace kennel::api {

// RFC 6902 JSON Patch (application/json-patch+json): an array of operations
// add, remove, replace, move, copy and test, addressed by RFC 6901 JSON
// pointers ("~1" is "/", "~0" is "~"; "-" appends to an array in add, copy and
// move targets). The operations apply in order and atomically: on error
// nothing is returned.
// Errors:
//   kBadRequest  the patch document is malformed (not an array of objects,
//                unknown op, missing or non-string op/path/from, missing value,
//                a pointer that does not start with "/" or has a bad "~" escape).
//   kInvalid     an operation does not apply (its path or from is missing, an
//                index is out of range, a test fails); the message names the
//                operation's position, op and path.
StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& doc, const nlohmann::json& patch);

// RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge
// recursively, null deletes a key, anything else (arrays included) replaces.
// A patch that is not an object replaces the whole document. Never fails.
StatusOr<nlohmann::json> ApplyMergePatch(const nlohmann::json& doc, const nlohmann::json& patch);

// Kubernetes strategic merge patch (application/strategic-merge-patch+json)
// of an object of a built-in kind, e.g. api_version "apps/v1", kind
// "StatefulSet". Follows Kubernetes' apply semantics:
//   - Objects merge recursively and null deletes a key (a null for a key the
//     document lacks is ignored).
//   - A list whose field carries a merge strategy in Kubernetes' API types
//     merges: lists of objects by their merge key (containers by name, ports
//     by containerPort, conditions by type, ...; an element of the patch is
//     merged into the element with the same key, or added), lists of
//     primitives (finalizers) as a set. Every other list is replaced whole.
//     Unless "$setElementOrder" says otherwise, elements named in the patch
//     keep the patch's order and the others keep their place relative to them
//     as in the document; a new element with no neighbour in the document goes
//     first, as in Kubernetes.
//   - Directives: {"$patch":"replace"} in an object replaces the object with
//     the rest of the patch object; {"$patch":"delete"} empties it; in a
//     merging list, {"<key>":v,"$patch":"delete"} removes the element with
//     that key and {"$patch":"replace"} makes the list exactly the patch's
//     other elements; "$patch":"merge" asks for the default and is accepted
//     as a no-op. "$retainKeys":[...] drops the object's keys not listed
//     before merging (every non-null key of the patch object must be listed);
//     "$setElementOrder/<field>":[...] orders the merged list; and
//     "$deleteFromPrimitiveList/<field>":[...] removes values from a merged
//     list of primitives.
//   - The result never contains a directive key, even where the document had
//     nothing to merge with.
// Errors:
//   kUnsupportedMediaType  the kind has no strategic-merge schema (not a
//                          built-in kind, e.g. a custom resource).
//   kBadRequest            the patch is malformed: not an object, an unknown
//                          "$" directive or "$patch" value, a directive of the
//                          wrong shape, a merging-list element without its
//                          merge key, "$retainKeys" not covering the patch, or
//                          a "$setElementOrder" list contradicting the patch.
StatusOr<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& doc,
                                                  const nlohmann::json& patch,
                                                  std::string_view api_version,
                                                  std::string_view kind);

}  // namespace kennel::api
