// kennel_statefulset_load: creates one StatefulSet on a running `kennel up`
// and times its pets as watches see them (millisecond clock: the API's
// timestamps have one-second resolution).
//
//   kennel_statefulset_load --kubeconfig K --name N --replicas R
//       [--policy Parallel|OrderedReady] [--claim-size 1Gi] [--probe-period 1]
//       [--timeout 300]
//
// Per pet it records: pod created (the controller), bound to a node (the
// scheduler), its claim Bound (the provisioner), Running and Ready (the
// agent), and prints one line of key=value figures:
//   ready_s      set created → every pet Ready
//   step_ms_*    between consecutive pets becoming Ready (OrderedReady's step)
//   controller_ms_p50, scheduler_ms_p50, provisioner_ms_p50, agent_ms_p50:
//                the split of a pet's time, medians over the pets
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>

#include "client/client.h"

namespace {

using kennel::client::json;
using Clock = std::chrono::steady_clock;
using TimePoint = std::optional<Clock::time_point>;

struct Pet {
  TimePoint created, bound, claim_bound, running, ready;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double Ms(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

bool IsReady(const json& pod) {
  for (const json& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

json SetManifest(const std::string& name, int replicas, const std::string& policy,
                 const std::string& claim_size, int probe_period) {
  json container = {{"name", "app"},
                    {"image", "host"},
                    {"command", {"sleep", "100000"}},
                    {"volumeMounts", {{{"name", "data"}, {"mountPath", "/data"}}}}};
  if (probe_period > 0) {
    container["readinessProbe"] = {{"exec", {{"command", {"true"}}}},
                                   {"periodSeconds", probe_period}};
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"serviceName", name},
            {"replicas", replicas},
            {"podManagementPolicy", policy},
            {"selector", {{"matchLabels", {{"bench", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"bench", name}}}}},
              {"spec", {{"terminationGracePeriodSeconds", 1}, {"containers", {container}}}}}},
            {"volumeClaimTemplates",
             {{{"metadata", {{"name", "data"}}},
               {"spec",
                {{"accessModes", {"ReadWriteOnce"}},
                 {"resources", {{"requests", {{"storage", claim_size}}}}}}}}}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Creates a StatefulSet and times its pets"};
  std::string kubeconfig, name = "bench", policy = "Parallel", claim_size = "1Gi", ns = "default";
  int replicas = 100, probe_period = 1, timeout_s = 300;
  app.add_option("--kubeconfig", kubeconfig)->required();
  app.add_option("--name", name)->capture_default_str();
  app.add_option("--replicas", replicas)->capture_default_str();
  app.add_option("--policy", policy, "Parallel or OrderedReady")->capture_default_str();
  app.add_option("--claim-size", claim_size)->capture_default_str();
  app.add_option("--probe-period", probe_period, "Exec readiness probe period; 0: no probe")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s)->capture_default_str();
  bool per_pet = false;
  app.add_flag("--per-pet", per_pet,
               "Also print each pet's timeline to stderr (ms from the set's creation)");
  CLI11_PARSE(app, argc, argv);

  auto options = kennel::client::HttpOptionsFromKubeconfig(kubeconfig);
  if (!options.ok()) {
    std::fprintf(stderr, "statefulset_load: %s\n", options.status().ToString().c_str());
    return 1;
  }
  auto client = kennel::client::NewHttpClient(*options);
  if (!client.ok()) {
    std::fprintf(stderr, "statefulset_load: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto& c = **client;

  std::mutex mu;
  std::condition_variable cv;
  std::map<int, Pet> pets;  // by ordinal
  int ready = 0;
  const std::string prefix = name + "-";
  const std::string claim_prefix = "data-" + name + "-";
  auto pet_of = [&](const json& obj, const std::string& p) -> Pet* {
    std::string n = obj.value("metadata", json::object()).value("name", "");
    if (n.rfind(p, 0) != 0 || n.size() == p.size() ||
        n.find_first_not_of("0123456789", p.size()) != std::string::npos) {
      return nullptr;
    }
    return &pets[std::stoi(n.substr(p.size()))];
  };
  auto now_if_unset = [](TimePoint& t, Clock::time_point now) {
    if (!t) t = now;
  };

  std::vector<std::unique_ptr<kennel::client::WatchHandle>> watches;
  for (const auto* resource : {&kennel::client::kPods, &kennel::client::kPersistentVolumeClaims}) {
    auto listed = c.List(*resource, ns);
    if (!listed.ok()) {
      std::fprintf(stderr, "statefulset_load: list: %s\n", listed.status().ToString().c_str());
      return 1;
    }
    kennel::client::ListOptions from;
    from.resource_version = listed->resource_version;
    const bool pods = resource == &kennel::client::kPods;
    auto watch = c.Watch(
        *resource, ns, from,
        [&, pods](const kennel::client::WatchEvent& ev) {
          auto now = Clock::now();
          std::lock_guard lock(mu);
          Pet* pet = pet_of(ev.object, pods ? prefix : claim_prefix);
          if (pet == nullptr || ev.type == "DELETED") return;
          const json& status = ev.object.value("status", json::object());
          if (!pods) {
            if (status.value("phase", "") == "Bound") now_if_unset(pet->claim_bound, now);
            return;
          }
          now_if_unset(pet->created, now);
          if (!ev.object.value("spec", json::object()).value("nodeName", "").empty()) {
            now_if_unset(pet->bound, now);
          }
          if (status.value("phase", "") == "Running") now_if_unset(pet->running, now);
          if (IsReady(ev.object) && !pet->ready) {
            pet->ready = now;
            ++ready;
            cv.notify_all();
          }
        },
        [](const kennel::Status&) {});
    if (!watch.ok()) {
      std::fprintf(stderr, "statefulset_load: watch: %s\n", watch.status().ToString().c_str());
      return 1;
    }
    watches.push_back(std::move(watch).value());
  }

  const auto start = Clock::now();
  auto created = c.Create(kennel::client::kStatefulSets, ns,
                          SetManifest(name, replicas, policy, claim_size, probe_period));
  if (!created.ok()) {
    std::fprintf(stderr, "statefulset_load: create: %s\n", created.status().ToString().c_str());
    return 1;
  }
  bool all;
  {
    std::unique_lock lock(mu);
    all = cv.wait_until(lock, start + std::chrono::seconds(timeout_s),
                        [&] { return ready >= replicas; });
  }
  const double ready_s = std::chrono::duration<double>(Clock::now() - start).count();
  watches.clear();

  std::vector<double> controller, scheduler, provisioner, agent, ready_times;
  {
    std::lock_guard lock(mu);
    // Under OrderedReady a pet may only be created once the one before it is
    // Ready: that is where the controller's part of its step starts.
    std::optional<Clock::time_point> previous_ready;
    for (const auto& [ordinal, p] : pets) {
      if (!p.created || !p.bound || !p.ready) continue;
      Clock::time_point may_create =
          policy == "OrderedReady" && previous_ready ? *previous_ready : start;
      previous_ready = p.ready;
      controller.push_back(Ms(may_create, *p.created));
      scheduler.push_back(Ms(*p.created, *p.bound));
      // The claim binds after the pod is placed (WaitForFirstConsumer).
      Clock::time_point storage_ready =
          p.claim_bound ? std::max(*p.claim_bound, *p.bound) : *p.bound;
      provisioner.push_back(Ms(*p.bound, storage_ready));
      agent.push_back(Ms(storage_ready, *p.ready));
      ready_times.push_back(Ms(start, *p.ready));
      if (per_pet) {
        std::fprintf(stderr,
                     "pet %d: created %.1f bound %.1f claim_bound %.1f running %.1f ready %.1f\n",
                     ordinal, Ms(start, *p.created), Ms(start, *p.bound),
                     p.claim_bound ? Ms(start, *p.claim_bound) : -1.0,
                     p.running ? Ms(start, *p.running) : -1.0, Ms(start, *p.ready));
      }
    }
  }
  std::sort(ready_times.begin(), ready_times.end());
  std::vector<double> steps;
  for (size_t i = 1; i < ready_times.size(); ++i)
    steps.push_back(ready_times[i] - ready_times[i - 1]);
  std::printf(
      "replicas=%d policy=%s ready=%zu ready_s=%.2f step_ms_p50=%.1f step_ms_max=%.1f "
      "step_ms_mean=%.1f controller_ms_p50=%.1f scheduler_ms_p50=%.1f provisioner_ms_p50=%.1f "
      "agent_ms_p50=%.1f complete=%d\n",
      replicas, policy.c_str(), ready_times.size(), ready_s, Percentile(steps, 0.5),
      steps.empty() ? 0.0 : *std::max_element(steps.begin(), steps.end()),
      steps.empty()
          ? 0.0
          : (ready_times.back() - ready_times.front()) / static_cast<double>(steps.size()),
      Percentile(controller, 0.5), Percentile(scheduler, 0.5), Percentile(provisioner, 0.5),
      Percentile(agent, 0.5), all ? 1 : 0);
  return all ? 0 : 2;
}
