// kennel_pods_load: creates pods bound to one node through the API (the HTTP
// client the agent uses) and measures, per pod, created→Running and
// created→Ready as seen by a watch. Prints one line of key=value figures.
//
//   kennel_pods_load --kubeconfig K --node N [--count 100] [--rate 10]
//                    [--namespace default] [--timeout 120] [--probe-period 10]
//
// rate is pods created per second (0 = all at once): paced creation measures
// a pod's own start cost; a burst measures the queue.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "client/client.h"

namespace {

using kennel::client::json;
using Clock = std::chrono::steady_clock;

struct Times {
  Clock::time_point created;
  std::optional<Clock::time_point> running;
  std::optional<Clock::time_point> ready;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

json PodManifest(const std::string& name, const std::string& node, int probe_period) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", {{"bench", "pods"}}}}},
          {"spec",
           {{"nodeName", node},
            {"terminationGracePeriodSeconds", 1},
            {"containers",
             {{{"name", "app"},
               {"image", "host"},
               {"command", {"sleep", "100000"}},
               {"readinessProbe",
                {{"exec", {{"command", {"true"}}}}, {"periodSeconds", probe_period}}}}}}}}};
}

bool IsReady(const json& pod) {
  for (const json& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Creates pods on a node and measures how fast they run"};
  std::string kubeconfig, node, ns = "default", prefix = "bench";
  int count = 100, timeout_s = 120, probe_period = 10;
  double rate = 10;
  app.add_option("--kubeconfig", kubeconfig)->required();
  app.add_option("--node", node)->required();
  app.add_option("--count", count)->capture_default_str();
  app.add_option("--rate", rate, "pods per second (0: all at once)")->capture_default_str();
  app.add_option("--namespace", ns)->capture_default_str();
  app.add_option("--prefix", prefix)->capture_default_str();
  app.add_option("--timeout", timeout_s)->capture_default_str();
  app.add_option("--probe-period", probe_period,
                 "readiness probe periodSeconds (10: Kubernetes' default)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto options = kennel::client::HttpOptionsFromKubeconfig(kubeconfig);
  if (!options.ok()) {
    std::fprintf(stderr, "pods_load: %s\n", options.status().ToString().c_str());
    return 1;
  }
  auto client = kennel::client::NewHttpClient(*options);
  if (!client.ok()) {
    std::fprintf(stderr, "pods_load: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto& c = **client;
  auto listed = c.List(kennel::client::kPods, ns);
  if (!listed.ok()) {
    std::fprintf(stderr, "pods_load: list: %s\n", listed.status().ToString().c_str());
    return 1;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Times> times;
  int running = 0, ready = 0;
  kennel::client::ListOptions watch_from;
  watch_from.resource_version = listed->resource_version;
  watch_from.label_selector = "bench=pods";
  auto watch = c.Watch(
      kennel::client::kPods, ns, watch_from,
      [&](const kennel::client::WatchEvent& ev) {
        auto now = Clock::now();
        std::string name = ev.object.value("metadata", json::object()).value("name", "");
        std::lock_guard lock(mu);
        auto it = times.find(name);
        if (it == times.end()) return;
        std::string phase = ev.object.value("status", json::object()).value("phase", "");
        if (phase == "Running" && !it->second.running) {
          it->second.running = now;
          ++running;
        }
        if (IsReady(ev.object) && !it->second.ready) {
          it->second.ready = now;
          ++ready;
        }
        cv.notify_all();
      },
      [](const kennel::Status&) {});
  if (!watch.ok()) {
    std::fprintf(stderr, "pods_load: watch: %s\n", watch.status().ToString().c_str());
    return 1;
  }

  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (rate > 0) {
      std::this_thread::sleep_until(
          start + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / rate)));
    }
    std::string name = prefix + "-" + std::to_string(i);
    {
      std::lock_guard lock(mu);
      times[name].created = Clock::now();
    }
    auto created = c.Create(kennel::client::kPods, ns, PodManifest(name, node, probe_period));
    if (!created.ok()) {
      std::fprintf(stderr, "pods_load: create %s: %s\n", name.c_str(),
                   created.status().ToString().c_str());
      return 1;
    }
  }
  bool all;
  {
    std::unique_lock lock(mu);
    all = cv.wait_until(lock, start + std::chrono::seconds(timeout_s),
                        [&] { return running == count && ready == count; });
  }
  const double all_running_s = std::chrono::duration<double>(Clock::now() - start).count();
  watch->reset();

  std::vector<double> to_running, to_ready;
  {
    std::lock_guard lock(mu);
    for (const auto& [name, t] : times) {
      if (t.running) {
        to_running.push_back(
            std::chrono::duration<double, std::milli>(*t.running - t.created).count());
      }
      if (t.ready) {
        to_ready.push_back(std::chrono::duration<double, std::milli>(*t.ready - t.created).count());
      }
    }
  }
  std::printf(
      "count=%d rate=%g running=%zu ready=%zu all_done_s=%.2f start_p50_ms=%.1f "
      "start_p99_ms=%.1f ready_p50_ms=%.1f ready_p99_ms=%.1f complete=%d\n",
      count, rate, to_running.size(), to_ready.size(), all_running_s, Percentile(to_running, 0.5),
      Percentile(to_running, 0.99), Percentile(to_ready, 0.5), Percentile(to_ready, 0.99),
      all ? 1 : 0);
  return all ? 0 : 2;
}
