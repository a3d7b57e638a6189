#include "dns/server.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <ifaddrs.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "base/file.h"
#include "client/informer.h"
#include "dns/message.h"
#include "dns/view.h"

namespace kennel::dns {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using client::json;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr int kUdpBatch = 64;  // datagrams per wake-up, so listeners take turns
// Datagrams per recvmmsg/sendmmsg: under load a query's cost is otherwise
// mostly its two system calls (NSD batches the same way).
constexpr int kMmsgSlots = 32;
// A UDP slot: large enough for any query and for responses up to the EDNS
// sizes clients advertise in practice; a larger answer is truncated (TC).
constexpr size_t kUdpSlotSize = 4096;
constexpr auto kTcpIdle = std::chrono::seconds(10);
constexpr int kMaxTcpSessions = 512;  // per I/O thread
constexpr size_t kMaxTcpQueue = 64;   // unsent responses per connection
constexpr size_t kMaxPending = 4096;  // forwarded queries in flight per I/O thread
constexpr auto kForwardTick = std::chrono::milliseconds(20);
constexpr size_t kBufferSize = 65536;

// "HOST:PORT", "[V6]:PORT", or, with default_port >= 0, also "HOST" and a
// bare IPv6 address.
StatusOr<udp::endpoint> ParseEndpoint(const std::string& text, int default_port) {
  std::string host = text, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return BadRequest("bad address \"" + text + "\"");
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return BadRequest("bad address \"" + text + "\"");
      port = rest.substr(1);
      if (port.empty()) return BadRequest("bad address \"" + text + "\": empty port");
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return BadRequest("bad address \"" + text + "\": empty port");
  }
  int number = default_port;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      return BadRequest("bad port in \"" + text + "\"");
    }
    number = std::stoi(port);
  }
  if (number < 0) return BadRequest("\"" + text + "\" has no port (HOST:PORT)");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return BadRequest("\"" + host + "\" in \"" + text + "\" is not an IP address");
  return udp::endpoint(address, static_cast<uint16_t>(number));
}

std::string FormatEndpoint(const asio::ip::address& address, uint16_t port) {
  std::string s;
  if (address.is_v6()) {
    s += '[';
    s += address.to_string();
    s += ']';
  } else {
    s += address.to_string();
  }
  s += ':';
  s += std::to_string(port);
  return s;
}

bool IsLocalAddress(const asio::ip::address& address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET && address.is_v4()) {
      auto bytes = address.to_v4().to_bytes();
      found =
          std::memcmp(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, bytes.data(), 4) == 0;
    } else if (i->ifa_addr->sa_family == AF_INET6 && address.is_v6()) {
      auto bytes = address.to_v6().to_bytes();
      found = std::memcmp(&reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, bytes.data(),
                          16) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

// Would a query sent to upstream come back to one of our listeners?
bool IsOurselves(const udp::endpoint& upstream, const std::vector<udp::endpoint>& listeners) {
  for (const udp::endpoint& l : listeners) {
    if (l.port() != upstream.port()) continue;
    if (l.address() == upstream.address()) return true;
    if (l.address().is_unspecified() &&
        (upstream.address().is_loopback() || IsLocalAddress(upstream.address()))) {
      return true;
    }
  }
  return false;
}

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Does response answer q's question (or carry none, as some errors do)?
bool AnswersQuestion(std::span<const uint8_t> response, const Query& q) {
  if (response.size() < kHeaderSize || !(Get16(response.data() + 2) & kFlagQr)) return false;
  uint16_t qdcount = Get16(response.data() + 4);
  if (qdcount == 0) return (response[3] & 0xF) != kNoError;
  if (qdcount != 1) return false;
  size_t offset = kHeaderSize;
  uint8_t name[kMaxNameSize];
  size_t size = 0;
  if (!ReadName(response, &offset, name, &size) || response.size() - offset < 4) return false;
  LowerAscii(name, size);
  return size == q.name_size && std::memcmp(name, q.lower, size) == 0 &&
         Get16(response.data() + offset) == q.qtype &&
         Get16(response.data() + offset + 2) == q.qclass;
}

// The published view. Readers compare the generation (one relaxed load) and
// take a new reference only when it moved.
struct ViewSlot {
  std::atomic<std::shared_ptr<const View>> view;
  std::atomic<uint64_t> generation{0};

  void Publish(std::shared_ptr<const View> v) {
    view.store(std::move(v));
    generation.fetch_add(1, std::memory_order_release);
  }
};

class Worker;

struct UdpListener {
  explicit UdpListener(udp::socket s) : socket(std::move(s)) {}
  udp::socket socket;
};

// One client TCP connection: length-prefixed queries in, responses out in
// the order they are ready.
class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(Worker* worker, tcp::socket socket)
      : worker_(worker), socket_(std::move(socket)), idle_(socket_.get_executor()) {}

  void Start() {
    ArmIdle();
    ReadLength();
  }

  void Send(const uint8_t* data, size_t n) {
    if (closed_) return;
    if (queue_.size() >= kMaxTcpQueue) {  // a client that does not read
      Close();
      return;
    }
    std::vector<uint8_t> message(n + 2);
    message[0] = static_cast<uint8_t>(n >> 8);
    message[1] = static_cast<uint8_t>(n);
    std::memcpy(message.data() + 2, data, n);
    queue_.push_back(std::move(message));
    if (!writing_) WriteNext();
  }

  void ForwardStarted() { ++forwards_; }
  void ForwardDone() {
    --forwards_;
    MaybeFinish();
  }

  void Close();

 private:
  void ArmIdle() {
    idle_.expires_after(kTcpIdle);
    idle_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Close();
    });
  }

  void ReadLength() {
    asio::async_read(socket_, asio::buffer(length_, 2),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->ReadEnded();
                       size_t n = Get16(self->length_);
                       if (n == 0) return self->Close();
                       self->in_.resize(n);
                       self->ReadBody();
                     });
  }

  void ReadBody();

  // The client finished sending: answer what is in flight, then close.
  void ReadEnded() {
    reading_done_ = true;
    MaybeFinish();
  }

  void MaybeFinish() {
    if (reading_done_ && !writing_ && queue_.empty() && forwards_ == 0) Close();
  }

  void WriteNext() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Close();
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) return self->WriteNext();
                        self->MaybeFinish();
                      });
  }

  Worker* worker_;
  tcp::socket socket_;
  asio::steady_timer idle_;
  uint8_t length_[2] = {};
  std::vector<uint8_t> in_;
  std::deque<std::vector<uint8_t>> queue_;
  bool writing_ = false;
  bool reading_done_ = false;
  bool closed_ = false;
  int forwards_ = 0;
};

// Who asked a forwarded query.
struct Origin {
  UdpListener* udp = nullptr;  // UDP: the listener and the client's address
  udp::endpoint client;
  std::weak_ptr<TcpSession> tcp;  // TCP: the connection
};

struct Pending {
  Query query;  // the client's, with its id
  Origin origin;
  std::vector<uint8_t> packet;  // as sent upstream, with our id
  size_t upstream = 0;          // the one asked last
  uint64_t refused = 0;         // upstreams that refused (bit i: upstream i)
  Clock::time_point deadline;
  Clock::time_point next_try;
};

struct Upstream {
  udp::endpoint endpoint;
  std::unique_ptr<udp::socket> socket;  // connected, so ICMP refusals are reported
};

// One I/O thread: its io_context, its sockets, its forwarded queries.
class Worker {
 public:
  Worker(const ViewSlot* slot, const std::vector<udp::endpoint>& upstreams,
         std::chrono::milliseconds forward_timeout)
      : slot_(slot), forward_timeout_(forward_timeout), tick_(ioc_), rng_(std::random_device{}()) {
    tx_.resize(kBufferSize);
    upstream_rx_.resize(kBufferSize);
    udp_rx_.resize(kMmsgSlots * kUdpSlotSize);
    udp_tx_.resize(kMmsgSlots * kUdpSlotSize);
    for (const udp::endpoint& endpoint : upstreams) {
      Upstream u;
      u.endpoint = endpoint;
      u.socket = std::make_unique<udp::socket>(ioc_);
      boost::system::error_code ec;
      u.socket->open(endpoint.protocol(), ec);
      if (!ec) u.socket->connect(endpoint, ec);
      if (!ec) u.socket->non_blocking(true, ec);
      if (ec) {
        // Unusable from here (no route for its family): treated as refusing.
        unusable_ |= uint64_t{1} << std::min<size_t>(upstreams_.size(), 63);
      }
      upstreams_.push_back(std::move(u));
    }
    attempt_interval_ = forward_timeout_ / static_cast<int>(upstreams_.size() + 1);
  }

  ~Worker() { Stop(); }

  void Start() {
    for (size_t i = 0; i < upstreams_.size(); ++i) {
      if (!(unusable_ >> std::min<size_t>(i, 63) & 1)) ArmUpstream(i);
    }
    thread_ = std::thread([this] { ioc_.run(); });
  }

  void Stop() {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context& ioc() { return ioc_; }

  // From any thread: serve on these sockets.
  void Serve(udp::socket socket, tcp::acceptor acceptor) {
    auto u = std::make_shared<udp::socket>(std::move(socket));
    auto a = std::make_shared<tcp::acceptor>(std::move(acceptor));
    asio::post(ioc_, [this, u, a] {
      udp_.push_back(std::make_unique<UdpListener>(std::move(*u)));
      ArmUdp(udp_.back().get());
      tcp_.push_back(std::make_unique<tcp::acceptor>(std::move(*a)));
      Accept(tcp_.back().get());
    });
  }

  void HandleTcpQuery(const std::shared_ptr<TcpSession>& session, std::span<const uint8_t> packet) {
    RefreshView();
    Outcome o = Respond(view_.get(), packet, Transport::kTcp, tx_, &query_);
    if (o.action == Action::kReply && o.size > 0) {
      session->Send(tx_.data(), o.size);
    } else if (o.action == Action::kForward) {
      session->ForwardStarted();
      Forward(query_, packet, Origin{nullptr, {}, session});
    }
  }

  void SessionClosed() { --tcp_sessions_; }

  // A forwarded query's end: relay response (its id set back to the
  // client's), or SERVFAIL when response is empty.
  void Finish(const Pending& p, std::span<uint8_t> response) {
    size_t n = response.size();
    uint8_t* data = response.data();
    if (n >= 2) {
      data[0] = static_cast<uint8_t>(p.query.id >> 8);
      data[1] = static_cast<uint8_t>(p.query.id);
    } else {
      data = tx_.data();
      n = WriteError(p.query, kServFail, /*with_question=*/true, kFlagRa, tx_);
    }
    if (p.origin.udp) {
      boost::system::error_code ec;
      p.origin.udp->socket.send_to(asio::buffer(data, n), p.origin.client, 0, ec);
    } else if (auto session = p.origin.tcp.lock()) {
      if (n) session->Send(data, n);
      session->ForwardDone();
    }
  }

 private:
  void RefreshView() {
    uint64_t g = slot_->generation.load(std::memory_order_acquire);
    if (g != generation_) {
      view_ = slot_->view.load();
      generation_ = g;
    }
  }

  // --- UDP -----------------------------------------------------------------

  void ArmUdp(UdpListener* l) {
    l->socket.async_wait(udp::socket::wait_read, [this, l](boost::system::error_code ec) {
      if (ec) return;
      DrainUdp(l);
      ArmUdp(l);
    });
  }

  // Reads up to kUdpBatch datagrams, kMmsgSlots per system call, and sends
  // their answers back the same way; forwarded queries leave the batch.
  void DrainUdp(UdpListener* l) {
    RefreshView();
    const int fd = l->socket.native_handle();
    for (int round = 0; round < kUdpBatch / kMmsgSlots; ++round) {
      for (int i = 0; i < kMmsgSlots; ++i) {
        rx_iov_[i] = {udp_rx_.data() + i * kUdpSlotSize, kUdpSlotSize};
        rx_msgs_[i] = {};
        rx_msgs_[i].msg_hdr.msg_name = &peers_[i];
        rx_msgs_[i].msg_hdr.msg_namelen = sizeof(peers_[i]);
        rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
        rx_msgs_[i].msg_hdr.msg_iovlen = 1;
      }
      int got = ::recvmmsg(fd, rx_msgs_, kMmsgSlots, MSG_DONTWAIT, nullptr);
      if (got <= 0) return;  // would block: drained
      int replies = 0;
      for (int i = 0; i < got; ++i) {
        const msghdr& h = rx_msgs_[i].msg_hdr;
        if (h.msg_flags & MSG_TRUNC) continue;  // larger than any query: dropped
        std::span<const uint8_t> packet(udp_rx_.data() + i * kUdpSlotSize, rx_msgs_[i].msg_len);
        std::span<uint8_t> out(udp_tx_.data() + i * kUdpSlotSize, kUdpSlotSize);
        Outcome o = Respond(view_.get(), packet, Transport::kUdp, out, &query_);
        if (o.action == Action::kReply && o.size > 0) {
          tx_iov_[replies] = {out.data(), o.size};
          tx_msgs_[replies] = {};
          tx_msgs_[replies].msg_hdr.msg_name = &peers_[i];
          tx_msgs_[replies].msg_hdr.msg_namelen = h.msg_namelen;
          tx_msgs_[replies].msg_hdr.msg_iov = &tx_iov_[replies];
          tx_msgs_[replies].msg_hdr.msg_iovlen = 1;
          ++replies;
        } else if (o.action == Action::kForward) {
          udp::endpoint from;
          std::memcpy(from.data(), &peers_[i], std::min<size_t>(h.msg_namelen, sizeof(peers_[i])));
          from.resize(h.msg_namelen);
          Forward(query_, packet, Origin{l, from, {}});
        }
      }
      // A full socket buffer drops the rest, as a single send_to would.
      for (int sent = 0; sent < replies;) {
        int n = ::sendmmsg(fd, tx_msgs_ + sent, replies - sent, MSG_DONTWAIT);
        if (n <= 0) break;
        sent += n;
      }
      if (got < kMmsgSlots) return;  // drained
    }
  }

  // --- TCP -----------------------------------------------------------------

  void Accept(tcp::acceptor* a) {
    a->async_accept([this, a](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (tcp_sessions_ >= kMaxTcpSessions) {
          socket.close(ec);
        } else {
          ++tcp_sessions_;
          socket.set_option(tcp::no_delay(true), ec);
          std::make_shared<TcpSession>(this, std::move(socket))->Start();
        }
        return Accept(a);
      }
      // Out of descriptors or the like: try again shortly rather than spin.
      auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(100));
      timer->async_wait([this, a, timer](boost::system::error_code e) {
        if (!e) Accept(a);
      });
    });
  }

  // --- Forwarding ------------------------------------------------------------

  bool Refused(const Pending& p, size_t i) const {
    return (p.refused | unusable_) >> std::min<size_t>(i, 63) & 1;
  }

  void Forward(const Query& q, std::span<const uint8_t> packet, Origin origin) {
    Pending p;
    p.query = q;
    p.origin = std::move(origin);
    if (upstreams_.empty() || pending_.size() >= kMaxPending) {
      Finish(p, {});
      return;
    }
    uint16_t id = 0;
    do {
      id = static_cast<uint16_t>(rng_());
    } while (pending_.count(id));
    p.packet.assign(packet.begin(), packet.end());
    p.packet[0] = static_cast<uint8_t>(id >> 8);
    p.packet[1] = static_cast<uint8_t>(id);
    p.deadline = Clock::now() + forward_timeout_;
    p.upstream = upstreams_.size() - 1;  // SendNext starts at the first
    auto it = pending_.emplace(id, std::move(p)).first;
    if (!SendNext(it->second)) {
      Finish(it->second, {});
      pending_.erase(it);
      return;
    }
    ArmTick();
  }

  // Sends p to the next upstream that has not refused it; false when none is left.
  bool SendNext(Pending& p) {
    for (size_t k = 1; k <= upstreams_.size(); ++k) {
      size_t i = (p.upstream + k) % upstreams_.size();
      if (Refused(p, i)) continue;
      p.upstream = i;
      boost::system::error_code ec;
      upstreams_[i].socket->send(asio::buffer(p.packet), 0, ec);
      if (ec == asio::error::connection_refused) {
        p.refused |= uint64_t{1} << std::min<size_t>(i, 63);
        continue;
      }
      p.next_try = Clock::now() + attempt_interval_;
      return true;
    }
    return false;
  }

  void ArmTick() {
    if (ticking_ || pending_.empty()) return;
    ticking_ = true;
    tick_.expires_after(kForwardTick);
    tick_.async_wait([this](boost::system::error_code ec) {
      ticking_ = false;
      if (ec) return;
      Tick();
    });
  }

  // Retries and time-outs of forwarded queries.
  void Tick() {
    auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& p = it->second;
      if (now >= p.deadline || (now >= p.next_try && !SendNext(p))) {
        Finish(p, {});
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    ArmTick();
  }

  void ArmUpstream(size_t i) {
    upstreams_[i].socket->async_wait(udp::socket::wait_read,
                                     [this, i](boost::system::error_code ec) {
                                       if (ec) return;
                                       DrainUpstream(i);
                                       ArmUpstream(i);
                                     });
  }

  void DrainUpstream(size_t i) {
    for (int k = 0; k < kUdpBatch; ++k) {
      boost::system::error_code ec;
      size_t n = upstreams_[i].socket->receive(asio::buffer(upstream_rx_), 0, ec);
      if (ec == asio::error::connection_refused) {
        UpstreamRefused(i);
        continue;
      }
      if (ec) return;
      if (n < kHeaderSize) continue;
      auto it = pending_.find(Get16(upstream_rx_.data()));
      if (it == pending_.end()) continue;
      std::span<uint8_t> response(upstream_rx_.data(), n);
      if (!AnswersQuestion(response, it->second.query)) continue;
      bool truncated = Get16(upstream_rx_.data() + 2) & kFlagTc;
      if (truncated && !it->second.origin.udp) {
        ForwardOverTcp(std::move(it->second), upstreams_[i].endpoint);
      } else {
        Finish(it->second, response);
      }
      pending_.erase(it);
    }
  }

  // The upstream sent ICMP port unreachable (for some query): every query
  // waiting on it moves on to the next upstream, or fails.
  void UpstreamRefused(size_t i) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& p = it->second;
      if (p.upstream == i) {
        p.refused |= uint64_t{1} << std::min<size_t>(i, 63);
        if (!SendNext(p)) {
          Finish(p, {});
          it = pending_.erase(it);
          continue;
        }
      }
      ++it;
    }
  }

  void ForwardOverTcp(Pending p, const udp::endpoint& upstream);

  const ViewSlot* slot_;
  std::chrono::milliseconds forward_timeout_;
  std::chrono::milliseconds attempt_interval_{0};
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_;
  std::vector<Upstream> upstreams_;
  uint64_t unusable_ = 0;
  std::unordered_map<uint16_t, Pending> pending_;
  asio::steady_timer tick_;
  bool ticking_ = false;
  std::mt19937 rng_;
  int tcp_sessions_ = 0;
  std::vector<uint8_t> tx_, upstream_rx_;
  // UDP batches: kMmsgSlots slots of kUdpSlotSize each way, and their headers.
  std::vector<uint8_t> udp_rx_, udp_tx_;
  mmsghdr rx_msgs_[kMmsgSlots], tx_msgs_[kMmsgSlots];
  iovec rx_iov_[kMmsgSlots], tx_iov_[kMmsgSlots];
  sockaddr_storage peers_[kMmsgSlots];
  Query query_;
  std::shared_ptr<const View> view_;
  uint64_t generation_ = 0;
  std::thread thread_;
};

void TcpSession::ReadBody() {
  asio::async_read(socket_, asio::buffer(in_),
                   [self = shared_from_this()](boost::system::error_code ec, size_t) {
                     if (ec) return self->Close();
                     self->ArmIdle();
                     self->worker_->HandleTcpQuery(self, self->in_);
                     if (!self->closed_) self->ReadLength();
                   });
}

void TcpSession::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  idle_.cancel();
  worker_->SessionClosed();
}

// A query asked again over TCP, after a truncated UDP answer, for a TCP client.
class TcpForward : public std::enable_shared_from_this<TcpForward> {
 public:
  TcpForward(Worker* worker, asio::io_context& ioc, Pending p)
      : worker_(worker), socket_(ioc), timer_(ioc), pending_(std::move(p)) {}

  void Start(const udp::endpoint& upstream) {
    size_t n = pending_.packet.size();
    out_.resize(n + 2);
    out_[0] = static_cast<uint8_t>(n >> 8);
    out_[1] = static_cast<uint8_t>(n);
    std::memcpy(out_.data() + 2, pending_.packet.data(), n);
    timer_.expires_at(pending_.deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Done(false);
    });
    socket_.async_connect(tcp::endpoint(upstream.address(), upstream.port()),
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (ec) return self->Done(false);
                            asio::async_write(self->socket_, asio::buffer(self->out_),
                                              [self](boost::system::error_code ec, size_t) {
                                                if (ec) return self->Done(false);
                                                self->ReadLength();
                                              });
                          });
  }

 private:
  void ReadLength() {
    asio::async_read(socket_, asio::buffer(length_, 2),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->Done(false);
                       self->in_.resize(Get16(self->length_));
                       asio::async_read(
                           self->socket_, asio::buffer(self->in_),
                           [self](boost::system::error_code ec, size_t) { self->Done(!ec); });
                     });
  }

  void Done(bool ok) {
    if (done_) return;
    done_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.close(ec);
    // The response carries our id; check it, then the question.
    if (ok && in_.size() >= kHeaderSize && Get16(in_.data()) == Get16(pending_.packet.data()) &&
        AnswersQuestion(in_, pending_.query)) {
      worker_->Finish(pending_, in_);
    } else {
      worker_->Finish(pending_, {});
    }
  }

  Worker* worker_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  Pending pending_;
  std::vector<uint8_t> out_;
  uint8_t length_[2] = {};
  std::vector<uint8_t> in_;
  bool done_ = false;
};

void Worker::ForwardOverTcp(Pending p, const udp::endpoint& upstream) {
  std::make_shared<TcpForward>(this, ioc_, std::move(p))->Start(upstream);
}

// --- The server --------------------------------------------------------------

class ServerImpl : public DnsServer {
 public:
  ServerImpl(client::Client* client, DnsOptions options)
      : client_(client), options_(std::move(options)) {}

  ~ServerImpl() override { Stop(); }

  Status Init() {
    ViewOptions check;
    check.zone = options_.cluster_domain;
    RETURN_IF_ERROR(View::Build(check, {}).status());
    std::vector<udp::endpoint> listeners;
    for (const std::string& l : options_.listen) {
      ASSIGN_OR_RETURN(udp::endpoint e, ParseEndpoint(l, -1));
      listeners.push_back(e);
    }
    RETURN_IF_ERROR(ChooseUpstreams(listeners));
    int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(&slot_, upstreams_, options_.forward_timeout));
    }
    for (auto& w : workers_) w->Start();
    for (const std::string& l : options_.listen) RETURN_IF_ERROR(AddListener(l).status());

    services_ = std::make_unique<client::Informer>(client_, client::kServices, "");
    endpoints_ = std::make_unique<client::Informer>(client_, client::kEndpoints, "");
    pods_ = std::make_unique<client::Informer>(client_, client::kPods, "");
    services_->AddHandler(Handler(&ClusterState::services, ServiceFromJson));
    endpoints_->AddHandler(Handler(&ClusterState::endpoints, EndpointsFromJson));
    pods_->AddHandler(Handler(&ClusterState::pods, PodFromJson));
    services_->Start();
    endpoints_->Start();
    pods_->Start();
    builder_ = std::thread([this] { BuildLoop(); });

    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, options_.sync_timeout, [&] { return slot_.generation.load() > 0; })) {
      spdlog::warn("dns: no view of the cluster after {} ms; answering SERVFAIL until there is",
                   options_.sync_timeout.count());
    }
    return Status::Ok();
  }

  StatusOr<std::string> AddListener(const std::string& host_port) override {
    ASSIGN_OR_RETURN(udp::endpoint requested, ParseEndpoint(host_port, -1));
    Status status;
    // Port 0: the free UDP port may be taken for TCP; try a few.
    for (int attempt = 0; attempt < (requested.port() == 0 ? 20 : 1); ++attempt) {
      auto bound = Bind(requested);
      if (bound.ok()) {
        std::string address = FormatEndpoint(requested.address(), *bound);
        for (const udp::endpoint& u : upstreams_) {
          if (IsOurselves(u, {udp::endpoint(requested.address(), *bound)})) {
            spdlog::warn("dns: upstream {} is this server's own {}; it will loop",
                         FormatEndpoint(u.address(), u.port()), address);
          }
        }
        {
          std::lock_guard lock(mu_);
          listen_addresses_.push_back(address);
          if (!requested.address().is_unspecified()) {
            nameserver_ips_.push_back(requested.address().to_string());
            MarkDirtyLocked();
          }
        }
        spdlog::info("dns: serving {} on {} (UDP and TCP)", options_.cluster_domain, address);
        return address;
      }
      status = bound.status();
    }
    return status;
  }

  std::vector<std::string> listen_addresses() const override {
    std::lock_guard lock(mu_);
    return listen_addresses_;
  }

  std::vector<std::string> upstreams() const override {
    std::vector<std::string> out;
    for (const udp::endpoint& u : upstreams_) out.push_back(FormatEndpoint(u.address(), u.port()));
    return out;
  }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    for (auto& w : workers_) w->Stop();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (builder_.joinable()) builder_.join();
    if (services_) services_->Stop();
    if (endpoints_) endpoints_->Stop();
    if (pods_) pods_->Stop();
    workers_.clear();
  }

 private:
  Status ChooseUpstreams(const std::vector<udp::endpoint>& listeners) {
    std::vector<std::string> names = options_.upstreams;
    if (names.empty() && !options_.resolv_conf.empty()) {
      auto text = ReadFile(options_.resolv_conf);
      if (text.ok()) {
        names = NameserversFromResolvConf(*text);
      } else {
        spdlog::warn("dns: cannot read {}: {}", options_.resolv_conf, text.status().ToString());
      }
    }
    for (const std::string& name : names) {
      auto e = ParseEndpoint(name, 53);
      if (!e.ok()) {
        if (!options_.upstreams.empty()) return e.status();
        spdlog::warn("dns: ignoring nameserver {}: {}", name, e.status().message());
        continue;
      }
      if (IsOurselves(*e, listeners)) {
        spdlog::warn("dns: not forwarding to {}: that is this server", name);
        continue;
      }
      if (upstreams_.size() < 64) upstreams_.push_back(*e);
    }
    if (upstreams_.empty()) {
      spdlog::info("dns: no upstream resolvers: names outside {} get SERVFAIL",
                   options_.cluster_domain);
    }
    return Status::Ok();
  }

  // Binds a UDP socket and a TCP acceptor on every worker (SO_REUSEPORT);
  // returns the port.
  StatusOr<uint16_t> Bind(const udp::endpoint& requested) {
    uint16_t port = requested.port();
    std::vector<std::pair<udp::socket, tcp::acceptor>> sockets;
    auto failed = [&](const char* what, const boost::system::error_code& ec) {
      std::string m = "dns: cannot listen on ";
      m += what;
      m += ' ';
      m += FormatEndpoint(requested.address(), port);
      m += ": ";
      m += ec.message();
      return Status(Code::kUnavailable, m);
    };
    for (auto& w : workers_) {
      boost::system::error_code ec;
      udp::socket u(w->ioc());
      u.open(requested.protocol(), ec);
      if (!ec) u.set_option(ReusePort(true), ec);
      if (!ec) u.bind(udp::endpoint(requested.address(), port), ec);
      if (!ec) u.non_blocking(true, ec);
      if (ec) return failed("UDP", ec);
      boost::system::error_code ignored;
      u.set_option(asio::socket_base::receive_buffer_size(1 << 20), ignored);
      if (port == 0) port = u.local_endpoint().port();
      tcp::acceptor a(w->ioc());
      tcp::endpoint te(requested.address(), port);
      a.open(te.protocol(), ec);
      if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) a.set_option(ReusePort(true), ec);
      if (!ec) a.bind(te, ec);
      if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return failed("TCP", ec);
      sockets.emplace_back(std::move(u), std::move(a));
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->Serve(std::move(sockets[i].first), std::move(sockets[i].second));
    }
    return port;
  }

  // Keeps ClusterState.*map in step with an informer, through extract.
  template <typename Info>
  client::InformerHandler Handler(std::map<std::string, Info> ClusterState::*map,
                                  std::optional<Info> (*extract)(const json&)) {
    client::InformerHandler h;
    auto upsert = [this, map, extract](const json& object) {
      auto info = extract(object);
      if (!info) return;
      std::lock_guard lock(mu_);
      (state_.*map)[info->ns + "/" + info->name] = std::move(*info);
      MarkDirtyLocked();
    };
    h.on_add = upsert;
    h.on_update = [upsert](const json&, const json& object) { upsert(object); };
    h.on_delete = [this, map](const json& object) {
      std::lock_guard lock(mu_);
      (state_.*map).erase(client::Informer::KeyOf(object));
      MarkDirtyLocked();
    };
    return h;
  }

  void MarkDirtyLocked() {
    if (dirty_) return;
    dirty_ = true;
    dirty_since_ = Clock::now();
    cv_.notify_all();
  }

  bool Synced() const {
    return services_->HasSynced() && endpoints_->HasSynced() && pods_->HasSynced();
  }

  void BuildLoop() {
    std::unique_lock lock(mu_);
    while (!Synced()) {
      if (cv_.wait_for(lock, std::chrono::milliseconds(10), [&] { return stopping_; })) return;
    }
    dirty_ = true;
    dirty_since_ = Clock::now() - options_.debounce;
    Clock::time_point earliest{};
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || dirty_; });
      if (stopping_) return;
      // Debounce, and never spend more than half the time building.
      auto when = std::max(dirty_since_ + options_.debounce, earliest);
      if (cv_.wait_until(lock, when, [&] { return stopping_; })) return;
      dirty_ = false;
      ViewOptions vo;
      vo.zone = options_.cluster_domain;
      vo.nameserver_ips = nameserver_ips_;
      vo.forwarding = !upstreams_.empty();
      auto start = Clock::now();
      auto view = View::Build(vo, state_);
      auto end = Clock::now();
      earliest = end + (end - start);
      if (!view.ok()) {
        spdlog::error("dns: cannot build the view: {}", view.status().ToString());
        continue;
      }
      spdlog::debug("dns: view of {} names built in {} us", (*view)->name_count(),
                    std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
      slot_.Publish(*std::move(view));
      cv_.notify_all();
    }
  }

  client::Client* client_;
  DnsOptions options_;
  std::vector<udp::endpoint> upstreams_;  // fixed after Init
  ViewSlot slot_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<client::Informer> services_, endpoints_, pods_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  ClusterState state_;                       // guarded by mu_
  std::vector<std::string> nameserver_ips_;  // guarded by mu_
  std::vector<std::string> listen_addresses_;
  bool dirty_ = false;
  Clock::time_point dirty_since_;
  bool stopping_ = false;
  std::thread builder_;
  bool stopped_ = false;
};

}  // namespace

std::vector<std::string> NameserversFromResolvConf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find_first_of("#;"));
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver") out.push_back(value);
  }
  return out;
}

StatusOr<std::unique_ptr<DnsServer>> DnsServer::Start(client::Client* client, DnsOptions options) {
  auto server = std::make_unique<ServerImpl>(client, std::move(options));
  Status status = server->Init();
  if (!status.ok()) {
    server->Stop();
    return status;
  }
  return std::unique_ptr<DnsServer>(std::move(server));
}

}  // namespace kennel::dns
