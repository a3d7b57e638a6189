// The HTTP client pieces the load generators share (bench/api_load.cc,
// bench/scheduler_load.cc): Boost.Beast over TLS or plain TCP with C++20
// coroutines, one keep-alive connection per client, all on one io_context.
//
// A load generator runs on one thread by default: on a 2-core machine shared
// with the server, more client threads only steal the cores the server needs.
// Nothing here is thread-safe unless it says so; a Conn belongs to the
// coroutine that made it.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/file.h"
#include "base/status.h"

namespace kennel::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

inline constexpr auto kRequestTimeout = std::chrono::seconds(30);

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

inline std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

inline std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Where to connect and how to authenticate.
struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string token;  // bearer token; empty: none
  std::string user_agent = "kennel-bench";
};

inline StatusOr<Endpoint> ParseUrl(const std::string& url) {
  Endpoint ep;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    ep.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return BadRequest("URL must start with http:// or https://: " + url);
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return BadRequest("URL needs an explicit port: " + url);
  ep.host = rest.substr(0, colon);
  ep.port = rest.substr(colon + 1);
  if (ep.host.size() >= 2 && ep.host.front() == '[')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  return ep;
}

// A Kennel server's endpoint: URL, the admin token from token_file, and ctx
// set to verify the server with the CA in ca_file.
inline StatusOr<Endpoint> KennelEndpoint(const std::string& url, const std::string& token_file,
                                         const std::string& ca_file, ssl::context* ctx) {
  ASSIGN_OR_RETURN(Endpoint ep, ParseUrl(url));
  ASSIGN_OR_RETURN(std::string token, ReadFile(token_file));
  ep.token = Trim(std::move(token));
  beast::error_code ec;
  ctx->load_verify_file(ca_file, ec);
  if (ec) return BadRequest("CA " + ca_file + ": " + ec.message());
  return ep;
}

// Latency samples in nanoseconds; percentiles by nearest rank.
struct Samples {
  std::vector<int64_t> ns;
  void Add(int64_t v) { ns.push_back(v); }
  void Merge(const Samples& o) { ns.insert(ns.end(), o.ns.begin(), o.ns.end()); }
  double PercentileMs(double p) {
    if (ns.empty()) return 0;
    std::sort(ns.begin(), ns.end());
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(ns.size())));
    return static_cast<double>(ns[std::clamp<size_t>(rank, 1, ns.size()) - 1]) / 1e6;
  }
};

// One client connection: keep-alive HTTP/1.1 over TLS (Kennel) or plain TCP
// (etcd). Requests on it are strictly sequential.
class Conn {
 public:
  Conn(asio::any_io_executor ex, const Endpoint& ep, ssl::context* ctx)
      : ex_(std::move(ex)), ep_(ep), ctx_(ctx) {}

  // (Re)connects: a TLS stream cannot be reused after an error, so every
  // connect starts from fresh streams.
  asio::awaitable<beast::error_code> Connect() {
    tls_.reset();
    plain_.reset();
    buffer_.clear();
    if (ep_.tls) {
      tls_.emplace(ex_, *ctx_);
    } else {
      plain_.emplace(ex_);
    }
    beast::error_code ec;
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto results = co_await resolver.async_resolve(ep_.host, ep_.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    beast::tcp_stream& tcp = Lowest();
    tcp.expires_after(kRequestTimeout);
    co_await tcp.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    tcp.socket().set_option(tcp::no_delay(true), ec);
    if (tls_) {
      tls_->set_verify_mode(ssl::verify_peer);
      tls_->set_verify_callback(ssl::host_name_verification(ep_.host));
      co_await tls_->async_handshake(ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return ec;
  }

  // Sends one request and reads the whole response into *res.
  asio::awaitable<beast::error_code> Do(http::verb verb, const std::string& target,
                                        std::string body, http::response<http::string_body>* res) {
    auto req = MakeRequest(verb, target, std::move(body));
    Lowest().expires_after(kRequestTimeout);
    if (tls_) co_return co_await DoOn(*tls_, req, res);
    co_return co_await DoOn(*plain_, req, res);
  }

  // Closes the connection: an operation pending on it (a watch) ends with an
  // error. Connect() starts a new one.
  void Close() {
    if (!tls_ && !plain_) return;
    beast::error_code ec;
    Lowest().socket().close(ec);
  }

  // Sends a watch request and calls on_data(bytes, receive_ns) with each piece
  // of the chunked body until on_data returns false, the stream ends, or the
  // deadline passes. Returns the HTTP status (0 on a transport error).
  template <class OnData, class OnHeader>
  asio::awaitable<int> Stream(const std::string& target, Clock::time_point deadline,
                              OnHeader on_header, OnData on_data) {
    auto req = MakeRequest(http::verb::get, target, "");
    Lowest().expires_at(deadline);
    if (tls_) co_return co_await StreamOn(*tls_, req, on_header, on_data);
    co_return co_await StreamOn(*plain_, req, on_header, on_data);
  }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target,
                                               std::string body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    req.set(http::field::user_agent, ep_.user_agent);
    req.set(http::field::accept, "application/json");
    if (!ep_.token.empty()) req.set(http::field::authorization, "Bearer " + ep_.token);
    if (verb != http::verb::get) req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  template <class S>
  asio::awaitable<beast::error_code> DoOn(S& s, http::request<http::string_body>& req,
                                          http::response<http::string_body>* res) {
    beast::error_code ec;
    co_await http::async_write(s, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    *res = {};
    co_await http::async_read(s, buffer_, *res, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  template <class S, class OnHeader, class OnData>
  asio::awaitable<int> StreamOn(S& s, http::request<http::string_body>& req, OnHeader& on_header,
                                OnData& on_data) {
    beast::error_code ec;
    co_await http::async_write(s, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return 0;
    http::response_parser<http::empty_body> parser;
    parser.body_limit(boost::none);
    bool more = true;
    // Beast hands each decoded piece of chunk body here as it parses what a
    // read brought in: the moment of the call is the receive time.
    auto on_chunk = [&](uint64_t, beast::string_view piece, beast::error_code&) -> size_t {
      if (more) more = on_data(std::string_view(piece.data(), piece.size()), NowNs());
      return piece.size();
    };
    parser.on_chunk_body(on_chunk);
    co_await http::async_read_header(s, buffer_, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return 0;
    int status = parser.get().result_int();
    on_header(status);
    if (status != 200) co_return status;
    while (more && !parser.is_done()) {
      co_await http::async_read_some(s, buffer_, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    co_return status;
  }

  asio::any_io_executor ex_;
  Endpoint ep_;
  ssl::context* ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

// Each connection's coroutine runs on a strand when the client has several
// threads; on one thread a strand is pure overhead.
inline asio::any_io_executor ConnExecutor(asio::io_context& ioc, int threads) {
  if (threads > 1) return asio::make_strand(ioc);
  return ioc.get_executor();
}

// Runs the io_context on `threads` threads until it has no work left.
inline void RunContext(asio::io_context& ioc, int threads) {
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
}

// Waits (polling a timer) until counter reaches n or the deadline passes.
inline asio::awaitable<bool> WaitCount(const std::atomic<int>& counter, int n,
                                       Clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (counter.load() < n) {
    if (Clock::now() >= deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

// One request on a connection of its own, synchronously: for setup and
// checks outside the timed phases.
inline StatusOr<http::response<http::string_body>> OneRequest(const Endpoint& ep, ssl::context* ctx,
                                                              http::verb verb,
                                                              const std::string& target,
                                                              std::string body) {
  asio::io_context ioc;
  beast::error_code ec;
  http::response<http::string_body> res;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        Conn conn(co_await asio::this_coro::executor, ep, ctx);
        ec = co_await conn.Connect();
        if (!ec) ec = co_await conn.Do(verb, target, std::move(body), &res);
      },
      asio::detached);
  ioc.run();
  if (ec) return Unavailable(target + ": " + ec.message());
  return res;
}

// Prints what went wrong with a request, for the first few failures only: a
// few lines are enough to see the cause, thousands would bury it. `tool`
// prefixes the line ("api_load").
inline void NoteError(const char* tool, const char* what, const beast::error_code& ec,
                      const http::response<http::string_body>& res) {
  static std::atomic<int> shown{0};
  if (shown.fetch_add(1) >= 5) return;
  if (ec) {
    std::fprintf(stderr, "%s: %s: %s\n", tool, what, ec.message().c_str());
  } else {
    std::fprintf(stderr, "%s: %s: HTTP %d %s\n", tool, what, res.result_int(),
                 res.body().substr(0, 300).c_str());
  }
}

// The value of the first `"key":"…"` at or after `from` in a JSON text, or
// "" (no full parse on the hot path: the server writes compact JSON).
inline std::string_view StringAfter(std::string_view text, std::string_view key, size_t from = 0) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  size_t at = text.find(pattern, from);
  if (at == std::string_view::npos) return {};
  at += pattern.size();
  size_t end = text.find('"', at);
  if (end == std::string_view::npos) return {};
  return text.substr(at, end - at);
}

struct CreateResult {
  int created = 0;
  int errors = 0;
  double seconds = 0;
  int64_t last_rv = -1;   // the highest resourceVersion a create returned
  size_t last_index = 0;  // the request that returned it
};

// POSTs every (collection path, JSON body) of `requests` over `clients`
// keep-alive connections, as fast as the server answers: for setup (nodes,
// services), not for timed figures.
inline CreateResult CreateAll(const Endpoint& ep, ssl::context* ctx,
                              const std::vector<std::pair<std::string, std::string>>& requests,
                              int clients, const char* tool) {
  asio::io_context ioc;
  CreateResult result;
  size_t next = 0;
  const int64_t start = NowNs();
  for (int c = 0; c < clients; ++c) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          Conn conn(co_await asio::this_coro::executor, ep, ctx);
          if (auto ec = co_await conn.Connect()) {
            std::fprintf(stderr, "%s: connect: %s\n", tool, ec.message().c_str());
            co_return;
          }
          http::response<http::string_body> res;
          while (next < requests.size()) {
            const size_t i = next++;
            auto ec =
                co_await conn.Do(http::verb::post, requests[i].first, requests[i].second, &res);
            if (ec || res.result_int() != 201) {
              ++result.errors;
              NoteError(tool, "create", ec, res);
              if (ec) co_await conn.Connect();
              continue;
            }
            ++result.created;
            int64_t rv =
                std::atoll(std::string(StringAfter(res.body(), "resourceVersion")).c_str());
            if (rv > result.last_rv) {
              result.last_rv = rv;
              result.last_index = i;
            }
            if (!res.keep_alive()) co_await conn.Connect();
          }
        },
        asio::detached);
  }
  ioc.run();
  result.seconds = static_cast<double>(NowNs() - start) / 1e9;
  return result;
}

}  // namespace kennel::bench
