#include "controllers/statefulset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/json_access.h"
#include "api/quantity.h"
#include "api/selector.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kennel::controllers {
namespace {

using api::Field;
using api::Str;
using client::json;
using Clock = std::chrono::steady_clock;
using Objects = std::vector<client::Informer::ObjectRef>;

// The objects themselves, for range-for over Objects.
auto Deref(const Objects& objects) {
  return objects | std::views::transform([](const auto& o) -> const json& { return *o; });
}

const client::Resource kControllerRevisions{"apps", "v1", "controllerrevisions", true};

constexpr const char* kPodNameLabel = "statefulset.kubernetes.io/pod-name";
constexpr const char* kPodIndexLabel = "apps.kubernetes.io/pod-index";
constexpr const char* kRevisionLabel = "controller-revision-hash";
constexpr const char* kHashLabel = "controller.kubernetes.io/hash";
constexpr const char* kResizedCondition = "VolumeClaimsResized";
constexpr const char* kComponent = "statefulset-controller";
// Expectations older than this are dropped (a write whose event was lost
// must not wedge a set forever); Kubernetes uses 5 minutes.
constexpr auto kExpectationTimeout = std::chrono::seconds(30);
// Parallel sets: at most this many pet creates in flight at once.
constexpr size_t kMaxConcurrentCreates = 32;

// --- Reading objects -------------------------------------------------------

const json& Meta(const json& obj) { return Field(obj, "metadata"); }
std::string Name(const json& obj) { return Str(Meta(obj), "name"); }
std::string Namespace(const json& obj) { return Str(Meta(obj), "namespace"); }
std::string Uid(const json& obj) { return Str(Meta(obj), "uid"); }

int64_t Int64Or(const json& obj, const char* name, int64_t fallback) {
  const json& v = Field(obj, name);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

using client::ResourceVersionNumber;

std::string Join(const std::string& a, const std::string& b) {
  std::string out = a;
  out += "-";
  out += b;
  return out;
}

std::string Key(const std::string& ns, const std::string& name) {
  std::string key = ns;
  key += "/";
  key += name;
  return key;
}

bool IsTerminating(const json& obj) { return !Field(Meta(obj), "deletionTimestamp").is_null(); }

std::string Phase(const json& pod) { return Str(Field(pod, "status"), "phase"); }
bool IsCreated(const json& pod) { return !Phase(pod).empty(); }
bool IsFailed(const json& pod) { return Phase(pod) == "Failed"; }
bool IsSucceeded(const json& pod) { return Phase(pod) == "Succeeded"; }

const json* ReadyCondition(const json& pod) {
  const json& conditions = Field(Field(pod, "status"), "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const json& c : conditions) {
    if (Str(c, "type") == "Ready") return &c;
  }
  return nullptr;
}

bool IsRunningAndReady(const json& pod) {
  const json* ready = ReadyCondition(pod);
  return Phase(pod) == "Running" && ready != nullptr && Str(*ready, "status") == "True";
}

bool IsHealthy(const json& pod) { return IsRunningAndReady(pod) && !IsTerminating(pod); }

// How long until a Ready pod has been Ready for min_ready seconds: 0 when it
// is available now, nullopt when it is not Ready at all.
std::optional<std::chrono::milliseconds> UntilAvailable(const json& pod, int64_t min_ready) {
  if (!IsRunningAndReady(pod)) return std::nullopt;
  if (min_ready <= 0) return std::chrono::milliseconds(0);
  int64_t since = ParseRfc3339(Str(*ReadyCondition(pod), "lastTransitionTime"));
  if (since == 0) return std::chrono::milliseconds(min_ready * 1000);
  int64_t left_ns = since + min_ready * 1'000'000'000 - WallNowNs();
  if (left_ns <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(left_ns / 1'000'000 + 1);
}

bool IsAvailable(const json& pod, int64_t min_ready) {
  auto left = UntilAvailable(pod, min_ready);
  return left && left->count() == 0 && !IsTerminating(pod);
}

std::string RevisionOf(const json& pod) { return Str(Field(Meta(pod), "labels"), kRevisionLabel); }

// "(.*)-([0-9]+)$" → (parent, ordinal); ordinal -1 when the name has none.
std::pair<std::string, int> ParentAndOrdinal(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return {"", -1};
  int ord = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return {"", -1};
    if (ord > 100'000'000) return {"", -1};
    ord = ord * 10 + (name[i] - '0');
  }
  return {name.substr(0, dash), ord};
}

const json* ControllerRef(const json& obj) {
  const json& refs = Field(Meta(obj), "ownerReferences");
  if (!refs.is_array()) return nullptr;
  for (const json& r : refs) {
    if (Field(r, "controller") == json(true)) return &r;
  }
  return nullptr;
}

json SetOwnerRef(const json& set) {
  return {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", Name(set)},
          {"uid", Uid(set)},         {"controller", true},    {"blockOwnerDeletion", true}};
}

json PodOwnerRef(const json& pod) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", Name(pod)}, {"uid", Uid(pod)}};
}

// JSON null members dropped, recursively: `creationTimestamp: null` in a
// template sent back by `kubectl rollout undo` is no difference.
json WithoutNulls(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, e] : v.items()) {
      if (!e.is_null()) out[k] = WithoutNulls(e);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const json& e : v) out.push_back(WithoutNulls(e));
    return out;
  }
  return v;
}

// The template a revision's data carries.
json TemplateOf(const json& revision) {
  json tmpl = Field(Field(Field(revision, "data"), "spec"), "template");
  if (tmpl.is_object()) tmpl.erase("$patch");
  return tmpl.is_object() ? tmpl : json::object();
}

std::optional<int64_t> StorageBytes(const json& spec) {
  return api::QuantityFromJson(Field(Field(Field(spec, "resources"), "requests"), "storage"));
}

std::string ClaimName(const json& claim_template, const std::string& pod_name) {
  return Join(Name(claim_template), pod_name);
}

// --- What the controller wants ---------------------------------------------

struct SetView {
  std::string ns, name, uid, key;
  int64_t replicas = 1;
  int64_t start = 0;
  bool parallel = false;
  bool rolling = true;  // RollingUpdate, else OnDelete
  int64_t partition = 0;
  int64_t min_ready = 0;
  int64_t history_limit = 10;
  bool delete_when_deleted = false;
  bool delete_when_scaled = false;
  std::string service_name;
  json claim_templates = json::array();

  explicit SetView(const json& set) {
    ns = Namespace(set);
    name = Name(set);
    uid = Uid(set);
    key = Key(ns, name);
    const json& spec = Field(set, "spec");
    replicas = Int64Or(spec, "replicas", 1);
    start = Int64Or(Field(spec, "ordinals"), "start", 0);
    parallel = Str(spec, "podManagementPolicy") == "Parallel";
    const json& strategy = Field(spec, "updateStrategy");
    rolling = Str(strategy, "type") != "OnDelete";
    partition = Int64Or(Field(strategy, "rollingUpdate"), "partition", 0);
    min_ready = Int64Or(spec, "minReadySeconds", 0);
    history_limit = Int64Or(spec, "revisionHistoryLimit", 10);
    const json& retention = Field(spec, "persistentVolumeClaimRetentionPolicy");
    delete_when_deleted = Str(retention, "whenDeleted") == "Delete";
    delete_when_scaled = Str(retention, "whenScaled") == "Delete";
    service_name = Str(spec, "serviceName");
    if (Field(spec, "volumeClaimTemplates").is_array()) {
      claim_templates = Field(spec, "volumeClaimTemplates");
    }
  }

  std::string PodName(int64_t ord) const { return Join(name, std::to_string(ord)); }
};

json NewPod(const json& set, const SetView& v, const json& tmpl, const std::string& revision,
            int64_t ord) {
  const std::string pod_name = v.PodName(ord);
  const json& tmeta = Field(tmpl, "metadata");
  json labels = Field(tmeta, "labels").is_object() ? Field(tmeta, "labels") : json::object();
  labels[kPodNameLabel] = pod_name;
  labels[kPodIndexLabel] = std::to_string(ord);
  labels[kRevisionLabel] = revision;
  json meta = {{"name", pod_name},
               {"namespace", v.ns},
               {"labels", labels},
               {"ownerReferences", json::array({SetOwnerRef(set)})}};
  if (Field(tmeta, "annotations").is_object()) meta["annotations"] = Field(tmeta, "annotations");
  json spec = Field(tmpl, "spec").is_object() ? Field(tmpl, "spec") : json::object();
  spec["hostname"] = pod_name;
  if (!v.service_name.empty()) spec["subdomain"] = v.service_name;
  // A claim template's volume overrides a template volume of the same name.
  json volumes = json::array();
  std::set<std::string> claimed;
  for (const json& ct : v.claim_templates) {
    claimed.insert(Name(ct));
    volumes.push_back(
        {{"name", Name(ct)}, {"persistentVolumeClaim", {{"claimName", ClaimName(ct, pod_name)}}}});
  }
  if (Field(spec, "volumes").is_array()) {
    for (const json& vol : spec["volumes"]) {
      if (!claimed.count(Str(vol, "name"))) volumes.push_back(vol);
    }
  }
  if (volumes.empty()) {
    spec.erase("volumes");
  } else {
    spec["volumes"] = std::move(volumes);
  }
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", spec}};
}

// The ownerReferences a claim should carry (Kubernetes' retention table):
// those not ours kept, plus the set while its ordinal is in range (or
// whenScaled=Retain) under whenDeleted=Delete, plus the pod once condemned
// under whenScaled=Delete.
json DesiredClaimRefs(const json& claim, const json& set, const SetView& v, const json* pod,
                      bool condemned) {
  json refs = json::array();
  const json& current = Field(Meta(claim), "ownerReferences");
  if (current.is_array()) {
    for (const json& r : current) {
      if (Str(r, "uid") == v.uid) continue;
      if (Str(r, "kind") == "Pod" && ParentAndOrdinal(Str(r, "name")).first == v.name) continue;
      refs.push_back(r);
    }
  }
  bool pod_owns = condemned && v.delete_when_scaled && pod != nullptr;
  if (v.delete_when_deleted && !pod_owns) refs.push_back(SetOwnerRef(set));
  if (pod_owns) refs.push_back(PodOwnerRef(*pod));
  return refs;
}

bool SameRefs(const json& a, const json& b) {
  auto uids = [](const json& refs) {
    std::set<std::string> out;
    if (refs.is_array()) {
      for (const json& r : refs) out.insert(Str(r, "uid"));
    }
    return out;
  };
  return uids(a) == uids(b);
}

json NewClaim(const json& set, const SetView& v, const json& claim_template,
              const std::string& pod_name) {
  const json& tmeta = Meta(claim_template);
  json labels = Field(tmeta, "labels").is_object() ? Field(tmeta, "labels") : json::object();
  const json& match = Field(Field(Field(set, "spec"), "selector"), "matchLabels");
  if (match.is_object()) {
    for (const auto& [k, val] : match.items()) labels[k] = val;
  }
  json meta = {{"name", ClaimName(claim_template, pod_name)}, {"namespace", v.ns}};
  if (!labels.empty()) meta["labels"] = labels;
  if (Field(tmeta, "annotations").is_object()) meta["annotations"] = Field(tmeta, "annotations");
  json claim = {{"apiVersion", "v1"},
                {"kind", "PersistentVolumeClaim"},
                {"metadata", meta},
                {"spec", Field(claim_template, "spec")}};
  json refs = DesiredClaimRefs(claim, set, v, nullptr, false);
  if (!refs.empty()) claim["metadata"]["ownerReferences"] = refs;
  return claim;
}

// --- The controller ----------------------------------------------------------

enum class Kind { kSet, kPod, kClaim, kRevision };

// One write whose effect the caches must show before the set is synced again.
struct Expectation {
  Kind kind;
  std::string key;  // "ns/name" of the object written
  std::string uid;  // deletion: the uid deleted
  int64_t rv = 0;   // create/update: the resourceVersion written
  bool deletion = false;
};

bool Satisfied(const Expectation& e, const json* cached) {
  if (e.deletion) return cached == nullptr || Uid(*cached) != e.uid || IsTerminating(*cached);
  return cached != nullptr && ResourceVersionNumber(*cached) >= e.rv;
}

class StatefulSetControllerImpl : public StatefulSetController {
 public:
  StatefulSetControllerImpl(client::Client* client, StatefulSetOptions options)
      : client_(client),
        options_(options),
        sets_(client, client::kStatefulSets, ""),
        pods_(client, client::kPods, ""),
        claims_(client, client::kPersistentVolumeClaims, ""),
        revisions_(client, kControllerRevisions, ""),
        events_(client, kComponent) {}

  ~StatefulSetControllerImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    sets_.Stop();
    pods_.Stop();
    claims_.Stop();
    revisions_.Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
  }

  void Run() {
    client::InformerHandler on_set;
    on_set.on_add = [this](const json& s) { SetChanged(s, false); };
    on_set.on_update = [this](const json&, const json& s) { SetChanged(s, false); };
    on_set.on_delete = [this](const json& s) { SetChanged(s, true); };
    sets_.AddHandler(std::move(on_set));
    for (auto [informer, kind] : {std::pair{&pods_, Kind::kPod}, std::pair{&claims_, Kind::kClaim},
                                  std::pair{&revisions_, Kind::kRevision}}) {
      client::InformerHandler h;
      h.on_add = [this, kind](const json& o) { ChildChanged(kind, nullptr, o, false); };
      h.on_update = [this, kind](const json& old, const json& o) {
        ChildChanged(kind, &old, o, false);
      };
      h.on_delete = [this, kind](const json& o) { ChildChanged(kind, nullptr, o, true); };
      informer->AddHandler(std::move(h));
    }
    sets_.Start();
    pods_.Start();
    claims_.Start();
    revisions_.Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("statefulset");
        Work();
      });
    }
  }

 private:
  client::Informer& InformerOf(Kind kind) {
    switch (kind) {
      case Kind::kSet:
        return sets_;
      case Kind::kPod:
        return pods_;
      case Kind::kClaim:
        return claims_;
      case Kind::kRevision:
        return revisions_;
    }
    return sets_;
  }

  // --- Expectations ---

  // Settles the expectations an observed object (or its deletion) meets.
  void Observe(Kind kind, const json& obj, bool deleted) {
    const std::string key = client::Informer::KeyOf(obj);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = expectations_.begin(); it != expectations_.end();) {
      auto& list = it->second;
      std::erase_if(list, [&](const Expectation& e) {
        return e.kind == kind && e.key == key && (deleted || Satisfied(e, &obj));
      });
      it = list.empty() ? expectations_.erase(it) : std::next(it);
    }
  }

  void Expect(const std::string& set_key, Expectation e) {
    std::lock_guard<std::mutex> lock(mu_);
    // The event may already be in: then the cache shows it (informers fill
    // the cache before running handlers, and Observe takes mu_).
    auto cached = InformerOf(e.kind).Get(e.key);
    if (Satisfied(e, cached ? &*cached : nullptr)) return;
    auto& list = expectations_[set_key];
    if (list.empty()) expectations_since_[set_key] = Clock::now();
    list.push_back(std::move(e));
  }

  void ExpectWrite(const std::string& set_key, Kind kind, const json& written) {
    Expect(set_key,
           {kind, client::Informer::KeyOf(written), "", ResourceVersionNumber(written), false});
  }

  void ExpectDeletion(const std::string& set_key, Kind kind, const json& obj) {
    Expect(set_key, {kind, client::Informer::KeyOf(obj), Uid(obj), 0, true});
  }

  // True while writes of the set's last sync are not in the caches yet.
  bool Pending(const std::string& set_key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expectations_.find(set_key);
    if (it == expectations_.end()) return false;
    if (Clock::now() - expectations_since_[set_key] > kExpectationTimeout) {
      spdlog::warn("statefulset: {}: {} writes never observed; syncing anyway", set_key,
                   it->second.size());
      expectations_.erase(it);
      return false;
    }
    return true;
  }

  // --- Informer handlers ---

  void SetChanged(const json& set, bool deleted) {
    std::string key = client::Informer::KeyOf(set);
    if (deleted) {
      std::lock_guard<std::mutex> lock(mu_);
      expectations_.erase(key);
    } else {
      Observe(Kind::kSet, set, false);
    }
    queue_.Add(key);
  }

  void ChildChanged(Kind kind, const json* old, const json& obj, bool deleted) {
    Observe(kind, obj, deleted);
    std::set<std::string> keys;
    const std::string ns = Namespace(obj);
    auto owners = [&](const json& o) {
      if (const json* ref = ControllerRef(o); ref && Str(*ref, "kind") == "StatefulSet") {
        keys.insert(Key(ns, Str(*ref, "name")));
        return;
      }
      const json& refs = Field(Meta(o), "ownerReferences");
      bool owned = false;
      if (refs.is_array()) {
        for (const json& r : refs) {
          if (Str(r, "kind") == "StatefulSet") {
            keys.insert(Key(ns, Str(r, "name")));
            owned = true;
          } else if (Str(r, "kind") == "Pod") {
            auto [parent, ord] = ParentAndOrdinal(Str(r, "name"));
            if (ord >= 0) keys.insert(Key(ns, parent));
            owned = true;
          }
        }
      }
      if (owned || (kind == Kind::kPod && ControllerRef(o) != nullptr)) return;
      // An orphan: the sets whose selector matches it may adopt it.
      for (const json& set : sets_.List()) {
        if (Namespace(set) != ns) continue;
        auto sel = api::LabelSelector::FromJson(Field(Field(set, "spec"), "selector"));
        if (sel.ok() && !sel->Empty() && sel->Matches(Field(Meta(o), "labels"))) {
          keys.insert(client::Informer::KeyOf(set));
        }
      }
    };
    owners(obj);
    if (old != nullptr) owners(*old);
    for (const auto& k : keys) queue_.Add(k);
  }

  // --- Workers ---

  void Work() {
    for (client::Informer* inf : {&sets_, &pods_, &claims_, &revisions_}) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
    }
    queue_.Process("statefulset", [this](const std::string& key) { return Reconcile(key); });
  }

  void Event(const json& set, const std::string& type, const std::string& reason,
             const std::string& message) {
    json involved = set;
    involved["apiVersion"] = "apps/v1";
    involved["kind"] = "StatefulSet";
    events_.Record(involved, "StatefulSet", type, reason, message);
  }

  // Shared, not copied: a sync reads every pod and claim of its set.
  Objects InNamespace(client::Informer& informer, const std::string& ns) {
    Objects out;
    for (client::Informer::ObjectRef& o : informer.Snapshot()) {
      if (Namespace(*o) == ns) out.push_back(std::move(o));
    }
    return out;
  }

  // Objects the set controls, adopting matching orphans (pods only when
  // their name is one of the set's).
  StatusOr<Objects> Claim(const json& set, const SetView& v, Kind kind,
                          const client::Resource& resource, const api::LabelSelector& selector) {
    Objects out;
    for (client::Informer::ObjectRef& shared : InNamespace(InformerOf(kind), v.ns)) {
      const json& o = *shared;
      const json* ref = ControllerRef(o);
      if (ref != nullptr) {
        if (Str(*ref, "uid") == v.uid &&
            (kind != Kind::kPod || ParentAndOrdinal(Name(o)).first == v.name)) {
          out.push_back(std::move(shared));
        }
        continue;
      }
      if (IsTerminating(o) || !selector.Matches(Field(Meta(o), "labels"))) continue;
      if (kind == Kind::kPod && ParentAndOrdinal(Name(o)).first != v.name) continue;
      json refs =
          Field(Meta(o), "ownerReferences").is_array() ? Meta(o)["ownerReferences"] : json::array();
      refs.push_back(SetOwnerRef(set));
      json patch = {
          {"metadata",
           {{"ownerReferences", refs}, {"resourceVersion", Str(Meta(o), "resourceVersion")}}}};
      ASSIGN_OR_RETURN(json adopted,
                       client_->Patch(resource, v.ns, Name(o), client::PatchType::kMerge, patch));
      ExpectWrite(v.key, kind, adopted);
      out.push_back(std::make_shared<const json>(std::move(adopted)));
    }
    return out;
  }

  // --- Revisions ---

  struct Revisions {
    json current;
    json update;
    int64_t collision_count = 0;
  };

  StatusOr<Revisions> ResolveRevisions(const json& set, const SetView& v,
                                       std::vector<json>& revisions) {
    std::sort(revisions.begin(), revisions.end(), [](const json& a, const json& b) {
      int64_t ra = Int64Or(a, "revision", 0), rb = Int64Or(b, "revision", 0);
      return ra != rb ? ra < rb : Name(a) < Name(b);
    });
    Revisions out;
    const json& status = Field(set, "status");
    out.collision_count = Int64Or(status, "collisionCount", 0);
    json data = StatefulSetRevisionData(set);
    int64_t next = revisions.empty() ? 1 : Int64Or(revisions.back(), "revision", 0) + 1;
    int equal = -1;
    for (size_t i = 0; i < revisions.size(); ++i) {
      if (WithoutNulls(Field(revisions[i], "data")) == data) equal = static_cast<int>(i);
    }
    if (equal >= 0 && equal + 1 == static_cast<int>(revisions.size())) {
      out.update = revisions.back();
    } else if (equal >= 0) {
      // A rollback to an older template: that revision becomes the newest.
      json patch = {{"revision", next}};
      ASSIGN_OR_RETURN(out.update,
                       client_->Patch(kControllerRevisions, v.ns, Name(revisions[equal]),
                                      client::PatchType::kMerge, patch));
      ExpectWrite(v.key, Kind::kRevision, out.update);
      revisions[equal] = out.update;
    } else {
      std::string hash = StatefulSetRevisionHash(data, out.collision_count);
      std::string prefix = v.name.substr(0, 223);
      const json& tmeta = Field(Field(Field(set, "spec"), "template"), "metadata");
      json labels = Field(tmeta, "labels").is_object() ? Field(tmeta, "labels") : json::object();
      labels[kHashLabel] = hash;
      json meta = {{"name", Join(prefix, hash)},
                   {"namespace", v.ns},
                   {"labels", labels},
                   {"ownerReferences", json::array({SetOwnerRef(set)})}};
      if (Field(Meta(set), "annotations").is_object()) {
        meta["annotations"] = Meta(set)["annotations"];
      }
      json revision = {{"apiVersion", "apps/v1"},
                       {"kind", "ControllerRevision"},
                       {"metadata", meta},
                       {"data", data},
                       {"revision", next}};
      auto created = client_->Create(kControllerRevisions, v.ns, revision);
      if (!created.ok()) {
        if (created.status().code() != Code::kAlreadyExists) return created.status();
        auto existing = client_->Get(kControllerRevisions, v.ns, Join(prefix, hash));
        if (existing.ok() && WithoutNulls(Field(*existing, "data")) == data) {
          // Ours, not yet in the cache (or an orphan the next sync adopts).
          return Conflict("revision " + Join(prefix, hash) + " is not in the cache yet");
        }
        // A genuine hash collision: the next name is tried on the next sync.
        json next_status = Field(set, "status").is_object() ? set["status"] : json::object();
        next_status["collisionCount"] = out.collision_count + 1;
        json updated = set;
        updated["status"] = next_status;
        ASSIGN_OR_RETURN(json written, client_->UpdateStatus(client::kStatefulSets, v.ns, updated));
        ExpectWrite(v.key, Kind::kSet, written);
        return Conflict("revision name collision for " + Join(prefix, hash));
      }
      out.update = *created;
      ExpectWrite(v.key, Kind::kRevision, out.update);
      revisions.push_back(out.update);
    }
    out.current = out.update;
    std::string current_name = Str(status, "currentRevision");
    for (const json& r : revisions) {
      if (!current_name.empty() && Name(r) == current_name) out.current = r;
    }
    return out;
  }

  // --- Writes, with events and expectations ---

  Status CreateClaims(const json& set, const SetView& v, int64_t ord, bool* blocked) {
    const std::string pod_name = v.PodName(ord);
    for (const json& ct : v.claim_templates) {
      const std::string claim_name = ClaimName(ct, pod_name);
      auto existing = claims_.Find(Key(v.ns, claim_name));
      if (existing) {
        // Being deleted, or owned by an earlier pod of this name (whenScaled=
        // Delete): the garbage collector removes it first.
        if (IsTerminating(*existing)) *blocked = true;
        const json& refs = Field(Meta(*existing), "ownerReferences");
        if (refs.is_array()) {
          for (const json& r : refs) {
            if (Str(r, "kind") != "Pod" || Str(r, "name") != pod_name) continue;
            auto pod = pods_.Find(Key(v.ns, pod_name));
            if (!pod || Uid(*pod) != Str(r, "uid")) *blocked = true;
          }
        }
        continue;
      }
      auto created =
          client_->Create(client::kPersistentVolumeClaims, v.ns, NewClaim(set, v, ct, pod_name));
      if (!created.ok()) {
        std::string msg = "create Claim ";
        msg += claim_name;
        msg += " for Pod ";
        msg += pod_name;
        msg += " in StatefulSet ";
        msg += v.name;
        msg += " failed error: ";
        msg += created.status().message();
        Event(set, "Warning", "FailedCreate", msg);
        return created.status();
      }
      ExpectWrite(v.key, Kind::kClaim, *created);
      std::string msg = "create Claim ";
      msg += claim_name;
      msg += " Pod ";
      msg += pod_name;
      msg += " in StatefulSet ";
      msg += v.name;
      msg += " success";
      Event(set, "Normal", "SuccessfulCreate", msg);
    }
    return Status::Ok();
  }

  Status CreatePod(const json& set, const SetView& v, const json& pod) {
    auto created = client_->Create(client::kPods, v.ns, pod);
    std::string msg = "create Pod ";
    msg += Name(pod);
    msg += " in StatefulSet ";
    msg += v.name;
    if (!created.ok()) {
      if (created.status().code() != Code::kAlreadyExists) {
        msg += " failed error: ";
        msg += created.status().message();
        Event(set, "Warning", "FailedCreate", msg);
      }
      return created.status();
    }
    ExpectWrite(v.key, Kind::kPod, *created);
    msg += " successful";
    Event(set, "Normal", "SuccessfulCreate", msg);
    return Status::Ok();
  }

  Status DeletePod(const json& set, const SetView& v, const json& pod) {
    client::DeleteOptions options;
    options.precondition_uid = Uid(pod);
    Status st = client_->Delete(client::kPods, v.ns, Name(pod), options);
    std::string msg = "delete Pod ";
    msg += Name(pod);
    msg += " in StatefulSet ";
    msg += v.name;
    if (!st.ok() && st.code() != Code::kNotFound) {
      msg += " failed error: ";
      msg += st.message();
      Event(set, "Warning", "FailedDelete", msg);
      return st;
    }
    ExpectDeletion(v.key, Kind::kPod, pod);
    msg += " successful";
    Event(set, "Normal", "SuccessfulDelete", msg);
    return Status::Ok();
  }

  // Claim ownerRefs as the retention policy wants them, for one pod's claims.
  Status FixClaimRefs(const json& set, const SetView& v, const json& pod, bool condemned) {
    for (const json& ct : v.claim_templates) {
      auto claim = claims_.Find(Key(v.ns, ClaimName(ct, Name(pod))));
      if (!claim || IsTerminating(*claim)) continue;
      json refs = DesiredClaimRefs(*claim, set, v, &pod, condemned);
      if (SameRefs(refs, Field(Meta(*claim), "ownerReferences"))) continue;
      json patch = {{"metadata",
                     {{"ownerReferences", refs.empty() ? json(nullptr) : refs},
                      {"resourceVersion", Str(Meta(*claim), "resourceVersion")}}}};
      ASSIGN_OR_RETURN(json written,
                       client_->Patch(client::kPersistentVolumeClaims, v.ns, Name(*claim),
                                      client::PatchType::kMerge, patch));
      ExpectWrite(v.key, Kind::kClaim, written);
    }
    return Status::Ok();
  }

  // Claim growth: the lowest ordinal whose claims are smaller than their
  // template gets them patched (one ordinal per sync, so pets grow in
  // order). Counts claims for the status condition.
  Status GrowClaims(const json& set, const SetView& v, int* at_size, int* total) {
    bool patched_earlier = false;
    for (int64_t ord = v.start; ord < v.start + v.replicas; ++ord) {
      bool patched_here = false;
      for (const json& ct : v.claim_templates) {
        auto want = StorageBytes(Field(ct, "spec"));
        auto claim = claims_.Find(Key(v.ns, ClaimName(ct, v.PodName(ord))));
        if (!want || !claim || IsTerminating(*claim)) continue;
        auto have = StorageBytes(Field(*claim, "spec"));
        ++*total;
        if (!have || *have >= *want) {
          ++*at_size;
          continue;
        }
        if (patched_earlier) continue;  // a later ordinal waits for the next sync
        const json& quantity = ct["spec"]["resources"]["requests"]["storage"];
        json patch = {{"spec", {{"resources", {{"requests", {{"storage", quantity}}}}}}}};
        auto written = client_->Patch(client::kPersistentVolumeClaims, v.ns, Name(*claim),
                                      client::PatchType::kMerge, patch);
        std::string msg = "resize Claim ";
        msg += Name(*claim);
        msg += " Pod ";
        msg += v.PodName(ord);
        msg += " in StatefulSet ";
        msg += v.name;
        msg += " to ";
        msg += quantity.is_string() ? quantity.get<std::string>() : quantity.dump();
        if (!written.ok()) {
          msg += " failed error: ";
          msg += written.status().message();
          Event(set, "Warning", "FailedResizeClaim", msg);
          return written.status();
        }
        ExpectWrite(v.key, Kind::kClaim, *written);
        Event(set, "Normal", "ResizingClaim", msg);
        ++*at_size;
        patched_here = true;
      }
      patched_earlier = patched_earlier || patched_here;
    }
    return Status::Ok();
  }

  // Runs work(0..count-1) in batches of 1, 2, 4, … concurrent calls, as
  // Kubernetes' slowStartBatch does for Parallel sets: a hundred pets are
  // written with many requests in flight (the store commits them together)
  // instead of one round trip after another, yet a set whose creates all
  // fail (quota, bad template) costs one failed request, not a hundred. Stops
  // after the first batch with a failure and returns its first error.
  static Status InSlowStartBatches(size_t count, const std::function<Status(size_t)>& work) {
    size_t next = 0;
    for (size_t batch = 1; next < count; batch = std::min(batch * 2, kMaxConcurrentCreates)) {
      const size_t size = std::min(batch, count - next);
      std::vector<Status> results(size);
      std::vector<std::thread> threads;
      for (size_t j = 1; j < size; ++j) {
        threads.emplace_back([&, j] { results[j] = work(next + j); });
      }
      results[0] = work(next);
      for (std::thread& t : threads) t.join();
      for (const Status& st : results) RETURN_IF_ERROR(st);
      next += size;
    }
    return Status::Ok();
  }

  // --- Reconcile ---

  Status Reconcile(const std::string& key) {
    auto set = sets_.Get(key);
    if (!set) {
      std::lock_guard<std::mutex> lock(mu_);
      expectations_.erase(key);
      return Status::Ok();
    }
    if (Pending(key)) {
      // The events settling them queue the set; the timeout backs that up.
      queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(
                               kExpectationTimeout + std::chrono::seconds(1)));
      return Status::Ok();
    }
    if (IsTerminating(*set)) return Status::Ok();  // its pods go with it
    return Sync(*set);
  }

  Status Sync(const json& set) {
    SetView v(set);
    auto selector = api::LabelSelector::FromJson(Field(Field(set, "spec"), "selector"));
    if (!selector.ok() || selector->Empty()) return Status::Ok();  // validation refuses these
    ASSIGN_OR_RETURN(Objects revision_refs,
                     Claim(set, v, Kind::kRevision, kControllerRevisions, *selector));
    std::vector<json> revisions;  // a few, and ResolveRevisions adds to them
    for (const auto& r : revision_refs) revisions.push_back(*r);
    ASSIGN_OR_RETURN(Objects pods, Claim(set, v, Kind::kPod, client::kPods, *selector));
    ASSIGN_OR_RETURN(Revisions revs, ResolveRevisions(set, v, revisions));
    const json current_tmpl = TemplateOf(revs.current);
    const json update_tmpl = TemplateOf(revs.update);

    // The ordinal view.
    const int64_t n = std::max<int64_t>(0, v.replicas);
    std::vector<const json*> slots(n, nullptr);
    std::vector<const json*> condemned;
    for (const json& pod : Deref(pods)) {
      int64_t ord = ParentAndOrdinal(Name(pod)).second;
      if (ord < 0) continue;
      if (ord >= v.start && ord < v.start + n) {
        slots[ord - v.start] = &pod;
      } else {
        condemned.push_back(&pod);
      }
    }
    std::sort(condemned.begin(), condemned.end(), [](const json* a, const json* b) {
      return ParentAndOrdinal(Name(*a)).second > ParentAndOrdinal(Name(*b)).second;
    });
    const int64_t update_min = v.rolling ? std::min(std::max<int64_t>(v.partition, 0), n) : 0;
    RETURN_IF_ERROR(Act(set, v, revs, slots, condemned, current_tmpl, update_tmpl, update_min));

    // Claim growth runs whatever the pods do: it disrupts none.
    int at_size = 0, total = 0;
    RETURN_IF_ERROR(GrowClaims(set, v, &at_size, &total));

    RETURN_IF_ERROR(WriteStatus(set, v, revs, pods, at_size, total));
    RETURN_IF_ERROR(TruncateHistory(v, revs, revisions, pods));

    // minReadySeconds: look again once the next pod becomes available.
    if (v.min_ready > 0) {
      std::optional<std::chrono::milliseconds> soonest;
      for (const json& pod : Deref(pods)) {
        auto left = UntilAvailable(pod, v.min_ready);
        if (left && left->count() > 0 && (!soonest || *left < *soonest)) soonest = left;
      }
      if (soonest) queue_.AddAfter(v.key, *soonest + std::chrono::milliseconds(100));
    }
    return Status::Ok();
  }

  Status Act(const json& set, const SetView& v, const Revisions& revs,
             const std::vector<const json*>& slots, const std::vector<const json*>& condemned,
             const json& current_tmpl, const json& update_tmpl, int64_t update_min) {
    const std::string current_name = Name(revs.current);
    const std::string update_name = Name(revs.update);
    const int64_t n = static_cast<int64_t>(slots.size());

    // Heal (issue 67250): an unready pod at a revision it should not have
    // is replaced now, before OrderedReady would wait on it forever.
    if (v.rolling) {
      for (int64_t i = n - 1; i >= 0; --i) {
        if (!slots[i]) continue;
        const json& pod = *slots[i];
        if (IsTerminating(pod) || IsRunningAndReady(pod) || !IsCreated(pod)) continue;
        if (IsFailed(pod) || IsSucceeded(pod)) continue;  // handled below
        std::string rev = RevisionOf(pod);
        if (rev == update_name) continue;
        if (i < update_min && rev == current_name) continue;
        std::string msg = "StatefulSet ";
        msg += v.ns;
        msg += "/";
        msg += v.name;
        msg += " is recreating Pod ";
        msg += Name(pod);
        msg += ": not Ready at revision ";
        msg += rev;
        msg += ", which is not the revision it should run (";
        msg += i < update_min ? current_name : update_name;
        msg += ")";
        Event(set, "Warning", "RecreatingUnreadyPod", msg);
        RETURN_IF_ERROR(DeletePod(set, v, pod));
        if (!v.parallel) return Status::Ok();
      }
    }

    // Creates pet i (its claims, then the pod); false when its claims block it.
    auto create_pet = [&](int64_t i, bool* blocked) -> Status {
      const int64_t ord = v.start + i;
      RETURN_IF_ERROR(CreateClaims(set, v, ord, blocked));
      if (*blocked) return Status::Ok();
      // Below the partition a pod comes back at the current revision.
      bool at_current = v.rolling && i < update_min;
      return CreatePod(set, v,
                       NewPod(set, v, at_current ? current_tmpl : update_tmpl,
                              at_current ? current_name : update_name, ord));
    };
    std::vector<int64_t> missing;  // Parallel: created together after this loop

    // Replicas in ascending order.
    for (int64_t i = 0; i < n; ++i) {
      const int64_t ord = v.start + i;
      if (!slots[i]) {
        if (v.parallel) {
          missing.push_back(i);
          continue;
        }
        bool blocked = false;
        return create_pet(i, &blocked);
      }
      const json& pod = *slots[i];
      if ((IsFailed(pod) || IsSucceeded(pod)) && !IsTerminating(pod)) {
        std::string msg = "StatefulSet ";
        msg += v.ns;
        msg += "/";
        msg += v.name;
        msg += " is recreating ";
        msg += IsFailed(pod) ? "failed" : "succeeded";
        msg += " Pod ";
        msg += Name(pod);
        Event(set, "Warning", "RecreatingFailedPod", msg);
        RETURN_IF_ERROR(DeletePod(set, v, pod));
        if (!v.parallel) return Status::Ok();
        continue;
      }
      if (IsTerminating(pod)) {
        if (!v.parallel) return Status::Ok();
        continue;
      }
      if (Phase(pod) == "Pending") {
        bool blocked = false;
        RETURN_IF_ERROR(CreateClaims(set, v, ord, &blocked));
      }
      // Identity labels drifted (edited by hand): put them back.
      const json& labels = Field(Meta(pod), "labels");
      if (Str(labels, kPodNameLabel) != Name(pod) ||
          Str(labels, kPodIndexLabel) != std::to_string(ord)) {
        json patch = {
            {"metadata",
             {{"labels", {{kPodNameLabel, Name(pod)}, {kPodIndexLabel, std::to_string(ord)}}}}}};
        ASSIGN_OR_RETURN(json written, client_->Patch(client::kPods, v.ns, Name(pod),
                                                      client::PatchType::kMerge, patch));
        ExpectWrite(v.key, Kind::kPod, written);
      }
      RETURN_IF_ERROR(FixClaimRefs(set, v, pod, /*condemned=*/false));
      if (!v.parallel && !IsAvailable(pod, v.min_ready)) return Status::Ok();
    }
    RETURN_IF_ERROR(InSlowStartBatches(missing.size(), [&](size_t j) {
      bool blocked = false;
      return create_pet(missing[j], &blocked);
    }));

    // Condemned pods: claim references first (crash-safe), then deletion
    // from the highest ordinal down.
    for (const json* pod : condemned) {
      RETURN_IF_ERROR(FixClaimRefs(set, v, *pod, /*condemned=*/true));
    }
    const json* first_unhealthy = nullptr;
    for (const json* pod : condemned) {
      if (!IsHealthy(*pod)) {
        first_unhealthy = pod;
        break;
      }
    }
    for (const json* condemned_pod : condemned) {
      const json& pod = *condemned_pod;
      if (IsTerminating(pod)) {
        if (!v.parallel) return Status::Ok();
        continue;
      }
      if (!v.parallel && !IsHealthy(pod) && &pod != first_unhealthy) return Status::Ok();
      RETURN_IF_ERROR(DeletePod(set, v, pod));
      if (!v.parallel) return Status::Ok();
    }

    if (!v.rolling) return Status::Ok();  // OnDelete: the user deletes pods

    // Rolling update: old pods from the top down to the partition, while
    // fewer than maxUnavailable pods in range are unavailable.
    const int max_unavailable = StatefulSetMaxUnavailable(set);
    int unavailable = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!slots[i] || !IsAvailable(*slots[i], v.min_ready)) ++unavailable;
    }
    int budget = max_unavailable - unavailable;
    for (int64_t i = n - 1; i >= update_min && budget > 0; --i) {
      if (!slots[i]) continue;
      const json& pod = *slots[i];
      if (RevisionOf(pod) == update_name || IsTerminating(pod)) continue;
      bool was_available = IsAvailable(pod, v.min_ready);
      RETURN_IF_ERROR(DeletePod(set, v, pod));
      if (was_available) --budget;
    }
    return Status::Ok();
  }

  Status WriteStatus(const json& set, const SetView& v, const Revisions& revs, const Objects& pods,
                     int at_size, int total) {
    const std::string current_name = Name(revs.current);
    const std::string update_name = Name(revs.update);
    int64_t replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
    for (const json& pod : Deref(pods)) {
      if (IsCreated(pod)) ++replicas;
      if (IsRunningAndReady(pod)) ++ready;
      if (IsAvailable(pod, v.min_ready)) ++available;
      if (IsTerminating(pod)) continue;
      if (RevisionOf(pod) == current_name) ++current;
      if (RevisionOf(pod) == update_name) ++updated;
    }
    std::string current_revision = current_name;
    // The rollout is complete: the update revision becomes current (under
    // OnDelete too, as Kubernetes does since PR 136833).
    if (updated == v.replicas && ready == v.replicas && replicas == v.replicas) {
      current_revision = update_name;
      current = updated;
    }
    const json& old = Field(set, "status");
    json status = old.is_object() ? old : json::object();
    status["observedGeneration"] = Int64Or(Meta(set), "generation", 0);
    status["replicas"] = replicas;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = available;
    status["currentReplicas"] = current;
    status["updatedReplicas"] = updated;
    status["currentRevision"] = current_revision;
    status["updateRevision"] = update_name;
    status["collisionCount"] = revs.collision_count;

    // Claim growth progress, shown only once a claim was smaller than asked.
    json conditions = Field(status, "conditions").is_array() ? status["conditions"] : json::array();
    json* resized = nullptr;
    for (json& c : conditions) {
      if (Str(c, "type") == kResizedCondition) resized = &c;
    }
    if (at_size < total || resized != nullptr) {
      bool done = at_size >= total;
      std::string message = std::to_string(at_size);
      message += " of ";
      message += std::to_string(total);
      message += " claims request the templates' storage";
      json c = {{"type", kResizedCondition},
                {"status", done ? "True" : "False"},
                {"reason", done ? "Resized" : "Resizing"},
                {"message", message}};
      if (resized != nullptr && Str(*resized, "status") == Str(c, "status")) {
        c["lastTransitionTime"] = Field(*resized, "lastTransitionTime");
      } else {
        c["lastTransitionTime"] = NowRfc3339();
      }
      if (resized != nullptr) {
        *resized = c;
      } else {
        conditions.push_back(c);
      }
      status["conditions"] = conditions;
    }
    if (status == old) return Status::Ok();
    json next = set;
    next["status"] = status;
    ASSIGN_OR_RETURN(json written, client_->UpdateStatus(client::kStatefulSets, v.ns, next));
    ExpectWrite(v.key, Kind::kSet, written);
    return Status::Ok();
  }

  // Revisions no pod uses, beyond revisionHistoryLimit, oldest first.
  Status TruncateHistory(const SetView& v, const Revisions& revs,
                         const std::vector<json>& revisions, const Objects& pods) {
    std::set<std::string> live = {Name(revs.current), Name(revs.update)};
    for (const json& pod : Deref(pods)) live.insert(RevisionOf(pod));
    std::vector<const json*> old;
    for (const json& r : revisions) {
      if (!live.count(Name(r))) old.push_back(&r);
    }
    int64_t excess = static_cast<int64_t>(old.size()) - std::max<int64_t>(0, v.history_limit);
    for (int64_t i = 0; i < excess; ++i) {
      Status st = client_->Delete(kControllerRevisions, v.ns, Name(*old[i]));
      if (!st.ok() && st.code() != Code::kNotFound) return st;
      ExpectDeletion(v.key, Kind::kRevision, *old[i]);
    }
    return Status::Ok();
  }

  client::Client* client_;
  StatefulSetOptions options_;
  client::Informer sets_;
  client::Informer pods_;
  client::Informer claims_;
  client::Informer revisions_;
  client::EventRecorder events_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ = false;                                         // guarded by mu_
  std::map<std::string, std::vector<Expectation>> expectations_;  // guarded by mu_: set key →
  std::map<std::string, Clock::time_point> expectations_since_;   // guarded by mu_
};

}  // namespace

json StatefulSetRevisionData(const json& set) {
  json tmpl = WithoutNulls(Field(Field(set, "spec"), "template"));
  if (!tmpl.is_object()) tmpl = json::object();
  tmpl["$patch"] = "replace";
  return {{"spec", {{"template", tmpl}}}};
}

std::string StatefulSetRevisionHash(const json& data, int64_t collision_count) {
  uint32_t h = 2166136261u;  // FNV-32 (multiply, then xor)
  auto feed = [&h](const std::string& bytes) {
    for (unsigned char c : bytes) {
      h *= 16777619u;
      h ^= c;
    }
  };
  feed(data.dump());
  feed(std::to_string(collision_count));
  static constexpr char kAlphanums[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out = std::to_string(h);
  for (char& c : out) c = kAlphanums[static_cast<unsigned char>(c) % (sizeof(kAlphanums) - 1)];
  return out;
}

int StatefulSetMaxUnavailable(const json& set) {
  const json& spec = Field(set, "spec");
  const json& max = Field(Field(Field(spec, "updateStrategy"), "rollingUpdate"), "maxUnavailable");
  int64_t replicas = Int64Or(spec, "replicas", 1);
  int64_t value = 1;
  if (max.is_number_integer()) {
    value = max.get<int64_t>();
  } else if (max.is_string()) {
    std::string text = max.get<std::string>();
    int64_t pct = 0;
    bool is_pct = !text.empty() && text.back() == '%';
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size() - (is_pct ? 1 : 0), pct);
    if (ec == std::errc() && is_pct) {
      value = (pct * replicas + 99) / 100;  // rounded up
    } else if (ec == std::errc()) {
      value = pct;
    }
  }
  return static_cast<int>(std::max<int64_t>(1, value));
}

StatusOr<std::unique_ptr<StatefulSetController>> StatefulSetController::Start(
    client::Client* client, StatefulSetOptions options) {
  if (client == nullptr) return BadRequest("the statefulset controller needs a client");
  auto controller = std::make_unique<StatefulSetControllerImpl>(client, options);
  controller->Run();
  return std::unique_ptr<StatefulSetController>(std::move(controller));
}

}  // namespace kennel::controllers
