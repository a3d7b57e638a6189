#include "store/testing/etcd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace kennel::store::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kStartAttempts = 3;  // a "free" port may be taken before etcd binds it
constexpr auto kPoll = std::chrono::milliseconds(20);

// A port that was free a moment ago (etcd cannot report the port it bound).
StatusOr<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) return Internal("no free port");
  return port;
}

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

struct Reply {
  unsigned status = 0;
  std::string body;
};

asio::awaitable<void> Exchange(int port, http::request<http::string_body>& req,
                               std::optional<Reply>& reply, beast::error_code& ec) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(5));
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await stream.async_connect(
      tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port)), token);
  if (ec) co_return;
  co_await http::async_write(stream, req, token);
  if (ec) co_return;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, token);
  if (ec) co_return;
  reply = Reply{res.result_int(), std::move(res.body())};
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

StatusOr<Reply> HttpCall(int port, http::verb verb, const std::string& path,
                         const std::string& body) {
  try {
    http::request<http::string_body> req{verb, path, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    asio::io_context ioc;
    std::optional<Reply> reply;
    beast::error_code ec;
    asio::co_spawn(ioc, Exchange(port, req, reply, ec), asio::detached);
    ioc.run();
    if (!reply) {
      return Unavailable("etcd at 127.0.0.1:" + std::to_string(port) + path + ": " +
                         (ec ? ec.message() : "no answer"));
    }
    return std::move(*reply);
  } catch (const std::exception& e) {
    return Unavailable(std::string("etcd HTTP: ") + e.what());
  }
}

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options, std::string base_dir)
    : options_(std::move(options)), base_dir_(std::move(base_dir)) {
  if (options_.binary.empty()) {
    const char* env = ::getenv("KENNEL_ETCD");
    options_.binary = env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
  }
  // Unique per cluster, so members of two clusters never join each other.
  cluster_token_ = "kennel-" + std::filesystem::path(base_dir_).filename().string();
}

StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(const EtcdClusterOptions& options) {
  if (options.members < 1) return BadRequest("etcd cluster needs at least one member");
  const char* tmp = ::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/kennel-etcd-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Internal("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(options, tmpl));
  if (options.tls) RETURN_IF_ERROR(cluster->MakeCertificates());
  Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    last = cluster->StartAll();
    if (last.ok()) return cluster;
    cluster->KillAll();
  }
  return last;
}

EtcdCluster::~EtcdCluster() {
  KillAll();
  std::error_code ignored;
  std::filesystem::remove_all(base_dir_, ignored);
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (const Member& m : members_) urls.push_back(m.client_url);
  return urls;
}

Status EtcdCluster::StartAll() {
  // Fresh ports and data directories for every attempt.
  std::error_code ec;
  for (const Member& m : members_) std::filesystem::remove_all(m.data_dir, ec);
  members_.clear();
  for (int i = 0; i < options_.members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.data_dir = base_dir_ + "/" + m.name;
    m.log_file = base_dir_ + "/" + m.name + ".log";
    ASSIGN_OR_RETURN(m.client_port, FreePort());
    ASSIGN_OR_RETURN(m.peer_port, FreePort());
    ASSIGN_OR_RETURN(m.metrics_port, FreePort());
    m.client_url =
        (options_.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(m.client_port);
    members_.push_back(std::move(m));
  }
  for (int i = 0; i < size(); ++i) RETURN_IF_ERROR(Spawn(i));
  return WaitAllHealthy(options_.start_timeout);
}

std::vector<std::string> EtcdCluster::Args(int member) const {
  const Member& m = members_[member];
  std::string initial_cluster;
  for (const Member& peer : members_) {
    if (!initial_cluster.empty()) initial_cluster += ",";
    initial_cluster += peer.name + "=http://127.0.0.1:" + std::to_string(peer.peer_port);
  }
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> args = {
      options_.binary, "--name", m.name, "--data-dir", m.data_dir, "--listen-client-urls",
      m.client_url, "--advertise-client-urls", m.client_url, "--listen-peer-urls", peer_url,
      "--initial-advertise-peer-urls", peer_url, "--initial-cluster", initial_cluster,
      "--initial-cluster-state", "new", "--initial-cluster-token", cluster_token_,
      "--heartbeat-interval", std::to_string(options_.heartbeat_ms), "--election-timeout",
      std::to_string(options_.election_timeout_ms),
      // Room for every test and benchmark; etcd's default is 2 GiB.
      "--quota-backend-bytes", std::to_string(8LL << 30), "--logger", "zap", "--log-level", "error",
      "--listen-metrics-urls", "http://127.0.0.1:" + std::to_string(m.metrics_port)};
  if (options_.tls) {
    args.insert(args.end(), {"--cert-file", base_dir_ + "/pki/server.crt",  //
                             "--key-file", base_dir_ + "/pki/server.key",   //
                             "--trusted-ca-file", ca_file(),                //
                             "--client-cert-auth"});
  }
  return args;
}

// A CA, a serving certificate for 127.0.0.1 and a client certificate, all
// short-lived, with the openssl command (Debian's ca-certificates needs it).
Status EtcdCluster::MakeCertificates() {
  const std::string dir = base_dir_ + "/pki";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("mkdir " + dir + ": " + ec.message());
  {
    std::ofstream ext(dir + "/ext.cnf");
    ext << "[server]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "extendedKeyUsage=serverAuth,clientAuth\n"
           "[client]\nextendedKeyUsage=clientAuth\n";
  }
  const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::vector<std::string> commands = {
      "openssl req -x509" + key + " -days 2 -subj /CN=kennel-test-ca -keyout ca.key -out ca.crt",
      "openssl req" + key + " -subj /CN=127.0.0.1 -keyout server.key -out server.csr",
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
      " -extfile ext.cnf -extensions server -out server.crt",
      "openssl req" + key + " -subj /CN=kennel-test-client -keyout client.key -out client.csr",
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
      " -extfile ext.cnf -extensions client -out client.crt",
  };
  for (const std::string& command : commands) {
    const std::string line = "cd '" + dir + "' && " + command + " >>openssl.log 2>&1";
    if (std::system(line.c_str()) != 0) {
      std::ifstream log(dir + "/openssl.log");
      std::stringstream text;
      text << log.rdbuf();
      return Internal("certificate generation failed: " + command + "\n" + text.str());
    }
  }
  return Status::Ok();
}

Status EtcdCluster::Spawn(int member) {
  Member& m = members_[member];
  std::vector<std::string> args = Args(member);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log = ::open(m.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return Internal("open " + m.log_file + ": " + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  m.pid = pid;
  return Status::Ok();
}

bool EtcdCluster::Exited(int member) {
  Member& m = members_[member];
  if (m.pid == 0) return true;
  int status = 0;
  if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
    m.pid = 0;
    return true;
  }
  return false;
}

void EtcdCluster::Kill(int member) {
  Member& m = members_[member];
  if (m.pid == 0) return;
  ::kill(m.pid, SIGKILL);
  ::waitpid(m.pid, nullptr, 0);
  m.pid = 0;
}

void EtcdCluster::KillAll() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

Status EtcdCluster::Restart(int member) {
  Kill(member);
  RETURN_IF_ERROR(Spawn(member));
  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (Exited(member)) {
      return Unavailable("etcd member " + std::to_string(member) + " exited:\n" + LogTail(member));
    }
    if (PortAccepts(members_[member].client_port)) return Status::Ok();
    std::this_thread::sleep_for(kPoll);
  }
  return Unavailable("etcd member " + std::to_string(member) + " did not listen in time:\n" +
                     LogTail(member));
}

Status EtcdCluster::WaitHealthy(int member, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last = "not asked yet";
  while (Clock::now() < deadline) {
    if (Exited(member)) {
      return Unavailable("etcd member " + std::to_string(member) + " exited:\n" + LogTail(member));
    }
    StatusOr<Reply> r = HttpCall(members_[member].metrics_port, http::verb::get, "/health", "");
    if (r.ok() && r->status == 200 && r->body.find("\"true\"") != std::string::npos) {
      return Status::Ok();
    }
    last = r.ok() ? r->body : r.status().message();
    std::this_thread::sleep_for(kPoll);
  }
  return Unavailable("etcd member " + std::to_string(member) + " not healthy after " +
                     std::to_string(timeout.count()) + " ms (" + last + "):\n" + LogTail(member));
}

Status EtcdCluster::WaitAllHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int i = 0; i < size(); ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    RETURN_IF_ERROR(WaitHealthy(i, std::max(left, std::chrono::milliseconds(1))));
  }
  return Status::Ok();
}

StatusOr<std::string> EtcdCluster::Get(int member, const std::string& path) {
  ASSIGN_OR_RETURN(Reply r, HttpCall(members_[member].metrics_port, http::verb::get, path, ""));
  return std::move(r.body);
}

StatusOr<std::string> EtcdCluster::Post(int member, const std::string& path,
                                        const std::string& body) {
  if (options_.tls) return BadRequest("EtcdCluster::Post speaks plain HTTP only");
  ASSIGN_OR_RETURN(Reply r, HttpCall(members_[member].client_port, http::verb::post, path, body));
  return std::move(r.body);
}

std::string EtcdCluster::LogTail(int member) const {
  std::ifstream in(members_[member].log_file, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  constexpr size_t kTail = 3000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace kennel::store::testing
