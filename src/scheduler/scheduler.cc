#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/time.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "scheduler/framework.h"

namespace kennel::scheduler {
namespace {

using client::json;

std::string Str(const json& obj, const char* a, const char* b) {
  if (!obj.is_object() || !obj.contains(a) || !obj[a].is_object()) return "";
  const json& inner = obj[a];
  auto it = inner.find(b);
  return it != inner.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsOurs(const json& pod) {
  std::string name = Str(pod, "spec", "schedulerName");
  return name.empty() || name == "default-scheduler" || name == "kennel-scheduler";
}

bool Unassigned(const json& pod) {
  return Str(pod, "spec", "nodeName").empty() && Str(pod, "metadata", "deletionTimestamp").empty();
}

bool Terminal(const json& pod) {
  std::string phase = Str(pod, "status", "phase");
  return phase == "Succeeded" || phase == "Failed";
}

class SchedulerImpl : public Scheduler {
 public:
  explicit SchedulerImpl(client::Client* client)
      : client_(client),
        nodes_(client, client::kNodes, ""),
        pods_(client, client::kPods, ""),
        filters_(DefaultFilters()),
        scores_(DefaultScores()) {}

  ~SchedulerImpl() override {
    nodes_.Stop();
    pods_.Stop();
    queue_.ShutDown();
    if (worker_.joinable()) worker_.join();
  }

  void Run() {
    client::InformerHandler on_pod;
    on_pod.on_add = [this](const json& p) { Consider(p); };
    on_pod.on_update = [this](const json&, const json& p) { Consider(p); };
    // A pod that goes frees room: the pending ones may fit now.
    on_pod.on_delete = [this](const json& p) {
      ForgetAssumed(client::Informer::KeyOf(p));
      RetryPending();
    };
    pods_.AddHandler(std::move(on_pod));
    client::InformerHandler on_node;
    on_node.on_add = [this](const json&) { RetryPending(); };
    on_node.on_update = [this](const json&, const json&) { RetryPending(); };
    nodes_.AddHandler(std::move(on_node));
    nodes_.Start();
    pods_.Start();
    worker_ = std::thread([this] { WorkLoop(); });
  }

 private:
  void Consider(const json& pod) {
    std::string key = client::Informer::KeyOf(pod);
    if (!Unassigned(pod)) {
      ForgetAssumed(key);  // the cache caught up with our binding
      return;
    }
    if (IsOurs(pod)) queue_.Add(key);
  }

  void RetryPending() {
    std::lock_guard lock(mu_);
    for (const auto& key : pending_) queue_.Add(key);
  }

  void ForgetAssumed(const std::string& key) {
    std::lock_guard lock(mu_);
    assumed_.erase(key);
  }

  void WorkLoop() {
    nodes_.WaitForSync(std::chrono::seconds(30));
    pods_.WaitForSync(std::chrono::seconds(30));
    while (auto key = queue_.Get()) {
      ScheduleOne(*key);
      queue_.Done(*key);
    }
  }

  // Every node with what the pods bound to it (or being bound) request.
  std::vector<NodeInfo> Snapshot() {
    std::map<std::string, NodeInfo> by_name;
    for (const json& n : nodes_.List()) {
      NodeInfo info;
      info.name = Str(n, "metadata", "name");
      info.node = n;
      info.allocatable = NodeAllocatable(n);
      by_name[info.name] = std::move(info);
    }
    auto charge = [&](const std::string& node, const json& pod) {
      auto it = by_name.find(node);
      if (it != by_name.end()) it->second.requested.Add(PodRequests(pod));
    };
    std::map<std::string, std::pair<std::string, json>> assumed;
    {
      std::lock_guard lock(mu_);
      assumed = assumed_;
    }
    for (const json& p : pods_.List()) {
      std::string node = Str(p, "spec", "nodeName");
      if (node.empty() || Terminal(p)) continue;
      assumed.erase(client::Informer::KeyOf(p));
      charge(node, p);
    }
    for (const auto& [key, placed] : assumed) charge(placed.first, placed.second);
    std::vector<NodeInfo> out;
    for (auto& [name, info] : by_name) out.push_back(std::move(info));
    return out;
  }

  void ScheduleOne(const std::string& key) {
    auto pod = pods_.Get(key);
    if (!pod || !Unassigned(*pod) || !IsOurs(*pod)) {
      std::lock_guard lock(mu_);
      pending_.erase(key);
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (assumed_.count(key)) return;  // bound already; the cache lags
    }
    Placement placement = Place(*pod, Snapshot(), filters_, scores_);
    const std::string ns = Str(*pod, "metadata", "namespace");
    const std::string name = Str(*pod, "metadata", "name");
    if (!placement.node) {
      {
        std::lock_guard lock(mu_);
        pending_.insert(key);
      }
      ReportUnschedulable(*pod, placement.message);
      queue_.AddRateLimited(key);
      return;
    }
    json binding = {
        {"apiVersion", "v1"},
        {"kind", "Binding"},
        {"metadata", {{"name", name}, {"namespace", ns}}},
        {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", *placement.node}}}};
    auto bound = client_->PostSubresource(client::kPods, ns, name, "binding", binding);
    if (!bound.ok()) {
      if (bound.status().code() != Code::kConflict && bound.status().code() != Code::kNotFound) {
        spdlog::warn("scheduler: binding {} to {}: {}", key, *placement.node,
                     bound.status().ToString());
        queue_.AddRateLimited(key);
      }
      return;
    }
    std::lock_guard lock(mu_);
    assumed_[key] = {*placement.node, *pod};
    pending_.erase(key);
    queue_.Forget(key);
  }

  // PodScheduled=False/Unschedulable, and an Event, as kube-scheduler does;
  // both only when the message changed, so retries do not flood the store.
  void ReportUnschedulable(const json& pod, const std::string& message) {
    const std::string key = client::Informer::KeyOf(pod);
    {
      std::lock_guard lock(mu_);
      auto [it, inserted] = reported_.try_emplace(key, message);
      if (!inserted && it->second == message) return;
      it->second = message;
    }
    const std::string ns = Str(pod, "metadata", "namespace");
    const std::string name = Str(pod, "metadata", "name");
    json conditions = json::array();
    for (const json& c : pod.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") != "PodScheduled") conditions.push_back(c);
    }
    conditions.push_back({{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "Unschedulable"},
                          {"message", message},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", NowRfc3339()}});
    json patch = {{"status", {{"phase", "Pending"}, {"conditions", conditions}}}};
    auto st = client_->Patch(client::kPods, ns, name, client::PatchType::kMerge, patch, "status");
    if (!st.ok()) spdlog::warn("scheduler: status of {}: {}", key, st.status().ToString());
    json event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"generateName", name + "."}, {"namespace", ns}}},
                  {"involvedObject",
                   {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"name", name},
                    {"namespace", ns},
                    {"uid", Str(pod, "metadata", "uid")}}},
                  {"reason", "FailedScheduling"},
                  {"message", message},
                  {"type", "Warning"},
                  {"source", {{"component", "default-scheduler"}}},
                  {"reportingComponent", "default-scheduler"},
                  {"firstTimestamp", NowRfc3339()},
                  {"lastTimestamp", NowRfc3339()},
                  {"count", 1}};
    auto ev = client_->Create(client::kEvents, ns, event);
    if (!ev.ok()) spdlog::warn("scheduler: event for {}: {}", key, ev.status().ToString());
  }

  client::Client* client_;
  client::Informer nodes_;
  client::Informer pods_;
  std::vector<std::unique_ptr<FilterPlugin>> filters_;
  std::vector<std::unique_ptr<ScorePlugin>> scores_;
  client::WorkQueue queue_;
  std::thread worker_;

  std::mutex mu_;
  std::set<std::string> pending_;                                // unschedulable keys
  std::map<std::string, std::pair<std::string, json>> assumed_;  // key → (node, pod)
  std::map<std::string, std::string> reported_;                  // key → last message
};

}  // namespace

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Start(client::Client* client) {
  auto s = std::make_unique<SchedulerImpl>(client);
  s->Run();
  return std::unique_ptr<Scheduler>(std::move(s));
}

}  // namespace kennel::scheduler
