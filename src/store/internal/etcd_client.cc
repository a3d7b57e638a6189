#include "store/internal/etcd_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <condition_variable>
#include <future>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include "base/base64.h"

namespace kennel::store::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using Request = http::request<http::string_body>;
using Parser = http::response_parser<http::string_body>;

// "No limit" as a number: Beast 1.74 treats an unset body limit as exceeded.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();
// Between two passes over every endpoint, so a call waiting out an election
// does not spin.
constexpr auto kRetryPause = std::chrono::milliseconds(100);
constexpr auto kMinWatchBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxWatchBackoff = std::chrono::milliseconds(1000);

auto Redirect(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

struct Endpoint {
  std::string url;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  bool tls = false;
};

StatusOr<Endpoint> ParseEndpoint(const std::string& url) {
  Endpoint ep;
  ep.url = url;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    ep.tls = true;
  } else {
    return BadRequest("etcd endpoint must start with http:// or https://: \"" + url + "\"");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    return BadRequest("etcd endpoint with a path is not supported: " + url);
  }
  ep.host_header = rest;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return BadRequest("bad IPv6 address in " + url);
    ep.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return BadRequest("bad etcd endpoint " + url);
      port = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    ep.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (ep.host.empty()) return BadRequest("etcd endpoint has no host: " + url);
  if (port.empty()) port = "2379";
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) {
    return BadRequest("bad port in etcd endpoint " + url);
  }
  ep.port = port;
  return ep;
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One HTTP/1.1 connection to one endpoint, plain or TLS.
class Connection {
 public:
  Connection(asio::io_context& ioc, ssl::context* tls, size_t endpoint) : endpoint(endpoint) {
    if (tls != nullptr) {
      tls_stream.emplace(ioc, *tls);
    } else {
      plain_stream.emplace(ioc);
    }
  }

  beast::tcp_stream& tcp() {
    return tls_stream ? beast::get_lowest_layer(*tls_stream) : *plain_stream;
  }

  void Close() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  // An idle connection with nothing to read: the server has not closed it
  // (or died) behind our back, so a request sent on it is not lost to that.
  bool LooksAlive() {
    if (!tcp().socket().is_open()) return false;
    pollfd p{tcp().socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  const size_t endpoint;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  std::optional<beast::tcp_stream> plain_stream;
  beast::flat_buffer buffer;
};

// A dead peer (host gone, cable cut) is noticed within ~25 s even on a watch
// stream that is quiet; a killed process is noticed at once anyway.
void SetKeepAlive(tcp::socket& socket) {
  beast::error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  int idle = 10, interval = 5, count = 3;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

Request MakeRequest(const Endpoint& ep, const std::string& path, std::string body) {
  Request req{http::verb::post, path, 11};
  req.set(http::field::host, ep.host_header);
  req.set(http::field::content_type, "application/json");
  // gRPC metadata "hasleader": a member without a leader then refuses a request
  // at once instead of holding it until its own timeout, and ends a watch
  // stream when it loses its leader, so that we move to a member that has one.
  req.set("Grpc-Metadata-hasleader", "true");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// *sent becomes true once the whole request is written: from then on etcd may
// have acted on it, whatever happens to the answer.
template <typename Stream>
awaitable<beast::error_code> WriteAndRead(Stream& stream, beast::flat_buffer& buffer, Request& req,
                                          Parser& parser, bool* sent) {
  beast::error_code ec;
  co_await http::async_write(stream, req, Redirect(ec));
  if (ec) co_return ec;
  *sent = true;
  co_await http::async_read(stream, buffer, parser, Redirect(ec));
  co_return ec;
}

template <typename Stream>
awaitable<beast::error_code> WriteAndReadHeader(Stream& stream, beast::flat_buffer& buffer,
                                                Request& req, Parser& parser) {
  beast::error_code ec;
  co_await http::async_write(stream, req, Redirect(ec));
  if (ec) co_return ec;
  co_await http::async_read_header(stream, buffer, parser, Redirect(ec));
  co_return ec;
}

template <typename Stream>
awaitable<beast::error_code> ReadSome(Stream& stream, beast::flat_buffer& buffer, Parser& parser) {
  beast::error_code ec;
  co_await http::async_read_some(stream, buffer, parser, Redirect(ec));
  co_return ec;
}

template <typename Stream>
awaitable<beast::error_code> ReadRest(Stream& stream, beast::flat_buffer& buffer, Parser& parser) {
  beast::error_code ec;
  co_await http::async_read(stream, buffer, parser, Redirect(ec));
  co_return ec;
}

Status TransportError(const Endpoint& ep, const char* what, const beast::error_code& ec) {
  std::string message = "etcd " + ep.url + ": " + what + ": " + ec.message();
  if (ec == beast::error::timeout) return Status(Code::kTimeout, std::move(message));
  return Unavailable(std::move(message));
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// What to do with an answer from etcd.
enum class Verdict {
  kDone,           // return `result` to the caller
  kRetryAnywhere,  // etcd refused before acting: any call may go to another member
  kRetryIfRead,    // this member cannot serve now; a write's outcome is unknown
};

struct Answer {
  Verdict verdict;
  StatusOr<Json> result;
};

// grpc-gateway answers errors as {"error": m, "message": m, "code": grpc_code}.
Answer Interpret(const Endpoint& ep, unsigned http_status, const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const std::exception& e) {
    return {Verdict::kRetryIfRead,
            Internal("etcd " + ep.url + ": malformed answer (HTTP " + std::to_string(http_status) +
                     "): " + body.substr(0, 200))};
  }
  if (http_status == 200 && !j.contains("error")) return {Verdict::kDone, std::move(j)};
  std::string message = j.is_object() ? j.value("message", j.value("error", "")) : "";
  const int code = j.is_object() && j.contains("code") && j["code"].is_number_integer()
                       ? j["code"].get<int>()
                       : 0;
  if (message.empty()) message = "HTTP " + std::to_string(http_status);
  std::string text = "etcd " + ep.url + ": " + message;
  if (Contains(message, "required revision has been compacted")) {
    return {Verdict::kDone, Gone(std::move(text))};
  }
  // Refused before any proposal: the write certainly was not applied.
  if (Contains(message, "no leader") || Contains(message, "raft proposal dropped") ||
      Contains(message, "too many requests")) {
    return {Verdict::kRetryAnywhere, Unavailable(std::move(text))};
  }
  if (Contains(message, "timed out") || code == 4 /* DEADLINE_EXCEEDED */) {
    return {Verdict::kRetryIfRead, Status(Code::kTimeout, std::move(text))};
  }
  if (code == 14 /* UNAVAILABLE */ || code == 1 /* CANCELLED */ ||
      Contains(message, "leader changed") || Contains(message, "server stopped") ||
      http_status == 503) {
    return {Verdict::kRetryIfRead, Unavailable(std::move(text))};
  }
  if (code == 3 /* INVALID_ARGUMENT */ || code == 11 /* OUT_OF_RANGE */) {
    return {Verdict::kDone, BadRequest(std::move(text))};
  }
  if (code == 8 /* RESOURCE_EXHAUSTED, e.g. database space exceeded */) {
    return {Verdict::kDone, Unavailable(std::move(text))};
  }
  return {Verdict::kDone, Internal(std::move(text))};
}

KeyValue KvFromJson(const Json& kv) {
  return KeyValue{JsonBytes(kv, "key"), JsonBytes(kv, "value"), JsonInt(kv, "create_revision"),
                  JsonInt(kv, "mod_revision")};
}

// etcd's delete event carries only the key and the delete's revision; the
// contract wants the deleted value and create_revision, which prev_kv has.
std::vector<Event> EventsFromJson(const Json& result) {
  std::vector<Event> events;
  auto it = result.find("events");
  if (it == result.end()) return events;
  events.reserve(it->size());
  for (const Json& e : *it) {
    Event ev;
    ev.type = e.value("type", "PUT") == "DELETE" ? EventType::kDelete : EventType::kPut;
    ev.kv = KvFromJson(e.at("kv"));
    if (auto prev = e.find("prev_kv"); prev != e.end()) ev.prev_kv = KvFromJson(*prev);
    if (ev.type == EventType::kDelete && ev.prev_kv) {
      ev.kv.value = ev.prev_kv->value;
      ev.kv.create_revision = ev.prev_kv->create_revision;
    }
    events.push_back(std::move(ev));
  }
  return events;
}

}  // namespace

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

int64_t JsonInt(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  const std::string& s = it->get_ref<const std::string&>();  // throws if not a string
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw std::invalid_argument(std::string("bad int64 in field ") + field + ": " + s);
  }
  return value;
}

std::string JsonBytes(const Json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::string();
  StatusOr<std::string> bytes = Base64Decode(it->get_ref<const std::string&>());
  if (!bytes.ok()) throw std::invalid_argument(std::string("bad base64 in field ") + field);
  return std::move(*bytes);
}

class EtcdClient::Impl {
 public:
  Impl(const EtcdClientOptions& options, std::vector<Endpoint> endpoints,
       std::unique_ptr<ssl::context> tls)
      : options_(options),
        endpoints_(std::move(endpoints)),
        tls_(std::move(tls)),
        work_(asio::make_work_guard(ioc_)),
        pools_(endpoints_.size()) {
    for (const Endpoint& ep : endpoints_) {
      if (!endpoint_list_.empty()) endpoint_list_ += ", ";
      endpoint_list_ += ep.url;
    }
    thread_ = std::thread([this] { ioc_.run(); });
    io_thread_ = thread_.get_id();
  }

  ~Impl() { Shutdown(); }

  void Call(std::string path, Json body, CallKind kind, CallCallback done) {
    std::string text;
    try {
      text = body.dump();
    } catch (const std::exception& e) {
      done(Internal(std::string("etcd request: ") + e.what()));
      return;
    }
    bool refused = false;
    {
      std::lock_guard lock(mu_);
      refused = stopping_;
      if (!refused) ++inflight_;
    }
    if (refused) {  // outside the lock: done may well call Call again
      done(Unavailable("etcd store is shutting down"));
      return;
    }
    asio::co_spawn(ioc_, RunCall(std::move(path), std::move(text), kind, std::move(done)),
                   [](std::exception_ptr e) { LogCoroutineFailure(e, "etcd call"); });
  }

  StatusOr<Json> CallSync(std::string path, Json body, CallKind kind) {
    if (std::this_thread::get_id() == io_thread_) {
      return Internal("etcd: CallSync on the I/O thread would deadlock");
    }
    auto promise = std::make_shared<std::promise<StatusOr<Json>>>();
    auto future = promise->get_future();
    Call(std::move(path), std::move(body), kind,
         [promise](StatusOr<Json> result) { promise->set_value(std::move(result)); });
    return future.get();
  }

  uint64_t StartWatch(WatchSpec spec, WatchCallbacks callbacks) {
    const uint64_t id = next_watch_id_.fetch_add(1);
    asio::post(ioc_,
               [this, id, spec = std::move(spec), callbacks = std::move(callbacks)]() mutable {
                 if (closing_) return;
                 auto w = std::make_shared<WatchState>();
                 w->id = id;
                 w->spec = std::move(spec);
                 w->callbacks = std::move(callbacks);
                 w->next_revision = w->spec.start_revision;
                 w->endpoint = preferred_;
                 watches_[id] = w;
                 asio::co_spawn(ioc_, RunWatch(w),
                                [](std::exception_ptr e) { LogCoroutineFailure(e, "etcd watch"); });
               });
    return id;
  }

  void StopWatch(uint64_t id) {
    asio::post(ioc_, [this, id] {
      auto it = watches_.find(id);
      if (it == watches_.end()) return;
      Stop(*it->second);
      watches_.erase(it);
    });
  }

  void Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
    asio::post(ioc_, [this, delay, fn = std::move(fn)]() mutable {
      if (closing_) return;
      auto timer = std::make_shared<asio::steady_timer>(ioc_, delay);
      timers_.insert(timer.get());
      timer->async_wait([this, timer, fn = std::move(fn)](beast::error_code ec) {
        timers_.erase(timer.get());
        if (ec || closing_) return;
        try {
          fn();
        } catch (const std::exception& e) {
          spdlog::error("etcd store: scheduled task threw: {}", e.what());
        }
      });
    });
  }

  void Shutdown() {
    {
      std::unique_lock lock(mu_);
      stopping_ = true;
      idle_cv_.wait(lock, [&] { return inflight_ == 0; });
      if (shut_down_) return;
      shut_down_ = true;
    }
    asio::post(ioc_, [this] { CloseAll(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  int64_t watch_streams_created() const { return streams_created_.load(); }
  const std::string& endpoint_list() const { return endpoint_list_; }

 private:
  struct Waiter {
    explicit Waiter(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    bool queued = true;
  };

  // Connections to one endpoint: idle ones, and how many exist in all.
  struct Pool {
    std::vector<std::unique_ptr<Connection>> idle;
    size_t open = 0;
    std::list<Waiter*> waiters;  // calls waiting for a connection
  };

  enum class StreamState { kRunning, kReconnect, kCompacted };

  struct WatchState {
    uint64_t id = 0;
    WatchSpec spec;
    WatchCallbacks callbacks;
    int64_t next_revision = 0;  // the first revision the next stream must deliver
    size_t endpoint = 0;
    bool stopped = false;
    bool created = false;  // the current stream was accepted by etcd
    StreamState state = StreamState::kRunning;
    std::string partial;  // bytes of a message not yet ended by '\n'
    Connection* conn = nullptr;
    std::optional<asio::steady_timer> pause;
  };

  static void LogCoroutineFailure(std::exception_ptr e, const char* what) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("{} failed: {}", what, ex.what());
    } catch (...) {
      spdlog::error("{} failed", what);
    }
  }

  awaitable<void> RunCall(std::string path, std::string body, CallKind kind, CallCallback done) {
    std::optional<StatusOr<Json>> result;
    try {
      result.emplace(co_await CallWithRetries(path, std::move(body), kind));
    } catch (const std::exception& e) {
      result.emplace(Internal("etcd " + path + ": " + e.what()));
    }
    try {
      done(std::move(*result));
    } catch (const std::exception& e) {
      spdlog::error("etcd store: call callback threw: {}", e.what());
    }
    {
      std::lock_guard lock(mu_);
      --inflight_;
    }
    idle_cv_.notify_all();
  }

  awaitable<StatusOr<Json>> CallWithRetries(const std::string& path, std::string body,
                                            CallKind kind) {
    const auto deadline = Clock::now() + options_.request_timeout;
    Status last = Unavailable("no attempt made");
    for (size_t attempt = 0; Clock::now() < deadline; ++attempt) {
      if (attempt > 0 && attempt % endpoints_.size() == 0) co_await Pause(kRetryPause, deadline);
      if (Clock::now() >= deadline || closing_) break;
      const size_t ep = preferred_;
      StatusOr<std::unique_ptr<Connection>> conn = co_await Acquire(ep, deadline);
      if (!conn.ok()) {  // nothing was sent
        last = conn.status();
        Demote(ep);
        continue;
      }
      Request req = MakeRequest(endpoints_[ep], path, body);
      Parser parser;
      parser.body_limit(kNoBodyLimit);
      bool sent = false;
      Connection& c = **conn;
      c.tcp().expires_at(deadline);
      // Not `?:`: GCC 12 miscompiles co_await inside a conditional expression.
      beast::error_code ec;
      if (c.tls_stream) {
        ec = co_await WriteAndRead(*c.tls_stream, c.buffer, req, parser, &sent);
      } else {
        ec = co_await WriteAndRead(*c.plain_stream, c.buffer, req, parser, &sent);
      }
      if (ec) {
        Release(std::move(*conn), /*reusable=*/false);
        Status status = TransportError(endpoints_[ep], sent ? "request" : "sending request", ec);
        if (sent && kind == CallKind::kWrite) co_return AmbiguousWrite(path, status);
        last = std::move(status);
        Demote(ep);
        continue;
      }
      c.tcp().expires_never();
      const bool keep_alive = parser.get().keep_alive();
      Answer answer = Interpret(endpoints_[ep], parser.get().result_int(), parser.get().body());
      Release(std::move(*conn), keep_alive);
      if (answer.verdict == Verdict::kDone) co_return std::move(answer.result);
      if (answer.verdict == Verdict::kRetryIfRead && kind == CallKind::kWrite) {
        co_return AmbiguousWrite(path, answer.result.status());
      }
      last = answer.result.status();
      Demote(ep);
    }
    co_return GiveUp(path, last);
  }

  Status AmbiguousWrite(const std::string& path, const Status& cause) const {
    return Status(
        cause.code() == Code::kTimeout ? Code::kTimeout : Code::kUnavailable,
        "etcd " + path + " failed and may or may not have been applied: " + cause.message());
  }

  Status GiveUp(const std::string& path, const Status& last) const {
    std::string message = "etcd " + path + " failed on every endpoint (" + endpoint_list_ +
                          ") within " + std::to_string(options_.request_timeout.count()) +
                          " ms; last error: " + last.message();
    return Status(last.code() == Code::kTimeout ? Code::kTimeout : Code::kUnavailable,
                  std::move(message));
  }

  // Sends the next calls (and new watch streams) to the next endpoint.
  void Demote(size_t ep) {
    if (preferred_ == ep) preferred_ = (ep + 1) % endpoints_.size();
  }

  awaitable<void> Pause(std::chrono::milliseconds pause, Clock::time_point deadline) {
    asio::steady_timer timer(ioc_, std::min(Clock::now() + pause, deadline));
    beast::error_code ignored;
    co_await timer.async_wait(Redirect(ignored));
  }

  // An idle connection to ep, or a new one if fewer than the maximum exist;
  // otherwise waits for one to be released.
  awaitable<StatusOr<std::unique_ptr<Connection>>> Acquire(size_t ep, Clock::time_point deadline) {
    Pool& pool = pools_[ep];
    for (;;) {
      if (closing_) co_return Unavailable("etcd store is shutting down");
      while (!pool.idle.empty()) {
        std::unique_ptr<Connection> c = std::move(pool.idle.back());
        pool.idle.pop_back();
        if (c->LooksAlive()) co_return std::move(c);
        c->Close();
        --pool.open;
      }
      if (pool.open < options_.max_connections_per_endpoint) break;
      Waiter waiter(ioc_);
      waiter.timer.expires_at(deadline);
      auto it = pool.waiters.insert(pool.waiters.end(), &waiter);
      beast::error_code ignored;
      co_await waiter.timer.async_wait(Redirect(ignored));
      if (waiter.queued) pool.waiters.erase(it);
      if (Clock::now() >= deadline) {
        co_return Status(Code::kTimeout, "etcd " + endpoints_[ep].url +
                                             ": no free connection within the request timeout");
      }
    }
    ++pool.open;
    auto c = std::make_unique<Connection>(ioc_, tls_.get(), ep);
    Status connected = co_await Connect(*c, deadline);
    if (!connected.ok()) {
      --pool.open;
      WakeOne(pool);
      co_return connected;
    }
    co_return std::move(c);
  }

  void Release(std::unique_ptr<Connection> c, bool reusable) {
    Pool& pool = pools_[c->endpoint];
    if (reusable && !closing_) {
      pool.idle.push_back(std::move(c));
    } else {
      c->Close();
      --pool.open;
    }
    WakeOne(pool);
  }

  static void WakeOne(Pool& pool) {
    if (pool.waiters.empty()) return;
    Waiter* w = pool.waiters.front();
    pool.waiters.pop_front();
    w->queued = false;
    w->timer.cancel();
  }

  awaitable<Status> Connect(Connection& c, Clock::time_point deadline) {
    const Endpoint& ep = endpoints_[c.endpoint];
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = co_await resolver.async_resolve(ep.host, ep.port, Redirect(ec));
    if (ec) co_return TransportError(ep, "resolve", ec);
    c.tcp().expires_at(deadline);
    co_await c.tcp().async_connect(results, Redirect(ec));
    if (ec) co_return TransportError(ep, "connect", ec);
    c.tcp().socket().set_option(tcp::no_delay(true), ec);
    if (c.tls_stream) {
      // SNI is for names only; IP addresses are checked against the IP SANs.
      if (!IsIpAddress(ep.host)) {
        SSL_set_tlsext_host_name(c.tls_stream->native_handle(), ep.host.c_str());
      }
      c.tls_stream->set_verify_mode(ssl::verify_peer);
      c.tls_stream->set_verify_callback(ssl::host_name_verification(ep.host));
      co_await c.tls_stream->async_handshake(ssl::stream_base::client, Redirect(ec));
      if (ec) co_return TransportError(ep, "TLS handshake", ec);
    }
    co_return Status::Ok();
  }

  // ------------------------------------------------------------ watches

  void Stop(WatchState& w) {
    w.stopped = true;
    if (w.conn != nullptr) w.conn->Close();
    if (w.pause) w.pause->cancel();
  }

  awaitable<void> RunWatch(std::shared_ptr<WatchState> w) {
    auto backoff = kMinWatchBackoff;
    while (!w->stopped && !closing_) {
      co_await StreamOnce(*w);
      if (w->stopped || closing_) break;
      if (w->state == StreamState::kCompacted) {
        watches_.erase(w->id);
        break;
      }
      // A stream etcd had accepted broke (member down, lost its leader): try
      // the next member at once; otherwise back off while every member fails.
      backoff = w->created ? kMinWatchBackoff : std::min(backoff * 2, kMaxWatchBackoff);
      w->endpoint = (w->endpoint + 1) % endpoints_.size();
      w->pause.emplace(ioc_, backoff);
      beast::error_code ignored;
      co_await w->pause->async_wait(Redirect(ignored));
      w->pause.reset();
    }
  }

  static Json WatchBody(const WatchState& w) {
    Json create = {{"key", Base64Encode(w.spec.key)},
                   {"range_end", Base64Encode(w.spec.range_end)},
                   {"start_revision", std::to_string(w.next_revision)},
                   {"prev_kv", true},
                   {"progress_notify", true}};
    return Json{{"create_request", std::move(create)}};
  }

  // One stream: connect, create the watch, deliver until it ends.
  awaitable<void> StreamOnce(WatchState& w) {
    w.state = StreamState::kReconnect;
    w.created = false;
    w.partial.clear();
    Connection c(ioc_, tls_.get(), w.endpoint);
    w.conn = &c;
    struct Forget {
      WatchState& w;
      ~Forget() { w.conn = nullptr; }
    } forget{w};
    const Endpoint& ep = endpoints_[w.endpoint];
    Status connected = co_await Connect(c, Clock::now() + options_.request_timeout);
    if (!connected.ok() || w.stopped) {
      spdlog::debug("etcd watch: {}", connected.message());
      co_return;
    }
    SetKeepAlive(c.tcp().socket());
    Request req = MakeRequest(ep, "/v3/watch", WatchBody(w).dump());
    Parser parser;
    parser.body_limit(kNoBodyLimit);
    c.tcp().expires_after(options_.request_timeout);
    beast::error_code ec;
    if (c.tls_stream) {
      ec = co_await WriteAndReadHeader(*c.tls_stream, c.buffer, req, parser);
    } else {
      ec = co_await WriteAndReadHeader(*c.plain_stream, c.buffer, req, parser);
    }
    if (ec || w.stopped) co_return;
    if (parser.get().result() != http::status::ok) {
      if (c.tls_stream) {
        ec = co_await ReadRest(*c.tls_stream, c.buffer, parser);
      } else {
        ec = co_await ReadRest(*c.plain_stream, c.buffer, parser);
      }
      spdlog::warn("etcd watch on {}: HTTP {}: {}", ep.url, parser.get().result_int(),
                   parser.get().body().substr(0, 200));
      co_return;
    }
    // The stream has no deadline: it is quiet while nothing changes.
    c.tcp().expires_never();
    auto on_chunk = [&w, this](std::uint64_t, beast::string_view bytes, beast::error_code&) {
      OnStreamBytes(w, std::string_view(bytes.data(), bytes.size()));
      return bytes.size();
    };
    parser.on_chunk_body(on_chunk);
    w.state = StreamState::kRunning;
    while (!parser.is_done() && w.state == StreamState::kRunning && !w.stopped) {
      if (c.tls_stream) {
        ec = co_await ReadSome(*c.tls_stream, c.buffer, parser);
      } else {
        ec = co_await ReadSome(*c.plain_stream, c.buffer, parser);
      }
      if (ec) break;
    }
    if (w.state == StreamState::kRunning) w.state = StreamState::kReconnect;
    if (!w.stopped && !closing_) {
      spdlog::info("etcd watch stream on {} ended ({}); resuming from revision {}", ep.url,
                   ec ? ec.message() : "closed", w.next_revision);
    }
    c.Close();
  }

  void OnStreamBytes(WatchState& w, std::string_view bytes) {
    w.partial.append(bytes);
    size_t start = 0;
    for (size_t end; (end = w.partial.find('\n', start)) != std::string::npos; start = end + 1) {
      if (w.stopped || w.state != StreamState::kRunning) break;
      if (end > start) OnStreamMessage(w, std::string_view(w.partial).substr(start, end - start));
    }
    w.partial.erase(0, start);
  }

  void OnStreamMessage(WatchState& w, std::string_view line) {
    try {
      Json j = Json::parse(line);
      if (auto err = j.find("error"); err != j.end()) {
        spdlog::info("etcd watch stream error: {}", err->dump());
        w.state = StreamState::kReconnect;
        return;
      }
      const Json& result = j.at("result");
      if (result.value("canceled", false)) {
        const int64_t compacted = JsonInt(result, "compact_revision");
        if (compacted > 0) {
          w.state = StreamState::kCompacted;
          if (w.callbacks.on_compacted) w.callbacks.on_compacted(compacted);
          return;
        }
        spdlog::info("etcd watch canceled: {}", result.value("cancel_reason", ""));
        w.state = StreamState::kReconnect;
        return;
      }
      const bool created = result.value("created", false);
      if (created) {
        w.created = true;
        streams_created_.fetch_add(1);
        if (w.callbacks.on_created) w.callbacks.on_created();
      }
      std::vector<Event> events = EventsFromJson(result);
      if (!events.empty()) {
        w.next_revision = events.back().revision() + 1;
        w.callbacks.on_events(std::move(events));
      } else if (!created) {
        // A progress notification: every event up to this revision was sent.
        const int64_t revision = JsonInt(result.at("header"), "revision");
        if (revision >= w.next_revision) w.next_revision = revision + 1;
      }
    } catch (const std::exception& e) {
      spdlog::error("etcd watch: bad message ({}): {}", e.what(), line.substr(0, 200));
      w.state = StreamState::kReconnect;
    }
  }

  void CloseAll() {
    closing_ = true;
    for (auto& [id, w] : watches_) Stop(*w);
    watches_.clear();
    for (asio::steady_timer* t : timers_) t->cancel();
    for (Pool& pool : pools_) {
      for (auto& c : pool.idle) c->Close();
      pool.open -= pool.idle.size();
      pool.idle.clear();
      while (!pool.waiters.empty()) WakeOne(pool);
    }
  }

  const EtcdClientOptions options_;
  const std::vector<Endpoint> endpoints_;
  std::string endpoint_list_;
  std::unique_ptr<ssl::context> tls_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;

  // Calls in flight and the refusal of new ones; any thread.
  std::mutex mu_;
  std::condition_variable idle_cv_;
  int inflight_ = 0;        // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  bool shut_down_ = false;  // guarded by mu_

  // I/O thread only.
  bool closing_ = false;
  std::vector<Pool> pools_;
  size_t preferred_ = 0;
  std::map<uint64_t, std::shared_ptr<WatchState>> watches_;
  std::set<asio::steady_timer*> timers_;

  std::atomic<uint64_t> next_watch_id_{1};
  std::atomic<int64_t> streams_created_{0};
  std::thread thread_;  // last: starts once everything above exists
  std::thread::id io_thread_;
};

StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdClientOptions& options) {
  if (options.endpoints.empty()) return BadRequest("etcd: no endpoints");
  if (options.request_timeout.count() <= 0) return BadRequest("etcd: request_timeout <= 0");
  if (options.max_connections_per_endpoint == 0) return BadRequest("etcd: no connections allowed");
  std::vector<Endpoint> endpoints;
  bool any_tls = false;
  for (const std::string& url : options.endpoints) {
    ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(url));
    any_tls = any_tls || ep.tls;
    endpoints.push_back(std::move(ep));
  }
  for (const Endpoint& ep : endpoints) {
    if (ep.tls != any_tls) return BadRequest("etcd: endpoints mix http:// and https://");
  }
  std::unique_ptr<ssl::context> tls;
  if (any_tls) {
    try {
      tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      if (options.ca_file.empty()) {
        tls->set_default_verify_paths();
      } else {
        tls->load_verify_file(options.ca_file);
      }
      if (!options.cert_file.empty()) tls->use_certificate_chain_file(options.cert_file);
      if (!options.key_file.empty()) tls->use_private_key_file(options.key_file, ssl::context::pem);
    } catch (const std::exception& e) {
      return BadRequest(std::string("etcd: client TLS setup: ") + e.what());
    }
  }
  auto impl = std::make_unique<Impl>(options, std::move(endpoints), std::move(tls));
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

void EtcdClient::Call(std::string path, Json body, CallKind kind, CallCallback done) {
  impl_->Call(std::move(path), std::move(body), kind, std::move(done));
}
StatusOr<Json> EtcdClient::CallSync(std::string path, Json body, CallKind kind) {
  return impl_->CallSync(std::move(path), std::move(body), kind);
}
uint64_t EtcdClient::StartWatch(WatchSpec spec, WatchCallbacks callbacks) {
  return impl_->StartWatch(std::move(spec), std::move(callbacks));
}
void EtcdClient::StopWatch(uint64_t id) { impl_->StopWatch(id); }
void EtcdClient::Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->Schedule(delay, std::move(fn));
}
void EtcdClient::Shutdown() { impl_->Shutdown(); }
int64_t EtcdClient::watch_streams_created() const { return impl_->watch_streams_created(); }
const std::string& EtcdClient::endpoint_list() const { return impl_->endpoint_list(); }

}  // namespace kennel::store::internal
