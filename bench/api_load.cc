// kennel_api_load: the load generator behind `bench/run api`.
//
// One binary drives both Kennel (HTTPS, bearer token, Kubernetes ConfigMaps)
// and a raw etcd (plain HTTP, v3 JSON gateway), with the same client code,
// the same number of clients and one keep-alive connection per client, so the
// two figures are comparable. It runs on one thread by default: on a 2-core
// machine shared with the server, more client threads only steal the cores
// the server needs.
//
//   kennel_api_load kennel --url URL --token-file F --ca F [--clients N]
//       [--seconds S] [--watchers W] [--watch-rate R] [--watch-seconds S]
//       [--watch-only] [--sample-out F] [--threads T] [--server-pid P]...
//   kennel_api_load etcd --url http://127.0.0.1:P [--clients N] [--seconds S]
//       [--value-file F] [--server-pid P]...
//   kennel_api_load free-port
//
// Against Kennel: a watch phase, then the load in three timed phases of
// --seconds each on the same client connections: create-only, get-only,
// update-only (so each verb's rate is its own, and creates/s compares with
// etcd's puts/s, which are the only thing the etcd run does).
//
// With --server-pid (repeatable: Kennel on etcd is two processes), each
// phase also reports the CPU the server processes together and this one spent
// per request (user + system time over the phase): a figure
// that, unlike a rate on a shared 2-core machine, barely moves from run to
// run, so a change's effect on cost shows where its effect on rate is noise.
//
// Each run prints human-readable notes on stderr and one `key=value …` line on
// stdout that bench/run turns into the table and its last line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/base64.h"
#include "base/file.h"
#include "base/status.h"
#include "bench_client.h"

namespace kennel::bench {
namespace {

using json = nlohmann::json;

constexpr const char* kNamespace = "bench";
// Payload of every load-phase ConfigMap: with the server's metadata the stored
// object comes to about 1.2 KB.
constexpr size_t kPayloadBytes = 1000;

// Tags this run's object names, so that a second run against the same server
// does not collide with the first one's objects.
const std::string& RunTag() {
  static const std::string tag = [] {
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t v = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    std::string t;
    for (int i = 0; i < 5; ++i, v /= 36) t += kDigits[v % 36];
    return t;
  }();
  return tag;
}

// A client's running tallies for one verb.
struct VerbStats {
  int64_t ok = 0;
  int64_t errors = 0;
  Samples latency;
};

// Times one request; counts it as ok when the status is `want`.
asio::awaitable<bool> Timed(Conn& conn, http::verb verb, const std::string& target,
                            std::string body, int want, VerbStats* stats,
                            http::response<http::string_body>* res, const char* what) {
  int64_t start = NowNs();
  beast::error_code ec = co_await conn.Do(verb, target, std::move(body), res);
  int64_t took = NowNs() - start;
  if (ec || static_cast<int>(res->result_int()) != want) {
    ++stats->errors;
    NoteError("api_load", what, ec, *res);
    if (ec) co_await conn.Connect();  // the connection is gone: start a new one
    co_return false;
  }
  ++stats->ok;
  stats->latency.Add(took);
  if (!res->keep_alive()) co_await conn.Connect();  // the server is closing this one
  co_return true;
}

std::string ExtractResourceVersion(const std::string& body) {
  // The first resourceVersion in an object's JSON is its own (metadata comes
  // before data, and ConfigMap data holds no such key here); no full parse
  // needed on the hot path.
  static constexpr std::string_view kKey = "\"resourceVersion\":\"";
  size_t at = body.find(kKey);
  if (at == std::string::npos) return "";
  at += kKey.size();
  return body.substr(at, body.find('"', at) - at);
}

std::string ConfigMapJson(const std::string& name, const std::string& resource_version,
                          const std::string& data_fields) {
  std::string s = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + '"';
  if (!resource_version.empty()) s += R"(,"resourceVersion":")" + resource_version + '"';
  s += R"(},"data":{)" + data_fields + "}}";
  return s;
}

std::string CollectionPath() {
  return std::string("/api/v1/namespaces/") + kNamespace + "/configmaps";
}

struct Options {
  std::string url;
  std::string token_file;
  std::string ca_file;
  int clients = 16;
  int seconds = 10;
  int watchers = 100;
  int watch_rate = 200;
  int watch_seconds = 5;
  int threads = 1;
  bool watch_only = false;
  std::string sample_out;
  std::string value_file;
  std::vector<int> server_pids;  // none: the servers' CPU is not measured
};

// CPU time (user + system) of a process, in nanoseconds: the server's from
// /proc (clock ticks, 10 ms apart, so read it over phases of seconds), this
// process's from its own clock. Threads that exited still count in both.
struct CpuSample {
  int64_t server_ns = 0;
  int64_t self_ns = 0;
};

int64_t ProcessCpuNs(int pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return 0;
  // The command name (field 2) may hold spaces; the fields after it do not.
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat->substr(paren + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  int64_t utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) * (1'000'000'000 / sysconf(_SC_CLK_TCK));
}

CpuSample SampleCpu(const std::vector<int>& server_pids) {
  CpuSample sample;
  for (int pid : server_pids) sample.server_ns += ProcessCpuNs(pid);
  timespec self{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &self);
  sample.self_ns = int64_t{self.tv_sec} * 1'000'000'000 + self.tv_nsec;
  return sample;
}

// CPU spent between two samples, per operation, in microseconds.
struct CpuPerOp {
  double server_us = 0;
  double self_us = 0;
  static CpuPerOp Between(const CpuSample& from, const CpuSample& to, int64_t ops) {
    if (ops <= 0) return {};
    return {static_cast<double>(to.server_ns - from.server_ns) / 1e3 / static_cast<double>(ops),
            static_cast<double>(to.self_ns - from.self_ns) / 1e3 / static_cast<double>(ops)};
  }
};

// ---------------------------------------------------------------------------
// Kennel

struct WatchResult {
  int opened = 0;
  int64_t writes = 0;
  int64_t events = 0;
  int64_t expected = 0;
  Samples latency;
  // Where a latency goes, per write: its own request's round trip (commit
  // and fsync included), the first watcher's receive (the server's path to
  // the fan-out) and last minus first (the fan-out to every watcher and this
  // process's reading of it). A tail in `latency` is one of these.
  Samples write_latency;
  Samples first_latency;
  Samples fanout;
  // CPU samples at the writer's first write and after its end marker.
  CpuSample cpu_start, cpu_end;
};

// Earliest and latest receive time of one write's event over the watchers,
// keyed by the write's send time (unique per write).
class EventSpread {
 public:
  void Add(int64_t sent, int64_t received) {
    std::lock_guard lock(mu_);  // contended only with --threads > 1
    auto [it, fresh] = by_sent_.try_emplace(sent, received, received);
    if (fresh) return;
    it->second.first = std::min(it->second.first, received);
    it->second.second = std::max(it->second.second, received);
  }
  void Report(WatchResult& r) const {
    for (const auto& [sent, span] : by_sent_) {
      r.first_latency.Add(span.first - sent);
      r.fanout.Add(span.second - span.first);
    }
  }

 private:
  std::mutex mu_;
  std::map<int64_t, std::pair<int64_t, int64_t>> by_sent_;
};

struct WatcherState {
  int64_t events = 0;
  Samples latency;
  std::string pending;  // an incomplete line carried to the next piece
};

// Phase "watch": W watchers, one writer at a steady rate; per event, receive
// time minus the writer's send time (both this process's steady clock).
WatchResult RunWatchPhase(const Endpoint& ep, ssl::context* ctx, const Options& o,
                          const std::string& resource_version) {
  asio::io_context ioc;
  WatchResult result;
  std::vector<WatcherState> states(o.watchers);
  EventSpread spread;
  // settled: watchers that opened or failed to; the writer starts once all have.
  std::atomic<int> ready{0}, settled{0};
  const int64_t ops = static_cast<int64_t>(o.watch_rate) * o.watch_seconds;
  // Bounds a run that loses events: up to 30 s to open the watches, the
  // writes, then 10 s to drain. A run that loses nothing ends at the marker.
  const auto deadline = Clock::now() + std::chrono::seconds(30 + o.watch_seconds + 10);
  const std::string target =
      CollectionPath() + "?watch=1&allowWatchBookmarks=false&resourceVersion=" + resource_version;

  for (int i = 0; i < o.watchers; ++i) {
    asio::co_spawn(
        ConnExecutor(ioc, o.threads),
        [&, i]() -> asio::awaitable<void> {
          WatcherState& st = states[i];
          Conn conn(co_await asio::this_coro::executor, ep, ctx);
          if (auto ec = co_await conn.Connect()) {
            std::fprintf(stderr, "api_load: watcher connect: %s\n", ec.message().c_str());
            ++settled;
            co_return;
          }
          auto on_header = [&](int status) {
            ++settled;
            if (status == 200) {
              ++ready;
            } else {
              std::fprintf(stderr, "api_load: watch answered HTTP %d\n", status);
            }
          };
          auto on_data = [&](std::string_view piece, int64_t received_ns) -> bool {
            st.pending.append(piece);
            size_t start = 0;
            for (size_t nl; (nl = st.pending.find('\n', start)) != std::string::npos;
                 start = nl + 1) {
              std::string_view line(st.pending.data() + start, nl - start);
              if (line.find(R"("end":"1")") != std::string_view::npos) return false;
              size_t data = line.find(R"("data":{)");
              if (data == std::string_view::npos) continue;
              size_t t = line.find(R"("t":")", data);
              if (t == std::string_view::npos) continue;
              int64_t sent = std::strtoll(line.data() + t + 5, nullptr, 10);
              ++st.events;
              st.latency.Add(received_ns - sent);
              spread.Add(sent, received_ns);
            }
            st.pending.erase(0, start);
            return true;
          };
          if (co_await conn.Stream(target, deadline, on_header, on_data) == 0) {
            ++settled;  // a transport error before the header: on_header never ran
          }
        },
        asio::detached);
  }

  asio::co_spawn(
      ConnExecutor(ioc, o.threads),
      [&]() -> asio::awaitable<void> {
        co_await WaitCount(settled, o.watchers, Clock::now() + std::chrono::seconds(30));
        result.opened = ready.load();
        if (result.opened < o.watchers) {
          std::fprintf(stderr, "api_load: only %d of %d watchers opened\n", result.opened,
                       o.watchers);
        }
        Conn conn(co_await asio::this_coro::executor, ep, ctx);
        if (auto ec = co_await conn.Connect()) {
          std::fprintf(stderr, "api_load: writer connect: %s\n", ec.message().c_str());
          co_return;
        }
        const std::string payload(kPayloadBytes, 'w');
        VerbStats stats;
        http::response<http::string_body> res;
        asio::steady_timer timer(co_await asio::this_coro::executor);
        std::string rv;
        result.cpu_start = SampleCpu(o.server_pids);
        const auto start = Clock::now();
        const auto interval = std::chrono::nanoseconds(1'000'000'000LL / o.watch_rate);
        for (int64_t i = 0; i < ops; ++i) {
          // A steady pace: op i goes out at start + i/rate, or at once when
          // behind (its own send time is what the watchers compare with).
          timer.expires_at(start + i * interval);
          co_await timer.async_wait(asio::use_awaitable);
          std::string name = "w" + RunTag() + "-" + std::to_string(i / 2);
          std::string fields = R"("t":")" + std::to_string(NowNs()) + R"(","v":")" + payload + '"';
          bool ok;
          if (i % 2 == 0) {
            ok = co_await Timed(conn, http::verb::post, CollectionPath(),
                                ConfigMapJson(name, "", fields), 201, &stats, &res, "watch create");
          } else {
            ok = co_await Timed(conn, http::verb::put, CollectionPath() + "/" + name,
                                ConfigMapJson(name, rv, fields), 200, &stats, &res, "watch update");
          }
          rv = ok ? ExtractResourceVersion(res.body()) : "";
        }
        result.writes = stats.ok;
        result.write_latency = std::move(stats.latency);
        // Events arrive in revision order: once every watcher has seen this
        // one, it has seen (or lost) every event before it.
        co_await Timed(conn, http::verb::post, CollectionPath(),
                       ConfigMapJson("w" + RunTag() + "-end", "", R"("end":"1")"), 201, &stats,
                       &res, "watch end marker");
        // The end marker's own fan-out goes on meanwhile: a 1/writes share.
        result.cpu_end = SampleCpu(o.server_pids);
      },
      asio::detached);

  RunContext(ioc, o.threads);
  for (auto& st : states) {
    result.events += st.events;
    result.latency.Merge(st.latency);
  }
  spread.Report(result);
  result.expected = result.writes * result.opened;
  return result;
}

// One timed phase of the load, shared by its clients: every client waits at
// the start until all are there, the first one through starts the clock, and
// the last one to finish stops it.
struct PhaseClock {
  std::atomic<int> arrived{0};
  std::atomic<int64_t> start_ns{0};
  std::atomic<int64_t> end_ns{0};
  // CPU when the phase started; the next phase's start (or the end of the
  // load) closes it: every client has finished this phase by then.
  CpuSample cpu_start;
  std::vector<int> server_pids;

  // Waits for every client (up to 30 s for stragglers), then returns the time
  // at which this client stops issuing new requests.
  asio::awaitable<int64_t> Begin(int clients, int seconds) {
    ++arrived;
    co_await WaitCount(arrived, clients, Clock::now() + std::chrono::seconds(30));
    int64_t expected = 0;
    if (start_ns.compare_exchange_strong(expected, NowNs())) cpu_start = SampleCpu(server_pids);
    co_return start_ns.load() + int64_t{seconds} * 1'000'000'000;
  }

  void End() {
    int64_t now = NowNs();
    int64_t prev = end_ns.load();
    while (now > prev && !end_ns.compare_exchange_weak(prev, now)) {
    }
  }

  double Seconds() const {
    int64_t start = start_ns.load(), end = end_ns.load();
    return start > 0 && end > start ? static_cast<double>(end - start) / 1e9 : 0;
  }
};

// The objects one load client created, with each one's current
// resourceVersion (kept up to date by its updates).
struct ClientObjects {
  std::vector<std::string> names;
  std::vector<std::string> resource_versions;
};

// A client's tallies across the three load phases.
struct ClientStats {
  VerbStats create, get, update;
  int64_t update_retries = 0;  // PUTs answered 409 Conflict and retried
};

constexpr int kMaxUpdateRetries = 5;

// Updates one of the client's own objects: PUT with the resourceVersion it
// last saw; on 409 Conflict, re-GET the object for its current one and retry
// (up to kMaxUpdateRetries times). Latency runs from the first PUT to the one
// that succeeds, as a client would see it.
asio::awaitable<void> UpdateOwn(Conn& conn, ClientObjects& mine, size_t idx,
                                const std::string& fields, ClientStats* stats,
                                http::response<http::string_body>* res) {
  const std::string& name = mine.names[idx];
  std::string& rv = mine.resource_versions[idx];
  const std::string item = CollectionPath() + "/" + name;
  const int64_t start = NowNs();
  for (int attempt = 0;; ++attempt) {
    beast::error_code ec =
        co_await conn.Do(http::verb::put, item, ConfigMapJson(name, rv, fields), res);
    const int status = ec ? 0 : static_cast<int>(res->result_int());
    if (status == 200) {
      ++stats->update.ok;
      stats->update.latency.Add(NowNs() - start);
      rv = ExtractResourceVersion(res->body());
    } else if (status == 409 && attempt < kMaxUpdateRetries) {
      ++stats->update_retries;
      if (!res->keep_alive()) co_await conn.Connect();
      ec = co_await conn.Do(http::verb::get, item, "", res);
      if (!ec && res->result() == http::status::ok) {
        rv = ExtractResourceVersion(res->body());
        if (!res->keep_alive()) co_await conn.Connect();
        continue;
      }
      ++stats->update.errors;
      NoteError("api_load", "update re-get", ec, *res);
    } else {
      ++stats->update.errors;
      NoteError("api_load", "update", ec, *res);
    }
    if (ec || !res->keep_alive()) co_await conn.Connect();
    co_return;
  }
}

struct PhaseResult {
  double seconds = 0;
  VerbStats stats;
  CpuPerOp cpu;  // per successful request
  double Rate() const { return seconds > 0 ? static_cast<double>(stats.ok) / seconds : 0; }
};

struct LoadResult {
  PhaseResult create, get, update;
  int64_t update_retries = 0;
  int64_t objects = 0;
};

// Phase "load": the same N clients, each on its own keep-alive connection,
// run three timed phases of S seconds one after the other, so that each
// verb's rate is measured alone:
//   create: POST new ConfigMaps (~1 KB of data, unique names), keeping the
//           names and resourceVersions;
//   get:    GET objects picked at random among all the clients created;
//   update: PUT each client's own objects in turn with the resourceVersion it
//           holds (so no two clients conflict); a 409 is re-read and retried.
LoadResult RunLoadPhase(const Endpoint& ep, ssl::context* ctx, const Options& o) {
  asio::io_context ioc;
  std::vector<ClientStats> per_client(o.clients);
  std::vector<ClientObjects> objects(o.clients);
  PhaseClock create_clock, get_clock, update_clock;
  for (PhaseClock* p : {&create_clock, &get_clock, &update_clock}) p->server_pids = o.server_pids;
  const std::string payload(kPayloadBytes, 'x');
  std::string sample;

  for (int c = 0; c < o.clients; ++c) {
    asio::co_spawn(
        ConnExecutor(ioc, o.threads),
        [&, c]() -> asio::awaitable<void> {
          ClientStats& r = per_client[c];
          ClientObjects& mine = objects[c];
          Conn conn(co_await asio::this_coro::executor, ep, ctx);
          if (auto ec = co_await conn.Connect()) {
            std::fprintf(stderr, "api_load: client connect: %s\n", ec.message().c_str());
            // Counted at every phase's start, so the others do not wait for it.
            for (PhaseClock* p : {&create_clock, &get_clock, &update_clock}) ++p->arrived;
            co_return;
          }
          http::response<http::string_body> res;

          // (1) create-only
          int64_t stop = co_await create_clock.Begin(o.clients, o.seconds);
          const std::string fields = R"("v":")" + payload + '"';
          for (int64_t i = 0; NowNs() < stop; ++i) {
            std::string name = "l" + RunTag() + "-" + std::to_string(c) + "-" + std::to_string(i);
            if (!co_await Timed(conn, http::verb::post, CollectionPath(),
                                ConfigMapJson(name, "", fields), 201, &r.create, &res, "create")) {
              continue;
            }
            if (c == 0 && sample.empty()) sample = res.body();
            mine.names.push_back(std::move(name));
            mine.resource_versions.push_back(ExtractResourceVersion(res.body()));
          }
          create_clock.End();

          // (2) get-only: every client's objects are final once all have
          // arrived at this phase's start.
          stop = co_await get_clock.Begin(o.clients, o.seconds);
          std::vector<size_t> upto;  // objects of clients 0..k, cumulative
          size_t total = 0;
          for (const ClientObjects& other : objects) upto.push_back(total += other.names.size());
          std::mt19937_64 rng(static_cast<uint64_t>(c) + 1);
          while (total > 0 && NowNs() < stop) {
            size_t k = std::uniform_int_distribution<size_t>(0, total - 1)(rng);
            size_t owner = std::upper_bound(upto.begin(), upto.end(), k) - upto.begin();
            size_t idx = k - (owner > 0 ? upto[owner - 1] : 0);
            co_await Timed(conn, http::verb::get,
                           CollectionPath() + "/" + objects[owner].names[idx], "", 200, &r.get,
                           &res, "get");
          }
          get_clock.End();

          // (3) update-only, round-robin over this client's own objects; the
          // data changes every time so that each PUT is a real write.
          stop = co_await update_clock.Begin(o.clients, o.seconds);
          for (size_t i = 0; !mine.names.empty() && NowNs() < stop; ++i) {
            std::string changed = R"("u":")" + std::to_string(i) + R"(",)" + fields;
            co_await UpdateOwn(conn, mine, i % mine.names.size(), changed, &r, &res);
          }
          update_clock.End();
        },
        asio::detached);
  }
  RunContext(ioc, o.threads);
  const CpuSample cpu_end = SampleCpu(o.server_pids);

  LoadResult result;
  result.create.seconds = create_clock.Seconds();
  result.get.seconds = get_clock.Seconds();
  result.update.seconds = update_clock.Seconds();
  for (int c = 0; c < o.clients; ++c) {
    const ClientStats& r = per_client[c];
    for (auto [to, from] :
         {std::pair{&result.create.stats, &r.create}, std::pair{&result.get.stats, &r.get},
          std::pair{&result.update.stats, &r.update}}) {
      to->ok += from->ok;
      to->errors += from->errors;
      to->latency.Merge(from->latency);
    }
    result.update_retries += r.update_retries;
    result.objects += static_cast<int64_t>(objects[c].names.size());
  }
  result.create.cpu =
      CpuPerOp::Between(create_clock.cpu_start, get_clock.cpu_start, result.create.stats.ok);
  result.get.cpu =
      CpuPerOp::Between(get_clock.cpu_start, update_clock.cpu_start, result.get.stats.ok);
  result.update.cpu = CpuPerOp::Between(update_clock.cpu_start, cpu_end, result.update.stats.ok);
  if (!o.sample_out.empty() && !sample.empty()) {
    // What the server stored is the object it returned minus resourceVersion
    // (that is the key's revision, not part of the value).
    json obj = json::parse(sample, nullptr, false);
    if (!obj.is_discarded()) {
      obj["metadata"].erase("resourceVersion");
      std::ofstream(o.sample_out) << obj.dump();
    }
  }
  return result;
}

int RunKennel(Options o) {
  ssl::context ctx(ssl::context::tls_client);
  auto ep = KennelEndpoint(o.url, o.token_file, o.ca_file, &ctx);
  if (!ep.ok()) {
    std::fprintf(stderr, "api_load: %s\n", ep.status().ToString().c_str());
    return 2;
  }
  ep->user_agent = "kennel-api-load";

  auto ns = OneRequest(*ep, &ctx, http::verb::post, "/api/v1/namespaces",
                       R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" +
                           std::string(kNamespace) + R"("}})");
  if (!ns.ok() ||
      (static_cast<int>(ns->result_int()) != 201 && static_cast<int>(ns->result_int()) != 409)) {
    std::fprintf(stderr, "api_load: cannot create namespace %s: %s\n", kNamespace,
                 ns.ok() ? ns->body().c_str() : ns.status().ToString().c_str());
    return 1;
  }
  auto list = OneRequest(*ep, &ctx, http::verb::get, CollectionPath() + "?limit=1", "");
  if (!list.ok() || list->result_int() != 200) {
    std::fprintf(stderr, "api_load: cannot list configmaps: %s\n",
                 list.ok() ? list->body().c_str() : list.status().ToString().c_str());
    return 1;
  }
  std::string rv = json::parse(list->body(), nullptr, false)
                       .value("/metadata/resourceVersion"_json_pointer, std::string());

  std::fprintf(stderr, "api_load: watch phase: %d watchers, %d writes/s for %d s (from rv %s)\n",
               o.watchers, o.watch_rate, o.watch_seconds, rv.c_str());
  WatchResult w = RunWatchPhase(*ep, &ctx, o, rv);
  std::fprintf(stderr,
               "api_load: watch: %d watchers open, %lld writes, %lld of %lld events received\n",
               w.opened, static_cast<long long>(w.writes), static_cast<long long>(w.events),
               static_cast<long long>(w.expected));

  LoadResult l;
  if (!o.watch_only) {
    std::fprintf(stderr,
                 "api_load: load: %d clients, create-only, get-only, then update-only, %d s each\n",
                 o.clients, o.seconds);
    l = RunLoadPhase(*ep, &ctx, o);
    for (auto [verb, p] : {std::pair{"create", &l.create}, std::pair{"get", &l.get},
                           std::pair{"update", &l.update}}) {
      std::fprintf(stderr, "api_load: %s phase: %lld ok, %lld errors in %.2f s\n", verb,
                   static_cast<long long>(p->stats.ok), static_cast<long long>(p->stats.errors),
                   p->seconds);
    }
    std::fprintf(stderr, "api_load: %lld objects created, %lld update conflicts retried\n",
                 static_cast<long long>(l.objects), static_cast<long long>(l.update_retries));
  }
  // Creates and updates per second over the two write phases together.
  const double write_seconds = l.create.seconds + l.update.seconds;
  const double writes_per_s =
      write_seconds > 0 ? static_cast<double>(l.create.stats.ok + l.update.stats.ok) / write_seconds
                        : 0;
  std::string line;
  auto add = [&line](std::string_view key, const std::string& value) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    line += value;
  };
  auto count = [](int64_t v) { return std::to_string(v); };
  add("clients", count(o.clients));
  add("seconds", count(o.seconds));
  for (auto [verb, plural, p] :
       {std::tuple{"create", "creates", &l.create}, std::tuple{"get", "gets", &l.get},
        std::tuple{"update", "updates", &l.update}}) {
    add(std::string(plural) + "_per_s", Fixed(p->Rate(), 0));
    add(std::string(verb) + "_p50_ms", Fixed(p->stats.latency.PercentileMs(0.5), 2));
    add(std::string(verb) + "_p99_ms", Fixed(p->stats.latency.PercentileMs(0.99), 2));
  }
  add("writes_per_s", Fixed(writes_per_s, 0));
  add("errors", count(l.create.stats.errors + l.get.stats.errors + l.update.stats.errors));
  add("watchers", count(w.opened));
  add("watch_events", count(w.events));
  add("watch_missed", count(w.expected - w.events));
  add("watch_p50_ms", Fixed(w.latency.PercentileMs(0.5), 2));
  add("watch_p99_ms", Fixed(w.latency.PercentileMs(0.99), 2));
  // Added with the phased load (after the keys above, which keep their order).
  add("load_mode", "phased");
  add("objects", count(l.objects));
  add("create_errors", count(l.create.stats.errors));
  add("get_errors", count(l.get.stats.errors));
  add("update_errors", count(l.update.stats.errors));
  add("update_retries", count(l.update_retries));
  // Added in session 11: the watch latency split (see WatchResult).
  add("watch_write_p50_ms", Fixed(w.write_latency.PercentileMs(0.5), 2));
  add("watch_write_p99_ms", Fixed(w.write_latency.PercentileMs(0.99), 2));
  add("watch_first_p50_ms", Fixed(w.first_latency.PercentileMs(0.5), 2));
  add("watch_first_p99_ms", Fixed(w.first_latency.PercentileMs(0.99), 2));
  add("watch_fanout_p50_ms", Fixed(w.fanout.PercentileMs(0.5), 2));
  add("watch_fanout_p99_ms", Fixed(w.fanout.PercentileMs(0.99), 2));
  if (!o.server_pids.empty()) {
    // Added in session 12: CPU per request, the server's and this process's.
    for (auto [verb, p] : {std::pair{"create", &l.create}, std::pair{"get", &l.get},
                           std::pair{"update", &l.update}}) {
      add(std::string("server_cpu_us_per_") + verb, Fixed(p->cpu.server_us, 1));
      add(std::string("load_cpu_us_per_") + verb, Fixed(p->cpu.self_us, 1));
    }
    // Per event delivered to one watcher: the fan-out's unit of work.
    CpuPerOp watch = CpuPerOp::Between(w.cpu_start, w.cpu_end, w.expected);
    add("server_cpu_us_per_watch_delivery", Fixed(watch.server_us, 2));
    add("load_cpu_us_per_watch_delivery", Fixed(watch.self_us, 2));
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

// ---------------------------------------------------------------------------
// etcd

int RunEtcd(Options o) {
  auto ep = ParseUrl(o.url);
  if (!ep.ok()) {
    std::fprintf(stderr, "api_load: %s\n", ep.status().ToString().c_str());
    return 2;
  }
  ep->user_agent = "kennel-api-load";
  std::string value;
  if (!o.value_file.empty()) {
    auto v = ReadFile(o.value_file);
    if (!v.ok()) {
      std::fprintf(stderr, "api_load: %s\n", v.status().ToString().c_str());
      return 2;
    }
    value = *v;
  } else {
    // No Kennel sample: the same shape, built here.
    value = R"({"apiVersion":"v1","data":{"v":")" + std::string(kPayloadBytes, 'x') +
            R"("},"kind":"ConfigMap","metadata":{"creationTimestamp":"2026-11-22T00:00:00Z",)"
            R"("name":"l-0-0","namespace":"bench","uid":"00000000-0000-0000-0000-000000000000"}})";
  }
  std::fprintf(stderr, "api_load: etcd: %d clients for %d s, %zu-byte values\n", o.clients,
               o.seconds, value.size());
  const std::string value_b64 = Base64Encode(value);

  asio::io_context ioc;
  std::vector<VerbStats> per_client(o.clients);
  std::atomic<int> connected{0};
  std::atomic<int64_t> start_ns{0}, end_ns{0};
  CpuSample cpu_start;
  for (int c = 0; c < o.clients; ++c) {
    asio::co_spawn(
        ConnExecutor(ioc, o.threads),
        [&, c]() -> asio::awaitable<void> {
          VerbStats& r = per_client[c];
          Conn conn(co_await asio::this_coro::executor, *ep, nullptr);
          if (auto ec = co_await conn.Connect()) {
            std::fprintf(stderr, "api_load: etcd connect: %s\n", ec.message().c_str());
            co_return;
          }
          ++connected;
          co_await WaitCount(connected, o.clients, Clock::now() + std::chrono::seconds(30));
          int64_t expected = 0;
          if (start_ns.compare_exchange_strong(expected, NowNs()))
            cpu_start = SampleCpu(o.server_pids);
          const int64_t stop = start_ns.load() + int64_t{o.seconds} * 1'000'000'000;
          http::response<http::string_body> res;
          for (int64_t i = 0; NowNs() < stop; ++i) {
            // The key Kennel would store the same ConfigMap under.
            std::string key = "/registry/configmaps/" + std::string(kNamespace) + "/l" + RunTag() +
                              "-" + std::to_string(c) + "-" + std::to_string(i);
            std::string body =
                R"({"key":")" + Base64Encode(key) + R"(","value":")" + value_b64 + "\"}";
            co_await Timed(conn, http::verb::post, "/v3/kv/put", std::move(body), 200, &r, &res,
                           "etcd put");
          }
          int64_t now = NowNs();
          int64_t prev = end_ns.load();
          while (now > prev && !end_ns.compare_exchange_weak(prev, now)) {
          }
        },
        asio::detached);
  }
  RunContext(ioc, o.threads);
  const CpuSample cpu_end = SampleCpu(o.server_pids);
  double seconds = static_cast<double>(end_ns.load() - start_ns.load()) / 1e9;
  VerbStats all;
  for (auto& r : per_client) {
    all.ok += r.ok;
    all.errors += r.errors;
    all.latency.Merge(r.latency);
  }
  std::printf(
      "clients=%d seconds=%d etcd_puts_per_s=%s etcd_put_p50_ms=%s etcd_put_p99_ms=%s "
      "etcd_errors=%lld etcd_value_bytes=%zu",
      o.clients, o.seconds, Fixed(static_cast<double>(all.ok) / seconds, 0).c_str(),
      Fixed(all.latency.PercentileMs(0.5), 2).c_str(),
      Fixed(all.latency.PercentileMs(0.99), 2).c_str(), static_cast<long long>(all.errors),
      value.size());
  if (!o.server_pids.empty()) {
    CpuPerOp cpu = CpuPerOp::Between(cpu_start, cpu_end, all.ok);
    std::printf(" etcd_cpu_us_per_put=%s etcd_load_cpu_us_per_put=%s",
                Fixed(cpu.server_us, 1).c_str(), Fixed(cpu.self_us, 1).c_str());
  }
  std::printf("\n");
  return 0;
}

// Prints a port that was free a moment ago (for etcd, which cannot report the
// port it picked for :0 back to us).
int FreePort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::printf("%u\n", a.local_endpoint().port());
  return 0;
}

}  // namespace
}  // namespace kennel::bench

int main(int argc, char** argv) {
  using kennel::bench::Options;
  CLI::App app{"Kennel API load generator (bench/run api)"};
  app.require_subcommand(1);
  Options o;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--url", o.url, "Server URL")->required();
    sub->add_option("--clients", o.clients, "Concurrent clients")->capture_default_str();
    sub->add_option("--seconds", o.seconds, "Duration of each load phase")->capture_default_str();
    sub->add_option("--threads", o.threads, "Client threads")->capture_default_str();
    sub->add_option("--server-pid", o.server_pids,
                    "Report the CPU per request of these processes (the servers), summed");
  };
  CLI::App* kennel = app.add_subcommand("kennel", "Drive a Kennel API server");
  common(kennel);
  kennel->add_option("--token-file", o.token_file, "Bearer token file")->required();
  kennel->add_option("--ca", o.ca_file, "CA certificate (PEM)")->required();
  kennel->add_option("--watchers", o.watchers, "Watch connections")->capture_default_str();
  kennel->add_option("--watch-rate", o.watch_rate, "Writes/s in the watch phase")
      ->capture_default_str();
  kennel->add_option("--watch-seconds", o.watch_seconds, "Watch phase duration")
      ->capture_default_str();
  kennel->add_flag("--watch-only", o.watch_only, "Run the watch phase alone (for profiling)");
  kennel->add_option("--sample-out", o.sample_out, "Write one stored ConfigMap's JSON here");
  CLI::App* etcd = app.add_subcommand("etcd", "Drive etcd's v3 JSON gateway");
  common(etcd);
  etcd->add_option("--value-file", o.value_file, "Value bytes for every put");
  CLI::App* free_port = app.add_subcommand("free-port", "Print a free loopback port");
  CLI11_PARSE(app, argc, argv);
  if (o.clients < 1 || o.seconds < 1 || o.watchers < 0 || o.watch_rate < 1 || o.threads < 1) {
    std::fprintf(stderr, "api_load: clients, seconds, watch-rate and threads must be positive\n");
    return 2;
  }
  if (kennel->parsed()) return kennel::bench::RunKennel(o);
  if (etcd->parsed()) return kennel::bench::RunEtcd(o);
  if (free_port->parsed()) return kennel::bench::FreePort();
  return 2;
}
