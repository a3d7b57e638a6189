#include "api/patch.h"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kennel::api {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------
// RFC 6902 JSON Patch
// ---------------------------------------------------------------------------

using Pointer = std::vector<std::string>;

StatusOr<Pointer> ParsePointer(const std::string& text) {
  Pointer tokens;
  if (text.empty()) return tokens;
  if (text[0] != '/') return BadRequest("JSON pointer \"" + text + "\" does not start with \"/\"");
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (text[i] != '~') {
      token += text[i];
    } else if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
      token += text[++i] == '0' ? '~' : '/';
    } else {
      return BadRequest("JSON pointer \"" + text + "\" has a \"~\" not followed by 0 or 1");
    }
  }
  return tokens;
}

// RFC 6901 array indices are plain decimals: no sign, no leading zero.
std::optional<size_t> ParseIndex(const std::string& token) {
  if (token.empty() || token.size() > 9) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

// The value `depth` tokens down the pointer, or nullptr when there is none.
json* Walk(json& root, const Pointer& pointer, size_t depth) {
  json* at = &root;
  for (size_t i = 0; i < depth; ++i) {
    const std::string& token = pointer[i];
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      std::optional<size_t> index = ParseIndex(token);
      if (!index || *index >= at->size()) return nullptr;
      at = &(*at)[*index];
    } else {
      return nullptr;
    }
  }
  return at;
}

json* Target(json& root, const Pointer& pointer) { return Walk(root, pointer, pointer.size()); }

json* Parent(json& root, const Pointer& pointer) { return Walk(root, pointer, pointer.size() - 1); }

Status AddAt(json& root, const Pointer& pointer, json value) {
  if (pointer.empty()) {
    root = std::move(value);
    return Status::Ok();
  }
  json* parent = Parent(root, pointer);
  if (parent == nullptr) return Invalid("the parent of the path does not exist");
  const std::string& last = pointer.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return Status::Ok();
  }
  if (!parent->is_array()) return Invalid("the parent of the path is not an object or array");
  if (last == "-") {
    parent->push_back(std::move(value));
    return Status::Ok();
  }
  std::optional<size_t> index = ParseIndex(last);
  if (!index || *index > parent->size())
    return Invalid("array index \"" + last + "\" out of range");
  parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
  return Status::Ok();
}

StatusOr<json> RemoveAt(json& root, const Pointer& pointer) {
  if (pointer.empty()) return Invalid("the whole document cannot be removed");
  json* parent = Parent(root, pointer);
  const std::string& last = pointer.back();
  if (parent != nullptr && parent->is_object()) {
    auto it = parent->find(last);
    if (it == parent->end()) return Invalid("the path does not exist");
    json removed = std::move(*it);
    parent->erase(it);
    return removed;
  }
  if (parent != nullptr && parent->is_array()) {
    std::optional<size_t> index = ParseIndex(last);
    if (!index || *index >= parent->size()) return Invalid("the path does not exist");
    json removed = std::move((*parent)[*index]);
    parent->erase(*index);
    return removed;
  }
  return Invalid("the path does not exist");
}

bool IsProperPrefix(const Pointer& prefix, const Pointer& of) {
  return prefix.size() < of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// One operation of a JSON patch, checked for shape before it is applied.
struct Operation {
  std::string op;
  std::string path_text;
  Pointer path;
  Pointer from;
  const json* value = nullptr;
};

StatusOr<Operation> ParseOperation(const json& raw, size_t index) {
  const std::string where = "json patch operation " + std::to_string(index);
  if (!raw.is_object()) return BadRequest(where + " is not an object");
  Operation op;
  auto op_it = raw.find("op");
  if (op_it == raw.end() || !op_it->is_string()) return BadRequest(where + " has no string \"op\"");
  op.op = op_it->get<std::string>();
  static const std::vector<std::string> kOps = {"add", "remove", "replace", "move", "copy", "test"};
  if (std::find(kOps.begin(), kOps.end(), op.op) == kOps.end()) {
    return BadRequest(where + " has unknown op \"" + op.op + "\"");
  }
  auto path_it = raw.find("path");
  if (path_it == raw.end() || !path_it->is_string()) {
    return BadRequest(where + " (" + op.op + ") has no string \"path\"");
  }
  op.path_text = path_it->get<std::string>();
  ASSIGN_OR_RETURN(op.path, ParsePointer(op.path_text));
  if (op.op == "add" || op.op == "replace" || op.op == "test") {
    auto value_it = raw.find("value");
    if (value_it == raw.end()) return BadRequest(where + " (" + op.op + ") has no \"value\"");
    op.value = &*value_it;
  }
  if (op.op == "move" || op.op == "copy") {
    auto from_it = raw.find("from");
    if (from_it == raw.end() || !from_it->is_string()) {
      return BadRequest(where + " (" + op.op + ") has no string \"from\"");
    }
    ASSIGN_OR_RETURN(op.from, ParsePointer(from_it->get<std::string>()));
  }
  return op;
}

Status Execute(json& doc, const Operation& op) {
  if (op.op == "add") return AddAt(doc, op.path, *op.value);
  if (op.op == "remove") return RemoveAt(doc, op.path).status();
  if (op.op == "replace") {
    json* target = Target(doc, op.path);
    if (target == nullptr) return Invalid("the path does not exist");
    *target = *op.value;
    return Status::Ok();
  }
  if (op.op == "test") {
    json* target = Target(doc, op.path);
    if (target == nullptr) return Invalid("the path does not exist");
    if (*target != *op.value) return Invalid("test failed: the value is " + target->dump());
    return Status::Ok();
  }
  json* source = Target(doc, op.from);
  if (source == nullptr) return Invalid("the \"from\" path does not exist");
  if (op.op == "copy") return AddAt(doc, op.path, *source);
  if (op.from == op.path) return Status::Ok();
  if (IsProperPrefix(op.from, op.path)) return Invalid("a value cannot be moved into itself");
  ASSIGN_OR_RETURN(json moved, RemoveAt(doc, op.from));
  return AddAt(doc, op.path, std::move(moved));
}

StatusOr<json> JsonPatch(const json& doc, const json& patch) {
  if (!patch.is_array()) return BadRequest("a json patch must be a JSON array of operations");
  std::vector<Operation> ops;
  for (size_t i = 0; i < patch.size(); ++i) {
    ASSIGN_OR_RETURN(Operation op, ParseOperation(patch[i], i));
    ops.push_back(std::move(op));
  }
  json result = doc;
  for (size_t i = 0; i < ops.size(); ++i) {
    Status s = Execute(result, ops[i]);
    if (!s.ok()) {
      return Invalid("json patch operation " + std::to_string(i) + " (" + ops[i].op + " \"" +
                     ops[i].path_text + "\") failed: " + s.message());
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// RFC 7386 JSON Merge Patch
// ---------------------------------------------------------------------------

json MergePatch(json target, const json& patch) {
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
      continue;
    }
    json& slot = target[key];
    slot = MergePatch(std::move(slot), value);
  }
  return target;
}

// ---------------------------------------------------------------------------
// Strategic merge patch: the schema
// ---------------------------------------------------------------------------

// How a list-valued field merges; Kubernetes' patchStrategy/patchMergeKey tags.
enum class ListMerge {
  kReplace,  // no tag (or atomic): the patch's list replaces the whole list
  kByKey,    // patchStrategy:"merge" patchMergeKey:<key>: objects matched by key
  kAsSet,    // patchStrategy:"merge" on primitives: a set union
};

struct Schema;

// One field whose strategic merge differs from the default, or that leads to
// such a field. Fields not listed merge by default: objects recursively,
// lists replaced. ("retainKeys" tags need no entry: like Kubernetes, the
// "$retainKeys" directive is honoured wherever it appears.)
struct Field {
  std::string_view name;
  ListMerge list = ListMerge::kReplace;
  std::string_view key;            // the merge key of a kByKey list
  const Schema* schema = nullptr;  // of the nested object, or of a list's elements
};

struct Schema {
  std::vector<Field> fields;

  const Field* Find(std::string_view name) const {
    for (const Field& f : fields) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
};

Field Nested(std::string_view name, const Schema& schema) {
  return Field{name, ListMerge::kReplace, {}, &schema};
}
Field ByKey(std::string_view name, std::string_view key, const Schema* element = nullptr) {
  return Field{name, ListMerge::kByKey, key, element};
}
Field AsSet(std::string_view name) { return Field{name, ListMerge::kAsSet, {}, nullptr}; }

const Schema& ObjectMeta() {
  static const Schema s{{AsSet("finalizers"), ByKey("ownerReferences", "uid")}};
  return s;
}

const Schema& Container() {
  static const Schema s{{ByKey("ports", "containerPort"), ByKey("env", "name"),
                         ByKey("volumeMounts", "mountPath"), ByKey("volumeDevices", "devicePath")}};
  return s;
}

const Schema& PodSpec() {
  static const Schema s{{
      ByKey("containers", "name", &Container()), ByKey("initContainers", "name", &Container()),
      ByKey("ephemeralContainers", "name", &Container()),
      ByKey("volumes", "name"),  // also retainKeys
      ByKey("imagePullSecrets", "name"), ByKey("hostAliases", "ip"),
      ByKey("topologySpreadConstraints", "topologyKey"), ByKey("schedulingGates", "name"),
      ByKey("resourceClaims", "name"),  // also retainKeys
      // tolerations, readinessGates, affinity's lists: replaced whole.
  }};
  return s;
}

const Schema& PodStatus() {
  static const Schema s{{ByKey("conditions", "type"), ByKey("podIPs", "ip"), ByKey("hostIPs", "ip"),
                         ByKey("resourceClaimStatuses", "name")}};
  return s;
}

const Schema& PodTemplateSpec() {
  static const Schema s{{Nested("metadata", ObjectMeta()), Nested("spec", PodSpec())}};
  return s;
}

// StatefulSet, Deployment, ReplicaSet: volumeClaimTemplates and the selector's
// lists are replaced whole; Deployment's strategy is retainKeys.
const Schema& WorkloadSpec() {
  static const Schema s{{Nested("template", PodTemplateSpec())}};
  return s;
}

// The status of most kinds: conditions merged by type.
const Schema& ConditionsStatus() {
  static const Schema s{{ByKey("conditions", "type")}};
  return s;
}

const Schema& ServiceSpec() {
  static const Schema s{{ByKey("ports", "port")}};
  return s;
}

const Schema& NodeSpec() {
  static const Schema s{{AsSet("podCIDRs")}};  // taints are replaced whole
  return s;
}

const Schema& NodeStatus() {
  static const Schema s{{ByKey("conditions", "type"), ByKey("addresses", "type")}};
  return s;
}

Schema TopLevel(const Schema* spec, const Schema* status, std::vector<Field> more = {}) {
  Schema s{{Nested("metadata", ObjectMeta())}};
  if (spec != nullptr) s.fields.push_back(Nested("spec", *spec));
  if (status != nullptr) s.fields.push_back(Nested("status", *status));
  for (Field& f : more) s.fields.push_back(f);
  return s;
}

struct KindSchema {
  std::string_view api_version;
  std::string_view kind;
  Schema schema;
};

const std::vector<KindSchema>& KindSchemas() {
  static const std::vector<KindSchema> kinds = {
      {"v1", "Pod", TopLevel(&PodSpec(), &PodStatus())},
      {"v1", "Service", TopLevel(&ServiceSpec(), &ConditionsStatus())},
      {"v1", "Endpoints", TopLevel(nullptr, nullptr)},  // subsets are replaced whole
      {"v1", "Namespace", TopLevel(nullptr, &ConditionsStatus())},
      {"v1", "Node", TopLevel(&NodeSpec(), &NodeStatus())},
      {"v1", "ConfigMap", TopLevel(nullptr, nullptr)},
      {"v1", "Secret", TopLevel(nullptr, nullptr)},
      {"v1", "Event", TopLevel(nullptr, nullptr)},
      {"v1", "PersistentVolume", TopLevel(nullptr, nullptr)},
      {"v1", "PersistentVolumeClaim", TopLevel(nullptr, &ConditionsStatus())},
      {"v1", "ServiceAccount", TopLevel(nullptr, nullptr, {ByKey("secrets", "name")})},
      {"apps/v1", "StatefulSet", TopLevel(&WorkloadSpec(), &ConditionsStatus())},
      {"apps/v1", "Deployment", TopLevel(&WorkloadSpec(), &ConditionsStatus())},
      {"apps/v1", "ReplicaSet", TopLevel(&WorkloadSpec(), &ConditionsStatus())},
      {"apps/v1", "ControllerRevision", TopLevel(nullptr, nullptr)},
      {"autoscaling/v1", "Scale", TopLevel(nullptr, nullptr)},
      {"storage.k8s.io/v1", "StorageClass", TopLevel(nullptr, nullptr)},
      {"coordination.k8s.io/v1", "Lease", TopLevel(nullptr, nullptr)},
  };
  return kinds;
}

const Schema* FindKindSchema(std::string_view api_version, std::string_view kind) {
  for (const KindSchema& k : KindSchemas()) {
    if (k.api_version == api_version && k.kind == kind) return &k.schema;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Strategic merge patch: applying
// ---------------------------------------------------------------------------

constexpr std::string_view kPatchKey = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetOrderPrefix = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrefix = "$deleteFromPrimitiveList/";

enum class MapDirective { kNone, kMerge, kReplace, kDelete };

StatusOr<MapDirective> ParsePatchDirective(const json& value, const std::string& path) {
  if (value == "merge") return MapDirective::kMerge;
  if (value == "replace") return MapDirective::kReplace;
  if (value == "delete") return MapDirective::kDelete;
  return BadRequest("unknown $patch directive " + value.dump() + " at " + path);
}

// A patch object taken apart: its directives and its ordinary fields.
struct ObjectPatch {
  MapDirective directive = MapDirective::kNone;
  const json* retain_keys = nullptr;
  std::map<std::string, const json*> set_order;    // field -> "$setElementOrder/field"
  std::map<std::string, const json*> delete_from;  // field -> "$deleteFromPrimitiveList/field"
  std::vector<std::pair<std::string, const json*>> fields;
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Checks a "$prefix/field" directive and files its list under the field.
Status FileListDirective(const std::string& key, std::string_view prefix, const json& value,
                         const std::string& path, std::map<std::string, const json*>& into) {
  std::string field = key.substr(prefix.size());
  if (field.empty() || !value.is_array()) {
    return BadRequest("directive \"" + key + "\" at " + path + " must name a field and be a list");
  }
  into[field] = &value;
  return Status::Ok();
}

StatusOr<ObjectPatch> SplitObjectPatch(const json& patch, const std::string& path) {
  ObjectPatch out;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    if (key.empty() || key[0] != '$') {
      out.fields.emplace_back(key, &it.value());
    } else if (key == kPatchKey) {
      ASSIGN_OR_RETURN(out.directive, ParsePatchDirective(it.value(), path));
    } else if (key == kRetainKeys) {
      const json& list = it.value();
      bool strings = list.is_array() && std::all_of(list.begin(), list.end(),
                                                    [](const json& v) { return v.is_string(); });
      if (!strings) return BadRequest("$retainKeys at " + path + " must be a list of field names");
      out.retain_keys = &list;
    } else if (StartsWith(key, kSetOrderPrefix)) {
      RETURN_IF_ERROR(FileListDirective(key, kSetOrderPrefix, it.value(), path, out.set_order));
    } else if (StartsWith(key, kDeleteFromPrefix)) {
      RETURN_IF_ERROR(FileListDirective(key, kDeleteFromPrefix, it.value(), path, out.delete_from));
    } else {
      return BadRequest("unknown strategic merge patch directive \"" + key + "\" at " + path);
    }
  }
  return out;
}

// "$retainKeys": the object keeps only the listed keys, and the patch may set
// no other (nulls aside), so a retainKeys patch can switch a volume's source.
Status ApplyRetainKeys(json& original, const ObjectPatch& patch, const std::string& path) {
  const json& keep = *patch.retain_keys;
  auto listed = [&](const std::string& key) {
    return std::find(keep.begin(), keep.end(), key) != keep.end();
  };
  for (const auto& [key, value] : patch.fields) {
    if (!value->is_null() && !listed(key)) {
      return BadRequest("field \"" + key + "\" at " + path + " is not in its $retainKeys list");
    }
  }
  for (auto it = original.begin(); it != original.end();) {
    it = listed(it.key()) ? std::next(it) : original.erase(it);
  }
  return Status::Ok();
}

std::string Child(const std::string& path, std::string_view field) {
  return path.empty() ? std::string(field) : path + "." + std::string(field);
}

StatusOr<json> MergeObject(json original, const json& patch, const Schema* schema,
                           const std::string& path);

// The identity of a list element: its merge key's value, or itself.
const json* Identity(const json& element, std::string_view key) {
  if (key.empty()) return &element;
  if (!element.is_object()) return nullptr;
  auto it = element.find(std::string(key));
  return it == element.end() ? nullptr : &*it;
}

// Position of the element with the same identity in `list`, or -1.
std::ptrdiff_t IndexOf(const std::vector<json>& list, const json& element, std::string_view key) {
  const json* id = Identity(element, key);
  if (id == nullptr) return -1;
  for (size_t i = 0; i < list.size(); ++i) {
    const json* other = Identity(list[i], key);
    if (other != nullptr && *other == *id) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// Orders a merged list as Kubernetes does: elements named by `patch_order`
// take that order; the others keep the order of `server_order` (the list
// before the patch) and are slotted in front of the first named element that
// follows them there. A named element absent from the server list goes before
// any unnamed one still waiting.
std::vector<json> NormalizeOrder(std::vector<json> merged, const std::vector<json>& patch_order,
                                 const std::vector<json>& server_order, std::string_view key) {
  std::vector<json> named;
  std::vector<json> server_only;
  for (json& e : merged) {
    (IndexOf(patch_order, e, key) >= 0 ? named : server_only).push_back(std::move(e));
  }
  auto rank = [&](const std::vector<json>& order) {
    return [&order, key](const json& a, const json& b) {
      auto position = [&](const json& e) {
        std::ptrdiff_t i = IndexOf(order, e, key);
        return i < 0 ? std::numeric_limits<std::ptrdiff_t>::max() : i;
      };
      return position(a) < position(b);
    };
  };
  std::stable_sort(named.begin(), named.end(), rank(patch_order));
  std::stable_sort(server_only.begin(), server_only.end(), rank(server_order));

  std::vector<json> out;
  size_t i = 0;
  size_t j = 0;
  while (i < server_only.size() || j < named.size()) {
    bool take_server = j == named.size();
    if (!take_server && i < server_only.size()) {
      std::ptrdiff_t si = IndexOf(server_order, server_only[i], key);
      std::ptrdiff_t ni = IndexOf(server_order, named[j], key);
      take_server = si >= 0 && ni >= 0 && si < ni;
    }
    out.push_back(std::move(take_server ? server_only[i++] : named[j++]));
  }
  return out;
}

// "$setElementOrder" must list every element the patch names, in the patch's
// order, else the client computed the two from different lists.
Status CheckSetOrder(const std::vector<json>& named, const std::vector<json>& order,
                     std::string_view key, const std::string& path) {
  for (const json& o : order) {
    if (Identity(o, key) == nullptr) {
      return BadRequest("$setElementOrder at " + path + " has an element without merge key \"" +
                        std::string(key) + "\"");
    }
  }
  size_t p = 0;
  for (size_t o = 0; o < order.size() && p < named.size(); ++o) {
    if (*Identity(named[p], key) == *Identity(order[o], key)) ++p;
  }
  if (p < named.size()) {
    return BadRequest("the order of the patch list at " + path +
                      " does not match its $setElementOrder list");
  }
  return Status::Ok();
}

std::vector<json> ToVector(const json& array) {
  return std::vector<json>(array.begin(), array.end());
}

// Merges a list of primitives as a set: the patch's values are added once.
StatusOr<json> MergePrimitiveList(const json& current, const json& patch, const json* order,
                                  const std::string& path) {
  std::vector<json> server = ToVector(current);
  std::vector<json> named = ToVector(patch);
  std::vector<json> merged;
  for (const std::vector<json>* source : {&server, &named}) {
    for (const json& v : *source) {
      if (IndexOf(merged, v, {}) < 0) merged.push_back(v);
    }
  }
  if (order != nullptr) {
    std::vector<json> wanted = ToVector(*order);
    RETURN_IF_ERROR(CheckSetOrder(named, wanted, {}, path));
    named = std::move(wanted);
  }
  return json(NormalizeOrder(std::move(merged), named, server, {}));
}

// Applies the "$patch" elements of a keyed list patch to `server` and returns
// the ordinary elements.
StatusOr<std::vector<json>> ApplyListDirectives(std::vector<json>& server, const json& patch,
                                                std::string_view key, const std::string& path) {
  std::vector<json> named;
  bool replace = false;
  for (const json& e : patch) {
    auto directive = e.find(kPatchKey);
    if (directive == e.end()) {
      if (Identity(e, key) == nullptr) {
        return BadRequest("an element of " + path + " has no merge key \"" + std::string(key) +
                          "\": " + e.dump());
      }
      named.push_back(e);
      continue;
    }
    ASSIGN_OR_RETURN(MapDirective d, ParsePatchDirective(*directive, path));
    if (d == MapDirective::kReplace) replace = true;
    if (d != MapDirective::kDelete) continue;
    const json* id = Identity(e, key);
    if (id == nullptr) {
      return BadRequest("a $patch:delete element of " + path + " has no merge key \"" +
                        std::string(key) + "\"");
    }
    std::erase_if(server, [&](const json& s) {
      const json* sid = Identity(s, key);
      return sid != nullptr && *sid == *id;
    });
  }
  if (replace) server.clear();
  return named;
}

// Merges a list of objects element by element, matched by the merge key.
StatusOr<json> MergeKeyedList(const json& current, const json& patch, const Field& field,
                              const json* order, const std::string& path) {
  std::vector<json> server = ToVector(current);
  ASSIGN_OR_RETURN(std::vector<json> named, ApplyListDirectives(server, patch, field.key, path));
  std::vector<json> merged = server;
  for (const json& e : named) {
    std::ptrdiff_t at = IndexOf(merged, e, field.key);
    json base = at >= 0 ? std::move(merged[static_cast<size_t>(at)]) : json::object();
    ASSIGN_OR_RETURN(json element, MergeObject(std::move(base), e, field.schema, path + "[]"));
    if (at >= 0) {
      merged[static_cast<size_t>(at)] = std::move(element);
    } else {
      merged.push_back(std::move(element));
    }
  }
  if (order != nullptr) {
    std::vector<json> wanted = ToVector(*order);
    RETURN_IF_ERROR(CheckSetOrder(named, wanted, field.key, path));
    named = std::move(wanted);
  }
  return json(NormalizeOrder(std::move(merged), named, server, field.key));
}

enum class ElementKind { kNone, kObjects, kPrimitives, kMixed };

ElementKind KindOfElements(const json& a, const json& b) {
  ElementKind kind = ElementKind::kNone;
  for (const json* list : {&a, &b}) {
    for (const json& e : *list) {
      if (e.is_array()) return ElementKind::kMixed;
      ElementKind k = e.is_object() ? ElementKind::kObjects : ElementKind::kPrimitives;
      if (kind != ElementKind::kNone && kind != k) return ElementKind::kMixed;
      kind = k;
    }
  }
  return kind;
}

StatusOr<json> MergeList(const json& current, const json& patch, const Field& field,
                         const json* order, const std::string& path) {
  switch (KindOfElements(current, patch)) {
    case ElementKind::kNone:
      return json::array();
    case ElementKind::kPrimitives:
      return MergePrimitiveList(current, patch, order, path);
    case ElementKind::kObjects:
      if (field.list == ListMerge::kByKey)
        return MergeKeyedList(current, patch, field, order, path);
      return BadRequest("the list at " + path + " has objects but no merge key");
    case ElementKind::kMixed:
      break;
  }
  return BadRequest("the elements of the list at " + path + " are not all of one kind");
}

// A list that replaces the document's: its elements are kept as sent, minus
// directives (a "$patch" marker or deleted element is dropped).
StatusOr<json> ReplacementList(const json& patch, const Schema* element_schema,
                               const std::string& path) {
  json out = json::array();
  for (const json& e : patch) {
    if (e.is_array()) {
      ASSIGN_OR_RETURN(json inner, ReplacementList(e, nullptr, path + "[]"));
      out.push_back(std::move(inner));
      continue;
    }
    if (!e.is_object()) {
      out.push_back(e);
      continue;
    }
    auto directive = e.find(kPatchKey);
    if (directive != e.end()) {
      ASSIGN_OR_RETURN(MapDirective d, ParsePatchDirective(*directive, path));
      if (d == MapDirective::kDelete || e.size() == 1) continue;
    }
    ASSIGN_OR_RETURN(json element, MergeObject(json::object(), e, element_schema, path + "[]"));
    out.push_back(std::move(element));
  }
  return out;
}

// Merges one field's patch value into its current value (nullptr: absent).
// Merging into nothing is still a merge, so that no directive survives.
StatusOr<json> MergeValue(const json* current, const json& patch, const Field* field,
                          const json* order, const std::string& path) {
  const Schema* schema = field != nullptr ? field->schema : nullptr;
  if (patch.is_object()) {
    json base = current != nullptr && current->is_object() ? *current : json::object();
    return MergeObject(std::move(base), patch, schema, path);
  }
  if (!patch.is_array()) return patch;
  if (field == nullptr || field->list == ListMerge::kReplace) {
    return ReplacementList(patch, schema, path);
  }
  static const json kEmpty = json::array();
  const json& base = current != nullptr && current->is_array() ? *current : kEmpty;
  return MergeList(base, patch, *field, order, path);
}

const json* Lookup(const std::map<std::string, const json*>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : it->second;
}

void DeleteFromPrimitiveList(json& original, const std::string& field, const json& values) {
  auto it = original.find(field);
  if (it == original.end() || !it->is_array()) return;
  json kept = json::array();
  for (json& v : *it) {
    if (std::find(values.begin(), values.end(), v) == values.end()) kept.push_back(std::move(v));
  }
  *it = std::move(kept);
}

StatusOr<json> MergeObject(json original, const json& patch, const Schema* schema,
                           const std::string& path) {
  ASSIGN_OR_RETURN(ObjectPatch p, SplitObjectPatch(patch, path));
  if (p.directive == MapDirective::kDelete) return json::object();
  if (p.directive == MapDirective::kReplace) original = json::object();
  if (p.retain_keys != nullptr) RETURN_IF_ERROR(ApplyRetainKeys(original, p, path));

  for (const auto& [name, value] : p.fields) {
    if (value->is_null()) {
      original.erase(name);
      continue;
    }
    const Field* field = schema != nullptr ? schema->Find(name) : nullptr;
    auto it = original.find(name);
    const json* current = it == original.end() ? nullptr : &*it;
    ASSIGN_OR_RETURN(json merged, MergeValue(current, *value, field, Lookup(p.set_order, name),
                                             Child(path, name)));
    original[name] = std::move(merged);
  }
  // An order for a list the patch leaves alone still reorders it.
  for (const auto& [name, order] : p.set_order) {
    const Field* field = schema != nullptr ? schema->Find(name) : nullptr;
    auto it = original.find(name);
    if (patch.contains(name) || field == nullptr || field->list == ListMerge::kReplace ||
        it == original.end() || !it->is_array()) {
      continue;
    }
    ASSIGN_OR_RETURN(json reordered,
                     MergeList(*it, json::array(), *field, order, Child(path, name)));
    original[name] = std::move(reordered);
  }
  for (const auto& [name, values] : p.delete_from) DeleteFromPrimitiveList(original, name, *values);
  return original;
}

// nlohmann reports misuse by throwing; nothing here should, but no exception
// may leave the library.
template <typename F>
StatusOr<json> Guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Internal(std::string(what) + ": " + e.what());
  }
}

}  // namespace

StatusOr<json> ApplyJsonPatch(const json& doc, const json& patch) {
  return Guarded("json patch", [&] { return JsonPatch(doc, patch); });
}

StatusOr<json> ApplyMergePatch(const json& doc, const json& patch) {
  return Guarded("merge patch", [&]() -> StatusOr<json> { return MergePatch(doc, patch); });
}

StatusOr<json> ApplyStrategicMergePatch(const json& doc, const json& patch,
                                        std::string_view api_version, std::string_view kind) {
  const Schema* schema = FindKindSchema(api_version, kind);
  if (schema == nullptr) {
    return UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  }
  if (!patch.is_object()) return BadRequest("a strategic merge patch must be a JSON object");
  if (!doc.is_object()) return BadRequest("the patched document is not a JSON object");
  return Guarded("strategic merge patch", [&] { return MergeObject(doc, patch, schema, ""); });
}

}  // namespace kennel::api
