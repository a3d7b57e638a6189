#include "controllers/deployment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/selector.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/internal/workload.h"
#include "controllers/replicaset.h"

namespace kennel::controllers {
namespace {

using client::json;
using internal::Int;
using internal::IsDeleting;
using internal::Member;
using internal::Meta;
using internal::NamespacedKey;
using internal::Str;

constexpr const char* kHashLabel = "pod-template-hash";
constexpr const char* kRevision = "deployment.kubernetes.io/revision";
constexpr const char* kRevisionHistory = "deployment.kubernetes.io/revision-history";
constexpr const char* kDesiredReplicas = "deployment.kubernetes.io/desired-replicas";
constexpr const char* kMaxReplicas = "deployment.kubernetes.io/max-replicas";

// Deployment annotations not copied onto its ReplicaSets (Kubernetes'
// skipCopyAnnotation).
bool SkipCopyAnnotation(const std::string& key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevision ||
         key == kRevisionHistory || key == kDesiredReplicas || key == kMaxReplicas ||
         key == "deprecated.deployment.rollback.to";
}

int64_t Revision(const json& rs) {
  std::string text = Str(Member(Meta(rs), "annotations"), kRevision);
  if (text.empty()) return 0;
  try {
    return std::stoll(text);
  } catch (...) {
    return 0;
  }
}

int64_t SpecReplicas(const json& obj) { return Int(Member(obj, "spec"), "replicas", 1); }
int64_t StatusInt(const json& obj, const char* field) { return Int(Member(obj, "status"), field); }

// Drops nulls and empty objects and arrays, recursively: typed Go structs
// (kubectl's `rollout undo` sends one) cannot tell them from absent fields.
void DropEmpty(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      DropEmpty(*it);
      if (it->is_null() || ((it->is_object() || it->is_array()) && it->empty())) {
        it = v.erase(it);
      } else {
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (json& e : v) DropEmpty(e);
  }
}

// A template without the hash label, for comparing a ReplicaSet's with the
// Deployment's (Kubernetes' EqualIgnoreHash).
json WithoutHash(const json& tmpl) {
  json t = tmpl.is_object() ? tmpl : json::object();
  DropEmpty(t);
  if (t.contains("metadata") && t["metadata"].is_object() && t["metadata"].contains("labels") &&
      t["metadata"]["labels"].is_object()) {
    t["metadata"]["labels"].erase(kHashLabel);
    if (t["metadata"]["labels"].empty()) t["metadata"].erase("labels");
  }
  return t;
}

bool OlderFirst(const json& a, const json& b) {
  int64_t ca = ParseRfc3339(Str(Meta(a), "creationTimestamp"));
  int64_t cb = ParseRfc3339(Str(Meta(b), "creationTimestamp"));
  if (ca != cb) return ca < cb;
  return Str(Meta(a), "name") < Str(Meta(b), "name");
}

StatusOr<int64_t> ScaledValue(const json& v, int64_t total, bool round_up) {
  if (v.is_null()) return 0;
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') {
      try {
        int64_t pct = std::stoll(s.substr(0, s.size() - 1));
        double scaled = static_cast<double>(pct) * static_cast<double>(total) / 100.0;
        return static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
      } catch (...) {
      }
    }
  }
  std::string msg = "invalid value for IntOrString: ";
  msg += v.dump();
  return BadRequest(msg);
}

json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message) {
  std::string now = NowRfc3339();
  return {{"type", type},       {"status", status},      {"reason", reason},
          {"message", message}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
}

const json* FindCondition(const json& status, const std::string& type) {
  const json& conditions = Member(status, "conditions");
  if (!conditions.is_array()) return nullptr;
  for (const json& c : conditions) {
    if (Str(c, "type") == type) return &c;
  }
  return nullptr;
}

// Replaces the condition of that type; the same status keeps its
// lastTransitionTime.
void ReplaceCondition(json& status, json condition) {
  json kept = json::array();
  const json* current = FindCondition(status, Str(condition, "type"));
  if (current != nullptr && Str(*current, "status") == Str(condition, "status")) {
    condition["lastTransitionTime"] = Member(*current, "lastTransitionTime");
  }
  const json& conditions = Member(status, "conditions");
  if (conditions.is_array()) {
    for (const json& c : conditions) {
      if (Str(c, "type") != Str(condition, "type")) kept.push_back(c);
    }
  }
  kept.push_back(std::move(condition));
  status["conditions"] = std::move(kept);
}

// Kubernetes' SetDeploymentCondition: the same status and reason change
// nothing (so a resync writes nothing).
void SetCondition(json& status, json condition) {
  const json* current = FindCondition(status, Str(condition, "type"));
  if (current != nullptr && Str(*current, "status") == Str(condition, "status") &&
      Str(*current, "reason") == Str(condition, "reason")) {
    return;
  }
  ReplaceCondition(status, std::move(condition));
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  out += s;
  out += "\"";
  return out;
}

class DeploymentControllerImpl : public DeploymentController {
 public:
  DeploymentControllerImpl(client::Client* client, DeploymentOptions options)
      : client_(client),
        options_(options),
        deployments_(client, kDeployments, ""),
        sets_(client, kReplicaSets, ""),
        recorder_(client, "deployment-controller") {}

  ~DeploymentControllerImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    deployments_.Stop();
    sets_.Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
  }

  void Run() {
    client::InformerHandler on_deploy;
    on_deploy.on_add = [this](const json& d) { DeploymentChanged(d, false); };
    on_deploy.on_update = [this](const json&, const json& d) { DeploymentChanged(d, false); };
    on_deploy.on_delete = [this](const json& d) { DeploymentChanged(d, true); };
    deployments_.AddHandler(std::move(on_deploy));

    client::InformerHandler on_set;
    on_set.on_add = [this](const json& rs) { SetChanged(nullptr, rs, false); };
    on_set.on_update = [this](const json& old, const json& rs) { SetChanged(&old, rs, false); };
    on_set.on_delete = [this](const json& rs) { SetChanged(nullptr, rs, true); };
    sets_.AddHandler(std::move(on_set));

    deployments_.Start();
    sets_.Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("deployment");
        Work();
      });
    }
  }

 private:
  // Informer handlers.

  void DeploymentChanged(const json& d, bool deleted) {
    std::string ns = Str(Meta(d), "namespace");
    std::string name = Str(Meta(d), "name");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (deleted) {
        deployments_by_ns_[ns].erase(name);
      } else {
        deployments_by_ns_[ns].insert(name);
      }
    }
    queue_.Add(NamespacedKey(ns, name));
  }

  std::optional<std::string> ControllerKey(const json& rs) {
    auto ref = internal::ControllerRefOf(rs);
    if (!ref || Str(*ref, "kind") != "Deployment" || Str(*ref, "apiVersion") != "apps/v1") {
      return std::nullopt;
    }
    std::string key = NamespacedKey(Str(Meta(rs), "namespace"), Str(*ref, "name"));
    auto d = deployments_.Get(key);
    if (!d || Str(Meta(*d), "uid") != Str(*ref, "uid")) return std::nullopt;
    return key;
  }

  std::vector<std::string> MatchingDeployments(const json& rs) {
    std::string ns = Str(Meta(rs), "namespace");
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = deployments_by_ns_.find(ns);
      if (it != deployments_by_ns_.end()) names.assign(it->second.begin(), it->second.end());
    }
    std::vector<std::string> out;
    for (const std::string& name : names) {
      std::string key = NamespacedKey(ns, name);
      auto d = deployments_.Get(key);
      if (!d) continue;
      auto selector = api::LabelSelector::FromJson(Member(Member(*d, "spec"), "selector"));
      if (!selector.ok() || selector->Empty()) continue;
      if (selector->Matches(Member(Meta(Member(Member(rs, "spec"), "template")), "labels"))) {
        out.push_back(key);
      }
    }
    return out;
  }

  void SetChanged(const json* old, const json& rs, bool deleted) {
    std::string ns = Str(Meta(rs), "namespace");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (deleted) {
        sets_by_ns_[ns].erase(Str(Meta(rs), "name"));
      } else {
        sets_by_ns_[ns].insert(Str(Meta(rs), "name"));
      }
    }
    if (old != nullptr) {
      if (auto k = ControllerKey(*old)) queue_.Add(*k);
    }
    if (auto k = ControllerKey(rs)) {
      queue_.Add(*k);
    } else if (!deleted && !internal::ControllerRefOf(rs)) {
      for (const std::string& k : MatchingDeployments(rs)) queue_.Add(k);
    }
  }

  // Workers.

  void Work() {
    for (client::Informer* inf : {&deployments_, &sets_}) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
    }
    queue_.Process("deployment controller",
                   [this](const std::string& key) { return Reconcile(key); });
  }

  // The ReplicaSets d controls after adoption and release.
  StatusOr<std::vector<json>> ClaimReplicaSets(const json& d, const api::LabelSelector& selector) {
    const std::string ns = Str(Meta(d), "namespace");
    const std::string uid = Str(Meta(d), "uid");
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sets_by_ns_.find(ns);
      if (it != sets_by_ns_.end()) names.assign(it->second.begin(), it->second.end());
    }
    std::vector<json> claimed;
    std::optional<bool> can_adopt;
    for (const std::string& name : names) {
      auto rs = sets_.Get(NamespacedKey(ns, name));
      if (!rs) continue;
      auto ref = internal::ControllerRefOf(*rs);
      const bool matches =
          selector.Matches(Member(Meta(Member(Member(*rs, "spec"), "template")), "labels"));
      if (ref) {
        if (Str(*ref, "uid") != uid) continue;
        if (matches) {
          claimed.push_back(std::move(*rs));
        } else if (!IsDeleting(d)) {
          json patch = {{"metadata",
                         {{"ownerReferences", json::array({{{"$patch", "delete"}, {"uid", uid}}})},
                          {"uid", Str(Meta(*rs), "uid")}}}};
          auto r =
              client_->Patch(kReplicaSets, ns, name, client::PatchType::kStrategicMerge, patch);
          if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
        }
        continue;
      }
      if (!matches || IsDeleting(d) || IsDeleting(*rs)) continue;
      if (!can_adopt) {
        auto fresh = client_->Get(kDeployments, ns, Str(Meta(d), "name"));
        can_adopt = fresh.ok() && Str(Meta(*fresh), "uid") == uid && !IsDeleting(*fresh);
      }
      if (!*can_adopt) continue;
      json patch = {{"metadata",
                     {{"ownerReferences",
                       json::array({internal::NewControllerRef(d, "apps/v1", "Deployment")})},
                      {"uid", Str(Meta(*rs), "uid")}}}};
      auto r = client_->Patch(kReplicaSets, ns, name, client::PatchType::kStrategicMerge, patch);
      if (!r.ok()) {
        if (r.status().code() == Code::kNotFound) continue;
        return r.status();
      }
      claimed.push_back(std::move(*r));
    }
    std::sort(claimed.begin(), claimed.end(), OlderFirst);
    return claimed;
  }

  StatusOr<Fenceposts> FencepostsOf(const json& d) {
    const json& strategy = Member(Member(d, "spec"), "strategy");
    if (Str(strategy, "type") != "RollingUpdate") return Fenceposts{};
    const json& rolling = Member(strategy, "rollingUpdate");
    json surge = Member(rolling, "maxSurge");
    json unavailable = Member(rolling, "maxUnavailable");
    if (surge.is_null()) surge = "25%";
    if (unavailable.is_null()) unavailable = "25%";
    return ResolveFenceposts(surge, unavailable, SpecReplicas(d));
  }

  // Kubernetes' MaxUnavailable: 0 for Recreate or no replicas.
  int64_t MaxUnavailable(const json& d) {
    const int64_t replicas = SpecReplicas(d);
    if (Str(Member(Member(d, "spec"), "strategy"), "type") != "RollingUpdate" || replicas == 0) {
      return 0;
    }
    auto f = FencepostsOf(d);
    if (!f.ok()) return 0;
    return std::min(f->unavailable, replicas);
  }

  int64_t MaxSurge(const json& d) {
    auto f = FencepostsOf(d);
    return f.ok() ? f->surge : 0;
  }

  // Sets replicas (and the desired/max annotations) on rs, with an event.
  StatusOr<json> ScaleReplicaSet(const json& d, const json& rs, int64_t replicas) {
    const int64_t old_scale = SpecReplicas(rs);
    const std::string desired = std::to_string(SpecReplicas(d));
    const std::string max = std::to_string(SpecReplicas(d) + MaxSurge(d));
    const json& annotations = Member(Meta(rs), "annotations");
    if (old_scale == replicas && Str(annotations, kDesiredReplicas) == desired &&
        Str(annotations, kMaxReplicas) == max) {
      return rs;
    }
    json next = rs;
    next["spec"]["replicas"] = replicas;
    next["metadata"]["annotations"][kDesiredReplicas] = desired;
    next["metadata"]["annotations"][kMaxReplicas] = max;
    ASSIGN_OR_RETURN(json updated, client_->Update(kReplicaSets, Str(Meta(rs), "namespace"), next));
    if (old_scale != replicas) {
      std::string msg = "Scaled ";
      msg += replicas > old_scale ? "up" : "down";
      msg += " replica set ";
      msg += Str(Meta(rs), "name");
      msg += " from ";
      msg += std::to_string(old_scale);
      msg += " to ";
      msg += std::to_string(replicas);
      recorder_.Record(d, "Deployment", "Normal", "ScalingReplicaSet", msg);
    }
    return updated;
  }

  // The new ReplicaSet, its revision annotations synced; created when
  // create_if_missing. *created tells whether it was made now.
  StatusOr<std::optional<json>> NewReplicaSet(json& d, const std::vector<json>& sets,
                                              const std::vector<json>& old_sets,
                                              bool create_if_missing, bool* created) {
    const std::string ns = Str(Meta(d), "namespace");
    const json& tmpl = Member(Member(d, "spec"), "template");
    int64_t max_old_revision = 0;
    for (const json& rs : old_sets) max_old_revision = std::max(max_old_revision, Revision(rs));
    const std::string new_revision = std::to_string(max_old_revision + 1);

    std::optional<json> existing;
    for (const json& rs : sets) {
      if (WithoutHash(Member(Member(rs, "spec"), "template")) == WithoutHash(tmpl)) {
        existing = rs;
        break;
      }
    }
    json annotations = json::object();
    const json& d_annotations = Member(Meta(d), "annotations");
    if (d_annotations.is_object()) {
      for (const auto& [k, v] : d_annotations.items()) {
        if (!SkipCopyAnnotation(k)) annotations[k] = v;
      }
    }
    if (existing) {
      json next = *existing;
      bool changed = false;
      json& ann = next["metadata"]["annotations"];
      if (!ann.is_object()) ann = json::object();
      for (const auto& [k, v] : annotations.items()) {
        if (ann.value(k, json()) != v) {
          ann[k] = v;
          changed = true;
        }
      }
      if (Revision(*existing) < max_old_revision + 1) {
        // A rollback to this template: it becomes the newest revision, and
        // remembers the revisions it had.
        std::string old_rev = Str(ann, kRevision);
        if (!old_rev.empty()) {
          std::string history = Str(ann, kRevisionHistory);
          if (!history.empty()) history += ",";
          history += old_rev;
          ann[kRevisionHistory] = history;
        }
        ann[kRevision] = new_revision;
        changed = true;
      }
      if (changed) {
        ASSIGN_OR_RETURN(existing, client_->Update(kReplicaSets, ns, next));
      }
      RETURN_IF_ERROR(
          SetDeploymentRevision(d, Str(Member(Meta(*existing), "annotations"), kRevision)));
      return existing;
    }
    if (!create_if_missing) return std::optional<json>();

    const int64_t collisions = Int(Member(d, "status"), "collisionCount");
    const std::string hash = PodTemplateHash(tmpl, collisions);
    json rs_template = tmpl;
    rs_template["metadata"]["labels"][kHashLabel] = hash;
    json selector = Member(Member(d, "spec"), "selector");
    selector["matchLabels"][kHashLabel] = hash;
    std::string name = Str(Meta(d), "name");
    name += "-";
    name += hash;
    annotations[kRevision] = new_revision;
    annotations[kDesiredReplicas] = std::to_string(SpecReplicas(d));
    annotations[kMaxReplicas] = std::to_string(SpecReplicas(d) + MaxSurge(d));
    json rs = {{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"metadata",
                {{"name", name},
                 {"namespace", ns},
                 {"labels", rs_template["metadata"]["labels"]},
                 {"annotations", annotations},
                 {"ownerReferences",
                  json::array({internal::NewControllerRef(d, "apps/v1", "Deployment")})}}},
               {"spec",
                {{"replicas", 0},
                 {"minReadySeconds", Int(Member(d, "spec"), "minReadySeconds")},
                 {"selector", selector},
                 {"template", rs_template}}}};
    rs["spec"]["replicas"] = NewReplicaSetReplicas(d, sets, nullptr);
    auto made = client_->Create(kReplicaSets, ns, rs);
    if (!made.ok()) {
      if (made.status().code() != Code::kAlreadyExists) return made.status();
      // Ours, with this template, but not in the cache yet: try again later.
      auto other = client_->Get(kReplicaSets, ns, name);
      if (other.ok()) {
        auto ref = internal::ControllerRefOf(*other);
        if (ref && Str(*ref, "uid") == Str(Meta(d), "uid") &&
            WithoutHash(Member(Member(*other, "spec"), "template")) == WithoutHash(tmpl)) {
          return made.status();
        }
      }
      // A hash collision: another template has the name. Count it, retry.
      json next = d;
      next["status"]["collisionCount"] = collisions + 1;
      auto r = client_->UpdateStatus(kDeployments, ns, next);
      if (!r.ok()) return r.status();
      return made.status();
    }
    *created = true;
    if (SpecReplicas(*made) > 0) {
      std::string msg = "Scaled up replica set ";
      msg += name;
      msg += " from 0 to ";
      msg += std::to_string(SpecReplicas(*made));
      recorder_.Record(d, "Deployment", "Normal", "ScalingReplicaSet", msg);
    }
    RETURN_IF_ERROR(SetDeploymentRevision(d, new_revision));
    return std::optional<json>(std::move(*made));
  }

  Status SetDeploymentRevision(json& d, const std::string& revision) {
    if (revision.empty() || Str(Member(Meta(d), "annotations"), kRevision) == revision) {
      return Status::Ok();
    }
    json next = d;
    next["metadata"]["annotations"][kRevision] = revision;
    ASSIGN_OR_RETURN(d, client_->Update(kDeployments, Str(Meta(d), "namespace"), next));
    return Status::Ok();
  }

  // Kubernetes' NewRSNewReplicas.
  int64_t NewReplicaSetReplicas(const json& d, const std::vector<json>& all, const json* new_rs) {
    const int64_t replicas = SpecReplicas(d);
    const int64_t current_new = new_rs ? SpecReplicas(*new_rs) : 0;
    if (Str(Member(Member(d, "spec"), "strategy"), "type") != "RollingUpdate") return replicas;
    int64_t current = 0;
    for (const json& rs : all) current += SpecReplicas(rs);
    const int64_t max_total = replicas + MaxSurge(d);
    if (current >= max_total) return current_new;
    int64_t up = std::min(max_total - current, replicas - current_new);
    return current_new + std::max<int64_t>(up, 0);
  }

  // Rolling update: returns whether it scaled anything.
  StatusOr<bool> RolloutRolling(json& d, const json& new_rs, std::vector<json>& old_sets) {
    std::vector<json> all = old_sets;
    all.push_back(new_rs);
    const int64_t replicas = SpecReplicas(d);
    // Scale the new ReplicaSet.
    if (SpecReplicas(new_rs) != replicas) {
      int64_t target =
          SpecReplicas(new_rs) > replicas ? replicas : NewReplicaSetReplicas(d, all, &new_rs);
      if (target != SpecReplicas(new_rs)) {
        RETURN_IF_ERROR(ScaleReplicaSet(d, new_rs, target).status());
        return true;
      }
    }
    // Scale the old ones down.
    int64_t old_pods = 0;
    for (const json& rs : old_sets) old_pods += SpecReplicas(rs);
    if (old_pods == 0) return false;
    int64_t all_pods = 0;
    for (const json& rs : all) all_pods += SpecReplicas(rs);
    const int64_t min_available = replicas - MaxUnavailable(d);
    const int64_t new_unavailable = SpecReplicas(new_rs) - StatusInt(new_rs, "availableReplicas");
    int64_t max_scaled_down = all_pods - min_available - new_unavailable;
    if (max_scaled_down <= 0) return false;
    bool scaled = false;
    // Unhealthy replicas first: they cost no availability.
    int64_t cleaned = 0;
    for (json& rs : old_sets) {
      if (cleaned >= max_scaled_down) break;
      const int64_t spec = SpecReplicas(rs);
      if (spec == 0) continue;
      const int64_t unhealthy = spec - StatusInt(rs, "availableReplicas");
      if (unhealthy <= 0) continue;
      const int64_t down = std::min(max_scaled_down - cleaned, unhealthy);
      ASSIGN_OR_RETURN(rs, ScaleReplicaSet(d, rs, spec - down));
      cleaned += down;
      scaled = true;
    }
    all = old_sets;
    all.push_back(new_rs);
    int64_t available = 0;
    for (const json& rs : all) available += StatusInt(rs, "availableReplicas");
    if (available > min_available) {
      int64_t total = available - min_available;
      int64_t done = 0;
      for (json& rs : old_sets) {
        if (done >= total) break;
        const int64_t spec = SpecReplicas(rs);
        if (spec == 0) continue;
        const int64_t down = std::min(spec, total - done);
        ASSIGN_OR_RETURN(rs, ScaleReplicaSet(d, rs, spec - down));
        done += down;
        scaled = true;
      }
    }
    return scaled || cleaned > 0;
  }

  // Deletes the oldest empty ReplicaSets beyond revisionHistoryLimit.
  Status CleanupOld(const json& d, const std::vector<json>& old_sets) {
    const int64_t limit = Int(Member(d, "spec"), "revisionHistoryLimit", 10);
    std::vector<const json*> cleanable;
    for (const json& rs : old_sets) {
      if (SpecReplicas(rs) == 0 && StatusInt(rs, "replicas") == 0 && !IsDeleting(rs) &&
          StatusInt(rs, "observedGeneration") >= Int(Meta(rs), "generation", 1)) {
        cleanable.push_back(&rs);
      }
    }
    int64_t excess = static_cast<int64_t>(old_sets.size()) - limit;
    if (excess <= 0) return Status::Ok();
    std::sort(cleanable.begin(), cleanable.end(), [](const json* a, const json* b) {
      if (Revision(*a) != Revision(*b)) return Revision(*a) < Revision(*b);
      return OlderFirst(*a, *b);
    });
    for (const json* rs : cleanable) {
      if (excess-- <= 0) break;
      client::DeleteOptions options;
      options.precondition_uid = Str(Meta(*rs), "uid");
      Status st = client_->Delete(kReplicaSets, Str(Meta(*rs), "namespace"), Str(Meta(*rs), "name"),
                                  options);
      if (!st.ok() && st.code() != Code::kNotFound && st.code() != Code::kConflict) return st;
    }
    return Status::Ok();
  }

  bool Complete(const json& d, const json& status) {
    const int64_t replicas = SpecReplicas(d);
    return Int(status, "updatedReplicas") == replicas && Int(status, "replicas") == replicas &&
           Int(status, "availableReplicas") == replicas &&
           Int(status, "observedGeneration") >= Int(Meta(d), "generation", 1);
  }

  // Computes and writes status; created: the new ReplicaSet was made now.
  Status SyncStatus(const std::string& key, const json& d, const std::optional<json>& new_rs,
                    const std::vector<json>& old_sets, bool created) {
    const json& old_status = Member(d, "status");
    json status = old_status.is_object() ? old_status : json::object();
    int64_t replicas = 0, ready = 0, available = 0;
    std::vector<json> all = old_sets;
    if (new_rs) all.push_back(*new_rs);
    for (const json& rs : all) {
      replicas += StatusInt(rs, "replicas");
      ready += StatusInt(rs, "readyReplicas");
      available += StatusInt(rs, "availableReplicas");
    }
    const int64_t updated = new_rs ? StatusInt(*new_rs, "replicas") : 0;
    const int64_t unavailable = std::max<int64_t>(0, SpecReplicas(d) - available);
    auto set = [&status](const char* field, int64_t value) {
      if (value == 0) {
        status.erase(field);
      } else {
        status[field] = value;
      }
    };
    set("observedGeneration", Int(Meta(d), "generation", 1));
    set("replicas", replicas);
    set("updatedReplicas", updated);
    set("readyReplicas", ready);
    set("availableReplicas", available);
    set("unavailableReplicas", unavailable);

    if (available >= SpecReplicas(d) - MaxUnavailable(d)) {
      SetCondition(status, Condition("Available", "True", "MinimumReplicasAvailable",
                                     "Deployment has minimum availability."));
    } else {
      SetCondition(status, Condition("Available", "False", "MinimumReplicasUnavailable",
                                     "Deployment does not have minimum availability."));
    }
    const int64_t deadline = Int(Member(d, "spec"), "progressDeadlineSeconds", 600);
    const bool paused = Member(Member(d, "spec"), "paused") == json(true);
    const std::string rs_name = new_rs ? Str(Meta(*new_rs), "name") : "";
    const json* progressing = FindCondition(status, "Progressing");
    const bool timed_out_already =
        progressing != nullptr && Str(*progressing, "reason") == "ProgressDeadlineExceeded";
    bool requeue = false;
    if (paused) {
      // Kubernetes: DeploymentPaused, no deadline while paused.
      SetCondition(status,
                   Condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"));
    } else if (new_rs && Complete(d, status)) {
      std::string msg = "ReplicaSet ";
      msg += Quoted(rs_name);
      msg += " has successfully progressed.";
      SetCondition(status, Condition("Progressing", "True", "NewReplicaSetAvailable", msg));
    } else if (created) {
      std::string msg = "Created new replica set ";
      msg += Quoted(rs_name);
      SetCondition(status, Condition("Progressing", "True", "NewReplicaSetCreated", msg));
      requeue = true;
    } else if (new_rs && progressing == nullptr) {
      std::string msg = "Found new replica set ";
      msg += Quoted(rs_name);
      SetCondition(status, Condition("Progressing", "True", "FoundNewReplicaSet", msg));
      requeue = true;
    } else if (new_rs && (updated > Int(old_status, "updatedReplicas") ||
                          ready > Int(old_status, "readyReplicas") ||
                          available > Int(old_status, "availableReplicas") ||
                          replicas < Int(old_status, "replicas"))) {
      std::string msg = "ReplicaSet ";
      msg += Quoted(rs_name);
      msg += " is progressing.";
      // Progress moves lastUpdateTime, which the deadline counts from.
      ReplaceCondition(status, Condition("Progressing", "True", "ReplicaSetUpdated", msg));
      requeue = true;
    } else if (new_rs && progressing != nullptr && !timed_out_already) {
      int64_t since = ParseRfc3339(Str(*progressing, "lastUpdateTime"));
      int64_t now = WallNowNs();
      if (since > 0 && now - since >= deadline * 1'000'000'000) {
        std::string msg = "ReplicaSet ";
        msg += Quoted(rs_name);
        msg += " has timed out progressing.";
        SetCondition(status, Condition("Progressing", "False", "ProgressDeadlineExceeded", msg));
      } else {
        requeue = true;
      }
    }
    if (requeue) queue_.AddAfter(key, std::chrono::seconds(deadline + 1));
    if (status == old_status) return Status::Ok();
    json next = d;
    next["status"] = std::move(status);
    return client_->UpdateStatus(kDeployments, Str(Meta(d), "namespace"), next).status();
  }

  Status Reconcile(const std::string& key) {
    auto cached = deployments_.Get(key);
    if (!cached) return Status::Ok();
    json d = std::move(*cached);
    auto selector = api::LabelSelector::FromJson(Member(Member(d, "spec"), "selector"));
    if (!selector.ok() || selector->Empty()) {
      spdlog::warn("deployment {}: a deployment needs a non-empty selector", key);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::vector<json> sets, ClaimReplicaSets(d, *selector));
    const json& tmpl = Member(Member(d, "spec"), "template");
    std::vector<json> old_sets;
    for (const json& rs : sets) {
      if (WithoutHash(Member(Member(rs, "spec"), "template")) != WithoutHash(tmpl)) {
        old_sets.push_back(rs);
      }
    }
    if (IsDeleting(d)) {
      std::optional<json> new_rs;
      for (const json& rs : sets) {
        if (WithoutHash(Member(Member(rs, "spec"), "template")) == WithoutHash(tmpl)) new_rs = rs;
      }
      return SyncStatus(key, d, new_rs, old_sets, false);
    }
    const bool paused = Member(Member(d, "spec"), "paused") == json(true);
    const bool recreate = Str(Member(Member(d, "spec"), "strategy"), "type") == "Recreate";
    bool created = false;

    if (recreate && !paused) {
      ASSIGN_OR_RETURN(std::optional<json> new_rs,
                       NewReplicaSet(d, sets, old_sets, /*create_if_missing=*/false, &created));
      bool scaled = false;
      for (json& rs : old_sets) {
        if (SpecReplicas(rs) == 0) continue;
        ASSIGN_OR_RETURN(rs, ScaleReplicaSet(d, rs, 0));
        scaled = true;
      }
      bool old_running = false;
      for (const json& rs : old_sets) old_running |= StatusInt(rs, "replicas") > 0;
      if (scaled || old_running) return SyncStatus(key, d, new_rs, old_sets, false);
      if (!new_rs) {
        ASSIGN_OR_RETURN(new_rs, NewReplicaSet(d, sets, old_sets, true, &created));
      }
      if (new_rs && SpecReplicas(*new_rs) != SpecReplicas(d)) {
        ASSIGN_OR_RETURN(new_rs, ScaleReplicaSet(d, *new_rs, SpecReplicas(d)));
      }
      if (new_rs && Complete(d, Member(d, "status"))) RETURN_IF_ERROR(CleanupOld(d, old_sets));
      return SyncStatus(key, d, new_rs, old_sets, created);
    }

    ASSIGN_OR_RETURN(std::optional<json> new_rs,
                     NewReplicaSet(d, sets, old_sets, /*create_if_missing=*/!paused, &created));
    if (paused) {
      // Only a resize: the new (or else the newest active) ReplicaSet takes it.
      std::optional<json> target = new_rs;
      if (!target) {
        for (const json& rs : old_sets) {
          if (SpecReplicas(rs) > 0) target = rs;
        }
      }
      if (target && SpecReplicas(*target) != SpecReplicas(d)) {
        RETURN_IF_ERROR(ScaleReplicaSet(d, *target, SpecReplicas(d)).status());
      }
      return SyncStatus(key, d, new_rs, old_sets, false);
    }
    if (!new_rs) return SyncStatus(key, d, new_rs, old_sets, created);
    ASSIGN_OR_RETURN(bool scaled, RolloutRolling(d, *new_rs, old_sets));
    if (!scaled && Complete(d, Member(d, "status"))) RETURN_IF_ERROR(CleanupOld(d, old_sets));
    return SyncStatus(key, d, new_rs, old_sets, created);
  }

  client::Client* client_;
  DeploymentOptions options_;
  client::Informer deployments_;
  client::Informer sets_;
  client::EventRecorder recorder_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ = false;                                           // guarded by mu_
  std::map<std::string, std::set<std::string>> deployments_by_ns_;  // guarded by mu_
  std::map<std::string, std::set<std::string>> sets_by_ns_;         // guarded by mu_
};

}  // namespace

std::string PodTemplateHash(const json& pod_template, int64_t collision_count) {
  // FNV-1a, 32 bits, over the template's canonical text (nlohmann sorts keys)
  // and the collision count, as Kubernetes hashes its own printing of both.
  uint32_t h = 2166136261u;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  };
  mix(pod_template.dump());
  if (collision_count > 0) mix(std::to_string(collision_count));
  // rand.SafeEncodeString over the decimal digits: no vowels, no 0/1/3.
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string digits = std::to_string(h);
  std::string out;
  for (char c : digits) out.push_back(kAlphabet[static_cast<unsigned char>(c) % 27]);
  return out;
}

StatusOr<Fenceposts> ResolveFenceposts(const json& max_surge, const json& max_unavailable,
                                       int64_t replicas) {
  ASSIGN_OR_RETURN(int64_t surge, ScaledValue(max_surge, replicas, /*round_up=*/true));
  ASSIGN_OR_RETURN(int64_t unavailable, ScaledValue(max_unavailable, replicas, false));
  if (surge == 0 && unavailable == 0) unavailable = 1;
  return Fenceposts{surge, unavailable};
}

StatusOr<std::unique_ptr<DeploymentController>> DeploymentController::Start(
    client::Client* client, DeploymentOptions options) {
  if (client == nullptr) return BadRequest("the deployment controller needs a client");
  auto controller = std::make_unique<DeploymentControllerImpl>(client, options);
  controller->Run();
  return std::unique_ptr<DeploymentController>(std::move(controller));
}

}  // namespace kennel::controllers
