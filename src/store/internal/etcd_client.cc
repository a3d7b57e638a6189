#include "store/internal/etcd_client.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include "base/thread.h"
#include "store/internal/etcd_rpc.grpc.pb.h"

namespace kennel::store::internal {
namespace {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;

// Between two passes over every endpoint, so a call waiting out an election
// does not spin.
constexpr auto kRetryPause = std::chrono::milliseconds(100);
// How long a call waits for one member's connection before trying the next.
constexpr auto kConnectWait = std::chrono::milliseconds(1000);
constexpr auto kMinWatchBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxWatchBackoff = std::chrono::milliseconds(1000);

// gRPC deadlines are wall-clock; ours are steady.
std::chrono::system_clock::time_point WallDeadline(Clock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
}

// One completion-queue event's handler. The queue hands back the pointer.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

struct Endpoint {
  std::string url;
  std::string target;  // host:port for gRPC ("[::1]:2379" for IPv6)
  bool tls = false;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
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
  std::string host, port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return BadRequest("bad IPv6 address in " + url);
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return BadRequest("bad etcd endpoint " + url);
      port = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return BadRequest("etcd endpoint has no host: " + url);
  if (port.empty()) port = "2379";
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) {
    return BadRequest("bad port in etcd endpoint " + url);
  }
  ep.target = host + ":" + port;
  return ep;
}

StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return BadRequest(std::string("etcd: client TLS setup: cannot read ") + what + " " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  // Objects are small but a range over a big prefix is not.
  args.SetMaxReceiveMessageSize(-1);
  // A restarted member is found again within a second, not after gRPC's
  // default back-off of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A dead peer (host gone, cable cut) is noticed within ~15 s even while the
  // watch stream is quiet; etcd permits pings every 5 s while a stream is open.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Each client its own connections: two stores in one process (tests, or a
  // restart) must not share, and so hide, each other's streams.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// What to do with a failed call.
enum class Verdict {
  kDone,           // return the error to the caller
  kRetryAnywhere,  // etcd refused before acting: any call may go to another member
  kRetryIfRead,    // this member cannot serve now; a write's outcome is unknown
};

struct Failure {
  Verdict verdict;
  Status status;
};

// etcd reports its own errors as gRPC statuses with fixed messages
// ("etcdserver: no leader", "mvcc: required revision has been compacted").
Failure Interpret(const Endpoint& ep, const grpc::Status& status) {
  const std::string& message = status.error_message();
  const grpc::StatusCode code = status.error_code();
  std::string text = "etcd " + ep.url + ": " + message;
  if (Contains(message, "required revision has been compacted")) {
    return {Verdict::kDone, Gone(std::move(text))};
  }
  // Refused before any proposal (or, for the last, before the request left
  // this process): the write certainly was not applied.
  if (Contains(message, "no leader") || Contains(message, "raft proposal dropped") ||
      Contains(message, "too many requests") || Contains(message, "failed to connect")) {
    return {Verdict::kRetryAnywhere, Unavailable(std::move(text))};
  }
  if (Contains(message, "timed out") || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return {Verdict::kRetryIfRead, Status(Code::kTimeout, std::move(text))};
  }
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED ||
      Contains(message, "leader changed") || Contains(message, "server stopped")) {
    return {Verdict::kRetryIfRead, Unavailable(std::move(text))};
  }
  if (code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::OUT_OF_RANGE) {
    return {Verdict::kDone, BadRequest(std::move(text))};
  }
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED) {  // e.g. database space exceeded
    return {Verdict::kDone, Unavailable(std::move(text))};
  }
  return {Verdict::kDone, Internal(std::move(text))};
}

// etcd's delete event carries only the key and the delete's revision; the
// contract wants the deleted value and create_revision, which prev_kv has.
std::vector<Event> StoreEvents(pb::WatchResponse& response) {
  std::vector<Event> events;
  events.reserve(response.events_size());
  for (pb::Event& e : *response.mutable_events()) {
    Event ev;
    ev.type = e.type() == pb::Event::DELETE ? EventType::kDelete : EventType::kPut;
    ev.kv = FromEtcd(std::move(*e.mutable_kv()));
    if (e.has_prev_kv()) ev.prev_kv = FromEtcd(std::move(*e.mutable_prev_kv()));
    if (ev.type == EventType::kDelete && ev.prev_kv) {
      ev.kv.value = ev.prev_kv->value;
      ev.kv.create_revision = ev.prev_kv->create_revision;
    }
    events.push_back(std::move(ev));
  }
  return events;
}

}  // namespace

KeyValue FromEtcd(pb::KeyValue&& kv) {
  return KeyValue{std::move(*kv.mutable_key()), std::move(*kv.mutable_value()),
                  kv.create_revision(), kv.mod_revision()};
}

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

class EtcdClient::Impl {
 public:
  Impl(const EtcdClientOptions& options, std::vector<Endpoint> endpoints)
      : options_(options), endpoints_(std::move(endpoints)) {
    for (const Endpoint& ep : endpoints_) {
      if (!endpoint_list_.empty()) endpoint_list_ += ", ";
      endpoint_list_ += ep.url;
    }
    thread_ = std::thread([this] {
      NameThisThread("etcd-grpc");
      Loop();
    });
    io_thread_ = thread_.get_id();
  }

  ~Impl() { Shutdown(); }

  // ------------------------------------------------------------ unary calls

  template <typename Request, typename Response>
  using Starter = std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (pb::KV::Stub::*)(
      grpc::ClientContext*, const Request&, grpc::CompletionQueue*);

  template <typename Request, typename Response>
  void Call(const char* method, Starter<Request, Response> starter, Request request, CallKind kind,
            EtcdCallback<Response> done) {
    bool refused = false;
    {
      std::lock_guard lock(mu_);
      refused = stopping_;
      if (!refused) ++inflight_;
    }
    if (refused) {  // outside the lock: done may well call again
      done(Unavailable("etcd store is shutting down"));
      return;
    }
    auto* call = new UnaryCall<Request, Response>(this, method, starter, std::move(request), kind,
                                                  std::move(done));
    call->Attempt();
  }

  template <typename Request, typename Response>
  StatusOr<Response> CallSync(const char* method, Starter<Request, Response> starter,
                              Request request, CallKind kind) {
    if (std::this_thread::get_id() == io_thread_) {
      return Internal("etcd: a blocking call on the I/O thread would deadlock");
    }
    auto promise = std::make_shared<std::promise<StatusOr<Response>>>();
    auto future = promise->get_future();
    Call<Request, Response>(method, starter, std::move(request), kind,
                            [promise](StatusOr<Response> r) { promise->set_value(std::move(r)); });
    return future.get();
  }

  // ------------------------------------------------------------ watches, timers

  uint64_t StartWatch(WatchSpec spec, WatchCallbacks callbacks) {
    const uint64_t id = next_watch_id_.fetch_add(1);
    Post([this, id, spec = std::move(spec), callbacks = std::move(callbacks)]() mutable {
      if (closing_) return;
      auto w = std::make_unique<WatchState>(this);
      w->id = id;
      w->spec = std::move(spec);
      w->callbacks = std::move(callbacks);
      w->next_revision = w->spec.start_revision;
      w->endpoint = preferred_.load();
      WatchState& ref = *w;
      watches_[id] = std::move(w);
      StartStream(ref);
    });
    return id;
  }

  void StopWatch(uint64_t id) {
    Post([this, id] {
      auto it = watches_.find(id);
      if (it != watches_.end()) Stop(*it->second);
    });
  }

  void Schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
    Post([this, delay, fn = std::move(fn)]() mutable {
      if (closing_) return;
      auto timer = std::make_unique<Timer>(this, std::move(fn));
      Timer* t = timer.get();
      timers_.insert({t, std::move(timer)});
      t->alarm.Set(&cq_, WallDeadline(Clock::now() + delay), t);
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
    Post([this] { CloseAll(); });
    if (thread_.joinable()) thread_.join();
  }

  int64_t watch_streams_created() const { return streams_created_.load(); }
  const std::string& endpoint_list() const { return endpoint_list_; }

 private:
  // One call from Attempt to done: waits for a member's connection, sends,
  // and retries on the next member as the failure and the call's kind allow.
  // Frees itself once done has run.
  template <typename Request, typename Response>
  class UnaryCall final : public Tag {
   public:
    UnaryCall(Impl* impl, const char* method, Starter<Request, Response> starter, Request request,
              CallKind kind, EtcdCallback<Response> done)
        : impl_(impl),
          method_(method),
          starter_(starter),
          request_(std::move(request)),
          kind_(kind),
          done_(std::move(done)),
          deadline_(Clock::now() + impl->options_.request_timeout) {}

    // Any thread at first; the I/O thread afterwards.
    void Attempt() {
      for (;;) {
        if (impl_->closing_.load()) return Finish(Unavailable("etcd store is shutting down"));
        if (Clock::now() >= deadline_) return Finish(impl_->GiveUp(method_, last_));
        if (tries_ > 0 && tries_ % impl_->endpoints_.size() == 0 && !paused_) {
          paused_ = true;
          phase_ = Phase::kPause;
          alarm_.emplace();  // an alarm is set once
          alarm_->Set(&impl_->cq_, WallDeadline(std::min(Clock::now() + kRetryPause, deadline_)),
                      this);
          return;
        }
        paused_ = false;
        endpoint_ = impl_->preferred_.load();
        Endpoint& ep = impl_->endpoints_[endpoint_];
        const grpc_connectivity_state state = ep.channel->GetState(/*try_to_connect=*/true);
        if (state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING) {
          // Wait for the connection here rather than in gRPC's queue, so that
          // a member that does not answer at all costs one kConnectWait, not
          // the whole request timeout.
          phase_ = Phase::kConnect;
          ep.channel->NotifyOnStateChange(
              state, WallDeadline(std::min(Clock::now() + kConnectWait, deadline_)), &impl_->cq_,
              this);
          return;
        }
        // Ready, or failing to connect: gRPC then fails the call at once
        // without sending it ("failed to connect to all addresses", with the
        // reason), which Interpret reads as safe to retry anywhere.
        return Send(ep);
      }
    }

    void Proceed(bool ok) override {
      switch (phase_) {
        case Phase::kPause:
          return Attempt();
        case Phase::kConnect:
          // ok: the state changed, so look again; otherwise the wait timed out.
          if (!ok) NotConnected();
          return Attempt();
        case Phase::kCall:
          return Answered();
      }
    }

   private:
    enum class Phase { kPause, kConnect, kCall };

    void NotConnected() {
      last_ = Unavailable("etcd " + impl_->endpoints_[endpoint_].url + ": not connected within " +
                          std::to_string(kConnectWait.count()) + " ms");
      impl_->Demote(endpoint_);
      ++tries_;
    }

    void Send(Endpoint& ep) {
      phase_ = Phase::kCall;
      context_ = std::make_unique<grpc::ClientContext>();
      context_->set_deadline(WallDeadline(deadline_));
      // A member without a leader then refuses at once instead of holding the
      // call until its own timeout, so that we move to a member that has one.
      context_->AddMetadata("hasleader", "true");
      response_.Clear();
      reader_ = (ep.kv.get()->*starter_)(context_.get(), request_, &impl_->cq_);
      reader_->StartCall();
      reader_->Finish(&response_, &status_, this);
    }

    void Answered() {
      if (status_.ok()) return Finish(std::move(response_));
      const Endpoint& ep = impl_->endpoints_[endpoint_];
      Failure failure = Interpret(ep, status_);
      if (failure.verdict == Verdict::kDone) return Finish(std::move(failure.status));
      if (failure.verdict == Verdict::kRetryIfRead && kind_ == CallKind::kWrite) {
        return Finish(impl_->AmbiguousWrite(method_, failure.status));
      }
      last_ = std::move(failure.status);
      impl_->Demote(endpoint_);
      ++tries_;
      Attempt();
    }

    void Finish(StatusOr<Response> result) {
      EtcdCallback<Response> done = std::move(done_);
      Impl* impl = impl_;
      delete this;
      auto run = [&] { done(std::move(result)); };
      RunGuarded(run, "call callback");
      impl->CallEnded();
    }

    Impl* const impl_;
    const char* const method_;
    const Starter<Request, Response> starter_;
    const Request request_;
    const CallKind kind_;
    EtcdCallback<Response> done_;
    const Clock::time_point deadline_;
    Phase phase_ = Phase::kCall;
    size_t tries_ = 0;
    size_t endpoint_ = 0;
    bool paused_ = false;
    Status last_ = Unavailable("no attempt made");
    std::optional<grpc::Alarm> alarm_;
    std::unique_ptr<grpc::ClientContext> context_;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader_;
    Response response_;
    grpc::Status status_;
  };

  void CallEnded() {
    {
      std::lock_guard lock(mu_);
      --inflight_;
    }
    idle_cv_.notify_all();
  }

  Status AmbiguousWrite(const char* method, const Status& cause) const {
    return Status(cause.code() == Code::kTimeout ? Code::kTimeout : Code::kUnavailable,
                  std::string("etcd ") + method +
                      " failed and may or may not have been applied: " + cause.message());
  }

  Status GiveUp(const char* method, const Status& last) const {
    std::string message = std::string("etcd ") + method + " failed on every endpoint (" +
                          endpoint_list_ + ") within " +
                          std::to_string(options_.request_timeout.count()) +
                          " ms; last error: " + last.message();
    return Status(last.code() == Code::kTimeout ? Code::kTimeout : Code::kUnavailable,
                  std::move(message));
  }

  // Sends the next calls (and new watch streams) to the next endpoint.
  void Demote(size_t ep) {
    size_t expected = ep;
    preferred_.compare_exchange_strong(expected, (ep + 1) % endpoints_.size());
  }

  // ------------------------------------------------------------ I/O thread

  void Loop() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
  }

  // Runs fn on the I/O thread, unless the queue has closed.
  void Post(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    if (cq_closed_) return;
    ++posts_pending_;
    auto* post = new Posted(this, std::move(fn));
    post->alarm.Set(&cq_, std::chrono::system_clock::now(), post);
  }

  struct Posted final : Tag {
    Posted(Impl* impl, std::function<void()> fn) : impl(impl), fn(std::move(fn)) {}
    void Proceed(bool) override {
      RunGuarded(fn, "posted task");
      Impl* i = impl;
      delete this;
      {
        std::lock_guard lock(i->mu_);
        --i->posts_pending_;
      }
      i->MaybeCloseQueue();
    }
    Impl* impl;
    std::function<void()> fn;
    grpc::Alarm alarm;
  };

  struct Timer final : Tag {
    Timer(Impl* impl, std::function<void()> fn) : impl(impl), fn(std::move(fn)) {}
    void Proceed(bool ok) override {
      Impl* i = impl;
      std::function<void()> task = std::move(fn);
      i->timers_.erase(this);  // frees this
      if (ok && !i->closing_.load()) RunGuarded(task, "scheduled task");
      i->MaybeCloseQueue();
    }
    Impl* impl;
    std::function<void()> fn;
    grpc::Alarm alarm;
  };

  // Once closing, the queue shuts down when nothing can complete on it any
  // more: no stream, no timer, no posted task.
  void MaybeCloseQueue() {
    if (!closing_.load() || !watches_.empty() || !timers_.empty()) return;
    std::lock_guard lock(mu_);
    if (posts_pending_ > 0 || cq_closed_) return;
    cq_closed_ = true;
    cq_.Shutdown();
  }

  void CloseAll() {
    closing_ = true;
    std::vector<WatchState*> watches;
    for (auto& [id, w] : watches_) watches.push_back(w.get());
    for (WatchState* w : watches) Stop(*w);
    for (auto& [t, timer] : timers_) t->alarm.Cancel();
    MaybeCloseQueue();
  }

  // ------------------------------------------------------------ watch streams

  enum class StreamState { kRunning, kReconnect, kCompacted };
  enum class WatchStep { kStart, kWrite, kRead, kFinish, kPause };

  struct WatchState;

  struct WatchTag final : Tag {
    WatchTag(WatchState* w, WatchStep step) : w(w), step(step) {}
    void Proceed(bool ok) override { w->impl->OnWatchStep(*w, step, ok); }
    WatchState* w;
    WatchStep step;
  };

  struct WatchState {
    explicit WatchState(Impl* impl) : impl(impl) {}
    Impl* impl;
    uint64_t id = 0;
    WatchSpec spec;
    WatchCallbacks callbacks;
    int64_t next_revision = 0;  // the first revision the next stream must deliver
    size_t endpoint = 0;
    bool stopped = false;
    bool created = false;  // the current stream was accepted by etcd
    StreamState state = StreamState::kRunning;
    std::chrono::milliseconds backoff = kMinWatchBackoff;
    // The current stream (or pause), and how many of its steps are pending.
    int pending = 0;
    bool write_pending = false;
    bool read_failed = false;
    bool finish_called = false;
    bool finished = false;  // Finish has answered
    bool pausing = false;
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream;
    pb::WatchRequest request;
    pb::WatchResponse response;
    grpc::Status status;
    std::optional<grpc::Alarm> pause;  // an alarm is set once
    WatchTag start_tag{this, WatchStep::kStart};
    WatchTag write_tag{this, WatchStep::kWrite};
    WatchTag read_tag{this, WatchStep::kRead};
    WatchTag finish_tag{this, WatchStep::kFinish};
    WatchTag pause_tag{this, WatchStep::kPause};
  };

  void StartStream(WatchState& w) {
    w.state = StreamState::kRunning;
    w.created = false;
    w.write_pending = w.read_failed = w.finish_called = w.finished = false;
    Endpoint& ep = endpoints_[w.endpoint];
    w.context = std::make_unique<grpc::ClientContext>();
    // A member that loses its leader ends the stream, so that we move on.
    w.context->AddMetadata("hasleader", "true");
    pb::WatchCreateRequest* create = w.request.mutable_create_request();
    create->set_key(w.spec.key);
    create->set_range_end(w.spec.range_end);
    create->set_start_revision(w.next_revision);
    create->set_prev_kv(true);
    create->set_progress_notify(true);
    w.stream = ep.watch->PrepareAsyncWatch(w.context.get(), &cq_);
    w.pending = 1;
    w.stream->StartCall(&w.start_tag);
  }

  void OnWatchStep(WatchState& w, WatchStep step, bool ok) {
    --w.pending;
    switch (step) {
      case WatchStep::kStart:
        if (!ok) return EndStream(w);
        if (w.stopped) w.context->TryCancel();
        w.pending += 2;
        w.write_pending = true;
        w.stream->Write(w.request, &w.write_tag);
        w.stream->Read(&w.response, &w.read_tag);
        return;
      case WatchStep::kWrite:
        w.write_pending = false;
        if (w.read_failed) return EndStream(w);
        return MaybeStreamOver(w);
      case WatchStep::kRead:
        if (!ok) {
          w.read_failed = true;
          return EndStream(w);
        }
        if (!w.stopped && !closing_) OnStreamMessage(w);
        // Read on either way: after a cancel the read fails, and then Finish
        // collects the stream's status.
        if (w.stopped || closing_ || w.state != StreamState::kRunning) w.context->TryCancel();
        ++w.pending;
        w.stream->Read(&w.response, &w.read_tag);
        return;
      case WatchStep::kFinish:
        w.finished = true;
        if (!w.stopped && !closing_ && w.state == StreamState::kRunning) {
          spdlog::info("etcd watch stream on {} ended ({}); resuming from revision {}",
                       endpoints_[w.endpoint].url, w.status.error_message(), w.next_revision);
        }
        return MaybeStreamOver(w);
      case WatchStep::kPause:
        w.pausing = false;
        if (w.stopped || closing_) return Forget(w);
        return StartStream(w);
    }
  }

  // The stream can deliver no more: collect its status, once no write is
  // pending either.
  void EndStream(WatchState& w) {
    if (w.write_pending || w.finish_called) return;
    w.finish_called = true;
    ++w.pending;
    w.stream->Finish(&w.status, &w.finish_tag);
  }

  // Once Finish answered and no step is pending, the stream is over: stop, or
  // reconnect to the next member after a pause.
  void MaybeStreamOver(WatchState& w) {
    if (!w.finished || w.pending > 0) return;
    w.stream.reset();
    w.context.reset();
    if (w.stopped || closing_ || w.state == StreamState::kCompacted) return Forget(w);
    if (w.state == StreamState::kRunning) w.state = StreamState::kReconnect;
    // A stream etcd had accepted broke (member down, lost its leader): try
    // the next member at once; otherwise back off while every member fails.
    w.backoff = w.created ? kMinWatchBackoff : std::min(w.backoff * 2, kMaxWatchBackoff);
    w.endpoint = (w.endpoint + 1) % endpoints_.size();
    w.pausing = true;
    w.pause.emplace();
    w.pause->Set(&cq_, WallDeadline(Clock::now() + w.backoff), &w.pause_tag);
  }

  void Stop(WatchState& w) {
    if (w.stopped) return;
    w.stopped = true;
    if (w.pausing) {
      w.pause->Cancel();  // its tag then forgets the watch
    } else if (w.context) {
      w.context->TryCancel();
    }
  }

  void Forget(WatchState& w) {
    watches_.erase(w.id);  // frees w
    MaybeCloseQueue();
  }

  void OnStreamMessage(WatchState& w) {
    pb::WatchResponse& r = w.response;
    if (r.canceled()) {
      if (r.compact_revision() > 0) {
        w.state = StreamState::kCompacted;
        if (w.callbacks.on_compacted) w.callbacks.on_compacted(r.compact_revision());
        return;
      }
      spdlog::info("etcd watch canceled: {}", r.cancel_reason());
      w.state = StreamState::kReconnect;
      return;
    }
    if (r.created()) {
      w.created = true;
      streams_created_.fetch_add(1);
      if (w.callbacks.on_created) w.callbacks.on_created();
    }
    std::vector<Event> events = StoreEvents(r);
    if (!events.empty()) {
      w.next_revision = events.back().revision() + 1;
      w.callbacks.on_events(std::move(events));
    } else if (!r.created()) {
      // A progress notification: every event up to this revision was sent.
      const int64_t revision = r.header().revision();
      if (revision >= w.next_revision) w.next_revision = revision + 1;
    }
  }

  const EtcdClientOptions options_;
  std::vector<Endpoint> endpoints_;  // channels and stubs: any thread
  std::string endpoint_list_;
  grpc::CompletionQueue cq_;
  std::atomic<size_t> preferred_{0};
  std::atomic<bool> closing_{false};  // written on the I/O thread only

  // Calls in flight, the refusal of new ones, posted tasks; any thread.
  std::mutex mu_;
  std::condition_variable idle_cv_;
  int inflight_ = 0;        // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  bool shut_down_ = false;  // guarded by mu_
  int posts_pending_ = 0;   // guarded by mu_
  bool cq_closed_ = false;  // guarded by mu_

  // I/O thread only.
  std::map<uint64_t, std::unique_ptr<WatchState>> watches_;
  std::map<Timer*, std::unique_ptr<Timer>> timers_;

  std::atomic<uint64_t> next_watch_id_{1};
  std::atomic<int64_t> streams_created_{0};
  std::thread thread_;  // last: starts once everything above exists
  std::thread::id io_thread_;
};

StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdClientOptions& options) {
  if (options.endpoints.empty()) return BadRequest("etcd: no endpoints");
  if (options.request_timeout.count() <= 0) return BadRequest("etcd: request_timeout <= 0");
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
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (any_tls) {
    grpc::SslCredentialsOptions tls;
    if (!options.ca_file.empty()) {
      ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFile(options.ca_file, "CA file"));
    }
    if (!options.cert_file.empty()) {
      ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadFile(options.cert_file, "certificate file"));
    }
    if (!options.key_file.empty()) {
      ASSIGN_OR_RETURN(tls.pem_private_key, ReadFile(options.key_file, "key file"));
    }
    if (tls.pem_cert_chain.empty() != tls.pem_private_key.empty()) {
      return BadRequest(
          "etcd: client TLS setup: a certificate needs its key and a key its "
          "certificate");
    }
    credentials = grpc::SslCredentials(tls);
  }
  const grpc::ChannelArguments args = ChannelArgs();
  for (Endpoint& ep : endpoints) {
    ep.channel = grpc::CreateCustomChannel(ep.target, credentials, args);
    ep.kv = pb::KV::NewStub(ep.channel);
    ep.watch = pb::Watch::NewStub(ep.channel);
  }
  auto impl = std::make_unique<Impl>(options, std::move(endpoints));
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

void EtcdClient::Range(pb::RangeRequest request, EtcdCallback<pb::RangeResponse> done) {
  impl_->Call("range", &pb::KV::Stub::PrepareAsyncRange, std::move(request), CallKind::kRead,
              std::move(done));
}
void EtcdClient::Txn(pb::TxnRequest request, CallKind kind, EtcdCallback<pb::TxnResponse> done) {
  impl_->Call("txn", &pb::KV::Stub::PrepareAsyncTxn, std::move(request), kind, std::move(done));
}
void EtcdClient::Compact(pb::CompactionRequest request, EtcdCallback<pb::CompactionResponse> done) {
  impl_->Call("compaction", &pb::KV::Stub::PrepareAsyncCompact, std::move(request),
              CallKind::kWrite, std::move(done));
}
StatusOr<pb::RangeResponse> EtcdClient::RangeSync(pb::RangeRequest request) {
  return impl_->CallSync("range", &pb::KV::Stub::PrepareAsyncRange, std::move(request),
                         CallKind::kRead);
}
StatusOr<pb::CompactionResponse> EtcdClient::CompactSync(pb::CompactionRequest request) {
  return impl_->CallSync("compaction", &pb::KV::Stub::PrepareAsyncCompact, std::move(request),
                         CallKind::kWrite);
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
