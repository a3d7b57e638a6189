// Schema tables for the Kubernetes protobuf messages Kennel can decode.
//
// Each MessageSpec maps a field number (from k8s.io/api's generated.proto) to
// its JSON name and a FieldKind. Fields absent from a table are unknown and
// skipped by the decoder, so a table only needs what Kennel serves; in
// particular `status`, `affinity`, `managedFields` and newer alpha fields are
// deliberately left out.
//
// Go's protobuf encoder writes every non-pointer field, zero or not, so the
// decoder must know which fields are Go pointers (kPointer): those are kept
// even when zero ("replicas: 0", "emptyDir: {}"); all others are dropped when
// zero, empty or {} — the JSON `omitempty` the Kubernetes JSON encoder gives.
//
// The tables are constexpr and immutable; everything here is thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace kennel::api::internal {

enum class FieldKind : uint8_t {
  kString,       // string, UTF-8 checked
  kBytes,        // []byte, emitted as standard base64
  kBool,         // varint
  kInt32,        // varint, sign-extended
  kInt64,        // varint
  kMessage,      // nested object described by FieldSpec::message
  kInline,       // Go embedded struct: its fields are merged into the parent object
  kQuantity,     // resource.Quantity {string = 1} -> "500m"
  kIntOrString,  // intstr.IntOrString {type = 1, intVal = 2, strVal = 3} -> 80 or "http"
  kTime,         // metav1.Time {seconds = 1, nanos = 2} -> "2024-01-02T03:04:05Z"
  kStringMap,    // map<string, string>
  kBytesMap,     // map<string, bytes>: values base64
  kQuantityMap,  // map<string, Quantity>: values as strings
};

enum FieldFlag : uint8_t {
  kRepeated = 1 << 0,  // JSON array
  kPointer = 1 << 1,   // Go pointer: present on the wire means present in JSON
};

struct MessageSpec;

struct FieldSpec {
  uint32_t number = 0;
  std::string_view json_name;
  FieldKind kind = FieldKind::kString;
  uint8_t flags = 0;
  const MessageSpec* message = nullptr;  // kMessage and kInline only

  bool repeated() const { return (flags & kRepeated) != 0; }
  bool pointer() const { return (flags & kPointer) != 0; }
};

struct MessageSpec {
  std::string_view name;  // the proto message name, for error messages
  std::span<const FieldSpec> fields;

  // nullptr when `number` is not in the table (an unknown field).
  const FieldSpec* Find(uint32_t number) const {
    for (const FieldSpec& f : fields) {
      if (f.number == number) return &f;
    }
    return nullptr;
  }
};

// The top-level message for an object of this apiVersion ("v1", "apps/v1") and
// kind; nullptr when Kennel has no schema for it.
const MessageSpec* FindObjectSchema(std::string_view api_version, std::string_view kind);

}  // namespace kennel::api::internal
