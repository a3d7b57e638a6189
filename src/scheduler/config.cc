#include "scheduler/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/names.h"
#include "base/base64.h"
#include "base/file.h"
#include "base/time.h"

namespace kennel::scheduler {
namespace {

using nlohmann::json;

constexpr std::string_view kGroup = "kubescheduler.config.k8s.io/";
constexpr std::string_view kKind = "KubeSchedulerConfiguration";
// The versions whose profiles, plugins and extenders read alike.
const std::set<std::string, std::less<>> kVersions = {"v1", "v1beta3", "v1beta2"};
const char* const kExtensionPoints[] = {
    "multiPoint", "preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore",
    "score",      "reserve",    "permit",    "preBind",   "bind",   "postBind"};

// ---------------------------------------------------------------------------
// YAML to JSON, resolving plain scalars as YAML 1.1 does (go-yaml v2, which
// kube-scheduler reads its file with): "yes"/"on" are booleans, "~" is null.

bool IsOneOf(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (s == w) return true;
  }
  return false;
}

std::optional<json> IntegerScalar(const std::string& s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  int base = 10;
  std::string digits = s;
  if (s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16;
    digits = s.substr(0, i) + s.substr(i + 2);
  }
  if (digits.size() <= i) return std::nullopt;
  for (size_t k = i; k < digits.size(); ++k) {
    if (base == 10 ? !std::isdigit(static_cast<unsigned char>(digits[k]))
                   : !std::isxdigit(static_cast<unsigned char>(digits[k]))) {
      return std::nullopt;
    }
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, base);
  if (errno == ERANGE) return std::nullopt;  // read as a float instead
  return json(static_cast<int64_t>(v));
}

std::optional<json> FloatScalar(const std::string& s) {
  if (IsOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return json(std::numeric_limits<double>::infinity());
  }
  if (IsOneOf(s, {"-.inf", "-.Inf", "-.INF"})) {
    return json(-std::numeric_limits<double>::infinity());
  }
  if (IsOneOf(s, {".nan", ".NaN", ".NAN"})) return json(std::nan(""));
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return json(std::strtod(s.c_str(), nullptr));
}

json ResolvePlainScalar(const std::string& s) {
  if (IsOneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (IsOneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) {
    return true;
  }
  if (IsOneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) {
    return false;
  }
  if (auto i = IntegerScalar(s)) return *i;
  if (auto f = FloatScalar(s)) return *f;
  return s;
}

// Throws YAML::Exception (caught by the caller) for keys that are not scalars.
json YamlNodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      // "?" marks a plain scalar; "!" a quoted one, always a string.
      if (tag == "?") return ResolvePlainScalar(node.Scalar());
      if (tag == "tag:yaml.org,2002:null") return nullptr;
      return node.Scalar();
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(YamlNodeToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          throw YAML::ParserException(kv.first.Mark(), "mapping keys must be scalars");
        }
        out[kv.first.Scalar()] = YamlNodeToJson(kv.second);
      }
      return out;
    }
  }
  return nullptr;
}

StatusOr<json> TextToJson(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return json::object();
  if (text[first] == '{') {
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      return BadRequest(std::string("scheduler config is not valid JSON: ") + e.what());
    }
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return YamlNodeToJson(root);
  } catch (const YAML::Exception& e) {
    // e.msg without the mark; lines and columns counted from 1 as editors do.
    return BadRequest("scheduler config is not valid YAML: line " +
                      std::to_string(e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

// ---------------------------------------------------------------------------
// Typed reads that record "path: problem" and carry on, so one run reports
// every mistake in the file.

class Reader {
 public:
  void Error(const std::string& field, const std::string& message) {
    causes_.push_back({"FieldValueInvalid", message, field});
  }
  bool ok() const { return causes_.empty(); }
  Status ToStatus() const {
    std::string message;
    for (const auto& c : causes_) {
      if (!message.empty()) message += "; ";
      message += c.field.empty() ? c.message : c.field + ": " + c.message;
    }
    return Invalid(message, causes_);
  }

  // obj[key] unless absent or null (null reads as absent, as in Go).
  static const json* Get(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<std::string> String(const json& obj, const char* key, const std::string& path) {
    const json* v = Get(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Error(Join(path, key), "must be a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  // A string field that must be present and non-empty.
  std::optional<std::string> RequiredString(const json& obj, const char* key,
                                            const std::string& path) {
    if (Get(obj, key) == nullptr) {
      Error(Join(path, key), "Required value");
      return std::nullopt;
    }
    auto v = String(obj, key, path);
    if (v && v->empty()) {
      Error(Join(path, key), "Required value");
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> Bool(const json& obj, const char* key, const std::string& path) {
    const json* v = Get(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Error(Join(path, key), "must be a boolean");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<int64_t> Int(const json& obj, const char* key, const std::string& path) {
    const json* v = Get(obj, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_integer()) return v->get<int64_t>();
    Error(Join(path, key), "must be an integer");
    return std::nullopt;
  }

  // obj[key] when it is an object (or absent: nullptr).
  const json* Object(const json& obj, const char* key, const std::string& path) {
    return Typed(obj, key, path, &json::is_object, "must be an object");
  }
  const json* Array(const json& obj, const char* key, const std::string& path) {
    return Typed(obj, key, path, &json::is_array, "must be a list");
  }

  static std::string Join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
  }
  static std::string Index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

 private:
  const json* Typed(const json& obj, const char* key, const std::string& path,
                    bool (json::*check)() const noexcept, const char* message) {
    const json* v = Get(obj, key);
    if (v == nullptr) return nullptr;
    if (!(v->*check)()) {
      Error(Join(path, key), message);
      return nullptr;
    }
    return v;
  }

  std::vector<StatusCause> causes_;
};

void ReadPercentage(Reader& r, const json& obj, const std::string& path, int* out) {
  auto v = r.Int(obj, "percentageOfNodesToScore", path);
  if (!v) return;
  if (*v < 0 || *v > 100) {
    r.Error(Reader::Join(path, "percentageOfNodesToScore"), "not in valid range [0-100]");
    return;
  }
  *out = static_cast<int>(*v);
}

// A score weight: none or 0 is 1, as kube-scheduler's framework has it.
int64_t ReadWeight(Reader& r, const json& plugin, const std::string& path) {
  auto w = r.Int(plugin, "weight", path);
  if (!w || *w == 0) return 1;
  if (*w < 0) {
    r.Error(Reader::Join(path, "weight"), "must be a positive integer");
    return 1;
  }
  if (*w > std::numeric_limits<int32_t>::max()) {
    r.Error(Reader::Join(path, "weight"), "must fit in 32 bits");
    return 1;
  }
  return *w;
}

void ReadPlugins(Reader& r, const json& plugins, const std::string& path, SchedulerConfig* cfg) {
  std::map<std::string, int64_t> multi_point_weights;
  for (const char* point : kExtensionPoints) {
    const json* set = r.Object(plugins, point, path);
    if (set == nullptr) continue;
    std::string point_path = Reader::Join(path, point);
    PluginSet& out = cfg->plugins[point];
    const bool weighted =
        std::string_view(point) == "score" || std::string_view(point) == "multiPoint";
    if (const json* enabled = r.Array(*set, "enabled", point_path)) {
      for (size_t i = 0; i < enabled->size(); ++i) {
        std::string item_path = Reader::Index(Reader::Join(point_path, "enabled"), i);
        const json& item = (*enabled)[i];
        if (!item.is_object()) {
          r.Error(item_path, "must be an object");
          continue;
        }
        auto name = r.RequiredString(item, "name", item_path);
        if (!name) continue;
        out.enabled.push_back(*name);
        if (!weighted) continue;
        int64_t weight = ReadWeight(r, item, item_path);
        if (std::string_view(point) == "score") {
          cfg->score_weights[*name] = weight;
        } else {
          multi_point_weights[*name] = weight;
        }
      }
    }
    if (const json* disabled = r.Array(*set, "disabled", point_path)) {
      for (size_t i = 0; i < disabled->size(); ++i) {
        std::string item_path = Reader::Index(Reader::Join(point_path, "disabled"), i);
        const json& item = (*disabled)[i];
        if (!item.is_object()) {
          r.Error(item_path, "must be an object");
          continue;
        }
        auto name = r.RequiredString(item, "name", item_path);
        if (!name) continue;
        out.disabled.insert(*name);
        cfg->disabled_plugins.insert(*name);
      }
    }
  }
  // score.enabled is the more specific of the two.
  for (const auto& [name, weight] : multi_point_weights) cfg->score_weights.emplace(name, weight);
}

void ReadProfile(Reader& r, const json& profile, const std::string& path, SchedulerConfig* cfg) {
  if (auto name = r.String(profile, "schedulerName", path)) {
    if (name->empty()) {
      r.Error(Reader::Join(path, "schedulerName"), "Required value");
    } else {
      cfg->scheduler_name = *name;
    }
  }
  ReadPercentage(r, profile, path, &cfg->percentage_of_nodes_to_score);
  if (const json* plugins = r.Object(profile, "plugins", path)) {
    ReadPlugins(r, *plugins, Reader::Join(path, "plugins"), cfg);
  }
  // pluginConfig: plugin arguments Kennel's plugins do not take; accepted as is.
}

// Kubernetes' IsExtendedResourceName: a qualified name outside the
// kubernetes.io domain, with a domain, that "requests." can prefix.
void CheckExtendedResourceName(Reader& r, const std::string& name, const std::string& field) {
  auto problems = api::ValidateQualifiedName(name);
  if (!problems.empty()) {
    for (const auto& p : problems) r.Error(field, p);
    return;
  }
  bool native =
      name.find('/') == std::string::npos || name.find("kubernetes.io/") != std::string::npos;
  if (native || name.rfind("requests.", 0) == 0 ||
      !api::ValidateQualifiedName("requests." + name).empty()) {
    r.Error(field, "is an invalid extended resource name");
  }
}

void ReadBase64(Reader& r, const json& obj, const char* key, const std::string& path,
                std::string* out) {
  auto text = r.String(obj, key, path);
  if (!text) return;
  auto decoded = Base64Decode(*text);
  if (!decoded.ok()) {
    r.Error(Reader::Join(path, key), "must be base64-encoded PEM data");
    return;
  }
  *out = std::move(decoded).value();
}

ExtenderConfig ReadExtender(Reader& r, const json& ext, const std::string& path,
                            std::set<std::string>* managed_seen) {
  ExtenderConfig e;
  auto url = r.RequiredString(ext, "urlPrefix", path);
  if (url && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    r.Error(Reader::Join(path, "urlPrefix"), "must start with http:// or https://");
  } else if (url) {
    e.url_prefix = *url;
  }
  if (auto v = r.String(ext, "filterVerb", path)) e.filter_verb = *v;
  if (auto v = r.String(ext, "prioritizeVerb", path)) e.prioritize_verb = *v;
  if (auto v = r.String(ext, "bindVerb", path)) e.bind_verb = *v;
  r.String(ext, "preemptVerb", path);  // type-checked; preemption is not supported
  if (auto v = r.Int(ext, "weight", path)) e.weight = *v;
  if (!e.prioritize_verb.empty() && e.weight <= 0) {
    r.Error(Reader::Join(path, "weight"), "must have a positive weight applied to it");
  }
  if (auto v = r.Bool(ext, "nodeCacheCapable", path)) e.node_cache_capable = *v;
  if (auto v = r.Bool(ext, "ignorable", path)) e.ignorable = *v;
  if (auto v = r.Bool(ext, "enableHTTPS", path)) e.enable_https = *v;
  if (const json* tls = r.Object(ext, "tlsConfig", path)) {
    std::string tls_path = Reader::Join(path, "tlsConfig");
    if (auto v = r.Bool(*tls, "insecure", tls_path)) e.insecure = *v;
    if (auto v = r.String(*tls, "serverName", tls_path)) e.server_name = *v;
    if (auto v = r.String(*tls, "caFile", tls_path)) e.ca_file = *v;
    if (auto v = r.String(*tls, "certFile", tls_path)) e.cert_file = *v;
    if (auto v = r.String(*tls, "keyFile", tls_path)) e.key_file = *v;
    ReadBase64(r, *tls, "caData", tls_path, &e.ca_data);
    ReadBase64(r, *tls, "certData", tls_path, &e.cert_data);
    ReadBase64(r, *tls, "keyData", tls_path, &e.key_data);
  }
  if (auto v = r.String(ext, "httpTimeout", path)) {
    auto d = ParseGoDuration(*v);
    if (!d.ok()) {
      r.Error(Reader::Join(path, "httpTimeout"), d.status().message());
    } else if (d->count() < 0) {
      r.Error(Reader::Join(path, "httpTimeout"), "must not be negative");
    } else if (d->count() > 0) {
      // Rounded up: a sub-millisecond timeout must not become "none".
      e.http_timeout = std::chrono::ceil<std::chrono::milliseconds>(*d);
    }
  }
  if (const json* resources = r.Array(ext, "managedResources", path)) {
    for (size_t i = 0; i < resources->size(); ++i) {
      std::string item_path = Reader::Index(Reader::Join(path, "managedResources"), i);
      const json& item = (*resources)[i];
      if (!item.is_object()) {
        r.Error(item_path, "must be an object");
        continue;
      }
      auto name = r.RequiredString(item, "name", item_path);
      if (!name) continue;
      std::string name_path = Reader::Join(item_path, "name");
      CheckExtendedResourceName(r, *name, name_path);
      if (!managed_seen->insert(*name).second) {
        r.Error(name_path, "duplicate extender managed resource name");
      }
      e.managed_resources.push_back(*name);
      if (r.Bool(item, "ignoredByScheduler", item_path).value_or(false)) {
        e.ignored_resources.insert(*name);
      }
    }
  }
  return e;
}

}  // namespace

bool SchedulerConfig::PluginEnabled(std::string_view point, std::string_view plugin) const {
  auto enabled_at = [&](std::string_view where) {
    auto it = plugins.find(std::string(where));
    if (it == plugins.end()) return false;
    for (const auto& name : it->second.enabled) {
      if (name == plugin) return true;
    }
    return false;
  };
  auto disabled_at = [&](std::string_view where) {
    auto it = plugins.find(std::string(where));
    if (it == plugins.end()) return false;
    return it->second.disabled.count(std::string(plugin)) > 0 || it->second.disabled.count("*") > 0;
  };
  if (enabled_at(point)) return true;
  if (disabled_at(point)) return false;
  if (enabled_at("multiPoint")) return true;
  return !disabled_at("multiPoint");
}

int64_t SchedulerConfig::ScoreWeight(std::string_view plugin, int64_t default_weight) const {
  auto it = score_weights.find(std::string(plugin));
  return it == score_weights.end() ? default_weight : it->second;
}

StatusOr<SchedulerConfig> ParseSchedulerConfig(std::string_view text) {
  ASSIGN_OR_RETURN(json root, TextToJson(text));
  SchedulerConfig cfg;
  if (root.is_null()) return cfg;
  if (!root.is_object())
    return Invalid("scheduler config must be a KubeSchedulerConfiguration object");
  Reader r;
  if (auto api_version = r.String(root, "apiVersion", "")) {
    std::string_view v = *api_version;
    if (v.substr(0, kGroup.size()) != kGroup || !kVersions.count(v.substr(kGroup.size()))) {
      r.Error("apiVersion", "must be kubescheduler.config.k8s.io/v1 (or v1beta3, v1beta2), got \"" +
                                *api_version + "\"");
    }
  }
  if (auto kind = r.String(root, "kind", "")) {
    if (*kind != kKind)
      r.Error("kind", "must be KubeSchedulerConfiguration, got \"" + *kind + "\"");
  }
  ReadPercentage(r, root, "", &cfg.percentage_of_nodes_to_score);
  if (const json* profiles = r.Array(root, "profiles", "")) {
    if (profiles->size() > 1) {
      r.Error("profiles",
              "Kennel runs one scheduler profile, got " + std::to_string(profiles->size()));
    } else if (profiles->size() == 1) {
      if (!(*profiles)[0].is_object()) {
        r.Error("profiles[0]", "must be an object");
      } else {
        ReadProfile(r, (*profiles)[0], "profiles[0]", &cfg);
      }
    }
  }
  if (const json* extenders = r.Array(root, "extenders", "")) {
    std::set<std::string> managed_seen;
    int binders = 0;
    for (size_t i = 0; i < extenders->size(); ++i) {
      std::string path = Reader::Index("extenders", i);
      if (!(*extenders)[i].is_object()) {
        r.Error(path, "must be an object");
        continue;
      }
      cfg.extenders.push_back(ReadExtender(r, (*extenders)[i], path, &managed_seen));
      if (!cfg.extenders.back().bind_verb.empty()) ++binders;
    }
    if (binders > 1) {
      r.Error("extenders",
              "only one extender can implement bind, found " + std::to_string(binders));
    }
  }
  if (!r.ok()) return r.ToStatus();
  return cfg;
}

StatusOr<SchedulerConfig> LoadSchedulerConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return Status(text.status().code(),
                  "cannot read scheduler config " + path + ": " + text.status().message());
  }
  auto cfg = ParseSchedulerConfig(*text);
  if (!cfg.ok()) {
    return Status(cfg.status().code(), path + ": " + cfg.status().message(), cfg.status().causes());
  }
  return cfg;
}

}  // namespace kennel::scheduler
