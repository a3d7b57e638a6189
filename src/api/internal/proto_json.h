// Schema-driven conversion of one protobuf message to Kubernetes JSON.
//
// Field names, omitempty and the special encodings (Quantity, IntOrString,
// Time, []byte) follow the JSON that Kubernetes' own encoder writes for the
// same object; see proto_schema.h for how the tables drive it. Fields not in
// the schema are skipped. Errors are kBadRequest, naming the JSON path of the
// offending field ("spec.template.spec.containers.name: ..."). Never throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/internal/proto_schema.h"
#include "base/base64.h"
#include "base/status.h"

namespace kennel::api::internal {

// Decodes `bytes`, a serialized message of type `spec`, into a JSON object.
StatusOr<nlohmann::json> DecodeMessageToJson(std::string_view bytes, const MessageSpec& spec);

// "2024-01-02T03:04:05Z" for a Unix time in seconds, as metav1.Time marshals
// (UTC, whole seconds). kBadRequest outside years 0001..9999.
StatusOr<std::string> FormatRfc3339(int64_t unix_seconds);

// Go marshals []byte as standard base64 with padding: kennel::Base64Encode.
using ::kennel::Base64Encode;

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace kennel::api::internal
