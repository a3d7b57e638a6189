#include "api/validation.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/names.h"
#include "api/priority.h"
#include "api/quantity.h"
#include "api/registry.h"

namespace kennel::api {
namespace {

using nlohmann::json;

using StringMap = std::map<std::string, std::string>;

constexpr int64_t kTotalAnnotationSizeLimit = 256 * 1024;
constexpr int64_t kMaxConfigSize = 1024 * 1024;  // ConfigMap and Secret payload
constexpr char kSecretRedacted[] = "<secret contents redacted>";

// Kubernetes' wording for negative counts and for changes to immutable fields.
constexpr char kNonNegativeMessage[] = "must be greater than or equal to 0";
constexpr char kImmutableMessage[] = "field is immutable";

// ---------------------------------------------------------------------------
// How bad values are shown. Kubernetes prints them with Go's fmt: strings with
// %q, numbers plainly, and (in 1.32) composite values with %#v.

// The bytes Go's strconv.Quote writes as a backslash and a letter, in pairs.
constexpr std::string_view kGoEscapes = "\"\"\\\\\aa\bb\ff\nn\rr\tt\vv";

// Go's strconv.Quote for the text the API deals in: ASCII escapes as Go writes
// them; other bytes pass through, as UTF-8 text does in Go.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    size_t at = 0;
    while (at < kGoEscapes.size() && static_cast<unsigned char>(kGoEscapes[at]) != c) at += 2;
    if (at < kGoEscapes.size()) {
      out += '\\';
      out += kGoEscapes[at + 1];
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string CompactJson(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// map[string]string{"a":"b", "c":"d"}; Go prints maps with sorted keys.
std::string GoStringMap(const StringMap& m, bool present) {
  if (!present) return "map[string]string(nil)";
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ", ";
    first = false;
    out += GoQuote(k) + ":" + GoQuote(v);
  }
  return out + "}";
}

std::string GoStringSlice(const std::vector<std::string>& items, bool present) {
  if (!present) return "[]string(nil)";
  std::string out = "[]string{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(items[i]);
  }
  return out + "}";
}

// A bad value, already rendered as the Go API server renders it.
class Shown {
 public:
  static Shown Str(std::string_view s) { return Shown(GoQuote(s)); }
  static Shown Int(int64_t v) { return Shown(std::to_string(v)); }
  static Shown Raw(std::string text) { return Shown(std::move(text)); }
  static Shown Json(const json& v);
  const std::string& text() const { return text_; }

 private:
  explicit Shown(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Composite values have Go types Kubernetes' %#v would name; without them
// compact JSON is the clearest rendering.
Shown Shown::Json(const json& v) {
  if (v.is_string()) return Str(v.get_ref<const std::string&>());
  if (v.is_null()) return Raw("null");
  return Raw(CompactJson(v));
}

// ---------------------------------------------------------------------------
// Field paths and the error list.

// "spec.containers[0].ports[1].name", built as Kubernetes' field.Path is.
class Path {
 public:
  Path() = default;
  explicit Path(std::string s) : s_(std::move(s)) {}
  Path Child(std::string_view name) const {
    return Path(s_.empty() ? std::string(name) : s_ + "." + std::string(name));
  }
  Path Index(size_t i) const { return Path(s_ + "[" + std::to_string(i) + "]"); }
  Path Key(std::string_view key) const { return Path(s_ + "[" + std::string(key) + "]"); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

std::string WithDetail(std::string head, std::string_view detail) {
  if (!detail.empty()) {
    head += ": ";
    head += detail;
  }
  return head;
}

// Collects field errors as Kubernetes' field.ErrorList does; each becomes one
// StatusCause whose message is the error body ("Invalid value: 1: ...").
class Errors {
 public:
  void Required(const Path& p, std::string_view detail = {}) {
    Add("FieldValueRequired", p, WithDetail("Required value", detail));
  }
  void Invalid(const Path& p, const Shown& v, std::string_view detail) {
    Add("FieldValueInvalid", p, WithDetail("Invalid value: " + v.text(), detail));
  }
  // One error per message, as Kubernetes reports each failed format rule.
  void InvalidEach(const Path& p, const Shown& v, const std::vector<std::string>& details) {
    for (const std::string& d : details) Invalid(p, v, d);
  }
  // One error carrying every message, joined by ';', as Kubernetes reports
  // taint and toleration values.
  void InvalidJoined(const Path& p, const Shown& v, const std::vector<std::string>& details) {
    if (details.empty()) return;
    std::string joined;
    for (const std::string& d : details) joined += (joined.empty() ? "" : ";") + d;
    Invalid(p, v, joined);
  }
  void TypeInvalid(const Path& p, const Shown& v, std::string_view detail) {
    Add("FieldValueTypeInvalid", p, WithDetail("Invalid value: " + v.text(), detail));
  }
  void NotSupported(const Path& p, const Shown& v,
                    std::initializer_list<std::string_view> supported) {
    std::string detail = "supported values: ";
    bool first = true;
    for (std::string_view s : supported) {
      if (!first) detail += ", ";
      first = false;
      detail += GoQuote(s);
    }
    Add("FieldValueNotSupported", p, WithDetail("Unsupported value: " + v.text(), detail));
  }
  void Duplicate(const Path& p, const Shown& v, std::string_view detail = {}) {
    Add("FieldValueDuplicate", p, WithDetail("Duplicate value: " + v.text(), detail));
  }
  void NotFound(const Path& p, const Shown& v) {
    Add("FieldValueNotFound", p, "Not found: " + v.text());
  }
  void Forbidden(const Path& p, std::string_view detail) {
    Add("FieldValueForbidden", p, WithDetail("Forbidden", detail));
  }
  void TooLong(const Path& p, int64_t max_bytes) {
    Add("FieldValueTooLong", p,
        "Too long: must have at most " + std::to_string(max_bytes) + " bytes");
  }
  void NonNegative(const Path& p, std::optional<int64_t> v) {
    if (v && *v < 0) Invalid(p, Shown::Int(*v), kNonNegativeMessage);
  }

  bool empty() const { return causes_.empty(); }
  const std::vector<StatusCause>& causes() const { return causes_; }

 private:
  // Identical errors (a field read twice) are reported once.
  void Add(const char* reason, const Path& p, std::string body) {
    for (const StatusCause& c : causes_) {
      if (c.field == p.str() && c.message == body) return;
    }
    causes_.push_back(StatusCause{reason, std::move(body), p.str()});
  }

  std::vector<StatusCause> causes_;
};

// ---------------------------------------------------------------------------
// Typed, non-throwing reads of a JSON object. A field of the wrong JSON type is
// reported once (FieldValueTypeInvalid) and then read as absent.

const json& EmptyObject() {
  static const json* const kEmpty = new json(json::object());
  return *kEmpty;
}

class Obj {
 public:
  Obj(const json& j, Path path, Errors* errs) : j_(&j), path_(std::move(path)), errs_(errs) {}

  const json& raw() const { return *j_; }
  const Path& path() const { return path_; }
  Errors& errs() const { return *errs_; }
  Path At(std::string_view key) const { return path_.Child(key); }

  // The member, or nullptr when absent or null (or this is not an object).
  const json* Get(std::string_view key) const {
    if (!j_->is_object()) return nullptr;
    auto it = j_->find(key);
    if (it == j_->end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool Has(std::string_view key) const { return Get(key) != nullptr; }

  std::optional<std::string> OptStr(std::string_view key) const {
    const json* v = Typed(key, &json::is_string, "string");
    if (v == nullptr) return std::nullopt;
    return v->get<std::string>();
  }
  std::string Str(std::string_view key) const { return OptStr(key).value_or(""); }

  std::optional<int64_t> Int(std::string_view key) const {
    const json* v = Get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() ||
        (v->is_number_unsigned() &&
         v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      errs_->TypeInvalid(At(key), Shown::Json(*v), "must be of type integer");
      return std::nullopt;
    }
    return v->get<int64_t>();
  }

  std::optional<bool> Bool(std::string_view key) const {
    const json* v = Typed(key, &json::is_boolean, "boolean");
    if (v == nullptr) return std::nullopt;
    return v->get<bool>();
  }

  // A member object; an empty one when absent or of the wrong type.
  Obj Child(std::string_view key) const {
    const json* v = Typed(key, &json::is_object, "object");
    return Obj(v != nullptr ? *v : EmptyObject(), At(key), errs_);
  }

  // The member objects of a list, each at its index; wrong elements reported.
  std::vector<Obj> Items(std::string_view key) const {
    std::vector<Obj> out;
    ForEachElement(key, &json::is_object, "object",
                   [&](const json& e, Path p) { out.emplace_back(e, std::move(p), errs_); });
    return out;
  }
  size_t ListSize(std::string_view key) const {
    const json* v = Get(key);
    return v != nullptr && v->is_array() ? v->size() : 0;
  }

  std::vector<std::string> StrList(std::string_view key) const {
    std::vector<std::string> out;
    ForEachElement(key, &json::is_string, "string",
                   [&](const json& e, const Path&) { out.push_back(e.get<std::string>()); });
    return out;
  }

  // A map of strings (labels, annotations, selectors, data).
  StringMap Strings(std::string_view key) const {
    StringMap out;
    const json* m = Typed(key, &json::is_object, "object");
    if (m == nullptr) return out;
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it->is_string()) {
        out[it.key()] = it->get<std::string>();
      } else {
        TypeInvalid(At(key).Key(it.key()), *it, "string");
      }
    }
    return out;
  }

 private:
  using IsType = bool (json::*)() const noexcept;

  void TypeInvalid(const Path& p, const json& v, const char* type) const {
    errs_->TypeInvalid(p, Shown::Json(v), std::string("must be of type ") + type);
  }

  const json* Typed(std::string_view key, IsType is, const char* type) const {
    const json* v = Get(key);
    if (v == nullptr) return nullptr;
    if (!(v->*is)()) {
      TypeInvalid(At(key), *v, type);
      return nullptr;
    }
    return v;
  }

  // Calls add(element, its path) for each element of the list at `key` that
  // is of the given type, and reports the others.
  template <typename Add>
  void ForEachElement(std::string_view key, IsType is, const char* type, Add add) const {
    const json* list = Typed(key, &json::is_array, "array");
    if (list == nullptr) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& e = (*list)[i];
      if ((e.*is)()) {
        add(e, At(key).Index(i));
      } else {
        TypeInvalid(At(key).Index(i), e, type);
      }
    }
  }

  const json* j_;
  Path path_;
  Errors* errs_;
};

// Go's zero values are omitted on the wire, so "", [], {}, null and an absent
// field all mean the same; comparisons for immutability go through this.
bool IsZeroJson(const json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

json Normalized(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      json n = Normalized(*it);
      if (!IsZeroJson(n)) out[it.key()] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const json& e : v) out.push_back(Normalized(e));
    return out;
  }
  return v;
}

bool SemanticEqual(const json& a, const json& b) { return Normalized(a) == Normalized(b); }

// The member of `v` or null, without reporting anything (for old objects).
json Member(const json& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  auto it = v.find(key);
  return it == v.end() ? json(nullptr) : *it;
}

std::string MemberStr(const json& v, std::string_view key) {
  json m = Member(v, key);
  return m.is_string() ? m.get<std::string>() : "";
}

// ---------------------------------------------------------------------------
// Scalars shared by many kinds.

struct IntOrString {
  bool is_int = false;
  int64_t int_val = 0;
  std::string str_val;
  Shown Show() const { return is_int ? Shown::Int(int_val) : Shown::Raw(str_val); }
};

std::optional<IntOrString> ReadIntOrString(const Obj& o, std::string_view key) {
  const json* v = o.Get(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return IntOrString{false, 0, v->get<std::string>()};
  if (v->is_number_integer() && !v->is_number_unsigned()) {
    return IntOrString{true, v->get<int64_t>(), ""};
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() <= std::numeric_limits<int32_t>::max()) {
    return IntOrString{true, static_cast<int64_t>(v->get<uint64_t>()), ""};
  }
  o.errs().TypeInvalid(o.At(key), Shown::Json(*v), "must be an integer or a string");
  return std::nullopt;
}

// A port given by number (1-65535) or by IANA service name.
void ValidatePortNumOrName(const Obj& o, std::string_view key) {
  std::optional<IntOrString> port = ReadIntOrString(o, key);
  if (!port) return;
  if (port->is_int) {
    o.errs().InvalidEach(o.At(key), Shown::Int(port->int_val), ValidatePortNum(port->int_val));
  } else {
    o.errs().InvalidEach(o.At(key), Shown::Str(port->str_val), ValidatePortName(port->str_val));
  }
}

// The value of an int-or-percent ("25%" → 25), 0 when it does not parse.
int64_t IntOrPercentValue(const IntOrString& v) {
  if (v.is_int) return v.int_val;
  if (!IsValidPercent(v.str_val)) return 0;
  int64_t n = 0;
  for (char c : v.str_val.substr(0, v.str_val.size() - 1)) {
    n = std::min<int64_t>(n * 10 + (c - '0'), std::numeric_limits<int32_t>::max());
  }
  return n;
}

void ValidatePositiveIntOrPercent(const IntOrString& v, const Path& p, Errors& errs) {
  if (v.is_int) {
    errs.NonNegative(p, v.int_val);
  } else {
    errs.InvalidEach(p, v.Show(), ValidatePercent(v.str_val));
  }
}

void ValidateNotMoreThan100Percent(const IntOrString& v, const Path& p, Errors& errs) {
  if (!v.is_int && IsValidPercent(v.str_val) && IntOrPercentValue(v) > 100) {
    errs.Invalid(p, v.Show(), "must not be greater than 100%");
  }
}

// A quantity as written ("500m", or a JSON number) and its parsed size.
struct Quantity {
  std::string text;
  std::optional<int64_t> milli;  // absent when it overflows in milli-units
  int64_t units = 0;
};

// Compares two quantities exactly where milli-units fit, else by whole units.
int CompareQuantity(const Quantity& a, const Quantity& b) {
  if (a.milli && b.milli) return *a.milli < *b.milli ? -1 : (*a.milli > *b.milli ? 1 : 0);
  return a.units < b.units ? -1 : (a.units > b.units ? 1 : 0);
}

std::optional<Quantity> ParseQuantityAt(const json& v, const Path& p, Errors& errs) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number()) {
    text = CompactJson(v);
  } else {
    errs.TypeInvalid(p, Shown::Json(v), "must be a quantity");
    return std::nullopt;
  }
  StatusOr<int64_t> units = ParseQuantity(text);
  if (!units.ok()) {
    errs.Invalid(p, Shown::Str(text), units.status().message());
    return std::nullopt;
  }
  StatusOr<int64_t> milli = ParseQuantityMilli(text);
  Quantity q{text, std::nullopt, *units};
  if (milli.ok()) q.milli = *milli;
  return q;
}

// A map of resource name to quantity (requests, limits, capacity).
std::map<std::string, Quantity> ReadResourceList(const Obj& o, std::string_view key) {
  std::map<std::string, Quantity> out;
  const json* m = o.Get(key);
  if (m == nullptr) return out;
  if (!m->is_object()) {
    o.errs().TypeInvalid(o.At(key), Shown::Json(*m), "must be of type object");
    return out;
  }
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (std::optional<Quantity> q = ParseQuantityAt(*it, o.At(key).Key(it.key()), o.errs())) {
      out[it.key()] = *q;
    }
  }
  return out;
}

void ValidateNonNegativeQuantity(const Quantity& q, const Path& p, Errors& errs) {
  if (q.units < 0) errs.Invalid(p, Shown::Str(q.text), kNonNegativeMessage);
}

void ValidatePositiveQuantity(const Quantity& q, const Path& p, Errors& errs) {
  if (q.units <= 0) errs.Invalid(p, Shown::Str(q.text), "must be greater than zero");
}

// Checks an enumerated string field that defaulting fills: absent is fine,
// "" is Required, anything outside `supported` is NotSupported.
void ValidateEnum(const Obj& o, std::string_view key, std::initializer_list<std::string_view> ok) {
  std::optional<std::string> v = o.OptStr(key);
  if (!v) return;
  if (v->empty()) {
    o.errs().Required(o.At(key));
    return;
  }
  if (std::find(ok.begin(), ok.end(), *v) == ok.end()) {
    o.errs().NotSupported(o.At(key), Shown::Str(*v), ok);
  }
}

bool Contains(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

void ValidateImmutable(const json& now, const json& before, const Path& p, Errors& errs) {
  if (!SemanticEqual(now, before)) errs.Invalid(p, Shown::Json(now), kImmutableMessage);
}

enum class Presence { kOptional, kRequired };

// A union of which `o` sets at most one member (volume sources, probe
// handlers): the first member present is checked by `validate`, any further
// one is forbidden, and with kRequired, none at all is an error too. `what`
// names a member in the messages ("volume type").
void ValidateOneOf(const Obj& o, std::span<const std::string_view> members, std::string_view what,
                   Presence presence, void (*validate)(const Obj&, std::string_view)) {
  bool seen = false;
  for (std::string_view member : members) {
    if (!o.Has(member)) continue;
    if (seen) {
      o.errs().Forbidden(o.At(member), "may not specify more than 1 " + std::string(what));
      continue;
    }
    seen = true;
    validate(o, member);
  }
  if (!seen && presence == Presence::kRequired) {
    o.errs().Required(o.path(), "must specify a " + std::string(what));
  }
}

// The DNS-1123 label naming an entry of a list (a container, a claim
// template, a port): an error when missing and required, and, given `names`,
// when another entry already took it.
void ValidateEntryName(const Obj& entry, Presence presence, std::set<std::string>* names) {
  Errors& errs = entry.errs();
  std::string name = entry.Str("name");
  if (name.empty()) {
    if (presence == Presence::kRequired) errs.Required(entry.At("name"));
    return;
  }
  errs.InvalidEach(entry.At("name"), Shown::Str(name), ValidateDns1123Label(name));
  if (names != nullptr && !names->insert(name).second) {
    errs.Duplicate(entry.At("name"), Shown::Str(name));
  }
}

// Ports of Services and Endpoints must be named when there are several.
Presence NamePresence(const std::vector<Obj>& ports) {
  return ports.size() > 1 ? Presence::kRequired : Presence::kOptional;
}

// The name, number and protocol of a Service or Endpoints port; returns the number.
int64_t ValidateNamedPort(const Obj& port, Presence name, std::set<std::string>* names) {
  ValidateEntryName(port, name, names);
  int64_t number = port.Int("port").value_or(0);
  port.errs().InvalidEach(port.At("port"), Shown::Int(number), ValidatePortNum(number));
  ValidateEnum(port, "protocol", {"SCTP", "TCP", "UDP"});
  return number;
}

// ---------------------------------------------------------------------------
// Object metadata (ObjectMeta).

enum class NameRule { kSubdomain, kLabel, kDns1035 };

std::vector<std::string> CheckName(NameRule rule, std::string_view name) {
  switch (rule) {
    case NameRule::kLabel:
      return ValidateDns1123Label(name);
    case NameRule::kDns1035:
      return ValidateDns1035Label(name);
    case NameRule::kSubdomain:
      break;
  }
  return ValidateDns1123Subdomain(name);
}

void ValidateLabels(const StringMap& labels, const Path& p, Errors& errs) {
  for (const auto& [key, value] : labels) {
    errs.InvalidEach(p, Shown::Str(key), ValidateQualifiedName(key));
    errs.InvalidEach(p, Shown::Str(value), ValidateLabelValue(value));
  }
}

std::string ToLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void ValidateAnnotations(const StringMap& annotations, const Path& p, Errors& errs) {
  int64_t total = 0;
  for (const auto& [key, value] : annotations) {
    // Annotation keys are qualified names in any case.
    errs.InvalidEach(p, Shown::Str(key), ValidateQualifiedName(ToLower(key)));
    total += static_cast<int64_t>(key.size() + value.size());
  }
  if (total > kTotalAnnotationSizeLimit) errs.TooLong(p, kTotalAnnotationSizeLimit);
}

void ValidateFinalizers(const std::vector<std::string>& finalizers, const Path& p, Errors& errs) {
  for (const std::string& f : finalizers) {
    errs.InvalidEach(p, Shown::Str(f), ValidateQualifiedName(f));
  }
}

void ValidateOwnerReferences(const Obj& meta) {
  Errors& errs = meta.errs();
  const Path p = meta.At("ownerReferences");
  std::string first_controller;
  for (const Obj& ref : meta.Items("ownerReferences")) {
    std::string api_version = ref.Str("apiVersion");
    std::string kind = ref.Str("kind");
    std::string name = ref.Str("name");
    std::string uid = ref.Str("uid");
    // The version is what follows the group's '/' ("apps/v1"), or all of it ("v1").
    if (api_version.empty() || api_version.back() == '/') {
      errs.Invalid(p.Child("apiVersion"), Shown::Str(api_version), "version must not be empty");
    }
    if (kind.empty()) errs.Invalid(p.Child("kind"), Shown::Str(kind), "kind must not be empty");
    if (name.empty()) errs.Invalid(p.Child("name"), Shown::Str(name), "name must not be empty");
    if (uid.empty()) errs.Invalid(p.Child("uid"), Shown::Str(uid), "uid must not be empty");
    if (ref.Bool("controller").value_or(false)) {
      std::string current = kind + "/" + name;
      if (!first_controller.empty()) {
        errs.Invalid(p, Shown::Json(*meta.Get("ownerReferences")),
                     "Only one reference can have Controller set to true. Found \"true\" in "
                     "references for " +
                         first_controller + " and " + current);
      } else {
        first_controller = current;
      }
    }
  }
}

// The metadata rules shared by create and update.
void ValidateMetaCommon(const Obj& meta) {
  Errors& errs = meta.errs();
  ValidateLabels(meta.Strings("labels"), meta.At("labels"), errs);
  ValidateAnnotations(meta.Strings("annotations"), meta.At("annotations"), errs);
  ValidateOwnerReferences(meta);
  ValidateFinalizers(meta.StrList("finalizers"), meta.At("finalizers"), errs);
}

// check_name_format is false on update: a name accepted by an older, looser
// rule must not make the object impossible to update (and so to finalize).
void ValidateObjectMeta(const Obj& root, const ResourceInfo& info, NameRule rule,
                        bool check_name_format) {
  Obj meta = root.Child("metadata");
  Errors& errs = root.errs();
  std::string name = meta.Str("name");
  if (name.empty()) {
    errs.Required(meta.At("name"), "name or generateName is required");
  } else if (check_name_format) {
    errs.InvalidEach(meta.At("name"), Shown::Str(name), CheckName(rule, name));
  }
  std::string ns = meta.Str("namespace");
  if (info.namespaced) {
    if (ns.empty()) {
      errs.Required(meta.At("namespace"));
    } else {
      errs.InvalidEach(meta.At("namespace"), Shown::Str(ns), ValidateDns1123Label(ns));
    }
  } else if (!ns.empty()) {
    errs.Forbidden(meta.At("namespace"), "not allowed on this type");
  }
  ValidateMetaCommon(meta);
}

void ValidateObjectMetaUpdate(const Obj& root, const json& old_root) {
  Obj meta = root.Child("metadata");
  json old_meta = Member(old_root, "metadata");
  for (const char* key : {"name", "namespace", "uid", "creationTimestamp"}) {
    std::string now = meta.Str(key);
    std::string before = MemberStr(old_meta, key);
    // System fields a client leaves out are carried over by the server.
    if (!now.empty() && now != before) {
      root.errs().Invalid(meta.At(key), Shown::Str(now), kImmutableMessage);
    }
  }
}

// ---------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector).

struct Requirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;
};

struct Selector {
  bool present = false;
  bool has_match_labels = false;
  StringMap match_labels;
  std::vector<Requirement> expressions;
  bool valid = true;  // false when it cannot be turned into a selector

  bool Empty() const { return match_labels.empty() && expressions.empty(); }
};

// Reads and validates the selector at holder.key (spec.selector).
Selector ReadSelector(const Obj& holder, std::string_view key) {
  Selector sel;
  if (!holder.Has(key)) return sel;
  Obj s = holder.Child(key);
  Errors& errs = s.errs();
  sel.present = true;
  sel.has_match_labels = s.Has("matchLabels");
  sel.match_labels = s.Strings("matchLabels");
  ValidateLabels(sel.match_labels, s.At("matchLabels"), errs);
  for (const Obj& e : s.Items("matchExpressions")) {
    Requirement r{e.Str("key"), e.Str("operator"), e.StrList("values")};
    if (r.op == "In" || r.op == "NotIn") {
      if (r.values.empty()) {
        errs.Required(e.At("values"), "must be specified when `operator` is 'In' or 'NotIn'");
        sel.valid = false;
      }
    } else if (r.op == "Exists" || r.op == "DoesNotExist") {
      if (!r.values.empty()) {
        errs.Forbidden(e.At("values"),
                       "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        sel.valid = false;
      }
    } else {
      errs.Invalid(e.At("operator"), Shown::Str(r.op), "not a valid selector operator");
      sel.valid = false;
    }
    std::vector<std::string> key_errs = ValidateQualifiedName(r.key);
    if (!key_errs.empty()) sel.valid = false;
    errs.InvalidEach(e.At("key"), Shown::Str(r.key), key_errs);
    for (size_t i = 0; i < r.values.size(); ++i) {
      errs.InvalidEach(e.At("values").Index(i), Shown::Str(r.values[i]),
                       ValidateLabelValue(r.values[i]));
    }
    sel.expressions.push_back(std::move(r));
  }
  return sel;
}

bool Matches(const Requirement& r, const StringMap& labels) {
  auto it = labels.find(r.key);
  bool has = it != labels.end();
  bool in_values = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
  if (r.op == "In") return in_values;
  if (r.op == "NotIn") return !in_values;
  if (r.op == "Exists") return has;
  if (r.op == "DoesNotExist") return !has;
  return false;
}

bool Matches(const Selector& sel, const StringMap& labels) {
  for (const auto& [k, v] : sel.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const Requirement& r : sel.expressions) {
    if (!Matches(r, labels)) return false;
  }
  return true;
}

// v1.LabelSelector{MatchLabels:map[string]string{"app":"web"},
// MatchExpressions:[]v1.LabelSelectorRequirement(nil)}, as Go's %#v prints it.
std::string GoLabelSelector(const Selector& sel) {
  std::string out =
      "v1.LabelSelector{MatchLabels:" + GoStringMap(sel.match_labels, sel.has_match_labels) +
      ", MatchExpressions:";
  if (sel.expressions.empty()) return out + "[]v1.LabelSelectorRequirement(nil)}";
  out += "[]v1.LabelSelectorRequirement{";
  for (size_t i = 0; i < sel.expressions.size(); ++i) {
    const Requirement& r = sel.expressions[i];
    if (i > 0) out += ", ";
    out += "v1.LabelSelectorRequirement{Key:" + GoQuote(r.key) + ", Operator:" + GoQuote(r.op) +
           ", Values:" + GoStringSlice(r.values, !r.values.empty()) + "}";
  }
  return out + "}}";
}

// ---------------------------------------------------------------------------
// Pod specs, in Pods and in workload templates (core/v1 PodSpec).

constexpr char kFileModeMessage[] = "must be a number between 0 and 0777 (octal), both inclusive";
constexpr char kNoInitSidecarMessage[] =
    "may not be set for init containers without restartPolicy=Always";

struct PodContext {
  std::set<std::string> volumes;  // every mountable name, claim templates included
  bool host_network = false;
};

bool HasBackstep(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == "..") return true;
    start = slash + 1;
  }
  return false;
}

// A path inside a volume: relative and never climbing out.
void ValidateLocalDescendingPath(const std::string& path, const Path& p, Errors& errs) {
  if (!path.empty() && path[0] == '/') errs.Invalid(p, Shown::Str(path), "must be a relative path");
  if (HasBackstep(path)) errs.Invalid(p, Shown::Str(path), "must not contain '..'");
}

void ValidateFileMode(const Obj& o, std::string_view key) {
  std::optional<int64_t> mode = o.Int(key);
  if (mode && (*mode < 0 || *mode > 0777)) {
    o.errs().Invalid(o.At(key), Shown::Int(*mode), kFileModeMessage);
  }
}

void ValidateKeyToPaths(const Obj& source) {
  Errors& errs = source.errs();
  for (const Obj& item : source.Items("items")) {
    std::string key = item.Str("key");
    std::string path = item.Str("path");
    if (key.empty()) errs.Required(item.At("key"));
    if (path.empty()) errs.Required(item.At("path"));
    ValidateLocalDescendingPath(path, item.At("path"), errs);
    if (path.substr(0, 2) == "..") {
      errs.Invalid(item.At("path"), Shown::Str(path), "must not start with '..'");
    }
    ValidateFileMode(item, "mode");
  }
}

// An NFS volume, in a pod or a PersistentVolume.
void ValidateNfsSource(const Obj& s) {
  Errors& errs = s.errs();
  if (s.Str("server").empty()) errs.Required(s.At("server"));
  std::string path = s.Str("path");
  if (path.empty()) {
    errs.Required(s.At("path"));
  } else if (path[0] != '/') {
    errs.Invalid(s.At("path"), Shown::Str(path), "must be an absolute path");
  }
}

void ValidateVolumeSourceFields(const Obj& vol, std::string_view source) {
  Errors& errs = vol.errs();
  Obj s = vol.Child(source);
  if (source == "hostPath") {
    if (s.Str("path").empty()) errs.Required(s.At("path"));
    if (HasBackstep(s.Str("path"))) {
      errs.Invalid(s.At("path"), Shown::Str(s.Str("path")), "must not contain '..'");
    }
    if (std::optional<std::string> type = s.OptStr("type")) {
      if (!Contains({"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                     "FileOrCreate", "Socket"},
                    *type)) {
        errs.NotSupported(s.At("type"), Shown::Str(*type),
                          {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate",
                           "File", "FileOrCreate", "Socket"});
      }
    }
  } else if (source == "secret") {
    if (s.Str("secretName").empty()) errs.Required(s.At("secretName"));
    ValidateFileMode(s, "defaultMode");
    ValidateKeyToPaths(s);
  } else if (source == "configMap") {
    if (s.Str("name").empty()) errs.Required(s.At("name"));
    ValidateFileMode(s, "defaultMode");
    ValidateKeyToPaths(s);
  } else if (source == "persistentVolumeClaim") {
    if (s.Str("claimName").empty()) errs.Required(s.At("claimName"));
  } else if (source == "nfs") {
    ValidateNfsSource(s);
  } else if (source == "csi") {
    if (s.Str("driver").empty()) errs.Required(s.At("driver"));
  } else if (source == "emptyDir") {
    if (const json* limit = s.Get("sizeLimit")) {
      std::optional<Quantity> q = ParseQuantityAt(*limit, s.At("sizeLimit"), errs);
      if (q && q->units < 0) {
        errs.Forbidden(s.At("sizeLimit"), "SizeLimit field must be a valid resource quantity");
      }
    }
  }
}

constexpr std::string_view kPodVolumeSources[] = {"hostPath",
                                                  "emptyDir",
                                                  "gcePersistentDisk",
                                                  "awsElasticBlockStore",
                                                  "gitRepo",
                                                  "secret",
                                                  "nfs",
                                                  "iscsi",
                                                  "glusterfs",
                                                  "persistentVolumeClaim",
                                                  "rbd",
                                                  "flexVolume",
                                                  "cinder",
                                                  "cephfs",
                                                  "flocker",
                                                  "downwardAPI",
                                                  "fc",
                                                  "azureFile",
                                                  "configMap",
                                                  "vsphereVolume",
                                                  "quobyte",
                                                  "azureDisk",
                                                  "photonPersistentDisk",
                                                  "projected",
                                                  "portworxVolume",
                                                  "scaleIO",
                                                  "storageos",
                                                  "csi",
                                                  "ephemeral",
                                                  "image"};

// A volume has at most one source; the defaulter gives a source-less one an
// emptyDir, so none is accepted.
void ValidateVolumeSource(const Obj& vol) {
  ValidateOneOf(vol, kPodVolumeSources, "volume type", Presence::kOptional,
                ValidateVolumeSourceFields);
}

void ValidateVolumes(const Obj& spec, PodContext& ctx) {
  Errors& errs = spec.errs();
  std::set<std::string> seen;
  for (const Obj& vol : spec.Items("volumes")) {
    std::string name = vol.Str("name");
    ValidateVolumeSource(vol);
    if (name.empty()) {
      errs.Required(vol.At("name"));
    } else {
      errs.InvalidEach(vol.At("name"), Shown::Str(name), ValidateDns1123Label(name));
    }
    if (!seen.insert(name).second) errs.Duplicate(vol.At("name"), Shown::Str(name));
    ctx.volumes.insert(name);
  }
}

void ValidateContainerPorts(const Obj& c, const PodContext& ctx) {
  Errors& errs = c.errs();
  std::set<std::string> names;
  for (const Obj& port : c.Items("ports")) {
    std::string name = port.Str("name");
    if (!name.empty()) {
      std::vector<std::string> msgs = ValidatePortName(name);
      if (!msgs.empty()) {
        errs.InvalidEach(port.At("name"), Shown::Str(name), msgs);
      } else if (!names.insert(name).second) {
        errs.Duplicate(port.At("name"), Shown::Str(name));
      }
    }
    std::optional<int64_t> container_port = port.Int("containerPort");
    if (container_port.value_or(0) == 0) {
      errs.Required(port.At("containerPort"));
    } else {
      errs.InvalidEach(port.At("containerPort"), Shown::Int(*container_port),
                       ValidatePortNum(*container_port));
    }
    std::optional<int64_t> host_port = port.Int("hostPort");
    if (host_port.value_or(0) != 0) {
      errs.InvalidEach(port.At("hostPort"), Shown::Int(*host_port), ValidatePortNum(*host_port));
      if (ctx.host_network && container_port && *host_port != *container_port) {
        errs.Invalid(port.At("hostPort"), Shown::Int(*host_port),
                     "must match `containerPort` when `hostNetwork` is true");
      }
    }
    ValidateEnum(port, "protocol", {"SCTP", "TCP", "UDP"});
  }
}

void ValidateKeySelector(const Obj& ref) {
  if (ref.Str("name").empty()) ref.errs().Required(ref.At("name"));
  std::string key = ref.Str("key");
  if (key.empty()) {
    ref.errs().Required(ref.At("key"));
  } else {
    ref.errs().InvalidEach(ref.At("key"), Shown::Str(key), ValidateConfigMapKey(key));
  }
}

void ValidateEnvValueFrom(const Obj& env) {
  if (!env.Has("valueFrom")) return;
  Obj from = env.Child("valueFrom");
  Errors& errs = env.errs();
  int sources = 0;
  for (const char* kind : {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
    if (from.Has(kind)) ++sources;
  }
  if (from.Has("fieldRef") && from.Child("fieldRef").Str("fieldPath").empty()) {
    errs.Required(from.At("fieldRef").Child("fieldPath"));
  }
  if (from.Has("resourceFieldRef") && from.Child("resourceFieldRef").Str("resource").empty()) {
    errs.Required(from.At("resourceFieldRef").Child("resource"));
  }
  if (from.Has("configMapKeyRef")) ValidateKeySelector(from.Child("configMapKeyRef"));
  if (from.Has("secretKeyRef")) ValidateKeySelector(from.Child("secretKeyRef"));
  if (sources == 0) {
    errs.Invalid(from.path(), Shown::Str(""),
                 "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                 "`secretKeyRef`");
  } else if (!env.Str("value").empty()) {
    errs.Invalid(from.path(), Shown::Str(""), "may not be specified when `value` is not empty");
  } else if (sources > 1) {
    errs.Invalid(from.path(), Shown::Str(""),
                 "may not have more than one field specified at a time");
  }
}

void ValidateEnv(const Obj& c) {
  for (const Obj& env : c.Items("env")) {
    std::string name = env.Str("name");
    if (name.empty()) {
      env.errs().Required(env.At("name"));
    } else {
      env.errs().InvalidEach(env.At("name"), Shown::Str(name), ValidateEnvVarName(name));
    }
    ValidateEnvValueFrom(env);
  }
  for (const Obj& from : c.Items("envFrom")) {
    std::string prefix = from.Str("prefix");
    if (!prefix.empty()) {
      from.errs().InvalidEach(from.At("prefix"), Shown::Str(prefix), ValidateEnvVarName(prefix));
    }
  }
}

void ValidateVolumeMounts(const Obj& c, const PodContext& ctx) {
  Errors& errs = c.errs();
  std::set<std::string> mount_points;
  for (const Obj& m : c.Items("volumeMounts")) {
    std::string name = m.Str("name");
    std::string mount_path = m.Str("mountPath");
    if (name.empty()) errs.Required(m.At("name"));
    if (ctx.volumes.count(name) == 0) errs.NotFound(m.At("name"), Shown::Str(name));
    if (mount_path.empty()) errs.Required(m.At("mountPath"));
    if (!mount_points.insert(mount_path).second) {
      errs.Invalid(m.At("mountPath"), Shown::Str(mount_path), "must be unique");
    }
    std::string sub_path = m.Str("subPath");
    // Kubernetes reports subPath without the mount's index.
    if (!sub_path.empty()) {
      ValidateLocalDescendingPath(sub_path, c.At("volumeMounts").Child("subPath"), errs);
    }
  }
}

bool IsStandardContainerResource(std::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
         name.substr(0, 10) == "hugepages-";
}

void ValidateResourceName(const std::string& name, const Path& p, Errors& errs) {
  errs.InvalidEach(p, Shown::Str(name), ValidateQualifiedName(name));
  if (name.find('/') == std::string::npos && !IsStandardContainerResource(name)) {
    errs.Invalid(p, Shown::Str(name), "must be a standard resource for containers");
  }
}

void ValidateResources(const Obj& res) {
  Errors& errs = res.errs();
  std::map<std::string, Quantity> limits = ReadResourceList(res, "limits");
  std::map<std::string, Quantity> requests = ReadResourceList(res, "requests");
  for (const auto& [name, q] : limits) {
    ValidateResourceName(name, res.At("limits").Key(name), errs);
    ValidateNonNegativeQuantity(q, res.At("limits").Key(name), errs);
  }
  for (const auto& [name, q] : requests) {
    ValidateResourceName(name, res.At("requests").Key(name), errs);
    ValidateNonNegativeQuantity(q, res.At("requests").Key(name), errs);
    auto limit = limits.find(name);
    if (limit != limits.end() && CompareQuantity(q, limit->second) > 0) {
      errs.Invalid(res.At("requests"), Shown::Str(q.text),
                   "must be less than or equal to " + name + " limit of " + limit->second.text);
    }
  }
}

constexpr std::string_view kProbeHandlers[] = {"exec", "httpGet", "tcpSocket", "grpc"};

void ValidateHandlerFields(const Obj& probe, std::string_view handler) {
  Errors& errs = probe.errs();
  Obj h = probe.Child(handler);
  if (handler == "exec") {
    if (h.ListSize("command") == 0) errs.Required(h.At("command"));
  } else if (handler == "httpGet") {
    if (h.Str("path").empty() && h.Has("path")) errs.Required(h.At("path"));
    ValidatePortNumOrName(h, "port");
    ValidateEnum(h, "scheme", {"HTTP", "HTTPS"});
  } else if (handler == "tcpSocket") {
    ValidatePortNumOrName(h, "port");
  } else if (handler == "grpc") {
    std::optional<int64_t> port = h.Int("port");
    errs.InvalidEach(h.At("port"), Shown::Int(port.value_or(0)), ValidatePortNum(port.value_or(0)));
  }
}

// A probe or lifecycle hook names exactly one handler.
void ValidateHandler(const Obj& probe) {
  ValidateOneOf(probe, kProbeHandlers, "handler type", Presence::kRequired, ValidateHandlerFields);
}

void ValidateProbe(const Obj& c, std::string_view key) {
  if (!c.Has(key)) return;
  Obj probe = c.Child(key);
  Errors& errs = c.errs();
  ValidateHandler(probe);
  for (const char* field : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                            "successThreshold", "failureThreshold"}) {
    errs.NonNegative(probe.At(field), probe.Int(field));
  }
  std::optional<int64_t> grace = probe.Int("terminationGracePeriodSeconds");
  if (grace && *grace <= 0) {
    errs.Invalid(probe.At("terminationGracePeriodSeconds"), Shown::Int(*grace),
                 "must be greater than 0");
  }
  // Liveness and startup probes decide on one success; only readiness may ask for more.
  std::optional<int64_t> success = probe.Int("successThreshold");
  if (key != "readinessProbe" && success && *success != 1) {
    errs.Invalid(probe.At("successThreshold"), Shown::Int(*success), "must be 1");
  }
}

void ValidateLifecycle(const Obj& c) {
  if (!c.Has("lifecycle")) return;
  Obj lifecycle = c.Child("lifecycle");
  for (const char* hook : {"postStart", "preStop"}) {
    if (!lifecycle.Has(hook)) continue;
    Obj h = lifecycle.Child(hook);
    // Hooks may also sleep; that counts as their handler.
    if (!h.Has("sleep")) ValidateHandler(h);
  }
}

enum class ContainerKind { kApp, kInit };

void ValidateContainerRestartPolicy(const Obj& c, ContainerKind kind, bool* sidecar) {
  std::optional<std::string> policy = c.OptStr("restartPolicy");
  *sidecar = false;
  if (!policy) return;
  if (kind == ContainerKind::kApp) {
    c.errs().Forbidden(c.At("restartPolicy"), "may not be set for non-init containers");
  } else if (*policy != "Always") {
    c.errs().NotSupported(c.At("restartPolicy"), Shown::Str(*policy), {"Always"});
  } else {
    *sidecar = true;
  }
}

void ValidateContainer(const Obj& c, ContainerKind kind, const PodContext& ctx,
                       std::set<std::string>& names) {
  Errors& errs = c.errs();
  ValidateEntryName(c, Presence::kRequired, &names);
  std::string image = c.Str("image");
  if (image.empty()) {
    errs.Required(c.At("image"));
  } else if (image.find_first_not_of(" \t\r\n") != 0 ||
             image.find_last_not_of(" \t\r\n") != image.size() - 1) {
    errs.Invalid(c.At("image"), Shown::Str(image), "must not have leading or trailing whitespace");
  }
  ValidateEnum(c, "imagePullPolicy", {"Always", "IfNotPresent", "Never"});
  ValidateEnum(c, "terminationMessagePolicy", {"File", "FallbackToLogsOnError"});
  bool sidecar = false;
  ValidateContainerRestartPolicy(c, kind, &sidecar);
  ValidateContainerPorts(c, ctx);
  ValidateEnv(c);
  ValidateVolumeMounts(c, ctx);
  ValidateResources(c.Child("resources"));
  if (kind == ContainerKind::kInit && !sidecar) {
    // A plain init container runs to completion: nothing can probe or hook it.
    for (const char* key : {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"}) {
      if (c.Has(key)) errs.Forbidden(c.At(key), kNoInitSidecarMessage);
    }
    return;
  }
  ValidateLifecycle(c);
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    ValidateProbe(c, probe);
  }
}

void ValidateContainers(const Obj& spec, const PodContext& ctx) {
  std::set<std::string> names;
  if (spec.ListSize("containers") == 0) spec.errs().Required(spec.At("containers"));
  for (const Obj& c : spec.Items("containers")) {
    ValidateContainer(c, ContainerKind::kApp, ctx, names);
  }
  for (const Obj& c : spec.Items("initContainers")) {
    ValidateContainer(c, ContainerKind::kInit, ctx, names);
  }
}

void ValidateTaintEffect(const Obj& o, bool allow_empty) {
  std::string effect = o.Str("effect");
  if (effect.empty()) {
    if (!allow_empty) o.errs().Required(o.At("effect"));
    return;
  }
  if (!Contains({"NoSchedule", "PreferNoSchedule", "NoExecute"}, effect)) {
    o.errs().NotSupported(o.At("effect"), Shown::Str(effect),
                          {"NoSchedule", "PreferNoSchedule", "NoExecute"});
  }
}

void ValidateTolerations(const Obj& spec) {
  Errors& errs = spec.errs();
  for (const Obj& t : spec.Items("tolerations")) {
    std::string key = t.Str("key");
    std::string op = t.Str("operator");
    std::string value = t.Str("value");
    if (!key.empty()) errs.InvalidEach(t.At("key"), Shown::Str(key), ValidateQualifiedName(key));
    if (key.empty() && op != "Exists") {
      errs.Invalid(t.At("operator"), Shown::Str(op),
                   "operator must be Exists when `key` is empty, which means \"match all "
                   "values and all keys\"");
    }
    if (t.Has("tolerationSeconds") && t.Str("effect") != "NoExecute") {
      errs.Invalid(t.At("effect"), Shown::Str(t.Str("effect")),
                   "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (op.empty() || op == "Equal") {
      errs.InvalidJoined(t.At("operator"), Shown::Str(value), ValidateLabelValue(value));
    } else if (op == "Exists") {
      if (!value.empty()) {
        errs.Invalid(t.At("operator"), Shown::Json(t.raw()),
                     "value must be empty when `operator` is 'Exists'");
      }
    } else {
      errs.NotSupported(t.At("operator"), Shown::Str(op), {"Equal", "Exists"});
    }
    ValidateTaintEffect(t, /*allow_empty=*/true);
  }
}

void ValidateDnsConfig(const Obj& spec) {
  Errors& errs = spec.errs();
  bool none = spec.Str("dnsPolicy") == "None";
  if (none && !spec.Has("dnsConfig")) {
    errs.Required(spec.At("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
    return;
  }
  if (!spec.Has("dnsConfig")) return;
  Obj config = spec.Child("dnsConfig");
  std::vector<std::string> servers = config.StrList("nameservers");
  if (none && servers.empty()) {
    errs.Required(config.At("nameservers"),
                  "must provide at least one DNS nameserver when `dnsPolicy` is None");
  }
  if (servers.size() > 3) {
    errs.Invalid(config.At("nameservers"), Shown::Raw(GoStringSlice(servers, true)),
                 "must not have more than 3 nameservers");
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    errs.InvalidEach(config.At("nameservers").Index(i), Shown::Str(servers[i]),
                     ValidateIp(servers[i]));
  }
}

void ValidateOptionalName(const Obj& spec, std::string_view key,
                          std::vector<std::string> (*check)(std::string_view)) {
  std::string v = spec.Str(key);
  if (!v.empty()) spec.errs().InvalidEach(spec.At(key), Shown::Str(v), check(v));
}

void ValidatePodSpec(const Obj& spec, PodContext ctx) {
  Errors& errs = spec.errs();
  ctx.host_network = spec.Bool("hostNetwork").value_or(false);
  ValidateVolumes(spec, ctx);
  ValidateContainers(spec, ctx);
  ValidateEnum(spec, "restartPolicy", {"Always", "OnFailure", "Never"});
  ValidateEnum(spec, "dnsPolicy", {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  ValidateDnsConfig(spec);
  ValidateOptionalName(spec, "hostname", ValidateDns1123Label);
  ValidateOptionalName(spec, "subdomain", ValidateDns1123Label);
  ValidateOptionalName(spec, "serviceAccountName", ValidateDns1123Subdomain);
  ValidateOptionalName(spec, "nodeName", ValidateDns1123Subdomain);
  ValidateOptionalName(spec, "priorityClassName", ValidateDns1123Subdomain);
  spec.Int("priority");  // only its type: the Priority admission plugin sets it
  ValidateEnum(spec, "preemptionPolicy", {"PreemptLowerPriority", "Never"});
  ValidateLabels(spec.Strings("nodeSelector"), spec.At("nodeSelector"), errs);
  errs.NonNegative(spec.At("terminationGracePeriodSeconds"),
                   spec.Int("terminationGracePeriodSeconds"));
  std::optional<int64_t> deadline = spec.Int("activeDeadlineSeconds");
  if (deadline && (*deadline < 1 || *deadline > std::numeric_limits<int32_t>::max())) {
    errs.Invalid(spec.At("activeDeadlineSeconds"), Shown::Int(*deadline),
                 InclusiveRangeError(1, std::numeric_limits<int32_t>::max()));
  }
  ValidateTolerations(spec);
}

// A pod template (metadata + spec). Kubernetes reports its labels at
// <template>.labels, not <template>.metadata.labels.
void ValidatePodTemplate(const Obj& tmpl, const PodContext& ctx) {
  Obj meta = tmpl.Child("metadata");
  ValidateLabels(meta.Strings("labels"), tmpl.At("labels"), tmpl.errs());
  ValidateAnnotations(meta.Strings("annotations"), tmpl.At("annotations"), tmpl.errs());
  ValidatePodSpec(tmpl.Child("spec"), ctx);
}

// ---------------------------------------------------------------------------
// Persistent volume claims: their spec appears in PVCs and in StatefulSet
// volumeClaimTemplates.

void ValidateAccessModes(const Obj& spec) {
  Errors& errs = spec.errs();
  std::vector<std::string> modes = spec.StrList("accessModes");
  if (modes.empty()) {
    errs.Required(spec.At("accessModes"), "at least 1 access mode is required");
  }
  bool once_pod = false;
  for (const std::string& mode : modes) {
    if (mode == "ReadWriteOncePod") once_pod = true;
    if (!Contains({"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"}, mode)) {
      errs.NotSupported(spec.At("accessModes"), Shown::Str(mode),
                        {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"});
    }
  }
  if (once_pod && modes.size() > 1) {
    errs.Forbidden(spec.At("accessModes"), "may not use ReadWriteOncePod with other access modes");
  }
}

void ValidatePvcSpec(const Obj& spec) {
  Errors& errs = spec.errs();
  ValidateAccessModes(spec);
  ReadSelector(spec, "selector");
  Obj resources = spec.Child("resources");
  std::map<std::string, Quantity> requests = ReadResourceList(resources, "requests");
  // Kubernetes reports the missing request at spec.resources[storage].
  auto storage = requests.find("storage");
  if (storage == requests.end()) {
    if (!resources.Child("requests").Has("storage"))
      errs.Required(spec.At("resources").Key("storage"));
  } else {
    ValidatePositiveQuantity(storage->second, spec.At("resources").Key("storage"), errs);
  }
  ValidateOptionalName(spec, "storageClassName", ValidateDns1123Subdomain);
  ValidateEnum(spec, "volumeMode", {"Block", "Filesystem"});
}

// ---------------------------------------------------------------------------
// Workloads: StatefulSet, Deployment, ReplicaSet.

// Checks spec.selector (required, valid, non-empty) and returns it.
Selector ValidateWorkloadSelector(const Obj& spec, std::string_view kind_word) {
  Selector sel = ReadSelector(spec, "selector");
  if (!sel.present) {
    spec.errs().Required(spec.At("selector"));
  } else if (sel.Empty()) {
    spec.errs().Invalid(spec.At("selector"), Shown::Raw(GoLabelSelector(sel)),
                        "empty selector is invalid for " + std::string(kind_word));
  }
  return sel;
}

// The template's labels must be selected by the workload's own selector.
void ValidateTemplateSelected(const Obj& tmpl, const Selector& sel) {
  if (!sel.present || !sel.valid || sel.Empty()) return;
  Obj meta = tmpl.Child("metadata");
  StringMap labels = meta.Strings("labels");
  if (!Matches(sel, labels)) {
    tmpl.errs().Invalid(meta.At("labels"), Shown::Raw(GoStringMap(labels, meta.Has("labels"))),
                        "`selector` does not match template `labels`");
  }
}

// What every workload asks of its pod template.
void ValidateWorkloadTemplate(const Obj& spec, const Selector& sel, const PodContext& ctx,
                              std::string_view owner) {
  Errors& errs = spec.errs();
  if (!spec.Has("template")) {
    errs.Required(spec.At("template"));
    return;
  }
  Obj tmpl = spec.Child("template");
  ValidateTemplateSelected(tmpl, sel);
  ValidatePodTemplate(tmpl, ctx);
  Obj pod_spec = tmpl.Child("spec");
  std::optional<std::string> restart = pod_spec.OptStr("restartPolicy");
  if (restart && *restart != "Always") {
    errs.NotSupported(pod_spec.At("restartPolicy"), Shown::Str(*restart), {"Always"});
  }
  if (pod_spec.Has("activeDeadlineSeconds")) {
    errs.Forbidden(pod_spec.At("activeDeadlineSeconds"),
                   "activeDeadlineSeconds in " + std::string(owner) + " is not Supported");
  }
}

void ValidateStatefulSetRollingUpdate(const Obj& rolling) {
  Errors& errs = rolling.errs();
  errs.NonNegative(rolling.At("partition"), rolling.Int("partition"));
  std::optional<IntOrString> max = ReadIntOrString(rolling, "maxUnavailable");
  if (!max) return;
  ValidatePositiveIntOrPercent(*max, rolling.At("maxUnavailable"), errs);
  if (IntOrPercentValue(*max) == 0)
    errs.Invalid(rolling.At("maxUnavailable"), max->Show(), "cannot be 0");
  ValidateNotMoreThan100Percent(*max, rolling.At("maxUnavailable"), errs);
}

// Go's %#v of the strategy structs, where it has no pointer addresses in it
// (a set pointer prints as an address; JSON is shown instead).
Shown GoRollingUpdate(const Obj& rolling) {
  if (rolling.Has("maxUnavailable")) return Shown::Json(rolling.raw());
  return Shown::Raw("apps.RollingUpdateStatefulSetStrategy{Partition:" +
                    std::to_string(rolling.Int("partition").value_or(0)) +
                    ", MaxUnavailable:(*intstr.IntOrString)(nil)}");
}

Shown GoStatefulSetStrategy(const Obj& strategy) {
  if (strategy.Has("rollingUpdate")) return Shown::Json(strategy.raw());
  return Shown::Raw("apps.StatefulSetUpdateStrategy{Type:" + GoQuote(strategy.Str("type")) +
                    ", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}");
}

void ValidateStatefulSetStrategy(const Obj& spec) {
  Errors& errs = spec.errs();
  Obj strategy = spec.Child("updateStrategy");
  std::optional<std::string> type = strategy.OptStr("type");
  if (!type || *type == "RollingUpdate") {
    if (strategy.Has("rollingUpdate")) {
      ValidateStatefulSetRollingUpdate(strategy.Child("rollingUpdate"));
    }
  } else if (type->empty()) {
    errs.Required(spec.At("updateStrategy"));
  } else if (*type == "OnDelete") {
    if (strategy.Has("rollingUpdate")) {
      errs.Invalid(strategy.At("rollingUpdate"), GoRollingUpdate(strategy.Child("rollingUpdate")),
                   "only allowed for updateStrategy 'RollingUpdate'");
    }
  } else {
    errs.Invalid(spec.At("updateStrategy"), GoStatefulSetStrategy(strategy),
                 "must be 'RollingUpdate' or 'OnDelete'");
  }
}

void ValidateStatefulSetPolicies(const Obj& spec) {
  Errors& errs = spec.errs();
  std::optional<std::string> policy = spec.OptStr("podManagementPolicy");
  if (policy && policy->empty()) {
    errs.Required(spec.At("podManagementPolicy"));
  } else if (policy && *policy != "OrderedReady" && *policy != "Parallel") {
    errs.Invalid(spec.At("podManagementPolicy"), Shown::Str(*policy),
                 "must be 'OrderedReady' or 'Parallel'");
  }
  Obj retention = spec.Child("persistentVolumeClaimRetentionPolicy");
  for (const char* when : {"whenDeleted", "whenScaled"}) {
    std::optional<std::string> v = retention.OptStr(when);
    if (v && *v != "Retain" && *v != "Delete") {
      errs.NotSupported(retention.At(when), Shown::Str(*v), {"Retain", "Delete"});
    }
  }
}

// Claim templates; returns their names, which pods mount like volumes.
std::set<std::string> ValidateClaimTemplates(const Obj& spec) {
  std::set<std::string> names;
  for (const Obj& claim : spec.Items("volumeClaimTemplates")) {
    Obj meta = claim.Child("metadata");
    ValidateEntryName(meta, Presence::kRequired, &names);
    ValidateMetaCommon(meta);
    ValidatePvcSpec(claim.Child("spec"));
  }
  return names;
}

// The status that controllers write through /status: counts are
// non-negative integers (Kubernetes' typed decode refuses anything else).
void ValidateWorkloadStatus(const Obj& root) {
  if (!root.Has("status")) return;
  Obj status = root.Child("status");
  for (const char* count : {"replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
                            "availableReplicas", "unavailableReplicas", "fullyLabeledReplicas",
                            "terminatingReplicas", "observedGeneration", "collisionCount"}) {
    root.errs().NonNegative(status.At(count), status.Int(count));
  }
  status.OptStr("currentRevision");
  status.OptStr("updateRevision");
}

void ValidateStatefulSet(const Obj& root) {
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  ValidateWorkloadStatus(root);
  ValidateStatefulSetPolicies(spec);
  ValidateStatefulSetStrategy(spec);
  errs.NonNegative(spec.At("replicas"), spec.Int("replicas"));
  errs.NonNegative(spec.At("minReadySeconds"), spec.Int("minReadySeconds"));
  errs.NonNegative(spec.At("revisionHistoryLimit"), spec.Int("revisionHistoryLimit"));
  errs.NonNegative(spec.At("ordinals.start"), spec.Child("ordinals").Int("start"));
  // The service name becomes each pod's spec.subdomain, which must be a label.
  ValidateOptionalName(spec, "serviceName", ValidateDns1123Label);
  PodContext ctx;
  ctx.volumes = ValidateClaimTemplates(spec);
  Selector sel = ValidateWorkloadSelector(spec, "statefulset");
  ValidateWorkloadTemplate(spec, sel, ctx, "StatefulSet");
}

std::optional<Quantity> StorageRequest(const json& pvc);

// Kennel lets a claim template's storage request grow (the controller then
// expands every pet's claim) but never shrink; the rest of
// volumeClaimTemplates stays immutable, as in Kubernetes.
void ValidateClaimTemplatesGrowOnly(const Obj& root, const json& old_root) {
  const json& now = Member(Member(root.raw(), "spec"), "volumeClaimTemplates");
  const json& before = Member(Member(old_root, "spec"), "volumeClaimTemplates");
  if (!now.is_array() || !before.is_array() || now.size() != before.size()) return;
  for (size_t i = 0; i < now.size(); ++i) {
    std::optional<Quantity> grown = StorageRequest(now[i]);
    std::optional<Quantity> was = StorageRequest(before[i]);
    if (grown && was && CompareQuantity(*grown, *was) < 0) {
      std::string detail = "field can not be less than previous value (";
      detail += was->text;
      detail += "): the claims of a StatefulSet can grow but not shrink";
      root.errs().Forbidden(root.At("spec")
                                .Child("volumeClaimTemplates")
                                .Index(i)
                                .Child("spec")
                                .Child("resources")
                                .Child("requests")
                                .Child("storage"),
                            detail);
    }
  }
}

void ValidateStatefulSetUpdate(const Obj& root, const json& old_root) {
  json now = Member(root.raw(), "spec");
  json before = Member(old_root, "spec");
  for (const char* mutable_field :
       {"replicas", "ordinals", "template", "updateStrategy",
        "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "revisionHistoryLimit"}) {
    if (now.is_object()) now.erase(mutable_field);
    if (before.is_object()) before.erase(mutable_field);
  }
  for (json* spec : {&now, &before}) {
    if (!spec->is_object() || !spec->contains("volumeClaimTemplates")) continue;
    json& templates = (*spec)["volumeClaimTemplates"];
    if (!templates.is_array()) continue;
    for (json& t : templates) {
      if (!t.is_object() || !t.contains("spec") || !t["spec"].is_object()) continue;
      json& resources = t["spec"]["resources"];
      if (resources.is_object() && resources.contains("requests") &&
          resources["requests"].is_object()) {
        resources["requests"].erase("storage");
      }
    }
  }
  ValidateClaimTemplatesGrowOnly(root, old_root);
  if (!SemanticEqual(now, before)) {
    root.errs().Forbidden(root.At("spec"),
                          "updates to statefulset spec for fields other than 'replicas', "
                          "'ordinals', 'template', 'updateStrategy', "
                          "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                          "forbidden");
  }
}

void ValidateDeploymentStrategy(const Obj& spec) {
  Errors& errs = spec.errs();
  Obj strategy = spec.Child("strategy");
  std::optional<std::string> type = strategy.OptStr("type");
  if (type && *type == "Recreate") {
    if (strategy.Has("rollingUpdate")) {
      errs.Forbidden(strategy.At("rollingUpdate"),
                     "may not be specified when strategy `type` is 'Recreate'");
    }
  } else if (!type || *type == "RollingUpdate") {
    if (!strategy.Has("rollingUpdate")) return;
    Obj rolling = strategy.Child("rollingUpdate");
    std::optional<IntOrString> unavailable = ReadIntOrString(rolling, "maxUnavailable");
    std::optional<IntOrString> surge = ReadIntOrString(rolling, "maxSurge");
    if (unavailable) ValidatePositiveIntOrPercent(*unavailable, rolling.At("maxUnavailable"), errs);
    if (surge) ValidatePositiveIntOrPercent(*surge, rolling.At("maxSurge"), errs);
    if (unavailable && surge && IntOrPercentValue(*unavailable) == 0 &&
        IntOrPercentValue(*surge) == 0) {
      errs.Invalid(rolling.At("maxUnavailable"), unavailable->Show(),
                   "may not be 0 when `maxSurge` is 0");
    }
    if (unavailable)
      ValidateNotMoreThan100Percent(*unavailable, rolling.At("maxUnavailable"), errs);
  } else {
    Shown shown = strategy.Has("rollingUpdate")
                      ? Shown::Json(strategy.raw())
                      : Shown::Raw("apps.DeploymentStrategy{Type:" + GoQuote(*type) +
                                   ", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}");
    errs.NotSupported(spec.At("strategy"), shown, {"Recreate", "RollingUpdate"});
  }
}

void ValidateDeployment(const Obj& root) {
  ValidateWorkloadStatus(root);
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  errs.NonNegative(spec.At("replicas"), spec.Int("replicas"));
  std::optional<int64_t> min_ready = spec.Int("minReadySeconds");
  errs.NonNegative(spec.At("minReadySeconds"), min_ready);
  errs.NonNegative(spec.At("revisionHistoryLimit"), spec.Int("revisionHistoryLimit"));
  if (std::optional<int64_t> deadline = spec.Int("progressDeadlineSeconds")) {
    errs.NonNegative(spec.At("progressDeadlineSeconds"), deadline);
    if (*deadline <= min_ready.value_or(0)) {
      errs.Invalid(spec.At("progressDeadlineSeconds"), Shown::Int(*deadline),
                   "must be greater than minReadySeconds");
    }
  }
  ValidateDeploymentStrategy(spec);
  Selector sel = ValidateWorkloadSelector(spec, "deployment");
  ValidateWorkloadTemplate(spec, sel, PodContext{}, "ReplicaSet");
}

void ValidateReplicaSet(const Obj& root) {
  ValidateWorkloadStatus(root);
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  errs.NonNegative(spec.At("replicas"), spec.Int("replicas"));
  errs.NonNegative(spec.At("minReadySeconds"), spec.Int("minReadySeconds"));
  // Kubernetes' ReplicaSet shares the Deployment's wording here.
  Selector sel = ValidateWorkloadSelector(spec, "deployment");
  ValidateWorkloadTemplate(spec, sel, PodContext{}, "ReplicaSet");
}

// apps/v1 made workload selectors immutable.
void ValidateSelectorUnchanged(const Obj& root, const json& old_root) {
  json now = Member(Member(root.raw(), "spec"), "selector");
  json before = Member(Member(old_root, "spec"), "selector");
  if (SemanticEqual(now, before)) return;
  Selector sel = ReadSelector(root.Child("spec"), "selector");
  root.errs().Invalid(root.At("spec").Child("selector"), Shown::Raw(GoLabelSelector(sel)),
                      kImmutableMessage);
}

void ValidatePod(const Obj& root) { ValidatePodSpec(root.Child("spec"), PodContext{}); }

constexpr char kPodUpdateMessage[] =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)";

// Drops the parts of a pod spec that an update may change.
void MaskMutablePodFields(json& spec) {
  if (!spec.is_object()) return;
  for (const char* list : {"containers", "initContainers"}) {
    auto it = spec.find(list);
    if (it == spec.end() || !it->is_array()) continue;
    for (json& c : *it) {
      if (c.is_object()) c.erase("image");
    }
  }
  spec.erase("activeDeadlineSeconds");
  spec.erase("tolerations");
}

void ValidateTolerationsKept(const json& now, const json& before, const Path& p, Errors& errs) {
  if (!before.is_array()) return;
  for (json old_t : before) {
    if (old_t.is_object()) old_t.erase("tolerationSeconds");
    bool kept = false;
    for (json t : now.is_array() ? now : json::array()) {
      if (t.is_object()) t.erase("tolerationSeconds");
      if (SemanticEqual(t, old_t)) kept = true;
    }
    if (!kept) {
      errs.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds");
      return;
    }
  }
}

void ValidatePodUpdate(const Obj& root, const json& old_root) {
  json now = Member(root.raw(), "spec");
  json before = Member(old_root, "spec");
  ValidateTolerationsKept(Member(now, "tolerations"), Member(before, "tolerations"),
                          root.At("spec").Child("tolerations"), root.errs());
  // Binding sets nodeName once; a negative grace period may be raised to 1;
  // scheduling gates may only be removed.
  if (MemberStr(before, "nodeName").empty() && now.is_object()) now.erase("nodeName");
  json old_grace = Member(before, "terminationGracePeriodSeconds");
  if (old_grace.is_number_integer() && old_grace.get<int64_t>() < 0 &&
      Member(now, "terminationGracePeriodSeconds") == json(1)) {
    now.erase("terminationGracePeriodSeconds");
    before.erase("terminationGracePeriodSeconds");
  }
  json gates = Member(now, "schedulingGates");
  json old_gates = Member(before, "schedulingGates");
  if (gates.is_array() || gates.is_null()) {
    bool removal_only = true;
    for (const json& g : gates.is_array() ? gates : json::array()) {
      if (!old_gates.is_array() ||
          std::find(old_gates.begin(), old_gates.end(), g) == old_gates.end()) {
        removal_only = false;
      }
    }
    if (removal_only && now.is_object() && before.is_object()) {
      now.erase("schedulingGates");
      before.erase("schedulingGates");
    }
  }
  MaskMutablePodFields(now);
  MaskMutablePodFields(before);
  if (!SemanticEqual(now, before)) root.errs().Forbidden(root.At("spec"), kPodUpdateMessage);
}

// ---------------------------------------------------------------------------
// Services and Endpoints.

std::vector<std::string> ServiceClusterIps(const json& spec) {
  std::vector<std::string> ips;
  json list = Member(spec, "clusterIPs");
  if (list.is_array() && !list.empty()) {
    for (const json& ip : list) ips.push_back(ip.is_string() ? ip.get<std::string>() : "");
    return ips;
  }
  std::string ip = MemberStr(spec, "clusterIP");
  if (!ip.empty()) ips.push_back(ip);
  return ips;
}

bool IsHeadless(const Obj& spec) {
  std::vector<std::string> ips = ServiceClusterIps(spec.raw());
  std::string type = spec.Str("type");
  return (type.empty() || type == "ClusterIP") && ips.size() == 1 && ips[0] == "None";
}

// Go's %#v of the (port, protocol) key Kubernetes uses to find duplicates.
std::string GoServicePortKey(int64_t port, const std::string& protocol) {
  return "core.ServicePort{Name:\"\", Protocol:" + GoQuote(protocol) +
         ", AppProtocol:(*string)(nil), Port:" + std::to_string(port) +
         ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

void ValidateServicePorts(const Obj& spec, const std::string& type) {
  Errors& errs = spec.errs();
  std::vector<Obj> ports = spec.Items("ports");
  std::set<std::string> names;
  std::set<std::pair<int64_t, std::string>> keys;
  for (const Obj& port : ports) {
    int64_t number = ValidateNamedPort(port, NamePresence(ports), &names);
    ValidatePortNumOrName(port, "targetPort");
    std::optional<int64_t> node_port = port.Int("nodePort");
    if (node_port.value_or(0) != 0) {
      if (type == "ClusterIP" || type.empty()) {
        errs.Forbidden(port.At("nodePort"), "may not be used when `type` is 'ClusterIP'");
      }
      errs.InvalidEach(port.At("nodePort"), Shown::Int(*node_port), ValidatePortNum(*node_port));
    }
    std::string protocol = port.Str("protocol").empty() ? "TCP" : port.Str("protocol");
    if (!keys.insert({number, protocol}).second) {
      errs.Duplicate(port.path(), Shown::Raw(GoServicePortKey(number, protocol)));
    }
  }
}

void ValidateServiceClusterIps(const Obj& spec, const std::string& type) {
  Errors& errs = spec.errs();
  std::vector<std::string> ips = spec.StrList("clusterIPs");
  std::string ip = spec.Str("clusterIP");
  if (type == "ExternalName") {
    if (!ips.empty())
      errs.Forbidden(spec.At("clusterIPs"), "may not be set for ExternalName services");
    return;
  }
  if (ips.empty() && !ip.empty()) ips.push_back(ip);
  const Path list = spec.Has("clusterIPs") ? spec.At("clusterIPs") : spec.At("clusterIP");
  for (size_t i = 0; i < ips.size(); ++i) {
    Path p = spec.Has("clusterIPs") ? list.Index(i) : list;
    if (ips[i] == "None") {
      if (ips.size() > 1) {
        errs.Invalid(p, Shown::Str(ips[i]), "'None' must be the first and only value");
      }
      continue;
    }
    errs.InvalidEach(p, Shown::Str(ips[i]), ValidateIp(ips[i]));
  }
  if (spec.Has("clusterIPs") && !ips.empty() && !ip.empty() && ip != ips[0]) {
    errs.Invalid(spec.At("clusterIPs"), Shown::Raw(GoStringSlice(ips, true)),
                 "first value must match `clusterIP`");
  }
}

void ValidateService(const Obj& root) {
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  std::string type = spec.Str("type");
  ValidateEnum(spec, "type", {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"});
  if (type == "ExternalName") {
    std::string cname = spec.Str("externalName");
    // A trailing dot marks the name fully qualified.
    if (!cname.empty() && cname.back() == '.') cname.pop_back();
    if (cname.empty()) {
      errs.Required(spec.At("externalName"));
    } else {
      errs.InvalidEach(spec.At("externalName"), Shown::Str(cname), ValidateDns1123Subdomain(cname));
    }
  }
  if (spec.ListSize("ports") == 0 && !IsHeadless(spec) && type != "ExternalName") {
    errs.Required(spec.At("ports"));
  }
  ValidateServicePorts(spec, type);
  ValidateServiceClusterIps(spec, type);
  ValidateLabels(spec.Strings("selector"), spec.At("selector"), errs);
  ValidateEnum(spec, "sessionAffinity", {"ClientIP", "None"});
  ValidateEnum(spec, "externalTrafficPolicy", {"Cluster", "Local"});
  ValidateEnum(spec, "internalTrafficPolicy", {"Cluster", "Local"});
}

void ValidateServiceUpdate(const Obj& root, const json& old_root) {
  json spec = Member(root.raw(), "spec");
  json old_spec = Member(old_root, "spec");
  // Moving to or from ExternalName allocates or releases the cluster IP.
  if (MemberStr(spec, "type") == "ExternalName" || MemberStr(old_spec, "type") == "ExternalName") {
    return;
  }
  std::vector<std::string> before = ServiceClusterIps(old_spec);
  std::vector<std::string> now = ServiceClusterIps(spec);
  if (before.empty()) return;
  Path p = root.At("spec").Child("clusterIPs").Index(0);
  if (now.empty()) {
    root.errs().Invalid(p, Shown::Raw(GoStringSlice(now, false)),
                        "primary clusterIP can not be unset");
  } else if (now[0] != before[0]) {
    root.errs().Invalid(p, Shown::Raw(GoStringSlice(now, true)), "may not change once set");
  }
}

void ValidateEndpointAddress(const Obj& address) {
  Errors& errs = address.errs();
  std::string ip = address.Str("ip");
  errs.InvalidEach(address.At("ip"), Shown::Str(ip), ValidateIp(ip));
  ValidateOptionalName(address, "hostname", ValidateDns1123Label);
  ValidateOptionalName(address, "nodeName", ValidateDns1123Subdomain);
}

void ValidateEndpoints(const Obj& root) {
  Errors& errs = root.errs();
  for (const Obj& subset : root.Items("subsets")) {
    if (subset.ListSize("addresses") == 0 && subset.ListSize("notReadyAddresses") == 0) {
      errs.Required(subset.path(), "must specify `addresses` or `notReadyAddresses`");
    }
    for (const Obj& a : subset.Items("addresses")) ValidateEndpointAddress(a);
    for (const Obj& a : subset.Items("notReadyAddresses")) ValidateEndpointAddress(a);
    std::vector<Obj> ports = subset.Items("ports");
    for (const Obj& port : ports) ValidateNamedPort(port, NamePresence(ports), nullptr);
  }
}

// ---------------------------------------------------------------------------
// ConfigMaps and Secrets.

// The decoded length of standard, padded base64 (Go's encoding of []byte;
// like Go, line breaks are skipped), or the offset of the first bad byte.
struct Base64Result {
  bool ok = false;
  size_t decoded = 0;
  size_t bad_offset = 0;
};

Base64Result DecodedBase64Size(std::string_view s) {
  size_t chars = 0;
  size_t padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\r' || c == '\n') continue;
    bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (c == '=' && padding < 2) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return {false, 0, i};
    }
    ++chars;
  }
  if (chars % 4 != 0) return {false, 0, s.size()};
  return {true, chars / 4 * 3 - padding, 0};
}

// Checks the base64 values of a []byte map; returns their decoded size.
int64_t ValidateBinaryMap(const Obj& o, std::string_view key, const char* shown) {
  int64_t total = 0;
  for (const auto& [k, v] : o.Strings(key)) {
    Base64Result r = DecodedBase64Size(v);
    if (!r.ok) {
      o.errs().Invalid(o.At(key).Key(k), Shown::Str(shown),
                       "illegal base64 data at input byte " + std::to_string(r.bad_offset));
    }
    total += static_cast<int64_t>(r.decoded);
  }
  return total;
}

void ValidateConfigKeys(const StringMap& m, const Path& p, Errors& errs) {
  for (const auto& [k, v] : m) errs.InvalidEach(p.Key(k), Shown::Str(k), ValidateConfigMapKey(k));
}

void ValidateConfigMap(const Obj& root) {
  Errors& errs = root.errs();
  StringMap data = root.Strings("data");
  StringMap binary = root.Strings("binaryData");
  int64_t total = ValidateBinaryMap(root, "binaryData", "<binary data>");
  ValidateConfigKeys(data, root.At("data"), errs);
  ValidateConfigKeys(binary, root.At("binaryData"), errs);
  for (const auto& [k, v] : data) {
    total += static_cast<int64_t>(v.size());
    if (binary.count(k) != 0) {
      errs.Invalid(root.At("data").Key(k), Shown::Str(k), "duplicate of key present in binaryData");
    }
  }
  for (const auto& [k, v] : binary) {
    if (data.count(k) != 0) {
      errs.Invalid(root.At("binaryData").Key(k), Shown::Str(k), "duplicate of key present in data");
    }
  }
  // Kubernetes reports the size against the whole object, with an empty path.
  if (total > kMaxConfigSize) errs.TooLong(Path(), kMaxConfigSize);
}

// The keys a Secret's type requires (stringData is merged into data).
void ValidateSecretType(const Obj& root, const std::set<std::string>& keys) {
  Errors& errs = root.errs();
  std::string type = root.Str("type");
  Path data = root.At("data");
  auto require = [&](const char* key) {
    if (keys.count(key) == 0) errs.Required(data.Key(key));
  };
  if (type == "kubernetes.io/service-account-token") {
    Obj meta = root.Child("metadata");
    if (meta.Strings("annotations").count("kubernetes.io/service-account.name") == 0) {
      errs.Required(meta.At("annotations").Key("kubernetes.io/service-account.name"));
    }
  } else if (type == "kubernetes.io/dockercfg") {
    require(".dockercfg");
  } else if (type == "kubernetes.io/dockerconfigjson") {
    require(".dockerconfigjson");
  } else if (type == "kubernetes.io/basic-auth") {
    if (keys.count("username") == 0 && keys.count("password") == 0) {
      require("username");
      require("password");
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    require("ssh-privatekey");
  } else if (type == "kubernetes.io/tls") {
    require("tls.key");
    require("tls.crt");
  }
}

void ValidateSecret(const Obj& root) {
  Errors& errs = root.errs();
  int64_t total = ValidateBinaryMap(root, "data", kSecretRedacted);
  StringMap data = root.Strings("data");
  StringMap string_data = root.Strings("stringData");
  std::set<std::string> keys;
  for (const auto& [k, v] : data) keys.insert(k);
  for (const auto& [k, v] : string_data) {
    keys.insert(k);
    total += static_cast<int64_t>(v.size());
  }
  for (const std::string& k : keys) {
    errs.InvalidEach(root.At("data").Key(k), Shown::Str(k), ValidateConfigMapKey(k));
  }
  if (total > kMaxConfigSize) errs.TooLong(root.At("data"), kMaxConfigSize);
  ValidateSecretType(root, keys);
}

constexpr char kImmutableWhenSet[] = "field is immutable when `immutable` is set";

// An object marked immutable keeps its payload and its mark forever.
void ValidateImmutablePayload(const Obj& root, const json& old_root,
                              std::initializer_list<const char*> payload) {
  if (Member(old_root, "immutable") != json(true)) return;
  if (Member(root.raw(), "immutable") != json(true)) {
    root.errs().Forbidden(root.At("immutable"), kImmutableWhenSet);
  }
  for (const char* key : payload) {
    if (!SemanticEqual(Member(root.raw(), key), Member(old_root, key))) {
      root.errs().Forbidden(root.At(key), kImmutableWhenSet);
    }
  }
}

void ValidateConfigMapUpdate(const Obj& root, const json& old_root) {
  ValidateImmutablePayload(root, old_root, {"data", "binaryData"});
}

void ValidateSecretUpdate(const Obj& root, const json& old_root) {
  // An unset type is Opaque.
  std::string type = root.Str("type");
  std::string old_type = MemberStr(old_root, "type");
  if ((type.empty() ? "Opaque" : type) != (old_type.empty() ? "Opaque" : old_type)) {
    root.errs().Invalid(root.At("type"), Shown::Str(type), kImmutableMessage);
  }
  ValidateImmutablePayload(root, old_root, {"data"});
}

// ---------------------------------------------------------------------------
// Storage: PersistentVolumeClaim, PersistentVolume, StorageClass.

void ValidatePvc(const Obj& root) { ValidatePvcSpec(root.Child("spec")); }

std::optional<Quantity> StorageRequest(const json& pvc) {
  json q = Member(Member(Member(Member(pvc, "spec"), "resources"), "requests"), "storage");
  if (q.is_null()) return std::nullopt;
  Errors ignored;
  return ParseQuantityAt(q, Path(), ignored);
}

void ValidatePvcUpdate(const Obj& root, const json& old_root) {
  json now = Member(root.raw(), "spec");
  json before = Member(old_root, "spec");
  // Requests may grow (volume expansion); a claim may be bound to a volume once.
  for (json* spec : {&now, &before}) {
    if (!spec->is_object()) continue;
    if (spec->contains("resources") && (*spec)["resources"].is_object()) {
      (*spec)["resources"].erase("requests");
    }
    spec->erase("volumeAttributesClassName");
  }
  if (MemberStr(before, "volumeName").empty() && now.is_object()) now.erase("volumeName");
  if (!SemanticEqual(now, before)) {
    root.errs().Forbidden(root.At("spec"),
                          "spec is immutable after creation except resources.requests and "
                          "volumeAttributesClassName for bound claims");
  }
  std::optional<Quantity> grown = StorageRequest(root.raw());
  std::optional<Quantity> was = StorageRequest(old_root);
  if (grown && was && CompareQuantity(*grown, *was) < 0) {
    root.errs().Forbidden(root.At("spec").Child("resources").Child("requests").Child("storage"),
                          "field can not be less than previous value");
  }
}

constexpr std::string_view kPersistentVolumeSources[] = {"gcePersistentDisk",
                                                         "awsElasticBlockStore",
                                                         "hostPath",
                                                         "glusterfs",
                                                         "nfs",
                                                         "rbd",
                                                         "quobyte",
                                                         "cinder",
                                                         "cephfs",
                                                         "fc",
                                                         "flocker",
                                                         "flexVolume",
                                                         "azureFile",
                                                         "vsphereVolume",
                                                         "azureDisk",
                                                         "photonPersistentDisk",
                                                         "portworxVolume",
                                                         "scaleIO",
                                                         "local",
                                                         "storageos",
                                                         "csi",
                                                         "iscsi"};

void ValidatePersistentVolumeSourceFields(const Obj& spec, std::string_view source) {
  Errors& errs = spec.errs();
  Obj s = spec.Child(source);
  if (source == "hostPath") {
    if (s.Str("path").empty()) errs.Required(s.At("path"));
  } else if (source == "local") {
    if (s.Str("path").empty()) errs.Required(s.At("path"));
    if (!spec.Has("nodeAffinity")) {
      errs.Required(spec.At("nodeAffinity"), "Local volume requires node affinity");
    }
  } else if (source == "nfs") {
    ValidateNfsSource(s);
  } else if (source == "csi") {
    if (s.Str("driver").empty()) errs.Required(s.At("driver"));
    if (s.Str("volumeHandle").empty()) errs.Required(s.At("volumeHandle"));
  }
}

void ValidatePersistentVolumeSource(const Obj& spec) {
  ValidateOneOf(spec, kPersistentVolumeSources, "volume type", Presence::kRequired,
                ValidatePersistentVolumeSourceFields);
}

void ValidatePersistentVolume(const Obj& root) {
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  ValidateAccessModes(spec);
  std::map<std::string, Quantity> capacity = ReadResourceList(spec, "capacity");
  if (!spec.Has("capacity") || spec.Child("capacity").raw().empty()) {
    errs.Required(spec.At("capacity"));
  } else if (capacity.count("storage") == 0 || capacity.size() > 1) {
    errs.NotSupported(spec.At("capacity"), Shown::Json(*spec.Get("capacity")), {"storage"});
  }
  for (const auto& [name, q] : capacity) {
    ValidatePositiveQuantity(q, spec.At("capacity").Key(name), errs);
  }
  std::optional<std::string> policy = spec.OptStr("persistentVolumeReclaimPolicy");
  if (policy && !policy->empty() && !Contains({"Delete", "Recycle", "Retain"}, *policy)) {
    errs.NotSupported(spec.At("persistentVolumeReclaimPolicy"), Shown::Str(*policy),
                      {"Delete", "Recycle", "Retain"});
  }
  ValidateOptionalName(spec, "storageClassName", ValidateDns1123Subdomain);
  ValidateEnum(spec, "volumeMode", {"Block", "Filesystem"});
  ValidatePersistentVolumeSource(spec);
}

void ValidatePersistentVolumeUpdate(const Obj& root, const json& old_root) {
  json now = Member(root.raw(), "spec");
  json before = Member(old_root, "spec");
  for (std::string_view source : kPersistentVolumeSources) {
    if (!SemanticEqual(Member(now, source), Member(before, source))) {
      root.errs().Forbidden(root.At("spec").Child("persistentvolumesource"),
                            "spec.persistentvolumesource is immutable after creation");
      break;
    }
  }
  std::string mode = MemberStr(now, "volumeMode");
  std::string old_mode = MemberStr(before, "volumeMode");
  if (!mode.empty() && !old_mode.empty() && mode != old_mode) {
    root.errs().Invalid(root.At("spec").Child("volumeMode"), Shown::Str(mode), kImmutableMessage);
  }
}

constexpr int64_t kMaxProvisionerParameterSize = 256 * 1024;
constexpr size_t kMaxProvisionerParameters = 512;

void ValidateStorageClass(const Obj& root) {
  Errors& errs = root.errs();
  std::string provisioner = root.Str("provisioner");
  if (provisioner.empty()) {
    errs.Required(root.At("provisioner"));
  } else {
    std::string lower = ToLower(provisioner);
    errs.InvalidEach(root.At("provisioner"), Shown::Str(lower), ValidateQualifiedName(lower));
  }
  StringMap params = root.Strings("parameters");
  int64_t total = 0;
  for (const auto& [k, v] : params) {
    if (k.empty()) errs.Invalid(root.At("parameters"), Shown::Str(k), "field can not be empty.");
    total += static_cast<int64_t>(k.size() + v.size());
  }
  if (params.size() > kMaxProvisionerParameters || total > kMaxProvisionerParameterSize) {
    errs.TooLong(root.At("parameters"), kMaxProvisionerParameterSize);
  }
  std::optional<std::string> reclaim = root.OptStr("reclaimPolicy");
  if (reclaim && !reclaim->empty() && *reclaim != "Delete" && *reclaim != "Retain") {
    errs.NotSupported(root.At("reclaimPolicy"), Shown::Str(*reclaim), {"Delete", "Retain"});
  }
  ValidateEnum(root, "volumeBindingMode", {"Immediate", "WaitForFirstConsumer"});
}

void ValidateStorageClassUpdate(const Obj& root, const json& old_root) {
  Errors& errs = root.errs();
  if (!SemanticEqual(Member(root.raw(), "parameters"), Member(old_root, "parameters"))) {
    errs.Forbidden(root.At("parameters"), "updates to parameters are forbidden.");
  }
  if (root.Str("provisioner") != MemberStr(old_root, "provisioner")) {
    errs.Forbidden(root.At("provisioner"), "updates to provisioner are forbidden.");
  }
  if (root.Str("reclaimPolicy") != MemberStr(old_root, "reclaimPolicy")) {
    errs.Forbidden(root.At("reclaimPolicy"), "updates to reclaimPolicy are forbidden.");
  }
  ValidateImmutable(Member(root.raw(), "volumeBindingMode"), Member(old_root, "volumeBindingMode"),
                    root.At("volumeBindingMode"), errs);
}

// ---------------------------------------------------------------------------
// Cluster objects: Namespace, Node, Event, ControllerRevision, Lease.

void ValidateNamespace(const Obj& root) {
  Obj spec = root.Child("spec");
  ValidateFinalizers(spec.StrList("finalizers"), spec.At("finalizers"), root.errs());
}

// Go's %#v of the (key, effect) pair that makes a taint a duplicate.
std::string GoTaint(const Obj& t) {
  return "core.Taint{Key:" + GoQuote(t.Str("key")) + ", Value:" + GoQuote(t.Str("value")) +
         ", Effect:" + GoQuote(t.Str("effect")) + ", TimeAdded:(*v1.Time)(nil)}";
}

void ValidateTaints(const Obj& spec) {
  Errors& errs = spec.errs();
  std::set<std::pair<std::string, std::string>> seen;
  for (const Obj& t : spec.Items("taints")) {
    std::string key = t.Str("key");
    std::string value = t.Str("value");
    errs.InvalidEach(t.At("key"), Shown::Str(key), ValidateQualifiedName(key));
    errs.InvalidJoined(t.At("value"), Shown::Str(value), ValidateLabelValue(value));
    ValidateTaintEffect(t, /*allow_empty=*/false);
    if (!seen.insert({key, t.Str("effect")}).second) {
      errs.Duplicate(t.path(), Shown::Raw(GoTaint(t)),
                     "taints must be unique by key and effect pair");
    }
  }
}

void ValidateNode(const Obj& root) {
  Obj spec = root.Child("spec");
  Errors& errs = root.errs();
  ValidateTaints(spec);
  std::string cidr = spec.Str("podCIDR");
  if (!cidr.empty()) errs.InvalidEach(spec.At("podCIDR"), Shown::Str(cidr), ValidateCidr(cidr));
  std::vector<std::string> cidrs = spec.StrList("podCIDRs");
  for (size_t i = 0; i < cidrs.size(); ++i) {
    errs.InvalidEach(spec.At("podCIDRs").Index(i), Shown::Str(cidrs[i]), ValidateCidr(cidrs[i]));
  }
}

void ValidateNodeUpdate(const Obj& root, const json& old_root) {
  json spec = Member(root.raw(), "spec");
  json old_spec = Member(old_root, "spec");
  // The pod CIDR and provider ID are assigned once, from "" to a value.
  for (const char* key : {"podCIDR", "providerID"}) {
    std::string before = MemberStr(old_spec, key);
    if (!before.empty() && MemberStr(spec, key) != before) {
      std::string name = std::string(key) == "podCIDR" ? "podCIDRs" : key;
      root.errs().Forbidden(
          root.At("spec").Child(name),
          "node updates may not change " + std::string(key) + " except from \"\" to valid");
    }
  }
}

void ValidateEvent(const Obj& root) {
  Errors& errs = root.errs();
  Obj involved = root.Child("involvedObject");
  if (involved.raw().empty()) {
    errs.Required(root.At("involvedObject"));
    return;
  }
  std::string ns = root.Child("metadata").Str("namespace");
  std::string involved_ns = involved.Str("namespace");
  // A cluster-scoped object's events live in "default" (or nowhere).
  bool agrees = involved_ns.empty() ? (ns.empty() || ns == "default") : ns == involved_ns;
  if (!agrees) {
    errs.Invalid(involved.At("namespace"), Shown::Str(involved_ns),
                 "does not match event.namespace");
  }
}

void ValidateControllerRevision(const Obj& root) {
  if (!root.Has("data")) root.errs().Required(root.At("data"), "data is mandatory");
  root.errs().NonNegative(root.At("revision"), root.Int("revision"));
}

void ValidateControllerRevisionUpdate(const Obj& root, const json& old_root) {
  ValidateImmutable(Member(root.raw(), "data"), Member(old_root, "data"), root.At("data"),
                    root.errs());
}

void ValidateLease(const Obj& root) {
  Obj spec = root.Child("spec");
  std::optional<int64_t> duration = spec.Int("leaseDurationSeconds");
  if (duration && *duration <= 0) {
    root.errs().Invalid(spec.At("leaseDurationSeconds"), Shown::Int(*duration),
                        "must be greater than 0");
  }
  root.errs().NonNegative(spec.At("leaseTransitions"), spec.Int("leaseTransitions"));
}

// ---------------------------------------------------------------------------
// Scheduling: PriorityClass.

// value is an int32 on the wire.
std::optional<int64_t> PriorityClassValue(const Obj& root) {
  std::optional<int64_t> value = root.Int("value");
  if (value && (*value < std::numeric_limits<int32_t>::min() ||
                *value > std::numeric_limits<int32_t>::max())) {
    root.errs().TypeInvalid(root.At("value"), Shown::Int(*value), "must be of type int32");
    return std::nullopt;
  }
  return value;
}

// On create only, as Kubernetes: the reserved prefix and the user maximum.
void ValidatePriorityClassCreate(const Obj& root) {
  Errors& errs = root.errs();
  std::string name = root.Child("metadata").Str("name");
  int64_t value = PriorityClassValue(root).value_or(0);
  if (name.rfind(kSystemPriorityClassPrefix, 0) == 0) {
    std::string mismatch =
        SystemPriorityClassMismatch(name, value, root.Bool("globalDefault").value_or(false));
    if (!mismatch.empty()) {
      errs.Forbidden(root.At("metadata").Child("name"),
                     "priority class names with '" + std::string(kSystemPriorityClassPrefix) +
                         "' prefix are reserved for system use only. error: " + mismatch);
    }
  } else if (value > kHighestUserDefinablePriority) {
    errs.Forbidden(root.At("value"), "maximum allowed value of a user defined priority is " +
                                         std::to_string(kHighestUserDefinablePriority));
  }
}

void ValidatePriorityClass(const Obj& root) {
  PriorityClassValue(root);
  ValidateEnum(root, "preemptionPolicy", {"PreemptLowerPriority", "Never"});
}

void ValidatePriorityClassUpdate(const Obj& root, const json& old_root) {
  json value = Member(root.raw(), "value");
  json old_value = Member(old_root, "value");
  if (value != old_value) {
    root.errs().Forbidden(root.At("value"), "may not be changed in an update.");
  }
  ValidateImmutable(Member(root.raw(), "preemptionPolicy"), Member(old_root, "preemptionPolicy"),
                    root.At("preemptionPolicy"), root.errs());
}

void ValidateNothingMore(const Obj&) {}

// ---------------------------------------------------------------------------
// Dispatch.

struct KindRules {
  std::string_view group;
  std::string_view kind;
  NameRule name_rule;
  void (*validate)(const Obj& root);                               // on create and update
  void (*validate_update)(const Obj& root, const json& old_root);  // update only; may be null
  void (*validate_create)(const Obj& root) = nullptr;              // create only, before `validate`
};

constexpr KindRules kRules[] = {
    {"", "Namespace", NameRule::kLabel, ValidateNamespace, nullptr},
    {"", "Pod", NameRule::kSubdomain, ValidatePod, ValidatePodUpdate},
    {"", "Service", NameRule::kDns1035, ValidateService, ValidateServiceUpdate},
    {"", "Endpoints", NameRule::kSubdomain, ValidateEndpoints, nullptr},
    {"", "ConfigMap", NameRule::kSubdomain, ValidateConfigMap, ValidateConfigMapUpdate},
    {"", "Secret", NameRule::kSubdomain, ValidateSecret, ValidateSecretUpdate},
    {"", "Node", NameRule::kSubdomain, ValidateNode, ValidateNodeUpdate},
    {"", "Event", NameRule::kSubdomain, ValidateEvent, nullptr},
    {"", "PersistentVolume", NameRule::kSubdomain, ValidatePersistentVolume,
     ValidatePersistentVolumeUpdate},
    {"", "PersistentVolumeClaim", NameRule::kSubdomain, ValidatePvc, ValidatePvcUpdate},
    {"", "ServiceAccount", NameRule::kSubdomain, ValidateNothingMore, nullptr},
    {"apps", "StatefulSet", NameRule::kLabel, ValidateStatefulSet, ValidateStatefulSetUpdate},
    {"apps", "Deployment", NameRule::kSubdomain, ValidateDeployment, ValidateSelectorUnchanged},
    {"apps", "ReplicaSet", NameRule::kSubdomain, ValidateReplicaSet, ValidateSelectorUnchanged},
    {"apps", "ControllerRevision", NameRule::kSubdomain, ValidateControllerRevision,
     ValidateControllerRevisionUpdate},
    {"storage.k8s.io", "StorageClass", NameRule::kSubdomain, ValidateStorageClass,
     ValidateStorageClassUpdate},
    {"coordination.k8s.io", "Lease", NameRule::kSubdomain, ValidateLease, nullptr},
    {"scheduling.k8s.io", "PriorityClass", NameRule::kSubdomain, ValidatePriorityClass,
     ValidatePriorityClassUpdate, ValidatePriorityClassCreate},
};

// A kind served without rules of its own still gets its metadata checked.
constexpr KindRules kMetadataOnly = {"", "", NameRule::kSubdomain, ValidateNothingMore, nullptr};

const KindRules& RulesFor(const ResourceInfo& info) {
  for (const KindRules& r : kRules) {
    if (r.group == info.group && r.kind == info.kind) return r;
  }
  return kMetadataOnly;
}

// `Kind.group "name" is invalid: <errors>`, one error bare, several in [].
std::string InvalidMessage(const ResourceInfo& info, const std::string& name,
                           const std::vector<StatusCause>& causes) {
  std::string joined;
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) joined += ", ";
    joined += causes[i].field + ": " + causes[i].message;
  }
  if (causes.size() > 1) joined = "[" + joined + "]";
  return info.GroupKind() + " " + GoQuote(name) + " is invalid: " + joined;
}

Status Validate(const json& obj, const json* old_obj) {
  if (!obj.is_object()) return BadRequest("the object to validate is not a JSON object");
  std::string api_version = MemberStr(obj, "apiVersion");
  std::string kind = MemberStr(obj, "kind");
  const ResourceInfo* info = FindByApiVersionKind(api_version, kind);
  if (info == nullptr) {
    return BadRequest("no kind " + GoQuote(kind) + " is registered for version " +
                      GoQuote(api_version));
  }
  const KindRules& rules = RulesFor(*info);
  Errors errs;
  Obj root(obj, Path(), &errs);
  const bool update = old_obj != nullptr;
  ValidateObjectMeta(root, *info, rules.name_rule, /*check_name_format=*/!update);
  if (update) ValidateObjectMetaUpdate(root, *old_obj);
  if (!update && rules.validate_create != nullptr) rules.validate_create(root);
  rules.validate(root);
  if (update && rules.validate_update != nullptr) rules.validate_update(root, *old_obj);
  if (errs.empty()) return Status::Ok();
  std::string name = MemberStr(Member(obj, "metadata"), "name");
  return Invalid(InvalidMessage(*info, name, errs.causes()), errs.causes());
}

}  // namespace

Status ValidateObject(const nlohmann::json& obj, const nlohmann::json* old_obj) {
  try {
    return Validate(obj, old_obj);
  } catch (const std::exception& e) {
    // Every read above is type-checked; reaching this is a bug (or no memory).
    return Internal(std::string("validation failed unexpectedly: ") + e.what());
  }
}

}  // namespace kennel::api
