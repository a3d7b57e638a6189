// The DNS server on real sockets (127.0.0.1, ephemeral ports), fed by
// informers over the in-process client on a real Handler and embedded store.
#include "dns/server.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/io_context.hpp>
// clang-format on
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "apiserver/handler.h"
#include "client/test_cluster.h"
#include "dns/message.h"
#include "store/embedded.h"

namespace kennel::dns {
namespace {

namespace asio = boost::asio;
using client::json;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using Clock = std::chrono::steady_clock;

// --- Plain sockets for the client side ----------------------------------------

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool WaitReadable(int fd, milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// One datagram to port and the reply, if one comes within timeout.
std::optional<std::vector<uint8_t>> UdpExchange(uint16_t port, const std::vector<uint8_t>& packet,
                                                milliseconds timeout = milliseconds(3000)) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in to = Loopback(port);
  if (::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
    return std::nullopt;
  }
  if (!WaitReadable(fd.get(), timeout)) return std::nullopt;
  std::vector<uint8_t> buf(65536);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(n);
  return buf;
}

bool ReadFull(int fd, uint8_t* p, size_t n, milliseconds timeout) {
  while (n > 0) {
    if (!WaitReadable(fd, timeout)) return false;
    ssize_t got = ::recv(fd, p, n, 0);
    if (got <= 0) return false;
    p += got;
    n -= got;
  }
  return true;
}

Fd TcpConnect(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in to = Loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  return fd;
}

void TcpSend(int fd, const std::vector<std::vector<uint8_t>>& packets) {
  std::vector<uint8_t> out;
  for (const auto& p : packets) {
    out.push_back(static_cast<uint8_t>(p.size() >> 8));
    out.push_back(static_cast<uint8_t>(p.size()));
    out.insert(out.end(), p.begin(), p.end());
  }
  ASSERT_EQ(::send(fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
}

std::optional<std::vector<uint8_t>> TcpReceive(int fd, milliseconds timeout = milliseconds(3000)) {
  uint8_t len[2];
  if (!ReadFull(fd, len, 2, timeout)) return std::nullopt;
  std::vector<uint8_t> buf(len[0] << 8 | len[1]);
  if (!ReadFull(fd, buf.data(), buf.size(), timeout)) return std::nullopt;
  return buf;
}

std::vector<uint8_t> Query(const std::string& name, uint16_t type = kTypeA, uint16_t id = 1,
                           int edns = -1) {
  return BuildQuery(name, {.id = id, .qtype = type, .edns_udp_size = edns}).value();
}

Message Decode(const std::optional<std::vector<uint8_t>>& packet) {
  EXPECT_TRUE(packet.has_value());
  if (!packet) return Message();
  auto m = DecodeMessage(*packet);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Message();
}

std::vector<std::string> Answers(const Message& m) {
  std::vector<std::string> out;
  for (const Record& r : m.answer) out.push_back(r.ToString());
  return out;
}

// A loopback port nothing listens on (UDP and TCP): bound, noted, closed.
uint16_t ClosedPort() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in a = Loopback(0);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A tiny upstream resolver on 127.0.0.1: answers every A question with
// 192.0.2.1, or (silent) never answers, or (truncating) answers UDP with TC
// and serves the full answer over TCP on the same port.
class FakeUpstream {
 public:
  enum class Mode { kAnswer, kSilent, kTruncateUdp };
  explicit FakeUpstream(Mode mode) : mode_(mode) {
    // The port the kernel picks for UDP may be taken for TCP (another
    // test's connection): try again with another.
    bool bound = false;
    for (int attempt = 0; attempt < 20 && !bound; ++attempt) bound = BindUdpAndTcp();
    EXPECT_TRUE(bound) << "no loopback port free for both UDP and TCP in 20 tries";
    ::listen(tcp_.get(), 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  bool BindUdpAndTcp() {
    udp_ = Fd(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in a = Loopback(0);
    if (::bind(udp_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return false;
    socklen_t len = sizeof(a);
    ::getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    tcp_ = Fd(::socket(AF_INET, SOCK_STREAM, 0));
    a = Loopback(port_);
    int one = 1;
    ::setsockopt(tcp_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    return ::bind(tcp_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }

  size_t Answer(const std::vector<uint8_t>& query, bool truncate, std::vector<uint8_t>* out) {
    dns::Query q;
    if (ParseQuery(query, &q) != ParseResult::kOk) return 0;
    out->resize(4096);
    Writer w(*out, out->size());
    WriteResponseStart(q, kFlagRa | (truncate ? kFlagTc : 0), kNoError, &w);
    if (truncate) return w.size();
    w.U16(0xC00C);
    w.U16(kTypeA);
    w.U16(kClassIN);
    w.U32(60);
    w.U16(4);
    const uint8_t ip[4] = {192, 0, 2, 1};
    w.Bytes(ip, 4);
    SetCounts(&w, 1, 0, 0);
    return w.size();
  }

  void Serve() {
    std::vector<uint8_t> buf(65536), out;
    while (!stop_) {
      pollfd fds[2] = {{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        ++udp_queries_;
        if (mode_ == Mode::kSilent) continue;
        size_t m = Answer(std::vector<uint8_t>(buf.begin(), buf.begin() + n),
                          mode_ == Mode::kTruncateUdp, &out);
        ::sendto(udp_.get(), out.data(), m, 0, reinterpret_cast<sockaddr*>(&from), len);
      }
      if (fds[1].revents & POLLIN) {
        Fd conn(::accept(tcp_.get(), nullptr, nullptr));
        auto query = TcpReceive(conn.get());
        if (!query) continue;
        ++tcp_queries_;
        size_t m = Answer(*query, false, &out);
        uint8_t len[2] = {static_cast<uint8_t>(m >> 8), static_cast<uint8_t>(m)};
        ::send(conn.get(), len, 2, MSG_NOSIGNAL);
        ::send(conn.get(), out.data(), m, MSG_NOSIGNAL);
      }
    }
  }

  Mode mode_;
  Fd udp_, tcp_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0}, tcp_queries_{0};
  std::thread thread_;
};

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    client_ = cluster_.client();
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
  }

  void StartServer(DnsOptions options = {}) {
    if (options.listen.empty()) options.listen = {"127.0.0.1:0"};
    options.resolv_conf = "";
    auto started = DnsServer::Start(client_, options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    ASSERT_EQ(server_->listen_addresses().size(), 1u);
    std::string address = server_->listen_addresses()[0];
    port_ = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }

  void Create(const client::Resource& r, const json& object) {
    auto created = client_->Create(r, "default", object);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void CreateClusterIpService(const std::string& name, const std::string& ip) {
    Create(client::kServices,
           {{"apiVersion", "v1"},
            {"kind", "Service"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"clusterIP", ip},
              {"ports", {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}}}});
  }

  void CreateHeadless(const std::string& name, int endpoints) {
    Create(client::kServices, {{"apiVersion", "v1"},
                               {"kind", "Service"},
                               {"metadata", {{"name", name}}},
                               {"spec", {{"clusterIP", "None"}}}});
    json addresses = json::array();
    for (int i = 0; i < endpoints; ++i) {
      addresses.push_back(
          {{"ip", "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)}});
    }
    Create(client::kEndpoints, {{"apiVersion", "v1"},
                                {"kind", "Endpoints"},
                                {"metadata", {{"name", name}}},
                                {"subsets", {{{"addresses", addresses}}}}});
  }

  // Asks over UDP until pred holds on the answer strings; the time it took.
  std::optional<Clock::duration> TimeUntil(
      const std::string& name, const std::function<bool(const std::vector<std::string>&)>& pred,
      milliseconds timeout = milliseconds(5000)) {
    auto start = Clock::now();
    while (Clock::now() - start < timeout) {
      auto reply = UdpExchange(port_, Query(name));
      if (reply) {
        auto m = DecodeMessage(*reply);
        if (m.ok() && pred(Answers(*m))) return Clock::now() - start;
      }
    }
    return std::nullopt;
  }

  client::TestCluster cluster_;
  client::Client* client_ = nullptr;
  std::unique_ptr<DnsServer> server_;
  uint16_t port_ = 0;
};

TEST_F(DnsServerTest, AnswersServicesOverUdp) {
  CreateClusterIpService("api", "10.96.0.50");
  StartServer();
  // The first view is built before Start returns.
  Message m = Decode(UdpExchange(port_, Query("api.default.svc.cluster.local", kTypeA, 77)));
  EXPECT_EQ(m.id, 77);
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_THAT(Answers(m), ElementsAre("api.default.svc.cluster.local. 5 IN A 10.96.0.50"));
  m = Decode(UdpExchange(port_, Query("nope.default.svc.cluster.local")));
  EXPECT_EQ(m.rcode, kNxDomain);
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].type, kTypeSOA);
  // ns.dns.<zone> is this server.
  m = Decode(UdpExchange(port_, Query("ns.dns.cluster.local")));
  EXPECT_THAT(Answers(m), ElementsAre("ns.dns.cluster.local. 5 IN A 127.0.0.1"));
}

TEST_F(DnsServerTest, ChangesAreAnswerableWithin100Ms) {
  StartServer();
  for (int i = 0; i < 3; ++i) {
    std::string name = "svc" + std::to_string(i);
    std::string ip = "10.96.1." + std::to_string(i + 1);
    CreateClusterIpService(name, ip);  // acknowledged here
    auto took = TimeUntil(name + ".default.svc.cluster.local",
                          [](const auto& answers) { return !answers.empty(); });
    ASSERT_TRUE(took.has_value()) << name << " never appeared";
    EXPECT_LT(*took, milliseconds(100));
  }
  // An update and a delete too.
  CreateHeadless("pets", 1);
  ASSERT_TRUE(
      TimeUntil("pets.default.svc.cluster.local", [](const auto& a) { return a.size() == 1; }));
  json patch = {{"subsets", {{{"addresses", {{{"ip", "10.1.0.1"}}, {{"ip", "10.1.0.2"}}}}}}}};
  ASSERT_TRUE(
      client_->Patch(client::kEndpoints, "default", "pets", client::PatchType::kMerge, patch).ok());
  auto took =
      TimeUntil("pets.default.svc.cluster.local", [](const auto& a) { return a.size() == 2; });
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, milliseconds(100));
  ASSERT_TRUE(client_->Delete(client::kServices, "default", "svc0").ok());
  took = TimeUntil("svc0.default.svc.cluster.local", [](const auto& a) { return a.empty(); });
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, milliseconds(100));
}

TEST_F(DnsServerTest, TruncatesOverUdpAndAnswersInFullOverTcp) {
  CreateHeadless("big", 100);  // 100 A records: 1,600 bytes of answers
  StartServer();
  Message m = Decode(UdpExchange(port_, Query("big.default.svc.cluster.local")));
  EXPECT_TRUE(m.has_flag(kFlagTc));
  EXPECT_TRUE(m.answer.empty());
  m = Decode(UdpExchange(port_, Query("big.default.svc.cluster.local", kTypeA, 2, 4096)));
  EXPECT_FALSE(m.has_flag(kFlagTc));
  EXPECT_EQ(m.answer.size(), 100u);

  // Several queries on one connection, sent back to back.
  Fd conn = TcpConnect(port_);
  TcpSend(conn.get(), {Query("big.default.svc.cluster.local", kTypeA, 11),
                       Query("nope.default.svc.cluster.local", kTypeA, 12),
                       Query("cluster.local", kTypeSOA, 13)});
  std::map<uint16_t, Message> replies;
  for (int i = 0; i < 3; ++i) {
    Message r = Decode(TcpReceive(conn.get()));
    replies[r.id] = r;
  }
  EXPECT_EQ(replies[11].answer.size(), 100u);
  EXPECT_FALSE(replies[11].has_flag(kFlagTc));
  EXPECT_EQ(replies[12].rcode, kNxDomain);
  EXPECT_EQ(replies[13].answer.size(), 1u);
  // And more later on the same connection.
  TcpSend(conn.get(), {Query("dns-version.cluster.local", kTypeTXT, 14)});
  EXPECT_THAT(Answers(Decode(TcpReceive(conn.get()))),
              ElementsAre("dns-version.cluster.local. 5 IN TXT \"1.1.0\""));
}

TEST_F(DnsServerTest, GarbageGetsFormErrOrNothing) {
  StartServer();
  std::vector<uint8_t> garbage = {0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x3F, 0x01, 0x02};
  Message m = Decode(UdpExchange(port_, garbage));
  EXPECT_EQ(m.id, 0xABCD);
  EXPECT_EQ(m.rcode, kFormErr);
  // Too short for a header, and a response: no answer.
  EXPECT_FALSE(UdpExchange(port_, {1, 2, 3}, milliseconds(200)).has_value());
  auto response = Query("cluster.local");
  response[2] |= 0x80;
  EXPECT_FALSE(UdpExchange(port_, response, milliseconds(200)).has_value());
  // Over TCP too, and the connection keeps serving.
  Fd conn = TcpConnect(port_);
  TcpSend(conn.get(), {garbage, Query("cluster.local", kTypeNS, 5)});
  EXPECT_EQ(Decode(TcpReceive(conn.get())).rcode, kFormErr);
  EXPECT_EQ(Decode(TcpReceive(conn.get())).id, 5);
  // The server still answers.
  EXPECT_EQ(Decode(UdpExchange(port_, Query("cluster.local", kTypeSOA))).answer.size(), 1u);
}

TEST_F(DnsServerTest, OutOfZoneWithoutUpstreamIsServfailAtOnce) {
  StartServer();
  EXPECT_TRUE(server_->upstreams().empty());
  auto start = Clock::now();
  Message m = Decode(UdpExchange(port_, Query("example.com")));
  EXPECT_EQ(m.rcode, kServFail);
  EXPECT_LT(Clock::now() - start, milliseconds(500));
}

TEST_F(DnsServerTest, RefusingUpstreamGivesServfailFast) {
  DnsOptions options;
  options.upstreams = {"127.0.0.1:" + std::to_string(ClosedPort())};
  StartServer(options);
  for (auto transport : {0, 1}) {
    auto start = Clock::now();
    Message m;
    if (transport == 0) {
      m = Decode(UdpExchange(port_, Query("example.com", kTypeA, 9)));
    } else {
      Fd conn = TcpConnect(port_);
      TcpSend(conn.get(), {Query("example.com", kTypeA, 9)});
      m = Decode(TcpReceive(conn.get()));
    }
    EXPECT_EQ(m.id, 9);
    EXPECT_EQ(m.rcode, kServFail);
    EXPECT_TRUE(m.has_flag(kFlagRa));
    // ICMP port unreachable ends it well before the 2 s budget.
    EXPECT_LT(Clock::now() - start, milliseconds(1000));
  }
}

TEST_F(DnsServerTest, SilentUpstreamTimesOutWithoutBlockingOtherQueries) {
  FakeUpstream upstream(FakeUpstream::Mode::kSilent);
  DnsOptions options;
  options.upstreams = {"127.0.0.1:" + std::to_string(upstream.port())};
  options.forward_timeout = milliseconds(600);
  StartServer(options);
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in to = Loopback(port_);
  auto query = Query("example.com", kTypeA, 21);
  auto start = Clock::now();
  ::sendto(fd.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  // Meanwhile in-zone names answer at once.
  auto in_zone_start = Clock::now();
  EXPECT_EQ(Decode(UdpExchange(port_, Query("cluster.local", kTypeSOA))).answer.size(), 1u);
  EXPECT_LT(Clock::now() - in_zone_start, milliseconds(200));
  ASSERT_TRUE(WaitReadable(fd.get(), milliseconds(3000)));
  std::vector<uint8_t> buf(512);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  ASSERT_GT(n, 0);
  buf.resize(n);
  auto elapsed = Clock::now() - start;
  Message m = Decode(buf);
  EXPECT_EQ(m.id, 21);
  EXPECT_EQ(m.rcode, kServFail);
  EXPECT_GE(elapsed, milliseconds(550));
  EXPECT_LT(elapsed, milliseconds(1500));
  EXPECT_GE(upstream.udp_queries(), 2);  // asked again before giving up
}

TEST_F(DnsServerTest, ForwardsToTheUpstream) {
  FakeUpstream upstream(FakeUpstream::Mode::kAnswer);
  DnsOptions options;
  options.upstreams = {"127.0.0.1:" + std::to_string(upstream.port())};
  StartServer(options);
  ASSERT_THAT(server_->upstreams(), ElementsAre("127.0.0.1:" + std::to_string(upstream.port())));
  Message m = Decode(UdpExchange(port_, Query("Example.COM", kTypeA, 0x4242)));
  EXPECT_EQ(m.id, 0x4242);
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_TRUE(m.has_flag(kFlagRa));
  EXPECT_THAT(Answers(m), ElementsAre("Example.COM. 60 IN A 192.0.2.1"));
  // In-zone answers now say recursion is available.
  EXPECT_TRUE(Decode(UdpExchange(port_, Query("cluster.local", kTypeSOA))).has_flag(kFlagRa));
}

TEST_F(DnsServerTest, TcpClientsGetTruncatedUpstreamAnswersInFull) {
  FakeUpstream upstream(FakeUpstream::Mode::kTruncateUdp);
  DnsOptions options;
  options.upstreams = {"127.0.0.1:" + std::to_string(upstream.port())};
  StartServer(options);
  // A UDP client gets the truncated answer as is, and would retry over TCP.
  Message m = Decode(UdpExchange(port_, Query("example.com", kTypeA, 1)));
  EXPECT_TRUE(m.has_flag(kFlagTc));
  Fd conn = TcpConnect(port_);
  TcpSend(conn.get(), {Query("example.com", kTypeA, 2)});
  m = Decode(TcpReceive(conn.get()));
  EXPECT_EQ(m.id, 2);
  EXPECT_FALSE(m.has_flag(kFlagTc));
  EXPECT_THAT(Answers(m), ElementsAre("example.com. 60 IN A 192.0.2.1"));
  EXPECT_EQ(upstream.tcp_queries(), 1);
}

TEST_F(DnsServerTest, ServesOnSeveralListenersAndThreads) {
  DnsOptions options;
  options.threads = 2;
  CreateClusterIpService("api", "10.96.0.50");
  StartServer(options);
  auto second = server_->AddListener("127.0.0.1:0");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  uint16_t port2 = static_cast<uint16_t>(std::stoi(second->substr(second->rfind(':') + 1)));
  EXPECT_NE(port2, port_);
  EXPECT_EQ(server_->listen_addresses().size(), 2u);
  for (int i = 0; i < 20; ++i) {
    for (uint16_t port : {port_, port2}) {
      Message m = Decode(UdpExchange(port, Query("api.default.svc.cluster.local")));
      EXPECT_EQ(m.answer.size(), 1u);
    }
  }
  // A port another socket holds (without SO_REUSEPORT) is refused cleanly.
  Fd taken(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in a = Loopback(0);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&a), &len);
  auto refused = server_->AddListener("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_FALSE(server_->AddListener("not-an-ip:53").ok());
  EXPECT_EQ(server_->listen_addresses().size(), 2u);
}

TEST_F(DnsServerTest, BadOptionsAreRefused) {
  DnsOptions options;
  options.listen = {"127.0.0.1"};
  EXPECT_FALSE(DnsServer::Start(client_, options).ok());
  options.listen = {"127.0.0.1:0"};
  options.cluster_domain = "a..b";
  EXPECT_FALSE(DnsServer::Start(client_, options).ok());
  options.cluster_domain = "cluster.local";
  options.upstreams = {"nope"};
  EXPECT_FALSE(DnsServer::Start(client_, options).ok());
}

TEST(DnsNameserversFromResolvConf, ReadsNameserverLines) {
  EXPECT_THAT(NameserversFromResolvConf("# comment\nsearch a.b\nnameserver 10.0.0.2\n"
                                        "nameserver fd00::53 # v6\noptions ndots:5\n"
                                        "nameserver\n"),
              ElementsAre("10.0.0.2", "fd00::53"));
}

}  // namespace
}  // namespace kennel::dns
