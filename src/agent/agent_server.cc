#include "agent/agent_server.h"

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <ctime>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/runtime.h"
#include "apiserver/pki.h"
#include "apiserver/request_info.h"
#include "base/file.h"
#include "base/time.h"

namespace kennel::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using nlohmann::json;
using Request = http::request<http::string_body>;

constexpr auto kFollowPoll = std::chrono::milliseconds(100);

using apiserver::QueryFlag;
using apiserver::QueryValue;

int64_t QueryInt(const apiserver::Query& q, const std::string& key, int64_t fallback) {
  std::string v = QueryValue(q, key);
  if (v.empty()) return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  return end != nullptr && *end == '\0' ? n : fallback;
}

std::vector<std::string> QueryAll(const apiserver::Query& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::vector<std::string>() : it->second;
}

// Splits "/containerLogs/ns/pod/c" into its three names.
bool SplitTarget(const std::string& path, const std::string& prefix, std::string* ns,
                 std::string* pod, std::string* container) {
  if (path.rfind(prefix, 0) != 0) return false;
  std::vector<std::string> parts;
  std::stringstream in(path.substr(prefix.size()));
  std::string part;
  while (std::getline(in, part, '/')) parts.push_back(part);
  if (parts.size() != 3) return false;
  *ns = parts[0];
  *pod = parts[1];
  *container = parts[2];
  return true;
}

// Reads a file from offset; returns what is new.
std::string ReadFrom(const std::string& path, int64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(offset);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Follows CRI records as they are appended: keeps partial input across reads.
struct CriFollower {
  std::string carry;
  bool timestamps = false;
  int64_t since_ns = 0;
  std::string Feed(const std::string& data) {
    carry += data;
    size_t last_nl = carry.rfind('\n');
    if (last_nl == std::string::npos) return "";
    std::string complete = carry.substr(0, last_nl + 1);
    carry.erase(0, last_nl + 1);
    return RenderCriLog(complete, timestamps, since_ns, -1);
  }
};

json ExitStatus(int code, const std::vector<std::string>& argv) {
  if (code == 0) return {{"metadata", json::object()}, {"status", "Success"}};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return {
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", "command terminated with non-zero exit code: error executing command [" + cmd +
                      "], exit code " + std::to_string(code)},
      {"reason", "NonZeroExitCode"},
      {"details",
       {{"causes", json::array({{{"reason", "ExitCode"}, {"message", std::to_string(code)}}})}}}};
}

json ErrorStatus(const std::string& message) {
  return {{"metadata", json::object()},
          {"status", "Failure"},
          {"message", message},
          {"reason", "InternalError"},
          {"code", 500}};
}

class AgentServerImpl : public AgentServer {
 public:
  AgentServerImpl(AgentServerOptions options, ContainerLocator locate)
      : options_(std::move(options)),
        locate_(std::move(locate)),
        ssl_ctx_(ssl::context::tls_server),
        acceptor_(ioc_) {}

  ~AgentServerImpl() override { Stop(); }

  Status Init() {
    std::vector<std::string> sans = {"127.0.0.1", "localhost"};
    if (!options_.host_ip.empty()) sans.push_back(options_.host_ip);
    ASSIGN_OR_RETURN(auto cert,
                     apiserver::LoadOrCreateSelfSigned(options_.pki_dir, "kennel-agent", sans));
    beast::error_code ec;
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
    ssl_ctx_.use_certificate_chain(asio::buffer(cert.cert_pem), ec);
    if (!ec) ssl_ctx_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem, ec);
    if (ec) return Internal("agent: cannot load its serving certificate: " + ec.message());
    auto address = asio::ip::make_address(options_.listen_host, ec);
    if (ec) return BadRequest("agent: bad listen address " + options_.listen_host);
    tcp::endpoint ep(address, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("agent: cannot listen on " + options_.listen_host + ":" +
                         std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (!thread_.joinable()) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      ioc_.stop();
    });
    thread_.join();
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor_.is_open()) co_return;
        continue;
      }
      asio::co_spawn(ioc_, Session(Stream(beast::tcp_stream(std::move(socket)), ssl_ctx_)),
                     asio::detached);
    }
  }

  asio::awaitable<void> Session(Stream stream) {
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::flat_buffer buffer;
    Request req;
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::get_lowest_layer(stream).expires_never();
    std::string auth(req[http::field::authorization]);
    if (options_.token.empty() || auth != "Bearer " + options_.token) {
      co_await Reply(stream, http::status::unauthorized, "Unauthorized\n");
      co_return;
    }
    std::string target(req.target());
    size_t q = target.find('?');
    std::string path = target.substr(0, q);
    apiserver::Query query =
        apiserver::ParseQuery(q == std::string::npos ? "" : target.substr(q + 1));
    std::string ns, pod, container;
    if (path == "/healthz") {
      co_await Reply(stream, http::status::ok, "ok");
    } else if (SplitTarget(path, "/containerLogs/", &ns, &pod, &container)) {
      co_await ServeLogs(stream, ns, pod, container, query);
    } else if (SplitTarget(path, "/exec/", &ns, &pod, &container)) {
      co_await ServeExec(stream, std::move(buffer), req, ns, pod, container, query);
      co_return;  // the WebSocket closed the connection
    } else {
      co_await Reply(stream, http::status::not_found, "not found\n");
    }
    stream.next_layer().expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> Reply(Stream& stream, http::status status, std::string body) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    beast::error_code ec;
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> ServeLogs(Stream& stream, std::string ns, std::string pod,
                                  std::string container, apiserver::Query query) {
    const bool previous = QueryFlag(query, "previous");
    auto files = locate_(ns, pod, container, previous);
    if (!files.ok()) {
      co_await Reply(stream,
                     files.status().code() == Code::kNotFound ? http::status::not_found
                                                              : http::status::bad_request,
                     files.status().message() + "\n");
      co_return;
    }
    const bool follow = QueryFlag(query, "follow") && !previous;
    const bool timestamps = QueryFlag(query, "timestamps");
    const int64_t tail = QueryInt(query, "tailLines", -1);
    int64_t limit = QueryInt(query, "limitBytes", -1);
    int64_t since_ns = 0;
    if (int64_t since = QueryInt(query, "sinceSeconds", 0); since > 0) {
      since_ns = (static_cast<int64_t>(std::time(nullptr)) - since) * 1'000'000'000;
    }
    std::string since_time = QueryValue(query, "sinceTime");
    if (!since_time.empty()) since_ns = ParseRfc3339(since_time);

    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto send = [&](std::string data) -> asio::awaitable<bool> {
      if (limit >= 0) {
        if (limit == 0) co_return false;
        if (static_cast<int64_t>(data.size()) > limit) data.resize(limit);
        limit -= static_cast<int64_t>(data.size());
      }
      if (data.empty()) co_return true;
      beast::error_code wec;
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(data)),
                                 asio::redirect_error(asio::use_awaitable, wec));
      co_return !wec && limit != 0;
    };

    const std::string& log = files->log_path;
    std::string all = ReadFrom(log + ".1", 0) + ReadFrom(log, 0);
    int64_t offset = FileSize(log) < 0 ? 0 : FileSize(log);
    ino_t inode = Inode(log);
    CriFollower follower;
    follower.timestamps = timestamps;
    follower.since_ns = since_ns;
    // What is there now, tail applied; a trailing partial record waits.
    size_t last_nl = all.rfind('\n');
    std::string complete = last_nl == std::string::npos ? "" : all.substr(0, last_nl + 1);
    follower.carry = last_nl == std::string::npos ? all : all.substr(last_nl + 1);
    bool open = co_await send(RenderCriLog(complete, timestamps, since_ns, tail));
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (open && follow) {
      if (Inode(log) != inode && Inode(log) != 0) {
        // Rotated: the rest of the old file is LOG.1 now; then the new file.
        open = co_await send(follower.Feed(ReadFrom(log + ".1", offset)));
        inode = Inode(log);
        offset = 0;
      }
      std::string more = ReadFrom(log, offset);
      offset += static_cast<int64_t>(more.size());
      if (!more.empty()) {
        open = co_await send(follower.Feed(more));
        continue;
      }
      if (!files->state_dir.empty() &&
          InspectContainer(files->state_dir).state == ContainerStatus::State::kExited) {
        // The shim drains the pipes before it records the exit: all is written.
        if (ReadFrom(log, offset).empty()) break;
        continue;
      }
      timer.expires_after(kFollowPoll);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> ServeExec(Stream& stream, beast::flat_buffer buffer, Request req,
                                  std::string ns, std::string pod, std::string container,
                                  apiserver::Query query);

  AgentServerOptions options_;
  ContainerLocator locate_;
  // Before ioc_: sessions still pending when ioc_ is destroyed own streams
  // that use the context.
  ssl::context ssl_ctx_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// One exec session over a WebSocket: frames in, process I/O out.
class ExecSession : public std::enable_shared_from_this<ExecSession> {
 public:
  using Ws = websocket::stream<Stream&>;

  ExecSession(Stream& stream, asio::any_io_executor ex, bool v5)
      : ws_(stream), ex_(ex), wake_(ex), v5_(v5) {}

  Ws& ws() { return ws_; }

  // Queues a frame for the single writer.
  void Send(uint8_t channel, std::string data) {
    std::string frame(1, static_cast<char>(channel));
    frame += data;
    out_.push_back(std::move(frame));
    wake_.cancel();
  }

  // The one writer of the WebSocket: frames in order until Finish().
  asio::awaitable<void> Writer() {
    auto self = shared_from_this();
    beast::error_code ec;
    ws_.binary(true);
    while (!ec) {
      while (!out_.empty() && !ec) {
        std::string frame = std::move(out_.front());
        out_.pop_front();
        co_await ws_.async_write(asio::buffer(frame),
                                 asio::redirect_error(asio::use_awaitable, ec));
      }
      if (finishing_ || ec) break;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      ec = {};  // the wake-up is a cancellation
    }
    // The client reads until the server closes the WebSocket properly; a bare
    // TCP close is an "abnormal closure" error to kubectl.
    if (!ec) {
      co_await ws_.async_close(websocket::close_code::normal,
                               asio::redirect_error(asio::use_awaitable, ec));
    }
    writer_done_ = true;
  }

  // Reads the client's frames: stdin, resize, close-stdin.
  asio::awaitable<void> Reader(int stdin_fd, int tty_fd) {
    auto self = shared_from_this();
    beast::flat_buffer buf;
    beast::error_code ec;
    for (;;) {
      co_await ws_.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string msg = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (msg.empty()) continue;
      uint8_t channel = static_cast<uint8_t>(msg[0]);
      std::string payload = msg.substr(1);
      if (channel == 0 && stdin_fd >= 0) {
        for (size_t off = 0; off < payload.size();) {
          ssize_t n = ::write(stdin_fd, payload.data() + off, payload.size() - off);
          if (n <= 0) break;
          off += static_cast<size_t>(n);
        }
      } else if (channel == 4 && tty_fd >= 0) {
        json size = json::parse(payload, nullptr, false);
        if (size.is_object()) {
          winsize ws{};
          ws.ws_col = static_cast<unsigned short>(size.value("Width", 80));
          ws.ws_row = static_cast<unsigned short>(size.value("Height", 24));
          ::ioctl(tty_fd, TIOCSWINSZ, &ws);
        }
      } else if (channel == 255 && v5_ && !payload.empty() && payload[0] == 0) {
        // v5: the client closed its stdin.
        if (stdin_fd >= 0 && stdin_fd != tty_fd) ::close(stdin_fd);
        stdin_fd = -1;
      }
    }
    reader_done_ = true;
  }

  void Finish() {
    finishing_ = true;
    wake_.cancel();
  }

  bool writer_done() const { return writer_done_; }
  bool reader_done() const { return reader_done_; }

 private:
  Ws ws_;
  asio::any_io_executor ex_;
  asio::steady_timer wake_;
  std::deque<std::string> out_;
  bool v5_;
  bool finishing_ = false;
  bool writer_done_ = false;
  bool reader_done_ = false;
};

// Waits (polling: a rare, short wait) until cond holds or timeout passes.
asio::awaitable<void> WaitUntil(std::function<bool()> cond, std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  beast::error_code ec;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Pumps one readable fd into a channel until EOF.
asio::awaitable<void> Pump(std::shared_ptr<ExecSession> session, int fd, uint8_t channel) {
  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor in(ex, ::dup(fd));
  char buf[16384];
  beast::error_code ec;
  for (;;) {
    size_t n = co_await in.async_read_some(asio::buffer(buf),
                                           asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0) session->Send(channel, std::string(buf, n));
    if (ec) break;
  }
}

asio::awaitable<void> AgentServerImpl::ServeExec(Stream& stream, beast::flat_buffer buffer,
                                                 Request req, std::string ns, std::string pod,
                                                 std::string container, apiserver::Query query) {
  (void)buffer;
  auto files = locate_(ns, pod, container, false);
  if (!files.ok() || !files->running) {
    co_await Reply(stream, http::status::bad_request,
                   files.ok() ? "container " + container + " is not running\n"
                              : files.status().message() + "\n");
    co_return;
  }
  if (!websocket::is_upgrade(req)) {
    co_await Reply(stream, http::status::bad_request,
                   "exec needs a WebSocket upgrade (v5.channel.k8s.io)\n");
    co_return;
  }
  std::string offered(req[http::field::sec_websocket_protocol]);
  std::string protocol;
  for (const char* p : {"v5.channel.k8s.io", "v4.channel.k8s.io"}) {
    if (offered.find(p) != std::string::npos) {
      protocol = p;
      break;
    }
  }
  if (protocol.empty()) {
    co_await Reply(stream, http::status::bad_request,
                   "no supported subprotocol: offer v5.channel.k8s.io or v4.channel.k8s.io\n");
    co_return;
  }
  std::vector<std::string> argv = QueryAll(query, "command");
  const bool tty = QueryFlag(query, "tty");
  const bool want_stdin = QueryFlag(query, "stdin");

  auto ex = co_await asio::this_coro::executor;
  auto session = std::make_shared<ExecSession>(stream, ex, protocol[1] == '5');
  session->ws().set_option(
      websocket::stream_base::decorator([protocol](websocket::response_type& res) {
        res.set(http::field::sec_websocket_protocol, protocol);
      }));
  beast::error_code ec;
  co_await session->ws().async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;

  // The process's stdio: a pty for tty, else pipes.
  int in_parent = -1, in_child = -1, out_parent = -1, out_child = -1, err_parent = -1,
      err_child = -1, tty_master = -1;
  if (tty) {
    int master = -1, slave = -1;
    // The terminal comes from the container's own devpts (its /dev/ptmx), so
    // that inside it the terminal has a name (`tty` prints /dev/pts/0).
    ContainerStatus running = InspectContainer(files->state_dir);
    std::string ptmx = "/proc/" + std::to_string(running.pid) + "/root/dev/ptmx";
    master = ::open(ptmx.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master >= 0 && ::ioctl(master, TIOCSPTLCK, &unlock) == 0) {
      slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    }
    if (slave < 0) {
      if (master >= 0) ::close(master);
      master = -1;
    }
    if (master < 0 && ::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
      session->Send(3, ErrorStatus("cannot allocate a terminal").dump());
      session->Finish();
      co_await session->Writer();
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
      co_return;
    }
    tty_master = master;
    in_parent = master;
    out_parent = master;
    in_child = out_child = err_child = slave;
  } else {
    int p[2];
    if (want_stdin && ::pipe2(p, O_CLOEXEC) == 0) {
      in_child = p[0];
      in_parent = p[1];
    }
    if (::pipe2(p, O_CLOEXEC) == 0) {
      out_parent = p[0];
      out_child = p[1];
    }
    if (::pipe2(p, O_CLOEXEC) == 0) {
      err_parent = p[0];
      err_child = p[1];
    }
  }
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  if (tty) env.push_back("TERM=xterm");
  auto pid = ExecInContainer(files->state_dir, argv, env, in_child, out_child, err_child);
  // The child has its copies; ours would keep the pipes (and the pty) open.
  if (tty) {
    ::close(in_child);
  } else {
    for (int fd : {in_child, out_child, err_child}) {
      if (fd >= 0) ::close(fd);
    }
  }
  auto close_parent_fds = [&] {
    for (int fd : {in_parent, out_parent, err_parent}) {
      if (fd >= 0 && fd != tty_master) ::close(fd);
    }
    if (tty_master >= 0) ::close(tty_master);
  };
  asio::co_spawn(ex, session->Writer(), asio::detached);
  if (!pid.ok()) {
    session->Send(3, ErrorStatus(pid.status().message()).dump());
    session->Finish();
    close_parent_fds();
  } else {
    asio::co_spawn(ex, session->Reader(in_parent, tty_master), asio::detached);
    // Output pumps; the process's exit is awaited on a pidfd (no thread, no poll).
    auto pumps_left = std::make_shared<int>(0);
    auto start_pump = [&](int fd, uint8_t channel) {
      ++*pumps_left;
      asio::co_spawn(ex, Pump(session, fd, channel),
                     [pumps_left](std::exception_ptr) { --*pumps_left; });
    };
    if (out_parent >= 0) start_pump(out_parent, 1);
    if (err_parent >= 0) start_pump(err_parent, 2);
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
    if (pidfd >= 0) {
      asio::posix::stream_descriptor waiter(ex, pidfd);
      co_await waiter.async_wait(asio::posix::stream_descriptor::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    int status = 0;
    ::waitpid(*pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // Output still in the pipes goes out before the status (a pty's master
    // reads EIO once the last holder of the slave is gone: its pump ends).
    co_await WaitUntil([pumps_left] { return *pumps_left == 0; }, std::chrono::seconds(2));
    close_parent_fds();
    session->Send(3, ExitStatus(code, argv).dump());
    session->Finish();
  }
  co_await WaitUntil([session] { return session->writer_done(); }, std::chrono::seconds(5));
  // kubectl closes the WebSocket once it has the status; then the socket goes.
  co_await WaitUntil([session] { return session->reader_done(); }, std::chrono::seconds(5));
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().close(ignored);
  co_await WaitUntil([session] { return session->reader_done() && session->writer_done(); },
                     std::chrono::seconds(5));
}

}  // namespace

std::string RenderCriLog(const std::string& cri, bool timestamps, int64_t since_ns,
                         int64_t tail_lines) {
  std::vector<std::string> lines;
  std::string pending;  // partial records joined until their F
  std::string pending_ts;
  std::istringstream in(cri);
  std::string record;
  while (std::getline(in, record)) {
    size_t a = record.find(' ');
    size_t b = a == std::string::npos ? a : record.find(' ', a + 1);
    size_t c = b == std::string::npos ? b : record.find(' ', b + 1);
    if (c == std::string::npos) continue;
    std::string ts = record.substr(0, a);
    bool partial = record.compare(b + 1, 1, "P") == 0;
    if (pending.empty()) pending_ts = ts;
    pending += record.substr(c + 1);
    if (partial) continue;
    if (since_ns == 0 || ParseRfc3339(pending_ts) >= since_ns) {
      lines.push_back((timestamps ? pending_ts + " " : std::string()) + pending + "\n");
    }
    pending.clear();
  }
  size_t first = 0;
  if (tail_lines >= 0 && static_cast<int64_t>(lines.size()) > tail_lines) {
    first = lines.size() - static_cast<size_t>(tail_lines);
  }
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += lines[i];
  return out;
}

StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(AgentServerOptions options,
                                                          ContainerLocator locate) {
  auto server = std::make_unique<AgentServerImpl>(std::move(options), std::move(locate));
  RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<AgentServer>(std::move(server));
}

}  // namespace kennel::agent
