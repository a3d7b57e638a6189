// The HTTPS client: Boost.Beast over TLS, blocking calls. Each connection owns
// an io_context and runs Beast's asynchronous operations to completion on the
// calling thread: synchronous Asio ignores timeouts, while tcp_stream's
// deadlines work for asynchronous operations.
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "base/file.h"
#include "base/strings.h"
#include "client/client.h"
#include "client/wire.h"

namespace kennel::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Idle connections kept for reuse; more concurrent callers open more.
constexpr size_t kMaxIdleConnections = 4;
// Well under the server's 300 s idle timeout, so a pooled connection is
// rarely one the server is closing at that very moment.
constexpr auto kMaxIdleAge = std::chrono::seconds(60);
// "No limit" as a number: Beast 1.74 compares a Content-Length against an
// unset (boost::none) limit as if it were exceeded.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

struct Endpoint {
  std::string host;  // without brackets, for resolving and verification
  std::string port;
  std::string host_header;  // "host:port", brackets kept for IPv6
};

StatusOr<Endpoint> ParseServerUrl(const std::string& server) {
  const std::string scheme = "https://";
  if (server.rfind(scheme, 0) != 0) {
    return BadRequest("server URL must start with https://, got \"" + server + "\"");
  }
  std::string rest = server.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    return BadRequest("server URL with a path is not supported: " + server);
  }
  Endpoint ep;
  ep.host_header = rest;
  std::string port_part;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return BadRequest("bad IPv6 address in " + server);
    ep.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return BadRequest("bad server URL " + server);
      port_part = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    ep.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_part = rest.substr(colon + 1);
  }
  if (ep.host.empty()) return BadRequest("server URL has no host: " + server);
  if (port_part.empty()) {
    port_part = "443";
  } else if (port_part.find_first_not_of("0123456789") != std::string::npos ||
             port_part.size() > 5) {
    return BadRequest("bad port in server URL " + server);
  }
  ep.port = port_part;
  return ep;
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

Status StatusFromError(const beast::error_code& ec, const std::string& what, int timeout_seconds) {
  if (ec == beast::error::timeout) {
    return Status(Code::kTimeout,
                  what + " timed out after " + std::to_string(timeout_seconds) + " s");
  }
  return Unavailable(what + ": " + ec.message());
}

// One TLS connection to the server.
class Connection {
 public:
  explicit Connection(ssl::context& ctx) : stream_(ioc_, ctx) {}

  Status Open(const Endpoint& ep, int timeout_seconds);

  // Runs one asynchronous operation (started by start(handler)) to completion
  // on this thread, under the deadline set on the stream.
  template <typename Start>
  beast::error_code Run(Start start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  void ExpiresAfter(int seconds) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(seconds));
  }
  void ExpiresNever() { beast::get_lowest_layer(stream_).expires_never(); }
  void Close() { beast::get_lowest_layer(stream_).close(); }

  // No byte and no end-of-stream waiting: the server has not closed an idle
  // connection behind our back.
  bool LooksAlive() {
    pollfd p{beast::get_lowest_layer(stream_).socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  asio::io_context& ioc() { return ioc_; }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }

  Clock::time_point idle_since;
  const Endpoint* endpoint = nullptr;  // where Open connected it

 private:
  asio::io_context ioc_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

Status Connection::Open(const Endpoint& ep, int timeout_seconds) {
  tcp::resolver resolver(ioc_);
  beast::error_code ec;
  auto results = resolver.resolve(ep.host, ep.port, ec);
  if (ec) return Unavailable("cannot resolve " + ep.host + ": " + ec.message());
  ExpiresAfter(timeout_seconds);
  ec = Run([&](auto handler) {
    beast::get_lowest_layer(stream_).async_connect(results, std::move(handler));
  });
  if (ec) return StatusFromError(ec, "connecting to " + ep.host_header, timeout_seconds);
  beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
  // SNI is for names only; IP addresses are checked against the IP SANs.
  if (!IsIpAddress(ep.host)) SSL_set_tlsext_host_name(stream_.native_handle(), ep.host.c_str());
  // A context made with insecure_skip_verify says so with its verify mode.
  if (SSL_CTX_get_verify_mode(SSL_get_SSL_CTX(stream_.native_handle())) != SSL_VERIFY_NONE) {
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification(ep.host));
  }
  ExpiresAfter(timeout_seconds);
  ec = Run(
      [&](auto handler) { stream_.async_handshake(ssl::stream_base::client, std::move(handler)); });
  if (ec) return StatusFromError(ec, "TLS handshake with " + ep.host_header, timeout_seconds);
  return Status::Ok();
}

using HttpRequest = http::request<http::string_body>;

bool IsIdempotent(http::verb verb) {
  return verb == http::verb::get || verb == http::verb::head || verb == http::verb::put ||
         verb == http::verb::delete_;
}

// Errors a read sees when the server closed the connection before answering.
bool IsClosedByPeer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

// One HTTP request/response on conn. *unprocessed tells whether the server
// certainly did not act on the request (safe to resend on a new connection).
StatusOr<Response> Exchange(Connection& conn, HttpRequest& req, int timeout_seconds,
                            bool* unprocessed, bool* keep_alive) {
  *unprocessed = false;
  conn.ExpiresAfter(timeout_seconds);
  beast::error_code ec =
      conn.Run([&](auto handler) { http::async_write(conn.stream(), req, std::move(handler)); });
  if (ec) {
    *unprocessed = true;
    return StatusFromError(ec, "sending the request", timeout_seconds);
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kNoBodyLimit);  // lists may be large; the server bounds them
  conn.ExpiresAfter(timeout_seconds);
  ec = conn.Run([&](auto handler) {
    http::async_read(conn.stream(), conn.buffer(), parser, std::move(handler));
  });
  if (ec) {
    *unprocessed = !parser.got_some() && IsClosedByPeer(ec);
    return StatusFromError(ec, "reading the response", timeout_seconds);
  }
  auto& res = parser.get();
  *keep_alive = res.keep_alive();
  Response out;
  out.code = res.result_int();
  auto ct = res.find(http::field::content_type);
  if (ct != res.end()) out.content_type = std::string(ct->value());
  out.body = std::move(res.body());
  return out;
}

// ---------------------------------------------------------------------------
// Watches: one connection and one thread each.

struct HttpWatchState {
  explicit HttpWatchState(std::shared_ptr<ssl::context> c) : ctx(std::move(c)), conn(*ctx) {}
  // Shared: a watch handle may outlive its client; declared before conn,
  // which uses it, so it is destroyed after.
  std::shared_ptr<ssl::context> ctx;
  Connection conn;
  http::response_parser<http::string_body> parser;
  LineSplitter splitter;
  WatchCallback on_event;
  WatchClosedCallback on_closed;
  std::atomic<bool> stopped{false};
  std::thread thread;
};

// Delivers the complete lines of the body bytes the parser holds. Returns the
// Status that ends the stream (ERROR event, garbage), if any.
std::optional<Status> DeliverLines(HttpWatchState& s) {
  std::string bytes;
  bytes.swap(s.parser.get().body());
  std::optional<Status> end;
  s.splitter.Feed(bytes, [&](std::string_view line) {
    if (s.stopped) return false;
    auto event = ParseWatchLine(line);
    if (!event.ok()) {
      end = event.status();
    } else if (event->type == "ERROR") {
      end = WatchErrorStatus(event->object);
    } else {
      s.on_event(std::move(*event));
    }
    return !end && !s.stopped;
  });
  return end;
}

void CloseWatch(HttpWatchState& s, const Status& status) {
  if (!s.stopped && s.on_closed) s.on_closed(status);
}

// The watch thread: reads the body as it comes and delivers it line by line.
void RunWatch(const std::shared_ptr<HttpWatchState>& s) {
  // The parser is checked before every read: reading a finished message is an error.
  beast::error_code ec;
  for (;;) {
    std::optional<Status> end = DeliverLines(*s);
    if (s->stopped) return;
    if (end) return CloseWatch(*s, *end);
    if (s->parser.is_done()) return CloseWatch(*s, Status::Ok());
    if (ec) return CloseWatch(*s, Unavailable("watch connection lost: " + ec.message()));
    ec = s->conn.Run([&](auto handler) {
      http::async_read_some(s->conn.stream(), s->conn.buffer(), s->parser, std::move(handler));
    });
    if (s->stopped) return;
  }
}

class HttpWatchHandle : public WatchHandle {
 public:
  explicit HttpWatchHandle(std::shared_ptr<HttpWatchState> state) : state_(std::move(state)) {}
  ~HttpWatchHandle() override {
    state_->stopped = true;
    if (std::this_thread::get_id() == state_->thread.get_id()) {
      // From inside a callback: the thread sees stopped when the callback
      // returns and exits; its own reference keeps the state alive till then.
      state_->thread.detach();
      return;
    }
    // Closing the socket on the watch thread's io_context wakes a pending read.
    HttpWatchState* raw = state_.get();
    asio::post(state_->conn.ioc(), [raw] { raw->conn.Close(); });
    state_->thread.join();
  }

 private:
  std::shared_ptr<HttpWatchState> state_;
};

// ---------------------------------------------------------------------------

class HttpClient : public Client {
 public:
  HttpClient(HttpClientOptions options, std::vector<Endpoint> endpoints,
             std::shared_ptr<ssl::context> ctx)
      : options_(std::move(options)), endpoints_(std::move(endpoints)), ctx_(std::move(ctx)) {}

  StatusOr<Response> Do(const Request& request) override {
    try {
      return DoWithRetry(request);
    } catch (const std::exception& e) {
      return Internal(std::string("HTTP request failed: ") + e.what());
    }
  }

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource& resource, const std::string& ns,
                                               const ListOptions& options, WatchCallback on_event,
                                               WatchClosedCallback on_closed) override {
    try {
      return OpenWatch(resource, ns, options, std::move(on_event), std::move(on_closed));
    } catch (const std::exception& e) {
      return Internal(std::string("opening the watch failed: ") + e.what());
    }
  }

 private:
  StatusOr<HttpRequest> BuildRequest(const Request& request) const;
  StatusOr<Response> DoWithRetry(const Request& request);
  StatusOr<std::unique_ptr<WatchHandle>> OpenWatch(const Resource& resource, const std::string& ns,
                                                   const ListOptions& options,
                                                   WatchCallback on_event,
                                                   WatchClosedCallback on_closed);
  std::unique_ptr<Connection> TakeIdle();
  void ReturnIdle(std::unique_ptr<Connection> conn);
  Status ConnectToAnyServer(const std::function<Status(const Endpoint&)>& open);

  HttpClientOptions options_;
  std::vector<Endpoint> endpoints_;  // every server given; at least one
  // The server that last answered a connect: tried first by the next one.
  std::atomic<size_t> preferred_{0};
  std::shared_ptr<ssl::context> ctx_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

StatusOr<HttpRequest> HttpClient::BuildRequest(const Request& request) const {
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return BadRequest("unknown HTTP method " + request.method);
  std::string target = request.path.empty() ? "/" : request.path;
  if (!request.query.empty()) target += "?" + request.query;
  HttpRequest req{verb, target, 11};
  req.set(http::field::user_agent, "kennel-client");
  req.set(http::field::accept, request.accept);
  if (!options_.token.empty()) req.set(http::field::authorization, "Bearer " + options_.token);
  if (!request.body.empty()) {
    req.set(http::field::content_type, request.content_type);
    req.body() = request.body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

std::unique_ptr<Connection> HttpClient::TakeIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (Clock::now() - conn->idle_since < kMaxIdleAge && conn->LooksAlive()) return conn;
  }
  return nullptr;
}

void HttpClient::ReturnIdle(std::unique_ptr<Connection> conn) {
  conn->idle_since = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
}

// Calls open(server) for the preferred server, then for each other one in
// turn, until one connects: a server that refuses or times out is skipped, so
// a client given several servers rides out the loss of all but one. Only
// connecting fails over: a request that reached a server is never resent
// elsewhere (it may have been acted on).
Status HttpClient::ConnectToAnyServer(const std::function<Status(const Endpoint&)>& open) {
  size_t first = preferred_.load();
  Status last;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    size_t index = (first + i) % endpoints_.size();
    last = open(endpoints_[index]);
    if (last.ok()) {
      if (index != first) {
        preferred_.store(index);
        spdlog::warn("API client: now using {}", endpoints_[index].host_header);
      }
      return last;
    }
    if (endpoints_.size() > 1) spdlog::warn("API client: {}", last.message());
  }
  return last;
}

StatusOr<Response> HttpClient::DoWithRetry(const Request& request) {
  ASSIGN_OR_RETURN(HttpRequest req, BuildRequest(request));
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = TakeIdle();
    bool reused = conn != nullptr;
    if (!conn) {
      RETURN_IF_ERROR(ConnectToAnyServer([&](const Endpoint& server) {
        // A failed attempt leaves its stream unusable: each server gets a fresh one.
        conn = std::make_unique<Connection>(*ctx_);
        conn->endpoint = &server;
        return conn->Open(server, options_.timeout_seconds);
      }));
    }
    req.set(http::field::host, conn->endpoint->host_header);
    bool unprocessed = false;
    bool keep_alive = false;
    StatusOr<Response> response =
        Exchange(*conn, req, options_.timeout_seconds, &unprocessed, &keep_alive);
    if (response.ok()) {
      if (keep_alive) ReturnIdle(std::move(conn));
      return response;
    }
    // A reused connection the server had already closed: the request never
    // reached it, so one more try on a fresh connection is safe, for verbs
    // whose repetition is harmless anyway.
    bool retry = attempt == 0 && reused && unprocessed && IsIdempotent(req.method());
    if (!retry) return response.status();
  }
}

StatusOr<std::unique_ptr<WatchHandle>> HttpClient::OpenWatch(const Resource& resource,
                                                             const std::string& ns,
                                                             const ListOptions& options,
                                                             WatchCallback on_event,
                                                             WatchClosedCallback on_closed) {
  Request request;
  request.path = ResourcePath(resource, ns);
  request.query = WatchQuery(options);
  request.accept = AcceptFor(options, /*list=*/false);
  ASSIGN_OR_RETURN(HttpRequest req, BuildRequest(request));
  std::shared_ptr<HttpWatchState> s;
  int timeout = options_.timeout_seconds;
  RETURN_IF_ERROR(ConnectToAnyServer([&](const Endpoint& server) {
    s = std::make_shared<HttpWatchState>(ctx_);
    req.set(http::field::host, server.host_header);
    return s->conn.Open(server, timeout);
  }));
  s->conn.ExpiresAfter(timeout);
  beast::error_code ec = s->conn.Run(
      [&](auto handler) { http::async_write(s->conn.stream(), req, std::move(handler)); });
  if (ec) return StatusFromError(ec, "sending the watch request", timeout);
  s->parser.body_limit(kNoBodyLimit);  // a watch streams for as long as it lasts
  s->conn.ExpiresAfter(timeout);
  ec = s->conn.Run([&](auto handler) {
    http::async_read_header(s->conn.stream(), s->conn.buffer(), s->parser, std::move(handler));
  });
  if (ec) return StatusFromError(ec, "reading the watch response", timeout);
  int code = s->parser.get().result_int();
  if (code != 200) {
    // The error body is small and complete: read it to report the Status.
    s->conn.ExpiresAfter(timeout);
    ec = s->conn.Run([&](auto handler) {
      http::async_read(s->conn.stream(), s->conn.buffer(), s->parser, std::move(handler));
    });
    Response response{code, "", std::move(s->parser.get().body())};
    Status status = StatusFromResponse(response);
    return status.ok() ? Internal("watch answered HTTP " + std::to_string(code)) : status;
  }
  // Events may be minutes apart: no deadline while streaming.
  s->conn.ExpiresNever();
  s->on_event = std::move(on_event);
  s->on_closed = std::move(on_closed);
  s->thread = std::thread([s] { RunWatch(s); });
  return std::unique_ptr<WatchHandle>(std::make_unique<HttpWatchHandle>(s));
}

StatusOr<std::shared_ptr<ssl::context>> MakeSslContext(const HttpClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (options.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  ctx->set_verify_mode(ssl::verify_peer);
  if (!options.ca_data.empty()) {
    ctx->add_certificate_authority(asio::buffer(options.ca_data), ec);
    if (ec) return BadRequest("cannot load the CA certificate: " + ec.message());
  } else if (!options.ca_file.empty()) {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) return BadRequest("cannot load the CA file " + options.ca_file + ": " + ec.message());
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) return Internal("cannot load the system CA certificates: " + ec.message());
  }
  return ctx;
}

// ---------------------------------------------------------------------------
// Kubeconfig: exactly the shape `kennel server` writes (apiserver/pki.cc).

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string Unquote(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

// The keys kennel writes. Anything else (client certificates, exec plugins,
// insecure-skip-tls-verify, ...) is refused rather than silently ignored.
const std::set<std::string>& KnownKubeconfigKeys() {
  static const std::set<std::string> keys = {"apiVersion",
                                             "kind",
                                             "clusters",
                                             "name",
                                             "cluster",
                                             "server",
                                             "users",
                                             "user",
                                             "token",
                                             "contexts",
                                             "context",
                                             "namespace",
                                             "preferences",
                                             "current-context",
                                             "certificate-authority",
                                             "certificate-authority-data"};
  return keys;
}

// The values that matter, each of which may appear once (one cluster, one user).
const std::set<std::string>& SingleValueKeys() {
  static const std::set<std::string> keys = {"server", "token", "certificate-authority",
                                             "certificate-authority-data"};
  return keys;
}

StatusOr<std::map<std::string, std::string>> ReadKubeconfigValues(const std::string& text,
                                                                  const std::string& path) {
  std::map<std::string, std::string> values;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(std::string_view(text).substr(start, nl - start));
    start = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("- ", 0) == 0) line = Trim(line.substr(2));
    size_t colon = line.find(':');
    std::string where = path + ":" + std::to_string(line_no);
    if (colon == std::string::npos) return BadRequest(where + ": expected \"key: value\"");
    std::string key = line.substr(0, colon);
    std::string value = Unquote(Trim(line.substr(colon + 1)));
    if (KnownKubeconfigKeys().count(key) == 0) {
      return BadRequest(where + ": unsupported kubeconfig field \"" + key +
                        "\" (only the kubeconfig `kennel server` writes is understood)");
    }
    if (SingleValueKeys().count(key) == 0) continue;
    if (values.count(key) != 0) {
      return BadRequest(where + ": \"" + key +
                        "\" appears twice; kubeconfigs with several clusters or users are not "
                        "supported");
    }
    values[key] = value;
  }
  return values;
}

}  // namespace

StatusOr<std::unique_ptr<Client>> NewHttpClient(const HttpClientOptions& options) {
  try {
    std::vector<Endpoint> endpoints;
    for (const std::string& url : SplitCommaList(options.server)) {
      ASSIGN_OR_RETURN(Endpoint endpoint, ParseServerUrl(url));
      endpoints.push_back(std::move(endpoint));
    }
    if (endpoints.empty()) return BadRequest("no server URL given");
    if (options.timeout_seconds <= 0) return BadRequest("timeout_seconds must be positive");
    ASSIGN_OR_RETURN(auto ctx, MakeSslContext(options));
    return std::unique_ptr<Client>(
        std::make_unique<HttpClient>(options, std::move(endpoints), std::move(ctx)));
  } catch (const std::exception& e) {
    return Internal(std::string("cannot set up the HTTPS client: ") + e.what());
  }
}

StatusOr<HttpClientOptions> HttpOptionsFromKubeconfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(auto values, ReadKubeconfigValues(text, path));
  HttpClientOptions options;
  options.server = values["server"];
  if (options.server.empty()) return BadRequest(path + ": no cluster server");
  options.token = values["token"];
  const std::string& ca_data = values["certificate-authority-data"];
  const std::string& ca_file = values["certificate-authority"];
  if (!ca_data.empty()) {
    ASSIGN_OR_RETURN(options.ca_data, Base64Decode(ca_data));
  } else if (!ca_file.empty()) {
    // As kubectl does: a relative path is relative to the kubeconfig itself.
    std::filesystem::path p(ca_file);
    if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
    options.ca_file = p.string();
  }
  return options;
}

}  // namespace kennel::client
