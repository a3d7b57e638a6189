// kennel_scheduler_load: the load generator behind `bench/run scheduler`.
//
//   kennel_scheduler_load --url URL --token-file F --ca F
//       --shape plain|antiaffinity|spread [--nodes 5000] [--pods 10000]
//       [--clients 16] [--zones 10] [--group-size 5] [--timeout 300]
//
// Against a fresh `kennel server` (its scheduler inside, no agent):
//   1. registers N fake Nodes with varied capacity and labels, status set
//      (capacity, allocatable, Ready) and a pod CIDR each, over C connections;
//   2. waits until the scheduler has seen them all: a probe pod (namespace
//      bench-probe) pinned by nodeSelector to the node created last (highest
//      resourceVersion) is bound, and the scheduler's node informer sees
//      events in revision order;
//   3. opens a watch on pods in namespace bench from the list's
//      resourceVersion, then creates P pods of the shape as fast as C clients
//      can, recording each pod's send time, and the moment the watch shows
//      each one bound (spec.nodeName set);
//   4. LISTs the pods and checks the placement: every pod bound; for
//      antiaffinity no two pods of a group on one node; for spread the skew
//      between zones.
//
// Prints notes on stderr and one `key=value …` line on stdout. Exit status 3
// when not every pod was bound within --timeout seconds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "bench_client.h"

namespace kennel::bench {
namespace {

using json = nlohmann::json;

constexpr const char* kNamespace = "bench";
constexpr const char* kProbeNamespace = "bench-probe";
constexpr const char* kPodPrefix = "pod-";

struct Options {
  std::string url;
  std::string token_file;
  std::string ca_file;
  std::string shape = "plain";
  int nodes = 5000;
  int pods = 10000;
  int clients = 16;
  int zones = 10;
  int group_size = 5;
  int timeout_s = 300;
};

// ---------------------------------------------------------------------------
// Nodes

// Node sizes, cycled through: capacity, and what is left for pods.
struct NodeSize {
  int cpu;           // cores
  int memory_gi;     // GiB
  int storage_gi;    // ephemeral-storage, GiB
  int local_gi;      // kennel.io/local-storage, GiB
  int bandwidth_g;   // kennel.io/network-bandwidth, Gbit/s
  const char* type;  // node.kubernetes.io/instance-type
};
constexpr NodeSize kNodeSizes[] = {
    {4, 16, 100, 200, 10, "bench.xlarge"},
    {8, 32, 200, 500, 10, "bench.2xlarge"},
    {16, 64, 400, 1000, 25, "bench.4xlarge"},
    {32, 128, 800, 2000, 50, "bench.8xlarge"},
};

std::string NodeName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%05d", i);
  return buf;
}

int NodeIndex(std::string_view name) {
  if (name.rfind("node-", 0) != 0) return -1;
  return std::atoi(std::string(name.substr(5)).c_str());
}

int ZoneOf(int node, int zones) { return node % zones; }

std::string ZoneName(int zone) { return "zone-" + std::to_string(zone); }

json NodeObject(int i, const Options& o) {
  // Size varies across zones too: zone = i % zones, size = (i / zones) % 4.
  const NodeSize& size = kNodeSizes[(i / o.zones) % std::size(kNodeSizes)];
  const int zone = ZoneOf(i, o.zones);
  const std::string name = NodeName(i);
  auto gi = [](int n) { return std::to_string(n) + "Gi"; };
  json capacity = {{"cpu", std::to_string(size.cpu)},
                   {"memory", gi(size.memory_gi)},
                   {"ephemeral-storage", gi(size.storage_gi)},
                   {"pods", "110"},
                   {"kennel.io/local-storage", gi(size.local_gi)},
                   {"kennel.io/network-bandwidth", std::to_string(size.bandwidth_g) + "G"}};
  // What a kubelet reserves for the system is not for pods.
  json allocatable = capacity;
  allocatable["cpu"] = std::to_string(size.cpu * 1000 - 100) + "m";
  allocatable["memory"] = gi(size.memory_gi - 1);
  allocatable["ephemeral-storage"] = gi(size.storage_gi - 10);
  // 10.<hi>.<lo>.0/24 out of 10.0.0.0/8: the server's node IPAM has nothing
  // to do, as in a cluster whose nodes registered long ago.
  const std::string cidr =
      "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
  const std::string now = "2026-11-22T00:00:00Z";
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{"kubernetes.io/hostname", name},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"},
              {"topology.kubernetes.io/zone", ZoneName(zone)},
              {"topology.kubernetes.io/region", "region-" + std::to_string(zone % 2)},
              {"node.kubernetes.io/instance-type", size.type}}}}},
          {"spec", {{"podCIDR", cidr}, {"podCIDRs", {cidr}}}},
          {"status",
           {{"capacity", capacity},
            {"allocatable", allocatable},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"reason", "KubeletReady"},
               {"message", "fake node of bench/run scheduler"},
               {"lastHeartbeatTime", now},
               {"lastTransitionTime", now}}}},
            {"nodeInfo",
             {{"architecture", "amd64"},
              {"operatingSystem", "linux"},
              {"kubeletVersion", "v1.31.0-kennel-bench"}}}}}};
}

struct NodesResult {
  int created = 0;
  int errors = 0;
  double seconds = 0;
  std::string last_node;  // the one with the highest resourceVersion
};

NodesResult RegisterNodes(const Endpoint& ep, ssl::context* ctx, const Options& o) {
  std::vector<std::pair<std::string, std::string>> requests;
  requests.reserve(o.nodes);
  for (int i = 0; i < o.nodes; ++i) requests.emplace_back("/api/v1/nodes", NodeObject(i, o).dump());
  CreateResult created = CreateAll(ep, ctx, requests, o.clients, "scheduler_load");
  NodesResult result;
  result.created = created.created;
  result.errors = created.errors;
  result.seconds = created.seconds;
  if (created.last_rv >= 0) result.last_node = NodeName(static_cast<int>(created.last_index));
  return result;
}

// Creates a pod pinned to `node` in the probe namespace and waits until it is
// bound: then the scheduler has seen every node created before `node`.
// Returns the milliseconds that took, or an error at the deadline.
StatusOr<double> WaitForSchedulerNodes(const Endpoint& ep, ssl::context* ctx,
                                       const std::string& node, Clock::time_point deadline) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "probe"}}},
              {"spec",
               {{"nodeSelector", {{"kubernetes.io/hostname", node}}},
                {"containers", {{{"name", "app"}, {"image", "host"}}}}}}};
  const std::string pods = std::string("/api/v1/namespaces/") + kProbeNamespace + "/pods";
  const int64_t start = NowNs();
  ASSIGN_OR_RETURN(auto created, OneRequest(ep, ctx, http::verb::post, pods, pod.dump()));
  if (created.result_int() != 201) {
    return Unavailable("probe pod: HTTP " + std::to_string(created.result_int()) + " " +
                       created.body());
  }
  asio::io_context ioc;
  Status result = Status::Ok();
  std::string bound_to;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        Conn conn(co_await asio::this_coro::executor, ep, ctx);
        asio::steady_timer timer(co_await asio::this_coro::executor);
        http::response<http::string_body> res;
        const std::string probe = pods + "/probe";
        bool connected = false;
        while (Clock::now() < deadline) {
          if (!connected) connected = !co_await conn.Connect();
          if (connected) {
            auto ec = co_await conn.Do(http::verb::get, probe, "", &res);
            connected = !ec && res.keep_alive();
            if (!ec && res.result_int() == 200) {
              bound_to = std::string(StringAfter(res.body(), "nodeName"));
              if (!bound_to.empty()) co_return;
            }
          }
          timer.expires_after(std::chrono::milliseconds(10));
          co_await timer.async_wait(asio::use_awaitable);
        }
        result = Unavailable("the probe pod pinned to " + node + " was not bound in time");
      },
      asio::detached);
  ioc.run();
  RETURN_IF_ERROR(result);
  if (bound_to != node) return Internal("the probe pod went to " + bound_to + ", not " + node);
  return static_cast<double>(NowNs() - start) / 1e6;
}

// ---------------------------------------------------------------------------
// Pods

// One pod of the shape as the API's JSON: upstream scheduler_perf's pod
// (100m CPU, 500Mi memory) with the shape's constraint.
std::string PodBody(int i, const Options& o) {
  json labels = {{"bench", "scheduler"}};
  json spec = {{"containers",
                {{{"name", "app"},
                  {"image", "host"},
                  {"resources",
                   {{"requests", {{"cpu", "100m"}, {"memory", "500Mi"}}},
                    {"limits", {{"cpu", "100m"}, {"memory", "500Mi"}}}}}}}}};
  if (o.shape == "antiaffinity") {
    // Groups of group_size pods (like a StatefulSet's replicas), none two of
    // a group on one node.
    const std::string group = "g" + std::to_string(i / o.group_size);
    labels["group"] = group;
    spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {{"labelSelector", {{"matchLabels", {{"group", group}}}}},
         {"topologyKey", "kubernetes.io/hostname"}}};
  } else if (o.shape == "spread") {
    labels["spread"] = "s";
    spec["topologySpreadConstraints"] = {{{"maxSkew", 1},
                                          {"topologyKey", "topology.kubernetes.io/zone"},
                                          {"whenUnsatisfiable", "DoNotSchedule"},
                                          {"labelSelector", {{"matchLabels", {{"spread", "s"}}}}}}};
  }
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", kPodPrefix + std::to_string(i)}, {"labels", labels}}},
              {"spec", spec}};
  return pod.dump();
}

struct PodTimes {
  int64_t sent = 0;     // create request written
  int64_t created = 0;  // 201 received
  int64_t bound = 0;    // first watch event with spec.nodeName
};

struct PodsResult {
  std::vector<PodTimes> times;
  int created = 0;
  int create_errors = 0;
  int bound = 0;
  int64_t first_sent = 0;
  int64_t last_created = 0;
  int64_t last_bound = 0;
  std::string watch_error;
};

int PodIndex(std::string_view name) {
  if (name.rfind(kPodPrefix, 0) != 0) return -1;
  return std::atoi(std::string(name.substr(std::string_view(kPodPrefix).size())).c_str());
}

PodsResult CreatePods(const Endpoint& ep, ssl::context* ctx, const Options& o,
                      const std::string& list_rv) {
  std::vector<std::string> bodies;
  bodies.reserve(o.pods);
  for (int i = 0; i < o.pods; ++i) bodies.push_back(PodBody(i, o));
  const std::string collection = std::string("/api/v1/namespaces/") + kNamespace + "/pods";

  asio::io_context ioc;
  PodsResult r;
  r.times.resize(o.pods);
  int next = 0;
  int finished_clients = 0;
  bool watch_ready = false;
  bool watch_failed = false;
  std::string rv = list_rv;
  Conn* watch_conn = nullptr;
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  // Everything runs on this one thread: plain counters are enough.
  auto all_seen = [&] { return finished_clients == o.clients && r.bound >= r.created; };

  // The watch: notes when each pod is first seen bound. Reopens from the last
  // resourceVersion it saw if the server ends the stream.
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        Conn conn(co_await asio::this_coro::executor, ep, ctx);
        watch_conn = &conn;
        std::string pending;
        bool done = false;
        auto on_header = [&](int status) {
          if (status == 200) {
            watch_ready = true;
          } else {
            r.watch_error = "watch answered HTTP " + std::to_string(status);
          }
        };
        auto on_data = [&](std::string_view piece, int64_t received_ns) -> bool {
          pending.append(piece);
          size_t start = 0;
          for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            std::string_view line(pending.data() + start, nl - start);
            if (line.find(R"("type":"ERROR")") != std::string_view::npos) {
              r.watch_error = "watch error event: " + std::string(line.substr(0, 300));
              done = true;
              return false;
            }
            const size_t meta = line.find(R"("metadata":{)");
            if (meta == std::string_view::npos) continue;
            const std::string_view event_rv = StringAfter(line, "resourceVersion", meta);
            if (!event_rv.empty()) rv = std::string(event_rv);
            const int i = PodIndex(StringAfter(line, "name", meta));
            if (i < 0 || i >= o.pods || r.times[i].bound != 0) continue;
            if (StringAfter(line, "nodeName").empty()) continue;
            r.times[i].bound = received_ns;
            r.last_bound = std::max(r.last_bound, received_ns);
            ++r.bound;
          }
          pending.erase(0, start);
          if (all_seen()) done = true;
          return !done;
        };
        while (!done && !all_seen() && Clock::now() < deadline) {
          if (auto ec = co_await conn.Connect()) {
            std::fprintf(stderr, "scheduler_load: watch connect: %s\n", ec.message().c_str());
            break;
          }
          pending.clear();
          const std::string target =
              collection + "?watch=1&allowWatchBookmarks=false&resourceVersion=" + rv;
          const int status = co_await conn.Stream(target, deadline, on_header, on_data);
          if (status != 200 && status != 0) break;  // refused: on_header said why
        }
        watch_failed = !done && !all_seen();
        watch_conn = nullptr;
      },
      asio::detached);

  // The creators: start once the watch is open, then POST as fast as they
  // can, each on its own keep-alive connection.
  for (int c = 0; c < o.clients; ++c) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          Conn conn(co_await asio::this_coro::executor, ep, ctx);
          auto ec = co_await conn.Connect();
          asio::steady_timer timer(co_await asio::this_coro::executor);
          while (!watch_ready && r.watch_error.empty() && Clock::now() < deadline) {
            timer.expires_after(std::chrono::milliseconds(1));
            co_await timer.async_wait(asio::use_awaitable);
          }
          http::response<http::string_body> res;
          while (!ec && watch_ready && next < o.pods && Clock::now() < deadline) {
            const int i = next++;
            PodTimes& t = r.times[i];
            t.sent = NowNs();
            if (r.first_sent == 0) r.first_sent = t.sent;
            ec = co_await conn.Do(http::verb::post, collection, bodies[i], &res);
            if (ec || res.result_int() != 201) {
              ++r.create_errors;
              NoteError("scheduler_load", "create pod", ec, res);
              if (ec) ec = co_await conn.Connect();
              continue;
            }
            t.created = NowNs();
            r.last_created = std::max(r.last_created, t.created);
            ++r.created;
            if (!res.keep_alive()) ec = co_await conn.Connect();
          }
          if (ec) std::fprintf(stderr, "scheduler_load: creator: %s\n", ec.message().c_str());
          ++finished_clients;
          // The watch may be waiting for pods whose creates failed.
          if (all_seen() && watch_conn != nullptr) watch_conn->Close();
        },
        asio::detached);
  }
  ioc.run();
  if (watch_failed && r.watch_error.empty() && Clock::now() >= deadline) {
    r.watch_error = "timed out";
  }
  return r;
}

// ---------------------------------------------------------------------------
// The placement check, on a final LIST

struct CheckResult {
  int listed = 0;
  int bound = 0;
  int violations = 0;    // antiaffinity: pods sharing a node with one of their group
  int max_skew = 0;      // spread: max − min pods of the selector over the zones
  int max_per_node = 0;  // most pods of this run on one node
  int nodes_used = 0;
  std::vector<std::string> unbound_reasons;  // a few PodScheduled messages
};

StatusOr<CheckResult> CheckPlacement(const Endpoint& ep, ssl::context* ctx, const Options& o) {
  CheckResult c;
  std::map<std::pair<std::string, std::string>, int> per_group_node;
  std::map<std::string, int> per_node;
  std::vector<int> per_zone(o.zones, 0);
  std::string cont;
  do {
    std::string target = std::string("/api/v1/namespaces/") + kNamespace + "/pods?limit=1000";
    if (!cont.empty()) target += "&continue=" + cont;
    ASSIGN_OR_RETURN(auto res, OneRequest(ep, ctx, http::verb::get, target, ""));
    if (res.result_int() != 200) {
      return Unavailable("list pods: HTTP " + std::to_string(res.result_int()) + " " +
                         res.body().substr(0, 300));
    }
    json list = json::parse(res.body(), nullptr, false);
    if (list.is_discarded()) return Internal("list pods: not JSON");
    cont = list.value("/metadata/continue"_json_pointer, std::string());
    for (const json& pod : list.value("items", json::array())) {
      ++c.listed;
      const json& labels = pod.value("/metadata/labels"_json_pointer, json::object());
      const std::string node = pod.value("/spec/nodeName"_json_pointer, std::string());
      if (node.empty()) {
        if (c.unbound_reasons.size() < 3) {
          std::string why = "no PodScheduled condition";
          for (const json& cond : pod.value("/status/conditions"_json_pointer, json::array())) {
            if (cond.value("type", "") == "PodScheduled") why = cond.value("message", "");
          }
          c.unbound_reasons.push_back(pod.value("/metadata/name"_json_pointer, std::string()) +
                                      ": " + why);
        }
        continue;
      }
      ++c.bound;
      ++per_node[node];
      if (labels.contains("group")) {
        if (++per_group_node[{labels.value("group", ""), node}] > 1) ++c.violations;
      }
      const int n = NodeIndex(node);
      if (labels.contains("spread") && n >= 0) ++per_zone[ZoneOf(n, o.zones)];
    }
  } while (!cont.empty());
  for (const auto& [node, count] : per_node) c.max_per_node = std::max(c.max_per_node, count);
  c.nodes_used = static_cast<int>(per_node.size());
  if (o.shape == "spread") {
    // Every zone has nodes (N >= zones), so each is an eligible domain.
    const int zones_with_nodes = std::min(o.zones, o.nodes);
    auto [lo, hi] = std::minmax_element(per_zone.begin(), per_zone.begin() + zones_with_nodes);
    c.max_skew = *hi - *lo;
  }
  return c;
}

// ---------------------------------------------------------------------------

Status CreateNamespace(const Endpoint& ep, ssl::context* ctx, const std::string& name) {
  ASSIGN_OR_RETURN(auto res, OneRequest(ep, ctx, http::verb::post, "/api/v1/namespaces",
                                        R"({"apiVersion":"v1","kind":"Namespace","metadata":)"
                                        R"({"name":")" +
                                            name + R"("}})"));
  if (res.result_int() != 201 && res.result_int() != 409) {
    return Unavailable("create namespace " + name + ": " + res.body().substr(0, 300));
  }
  return Status::Ok();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "scheduler_load: %s\n", what.c_str());
  return 1;
}

int Run(const Options& o) {
  ssl::context ctx(ssl::context::tls_client);
  auto ep = KennelEndpoint(o.url, o.token_file, o.ca_file, &ctx);
  if (!ep.ok()) return Fail(ep.status().ToString());
  ep->user_agent = "kennel-scheduler-load";
  for (const char* ns : {kNamespace, kProbeNamespace}) {
    Status st = CreateNamespace(*ep, &ctx, ns);
    if (!st.ok()) return Fail(st.ToString());
  }

  // (1) nodes
  std::fprintf(stderr, "scheduler_load: registering %d nodes over %d connections\n", o.nodes,
               o.clients);
  NodesResult nodes = RegisterNodes(*ep, &ctx, o);
  std::fprintf(stderr, "scheduler_load: %d nodes registered in %.2f s (%d errors)\n", nodes.created,
               nodes.seconds, nodes.errors);
  if (nodes.created != o.nodes) return Fail("not every node was registered");

  // (2) the scheduler has them all
  auto synced = WaitForSchedulerNodes(*ep, &ctx, nodes.last_node,
                                      Clock::now() + std::chrono::seconds(o.timeout_s));
  if (!synced.ok()) return Fail(synced.status().ToString());
  std::fprintf(stderr, "scheduler_load: the scheduler sees all nodes (probe bound after %.0f ms)\n",
               *synced);

  // (3) pods
  auto list = OneRequest(*ep, &ctx, http::verb::get,
                         std::string("/api/v1/namespaces/") + kNamespace + "/pods?limit=1", "");
  if (!list.ok() || list->result_int() != 200) {
    return Fail("list pods: " +
                (list.ok() ? list->body().substr(0, 300) : list.status().ToString()));
  }
  const std::string rv = std::string(StringAfter(list->body(), "resourceVersion"));
  std::fprintf(stderr, "scheduler_load: creating %d %s pods with %d clients (watch from rv %s)\n",
               o.pods, o.shape.c_str(), o.clients, rv.c_str());
  PodsResult p = CreatePods(*ep, &ctx, o, rv);
  // after_create: from the create's answer to the bound event, the part of
  // the latency that is the scheduler's (and the watches' on either side).
  Samples latency, create_latency, after_create;
  for (const PodTimes& t : p.times) {
    if (t.bound != 0) latency.Add(t.bound - t.sent);
    if (t.created != 0) create_latency.Add(t.created - t.sent);
    if (t.bound != 0 && t.created != 0) after_create.Add(std::max<int64_t>(0, t.bound - t.created));
  }
  const double bind_s = p.bound > 0 ? static_cast<double>(p.last_bound - p.first_sent) / 1e9 : 0;
  const double create_s =
      p.created > 0 ? static_cast<double>(p.last_created - p.first_sent) / 1e9 : 0;
  std::fprintf(stderr,
               "scheduler_load: %d created (%d errors) in %.2f s; %d seen bound, the last "
               "after %.2f s\n",
               p.created, p.create_errors, create_s, p.bound, bind_s);
  if (!p.watch_error.empty()) {
    std::fprintf(stderr, "scheduler_load: watch: %s\n", p.watch_error.c_str());
  }

  // (4) placement
  auto check = CheckPlacement(*ep, &ctx, o);
  if (!check.ok()) return Fail(check.status().ToString());
  for (const std::string& why : check->unbound_reasons) {
    std::fprintf(stderr, "scheduler_load: unbound: %s\n", why.c_str());
  }
  std::fprintf(stderr,
               "scheduler_load: check: %d of %d pods bound on %d nodes (at most %d on one); "
               "anti-affinity violations %d; zone skew %d\n",
               check->bound, check->listed, check->nodes_used, check->max_per_node,
               check->violations, check->max_skew);

  const bool complete = p.bound == o.pods && check->bound == o.pods;
  std::string line;
  auto add = [&line](std::string_view key, const std::string& value) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    line += value;
  };
  auto count = [](int64_t v) { return std::to_string(v); };
  // Whole numbers, but a tenth where that is the only precision there is.
  auto rate = [](int n, double s) {
    const double r = s > 0 ? n / s : 0;
    return Fixed(r, r < 100 ? 1 : 0);
  };
  add("shape", o.shape);
  add("nodes", count(o.nodes));
  add("pods", count(o.pods));
  add("clients", count(o.clients));
  add("pods_per_s", complete ? rate(p.bound, bind_s) : "0");
  add("creates_per_s", rate(p.created, create_s));
  add("p50_ms", Fixed(latency.PercentileMs(0.5), 2));
  add("p99_ms", Fixed(latency.PercentileMs(0.99), 2));
  add("max_ms", Fixed(latency.PercentileMs(1.0), 2));
  add("create_p50_ms", Fixed(create_latency.PercentileMs(0.5), 2));
  add("create_p99_ms", Fixed(create_latency.PercentileMs(0.99), 2));
  add("bound", count(p.bound));
  add("create_errors", count(p.create_errors));
  add("bind_s", Fixed(bind_s, 3));
  add("nodes_per_s", rate(nodes.created, nodes.seconds));
  add("nodes_synced_ms", Fixed(*synced, 0));
  add("listed", count(check->listed));
  add("listed_bound", count(check->bound));
  add("violations", count(check->violations));
  add("max_skew", count(check->max_skew));
  add("max_pods_per_node", count(check->max_per_node));
  add("nodes_used", count(check->nodes_used));
  add("complete", complete ? "1" : "0");
  add("after_create_p50_ms", Fixed(after_create.PercentileMs(0.5), 2));
  add("after_create_p99_ms", Fixed(after_create.PercentileMs(0.99), 2));
  std::printf("%s\n", line.c_str());
  if (!complete) {
    std::fprintf(stderr,
                 "scheduler_load: FAILED: %d of %d %s pods seen bound within %d s (%d bound in "
                 "the final list)\n",
                 p.bound, o.pods, o.shape.c_str(), o.timeout_s, check->bound);
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace kennel::bench

int main(int argc, char** argv) {
  kennel::bench::Options o;
  CLI::App app{"Scheduler load generator (bench/run scheduler)"};
  app.add_option("--url", o.url, "Server URL")->required();
  app.add_option("--token-file", o.token_file, "Bearer token file")->required();
  app.add_option("--ca", o.ca_file, "CA certificate (PEM)")->required();
  app.add_option("--shape", o.shape, "plain, antiaffinity or spread")
      ->check(CLI::IsMember({"plain", "antiaffinity", "spread"}))
      ->capture_default_str();
  app.add_option("--nodes", o.nodes, "Fake nodes to register")->capture_default_str();
  app.add_option("--pods", o.pods, "Pods to create")->capture_default_str();
  app.add_option("--clients", o.clients, "Concurrent connections")->capture_default_str();
  app.add_option("--zones", o.zones, "Zones the nodes are spread over")->capture_default_str();
  app.add_option("--group-size", o.group_size, "antiaffinity: pods per group")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "Seconds until every pod must be bound")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.nodes < 1 || o.pods < 1 || o.clients < 1 || o.zones < 1 || o.group_size < 1 ||
      o.timeout_s < 1) {
    std::fprintf(stderr,
                 "scheduler_load: nodes, pods, clients, zones, group-size and timeout "
                 "must be positive\n");
    return 2;
  }
  return kennel::bench::Run(o);
}
