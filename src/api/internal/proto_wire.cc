#include "api/internal/proto_wire.h"

#include <string>
#include <vector>

namespace kennel::api::internal {
namespace {

constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;
// Groups are long deprecated; a deep nest of them in a request body can only be
// an attack on the stack, so it is cut off early.
constexpr size_t kMaxGroupDepth = 32;

}  // namespace

const char* WireTypeName(WireType type) {
  switch (type) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "fixed64";
    case WireType::kLengthDelimited:
      return "length-delimited";
    case WireType::kStartGroup:
      return "start-group";
    case WireType::kEndGroup:
      return "end-group";
    case WireType::kFixed32:
      return "fixed32";
  }
  return "invalid";
}

Status WireReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) return BadRequest("protobuf: truncated varint");
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return BadRequest("protobuf: varint overflows 64 bits");
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return Status::Ok();
    }
  }
  return BadRequest("protobuf: varint overflows 64 bits");
}

Status WireReader::Take(size_t n, std::string_view* out) {
  if (n > data_.size() - pos_)
    return BadRequest("protobuf: field runs past the end of its message");
  *out = data_.substr(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status WireReader::ReadTag(uint32_t* number, WireType* type) {
  uint64_t tag = 0;
  RETURN_IF_ERROR(ReadVarint(&tag));
  const uint64_t wire = tag & 7;
  const uint64_t num = tag >> 3;
  if (num == 0 || num > kMaxFieldNumber) {
    return BadRequest("protobuf: invalid field number " + std::to_string(num));
  }
  if (wire > 5) return BadRequest("protobuf: invalid wire type " + std::to_string(wire));
  *number = static_cast<uint32_t>(num);
  *type = static_cast<WireType>(wire);
  return Status::Ok();
}

Status WireReader::ReadValue(WireType type, WireField* field) {
  std::string_view raw;
  switch (type) {
    case WireType::kVarint:
      return ReadVarint(&field->scalar);
    case WireType::kFixed64:
    case WireType::kFixed32: {
      const size_t width = type == WireType::kFixed64 ? 8 : 4;
      RETURN_IF_ERROR(Take(width, &raw));
      uint64_t v = 0;
      for (size_t i = 0; i < width; ++i) v |= uint64_t{static_cast<uint8_t>(raw[i])} << (8 * i);
      field->scalar = v;
      return Status::Ok();
    }
    case WireType::kLengthDelimited: {
      uint64_t len = 0;
      RETURN_IF_ERROR(ReadVarint(&len));
      return Take(len, &field->bytes);
    }
    case WireType::kStartGroup:
    case WireType::kEndGroup:
      break;
  }
  return Internal("protobuf: ReadValue called for a group");
}

// Skips to the end-group tag matching `number`, skipping nested groups too.
Status WireReader::SkipGroup(uint32_t number) {
  std::vector<uint32_t> open = {number};
  while (!open.empty()) {
    if (done()) return BadRequest("protobuf: unterminated group");
    uint32_t n = 0;
    WireType t{};
    RETURN_IF_ERROR(ReadTag(&n, &t));
    if (t == WireType::kStartGroup) {
      if (open.size() >= kMaxGroupDepth) return BadRequest("protobuf: groups nested too deeply");
      open.push_back(n);
    } else if (t == WireType::kEndGroup) {
      if (open.back() != n) return BadRequest("protobuf: mismatched end-group tag");
      open.pop_back();
    } else {
      WireField ignored;
      RETURN_IF_ERROR(ReadValue(t, &ignored));
    }
  }
  return Status::Ok();
}

Status WireReader::Next(WireField* field) {
  *field = WireField();
  RETURN_IF_ERROR(ReadTag(&field->number, &field->type));
  if (field->type == WireType::kEndGroup) return BadRequest("protobuf: unexpected end-group tag");
  if (field->type != WireType::kStartGroup) return ReadValue(field->type, field);
  const size_t start = pos_;
  RETURN_IF_ERROR(SkipGroup(field->number));
  field->bytes = data_.substr(start, pos_ - start);
  return Status::Ok();
}

}  // namespace kennel::api::internal
