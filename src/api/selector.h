// Label and field selectors: the ?labelSelector= and ?fieldSelector= filters
// of list and watch, and the metav1.LabelSelector of workload specs.
//
// Both are immutable values once parsed: cheap to copy, safe to share between
// threads, and Matches() never fails (a malformed object simply does not
// match). Parsing never throws; errors come back as a Status.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::api {

// One requirement of a label selector, e.g. `tier in (a,b)` or `!canary`.
struct LabelRequirement {
  enum class Op {
    kEquals,        // key=value
    kDoubleEquals,  // key==value (same meaning as kEquals; kept to print back as written)
    kNotEquals,     // key!=value: also true when the key is absent
    kIn,            // key in (a,b)
    kNotIn,         // key notin (a,b): also true when the key is absent
    kExists,        // key
    kDoesNotExist,  // !key
    kGreaterThan,   // key>5: the label must be present and an integer greater than 5
    kLessThan,      // key<5
  };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // sorted, no duplicates

  bool Matches(const nlohmann::json& labels) const;
  std::string ToString() const;
};

// A conjunction of label requirements. The default-constructed selector is
// empty and matches everything.
class LabelSelector {
 public:
  LabelSelector() = default;

  // Parses the string form (`a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3,m<4`),
  // as kubectl sends it. Whitespace between tokens is ignored; "" is the empty
  // selector. Bad syntax, invalid label keys or values, or a non-integer
  // operand of > / < give kBadRequest naming the problem.
  static StatusOr<LabelSelector> Parse(std::string_view text);

  // From a metav1.LabelSelector object: {matchLabels: {k: v}, matchExpressions:
  // [{key, operator: In|NotIn|Exists|DoesNotExist, values}]}. `{}` is the empty
  // selector (matches everything); JSON null is the nothing-selector, which
  // matches no object (as Kubernetes treats a nil selector). Unknown
  // operators, bad keys or values, values on Exists/DoesNotExist or no values
  // on In/NotIn give kInvalid.
  static StatusOr<LabelSelector> FromJson(const nlohmann::json& selector);

  // A selector that matches nothing.
  static LabelSelector Nothing();

  // labels: a JSON object of string to string, or null (no labels). Non-string
  // values are treated as absent.
  bool Matches(const nlohmann::json& labels) const;

  // True when the selector has no requirements and so matches every object.
  bool Empty() const { return !nothing_ && requirements_.empty(); }

  // The canonical string form: requirements sorted by key and joined by ','
  // (e.g. "app=web,tier in (a,b)"); it parses back to an equal selector. The
  // empty and the nothing-selector both print as "".
  std::string ToString() const;

  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

// A field selector: terms `path=value`, `path==value` or `path!=value` joined
// by ','. A backslash escapes ',', '=' or '\' inside a value.
class FieldSelector {
 public:
  struct Term {
    std::string field;
    bool negated = false;  // true for !=
    std::string value;
  };

  FieldSelector() = default;

  // kind is the object's kind ("Pod", "Event"...). Every kind supports
  // metadata.name and metadata.namespace; in addition
  //   Pod:        spec.nodeName, spec.restartPolicy, spec.schedulerName,
  //               spec.serviceAccountName, spec.hostNetwork, status.phase,
  //               status.podIP, status.podIPs, status.nominatedNodeName
  //   Event:      involvedObject.{kind,namespace,name,uid,apiVersion,
  //               resourceVersion,fieldPath}, reason, reportingComponent,
  //               source, type
  //   Secret:     type
  //   Node:       spec.unschedulable
  //   Namespace:  status.phase
  //   ReplicaSet: status.replicas
  // Any other path gives kBadRequest "field label not supported: <path>"; a
  // term without an operator or with a bad escape gives kBadRequest too.
  static StatusOr<FieldSelector> Parse(std::string_view text, std::string_view kind);

  // A missing field compares as ""; booleans as "true"/"false", numbers in
  // decimal.
  bool Matches(const nlohmann::json& object) const;

  bool Empty() const { return terms_.empty(); }

  // The X of the first `metadata.name=X` (or ==) term, if any: every matching
  // object then has that name, so the caller can answer with a point read.
  std::optional<std::string> RequiredName() const;

  // The terms in the order written, e.g. "a=b,c!=d".
  std::string ToString() const;

  const std::vector<Term>& terms() const { return terms_; }

 private:
  std::string kind_;
  std::vector<Term> terms_;
};

}  // namespace kennel::api
