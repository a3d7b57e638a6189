#include "api/selector.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <utility>

#include "api/names.h"

namespace kennel::api {
namespace {

using Op = LabelRequirement::Op;
using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Label requirement construction and matching.

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

// Checks one requirement as Kubernetes does when it builds one, collecting
// every problem rather than stopping at the first.
std::vector<std::string> RequirementErrors(const LabelRequirement& r) {
  std::vector<std::string> errs;
  if (auto key_errs = ValidateQualifiedName(r.key); !key_errs.empty()) {
    errs.push_back("invalid label key " + Quote(r.key) + ": " + Join(key_errs, "; "));
  }
  switch (r.op) {
    case Op::kIn:
    case Op::kNotIn:
      if (r.values.empty())
        errs.push_back("for 'in', 'notin' operators, values set can't be empty");
      break;
    case Op::kEquals:
    case Op::kDoubleEquals:
    case Op::kNotEquals:
      if (r.values.size() != 1)
        errs.push_back("exact-match compatibility requires one single value");
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!r.values.empty()) {
        errs.push_back("values set must be empty for exists and does not exist");
      }
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (r.values.size() != 1) {
        errs.push_back("for 'Gt', 'Lt' operators, exactly one value is required");
      }
      for (const auto& v : r.values) {
        if (!ParseInt64(v)) {
          errs.push_back("invalid value " + Quote(v) +
                         ": for 'Gt', 'Lt' operators, the value must be an integer");
        }
      }
      break;
  }
  for (const auto& v : r.values) {
    if (auto value_errs = ValidateLabelValue(v); !value_errs.empty()) {
      errs.push_back("invalid label value: " + Quote(v) + ": at key: " + Quote(r.key) + ": " +
                     Join(value_errs, "; "));
    }
  }
  return errs;
}

StatusOr<LabelRequirement> MakeRequirement(std::string key, Op op, std::vector<std::string> values,
                                           Code code, std::string_view prefix) {
  LabelRequirement r;
  r.key = std::move(key);
  r.op = op;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  r.values = std::move(values);
  auto errs = RequirementErrors(r);
  if (!errs.empty()) return Status(code, std::string(prefix) + Join(errs, "; "));
  return r;
}

const std::string* LabelValue(const json& labels, const std::string& key) {
  if (!labels.is_object()) return nullptr;
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

bool Contains(const std::vector<std::string>& sorted, const std::string& v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

void SortByKey(std::vector<LabelRequirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.key < b.key; });
}

// ---------------------------------------------------------------------------
// The label selector string grammar.
//
// "in" and "notin" are keywords only where an operator may stand; elsewhere
// (values, keys) they are ordinary words, so `a=in` and `x in (in)` parse.

enum class Tok {
  kEnd,
  kWord,
  kBang,
  kNotEquals,
  kEquals,
  kDoubleEquals,
  kOpenPar,
  kClosePar,
  kComma,
  kGreater,
  kLess,
};

struct Token {
  Tok type;
  std::string text;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

// The operator or punctuation at s[i]; advances i past it.
Token ScanSymbol(std::string_view s, size_t& i) {
  char c = s[i];
  char next = i + 1 < s.size() ? s[i + 1] : '\0';
  if (c == '!' && next == '=') {
    i += 2;
    return {Tok::kNotEquals, "!="};
  }
  if (c == '=' && next == '=') {
    i += 2;
    return {Tok::kDoubleEquals, "=="};
  }
  ++i;
  switch (c) {
    case '!':
      return {Tok::kBang, "!"};
    case '=':
      return {Tok::kEquals, "="};
    case '(':
      return {Tok::kOpenPar, "("};
    case ')':
      return {Tok::kClosePar, ")"};
    case ',':
      return {Tok::kComma, ","};
    case '>':
      return {Tok::kGreater, ">"};
    default:
      return {Tok::kLess, "<"};
  }
}

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (IsSpecial(c)) {
      out.push_back(ScanSymbol(s, i));
      continue;
    }
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i]) && !IsSpecial(s[i])) ++i;
    out.push_back({Tok::kWord, std::string(s.substr(start, i - start))});
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

class LabelParser {
 public:
  explicit LabelParser(std::string_view text) : toks_(Tokenize(text)) {}

  StatusOr<std::vector<LabelRequirement>> ParseAll() {
    std::vector<LabelRequirement> reqs;
    while (true) {
      const Token& t = Peek();
      if (t.type == Tok::kEnd) return reqs;
      if (IsKeyword(t) || (t.type != Tok::kWord && t.type != Tok::kBang)) {
        return Syntax(t, "!, identifier, or 'end of string'");
      }
      ASSIGN_OR_RETURN(LabelRequirement r, ParseRequirement());
      reqs.push_back(std::move(r));
      Token sep = Take();
      if (sep.type == Tok::kEnd) return reqs;
      if (sep.type != Tok::kComma) return Syntax(sep, "',' or 'end of string'");
      const Token& after = Peek();
      if (after.type != Tok::kWord && after.type != Tok::kBang) {
        return Syntax(after, "identifier after ','");
      }
    }
  }

 private:
  static bool IsKeyword(const Token& t) {
    return t.type == Tok::kWord && (t.text == "in" || t.text == "notin");
  }
  const Token& Peek() const { return toks_[pos_]; }
  Token Take() {
    Token t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  static Status Syntax(const Token& found, std::string_view expected) {
    return BadRequest("unable to parse requirement: found '" + found.text +
                      "', expected: " + std::string(expected));
  }
  bool AtRequirementEnd() const { return Peek().type == Tok::kEnd || Peek().type == Tok::kComma; }

  StatusOr<LabelRequirement> ParseRequirement() {
    bool negated = false;
    Token key = Take();
    if (key.type == Tok::kBang) {
      negated = true;
      key = Take();
    }
    if (key.type != Tok::kWord) return Syntax(key, "identifier");
    if (negated || AtRequirementEnd()) {
      // `!key` takes no operator; anything after it is reported by the caller.
      return Build(std::move(key.text), negated ? Op::kDoesNotExist : Op::kExists, {});
    }
    ASSIGN_OR_RETURN(Op op, ParseOperator());
    std::vector<std::string> values;
    if (op == Op::kIn || op == Op::kNotIn) {
      ASSIGN_OR_RETURN(values, ParseValueSet());
    } else {
      ASSIGN_OR_RETURN(std::string v, ParseExactValue());
      values.push_back(std::move(v));
    }
    return Build(std::move(key.text), op, std::move(values));
  }

  static StatusOr<LabelRequirement> Build(std::string key, Op op, std::vector<std::string> values) {
    return MakeRequirement(std::move(key), op, std::move(values), Code::kBadRequest,
                           "unable to parse requirement: ");
  }

  StatusOr<Op> ParseOperator() {
    Token t = Take();
    switch (t.type) {
      case Tok::kEquals:
        return Op::kEquals;
      case Tok::kDoubleEquals:
        return Op::kDoubleEquals;
      case Tok::kNotEquals:
        return Op::kNotEquals;
      case Tok::kGreater:
        return Op::kGreaterThan;
      case Tok::kLess:
        return Op::kLessThan;
      case Tok::kWord:
        if (t.text == "in") return Op::kIn;
        if (t.text == "notin") return Op::kNotIn;
        break;
      default:
        break;
    }
    return Syntax(t, "in, notin, =, ==, !=, gt, lt");
  }

  // `a=` is legal and means the value is the empty string.
  StatusOr<std::string> ParseExactValue() {
    if (AtRequirementEnd()) return std::string();
    Token t = Take();
    if (t.type != Tok::kWord) return Syntax(t, "identifier");
    return std::move(t.text);
  }

  // `(a,b)`; empty members are legal ("()" and "(a,)" contain "").
  StatusOr<std::vector<std::string>> ParseValueSet() {
    Token open = Take();
    if (open.type != Tok::kOpenPar) return Syntax(open, "'('");
    std::vector<std::string> values;
    bool expect_value = true;
    while (true) {
      Token t = Take();
      if (t.type == Tok::kWord && expect_value) {
        values.push_back(std::move(t.text));
        expect_value = false;
      } else if (t.type == Tok::kComma) {
        if (expect_value) values.emplace_back();
        expect_value = true;
      } else if (t.type == Tok::kClosePar) {
        if (expect_value) values.emplace_back();
        return values;
      } else {
        return Syntax(t, expect_value ? "',', ')' or identifier" : "',' or ')'");
      }
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Field selectors.

struct SelectableField {
  std::string_view kind;  // "" for every kind
  std::string_view path;
  std::string_view if_missing;  // Go's zero value as the field set prints it
};

constexpr std::array<SelectableField, 28> kSelectableFields = {{
    {"", "metadata.name", ""},
    {"", "metadata.namespace", ""},
    {"Pod", "spec.nodeName", ""},
    {"Pod", "spec.restartPolicy", ""},
    {"Pod", "spec.schedulerName", ""},
    {"Pod", "spec.serviceAccountName", ""},
    {"Pod", "spec.hostNetwork", "false"},
    {"Pod", "status.phase", ""},
    {"Pod", "status.podIP", ""},
    {"Pod", "status.podIPs", ""},
    {"Pod", "status.nominatedNodeName", ""},
    {"Event", "involvedObject.kind", ""},
    {"Event", "involvedObject.namespace", ""},
    {"Event", "involvedObject.name", ""},
    {"Event", "involvedObject.uid", ""},
    {"Event", "involvedObject.apiVersion", ""},
    {"Event", "involvedObject.resourceVersion", ""},
    {"Event", "involvedObject.fieldPath", ""},
    {"Event", "reason", ""},
    {"Event", "reportingComponent", ""},
    {"Event", "source", ""},
    {"Event", "type", ""},
    {"Secret", "type", ""},
    {"Node", "spec.unschedulable", "false"},
    {"Namespace", "status.phase", ""},
    {"ReplicaSet", "status.replicas", "0"},
    {"ReplicationController", "status.replicas", "0"},
    {"Job", "status.successful", "0"},
}};

const SelectableField* FindSelectableField(std::string_view kind, std::string_view path) {
  for (const auto& f : kSelectableFields) {
    if ((f.kind.empty() || f.kind == kind) && f.path == path) return &f;
  }
  return nullptr;
}

const json* Walk(const json& obj, std::string_view dotted) {
  const json* cur = &obj;
  while (true) {
    if (!cur->is_object()) return nullptr;
    auto dot = dotted.find('.');
    auto it = cur->find(std::string(dotted.substr(0, dot)));
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string_view::npos) return cur;
    dotted.remove_prefix(dot + 1);
  }
}

std::optional<std::string> Scalar(const json* v) {
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return std::string(v->get<bool>() ? "true" : "false");
  if (v->is_number_integer()) return v->dump();
  if (v->is_number_float()) return v->dump();
  return std::nullopt;
}

std::vector<std::string> PodIps(const json& pod) {
  std::vector<std::string> ips;
  const json* list = Walk(pod, "status.podIPs");
  if (list != nullptr && list->is_array()) {
    for (const auto& entry : *list) {
      if (auto ip = entry.is_object() ? Scalar(Walk(entry, "ip")) : std::nullopt) {
        ips.push_back(*ip);
      }
    }
  }
  return ips;
}

// The few fields whose selectable value is derived rather than read in place.
std::optional<std::string> DerivedField(const json& obj, std::string_view kind,
                                        std::string_view path) {
  if (kind == "Pod" && path == "status.podIP") {
    if (auto ip = Scalar(Walk(obj, "status.podIP")); ip && !ip->empty()) return ip;
    auto ips = PodIps(obj);
    return ips.empty() ? std::string() : ips.front();
  }
  if (kind == "Pod" && path == "status.podIPs") return Join(PodIps(obj), ",");
  if (kind == "Event" && path == "source") {
    // An event written through events.k8s.io has no source.component; the
    // reporting controller stands in for it.
    if (auto c = Scalar(Walk(obj, "source.component")); c && !c->empty()) return c;
    return Scalar(Walk(obj, "reportingComponent")).value_or("");
  }
  return std::nullopt;
}

std::string FieldValue(const json& obj, std::string_view kind, const SelectableField& field) {
  if (auto v = DerivedField(obj, kind, field.path)) return *v;
  return Scalar(Walk(obj, field.path)).value_or(std::string(field.if_missing));
}

// Splits on ',' not preceded by an escaping backslash; escapes stay in place.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

struct SplitTerm {
  std::string_view field;
  bool negated = false;
  std::string_view value;  // still escaped
};

// The first operator wins, trying "!=" before "==" before "=" at each position.
std::optional<SplitTerm> SplitFieldTerm(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    if (rest.starts_with("!=") || rest.starts_with("==")) {
      return SplitTerm{term.substr(0, i), rest[0] == '!', rest.substr(2)};
    }
    if (rest.starts_with("=")) return SplitTerm{term.substr(0, i), false, rest.substr(1)};
  }
  return std::nullopt;
}

StatusOr<std::string> UnescapeValue(std::string_view s) {
  std::string out;
  bool escaped = false;
  for (char c : s) {
    if (escaped) {
      if (c != '\\' && c != ',' && c != '=') {
        return BadRequest(std::string("invalid field selector: invalid escape sequence: \\") + c);
      }
      out += c;
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == ',' || c == '=') {
      return BadRequest(std::string("invalid field selector: unescaped character in value: ") + c);
    } else {
      out += c;
    }
  }
  if (escaped) return BadRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------

bool LabelRequirement::Matches(const json& labels) const {
  const std::string* v = LabelValue(labels, key);
  switch (op) {
    case Op::kEquals:
    case Op::kDoubleEquals:
    case Op::kIn:
      return v != nullptr && Contains(values, *v);
    case Op::kNotEquals:
    case Op::kNotIn:
      return v == nullptr || !Contains(values, *v);
    case Op::kExists:
      return v != nullptr;
    case Op::kDoesNotExist:
      return v == nullptr;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (v == nullptr || values.size() != 1) return false;
      auto have = ParseInt64(*v);
      auto want = ParseInt64(values.front());
      if (!have || !want) return false;
      return op == Op::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string LabelRequirement::ToString() const {
  std::string out = op == Op::kDoesNotExist ? "!" + key : key;
  switch (op) {
    case Op::kExists:
    case Op::kDoesNotExist:
      return out;
    case Op::kEquals:
      return out + "=" + Join(values, ",");
    case Op::kDoubleEquals:
      return out + "==" + Join(values, ",");
    case Op::kNotEquals:
      return out + "!=" + Join(values, ",");
    case Op::kGreaterThan:
      return out + ">" + Join(values, ",");
    case Op::kLessThan:
      return out + "<" + Join(values, ",");
    case Op::kIn:
      return out + " in (" + Join(values, ",") + ")";
    case Op::kNotIn:
      return out + " notin (" + Join(values, ",") + ")";
  }
  return out;
}

StatusOr<LabelSelector> LabelSelector::Parse(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<LabelRequirement> reqs, LabelParser(text).ParseAll());
  SortByKey(reqs);
  LabelSelector s;
  s.requirements_ = std::move(reqs);
  return s;
}

namespace {

StatusOr<std::vector<std::string>> StringList(const json& values) {
  std::vector<std::string> out;
  if (values.is_null()) return out;
  if (!values.is_array()) return Invalid("label selector values must be a list of strings");
  for (const auto& v : values) {
    if (!v.is_string()) return Invalid("label selector values must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

StatusOr<Op> ExpressionOp(const json& op) {
  std::string name = op.is_string() ? op.get<std::string>() : op.dump();
  if (name == "In") return Op::kIn;
  if (name == "NotIn") return Op::kNotIn;
  if (name == "Exists") return Op::kExists;
  if (name == "DoesNotExist") return Op::kDoesNotExist;
  return Invalid(Quote(name) + " is not a valid label selector operator");
}

StatusOr<LabelRequirement> FromExpression(const json& expr) {
  if (!expr.is_object()) return Invalid("label selector matchExpressions entries must be objects");
  auto key = expr.find("key");
  if (key == expr.end() || !key->is_string()) {
    return Invalid("label selector expression needs a string key");
  }
  ASSIGN_OR_RETURN(Op op, ExpressionOp(expr.value("operator", json())));
  ASSIGN_OR_RETURN(auto values, StringList(expr.value("values", json())));
  return MakeRequirement(key->get<std::string>(), op, std::move(values), Code::kInvalid, "");
}

StatusOr<std::vector<LabelRequirement>> RequirementsFromJson(const json& selector) {
  std::vector<LabelRequirement> reqs;
  const json match_labels = selector.value("matchLabels", json());
  if (!match_labels.is_null() && !match_labels.is_object()) {
    return Invalid("label selector matchLabels must be an object");
  }
  if (match_labels.is_object()) {
    for (const auto& [k, v] : match_labels.items()) {
      if (!v.is_string()) return Invalid("label selector matchLabels values must be strings");
      ASSIGN_OR_RETURN(auto r,
                       MakeRequirement(k, Op::kEquals, {v.get<std::string>()}, Code::kInvalid, ""));
      reqs.push_back(std::move(r));
    }
  }
  const json exprs = selector.value("matchExpressions", json());
  if (!exprs.is_null() && !exprs.is_array()) {
    return Invalid("label selector matchExpressions must be a list");
  }
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      ASSIGN_OR_RETURN(auto r, FromExpression(e));
      reqs.push_back(std::move(r));
    }
  }
  return reqs;
}

}  // namespace

StatusOr<LabelSelector> LabelSelector::FromJson(const json& selector) {
  if (selector.is_null()) return Nothing();
  if (!selector.is_object()) return Invalid("a label selector must be an object");
  try {
    ASSIGN_OR_RETURN(std::vector<LabelRequirement> reqs, RequirementsFromJson(selector));
    SortByKey(reqs);
    LabelSelector s;
    s.requirements_ = std::move(reqs);
    return s;
  } catch (const json::exception& e) {
    // Only dump() of malformed UTF-8 can throw here; report it rather than leak it.
    return Invalid(std::string("malformed label selector: ") + e.what());
  }
}

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

bool LabelSelector::Matches(const json& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const LabelRequirement& r) { return r.Matches(labels); });
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  parts.reserve(requirements_.size());
  for (const auto& r : requirements_) parts.push_back(r.ToString());
  return Join(parts, ",");
}

// ---------------------------------------------------------------------------

StatusOr<FieldSelector> FieldSelector::Parse(std::string_view text, std::string_view kind) {
  FieldSelector sel;
  sel.kind_ = std::string(kind);
  for (std::string_view term : SplitTerms(text)) {
    if (term.empty()) continue;
    std::optional<SplitTerm> split = SplitFieldTerm(term);
    if (!split) {
      return BadRequest("invalid selector: '" + std::string(text) + "'; can't understand '" +
                        std::string(term) + "'");
    }
    ASSIGN_OR_RETURN(std::string value, UnescapeValue(split->value));
    std::string field(split->field);
    if (FindSelectableField(kind, field) == nullptr) {
      return BadRequest("field label not supported: " + field);
    }
    sel.terms_.push_back(Term{std::move(field), split->negated, std::move(value)});
  }
  return sel;
}

bool FieldSelector::Matches(const json& object) const {
  for (const auto& t : terms_) {
    const SelectableField* f = FindSelectableField(kind_, t.field);
    assert(f != nullptr && "Parse admits only selectable fields");
    if (f == nullptr) return false;
    bool equal = FieldValue(object, kind_, *f) == t.value;
    if (equal == t.negated) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::RequiredName() const {
  for (const auto& t : terms_) {
    if (t.field == "metadata.name" && !t.negated) return t.value;
  }
  return std::nullopt;
}

std::string FieldSelector::ToString() const {
  std::string out;
  for (const auto& t : terms_) {
    if (!out.empty()) out += ",";
    out += t.field + (t.negated ? "!=" : "=");
    for (char c : t.value) {
      if (c == '\\' || c == ',' || c == '=') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace kennel::api
