// A minimal reader for the protobuf wire format (proto2/proto3 share it).
//
// It knows nothing about schemas: it splits a message into (field number, wire
// type, value) triples and leaves interpretation to the caller. Values are
// views into the input, so the input must outlive every WireField read from it.
// Malformed input (truncated varints, lengths past the end, field number 0,
// unbalanced groups) yields kBadRequest; nothing throws.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace kennel::api::internal {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,  // deprecated groups: reported once, contents skipped
  kEndGroup = 4,    // never reported: consumed while skipping a group
  kFixed32 = 5,
};

const char* WireTypeName(WireType type);

// One field occurrence. `number` is in [1, 2^29 - 1].
struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t scalar = 0;     // kVarint, kFixed64, kFixed32 (zero-extended)
  std::string_view bytes;  // kLengthDelimited payload; a whole group for kStartGroup
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }

  // Reads the next field into *field. Call only while !done().
  Status Next(WireField* field);

  // Reads a base-128 varint at the cursor (for packed repeated fields).
  Status ReadVarint(uint64_t* value);

 private:
  Status ReadTag(uint32_t* number, WireType* type);
  Status ReadValue(WireType type, WireField* field);
  Status SkipGroup(uint32_t number);
  Status Take(size_t n, std::string_view* out);

  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace kennel::api::internal
