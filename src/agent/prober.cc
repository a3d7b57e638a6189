#include "agent/prober.h"

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "agent/internal/json_fields.h"
#include "agent/runtime.h"
#include "base/thread.h"

namespace kennel::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

using internal::IntOr;

std::string StrOr(const json& obj, const char* key, const std::string& fallback) {
  std::string v = internal::Str(obj, key);
  return v.empty() ? fallback : v;
}

struct Entry {
  ProbeTarget target;
  std::atomic<bool> cancelled{false};
  ProbeResults results;  // guarded by ProberImpl::mu_
};

enum class Kind { kStartup, kReadiness, kLiveness };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kStartup:
      return "Startup";
    case Kind::kReadiness:
      return "Readiness";
    case Kind::kLiveness:
      return "Liveness";
  }
  return "";
}

// Runs argv in the container and waits for it (pidfd), killing it at the
// timeout. Ok when it exits 0.
asio::awaitable<Status> RunExec(std::string state_dir, std::vector<std::string> argv,
                                std::chrono::milliseconds timeout) {
  if (argv.empty()) co_return BadRequest("exec handler has no command");
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  auto pid = ExecInContainer(state_dir, argv, env, -1, -1, -1);
  if (!pid.ok()) co_return pid.status();
  auto ex = co_await asio::this_coro::executor;
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
  // Shared with the timer's handler, which may run after this coroutine has
  // moved on (its expiry can be queued just as the process exits).
  struct Wait {
    explicit Wait(asio::any_io_executor ex, int fd) : exited(ex, fd), timer(ex) {}
    asio::posix::stream_descriptor exited;
    asio::steady_timer timer;
    bool done = false;
    bool timed_out = false;
  };
  bool timed_out = false;
  if (fd >= 0) {
    auto wait = std::make_shared<Wait>(ex, fd);
    wait->timer.expires_after(timeout);
    wait->timer.async_wait([wait](beast::error_code ec) {
      if (ec || wait->done) return;
      wait->timed_out = true;
      wait->exited.cancel();
    });
    beast::error_code ec;
    co_await wait->exited.async_wait(asio::posix::stream_descriptor::wait_read,
                                     asio::redirect_error(asio::use_awaitable, ec));
    wait->done = true;
    wait->timer.cancel();
    timed_out = wait->timed_out;
  }
  if (timed_out) ::kill(*pid, SIGKILL);
  int status = 0;
  ::waitpid(*pid, &status, 0);
  if (timed_out) {
    co_return Status(Code::kTimeout,
                     "command timed out after " + std::to_string(timeout.count() / 1000) + "s");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) co_return Status::Ok();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  co_return Status(Code::kInternal, "command exited with " + std::to_string(code));
}

asio::awaitable<Status> RunTcp(std::string host, int port, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) co_return BadRequest("bad probe host " + host);
  co_await stream.async_connect(tcp::endpoint(address, static_cast<uint16_t>(port)),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return Status(Code::kUnavailable,
                     "dial tcp " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  co_return Status::Ok();
}

template <class S>
asio::awaitable<Status> HttpExchange(S& stream, http::request<http::empty_body> req) {
  beast::error_code ec;
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Status(Code::kUnavailable, "write: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Status(Code::kUnavailable, "read: " + ec.message());
  int code = parser.get().result_int();
  if (code >= 200 && code < 400) co_return Status::Ok();
  co_return Status(Code::kInternal, "HTTP probe failed with statuscode: " + std::to_string(code));
}

asio::awaitable<Status> RunHttp(std::string host, int port, json get,
                                std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) co_return BadRequest("bad probe host " + host);
  http::request<http::empty_body> req{http::verb::get, StrOr(get, "path", "/"), 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  req.set(http::field::user_agent, "kube-probe/1.32");
  req.set(http::field::accept, "*/*");
  if (get.contains("httpHeaders") && get["httpHeaders"].is_array()) {
    for (const json& h : get["httpHeaders"]) req.set(StrOr(h, "name", "X"), StrOr(h, "value", ""));
  }
  req.keep_alive(false);
  tcp::endpoint ep(address, static_cast<uint16_t>(port));
  if (StrOr(get, "scheme", "HTTP") == "HTTPS") {
    // Probes do not verify certificates (neither does the kubelet).
    ssl::context ctx(ssl::context::tls_client);
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await beast::get_lowest_layer(stream).async_connect(
        ep, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await stream.async_handshake(ssl::stream_base::client,
                                      asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return Status(Code::kUnavailable, "connect: " + ec.message());
    co_return co_await HttpExchange(stream, req);
  }
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);
  co_await stream.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return Status(Code::kUnavailable, "Get \"http://" + host + ":" + std::to_string(port) +
                                             StrOr(get, "path", "/") + "\": " + ec.message());
  }
  co_return co_await HttpExchange(stream, req);
}

// One run of a probe or hook handler (exec, tcpSocket, httpGet).
asio::awaitable<Status> RunHandler(ProbeTarget target, json handler,
                                   std::chrono::milliseconds timeout) {
  if (handler.contains("exec")) {
    std::vector<std::string> argv;
    for (const json& a : handler["exec"].value("command", json::array())) {
      if (a.is_string()) argv.push_back(a.get<std::string>());
    }
    co_return co_await RunExec(target.state_dir, argv, timeout);
  }
  for (const char* kind : {"tcpSocket", "httpGet"}) {
    if (!handler.contains(kind)) continue;
    const json spec = handler[kind];
    auto port = ResolvePort(target.container, spec.value("port", json()));
    if (!port.ok()) co_return port.status();
    std::string host = StrOr(spec, "host", target.pod_ip);
    if (std::string(kind) == "tcpSocket") co_return co_await RunTcp(host, *port, timeout);
    co_return co_await RunHttp(host, *port, spec, timeout);
  }
  co_return BadRequest("handler has no exec, tcpSocket or httpGet");
}

class ProberImpl : public Prober {
 public:
  explicit ProberImpl(std::function<void(const std::string&)> on_change)
      : on_change_(std::move(on_change)), guard_(asio::make_work_guard(ioc_)) {
    thread_ = std::thread([this] {
      NameThisThread("prober");
      ioc_.run();
    });
  }

  ~ProberImpl() override { Stop(); }

  void Ensure(const ProbeTarget& target) override {
    const json& c = target.container;
    if (!c.contains("startupProbe") && !c.contains("readinessProbe") &&
        !c.contains("livenessProbe")) {
      return;
    }
    auto entry = std::make_shared<Entry>();
    {
      std::lock_guard lock(mu_);
      if (entries_.count(target.id)) return;
      entry->target = target;
      entry->results.started = !c.contains("startupProbe");
      entry->results.ready = !c.contains("readinessProbe");
      entries_[target.id] = entry;
    }
    for (auto [kind, field] : {std::pair{Kind::kStartup, "startupProbe"},
                               {Kind::kReadiness, "readinessProbe"},
                               {Kind::kLiveness, "livenessProbe"}}) {
      if (!c.contains(field) || !c[field].is_object()) continue;
      json probe = c[field];
      asio::co_spawn(ioc_, Loop(entry, kind, probe), asio::detached);
    }
  }

  void Forget(const std::string& prefix, const std::vector<std::string>& keep) override {
    std::lock_guard lock(mu_);
    for (auto it = entries_.lower_bound(prefix);
         it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
        it->second->cancelled = true;
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }

  ProbeResults Results(const std::string& id) override {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    return it == entries_.end() ? ProbeResults{} : it->second->results;
  }

  void RunHook(const ProbeTarget& target, const json& handler, int timeout_seconds,
               std::function<void(Status)> done) override {
    asio::co_spawn(
        ioc_,
        [target, handler, timeout_seconds, done]() -> asio::awaitable<void> {
          std::chrono::milliseconds timeout = std::chrono::seconds(std::max(1, timeout_seconds));
          Status st = co_await RunHandler(target, handler, timeout);
          done(st);
        },
        asio::detached);
  }

  void Stop() override {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, e] : entries_) e->cancelled = true;
      entries_.clear();
    }
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }

 private:
  asio::awaitable<void> Loop(std::shared_ptr<Entry> entry, Kind kind, json probe) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex);
    beast::error_code ec;
    const auto period = std::chrono::seconds(std::max(1, IntOr(probe, "periodSeconds", 10)));
    const std::chrono::milliseconds timeout =
        std::chrono::seconds(std::max(1, IntOr(probe, "timeoutSeconds", 1)));
    const int success_threshold = std::max(1, IntOr(probe, "successThreshold", 1));
    const int failure_threshold = std::max(1, IntOr(probe, "failureThreshold", 3));
    timer.expires_after(std::chrono::seconds(std::max(0, IntOr(probe, "initialDelaySeconds", 0))));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    int successes = 0, failures = 0;
    while (!entry->cancelled) {
      bool started;
      {
        std::lock_guard lock(mu_);
        started = entry->results.started;
      }
      // Liveness and readiness wait for the startup probe; it stops once it passed.
      if (kind == Kind::kStartup && started) co_return;
      if (kind != Kind::kStartup && !started) {
        timer.expires_after(std::chrono::milliseconds(200));
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      Status result = co_await RunHandler(entry->target, probe, timeout);
      if (entry->cancelled) co_return;
      if (result.ok()) {
        ++successes;
        failures = 0;
      } else {
        ++failures;
        successes = 0;
      }
      bool changed = false;
      {
        std::lock_guard lock(mu_);
        ProbeResults& r = entry->results;
        bool* state = kind == Kind::kStartup     ? &r.started
                      : kind == Kind::kReadiness ? &r.ready
                                                 : &r.live;
        if (result.ok() && successes >= success_threshold && !*state) {
          *state = true;
          changed = true;
        } else if (!result.ok() && failures >= failure_threshold && *state) {
          *state = false;
          changed = true;
        }
        // Startup fails for good only after failureThreshold tries.
        if (kind == Kind::kStartup && !result.ok() && failures >= failure_threshold) {
          r.live = false;
          changed = true;
        }
        if (!result.ok() && kind != Kind::kReadiness) {
          r.message = std::string(KindName(kind)) + " probe failed: " + result.message();
        }
      }
      if (changed) on_change_(entry->target.pod_key);
      bool dead;
      {
        std::lock_guard lock(mu_);
        dead = !entry->results.live;
      }
      if (dead) co_return;  // the worker restarts the container: a new attempt, new probes
      timer.expires_after(period);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  std::function<void(const std::string&)> on_change_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
};

}  // namespace

StatusOr<int> ResolvePort(const json& container, const json& port) {
  if (port.is_number_integer()) {
    int p = port.get<int>();
    if (p < 1 || p > 65535) return BadRequest("probe port out of range");
    return p;
  }
  if (port.is_string()) {
    std::string name = port.get<std::string>();
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
      return std::atoi(name.c_str());
    }
    for (const json& p : container.value("ports", json::array())) {
      if (p.value("name", "") == name) return p.value("containerPort", 0);
    }
    return BadRequest("port \"" + name + "\" is not a named port of the container");
  }
  return BadRequest("probe has no port");
}

std::unique_ptr<Prober> Prober::Start(std::function<void(const std::string&)> on_change) {
  return std::make_unique<ProberImpl>(std::move(on_change));
}

}  // namespace kennel::agent
