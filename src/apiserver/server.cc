#include "apiserver/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "apiserver/cluster_identity.h"
#include "apiserver/errors.h"
#include "apiserver/handler.h"
#include "apiserver/metrics.h"
#include "apiserver/node_proxy.h"
#include "apiserver/pki.h"
#include "apiserver/service_ips.h"
#include "base/file.h"
#include "base/thread.h"
#include "store/embedded.h"
#include "store/etcd.h"

namespace kennel::apiserver {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;

constexpr auto kIdleTimeout = std::chrono::seconds(300);
constexpr auto kBookmarkInterval = std::chrono::seconds(60);
constexpr int kDefaultWatchTimeoutSeconds = 1800;

// I/O threads when not configured: one per core but one, since the store's
// writer and acknowledgement threads need a core too. Measured on 2 cores
// (docs/benchmarks.md): one I/O thread serves 12 % more creates than two and
// halves watch delivery latency, which two threads spent switching contexts.
// On etcd, though, a read (get, list, an update's read) waits on the I/O
// thread for a round trip to etcd, so more threads keep the others going;
// but every thread more costs creates context switches. Measured over gRPC
// (1 / 4 / 16 threads): creates/s 2,562 / 2,530 / 1,732, gets/s 1,985 /
// 3,669 / 4,507, updates/s 766 / 1,164 / 1,301: four is the balance.
int DefaultThreads(bool on_etcd) {
  if (on_etcd) return 4;
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

bool IsPublicPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version";
}

std::string HeaderValue(const http::request<http::string_body>& req, http::field f) {
  auto it = req.find(f);
  return it == req.end() ? "" : std::string(it->value());
}

// Constant-time comparison: the token check must not leak how many bytes matched.
bool TokenMatches(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < got.size(); ++i) diff |= got[i] ^ want[i];
  return diff == 0;
}

// What a watch connection's coroutine waits on: lines rendered by the
// store's dispatch thread, and a timer that thread cancels (through the
// executor) to wake the coroutine.
//
// Lines are rendered where the events arrive, not on the I/O thread: a fan-out
// then runs on two cores at once (the dispatch thread renders watcher k+1
// while the I/O thread sends watcher k), and the queue holds the line shared
// by every watcher instead of a copy of each event's objects per watcher.
struct WatchQueue {
  explicit WatchQueue(asio::any_io_executor ex) : timer(ex) {}
  std::mutex mu;
  // Renders events; null until OpenWatch has returned it, and again from just
  // before it is destroyed. Used under mu only, which also keeps its Render
  // and BookmarkLine calls one at a time.
  WatchStream* stream = nullptr;
  std::vector<store::Event> early;  // events that came while stream was null
  std::vector<WatchLine> lines;     // rendered, in order, not yet sent
  bool wake_posted = false;
  asio::steady_timer timer;

  // Under mu.
  void RenderLocked(const store::Event& event) {
    if (WatchLine line = stream->Render(event)) lines.push_back(std::move(line));
  }
};

class ServerImpl : public Server {
 public:
  ServerImpl(ServerOptions options, std::unique_ptr<store::Store> store, Credentials creds,
             std::unique_ptr<Metrics> metrics)
      : options_(std::move(options)),
        metrics_(std::move(metrics)),
        store_(std::move(store)),
        creds_(std::move(creds)),
        ssl_ctx_(ssl::context::tls_server),
        // With several I/O threads the acceptor needs a strand of its own:
        // Accept() runs on it and Stop() closes the acceptor through it.
        // Otherwise the close can run on one thread while the aborted accept
        // resumes Accept() on another, which starts async_accept on the
        // acceptor being closed: asio then reads its freed reactor state
        // (SIGSEGV at 0xa3 in reactive_socket_service_base::start_op).
        acceptor_(asio::make_strand(ioc_)) {}

  ~ServerImpl() override {
    Stop();
    Wait();
    // Writes submitted before the stop may still be in flight; their
    // callbacks post to ioc_, so the store goes first, while ioc_ (stopped)
    // still exists: its destructor completes or fails every pending write
    // (on etcd they finish in any order, so no write can serve as a barrier).
    // Watch handles the handler still holds may outlive the store.
    store_.reset();
  }

  Status Init();

  uint16_t port() const override { return port_; }
  std::string url() const override { return url_; }
  std::string kubeconfig_path() const override { return options_.data_dir + "/kubeconfig"; }
  Handler* handler() override { return handler_.get(); }
  const std::string& admin_token() const override { return creds_.admin_token; }
  asio::any_io_executor executor() override { return ioc_.get_executor(); }

  void Stop() override {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      ioc_.stop();
    });
  }

  void Wait() override {
    std::lock_guard<std::mutex> lock(wait_mu_);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(Stream stream);
  asio::awaitable<bool> Serve(Stream& stream, http::request<http::string_body>& req);
  asio::awaitable<void> ServeWatch(Stream& stream, const http::request<http::string_body>& req,
                                   ApiRequest api_req);
  asio::awaitable<void> Respond(Stream& stream, const http::request<http::string_body>& req,
                                const ApiResponse& r, bool keep_alive);

  ServerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Handler> handler_;
  Credentials creds_;
  // The TLS contexts come before ioc_: coroutines still pending when ioc_ is
  // destroyed own streams that use them.
  ssl::context ssl_ctx_;
  // For proxying to agents: their self-signed certificates are not checked
  // (the admin token authenticates us to them), as kube-apiserver's default.
  ssl::context agent_tls_{ssl::context::tls_client};
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::string url_;
  int thread_count_ = 1;
  std::vector<std::thread> threads_;
  std::mutex wait_mu_;
};

Status ServerImpl::Init() {
  ASSIGN_OR_RETURN(auto hp, ParseHostPort(options_.listen));
  beast::error_code ec;
  auto address = asio::ip::make_address(hp.first, ec);
  if (ec) return BadRequest("invalid listen address " + hp.first + ": " + ec.message());
  tcp::endpoint ep(address, hp.second);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + options_.listen + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  std::string host = hp.first;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  std::string host_in_url = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url_ = "https://" + host_in_url + ":" + std::to_string(port_);

  ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ssl_ctx_.use_certificate_chain(asio::buffer(creds_.server_cert_pem), ec);
  if (!ec) ssl_ctx_.use_private_key(asio::buffer(creds_.server_key_pem), ssl::context::pem, ec);
  if (ec) return Internal("cannot load the serving certificate: " + ec.message());

  HandlerOptions hopts;
  hopts.server_address = host_in_url + ":" + std::to_string(port_);
  hopts.service_cidr = options_.service_cidr;
  handler_ = std::make_unique<Handler>(store_.get(), hopts);
  RETURN_IF_ERROR(handler_->Bootstrap());
  handler_->StartBackground(ioc_.get_executor());
  RETURN_IF_ERROR(WriteFileAtomically(kubeconfig_path(), AdminKubeconfig(url_, creds_), 0600));

  thread_count_ =
      options_.threads > 0 ? options_.threads : DefaultThreads(!options_.etcd_endpoints.empty());
  asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached);
  for (int i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] {
      NameThisThread("api-io");
      ioc_.run();
    });
  }
  return Status::Ok();
}

asio::awaitable<void> ServerImpl::Accept() {
  for (;;) {
    beast::error_code ec;
    // With one I/O thread every handler is already serialized: a strand per
    // connection would only add a queue hop.
    asio::any_io_executor conn_executor = thread_count_ > 1
                                              ? asio::any_io_executor(asio::make_strand(ioc_))
                                              : asio::any_io_executor(ioc_.get_executor());
    tcp::socket socket = co_await acceptor_.async_accept(
        conn_executor, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(Stream(beast::tcp_stream(std::move(socket)), ssl_ctx_)),
                   asio::detached);
  }
}

asio::awaitable<void> ServerImpl::Session(Stream stream) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    // One byte over the limit lets the handler answer 413 with a Status.
    parser.body_limit(3 * 1024 * 1024 + 1);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit) {
      http::request<http::string_body> req;
      ApiResponse r = ErrorResponse(
          Status(Code::kRequestEntityTooLarge, "Request entity too large: limit is 3145728"));
      co_await Respond(stream, req, r, /*keep_alive=*/false);
      break;
    }
    if (ec) break;
    http::request<http::string_body> req = parser.release();
    bool keep = co_await Serve(stream, req);
    if (!keep) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> ServerImpl::Respond(Stream& stream,
                                          const http::request<http::string_body>& req,
                                          const ApiResponse& r, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.code), 11};
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-cache, private");
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive && req.keep_alive());
  res.body() = r.body;
  res.prepare_payload();
  beast::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<bool> ServerImpl::Serve(Stream& stream, http::request<http::string_body>& req) {
  auto start = Clock::now();
  std::string target(req.target());
  size_t q = target.find('?');
  ApiRequest api_req;
  api_req.method = std::string(req.method_string());
  api_req.path = target.substr(0, q);
  api_req.query = ParseQuery(q == std::string::npos ? "" : target.substr(q + 1));
  api_req.content_type = HeaderValue(req, http::field::content_type);
  api_req.accept = HeaderValue(req, http::field::accept);
  api_req.body = std::move(req.body());

  // Labels are taken now: api_req is moved into the handler below.
  RequestInfo ri = ParseRequestInfo(api_req.method, api_req.path, api_req.query);
  std::string verb = ri.verb.empty() ? api_req.method : ri.verb;
  std::string resource = ri.resource + (ri.subresource.empty() ? "" : "/" + ri.subresource);
  auto observe = [&](int code) {
    metrics_->ObserveRequest(verb, resource, code,
                             std::chrono::duration<double>(Clock::now() - start).count());
  };

  if (!IsPublicPath(api_req.path)) {
    std::string auth = HeaderValue(req, http::field::authorization);
    const std::string bearer = "Bearer ";
    if (auth.rfind(bearer, 0) != 0 ||
        !TokenMatches(auth.substr(bearer.size()), creds_.admin_token)) {
      ApiResponse r = ErrorResponse(Status(Code::kUnauthorized, "Unauthorized"));
      co_await Respond(stream, req, r, true);
      observe(r.code);
      co_return true;
    }
  }
  if (api_req.path == "/healthz" || api_req.path == "/livez" || api_req.path == "/readyz") {
    ApiResponse r{200, "text/plain; charset=utf-8", "ok", {}};
    co_await Respond(stream, req, r, true);
    co_return true;
  }
  if (api_req.path == "/metrics") {
    ApiResponse r{200, "text/plain; version=0.0.4", metrics_->Render(), {}};
    co_await Respond(stream, req, r, true);
    co_return true;
  }
  if (IsNodeProxied(ri)) {
    std::string raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    Query query = api_req.query;
    auto node = co_await ResolveNodeTarget(handler_.get(), ri, query, raw_query);
    if (!node.ok()) {
      ApiResponse r = ErrorResponse(node.status());
      observe(r.code);
      co_await Respond(stream, req, r, true);
      co_return true;
    }
    NodeTarget node_target = *node;
    std::string token = creds_.admin_token;
    co_await ProxyToNode(stream, req, node_target, token, &agent_tls_);
    observe(200);
    co_return false;
  }
  if (Handler::IsWatch(api_req)) {
    co_await ServeWatch(stream, req, std::move(api_req));
    co_return false;
  }
  ApiResponse r = co_await handler_->Handle(std::move(api_req));
  observe(r.code);
  co_await Respond(stream, req, r, true);
  co_return true;
}

asio::awaitable<void> ServerImpl::ServeWatch(Stream& stream,
                                             const http::request<http::string_body>& req,
                                             ApiRequest api_req) {
  auto ex = co_await asio::this_coro::executor;
  auto queue = std::make_shared<WatchQueue>(ex);
  // Runs on the store's dispatch thread: render the events and wake the
  // coroutine.
  auto sink = [queue](const std::vector<store::Event>& events) {
    std::lock_guard<std::mutex> lock(queue->mu);
    if (queue->stream == nullptr) {
      queue->early.insert(queue->early.end(), events.begin(), events.end());
      return;
    }
    const size_t before = queue->lines.size();
    for (const store::Event& e : events) queue->RenderLocked(e);
    if (queue->lines.size() == before) return;  // nothing this watch shows
    if (!queue->wake_posted) {
      queue->wake_posted = true;
      asio::post(queue->timer.get_executor(), [queue] { queue->timer.cancel(); });
    }
  };
  std::string content_type;
  auto opened = handler_->OpenWatch(api_req, sink, &content_type);
  if (!opened.ok()) {
    co_await Respond(stream, req, ErrorResponse(opened.status()), false);
    co_return;
  }
  std::unique_ptr<WatchStream> watch = std::move(opened).value();
  {
    std::lock_guard<std::mutex> lock(queue->mu);
    queue->stream = watch.get();
    for (const store::Event& e : queue->early) queue->RenderLocked(e);
    queue->early.clear();
  }
  // Declared after `watch`, so it runs first on every way out: the sink must
  // not render with a stream that is being destroyed.
  struct Detach {
    WatchQueue* q;
    ~Detach() {
      std::lock_guard<std::mutex> lock(q->mu);
      q->stream = nullptr;
    }
  } detach{queue.get()};
  metrics_->WatchOpened();
  struct Closer {
    Metrics* m;
    ~Closer() { m->WatchClosed(); }
  } closer{metrics_.get()};

  int timeout_s = kDefaultWatchTimeoutSeconds;
  std::string ts = QueryValue(api_req.query, "timeoutSeconds");
  if (!ts.empty()) timeout_s = std::max(1, std::atoi(ts.c_str()));
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);

  beast::get_lowest_layer(stream).expires_never();
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache, private");
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  beast::error_code ec;
  co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;

  auto send = [&](const std::string& data) -> asio::awaitable<bool> {
    if (data.empty()) co_return true;
    beast::error_code wec;
    co_await asio::async_write(stream, http::make_chunk(asio::buffer(data)),
                               asio::redirect_error(asio::use_awaitable, wec));
    co_return !wec;
  };
  // Several lines, one chunk: the lines stay shared, nothing is copied here.
  auto send_lines = [&](const std::vector<WatchLine>& lines) -> asio::awaitable<bool> {
    if (lines.empty()) co_return true;
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(lines.size());
    for (const WatchLine& line : lines) buffers.push_back(asio::buffer(*line));
    beast::error_code wec;
    co_await asio::async_write(stream, http::make_chunk(buffers),
                               asio::redirect_error(asio::use_awaitable, wec));
    co_return !wec;
  };
  std::string initial;
  {
    std::lock_guard<std::mutex> lock(queue->mu);
    for (auto& line : watch->TakeInitialLines()) initial += line;
  }
  if (!co_await send(initial)) co_return;

  auto next_bookmark = Clock::now() + kBookmarkInterval;
  std::vector<WatchLine> lines;
  for (;;) {
    auto now = Clock::now();
    const bool bookmark_due = now >= next_bookmark;
    std::string bookmark;
    {
      std::lock_guard<std::mutex> lock(queue->mu);
      lines.swap(queue->lines);
      queue->wake_posted = false;
      // Taken with the lines: it names the newest revision rendered, so it
      // must go after every line rendered so far and before any later one.
      if (bookmark_due) bookmark = watch->BookmarkLine();
    }
    if (!co_await send_lines(lines)) co_return;
    lines.clear();
    if (bookmark_due) {
      if (!co_await send(bookmark)) co_return;
      next_bookmark = now + kBookmarkInterval;
    }
    if (now >= deadline) break;
    {
      std::lock_guard<std::mutex> lock(queue->mu);
      if (!queue->lines.empty()) continue;
    }
    queue->timer.expires_at(std::min(deadline, next_bookmark));
    co_await queue->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_await asio::async_write(stream, http::make_chunk_last(),
                             asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

StatusOr<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return BadRequest("listen address must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port = listen.substr(colon + 1);
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535) {
    return BadRequest("listen address must be HOST:PORT, got " + listen);
  }
  return std::make_pair(host, static_cast<uint16_t>(std::stoi(port)));
}

static StatusOr<std::unique_ptr<store::Store>> OpenStore(const ServerOptions& options) {
  if (!options.etcd_endpoints.empty()) {
    store::EtcdOptions etcd;
    etcd.endpoints = options.etcd_endpoints;
    etcd.key_prefix = options.etcd_prefix;
    etcd.ca_file = options.etcd_ca_file;
    etcd.cert_file = options.etcd_cert_file;
    etcd.key_file = options.etcd_key_file;
    return store::OpenEtcd(etcd);
  }
  store::EmbeddedOptions embedded;
  embedded.path = options.data_dir + "/store/kennel.db";
  return store::OpenEmbedded(embedded);
}

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir + "/store", ec);
  if (ec) return Internal("cannot create " + options.data_dir + ": " + ec.message());
  ASSIGN_OR_RETURN(auto hp, ParseHostPort(options.listen));
  // In-cluster clients reach the server at the kubernetes Service's address.
  ASSIGN_OR_RETURN(ServiceCidr service_cidr, ServiceCidr::Parse(options.service_cidr));
  ASSIGN_OR_RETURN(auto store, OpenStore(options));
  const std::vector<std::string> sans = {hp.first, service_cidr.FirstHost()};
  ASSIGN_OR_RETURN(auto creds, options.token.empty()
                                   ? LoadOrCreateCredentials(options.data_dir + "/pki", sans)
                                   : LoadOrCreateSharedCredentials(
                                         *store, options.token, options.data_dir + "/pki", sans));
  auto metrics = std::make_unique<Metrics>();
  auto metered = MeteredStore(std::move(store), metrics.get());
  auto server = std::make_unique<ServerImpl>(options, std::move(metered), std::move(creds),
                                             std::move(metrics));
  RETURN_IF_ERROR(server->Init());
  spdlog::info("kennel API server listening on {} (data in {})", server->url(), options.data_dir);
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace kennel::apiserver
