#include "api/printers.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kennel::api {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// ---------------------------------------------------------------------------
// Non-throwing access to stored objects. Objects come from clients, so every
// field may be missing or of the wrong type; these helpers turn both into the
// "unset" value instead of letting nlohmann throw.

const json* Find(const json& j, std::initializer_list<std::string_view> path) {
  const json* cur = &j;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string Str(const json& j, std::initializer_list<std::string_view> path,
                std::string fallback = "") {
  const json* v = Find(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

int64_t Int(const json& j, std::initializer_list<std::string_view> path, int64_t fallback = 0) {
  const json* v = Find(j, path);
  if (v == nullptr || !v->is_number()) return fallback;
  return v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>();
}

bool Bool(const json& j, std::initializer_list<std::string_view> path, bool fallback = false) {
  const json* v = Find(j, path);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

bool Has(const json& j, std::initializer_list<std::string_view> path) {
  return Find(j, path) != nullptr;
}

// The array at `path`, or an empty array, so callers can always range-for.
const json& Arr(const json& j, std::initializer_list<std::string_view> path) {
  static const json kEmpty = json::array();
  const json* v = Find(j, path);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

// Entries of the object (map) or array at `path`.
int64_t Count(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  if (v == nullptr || !(v->is_object() || v->is_array())) return 0;
  return static_cast<int64_t>(v->size());
}

// A resource.Quantity as its canonical string; stored quantities are strings
// but clients may write bare numbers (storage: 1).
std::string Quantity(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  if (v == nullptr) return "0";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  return "0";
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string OrDefault(std::string s, std::string_view fallback) {
  return s.empty() ? std::string(fallback) : s;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------
// Time.

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 as Kubernetes writes metav1.Time and MicroTime:
// "2006-01-02T15:04:05Z", optionally with ".999999" and a "+07:00" offset.
std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !ParseDigits(s, 0, 4, &y) || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !ParseDigits(s, 11, 2, &h) || s[13] != ':' || !ParseDigits(s, 14, 2, &mi) || s[16] != ':' ||
      !ParseDigits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    int64_t scale = 100000000;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      frac += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
    }
  }
  std::chrono::seconds offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto tp = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
            std::chrono::seconds(sec) - offset;
  return std::chrono::time_point_cast<Clock::duration>(tp + frac);
}

std::optional<TimePoint> TimeAt(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return ParseRfc3339(v->get_ref<const std::string&>());
}

// translateTimestampSince: "<unknown>" for an unset time.
std::string Since(const std::optional<TimePoint>& t, TimePoint now) {
  return t ? HumanDuration(now - *t) : "<unknown>";
}

std::string Age(const json& obj, TimePoint now) {
  return Since(TimeAt(obj, {"metadata", "creationTimestamp"}), now);
}

std::string Name(const json& obj) { return Str(obj, {"metadata", "name"}); }

// ---------------------------------------------------------------------------
// Shared cell formats.

// labels.FormatLabels: sorted "k=v,k2=v2", "<none>" when empty.
std::string FormatLabels(const json& j, std::initializer_list<std::string_view> path) {
  const json* m = Find(j, path);
  std::vector<std::string> parts;
  if (m != nullptr && m->is_object()) {
    for (const auto& [k, v] : m->items()) {  // nlohmann objects iterate sorted by key
      parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : std::string()));
    }
  }
  return parts.empty() ? "<none>" : Join(parts, ",");
}

// The string form of a metav1.LabelSelector (labels.Selector.String()): its
// requirements sorted by key, "" for an empty or absent selector. nullopt when
// the selector is malformed (upstream's conversion error).
std::optional<std::string> SelectorString(const json* sel) {
  if (sel == nullptr || !sel->is_object()) return "";
  std::vector<std::pair<std::string, std::string>> reqs;  // (key, rendered)
  if (const json* ml = Find(*sel, {"matchLabels"}); ml != nullptr && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) {
      reqs.emplace_back(k, k + "=" + (v.is_string() ? v.get<std::string>() : std::string()));
    }
  }
  for (const json& e : Arr(*sel, {"matchExpressions"})) {
    std::string key = Str(e, {"key"});
    std::string op = Str(e, {"operator"});
    std::vector<std::string> values;
    for (const json& v : Arr(e, {"values"})) {
      if (v.is_string()) values.push_back(v.get<std::string>());
    }
    std::sort(values.begin(), values.end());
    // labels.NewRequirement: set operators need values, existence operators none.
    const bool set_op = op == "In" || op == "NotIn";
    if (key.empty() || set_op == values.empty()) return std::nullopt;
    if (op == "In") {
      reqs.emplace_back(key, key + " in (" + Join(values, ",") + ")");
    } else if (op == "NotIn") {
      reqs.emplace_back(key, key + " notin (" + Join(values, ",") + ")");
    } else if (op == "Exists") {
      reqs.emplace_back(key, key);
    } else if (op == "DoesNotExist") {
      reqs.emplace_back(key, "!" + key);
    } else {
      return std::nullopt;
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> parts;
  for (auto& r : reqs) parts.push_back(std::move(r.second));
  return Join(parts, ",");
}

// metav1.FormatLabelSelector: "<none>" for empty, "<error>" for malformed.
std::string FormatLabelSelector(const json& obj, std::initializer_list<std::string_view> path) {
  std::optional<std::string> s = SelectorString(Find(obj, path));
  if (!s) return "<error>";
  return s->empty() ? "<none>" : *s;
}

// layoutContainerCells: comma-joined container names and images.
std::pair<std::string, std::string> ContainerCells(const json& pod_spec) {
  std::vector<std::string> names, images;
  for (const json& c : Arr(pod_spec, {"containers"})) {
    names.push_back(Str(c, {"name"}));
    images.push_back(Str(c, {"image"}));
  }
  return {Join(names, ","), Join(images, ",")};
}

int64_t Replicas(const json& obj) { return Int(obj, {"spec", "replicas"}, 1); }

// helper.GetAccessModesAsString: fixed order, duplicates dropped.
std::string AccessModes(const json& modes) {
  std::set<std::string> have;
  if (modes.is_array()) {
    for (const json& m : modes) {
      if (m.is_string()) have.insert(m.get<std::string>());
    }
  }
  std::vector<std::string> out;
  static const std::pair<const char*, const char*> kModes[] = {{"ReadWriteOnce", "RWO"},
                                                               {"ReadOnlyMany", "ROX"},
                                                               {"ReadWriteMany", "RWX"},
                                                               {"ReadWriteOncePod", "RWOP"}};
  for (const auto& [mode, abbrev] : kModes) {
    if (have.count(mode) > 0) out.push_back(abbrev);
  }
  return Join(out, ",");
}

// ---------------------------------------------------------------------------
// Column definitions.

struct ColumnSpec {
  const char* name;
  const char* type;
  int priority;
  const char* description;
};

constexpr char kNameDoc[] =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr char kAgeDoc[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
constexpr char kContainersDoc[] = "Names of each container in the template.";
constexpr char kImagesDoc[] = "Images referenced by each container in the template.";
constexpr char kSelectorDoc[] =
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
    "ones affected by this deployment.";

const ColumnSpec kNameCol = {"Name", "string", 0, kNameDoc};
const ColumnSpec kAgeCol = {"Age", "string", 0, kAgeDoc};

json ToJson(const std::vector<ColumnSpec>& cols) {
  json out = json::array();
  for (const ColumnSpec& c : cols) {
    const bool is_name = std::string_view(c.name) == "Name";
    out.push_back({{"name", c.name},
                   {"type", c.type},
                   {"format", is_name ? "name" : ""},
                   {"description", c.description},
                   {"priority", c.priority}});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Pods.

struct PodSummary {
  std::string reason;
  int64_t ready = 0;
  int64_t total = 0;
  int64_t restarts = 0;
  std::optional<TimePoint> last_restart;
};

void NoteRestart(const json& status, std::optional<TimePoint>* latest) {
  std::optional<TimePoint> t = TimeAt(status, {"lastState", "terminated", "finishedAt"});
  if (t && (!*latest || **latest < *t)) *latest = t;
}

bool HasCondition(const json& obj, std::string_view type, std::string_view status) {
  for (const json& c : Arr(obj, {"status", "conditions"})) {
    if (Str(c, {"type"}) == type && Str(c, {"status"}) == status) return true;
  }
  return false;
}

// "Reason" of a terminated container without one: Signal:N or ExitCode:N.
std::string TerminatedReason(const json& terminated, std::string_view prefix) {
  const int64_t signal = Int(terminated, {"signal"});
  if (signal != 0) return std::string(prefix) + "Signal:" + std::to_string(signal);
  return std::string(prefix) + "ExitCode:" + std::to_string(Int(terminated, {"exitCode"}));
}

// Walks init container statuses the way printPod does; returns true while the
// pod is still initializing and sets the Init:… reason.
bool ScanInitContainers(const json& pod, const std::set<std::string>& restartable, PodSummary* s,
                        int64_t* sidecar_restarts, std::optional<TimePoint>* sidecar_last) {
  const json& statuses = Arr(pod, {"status", "initContainerStatuses"});
  const int64_t declared = Count(pod, {"spec", "initContainers"});
  for (size_t i = 0; i < statuses.size(); ++i) {
    const json& c = statuses[i];
    const bool is_sidecar = restartable.count(Str(c, {"name"})) > 0;
    s->restarts += Int(c, {"restartCount"});
    NoteRestart(c, &s->last_restart);
    if (is_sidecar) {
      *sidecar_restarts += Int(c, {"restartCount"});
      NoteRestart(c, sidecar_last);
    }
    const json* terminated = Find(c, {"state", "terminated"});
    const json* waiting = Find(c, {"state", "waiting"});
    if (terminated != nullptr && Int(*terminated, {"exitCode"}) == 0) continue;
    if (is_sidecar && Bool(c, {"started"})) {
      if (Bool(c, {"ready"})) ++s->ready;
      continue;
    }
    if (terminated != nullptr) {
      const std::string reason = Str(*terminated, {"reason"});
      s->reason = reason.empty() ? TerminatedReason(*terminated, "Init:") : "Init:" + reason;
    } else if (waiting != nullptr && !Str(*waiting, {"reason"}).empty() &&
               Str(*waiting, {"reason"}) != "PodInitializing") {
      s->reason = "Init:" + Str(*waiting, {"reason"});
    } else {
      s->reason = "Init:" + std::to_string(i) + "/" + std::to_string(declared);
    }
    return true;
  }
  return false;
}

// Regular containers, scanned last to first so the first container's state wins.
void ScanContainers(const json& pod, PodSummary* s) {
  const json& statuses = Arr(pod, {"status", "containerStatuses"});
  bool has_running = false;
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const json& c = *it;
    s->restarts += Int(c, {"restartCount"});
    NoteRestart(c, &s->last_restart);
    const json* waiting = Find(c, {"state", "waiting"});
    const json* terminated = Find(c, {"state", "terminated"});
    if (waiting != nullptr && !Str(*waiting, {"reason"}).empty()) {
      s->reason = Str(*waiting, {"reason"});
    } else if (terminated != nullptr && !Str(*terminated, {"reason"}).empty()) {
      s->reason = Str(*terminated, {"reason"});
    } else if (terminated != nullptr) {
      s->reason = TerminatedReason(*terminated, "");
    } else if (Bool(c, {"ready"}) && Has(c, {"state", "running"})) {
      has_running = true;
      ++s->ready;
    }
  }
  // A completed container next to a running one: the pod is still running.
  if (s->reason == "Completed" && has_running) {
    s->reason = HasCondition(pod, "Ready", "True") ? "Running" : "NotReady";
  }
}

PodSummary SummarizePod(const json& pod) {
  PodSummary s;
  const std::string phase = Str(pod, {"status", "phase"});
  s.reason = OrDefault(Str(pod, {"status", "reason"}), phase);
  for (const json& c : Arr(pod, {"status", "conditions"})) {
    if (Str(c, {"type"}) == "PodScheduled" && Str(c, {"reason"}) == "SchedulingGated") {
      s.reason = "SchedulingGated";
    }
  }
  s.total = Count(pod, {"spec", "containers"});
  std::set<std::string> restartable;  // sidecars: init containers with restartPolicy Always
  for (const json& c : Arr(pod, {"spec", "initContainers"})) {
    if (Str(c, {"restartPolicy"}) == "Always") {
      restartable.insert(Str(c, {"name"}));
      ++s.total;
    }
  }
  int64_t sidecar_restarts = 0;
  std::optional<TimePoint> sidecar_last;
  const bool initializing =
      ScanInitContainers(pod, restartable, &s, &sidecar_restarts, &sidecar_last);
  if (!initializing || HasCondition(pod, "Initialized", "True")) {
    s.restarts = sidecar_restarts;
    s.last_restart = sidecar_last;
    ScanContainers(pod, &s);
  }
  const bool deleting = Has(pod, {"metadata", "deletionTimestamp"});
  if (deleting && Str(pod, {"status", "reason"}) == "NodeLost") {
    s.reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    s.reason = "Terminating";
  }
  return s;
}

std::string PodIP(const json& pod) {
  const json& ips = Arr(pod, {"status", "podIPs"});
  std::string ip = ips.empty() ? Str(pod, {"status", "podIP"}) : Str(ips[0], {"ip"});
  return OrDefault(ip, "<none>");
}

std::string ReadinessGates(const json& pod) {
  const json& gates = Arr(pod, {"spec", "readinessGates"});
  if (gates.empty()) return "<none>";
  int64_t true_count = 0;
  for (const json& g : gates) {
    const std::string type = Str(g, {"conditionType"});
    for (const json& c : Arr(pod, {"status", "conditions"})) {
      if (Str(c, {"type"}) != type) continue;
      if (Str(c, {"status"}) == "True") ++true_count;
      break;
    }
  }
  return std::to_string(true_count) + "/" + std::to_string(gates.size());
}

json PodCells(const json& pod, TimePoint now) {
  const PodSummary s = SummarizePod(pod);
  std::string restarts = std::to_string(s.restarts);
  if (s.restarts != 0 && s.last_restart) {
    restarts += " (" + HumanDuration(now - *s.last_restart) + " ago)";
  }
  return {Name(pod),
          std::to_string(s.ready) + "/" + std::to_string(s.total),
          s.reason,
          restarts,
          Age(pod, now),
          PodIP(pod),
          OrDefault(Str(pod, {"spec", "nodeName"}), "<none>"),
          OrDefault(Str(pod, {"status", "nominatedNodeName"}), "<none>"),
          ReadinessGates(pod)};
}

// ---------------------------------------------------------------------------
// Workloads.

const json& TemplateSpec(const json& o) {
  static const json kEmpty = json::object();
  const json* spec = Find(o, {"spec", "template", "spec"});
  return spec != nullptr ? *spec : kEmpty;
}

json StatefulSetCells(const json& o, TimePoint now) {
  auto [names, images] = ContainerCells(TemplateSpec(o));
  return {Name(o),
          std::to_string(Int(o, {"status", "readyReplicas"})) + "/" + std::to_string(Replicas(o)),
          Age(o, now), names, images};
}

json DeploymentCells(const json& o, TimePoint now) {
  auto [names, images] = ContainerCells(TemplateSpec(o));
  std::optional<std::string> selector = SelectorString(Find(o, {"spec", "selector"}));
  return {Name(o),
          std::to_string(Int(o, {"status", "readyReplicas"})) + "/" + std::to_string(Replicas(o)),
          Int(o, {"status", "updatedReplicas"}),
          Int(o, {"status", "availableReplicas"}),
          Age(o, now),
          names,
          images,
          selector ? *selector : "<invalid>"};
}

json ReplicaSetCells(const json& o, TimePoint now) {
  auto [names, images] = ContainerCells(TemplateSpec(o));
  return {Name(o),
          Replicas(o),
          Int(o, {"status", "replicas"}),
          Int(o, {"status", "readyReplicas"}),
          Age(o, now),
          names,
          images,
          FormatLabelSelector(o, {"spec", "selector"})};
}

// formatResourceName for the controlling owner: "statefulset.apps/web".
std::string ControllerName(const json& o) {
  for (const json& ref : Arr(o, {"metadata", "ownerReferences"})) {
    if (!Bool(ref, {"controller"})) continue;
    const std::string api_version = Str(ref, {"apiVersion"});
    const size_t slash = api_version.find('/');
    const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    const std::string kind = Str(ref, {"kind"});
    if (group.empty() && kind.empty()) return Str(ref, {"name"});
    const std::string group_kind = group.empty() ? kind : kind + "." + group;
    return Lower(group_kind) + "/" + Str(ref, {"name"});
  }
  return "<none>";
}

json ControllerRevisionCells(const json& o, TimePoint now) {
  return {Name(o), ControllerName(o), Int(o, {"revision"}), Age(o, now)};
}

// ---------------------------------------------------------------------------
// Services and endpoints.

std::string LoadBalancerIngress(const json& svc) {
  std::set<std::string> addrs;  // sets.String: sorted, unique
  for (const json& in : Arr(svc, {"status", "loadBalancer", "ingress"})) {
    std::string a = OrDefault(Str(in, {"ip"}), Str(in, {"hostname"}));
    if (!a.empty()) addrs.insert(a);
  }
  return Join(std::vector<std::string>(addrs.begin(), addrs.end()), ",");
}

std::vector<std::string> StringList(const json& j, std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  for (const json& v : Arr(j, path)) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string ServiceExternalIP(const json& svc, const std::string& type) {
  const std::vector<std::string> external = StringList(svc, {"spec", "externalIPs"});
  if (type == "ClusterIP" || type == "NodePort") {
    return external.empty() ? "<none>" : Join(external, ",");
  }
  if (type == "LoadBalancer") {
    const std::string lb = LoadBalancerIngress(svc);
    if (!external.empty()) return lb.empty() ? Join(external, ",") : lb + "," + Join(external, ",");
    return lb.empty() ? "<pending>" : lb;
  }
  if (type == "ExternalName") return Str(svc, {"spec", "externalName"});
  return "<unknown>";
}

std::string ServicePorts(const json& svc) {
  std::vector<std::string> pieces;
  for (const json& p : Arr(svc, {"spec", "ports"})) {
    const std::string proto = Str(p, {"protocol"}, "TCP");
    const int64_t node_port = Int(p, {"nodePort"});
    std::string piece = std::to_string(Int(p, {"port"}));
    if (node_port > 0) piece += ":" + std::to_string(node_port);
    pieces.push_back(piece + "/" + proto);
  }
  return pieces.empty() ? "<none>" : Join(pieces, ",");
}

json ServiceCells(const json& svc, TimePoint now) {
  const std::string type = Str(svc, {"spec", "type"}, "ClusterIP");
  const json& ips = Arr(svc, {"spec", "clusterIPs"});
  const std::string cluster_ip =
      OrDefault(ips.empty() ? Str(svc, {"spec", "clusterIP"}) : Str(ips[0], {}), "<none>");
  return {Name(svc),
          type,
          cluster_ip,
          ServiceExternalIP(svc, type),
          ServicePorts(svc),
          Age(svc, now),
          FormatLabels(svc, {"spec", "selector"})};
}

// formatEndpoints: the first three ip:port pairs, then "+ N more...".
std::string FormatEndpoints(const json& ep) {
  const json& subsets = Arr(ep, {"subsets"});
  if (subsets.empty()) return "<none>";
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  size_t count = 0;
  auto add = [&](std::string s) {
    if (list.size() == kMax) {
      more = true;
      return;
    }
    list.push_back(std::move(s));
  };
  for (const json& ss : subsets) {
    const json& addresses = Arr(ss, {"addresses"});
    const json& ports = Arr(ss, {"ports"});
    if (ports.empty()) {  // headless services may have no ports
      count += addresses.size();
      for (const json& a : addresses) add(Str(a, {"ip"}));
      continue;
    }
    for (const json& p : ports) {
      count += addresses.size();
      for (const json& a : addresses) {
        const std::string ip = Str(a, {"ip"});
        const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
        add(host + ":" + std::to_string(Int(p, {"port"})));
      }
    }
  }
  std::string out = Join(list, ",");
  if (more) out += " + " + std::to_string(count - kMax) + " more...";
  return out;
}

json EndpointsCells(const json& o, TimePoint now) {
  return {Name(o), FormatEndpoints(o), Age(o, now)};
}

// ---------------------------------------------------------------------------
// Config, namespaces, accounts, leases.

json ConfigMapCells(const json& o, TimePoint now) {
  return {Name(o), Count(o, {"data"}) + Count(o, {"binaryData"}), Age(o, now)};
}

json SecretCells(const json& o, TimePoint now) {
  return {Name(o), Str(o, {"type"}, "Opaque"), Count(o, {"data"}), Age(o, now)};
}

json NamespaceCells(const json& o, TimePoint now) {
  return {Name(o), Str(o, {"status", "phase"}, "Active"), Age(o, now)};
}

json ServiceAccountCells(const json& o, TimePoint now) {
  return {Name(o), Count(o, {"secrets"}), Age(o, now)};
}

json LeaseCells(const json& o, TimePoint now) {
  return {Name(o), Str(o, {"spec", "holderIdentity"}), Age(o, now)};
}

// ---------------------------------------------------------------------------
// Nodes.

std::string NodeStatus(const json& node) {
  std::vector<std::string> status;
  for (const json& c : Arr(node, {"status", "conditions"})) {
    if (Str(c, {"type"}) != "Ready") continue;
    status = {Str(c, {"status"}) == "True" ? "Ready" : "NotReady"};  // last one wins, as the map
  }
  if (status.empty()) status.push_back("Unknown");
  if (Bool(node, {"spec", "unschedulable"})) status.push_back("SchedulingDisabled");
  return Join(status, ",");
}

// findNodeRoles: node-role.kubernetes.io/<role> labels and kubernetes.io/role=<role>.
std::string NodeRoles(const json& node) {
  constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  const json* labels = Find(node, {"metadata", "labels"});
  if (labels != nullptr && labels->is_object()) {
    for (const auto& [k, v] : labels->items()) {
      if (k.size() > kPrefix.size() && k.compare(0, kPrefix.size(), kPrefix) == 0) {
        roles.insert(k.substr(kPrefix.size()));
      } else if (k == "kubernetes.io/role" && v.is_string() && !v.get<std::string>().empty()) {
        roles.insert(v.get<std::string>());
      }
    }
  }
  return roles.empty() ? "<none>" : Join(std::vector<std::string>(roles.begin(), roles.end()), ",");
}

std::string NodeAddress(const json& node, std::string_view type) {
  for (const json& a : Arr(node, {"status", "addresses"})) {
    if (Str(a, {"type"}) == type) return Str(a, {"address"});
  }
  return "<none>";
}

json NodeCells(const json& o, TimePoint now) {
  return {Name(o),
          NodeStatus(o),
          NodeRoles(o),
          Age(o, now),
          Str(o, {"status", "nodeInfo", "kubeletVersion"}),
          NodeAddress(o, "InternalIP"),
          NodeAddress(o, "ExternalIP"),
          OrDefault(Str(o, {"status", "nodeInfo", "osImage"}), "<unknown>"),
          OrDefault(Str(o, {"status", "nodeInfo", "kernelVersion"}), "<unknown>"),
          OrDefault(Str(o, {"status", "nodeInfo", "containerRuntimeVersion"}), "<unknown>")};
}

// ---------------------------------------------------------------------------
// Events.

std::string EventSource(const json& ev) {
  const std::string component =
      OrDefault(Str(ev, {"source", "component"}), Str(ev, {"reportingComponent"}));
  const std::string instance =
      OrDefault(Str(ev, {"source", "host"}), Str(ev, {"reportingInstance"}));
  return instance.empty() ? component : component + ", " + instance;
}

std::string TrimSpace(std::string s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

json EventCells(const json& ev, TimePoint now) {
  std::string first = Has(ev, {"firstTimestamp"}) ? Since(TimeAt(ev, {"firstTimestamp"}), now)
                                                  : Since(TimeAt(ev, {"eventTime"}), now);
  std::string last = Has(ev, {"lastTimestamp"}) ? Since(TimeAt(ev, {"lastTimestamp"}), now) : first;
  int64_t count = Int(ev, {"count"});
  if (Has(ev, {"series"})) {
    last = Since(TimeAt(ev, {"series", "lastObservedTime"}), now);
    count = Int(ev, {"series", "count"});
  } else if (count == 0) {
    count = 1;  // singleton events of the events.k8s.io API carry no count
  }
  const std::string kind = Lower(Str(ev, {"involvedObject", "kind"}));
  const std::string obj_name = Str(ev, {"involvedObject", "name"});
  const std::string target = obj_name.empty() ? kind : kind + "/" + obj_name;
  return {last,
          Str(ev, {"type"}),
          Str(ev, {"reason"}),
          target,
          Str(ev, {"involvedObject", "fieldPath"}),
          EventSource(ev),
          TrimSpace(Str(ev, {"message"})),
          first,
          count,
          Name(ev)};
}

// ---------------------------------------------------------------------------
// Storage.

constexpr char kBetaStorageClassAnnotation[] = "volume.beta.kubernetes.io/storage-class";

std::string VolumeClass(const json& o) {
  const std::string beta = Str(o, {"metadata", "annotations", kBetaStorageClassAnnotation});
  return OrDefault(beta, Str(o, {"spec", "storageClassName"}));
}

json PersistentVolumeCells(const json& o, TimePoint now) {
  std::string claim;
  if (Has(o, {"spec", "claimRef"})) {
    claim = Str(o, {"spec", "claimRef", "namespace"}) + "/" + Str(o, {"spec", "claimRef", "name"});
  }
  const bool deleting = Has(o, {"metadata", "deletionTimestamp"});
  return {Name(o),
          Quantity(o, {"spec", "capacity", "storage"}),
          AccessModes(Arr(o, {"spec", "accessModes"})),
          Str(o, {"spec", "persistentVolumeReclaimPolicy"}, "Retain"),
          deleting ? "Terminating" : Str(o, {"status", "phase"}),
          claim,
          VolumeClass(o),
          Str(o, {"spec", "volumeAttributesClassName"}, "<unset>"),
          Str(o, {"status", "reason"}),
          Age(o, now),
          Str(o, {"spec", "volumeMode"}, "<unset>")};
}

json PersistentVolumeClaimCells(const json& o, TimePoint now) {
  const std::string volume = Str(o, {"spec", "volumeName"});
  std::string capacity, modes;
  if (!volume.empty()) {  // capacity and modes are only meaningful once bound
    capacity = Quantity(o, {"status", "capacity", "storage"});
    modes = AccessModes(Arr(o, {"status", "accessModes"}));
  }
  const bool deleting = Has(o, {"metadata", "deletionTimestamp"});
  return {Name(o),
          deleting ? "Terminating" : Str(o, {"status", "phase"}),
          volume,
          capacity,
          modes,
          VolumeClass(o),
          Str(o, {"spec", "volumeAttributesClassName"}, "<unset>"),
          Age(o, now),
          Str(o, {"spec", "volumeMode"}, "<unset>")};
}

json StorageClassCells(const json& o, TimePoint now) {
  std::string name = Name(o);
  if (Str(o, {"metadata", "annotations", "storageclass.kubernetes.io/is-default-class"}) ==
          "true" ||
      Str(o, {"metadata", "annotations", "storageclass.beta.kubernetes.io/is-default-class"}) ==
          "true") {
    name += " (default)";
  }
  return {name,
          Str(o, {"provisioner"}),
          Str(o, {"reclaimPolicy"}, "Delete"),
          Str(o, {"volumeBindingMode"}, "Immediate"),
          Bool(o, {"allowVolumeExpansion"}),
          Age(o, now)};
}

json PriorityClassCells(const json& o, TimePoint now) {
  return {Name(o), Int(o, {"value"}), Bool(o, {"globalDefault"}), Age(o, now),
          Str(o, {"preemptionPolicy"})};
}

json DefaultCells(const json& o, TimePoint now) { return {Name(o), Age(o, now)}; }

// ---------------------------------------------------------------------------
// The printer table.

struct Printer {
  std::vector<ColumnSpec> columns;
  std::function<json(const json&, TimePoint)> cells;
};

std::map<std::string, Printer> BuildPrinters() {
  std::map<std::string, Printer> p;
  const ColumnSpec containers = {"Containers", "string", 1, kContainersDoc};
  const ColumnSpec images = {"Images", "string", 1, kImagesDoc};
  p["Pod"] = {
      {kNameCol,
       {"Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."},
       {"Status", "string", 0, "The aggregate status of the containers in this pod."},
       {"Restarts", "string", 0,
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted."},
       kAgeCol,
       {"IP", "string", 1,
        "podIP address allocated to the pod. Routable at least within the cluster. Empty "
        "if not yet allocated."},
       {"Node", "string", 1,
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
        "candidate for scheduling by the scheduler defined in schedulerName."},
       {"Nominated Node", "string", 1,
        "nominatedNodeName is set only when this pod preempts other pods on the node, but "
        "it cannot be scheduled right away as preemption victims receive their graceful "
        "termination periods."},
       {"Readiness Gates", "string", 1,
        "If specified, all readiness gates will be evaluated for pod readiness."}},
      PodCells};
  p["apps/StatefulSet"] = {{kNameCol,
                            {"Ready", "string", 0, "Number of the pod with ready state"},
                            kAgeCol,
                            containers,
                            images},
                           StatefulSetCells};
  p["apps/Deployment"] = {
      {kNameCol,
       {"Ready", "string", 0, "Number of the pod with ready state"},
       {"Up-to-date", "string", 0,
        "Total number of non-terminated pods targeted by this deployment that have the desired "
        "template spec."},
       {"Available", "string", 0,
        "Total number of available pods (ready for at least minReadySeconds) targeted by this "
        "deployment."},
       kAgeCol,
       containers,
       images,
       {"Selector", "string", 1, kSelectorDoc}},
      DeploymentCells};
  p["apps/ReplicaSet"] = {
      {kNameCol,
       {"Desired", "integer", 0, "Replicas is the number of desired replicas."},
       {"Current", "integer", 0, "Replicas is the most recently observed number of replicas."},
       {"Ready", "integer", 0, "The number of ready replicas for this replica set."},
       kAgeCol,
       containers,
       images,
       {"Selector", "string", 1,
        "Selector is a label query over pods that should match the replica count."}},
      ReplicaSetCells};
  p["apps/ControllerRevision"] = {
      {kNameCol,
       {"Controller", "string", 0, "Controller of the object"},
       {"Revision", "string", 0,
        "Revision indicates the revision of the state represented by Data."},
       kAgeCol},
      ControllerRevisionCells};
  p["Service"] = {
      {kNameCol,
       {"Type", "string", 0,
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
        "ExternalName, ClusterIP, NodePort, and LoadBalancer."},
       {"Cluster-IP", "string", 0,
        "clusterIP is the IP address of the service and is usually assigned randomly."},
       {"External-IP", "string", 0,
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
        "traffic for this service."},
       {"Port(s)", "string", 0, "The list of ports that are exposed by this service."},
       kAgeCol,
       {"Selector", "string", 1,
        "Route service traffic to pods with label keys and values matching this selector."}},
      ServiceCells};
  p["Endpoints"] = {
      {kNameCol,
       {"Endpoints", "string", 0,
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
        "according to the IPs they share."},
       kAgeCol},
      EndpointsCells};
  p["ConfigMap"] = {{kNameCol,
                     {"Data", "string", 0,
                      "Data contains the configuration data. Each key must consist of alphanumeric "
                      "characters, '-', '_' or '.'."},
                     kAgeCol},
                    ConfigMapCells};
  p["Secret"] = {{kNameCol,
                  {"Type", "string", 0, "Used to facilitate programmatic handling of secret data."},
                  {"Data", "string", 0,
                   "Data contains the secret data. Each key must consist of alphanumeric "
                   "characters, '-', '_' or '.'."},
                  kAgeCol},
                 SecretCells};
  p["Namespace"] = {{kNameCol, {"Status", "string", 0, "The status of the namespace"}, kAgeCol},
                    NamespaceCells};
  p["Node"] = {
      {kNameCol,
       {"Status", "string", 0, "The status of the node"},
       {"Roles", "string", 0, "The roles of the node"},
       kAgeCol,
       {"Version", "string", 0, "Kubelet Version reported by the node."},
       {"Internal-IP", "string", 1, "List of addresses reachable to the node."},
       {"External-IP", "string", 1, "List of addresses reachable to the node."},
       {"OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release."},
       {"Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r'."},
       {"Container-Runtime", "string", 1,
        "ContainerRuntime Version reported by the node through runtime remote API."}},
      NodeCells};
  p["Event"] = {
      {{"Last Seen", "string", 0,
        "The time at which the most recent occurrence of this event was recorded."},
       {"Type", "string", 0, "Type of this event (Normal, Warning), new types could be added."},
       {"Reason", "string", 0,
        "This should be a short, machine understandable string that gives the reason for the "
        "transition into the object's current status."},
       {"Object", "string", 0, "The object that this event is about."},
       {"Subobject", "string", 1,
        "If referring to a piece of an object instead of an entire object, this string should "
        "contain a valid JSON/Go field access statement."},
       {"Source", "string", 1,
        "The component reporting this event. Should be a short machine understandable string."},
       {"Message", "string", 0, "A human-readable description of the status of this operation."},
       {"First Seen", "string", 1,
        "The time at which the event was first recorded. (Time of server receipt is in "
        "TypeMeta.)"},
       {"Count", "string", 1, "The number of times this event has occurred."},
       {"Name", "string", 1, kNameDoc}},
      EventCells};
  p["PersistentVolume"] = {
      {kNameCol,
       {"Capacity", "string", 0,
        "capacity is the description of the persistent volume's "
        "resources and capacity."},
       {"Access Modes", "string", 0, "accessModes contains all ways the volume can be mounted."},
       {"Reclaim Policy", "string", 0,
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
        "released from its claim."},
       {"Status", "string", 0,
        "phase indicates if a volume is available, bound to a claim, or released by a claim."},
       {"Claim", "string", 0,
        "claimRef is part of a bi-directional binding between PersistentVolume and "
        "PersistentVolumeClaim."},
       {"StorageClass", "string", 0, "StorageClass of the pv"},
       {"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"},
       {"Reason", "string", 0,
        "reason is a brief CamelCase string that describes any failure and is meant for machine "
        "parsing and tidy display in the CLI."},
       kAgeCol,
       {"VolumeMode", "string", 1,
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or "
        "to remain in raw block state."}},
      PersistentVolumeCells};
  p["PersistentVolumeClaim"] = {
      {kNameCol,
       {"Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."},
       {"Volume", "string", 0,
        "volumeName is the binding reference to the PersistentVolume backing this claim."},
       {"Capacity", "string", 0,
        "capacity represents the actual resources of the underlying volume."},
       {"Access Modes", "string", 0,
        "accessModes contains the actual access modes the volume backing the PVC has."},
       {"StorageClass", "string", 0, "StorageClass of the pvc"},
       {"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"},
       kAgeCol,
       {"VolumeMode", "string", 1,
        "volumeMode defines what type of volume is required by the claim."}},
      PersistentVolumeClaimCells};
  p["ServiceAccount"] = {
      {kNameCol,
       {"Secrets", "string", 0,
        "Secrets is a list of the secrets in the same namespace that pods running using this "
        "ServiceAccount are allowed to use."},
       kAgeCol},
      ServiceAccountCells};
  p["storage.k8s.io/StorageClass"] = {
      {kNameCol,
       {"Provisioner", "string", 0, "provisioner indicates the type of the provisioner."},
       {"ReclaimPolicy", "string", 0,
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
        "PersistentVolumes of this storage class. Defaults to Delete."},
       {"VolumeBindingMode", "string", 0,
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
        "bound. When unset, VolumeBindingImmediate is used."},
       {"AllowVolumeExpansion", "string", 0,
        "allowVolumeExpansion shows whether the storage class allow volume expand."},
       kAgeCol},
      StorageClassCells};
  p["scheduling.k8s.io/PriorityClass"] = {
      {kNameCol,
       {"Value", "integer", 0,
        "value represents the integer value of this priority class. This is the actual priority "
        "that pods receive when they have the name of this class in their pod spec."},
       {"Global-Default", "boolean", 0,
        "globalDefault specifies whether this PriorityClass should be considered as the default "
        "priority for pods that do not have any priority class. Only one PriorityClass can be "
        "marked as `globalDefault`. However, if more than one PriorityClasses exists with their "
        "`globalDefault` field set to true, the smallest value of such global default "
        "PriorityClasses will be used as the default priority."},
       kAgeCol,
       {"PreemptionPolicy", "string", 0,
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
        "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."}},
      PriorityClassCells};
  p["coordination.k8s.io/Lease"] = {
      {kNameCol,
       {"Holder", "string", 0,
        "holderIdentity contains the identity of the holder of a current lease."},
       kAgeCol},
      LeaseCells};
  return p;
}

const Printer& PrinterFor(const ResourceInfo& info) {
  static const std::map<std::string, Printer> printers = BuildPrinters();
  static const Printer fallback = {{kNameCol, kAgeCol}, DefaultCells};
  const std::string key = info.group.empty() ? info.kind : info.group + "/" + info.kind;
  auto it = printers.find(key);
  return it == printers.end() ? fallback : it->second;
}

// Decimal text of an integer, as fmt.Sprintf("%d").
std::string Itoa(int64_t v) { return std::to_string(v); }

}  // namespace

std::string HumanDuration(Clock::duration elapsed) {
  using std::chrono::duration_cast;
  // Up to 2 s in the future (clock skew) counts as now.
  const int64_t seconds = duration_cast<std::chrono::seconds>(elapsed).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return Itoa(seconds) + "s";
  const int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const int64_t s = seconds % 60;
    return s == 0 ? Itoa(minutes) + "m" : Itoa(minutes) + "m" + Itoa(s) + "s";
  }
  if (minutes < 60 * 3) return Itoa(minutes) + "m";
  const int64_t hours = minutes / 60;
  if (hours < 8) {
    const int64_t m = minutes % 60;
    return m == 0 ? Itoa(hours) + "h" : Itoa(hours) + "h" + Itoa(m) + "m";
  }
  if (hours < 48) return Itoa(hours) + "h";
  if (hours < 24 * 8) {
    const int64_t h = hours % 24;
    return h == 0 ? Itoa(hours / 24) + "d" : Itoa(hours / 24) + "d" + Itoa(h) + "h";
  }
  if (hours < 24 * 365 * 2) return Itoa(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const int64_t dy = (hours / 24) % 365;
    return dy == 0 ? Itoa(hours / 24 / 365) + "y" : Itoa(hours / 24 / 365) + "y" + Itoa(dy) + "d";
  }
  return Itoa(hours / 24 / 365) + "y";
}

std::string HumanAge(std::string_view rfc3339, Clock::time_point now) {
  return Since(ParseRfc3339(rfc3339), now);
}

nlohmann::json TableColumns(const ResourceInfo& info) { return ToJson(PrinterFor(info).columns); }

nlohmann::json TableCells(const ResourceInfo& info, const nlohmann::json& obj,
                          Clock::time_point now) {
  const Printer& printer = PrinterFor(info);
  try {
    return printer.cells(obj, now);
  } catch (const std::exception&) {
    // The accessors never throw on client data; this only guards the contract.
    json cells = json::array({Name(obj)});
    for (size_t i = 1; i < printer.columns.size(); ++i) cells.push_back("<unknown>");
    return cells;
  }
}

}  // namespace kennel::api
