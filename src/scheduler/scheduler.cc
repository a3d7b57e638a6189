#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/json_access.h"
#include "base/thread.h"
#include "base/time.h"
#include "client/events.h"
#include "client/informer.h"
#include "scheduler/cache.h"
#include "scheduler/extender.h"
#include "scheduler/plugins.h"
#include "scheduler/preemption.h"
#include "scheduler/queue.h"

namespace kennel::scheduler {
namespace {

using api::Field;
using api::Str;
using client::json;

constexpr size_t kMaxCounters = 50000;

std::string Meta(const json& obj, const char* field) { return Str(Field(obj, "metadata"), field); }
std::string SpecStr(const json& obj, const char* field) { return Str(Field(obj, "spec"), field); }

bool Terminal(const json& pod) {
  std::string phase = Str(Field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

// The parts of a node that placement reads: a change elsewhere (heartbeat
// conditions) is no reason to retry parked pods.
bool NodeSchedulingChanged(const json& before, const json& after) {
  return Field(before, "spec") != Field(after, "spec") ||
         Field(Field(before, "metadata"), "labels") != Field(Field(after, "metadata"), "labels") ||
         Field(Field(before, "status"), "allocatable") !=
             Field(Field(after, "status"), "allocatable");
}

// Volumes as the informers see them.
class InformerVolumes : public VolumeLister {
 public:
  InformerVolumes(client::Informer* claims, client::Informer* volumes, client::Informer* classes)
      : claims_(claims), volumes_(volumes), classes_(classes) {}
  std::optional<json> Claim(const std::string& ns, const std::string& name) const override {
    return claims_->Get(ns + "/" + name);
  }
  std::optional<json> Volume(const std::string& name) const override { return volumes_->Get(name); }
  std::optional<json> StorageClass(const std::string& name) const override {
    return classes_->Get(name);
  }

 private:
  client::Informer* claims_;
  client::Informer* volumes_;
  client::Informer* classes_;
};

class SchedulerImpl : public Scheduler {
 public:
  SchedulerImpl(client::Client* client, SchedulerOptions options)
      : client_(client),
        options_(std::move(options)),
        nodes_(client, client::kNodes, ""),
        pods_(client, client::kPods, ""),
        claims_(client, client::kPersistentVolumeClaims, ""),
        volumes_(client, client::kPersistentVolumes, ""),
        classes_(client, client::kStorageClasses, ""),
        lister_(&claims_, &volumes_, &classes_),
        framework_(DefaultPlugins(IgnoredResources(options_.config)),
                   FrameworkOptionsFrom(options_.config)),
        events_(client, "default-scheduler") {
    for (const auto& e : options_.config.extenders) extenders_.emplace_back(e);
  }

  ~SchedulerImpl() override {
    queue_.ShutDown();
    // Before joining the worker: stopping the informers ends its wait for
    // their first sync, which lasts while the API is unreachable.
    for (client::Informer* i : {&nodes_, &pods_, &claims_, &volumes_, &classes_}) i->Stop();
    if (worker_.joinable()) worker_.join();
    {
      std::lock_guard lock(bind_mu_);
      bind_stopping_ = true;
    }
    bind_cv_.notify_all();
    for (auto& t : binders_) t.join();
  }

  void Run() {
    WatchPods();
    WatchNodes();
    WatchVolumes();
    for (client::Informer* i : {&nodes_, &pods_, &claims_, &volumes_, &classes_}) i->Start();
    worker_ = std::thread([this] {
      NameThisThread("scheduler");
      ScheduleLoop();
    });
    for (int i = 0; i < std::max(1, options_.bind_workers); ++i) {
      binders_.emplace_back([this] {
        NameThisThread("sched-binder");
        BindLoop();
      });
    }
  }

 private:
  struct BindTask {
    std::shared_ptr<const PodInfo> pod;  // as assumed: node_name is the chosen node
    const Extender* binder = nullptr;
  };

  // Resources the extenders account for and the scheduler must not check.
  static std::set<std::string> IgnoredResources(const SchedulerConfig& config) {
    std::set<std::string> out;
    for (const auto& e : config.extenders) {
      out.insert(e.ignored_resources.begin(), e.ignored_resources.end());
    }
    return out;
  }

  static FrameworkOptions FrameworkOptionsFrom(const SchedulerConfig& config) {
    FrameworkOptions o;
    o.percentage_of_nodes_to_score = config.percentage_of_nodes_to_score;
    o.score_weights = config.score_weights;
    o.enabled = [config](std::string_view point, std::string_view plugin) {
      return config.PluginEnabled(point, plugin);
    };
    return o;
  }

  bool IsOurs(const json& pod) const {
    std::string name = SpecStr(pod, "schedulerName");
    return name.empty() || name == options_.config.scheduler_name || name == "default-scheduler" ||
           name == "kennel-scheduler";
  }

  // --- informer events ---------------------------------------------------------

  void WatchPods() {
    client::InformerHandler h;
    h.on_add = [this](const json& p) { OnPod(nullptr, p); };
    h.on_update = [this](const json& old, const json& p) { OnPod(&old, p); };
    h.on_delete = [this](const json& p) { OnPodGone(client::Informer::KeyOf(p)); };
    pods_.AddHandler(std::move(h));
  }

  void OnPod(const json* old, const json& pod) {
    const std::string key = client::Informer::KeyOf(pod);
    if (Terminal(pod)) {
      OnPodGone(key);  // its resources are free again
      return;
    }
    if (!SpecStr(pod, "nodeName").empty()) {
      auto info = CompilePod(pod);
      bool relabeled = old != nullptr && Field(Field(*old, "metadata"), "labels") !=
                                             Field(Field(pod, "metadata"), "labels");
      {
        std::lock_guard lock(mu_);
        cache_.UpsertPod(std::move(info));
      }
      queue_.Delete(key);
      if (relabeled) queue_.MoveAllToActive();
      return;
    }
    if (!Meta(pod, "deletionTimestamp").empty() || !IsOurs(pod)) {
      queue_.Delete(key);
      return;
    }
    {
      // Assumed already (its binding in flight): this is an older version.
      std::lock_guard lock(mu_);
      if (cache_.Pod(key)) return;
    }
    queue_.Add(CompilePod(pod));
  }

  void OnPodGone(const std::string& key) {
    bool placed = false;
    {
      std::lock_guard lock(mu_);
      placed = cache_.Pod(key) != nullptr;
      cache_.RemovePod(key);
    }
    queue_.Delete(key);
    {
      std::lock_guard lock(report_mu_);
      reported_.erase(key);
    }
    if (placed) queue_.MoveAllToActive();
  }

  void WatchNodes() {
    client::InformerHandler h;
    h.on_add = [this](const json& n) {
      {
        std::lock_guard lock(mu_);
        cache_.UpsertNode(n);
      }
      queue_.MoveAllToActive();
    };
    h.on_update = [this](const json& old, const json& n) {
      {
        std::lock_guard lock(mu_);
        cache_.UpsertNode(n);
      }
      if (NodeSchedulingChanged(old, n)) queue_.MoveAllToActive();
    };
    h.on_delete = [this](const json& n) {
      std::lock_guard lock(mu_);
      cache_.RemoveNode(Meta(n, "name"));
    };
    nodes_.AddHandler(std::move(h));
  }

  void WatchVolumes() {
    client::InformerHandler claims;
    claims.on_add = [this](const json& c) { OnClaim(c); };
    claims.on_update = [this](const json&, const json& c) { OnClaim(c); };
    claims.on_delete = [this](const json& c) {
      {
        std::lock_guard lock(mu_);
        cache_.RemoveClaim(client::Informer::KeyOf(c));
      }
      queue_.MoveAllToActive();
    };
    claims_.AddHandler(std::move(claims));
    client::InformerHandler any;
    any.on_add = [this](const json&) { queue_.MoveAllToActive(); };
    any.on_update = [this](const json&, const json&) { queue_.MoveAllToActive(); };
    volumes_.AddHandler(any);
    classes_.AddHandler(std::move(any));
  }

  // A claim placed on a node takes that node's local storage.
  void OnClaim(const json& claim) {
    const std::string key = client::Informer::KeyOf(claim);
    std::string node = Str(Field(Field(claim, "metadata"), "annotations"), kSelectedNodeAnnotation);
    {
      std::lock_guard lock(mu_);
      if (node.empty()) {
        cache_.RemoveClaim(key);
      } else {
        cache_.SetClaim(key, node, ClaimStorageRequest(claim));
      }
    }
    queue_.ClaimChanged();
    queue_.MoveAllToActive();
  }

  // --- scheduling --------------------------------------------------------------

  void ScheduleLoop() {
    for (client::Informer* i : {&nodes_, &pods_, &claims_, &volumes_, &classes_}) {
      i->WaitForSync(std::chrono::seconds(30));
    }
    while (auto pod = queue_.Pop()) ScheduleOne(pod);
  }

  void ScheduleOne(const std::shared_ptr<const PodInfo>& pod) {
    std::unique_lock lock(mu_);
    cache_.TrimCounters(kMaxCounters);
    if (cache_.Pod(pod->key)) {  // placed meanwhile
      lock.unlock();
      queue_.Done(pod->key);
      return;
    }
    CycleContext ctx{*pod, cache_, &lister_};
    Placement placement = framework_.Schedule(ctx);
    std::vector<const NodeInfo*> feasible = placement.feasible;
    std::map<std::string, int64_t> extra_scores;
    std::string extender_error;
    if (!feasible.empty() && !extenders_.empty()) {
      extender_error = RunExtenders(*pod, feasible, placement, extra_scores);
    }
    if (feasible.empty()) {
      HandleUnschedulable(lock, ctx, placement, extender_error);
      return;
    }
    std::string node = framework_.SelectHost(ctx, feasible, extra_scores);
    auto assumed = std::make_shared<PodInfo>(*pod);
    assumed->node_name = node;
    cache_.UpsertPod(assumed);
    framework_.Reserve(ctx, cache_, node);
    lock.unlock();
    BindTask task{std::move(assumed), Binder(*pod)};
    {
      std::lock_guard bind_lock(bind_mu_);
      bind_queue_.push_back(std::move(task));
    }
    bind_cv_.notify_one();
  }

  // Extenders filter the feasible nodes in turn, then score them. Returns an
  // error message when a non-ignorable extender failed (the pod then fits
  // nowhere this cycle).
  std::string RunExtenders(const PodInfo& pod, std::vector<const NodeInfo*>& feasible,
                           Placement& placement, std::map<std::string, int64_t>& extra) {
    for (const Extender& ext : extenders_) {
      if (feasible.empty()) break;
      if (!ext.IsFilter() || !ext.IsInterested(pod.pod)) continue;
      std::vector<const json*> nodes;
      for (const NodeInfo* n : feasible) nodes.push_back(&n->node);
      auto result = ext.Filter(pod.pod, nodes);
      if (!result.ok()) {
        if (ext.IsIgnorable()) continue;
        feasible.clear();
        return result.status().message();
      }
      std::map<std::string, const NodeInfo*> by_name;
      for (const NodeInfo* n : feasible) by_name[n->name] = n;
      feasible.clear();
      for (const auto& name : result->feasible) {
        auto it = by_name.find(name);
        if (it == by_name.end()) continue;
        feasible.push_back(it->second);
        by_name.erase(it);
      }
      for (const auto* failed : {&result->failed, &result->failed_unresolvable}) {
        for (const auto& [name, reason] : *failed) {
          if (by_name.erase(name)) placement.failures.push_back({name, reason, false});
        }
      }
      // Nodes the extender neither kept nor explained still failed it.
      for (const auto& [name, n] : by_name) {
        placement.failures.push_back({name, "node(s) were filtered out by an extender", false});
      }
    }
    for (const Extender& ext : extenders_) {
      if (feasible.empty()) break;
      if (!ext.IsPrioritizer() || !ext.IsInterested(pod.pod)) continue;
      std::vector<const json*> nodes;
      for (const NodeInfo* n : feasible) nodes.push_back(&n->node);
      auto scores = ext.Prioritize(pod.pod, nodes);
      if (!scores.ok()) {
        // kube-scheduler ignores a failed prioritize call: scores only rank.
        spdlog::warn("scheduler: extender prioritize for {}: {}", pod.key,
                     scores.status().ToString());
        continue;
      }
      for (const auto& [node, score] : *scores) extra[node] += score;
    }
    return "";
  }

  const Extender* Binder(const PodInfo& pod) const {
    for (const Extender& ext : extenders_) {
      if (ext.IsBinder() && ext.IsInterested(pod.pod)) return &ext;
    }
    return nullptr;
  }

  void HandleUnschedulable(std::unique_lock<std::mutex>& lock, const CycleContext& ctx,
                           const Placement& placement, const std::string& extender_error) {
    const PodInfo& pod = ctx.pod;
    std::string message = extender_error.empty() ? UnschedulableMessage(placement) : extender_error;
    std::optional<Preemption> preemption;
    if (extender_error.empty()) {
      PreemptionOutcome outcome = FindPreemption(framework_, ctx, placement);
      preemption = std::move(outcome.chosen);
      if (!outcome.message.empty()) message += " " + outcome.message;
    }
    lock.unlock();
    if (preemption) Preempt(pod, *preemption);
    ReportUnschedulable(pod, message, preemption ? preemption->node : "");
    if (placement.awaits_claim) {
      queue_.AwaitClaim(pod.key);
    } else {
      queue_.Unschedulable(pod.key);
    }
  }

  // Evicts the victims (graceful deletion, their own grace periods) and
  // nominates the node for the preemptor, which is retried when they are gone.
  void Preempt(const PodInfo& pod, const Preemption& p) {
    for (const auto& victim : p.victims) {
      client::DeleteOptions opts;
      opts.precondition_uid = victim->uid;
      Status st = client_->Delete(client::kPods, victim->ns, victim->name, opts);
      if (!st.ok() && st.code() != Code::kNotFound) {
        spdlog::warn("scheduler: preempting {} for {}: {}", victim->key, pod.key, st.ToString());
        continue;
      }
      events_.Record(victim->pod, "Pod", "Normal", "Preempted",
                     "Preempted by pod " + pod.uid + " on node " + p.node);
    }
    spdlog::info("scheduler: {} preempts {} pod(s) on {}", pod.key, p.victims.size(), p.node);
  }

  // PodScheduled=False/Unschedulable (and nominatedNodeName after a
  // preemption), and a FailedScheduling Event, as kube-scheduler does; the
  // status only when the message changed, so retries do not flood the store.
  void ReportUnschedulable(const PodInfo& pod, const std::string& message,
                           const std::string& nominated) {
    {
      std::lock_guard lock(report_mu_);
      auto [it, inserted] = reported_.try_emplace(pod.key, message);
      if (!inserted && it->second == message && nominated.empty()) return;
      it->second = message;
    }
    json conditions = json::array();
    const json& old = Field(Field(pod.pod, "status"), "conditions");
    if (old.is_array()) {
      for (const json& c : old) {
        if (Str(c, "type") != "PodScheduled") conditions.push_back(c);
      }
    }
    conditions.push_back({{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "Unschedulable"},
                          {"message", message},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", NowRfc3339()}});
    json status = {{"phase", "Pending"}, {"conditions", conditions}};
    if (!nominated.empty()) status["nominatedNodeName"] = nominated;
    auto st = client_->Patch(client::kPods, pod.ns, pod.name, client::PatchType::kMerge,
                             json{{"status", status}}, "status");
    if (!st.ok() && st.status().code() != Code::kNotFound) {
      spdlog::warn("scheduler: status of {}: {}", pod.key, st.status().ToString());
    }
    events_.Record(pod.pod, "Pod", "Warning", "FailedScheduling", message);
  }

  // --- binding -----------------------------------------------------------------

  void BindLoop() {
    while (true) {
      BindTask task;
      {
        std::unique_lock lock(bind_mu_);
        bind_cv_.wait(lock, [&] { return bind_stopping_ || !bind_queue_.empty(); });
        if (bind_stopping_) return;
        task = std::move(bind_queue_.front());
        bind_queue_.pop_front();
      }
      Bind(task);
    }
  }

  void Bind(const BindTask& task) {
    const PodInfo& pod = *task.pod;
    Status st = SelectNodeForClaims(pod);
    if (st.ok()) {
      if (task.binder != nullptr) {
        st = task.binder->Bind(pod.ns, pod.name, pod.uid, pod.node_name);
      } else {
        json binding = {
            {"apiVersion", "v1"},
            {"kind", "Binding"},
            {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"uid", pod.uid}}},
            {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", pod.node_name}}}};
        auto bound = client_->PostSubresource(client::kPods, pod.ns, pod.name, "binding", binding);
        if (!bound.ok()) st = bound.status();
      }
    }
    if (st.ok()) {
      queue_.Done(pod.key);
      events_.Record(pod.pod, "Pod", "Normal", "Scheduled",
                     "Successfully assigned " + pod.key + " to " + pod.node_name);
      return;
    }
    // Not bound: the pod no longer holds the node.
    {
      std::lock_guard lock(mu_);
      auto current = cache_.Pod(pod.key);
      if (current && current.get() == task.pod.get()) cache_.RemovePod(pod.key);
    }
    if (st.code() == Code::kNotFound || st.code() == Code::kConflict) {
      // Deleted, or bound by someone else: the informer has the news.
      queue_.Done(pod.key);
      return;
    }
    spdlog::warn("scheduler: binding {} to {}: {}", pod.key, pod.node_name, st.ToString());
    queue_.Backoff(pod.key);
  }

  // PreBind: record the chosen node on the pod's WaitForFirstConsumer claims
  // that do not name one yet, so the claim is provisioned where the pod runs.
  Status SelectNodeForClaims(const PodInfo& pod) {
    for (const std::string& name : pod.claims) {
      auto claim = lister_.Claim(pod.ns, name);
      if (!claim || !SpecStr(*claim, "volumeName").empty()) continue;
      if (!Str(Field(Field(*claim, "metadata"), "annotations"), kSelectedNodeAnnotation).empty()) {
        continue;
      }
      json patch = {{"metadata", {{"annotations", {{kSelectedNodeAnnotation, pod.node_name}}}}}};
      auto st = client_->Patch(client::kPersistentVolumeClaims, pod.ns, name,
                               client::PatchType::kMerge, patch);
      if (!st.ok()) return st.status();
    }
    return Status::Ok();
  }

  client::Client* client_;
  SchedulerOptions options_;
  client::Informer nodes_, pods_, claims_, volumes_, classes_;
  InformerVolumes lister_;
  std::vector<Extender> extenders_;

  std::mutex mu_;  // cache_
  ClusterCache cache_;
  Framework framework_;  // the scheduling thread's
  SchedulingQueue queue_;
  client::EventRecorder events_;
  std::thread worker_;

  std::mutex bind_mu_;
  std::condition_variable bind_cv_;
  std::deque<BindTask> bind_queue_;
  bool bind_stopping_ = false;
  std::vector<std::thread> binders_;

  std::mutex report_mu_;
  std::map<std::string, std::string> reported_;  // key → last message
};

}  // namespace

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Start(client::Client* client,
                                                      SchedulerOptions options) {
  auto s = std::make_unique<SchedulerImpl>(client, std::move(options));
  s->Run();
  return std::unique_ptr<Scheduler>(std::move(s));
}

}  // namespace kennel::scheduler
