#include "controllers/replicaset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "api/selector.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/internal/workload.h"

namespace kennel::controllers {
namespace {

using client::json;
using internal::Int;
using internal::IsDeleting;
using internal::IsPodActive;
using internal::IsPodReady;
using internal::Member;
using internal::Meta;
using internal::NamespacedKey;
using internal::Str;
using SysClock = std::chrono::system_clock;

constexpr auto kExpectationsTimeout = std::chrono::minutes(5);
constexpr const char* kDeletionCost = "controller.kubernetes.io/pod-deletion-cost";

// What a ReplicaSet waits to see of its own writes before it acts again
// (Kubernetes' UIDTrackingControllerExpectations).
struct Expectations {
  int adds = 0;
  std::set<std::string> deletes;  // pod keys
  std::chrono::steady_clock::time_point set_at;
};

int PhaseOrdinal(const json& pod) {
  std::string phase = Str(Member(pod, "status"), "phase");
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

int64_t DeletionCost(const json& pod) {
  std::string cost = Str(Member(Meta(pod), "annotations"), kDeletionCost);
  if (cost.empty()) return 0;
  try {
    return std::stoll(cost);
  } catch (...) {
    return 0;
  }
}

int64_t MaxRestarts(const json& pod) {
  int64_t max = 0;
  const json& statuses = Member(Member(pod, "status"), "containerStatuses");
  if (!statuses.is_array()) return 0;
  for (const json& s : statuses) max = std::max(max, Int(s, "restartCount"));
  return max;
}

// Kubernetes' ActivePodsWithRanks.Less: true when a should be deleted before b.
struct Ranked {
  const json* pod;
  int rank;  // pods of the same owner on the same node
};

bool DeleteBefore(const Ranked& a, const Ranked& b) {
  const json& pa = *a.pod;
  const json& pb = *b.pod;
  std::string na = Str(Member(pa, "spec"), "nodeName");
  std::string nb = Str(Member(pb, "spec"), "nodeName");
  if (na != nb && (na.empty() || nb.empty())) return na.empty();
  if (PhaseOrdinal(pa) != PhaseOrdinal(pb)) return PhaseOrdinal(pa) < PhaseOrdinal(pb);
  if (IsPodReady(pa) != IsPodReady(pb)) return !IsPodReady(pa);
  if (DeletionCost(pa) != DeletionCost(pb)) return DeletionCost(pa) < DeletionCost(pb);
  if (a.rank != b.rank) return a.rank > b.rank;
  if (IsPodReady(pa) && IsPodReady(pb)) {
    auto ra = internal::ReadySince(pa);
    auto rb = internal::ReadySince(pb);
    if (ra != rb) return ra.value_or(SysClock::time_point{}) > rb.value_or(SysClock::time_point{});
  }
  if (MaxRestarts(pa) != MaxRestarts(pb)) return MaxRestarts(pa) > MaxRestarts(pb);
  int64_t ca = ParseRfc3339(Str(Meta(pa), "creationTimestamp"));
  int64_t cb = ParseRfc3339(Str(Meta(pb), "creationTimestamp"));
  if (ca != cb) return ca > cb;
  return Str(Meta(pa), "name") > Str(Meta(pb), "name");
}

// Every label of the template is on the pod.
bool FullyLabeled(const json& pod, const json& template_labels) {
  if (!template_labels.is_object()) return true;
  const json& labels = Member(Meta(pod), "labels");
  for (const auto& [k, v] : template_labels.items()) {
    if (Member(labels, k.c_str()) != v) return false;
  }
  return true;
}

// A pod from a ReplicaSet's template (Kubernetes' GetPodFromTemplate).
json PodFromTemplate(const json& rs) {
  const json& tmpl = Member(Member(rs, "spec"), "template");
  const json& tmeta = Member(tmpl, "metadata");
  std::string prefix = Str(Meta(rs), "name");
  prefix += "-";
  json meta = {
      {"generateName", prefix},
      {"namespace", Str(Meta(rs), "namespace")},
      {"ownerReferences", json::array({internal::NewControllerRef(rs, "apps/v1", "ReplicaSet")})}};
  for (const char* k : {"labels", "annotations", "finalizers"}) {
    if (!Member(tmeta, k).is_null()) meta[k] = Member(tmeta, k);
  }
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
  pod["spec"] = Member(tmpl, "spec").is_object() ? Member(tmpl, "spec") : json::object();
  return pod;
}

class ReplicaSetControllerImpl : public ReplicaSetController {
 public:
  ReplicaSetControllerImpl(client::Client* client, ReplicaSetOptions options)
      : client_(client),
        options_(options),
        sets_(client, kReplicaSets, ""),
        pods_(client, client::kPods, ""),
        recorder_(client, "replicaset-controller") {}

  ~ReplicaSetControllerImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    sets_.Stop();
    pods_.Stop();
    queue_.ShutDown();
    for (auto& t : workers_) t.join();
  }

  void Run() {
    client::InformerHandler on_set;
    on_set.on_add = [this](const json& rs) { SetChanged(rs, /*deleted=*/false); };
    on_set.on_update = [this](const json&, const json& rs) { SetChanged(rs, false); };
    on_set.on_delete = [this](const json& rs) { SetChanged(rs, /*deleted=*/true); };
    sets_.AddHandler(std::move(on_set));

    client::InformerHandler on_pod;
    on_pod.on_add = [this](const json& p) { PodAdded(p); };
    on_pod.on_update = [this](const json& old, const json& p) { PodUpdated(old, p); };
    on_pod.on_delete = [this](const json& p) { PodDeleted(p); };
    pods_.AddHandler(std::move(on_pod));

    sets_.Start();
    pods_.Start();
    for (int i = 0; i < std::max(1, options_.workers); ++i) {
      workers_.emplace_back([this] {
        NameThisThread("replicaset");
        Work();
      });
    }
  }

 private:
  // Informer handlers.

  void SetChanged(const json& rs, bool deleted) {
    std::string ns = Str(Meta(rs), "namespace");
    std::string name = Str(Meta(rs), "name");
    std::string key = NamespacedKey(ns, name);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (deleted) {
        sets_by_ns_[ns].erase(name);
        expectations_.erase(key);
      } else {
        sets_by_ns_[ns].insert(name);
      }
    }
    queue_.Add(key);
  }

  // The key of pod's controlling ReplicaSet when it is one in the cache.
  std::optional<std::string> ControllerKey(const json& pod) {
    auto ref = internal::ControllerRefOf(pod);
    if (!ref || Str(*ref, "kind") != "ReplicaSet" || Str(*ref, "apiVersion") != "apps/v1") {
      return std::nullopt;
    }
    std::string key = NamespacedKey(Str(Meta(pod), "namespace"), Str(*ref, "name"));
    auto rs = sets_.Get(key);
    if (!rs || Str(Meta(*rs), "uid") != Str(*ref, "uid")) return std::nullopt;
    return key;
  }

  // ReplicaSets of the pod's namespace whose selector matches it.
  std::vector<std::string> MatchingSets(const json& pod) {
    std::string ns = Str(Meta(pod), "namespace");
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sets_by_ns_.find(ns);
      if (it != sets_by_ns_.end()) names.assign(it->second.begin(), it->second.end());
    }
    std::vector<std::string> out;
    for (const std::string& name : names) {
      std::string key = NamespacedKey(ns, name);
      auto rs = sets_.Get(key);
      if (!rs) continue;
      auto selector = api::LabelSelector::FromJson(Member(Member(*rs, "spec"), "selector"));
      if (!selector.ok() || selector->Empty()) continue;
      if (selector->Matches(Member(Meta(pod), "labels"))) out.push_back(key);
    }
    return out;
  }

  void IndexPod(const json& pod, bool present) {
    std::string ns = Str(Meta(pod), "namespace");
    std::string name = Str(Meta(pod), "name");
    std::lock_guard<std::mutex> lock(mu_);
    if (present) {
      pods_by_ns_[ns].insert(name);
    } else {
      auto it = pods_by_ns_.find(ns);
      if (it != pods_by_ns_.end()) {
        it->second.erase(name);
        if (it->second.empty()) pods_by_ns_.erase(it);
      }
    }
  }

  void PodAdded(const json& pod) {
    IndexPod(pod, true);
    if (IsDeleting(pod)) {
      // A restart found it being deleted: it will not count anyway.
      if (auto key = ControllerKey(pod)) {
        DeletionObserved(*key, client::Informer::KeyOf(pod));
        queue_.Add(*key);
      }
      return;
    }
    if (auto key = ControllerKey(pod)) {
      CreationObserved(*key);
      queue_.Add(*key);
      return;
    }
    if (!internal::ControllerRefOf(pod)) {
      for (const std::string& key : MatchingSets(pod)) queue_.Add(key);
    }
  }

  void PodUpdated(const json& old, const json& pod) {
    if (Str(Meta(old), "resourceVersion") == Str(Meta(pod), "resourceVersion")) return;
    bool labels_changed = Member(Meta(old), "labels") != Member(Meta(pod), "labels");
    auto old_key = ControllerKey(old);
    auto new_key = ControllerKey(pod);
    if (old_key && old_key != new_key) queue_.Add(*old_key);
    // A graceful deletion started: the pod no longer counts, as when gone.
    if (new_key && !IsDeleting(old) && IsDeleting(pod)) {
      DeletionObserved(*new_key, client::Informer::KeyOf(pod));
    }
    if (new_key) {
      queue_.Add(*new_key);
      // Ready now: available minReadySeconds later.
      if (!IsPodReady(old) && IsPodReady(pod)) {
        auto rs = sets_.Get(*new_key);
        int64_t min_ready = rs ? Int(Member(*rs, "spec"), "minReadySeconds") : 0;
        if (min_ready > 0) queue_.AddAfter(*new_key, std::chrono::seconds(min_ready + 1));
      }
    } else if (!internal::ControllerRefOf(pod) &&
               (labels_changed || internal::ControllerRefOf(old))) {
      for (const std::string& key : MatchingSets(pod)) queue_.Add(key);
    }
  }

  void PodDeleted(const json& pod) {
    IndexPod(pod, false);
    auto ref = internal::ControllerRefOf(pod);
    if (!ref || Str(*ref, "kind") != "ReplicaSet") return;
    std::string key = NamespacedKey(Str(Meta(pod), "namespace"), Str(*ref, "name"));
    DeletionObserved(key, NamespacedKey(Str(Meta(pod), "namespace"), Str(Meta(pod), "name")));
    queue_.Add(key);
  }

  // Expectations.

  void CreationObserved(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expectations_.find(key);
    if (it != expectations_.end() && it->second.adds > 0) --it->second.adds;
  }

  void DeletionObserved(const std::string& key, const std::string& pod_key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expectations_.find(key);
    if (it != expectations_.end()) it->second.deletes.erase(pod_key);
  }

  bool Satisfied(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expectations_.find(key);
    if (it == expectations_.end()) return true;
    const Expectations& e = it->second;
    if (e.adds <= 0 && e.deletes.empty()) return true;
    return std::chrono::steady_clock::now() - e.set_at > kExpectationsTimeout;
  }

  void Expect(const std::string& key, int adds, std::set<std::string> deletes) {
    std::lock_guard<std::mutex> lock(mu_);
    expectations_[key] = Expectations{adds, std::move(deletes), std::chrono::steady_clock::now()};
  }

  // Workers.

  void Work() {
    for (client::Informer* inf : {&sets_, &pods_}) {
      while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
    }
    queue_.Process("replicaset controller",
                   [this](const std::string& key) { return Reconcile(key); });
  }

  std::vector<json> PodsIn(const std::string& ns) {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pods_by_ns_.find(ns);
      if (it != pods_by_ns_.end()) names.assign(it->second.begin(), it->second.end());
    }
    std::vector<json> out;
    for (const std::string& name : names) {
      if (auto pod = pods_.Get(NamespacedKey(ns, name))) out.push_back(std::move(*pod));
    }
    return out;
  }

  // ControllerRefManager.ClaimPods over the active pods of rs's namespace.
  StatusOr<std::vector<json>> ClaimPods(const json& rs, const api::LabelSelector& selector) {
    const std::string ns = Str(Meta(rs), "namespace");
    const std::string uid = Str(Meta(rs), "uid");
    std::vector<json> claimed;
    std::optional<bool> can_adopt;  // checked live once, when first needed
    for (json& pod : PodsIn(ns)) {
      if (!IsPodActive(pod)) continue;
      auto ref = internal::ControllerRefOf(pod);
      const bool matches = selector.Matches(Member(Meta(pod), "labels"));
      if (ref) {
        if (Str(*ref, "uid") != uid) continue;
        if (matches) {
          claimed.push_back(std::move(pod));
        } else if (!IsDeleting(rs)) {
          json patch = {{"metadata",
                         {{"ownerReferences", json::array({{{"$patch", "delete"}, {"uid", uid}}})},
                          {"uid", Str(Meta(pod), "uid")}}}};
          auto r = client_->Patch(client::kPods, ns, Str(Meta(pod), "name"),
                                  client::PatchType::kStrategicMerge, patch);
          if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
        }
        continue;
      }
      if (!matches || IsDeleting(rs) || IsDeleting(pod)) continue;
      if (!can_adopt) {
        auto fresh = client_->Get(kReplicaSets, ns, Str(Meta(rs), "name"));
        can_adopt = fresh.ok() && Str(Meta(*fresh), "uid") == uid && !IsDeleting(*fresh);
      }
      if (!*can_adopt) continue;
      json patch = {{"metadata",
                     {{"ownerReferences",
                       json::array({internal::NewControllerRef(rs, "apps/v1", "ReplicaSet")})},
                      {"uid", Str(Meta(pod), "uid")}}}};
      auto r = client_->Patch(client::kPods, ns, Str(Meta(pod), "name"),
                              client::PatchType::kStrategicMerge, patch);
      if (!r.ok()) {
        if (r.status().code() == Code::kNotFound) continue;
        return r.status();
      }
      claimed.push_back(std::move(*r));
    }
    return claimed;
  }

  // Creates or deletes pods; an error is reported after doing what it could.
  // *create_failure is set when a create failed (the ReplicaFailure condition).
  Status ManageReplicas(const std::string& key, const json& rs, const std::vector<json>& pods,
                        std::string* create_failure) {
    const std::string ns = Str(Meta(rs), "namespace");
    const int64_t want = Int(Member(rs, "spec"), "replicas", 1);
    int64_t diff = static_cast<int64_t>(pods.size()) - want;
    if (diff < 0) {
      int n = static_cast<int>(std::min<int64_t>(-diff, options_.burst_replicas));
      Expect(key, n, {});
      json pod = PodFromTemplate(rs);
      int created = 0;
      Status failure = Status::Ok();
      // Slow start: batches of 1, 2, 4, … so a failing create costs one call.
      for (int batch = 1; created < n && failure.ok(); batch *= 2) {
        int end = std::min(n, created + batch);
        for (; created < end; ++created) {
          auto r = client_->Create(client::kPods, ns, pod);
          if (!r.ok()) {
            failure = r.status();
            break;
          }
          std::string msg = "Created pod: ";
          msg += Str(Meta(*r), "name");
          recorder_.Record(rs, "ReplicaSet", "Normal", "SuccessfulCreate", msg);
        }
      }
      if (!failure.ok()) {
        // The creates not made will never be observed.
        for (int i = created; i < n; ++i) CreationObserved(key);
        std::string msg = "Error creating: ";
        msg += failure.message();
        recorder_.Record(rs, "ReplicaSet", "Warning", "FailedCreate", msg);
        *create_failure = msg;
        return failure;
      }
      return Status::Ok();
    }
    if (diff > 0) {
      int n = static_cast<int>(std::min<int64_t>(diff, options_.burst_replicas));
      std::map<std::string, int> per_node;
      for (const json& p : pods) ++per_node[Str(Member(p, "spec"), "nodeName")];
      std::vector<Ranked> ranked;
      for (const json& p : pods) {
        std::string node = Str(Member(p, "spec"), "nodeName");
        ranked.push_back({&p, node.empty() ? 0 : per_node[node]});
      }
      std::sort(ranked.begin(), ranked.end(), DeleteBefore);
      ranked.resize(n);
      std::set<std::string> keys;
      for (const Ranked& r : ranked) {
        keys.insert(NamespacedKey(ns, Str(Meta(*r.pod), "name")));
      }
      Expect(key, 0, keys);
      Status first_error = Status::Ok();
      for (const Ranked& r : ranked) {
        std::string name = Str(Meta(*r.pod), "name");
        client::DeleteOptions options;
        options.precondition_uid = Str(Meta(*r.pod), "uid");
        Status st = client_->Delete(client::kPods, ns, name, options);
        if (st.ok()) {
          std::string msg = "Deleted pod: ";
          msg += name;
          recorder_.Record(rs, "ReplicaSet", "Normal", "SuccessfulDelete", msg);
          continue;
        }
        // Gone already: its deletion event may never come for this uid.
        DeletionObserved(key, NamespacedKey(ns, name));
        if (st.code() == Code::kNotFound || st.code() == Code::kConflict) continue;
        std::string msg = "Error deleting: ";
        msg += st.message();
        recorder_.Record(rs, "ReplicaSet", "Warning", "FailedDelete", msg);
        if (first_error.ok()) first_error = st;
      }
      return first_error;
    }
    return Status::Ok();
  }

  json CalculateStatus(const json& rs, const std::vector<json>& pods,
                       const std::string& create_failure, bool manage_failed) {
    const json& spec = Member(rs, "spec");
    const json& template_labels = Member(Meta(Member(spec, "template")), "labels");
    const int64_t min_ready = Int(spec, "minReadySeconds");
    auto now = SysClock::now();
    int64_t fully = 0, ready = 0, available = 0;
    for (const json& p : pods) {
      if (FullyLabeled(p, template_labels)) ++fully;
      if (IsPodReady(p)) ++ready;
      if (internal::IsPodAvailable(p, min_ready, now)) ++available;
    }
    json status = Member(rs, "status").is_object() ? Member(rs, "status") : json::object();
    status["replicas"] = static_cast<int64_t>(pods.size());
    // Kubernetes omits these when zero.
    auto set = [&status](const char* field, int64_t value) {
      if (value == 0) {
        status.erase(field);
      } else {
        status[field] = value;
      }
    };
    set("fullyLabeledReplicas", fully);
    set("readyReplicas", ready);
    set("availableReplicas", available);
    set("observedGeneration", Int(Meta(rs), "generation", 1));
    // ReplicaFailure: set on a failed create, cleared once a sync succeeds.
    json conditions = json::array();
    const json& old = Member(status, "conditions");
    json previous;
    if (old.is_array()) {
      for (const json& c : old) {
        if (Str(c, "type") == "ReplicaFailure") {
          previous = c;
        } else {
          conditions.push_back(c);
        }
      }
    }
    if (!create_failure.empty()) {
      json c = {{"type", "ReplicaFailure"},
                {"status", "True"},
                {"reason", "FailedCreate"},
                {"message", create_failure}};
      c["lastTransitionTime"] = previous.is_object() && Str(previous, "status") == "True"
                                    ? Member(previous, "lastTransitionTime")
                                    : json(NowRfc3339());
      conditions.push_back(std::move(c));
    } else if (previous.is_object() && manage_failed) {
      conditions.push_back(previous);  // not known to be fixed yet
    }
    if (conditions.empty()) {
      status.erase("conditions");
    } else {
      status["conditions"] = std::move(conditions);
    }
    return status;
  }

  Status Reconcile(const std::string& key) {
    auto rs = sets_.Get(key);
    if (!rs) {
      std::lock_guard<std::mutex> lock(mu_);
      expectations_.erase(key);
      return Status::Ok();
    }
    auto selector = api::LabelSelector::FromJson(Member(Member(*rs, "spec"), "selector"));
    if (!selector.ok()) {
      spdlog::warn("replicaset {}: invalid selector: {}", key, selector.status().ToString());
      return Status::Ok();
    }
    const bool needs_sync = Satisfied(key);
    ASSIGN_OR_RETURN(std::vector<json> pods, ClaimPods(*rs, *selector));
    std::string create_failure;
    Status managed = Status::Ok();
    if (needs_sync && !IsDeleting(*rs)) {
      managed = ManageReplicas(key, *rs, pods, &create_failure);
    }
    json status = CalculateStatus(*rs, pods, create_failure, !managed.ok());
    if (status != Member(*rs, "status")) {
      json next = *rs;
      next["status"] = status;
      auto r = client_->UpdateStatus(kReplicaSets, Str(Meta(*rs), "namespace"), next);
      if (!r.ok() && r.status().code() == Code::kConflict) {
        // Stale cache: write onto the live object.
        auto live = client_->Get(kReplicaSets, Str(Meta(*rs), "namespace"), Str(Meta(*rs), "name"));
        if (live.ok() && Str(Meta(*live), "uid") == Str(Meta(*rs), "uid")) {
          (*live)["status"] = status;
          r = client_->UpdateStatus(kReplicaSets, Str(Meta(*rs), "namespace"), *live);
        }
      }
      if (!r.ok() && r.status().code() != Code::kNotFound && managed.ok()) managed = r.status();
    }
    const int64_t min_ready = Int(Member(*rs, "spec"), "minReadySeconds");
    if (managed.ok() && min_ready > 0 &&
        Int(status, "readyReplicas") != Int(status, "availableReplicas")) {
      queue_.AddAfter(key, std::chrono::seconds(min_ready));
    }
    return managed;
  }

  client::Client* client_;
  ReplicaSetOptions options_;
  client::Informer sets_;
  client::Informer pods_;
  client::EventRecorder recorder_;
  client::WorkQueue queue_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  bool stopping_ = false;                                    // guarded by mu_
  std::map<std::string, std::set<std::string>> sets_by_ns_;  // guarded by mu_
  std::map<std::string, std::set<std::string>> pods_by_ns_;  // guarded by mu_
  std::map<std::string, Expectations> expectations_;         // guarded by mu_
};

}  // namespace

StatusOr<std::unique_ptr<ReplicaSetController>> ReplicaSetController::Start(
    client::Client* client, ReplicaSetOptions options) {
  if (client == nullptr) return BadRequest("the replicaset controller needs a client");
  auto controller = std::make_unique<ReplicaSetControllerImpl>(client, options);
  controller->Run();
  return std::unique_ptr<ReplicaSetController>(std::move(controller));
}

}  // namespace kennel::controllers
