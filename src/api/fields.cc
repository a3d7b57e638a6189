#include "api/fields.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/openapi.h"
#include "api/registry.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// The compiled schemas: one graph of nodes shared by every kind.

// Node 0 admits anything: scalars, open objects, string maps, ...
constexpr int32_t kAny = 0;
// No additionalProperties: names outside `props` are unknown (unless preserve).
constexpr int32_t kClosed = -1;

struct Node {
  bool array = false;
  int32_t items = kAny;  // arrays: the elements' node
  // Objects: the named fields, sorted by name, and their nodes.
  std::vector<std::pair<std::string, int32_t>> props;
  int32_t additional = kClosed;  // the node of other fields' values, or kClosed
  bool preserve = true;          // other fields are kept, unchecked
};

struct Root {
  std::string api_version;
  std::string kind;
  int32_t node;
};

struct Compiled {
  std::vector<Node> nodes;  // nodes[kAny] admits anything
  std::vector<Root> roots;
};

class Compiler {
 public:
  explicit Compiler(Compiled* out) : out_(out) { out_->nodes.emplace_back(); }

  int32_t Compile(const json& s, int depth) {
    if (!s.is_object() || depth > 64) return kAny;
    if (auto ref = s.find("$ref"); ref != s.end()) {
      return ref->is_string() ? CompileRef(ref->get_ref<const std::string&>(), depth) : kAny;
    }
    if (auto all_of = s.find("allOf"); all_of != s.end()) {
      // Upstream wraps a struct-valued field's $ref as {"allOf":[{"$ref":...}]}
      // so that a description can sit beside it.
      if (all_of->is_array() && all_of->size() == 1) return Compile((*all_of)[0], depth + 1);
      return kAny;
    }
    if (s.contains("oneOf") || s.contains("anyOf")) return kAny;  // Quantity, IntOrString
    const std::string type = TypeOf(s);
    if (type == "array") {
      auto items = s.find("items");
      const int32_t item = items == s.end() ? kAny : Compile(*items, depth + 1);
      if (item == kAny) return kAny;
      Node n;
      n.array = true;
      n.items = item;
      return Add(std::move(n));
    }
    auto props = s.find("properties");
    auto additional = s.find("additionalProperties");
    const bool has_props = props != s.end() && props->is_object();
    if (type != "object" && !has_props && additional == s.end()) return kAny;  // a scalar
    Node n;
    auto preserve = s.find("x-kubernetes-preserve-unknown-fields");
    n.preserve = preserve != s.end() && preserve->is_boolean() && preserve->get<bool>();
    if (additional != s.end()) {
      if (additional->is_object()) {
        n.additional = Compile(*additional, depth + 1);
      } else if (additional->is_boolean()) {
        n.additional = additional->get<bool>() ? kAny : kClosed;
      }
    }
    if (has_props) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        n.props.emplace_back(it.key(), Compile(it.value(), depth + 1));
      }
    }
    // An object that names no field admits any (meta.v1.Patch is {"type":"object"}).
    if (n.props.empty() && (n.preserve || n.additional == kAny || n.additional == kClosed)) {
      return kAny;
    }
    std::sort(n.props.begin(), n.props.end());
    return Add(std::move(n));
  }

 private:
  static std::string TypeOf(const json& s) {
    auto type = s.find("type");
    return type != s.end() && type->is_string() ? type->get<std::string>() : "";
  }

  int32_t Add(Node n) {
    out_->nodes.push_back(std::move(n));
    return static_cast<int32_t>(out_->nodes.size() - 1);
  }

  int32_t CompileRef(const std::string& ref, int depth) {
    if (auto it = by_ref_.find(ref); it != by_ref_.end()) return it->second;
    const json* schema = SchemaForRef(ref);
    if (schema == nullptr) return kAny;
    // A placeholder that admits anything, should the schema refer to itself.
    const int32_t slot = Add(Node());
    by_ref_[ref] = slot;
    const int32_t node = Compile(*schema, depth + 1);
    if (node == kAny) {
      by_ref_[ref] = kAny;
    } else {
      out_->nodes[slot] = out_->nodes[node];
    }
    return by_ref_[ref];
  }

  Compiled* out_;
  std::map<std::string, int32_t> by_ref_;
};

Compiled Compile() {
  Compiled c;
  Compiler compiler(&c);
  auto add = [&](const std::string& api_version, const std::string& kind) {
    const json* schema = SchemaForKind(api_version, kind);
    if (schema != nullptr) c.roots.push_back({api_version, kind, compiler.Compile(*schema, 0)});
  };
  for (const ResourceInfo& info : AllResources()) {
    add(info.ApiVersion(), info.kind);
    add(info.ApiVersion(), info.ListKind());
  }
  add("autoscaling/v1", "Scale");
  return c;
}

const Compiled& GetCompiled() {
  static const Compiled* const compiled = []() -> const Compiled* {
    try {
      return new Compiled(Compile());
    } catch (const std::exception&) {
      return new Compiled();  // cannot happen: the schemas are built from constants
    }
  }();
  return *compiled;
}

// The root node of a kind, or kAny.
int32_t RootOf(const Compiled& c, std::string_view api_version, std::string_view kind) {
  for (const Root& r : c.roots) {
    if (r.kind == kind && r.api_version == api_version) return r.node;
  }
  return kAny;
}

// The node of field `name` of object node `n`; sets *unknown when none.
int32_t FieldNode(const Node& n, const std::string& name, bool* unknown) {
  *unknown = false;
  auto it = std::lower_bound(
      n.props.begin(), n.props.end(), name,
      [](const std::pair<std::string, int32_t>& p, const std::string& k) { return p.first < k; });
  if (it != n.props.end() && it->first == name) return it->second;
  if (n.additional != kClosed) return n.additional;
  *unknown = !n.preserve;
  return kAny;
}

// ---------------------------------------------------------------------------
// Walking an object.

class Finder {
 public:
  Finder(const Compiled& c, std::vector<std::string>* out) : c_(c), out_(out) {}

  void Walk(const json& v, int32_t node) {
    if (node == kAny) return;
    const Node& n = c_.nodes[node];
    if (n.array) {
      if (!v.is_array()) return;
      for (size_t i = 0; i < v.size(); ++i) {
        path_.push_back({nullptr, i});
        Walk(v[i], n.items);
        path_.pop_back();
      }
      return;
    }
    if (!v.is_object()) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool unknown = false;
      const int32_t child = FieldNode(n, it.key(), &unknown);
      if (!unknown && child == kAny) continue;
      path_.push_back({&it.key(), 0});
      if (unknown) {
        out_->push_back(Path());
      } else {
        Walk(it.value(), child);
      }
      path_.pop_back();
    }
  }

 private:
  struct Segment {
    const std::string* key;  // nullptr for an array index
    size_t index;
  };

  std::string Path() const {
    std::string p;
    for (const Segment& s : path_) {
      if (s.key == nullptr) {
        p += '[';
        p += std::to_string(s.index);
        p += ']';
      } else {
        if (!p.empty()) p += '.';
        p += *s.key;
      }
    }
    return p;
  }

  const Compiled& c_;
  std::vector<std::string>* out_;
  std::vector<Segment> path_;
};

void Prune(const Compiled& c, json& v, int32_t node) {
  if (node == kAny) return;
  const Node& n = c.nodes[node];
  if (n.array) {
    if (!v.is_array()) return;
    for (json& e : v) Prune(c, e, n.items);
    return;
  }
  if (!v.is_object()) return;
  for (auto it = v.begin(); it != v.end();) {
    bool unknown = false;
    const int32_t child = FieldNode(n, it.key(), &unknown);
    if (unknown) {
      it = v.erase(it);
    } else {
      Prune(c, it.value(), child);
      ++it;
    }
  }
}

}  // namespace

std::vector<std::string> UnknownFields(const nlohmann::json& obj, std::string_view api_version,
                                       std::string_view kind) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  const Compiled& c = GetCompiled();
  const int32_t root = RootOf(c, api_version, kind);
  if (root == kAny) return out;
  Finder(c, &out).Walk(obj, root);
  std::sort(out.begin(), out.end());
  return out;
}

void PruneUnknownFields(nlohmann::json& obj, std::string_view api_version, std::string_view kind) {
  if (!obj.is_object()) return;
  const Compiled& c = GetCompiled();
  Prune(c, obj, RootOf(c, api_version, kind));
}

std::string UnknownFieldMessage(std::string_view path) {
  return "unknown field \"" + std::string(path) + "\"";
}

std::string StrictDecodingErrorMessage(const std::vector<std::string>& paths) {
  if (paths.empty()) return "";
  std::string m = "strict decoding error: ";
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) m += ", ";
    m += UnknownFieldMessage(paths[i]);
  }
  return m;
}

}  // namespace kennel::api
