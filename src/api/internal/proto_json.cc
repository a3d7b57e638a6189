#include "api/internal/proto_json.h"

#include <cstdio>
#include <exception>
#include <utility>

#include "api/internal/proto_wire.h"

namespace kennel::api::internal {
namespace {

using nlohmann::json;
using K = FieldKind;

// metav1.Time's zero value (Go's time.Time{}) is 0001-01-01T00:00:00Z; it is
// normally sent as an empty message but may also arrive as explicit seconds.
constexpr int64_t kMinUnixSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z

bool IsVarintKind(FieldKind kind) {
  return kind == K::kBool || kind == K::kInt32 || kind == K::kInt64;
}

bool IsMapKind(FieldKind kind) {
  return kind == K::kStringMap || kind == K::kBytesMap || kind == K::kQuantityMap;
}

// A decoded scalar-like value and whether it is its type's zero value, which
// omitempty drops unless the field is a Go pointer.
struct Value {
  json json_value;
  bool zero = false;
};

class Decoder {
 public:
  Status DecodeInto(std::string_view bytes, const MessageSpec& spec, json& out);

 private:
  // Appends ".name" to the error path for the lifetime of the scope.
  class PathScope {
   public:
    PathScope(Decoder& d, std::string_view name) : d_(d), size_(d.path_.size()) {
      if (name.empty()) return;
      if (!d_.path_.empty()) d_.path_ += '.';
      d_.path_ += name;
    }
    ~PathScope() { d_.path_.resize(size_); }
    PathScope(const PathScope&) = delete;
    PathScope& operator=(const PathScope&) = delete;

   private:
    Decoder& d_;
    size_t size_;
  };

  Status DecodeField(const FieldSpec& f, const WireField& w, json& out);
  Status DecodeMessageField(const FieldSpec& f, const WireField& w, json& out);
  Status DecodeMapEntry(const FieldSpec& f, const WireField& w, json& out);
  Status DecodePacked(const FieldSpec& f, const WireField& w, json& out);
  Status DecodeValue(const FieldSpec& f, const WireField& w, Value* v);
  Status DecodeQuantity(std::string_view bytes, std::string* out);
  Status DecodeIntOrString(std::string_view bytes, bool pointer, Value* v);
  Status DecodeTime(std::string_view bytes, Value* v);
  Status DecodeString(const WireField& w, std::string* out);
  Status ExpectWireType(const WireField& w, WireType want);

  Status Error(const std::string& what) const {
    return BadRequest("protobuf: " + what + (path_.empty() ? "" : " at " + path_));
  }
  // Adds the current path to an error from the wire reader.
  Status Wrap(Status s) const {
    if (s.ok() || path_.empty()) return s;
    return Status(s.code(), s.message() + " at " + path_);
  }

  std::string path_;
};

Status Decoder::ExpectWireType(const WireField& w, WireType want) {
  if (w.type == want) return Status::Ok();
  return Error(std::string("wire type ") + WireTypeName(w.type) + ", want " + WireTypeName(want));
}

Status Decoder::DecodeString(const WireField& w, std::string* out) {
  RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
  // Rejected rather than repaired: nlohmann::json would throw on dumping it.
  if (!IsValidUtf8(w.bytes)) return Error("string is not valid UTF-8");
  out->assign(w.bytes);
  return Status::Ok();
}

Status Decoder::DecodeInto(std::string_view bytes, const MessageSpec& spec, json& out) {
  if (!out.is_object()) out = json::object();
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(Wrap(reader.Next(&w)));
    const FieldSpec* f = spec.Find(w.number);
    if (f == nullptr) continue;  // Unknown field: skipped, as protobuf intends.
    RETURN_IF_ERROR(DecodeField(*f, w, out));
  }
  return Status::Ok();
}

Status Decoder::DecodeField(const FieldSpec& f, const WireField& w, json& out) {
  // An inline (embedded) struct adds no JSON level, so no path segment either.
  PathScope scope(*this, f.kind == K::kInline ? std::string_view() : f.json_name);
  if (f.kind == K::kMessage || f.kind == K::kInline) return DecodeMessageField(f, w, out);
  if (IsMapKind(f.kind)) return DecodeMapEntry(f, w, out);
  if (f.repeated() && IsVarintKind(f.kind) && w.type == WireType::kLengthDelimited) {
    return DecodePacked(f, w, out);
  }
  Value v;
  RETURN_IF_ERROR(DecodeValue(f, w, &v));
  const std::string name(f.json_name);
  if (f.repeated()) {
    out[name].push_back(std::move(v.json_value));
  } else if (v.zero && (!f.pointer() || v.json_value.is_null())) {
    // The last occurrence of a singular field wins, so a zero one clears.
    out.erase(name);
  } else {
    out[name] = std::move(v.json_value);
  }
  return Status::Ok();
}

Status Decoder::DecodeMessageField(const FieldSpec& f, const WireField& w, json& out) {
  RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
  if (f.kind == K::kInline) return DecodeInto(w.bytes, *f.message, out);
  const std::string name(f.json_name);
  if (f.repeated()) {
    json item = json::object();
    RETURN_IF_ERROR(DecodeInto(w.bytes, *f.message, item));
    out[name].push_back(std::move(item));
    return Status::Ok();
  }
  // Decoding into the existing object gives protobuf's merge semantics when a
  // singular message occurs more than once.
  RETURN_IF_ERROR(DecodeInto(w.bytes, *f.message, out[name]));
  if (out[name].empty() && !f.pointer()) out.erase(name);
  return Status::Ok();
}

Status Decoder::DecodeMapEntry(const FieldSpec& f, const WireField& w, json& out) {
  RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
  std::string key;
  std::string value;
  WireReader reader(w.bytes);
  while (!reader.done()) {
    WireField e;
    RETURN_IF_ERROR(Wrap(reader.Next(&e)));
    if (e.number == 1) {
      RETURN_IF_ERROR(DecodeString(e, &key));
    } else if (e.number == 2 && f.kind == K::kStringMap) {
      RETURN_IF_ERROR(DecodeString(e, &value));
    } else if (e.number == 2 && f.kind == K::kBytesMap) {
      RETURN_IF_ERROR(ExpectWireType(e, WireType::kLengthDelimited));
      value = Base64Encode(e.bytes);
    } else if (e.number == 2) {
      RETURN_IF_ERROR(ExpectWireType(e, WireType::kLengthDelimited));
      RETURN_IF_ERROR(DecodeQuantity(e.bytes, &value));
    }
  }
  out[std::string(f.json_name)][key] = std::move(value);
  return Status::Ok();
}

Status Decoder::DecodePacked(const FieldSpec& f, const WireField& w, json& out) {
  WireReader reader(w.bytes);
  json& array = out[std::string(f.json_name)];
  while (!reader.done()) {
    WireField element;
    element.number = w.number;
    RETURN_IF_ERROR(Wrap(reader.ReadVarint(&element.scalar)));
    Value v;
    RETURN_IF_ERROR(DecodeValue(f, element, &v));
    array.push_back(std::move(v.json_value));
  }
  if (array.is_null()) out.erase(std::string(f.json_name));  // an empty packed run
  return Status::Ok();
}

Status Decoder::DecodeValue(const FieldSpec& f, const WireField& w, Value* v) {
  switch (f.kind) {
    case K::kString: {
      std::string s;
      RETURN_IF_ERROR(DecodeString(w, &s));
      v->zero = s.empty();
      v->json_value = std::move(s);
      return Status::Ok();
    }
    case K::kBytes:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
      v->zero = w.bytes.empty();
      v->json_value = Base64Encode(w.bytes);
      return Status::Ok();
    case K::kBool:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kVarint));
      v->zero = w.scalar == 0;
      v->json_value = w.scalar != 0;
      return Status::Ok();
    case K::kInt32:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kVarint));
      // Negative int32s travel sign-extended to 64 bits; truncation restores them.
      v->json_value = static_cast<int32_t>(w.scalar);
      v->zero = w.scalar == 0;
      return Status::Ok();
    case K::kInt64:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kVarint));
      v->json_value = static_cast<int64_t>(w.scalar);
      v->zero = w.scalar == 0;
      return Status::Ok();
    case K::kQuantity: {
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
      std::string q;
      RETURN_IF_ERROR(DecodeQuantity(w.bytes, &q));
      // An empty quantity has no valid JSON form, pointer or not.
      v->zero = q.empty();
      v->json_value = q.empty() ? json() : json(std::move(q));
      return Status::Ok();
    }
    case K::kIntOrString:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
      return DecodeIntOrString(w.bytes, f.pointer(), v);
    case K::kTime:
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kLengthDelimited));
      return DecodeTime(w.bytes, v);
    case K::kMessage:
    case K::kInline:
    case K::kStringMap:
    case K::kBytesMap:
    case K::kQuantityMap:
      break;
  }
  return Internal("protobuf: DecodeValue called for a composite field");
}

Status Decoder::DecodeQuantity(std::string_view bytes, std::string* out) {
  out->clear();
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(Wrap(reader.Next(&w)));
    if (w.number == 1) RETURN_IF_ERROR(DecodeString(w, out));
  }
  return Status::Ok();
}

Status Decoder::DecodeIntOrString(std::string_view bytes, bool pointer, Value* v) {
  int64_t type = 0;
  int32_t int_val = 0;
  std::string str_val;
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(Wrap(reader.Next(&w)));
    if (w.number == 1 || w.number == 2) {
      RETURN_IF_ERROR(ExpectWireType(w, WireType::kVarint));
      if (w.number == 1) type = static_cast<int64_t>(w.scalar);
      if (w.number == 2) int_val = static_cast<int32_t>(w.scalar);
    } else if (w.number == 3) {
      RETURN_IF_ERROR(DecodeString(w, &str_val));
    }
  }
  if (type == 1) {
    v->zero = str_val.empty() && !pointer;
    v->json_value = std::move(str_val);
  } else {
    v->zero = int_val == 0;
    v->json_value = int_val;
  }
  return Status::Ok();
}

Status Decoder::DecodeTime(std::string_view bytes, Value* v) {
  int64_t seconds = 0;
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(Wrap(reader.Next(&w)));
    if (w.number == 1 || w.number == 2) RETURN_IF_ERROR(ExpectWireType(w, WireType::kVarint));
    // metav1.Time marshals to JSON with whole seconds, so nanos (2) are dropped.
    if (w.number == 1) seconds = static_cast<int64_t>(w.scalar);
  }
  if (bytes.empty() || seconds == kMinUnixSeconds) {
    v->zero = true;  // Go's zero time: JSON null, which omitting matches.
    v->json_value = json();
    return Status::Ok();
  }
  StatusOr<std::string> text = FormatRfc3339(seconds);
  if (!text.ok()) return Error(text.status().message());
  v->json_value = std::move(*text);
  return Status::Ok();
}

// Howard Hinnant's days-to-civil algorithm: proleptic Gregorian calendar date
// for a count of days since 1970-01-01.
void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

}  // namespace

StatusOr<std::string> FormatRfc3339(int64_t unix_seconds) {
  if (unix_seconds < kMinUnixSeconds || unix_seconds > kMaxUnixSeconds) {
    return BadRequest("time " + std::to_string(unix_seconds) +
                      "s since the epoch is outside years 0001-9999");
  }
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), month, day, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return std::string(buf);
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (len > s.size() - i) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

StatusOr<json> DecodeMessageToJson(std::string_view bytes, const MessageSpec& spec) {
  try {
    json out = json::object();
    Decoder decoder;
    RETURN_IF_ERROR(decoder.DecodeInto(bytes, spec, out));
    return out;
  } catch (const std::exception& e) {
    // Not expected (the decoder never builds invalid JSON); kept so that no
    // exception, std::bad_alloc included, leaves the library.
    return Internal(std::string("protobuf: decoding failed: ") + e.what());
  }
}

}  // namespace kennel::api::internal
