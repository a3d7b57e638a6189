#include "client/in_process.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
// clang-format on
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include "base/thread.h"
#include "client/wire.h"

namespace kennel::client {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A request the executor never runs (its io_context stopped) would otherwise
// block the caller forever; no handler request takes anywhere near this long.
constexpr auto kRequestTimeout = std::chrono::seconds(120);
// As the HTTP server does: a quiet watch that asked for bookmarks learns the
// newest revision once a minute.
constexpr auto kBookmarkInterval = std::chrono::seconds(60);

// One in-process watch. The store's thread appends raw events to pending
// (under the dispatcher's mutex); the dispatcher thread renders and delivers.
struct InProcessWatch {
  WatchCallback on_event;
  std::unique_ptr<apiserver::WatchStream> stream;  // set once OpenWatch returned
  std::deque<store::Event> pending;
  bool armed = false;          // stream set: the dispatcher may render
  bool queued = false;         // in the dispatcher's ready queue
  bool initial_taken = false;  // the initial ADDED lines were delivered
  bool bookmark_due = false;
  std::atomic<bool> stopped{false};  // the handle is gone: deliver nothing more
};

// The one thread that delivers every in-process watch of a client: informers
// are many, and each would otherwise cost a thread (the price: a slow
// callback delays every other watch of the client). Shared by the client, the
// thread itself and every handle, so handles may outlive the client.
class Dispatcher {
 public:
  void Run();
  void Shutdown();

  // Called by the store thread through the watch's sink.
  void Enqueue(const std::shared_ptr<InProcessWatch>& w, const std::vector<store::Event>& events);
  void Arm(const std::shared_ptr<InProcessWatch>& w, std::unique_ptr<apiserver::WatchStream> s);
  // Stops w; waits until the dispatcher is not delivering to it, unless called
  // from the dispatcher itself (from a callback of w or another watch).
  void Stop(const std::shared_ptr<InProcessWatch>& w);
  void SetThread(std::thread::id id);

 private:
  void MakeReadyLocked(const std::shared_ptr<InProcessWatch>& w);
  void MarkBookmarksDueLocked();
  void Deliver(InProcessWatch& w, bool initial, const std::deque<store::Event>& events,
               bool bookmark);

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;  // current_ changed
  bool shutdown_ = false;
  std::thread::id thread_id_;
  std::deque<std::shared_ptr<InProcessWatch>> ready_;
  std::list<std::weak_ptr<InProcessWatch>> watches_;  // for bookmarks
  InProcessWatch* current_ = nullptr;                 // being delivered to
};

void Dispatcher::SetThread(std::thread::id id) {
  std::lock_guard<std::mutex> lock(mu_);
  thread_id_ = id;
}

void Dispatcher::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
}

void Dispatcher::MakeReadyLocked(const std::shared_ptr<InProcessWatch>& w) {
  if (w->queued || !w->armed || w->stopped) return;
  w->queued = true;
  ready_.push_back(w);
  work_cv_.notify_one();
}

void Dispatcher::Enqueue(const std::shared_ptr<InProcessWatch>& w,
                         const std::vector<store::Event>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  if (w->stopped) return;
  w->pending.insert(w->pending.end(), events.begin(), events.end());
  MakeReadyLocked(w);
}

void Dispatcher::Arm(const std::shared_ptr<InProcessWatch>& w,
                     std::unique_ptr<apiserver::WatchStream> s) {
  std::lock_guard<std::mutex> lock(mu_);
  w->stream = std::move(s);
  w->armed = true;
  watches_.push_back(w);
  // Even with no event yet, the initial lines are owed.
  MakeReadyLocked(w);
}

void Dispatcher::Stop(const std::shared_ptr<InProcessWatch>& w) {
  std::unique_ptr<apiserver::WatchStream> stream;
  {
    std::unique_lock<std::mutex> lock(mu_);
    w->stopped = true;
    if (std::this_thread::get_id() != thread_id_) {
      idle_cv_.wait(lock, [&] { return current_ != w.get(); });
    }
    // The dispatcher renders a whole batch before its first callback, so even
    // from inside a callback of w nothing uses the stream any more.
    stream = std::move(w->stream);
    w->pending.clear();
    watches_.remove_if([&](const std::weak_ptr<InProcessWatch>& p) {
      auto locked = p.lock();
      return !locked || locked == w;
    });
  }
  // Outside the lock: this cancels the store watch, waiting for a running sink,
  // which takes mu_.
  stream.reset();
}

void Dispatcher::MarkBookmarksDueLocked() {
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto w = it->lock();
    if (!w) {
      it = watches_.erase(it);
      continue;
    }
    w->bookmark_due = true;
    MakeReadyLocked(w);
    ++it;
  }
}

void Dispatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  auto next_bookmark = Clock::now() + kBookmarkInterval;
  while (!shutdown_) {
    if (Clock::now() >= next_bookmark) {
      MarkBookmarksDueLocked();
      next_bookmark = Clock::now() + kBookmarkInterval;
    }
    if (ready_.empty()) {
      work_cv_.wait_until(lock, next_bookmark);
      continue;
    }
    std::shared_ptr<InProcessWatch> w = std::move(ready_.front());
    ready_.pop_front();
    w->queued = false;
    if (w->stopped || !w->stream) continue;
    std::deque<store::Event> events;
    events.swap(w->pending);
    bool initial = !w->initial_taken;
    w->initial_taken = true;
    bool bookmark = w->bookmark_due;
    w->bookmark_due = false;
    current_ = w.get();
    lock.unlock();
    Deliver(*w, initial, events, bookmark);
    lock.lock();
    current_ = nullptr;
    idle_cv_.notify_all();
  }
}

void Dispatcher::Deliver(InProcessWatch& w, bool initial, const std::deque<store::Event>& events,
                         bool bookmark) {
  // Render everything first (JSON work off the store's thread), so callbacks
  // may destroy the handle, and with it the stream, at any point after.
  // Live events come as objects, not text: nothing to serialize and parse
  // back. The initial state and bookmarks are rare and come as lines.
  std::vector<WatchEvent> out;
  auto add_lines = [&out](std::string_view text) {
    LineSplitter splitter;
    splitter.Feed(text, [&out](std::string_view line) {
      auto event = ParseWatchLine(line);
      if (event.ok()) out.push_back(std::move(*event));
      return true;
    });
  };
  if (initial) {
    for (const auto& line : w.stream->TakeInitialLines()) add_lines(line);
  }
  for (const auto& e : events) {
    if (auto o = w.stream->RenderObject(e)) out.push_back({o->type, std::move(o->object)});
  }
  if (bookmark) add_lines(w.stream->BookmarkLine());
  for (WatchEvent& event : out) {
    if (w.stopped) return;
    w.on_event(std::move(event));
  }
}

class InProcessWatchHandle : public WatchHandle {
 public:
  InProcessWatchHandle(std::shared_ptr<Dispatcher> dispatcher, std::shared_ptr<InProcessWatch> w)
      : dispatcher_(std::move(dispatcher)), watch_(std::move(w)) {}
  ~InProcessWatchHandle() override { dispatcher_->Stop(watch_); }

 private:
  std::shared_ptr<Dispatcher> dispatcher_;
  std::shared_ptr<InProcessWatch> watch_;
};

class InProcessClient : public Client {
 public:
  InProcessClient(apiserver::Handler* handler, asio::any_io_executor executor)
      : handler_(handler), executor_(std::move(executor)) {
    dispatcher_ = std::make_shared<Dispatcher>();
    thread_ = std::thread([d = dispatcher_] {
      NameThisThread("watch-dispatch");
      d->Run();
    });
    dispatcher_->SetThread(thread_.get_id());
  }

  ~InProcessClient() override {
    dispatcher_->Shutdown();
    // Destroyed from inside a watch callback: the dispatcher finishes that
    // callback and exits on its own; it holds its own reference.
    if (std::this_thread::get_id() == thread_.get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  StatusOr<Response> Do(const Request& request) override;
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource& resource, const std::string& ns,
                                               const ListOptions& options, WatchCallback on_event,
                                               WatchClosedCallback on_closed) override;

 private:
  apiserver::Handler* handler_;
  asio::any_io_executor executor_;
  std::shared_ptr<Dispatcher> dispatcher_;
  std::thread thread_;
};

apiserver::ApiRequest ToApiRequest(const Request& request) {
  apiserver::ApiRequest req;
  req.method = request.method;
  req.path = request.path;
  req.query = apiserver::ParseQuery(request.query);
  req.content_type = request.content_type;
  req.accept = request.accept;
  req.body = request.body;
  return req;
}

StatusOr<Response> InProcessClient::Do(const Request& request) {
  apiserver::ApiRequest req = ToApiRequest(request);
  if (apiserver::Handler::IsWatch(req)) return BadRequest("watch requests go through Watch()");
  try {
    // req is a named value moved into Handle's by-value parameter: nothing
    // temporary lives across the coroutine's suspensions.
    std::future<apiserver::ApiResponse> done =
        asio::co_spawn(executor_, handler_->Handle(std::move(req)), asio::use_future);
    if (done.wait_for(kRequestTimeout) != std::future_status::ready) {
      return Status(Code::kTimeout, "the API server's executor did not answer " + request.method +
                                        " " + request.path + " in time");
    }
    apiserver::ApiResponse answer = done.get();
    return Response{answer.code, std::move(answer.content_type), std::move(answer.body)};
  } catch (const std::future_error& e) {
    // The io_context was destroyed with the request still queued.
    return Unavailable(std::string("the API server stopped: ") + e.what());
  } catch (const std::exception& e) {
    return Internal(std::string("in-process request failed: ") + e.what());
  }
}

StatusOr<std::unique_ptr<WatchHandle>> InProcessClient::Watch(const Resource& resource,
                                                              const std::string& ns,
                                                              const ListOptions& options,
                                                              WatchCallback on_event,
                                                              WatchClosedCallback on_closed) {
  // In-process streams have no timeout and no connection to lose: they end
  // only when the handle goes, so on_closed is never called.
  (void)on_closed;
  Request request;
  request.path = ResourcePath(resource, ns);
  request.query = WatchQuery(options);
  request.accept = AcceptFor(options, /*list=*/false);
  apiserver::ApiRequest req = ToApiRequest(request);

  auto w = std::make_shared<InProcessWatch>();
  w->on_event = std::move(on_event);
  // Weak: the stream owns the store watch, which owns this sink; a strong
  // reference would keep the watch alive through its own stream.
  std::weak_ptr<Dispatcher> weak_dispatcher = dispatcher_;
  std::weak_ptr<InProcessWatch> weak_watch = w;
  auto sink = [weak_dispatcher, weak_watch](const std::vector<store::Event>& events) {
    auto d = weak_dispatcher.lock();
    auto watch = weak_watch.lock();
    if (d && watch) d->Enqueue(watch, events);
  };
  std::string content_type;
  ASSIGN_OR_RETURN(std::unique_ptr<apiserver::WatchStream> stream,
                   handler_->OpenWatch(req, std::move(sink), &content_type));
  dispatcher_->Arm(w, std::move(stream));
  return std::unique_ptr<WatchHandle>(
      std::make_unique<InProcessWatchHandle>(dispatcher_, std::move(w)));
}

}  // namespace

std::unique_ptr<Client> NewInProcessClient(apiserver::Handler* handler,
                                           asio::any_io_executor executor) {
  return std::make_unique<InProcessClient>(handler, std::move(executor));
}

}  // namespace kennel::client
