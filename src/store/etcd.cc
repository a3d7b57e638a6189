#include "store/etcd.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/base64.h"
#include "store/internal/etcd_client.h"
#include "store/internal/etcd_internal.h"

namespace kennel::store {
namespace {

using internal::CallKind;
using internal::EtcdClient;
using internal::Json;
using internal::JsonBytes;
using internal::JsonInt;
using internal::PrefixEnd;

// Under the key prefix; hidden from Get, Range and Watch.
constexpr std::string_view kCompactKey = "/compact_rev_key";

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// etcd refuses an empty key; no stored key is empty, so "\0" starts at the same place.
std::string NonEmptyKey(std::string key) { return key.empty() ? std::string(1, '\0') : key; }

template <typename F>
void RunGuarded(F& f, const char* what) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("etcd store: {} threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("etcd store: {} threw a non-exception", what);
  }
}

struct Watcher {
  Watcher(std::string p, int64_t after, WatchCallback cb)
      : prefix(std::move(p)), after_revision(after), callback(std::move(cb)) {}

  const std::string prefix;
  const int64_t after_revision;
  uint64_t stream_id = 0;  // its own etcd stream, if any; set before the handle exists
  // Set once under mu; read without it by the fan-out to prune dead watchers.
  std::atomic<bool> cancelled{false};

  std::mutex mu;
  std::condition_variable idle;  // signalled when running_on is cleared
  WatchCallback callback;        // guarded by mu except while running_on is set
  std::vector<Event> pending;    // guarded by mu
  bool scheduled = false;        // guarded by mu: queued for the dispatch thread
  std::thread::id running_on;    // guarded by mu: thread inside callback, if any
};

// Lets watch handles, which may outlive the store, stop their etcd stream
// while the store still has a client.
struct StreamStopper {
  std::mutex mu;
  EtcdClient* client = nullptr;  // guarded by mu; null once the store shuts down

  void Stop(uint64_t id) {
    std::lock_guard lock(mu);
    if (client != nullptr) client->StopWatch(id);
  }
};

class EtcdWatchHandle final : public WatchHandle {
 public:
  EtcdWatchHandle(std::shared_ptr<Watcher> watcher, std::shared_ptr<StreamStopper> stopper)
      : w_(std::move(watcher)), stopper_(std::move(stopper)) {}

  ~EtcdWatchHandle() override {
    if (w_->stream_id != 0) stopper_->Stop(w_->stream_id);
    WatchCallback dead;
    std::unique_lock lock(w_->mu);
    w_->cancelled.store(true, std::memory_order_release);
    w_->pending.clear();
    // From inside its own callback the running callback is our caller: waiting
    // would deadlock, and `cancelled` already keeps it from ever running again.
    auto self = std::this_thread::get_id();
    w_->idle.wait(lock,
                  [&] { return w_->running_on == std::thread::id() || w_->running_on == self; });
    if (w_->running_on == std::thread::id()) dead = std::move(w_->callback);
  }

 private:
  std::shared_ptr<Watcher> w_;
  std::shared_ptr<StreamStopper> stopper_;
};

enum class Op { kCreate, kUpdate, kDelete };

Json Compare(const char* target, const char* result, const std::string& key64, const char* field,
             int64_t value) {
  return Json{
      {"target", target}, {"result", result}, {"key", key64}, {field, std::to_string(value)}};
}

// Create: "absent → put". Update/Delete: "mod_revision matches (or, for
// kAnyRevision, the key exists) → put/delete with prev_kv". The failure branch
// reads the key, so one round trip tells kNotFound from kConflict.
Json WriteTxn(Op op, const std::string& etcd_key, const std::string& value, int64_t expected) {
  const std::string k = Base64Encode(etcd_key);
  Json compare;
  Json success;
  if (op == Op::kCreate) {
    compare = Compare("CREATE", "EQUAL", k, "create_revision", 0);
  } else if (expected == kAnyRevision) {
    compare = Compare("CREATE", "GREATER", k, "create_revision", 0);
  } else {
    compare = Compare("MOD", "EQUAL", k, "mod_revision", expected);
  }
  if (op == Op::kDelete) {
    success = Json{{"request_delete_range", {{"key", k}, {"prev_kv", true}}}};
  } else {
    success = Json{{"request_put",
                    {{"key", k}, {"value", Base64Encode(value)}, {"prev_kv", op != Op::kCreate}}}};
  }
  Json failure = Json{{"request_range", {{"key", k}, {"keys_only", true}}}};
  Json txn;
  txn["compare"] = Json::array({std::move(compare)});
  txn["success"] = Json::array({std::move(success)});
  txn["failure"] = Json::array({std::move(failure)});
  return txn;
}

const Json& FirstResponse(const Json& txn, const char* kind) {
  return txn.at("responses").at(0).at(kind);
}

class EtcdStore final : public Store {
 public:
  static StatusOr<std::unique_ptr<Store>> Open(const EtcdOptions& options) {
    if (options.history_events < 0) return BadRequest("etcd store: history_events < 0");
    if (options.compaction_interval.count() < 0) {
      return BadRequest("etcd store: compaction_interval < 0");
    }
    internal::EtcdClientOptions client_options;
    client_options.endpoints = options.endpoints;
    client_options.ca_file = options.ca_file;
    client_options.cert_file = options.cert_file;
    client_options.key_file = options.key_file;
    client_options.request_timeout = options.request_timeout;
    ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client, EtcdClient::Create(client_options));
    std::unique_ptr<EtcdStore> store(new EtcdStore(options, std::move(client)));
    RETURN_IF_ERROR(store->Start());
    return std::unique_ptr<Store>(std::move(store));
  }

  ~EtcdStore() override {
    // Requests in flight finish (their acknowledgements queue up for the
    // dispatch thread); then the streams close and the I/O thread ends.
    client_->Shutdown();
    {
      std::lock_guard lock(stopper_->mu);
      stopper_->client = nullptr;
    }
    {
      std::lock_guard lock(dispatch_mu_);
      dispatch_stop_ = true;
    }
    dispatch_cv_.notify_all();
    if (dispatcher_.joinable()) dispatcher_.join();
  }

  void Create(std::string key, std::string value, WriteCallback done) override {
    Write(Op::kCreate, std::move(key), std::move(value), kAnyRevision, std::move(done));
  }

  void Update(std::string key, std::string value, int64_t expected_mod_revision,
              WriteCallback done) override {
    Write(Op::kUpdate, std::move(key), std::move(value), expected_mod_revision, std::move(done));
  }

  void Delete(std::string key, int64_t expected_mod_revision, WriteCallback done) override {
    Write(Op::kDelete, std::move(key), std::string(), expected_mod_revision, std::move(done));
  }

  StatusOr<KeyValue> Get(const std::string& key) override {
    if (key == kCompactKey) return NotFound("key not found");
    ASSIGN_OR_RETURN(Json r,
                     client_->CallSync("/v3/kv/range", Json{{"key", Base64Encode(EtcdKey(key))}},
                                       CallKind::kRead));
    try {
      NoteRevision(JsonInt(r.at("header"), "revision"));
      auto kvs = r.find("kvs");
      if (kvs == r.end() || kvs->empty()) return NotFound("key not found");
      return StoreKv(kvs->at(0));
    } catch (const std::exception& e) {
      return Internal(std::string("etcd store: malformed range answer: ") + e.what());
    }
  }

  StatusOr<RangeResponse> Range(const RangeRequest& request) override {
    if (request.limit < 0) return BadRequest("range limit < 0");
    const std::string prefix = EtcdKey(request.prefix);
    const std::string from =
        request.start_key > request.prefix ? EtcdKey(request.start_key) : prefix;
    Json body{{"key", Base64Encode(NonEmptyKey(from))},
              {"range_end", Base64Encode(PrefixEnd(prefix))}};
    // One more than asked, so that dropping the hidden compaction key never
    // shortens a page, and a full page knows whether more follow.
    if (request.limit > 0) body["limit"] = std::to_string(request.limit + 1);
    ASSIGN_OR_RETURN(Json r, client_->CallSync("/v3/kv/range", std::move(body), CallKind::kRead));
    RangeResponse response;
    try {
      response.revision = JsonInt(r.at("header"), "revision");
      NoteRevision(response.revision);
      response.more = r.value("more", false);
      if (auto kvs = r.find("kvs"); kvs != r.end()) {
        for (const Json& kv : *kvs) {
          KeyValue item = StoreKv(kv);
          if (item.key != kCompactKey) response.kvs.push_back(std::move(item));
        }
      }
    } catch (const std::exception& e) {
      return Internal(std::string("etcd store: malformed range answer: ") + e.what());
    }
    if (request.limit > 0 && static_cast<int64_t>(response.kvs.size()) > request.limit) {
      response.kvs.resize(request.limit);
      response.more = true;
    }
    return response;
  }

  int64_t Revision() override {
    StatusOr<Json> r = client_->CallSync(
        "/v3/kv/range", Json{{"key", Base64Encode(compact_etcd_key_)}, {"count_only", true}},
        CallKind::kRead);
    if (r.ok()) {
      try {
        NoteRevision(JsonInt(r->at("header"), "revision"));
      } catch (const std::exception& e) {
        spdlog::warn("etcd store: malformed range answer: {}", e.what());
      }
    }
    return revision_.load();
  }

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               WatchCallback callback) override {
    if (after_revision < 0) return BadRequest("watch: after_revision < 0");
    if (!callback) return BadRequest("watch: no callback");
    auto watcher = std::make_shared<Watcher>(prefix, after_revision, std::move(callback));
    if (JoinShared(watcher)) return MakeHandle(std::move(watcher));
    return WatchWithOwnStream(std::move(watcher));
  }

  internal::EtcdCounters Counters() const {
    return {client_->watch_streams_created(), own_stream_watches_.load(), compaction_turns_.load(),
            compactions_.load(), last_compacted_.load()};
  }

  Status CompactTo(int64_t revision) {
    return client_
        ->CallSync("/v3/kv/compaction", Json{{"revision", std::to_string(revision)}},
                   CallKind::kWrite)
        .status();
  }

 private:
  EtcdStore(const EtcdOptions& options, std::unique_ptr<EtcdClient> client)
      : options_(options),
        compact_etcd_key_(options.key_prefix + std::string(kCompactKey)),
        client_(std::move(client)),
        stopper_(std::make_shared<StreamStopper>()) {
    stopper_->client = client_.get();
  }

  Status Start() {
    dispatcher_ = std::thread([this] { DispatchLoop(); });
    ASSIGN_OR_RETURN(Json r, client_->CallSync("/v3/kv/range",
                                               Json{{"key", Base64Encode(compact_etcd_key_)},
                                                    {"count_only", true}},
                                               CallKind::kRead));
    int64_t revision = 0;
    try {
      revision = JsonInt(r.at("header"), "revision");
    } catch (const std::exception& e) {
      return Internal(std::string("etcd store: malformed range answer: ") + e.what());
    }
    {
      std::lock_guard lock(state_mu_);
      last_event_revision_ = revision;
      // A fresh etcd (revision 1) has had no events at all, so the window
      // holds everything and a watch from 0 needs no stream of its own.
      history_floor_ = revision == 1 ? 0 : revision;
    }
    NoteRevision(revision);
    StartSharedStream(revision + 1);
    // Until etcd has created the stream, the events after `revision` exist for
    // it only as history, which a compaction could take away.
    std::unique_lock lock(created_mu_);
    if (!created_cv_.wait_for(lock, options_.request_timeout, [&] { return shared_created_; })) {
      return Unavailable("etcd store: no watch stream could be opened on " +
                         client_->endpoint_list() + " within the request timeout");
    }
    lock.unlock();
    ScheduleCompaction();
    return Status::Ok();
  }

  std::string EtcdKey(const std::string& key) const { return options_.key_prefix + key; }

  KeyValue StoreKv(const Json& kv) const {
    KeyValue out{JsonBytes(kv, "key"), JsonBytes(kv, "value"), JsonInt(kv, "create_revision"),
                 JsonInt(kv, "mod_revision")};
    out.key.erase(0, options_.key_prefix.size());
    return out;
  }

  void NoteRevision(int64_t revision) {
    int64_t seen = revision_.load();
    while (revision > seen && !revision_.compare_exchange_weak(seen, revision)) {
    }
  }

  // ------------------------------------------------------------ writes

  void Write(Op op, std::string key, std::string value, int64_t expected, WriteCallback done) {
    if (key == kCompactKey) {
      Ack(std::move(done), BadRequest("etcd store: key " + key + " is reserved"));
      return;
    }
    Json txn = WriteTxn(op, EtcdKey(key), value, expected);
    client_->Call("/v3/kv/txn", std::move(txn), CallKind::kWrite,
                  [this, op, key = std::move(key), value = std::move(value), expected,
                   done = std::move(done)](StatusOr<Json> r) mutable {
                    StatusOr<KeyValue> result =
                        r.ok() ? WriteResult(op, std::move(key), std::move(value), expected, *r)
                               : StatusOr<KeyValue>(r.status());
                    Ack(std::move(done), std::move(result));
                  });
  }

  StatusOr<KeyValue> WriteResult(Op op, std::string key, std::string value, int64_t expected,
                                 const Json& r) {
    try {
      const int64_t revision = JsonInt(r.at("header"), "revision");
      NoteRevision(revision);
      if (!r.value("succeeded", false)) return Refused(op, expected, r);
      switch (op) {
        case Op::kCreate:
          return KeyValue{std::move(key), std::move(value), revision, revision};
        case Op::kUpdate: {
          const Json& prev = FirstResponse(r, "response_put").at("prev_kv");
          return KeyValue{std::move(key), std::move(value), JsonInt(prev, "create_revision"),
                          revision};
        }
        case Op::kDelete: {
          const Json& prev = FirstResponse(r, "response_delete_range").at("prev_kvs").at(0);
          return KeyValue{std::move(key), JsonBytes(prev, "value"),
                          JsonInt(prev, "create_revision"), revision};
        }
      }
      return Internal("etcd store: unknown write");
    } catch (const std::exception& e) {
      return Internal(std::string("etcd store: malformed txn answer: ") + e.what());
    }
  }

  static Status Refused(Op op, int64_t expected, const Json& r) {
    if (op == Op::kCreate) return AlreadyExists("key already exists");
    const Json& range = FirstResponse(r, "response_range");
    auto kvs = range.find("kvs");
    if (kvs == range.end() || kvs->empty()) return NotFound("key not found");
    return Conflict("key was modified: mod_revision is " +
                    std::to_string(JsonInt(kvs->at(0), "mod_revision")) + ", expected " +
                    std::to_string(expected));
  }

  // Write callbacks run on the dispatch thread, never on the I/O thread, so a
  // callback that takes its time does not stall every connection.
  void Ack(WriteCallback done, StatusOr<KeyValue> result) {
    if (!done) return;
    std::function<void()> task = [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    };
    {
      std::lock_guard lock(dispatch_mu_);
      if (!dispatch_stop_) {
        acks_.push_back(std::move(task));
        dispatch_cv_.notify_one();
        return;
      }
    }
    RunGuarded(task, "write callback");
  }

  // ------------------------------------------------------------ watches

  void StartSharedStream(int64_t from_revision) {
    const std::string key = NonEmptyKey(options_.key_prefix);
    client_->StartWatch({key, PrefixEnd(options_.key_prefix), from_revision},
                        {[this](std::vector<Event> events) { OnSharedEvents(std::move(events)); },
                         [this](int64_t compacted) { OnSharedStreamCompacted(compacted); },
                         [this] {
                           std::lock_guard lock(created_mu_);
                           shared_created_ = true;
                           created_cv_.notify_all();
                         }});
  }

  // Serves the watch from the in-memory window and the shared stream, if the
  // window reaches back to after_revision.
  bool JoinShared(const std::shared_ptr<Watcher>& watcher) {
    {
      // The fan-out holds this lock while it appends to history and hands
      // events to watchers, so replay and live events meet exactly.
      std::lock_guard lock(state_mu_);
      if (watcher->after_revision < history_floor_) return false;
      auto first = std::upper_bound(
          history_.begin(), history_.end(), watcher->after_revision,
          [](int64_t revision, const Event& ev) { return revision < ev.revision(); });
      for (auto it = first; it != history_.end(); ++it) {
        if (HasPrefix(it->kv.key, watcher->prefix)) watcher->pending.push_back(*it);
      }
      watchers_.push_back(watcher);
      if (watcher->pending.empty()) return true;
      watcher->scheduled = true;
      std::lock_guard dispatch_lock(dispatch_mu_);
      ready_.push_back(watcher);
    }
    dispatch_cv_.notify_one();
    return true;
  }

  // Before the window: etcd may still have the events; a stream of its own
  // replays them and then keeps delivering for the watch's lifetime.
  StatusOr<std::unique_ptr<WatchHandle>> WatchWithOwnStream(std::shared_ptr<Watcher> watcher) {
    const int64_t from = watcher->after_revision + 1;
    // A read at `from` fails with "compacted" exactly when a watch from it would.
    StatusOr<Json> probe = client_->CallSync("/v3/kv/range",
                                             Json{{"key", Base64Encode(compact_etcd_key_)},
                                                  {"revision", std::to_string(from)},
                                                  {"count_only", true}},
                                             CallKind::kRead);
    if (probe.status().code() == Code::kGone) {
      return Gone("watch: events after revision " + std::to_string(watcher->after_revision) +
                  " have been compacted (" + probe.status().message() + ")");
    }
    if (!probe.ok()) return probe.status();
    const std::string key = EtcdKey(watcher->prefix);
    watcher->stream_id = client_->StartWatch(
        {NonEmptyKey(key), PrefixEnd(key), from},
        {[this, watcher](std::vector<Event> events) { OnOwnStreamEvents(watcher, events); },
         [watcher](int64_t compacted) {
           // The contract has no way to end a watch: say so loudly.
           spdlog::error(
               "etcd store: a watch on \"{}\" lost events: etcd compacted to revision {} "
               "while its stream was down",
               watcher->prefix, compacted);
         },
         nullptr});
    own_stream_watches_.fetch_add(1);
    return MakeHandle(std::move(watcher));
  }

  std::unique_ptr<WatchHandle> MakeHandle(std::shared_ptr<Watcher> watcher) {
    return std::make_unique<EtcdWatchHandle>(std::move(watcher), stopper_);
  }

  // Drops the hidden compaction key and strips the key prefix. Every event
  // carries a key under the prefix: the streams watch only that range.
  bool ToStoreEvent(Event& ev) const {
    if (ev.kv.key == compact_etcd_key_) return false;
    ev.kv.key.erase(0, options_.key_prefix.size());
    if (ev.prev_kv) ev.prev_kv->key.erase(0, options_.key_prefix.size());
    return true;
  }

  // I/O thread: the shared stream's events go into the window and to every
  // watcher of the shared stream.
  void OnSharedEvents(std::vector<Event> events) {
    const int64_t last = events.back().revision();
    std::vector<std::shared_ptr<Watcher>> to_deliver;
    {
      std::lock_guard lock(state_mu_);
      std::vector<Event> visible;
      visible.reserve(events.size());
      for (Event& ev : events) {
        last_event_revision_ = std::max(last_event_revision_, ev.revision());
        if (ToStoreEvent(ev)) visible.push_back(std::move(ev));
      }
      FanOut(visible, to_deliver);
      for (Event& ev : visible) history_.push_back(std::move(ev));
      while (static_cast<int64_t>(history_.size()) > options_.history_events) {
        history_floor_ = history_.front().revision();
        history_.pop_front();
      }
    }
    NoteRevision(last);
    Schedule(to_deliver);
  }

  void FanOut(const std::vector<Event>& events, std::vector<std::shared_ptr<Watcher>>& to_deliver) {
    std::erase_if(watchers_, [](const std::shared_ptr<Watcher>& w) {
      return w->cancelled.load(std::memory_order_acquire);
    });
    for (const std::shared_ptr<Watcher>& w : watchers_) {
      std::unique_lock wlock(w->mu, std::defer_lock);
      for (const Event& ev : events) {
        if (ev.revision() <= w->after_revision || !HasPrefix(ev.kv.key, w->prefix)) continue;
        if (!wlock.owns_lock()) wlock.lock();
        w->pending.push_back(ev);
      }
      if (wlock.owns_lock() && !w->scheduled && !w->pending.empty()) {
        w->scheduled = true;
        to_deliver.push_back(w);
      }
    }
  }

  // etcd compacted past the shared stream's position while it was down (for
  // longer than a compaction interval): the events in between are lost to
  // every current watcher, which the contract cannot tell them. New watches
  // from before that point get kGone; the stream resumes where etcd can.
  void OnSharedStreamCompacted(int64_t compacted) {
    std::lock_guard lock(state_mu_);
    spdlog::error(
        "etcd store: shared watch stream lost events after revision {}: etcd compacted to "
        "revision {} while the stream was down",
        last_event_revision_, compacted);
    history_.clear();
    history_floor_ = compacted - 1;
    last_event_revision_ = compacted - 1;
    StartSharedStream(compacted);
  }

  // I/O thread: events of a watch's own stream go to that watch only.
  void OnOwnStreamEvents(const std::shared_ptr<Watcher>& w, std::vector<Event>& events) {
    NoteRevision(events.back().revision());
    bool schedule = false;
    {
      std::lock_guard lock(w->mu);
      if (w->cancelled.load(std::memory_order_relaxed)) return;
      for (Event& ev : events) {
        if (ToStoreEvent(ev)) w->pending.push_back(std::move(ev));
      }
      if (!w->scheduled && !w->pending.empty()) schedule = w->scheduled = true;
    }
    if (schedule) Schedule({w});
  }

  void Schedule(const std::vector<std::shared_ptr<Watcher>>& watchers) {
    if (watchers.empty()) return;
    {
      std::lock_guard lock(dispatch_mu_);
      ready_.insert(ready_.end(), watchers.begin(), watchers.end());
    }
    dispatch_cv_.notify_one();
  }

  void DispatchLoop() {
    std::vector<std::shared_ptr<Watcher>> ready;
    std::vector<std::function<void()>> acks;
    for (;;) {
      {
        std::unique_lock lock(dispatch_mu_);
        dispatch_cv_.wait(lock,
                          [&] { return !ready_.empty() || !acks_.empty() || dispatch_stop_; });
        if (ready_.empty() && acks_.empty()) return;
        ready.swap(ready_);
        acks.swap(acks_);
      }
      for (const std::shared_ptr<Watcher>& w : ready) Deliver(*w);
      for (std::function<void()>& ack : acks) RunGuarded(ack, "write callback");
      ready.clear();
      acks.clear();
    }
  }

  static void Deliver(Watcher& w) {
    std::vector<Event> events;
    {
      std::lock_guard lock(w.mu);
      w.scheduled = false;
      if (w.cancelled.load(std::memory_order_relaxed) || w.pending.empty()) return;
      events.swap(w.pending);
      w.running_on = std::this_thread::get_id();
    }
    auto run = [&] { w.callback(events); };
    RunGuarded(run, "watch callback");
    WatchCallback dead;
    {
      std::lock_guard lock(w.mu);
      w.running_on = std::thread::id();
      // The handle was destroyed from inside this callback and left it to us.
      if (w.cancelled.load(std::memory_order_relaxed)) dead = std::move(w.callback);
    }
    w.idle.notify_all();
  }

  // ------------------------------------------------------------ compaction
  //
  // kube-apiserver's scheme: each turn, compare-and-swap the compaction key's
  // version from the one we last saw; the winner compacts to the revision it
  // observed one turn earlier, so watchers always keep at least an interval of
  // history. A loser learns the current version and may win the next turn.
  // Runs on the I/O thread only.

  void ScheduleCompaction() {
    if (options_.compaction_interval.count() == 0) return;
    client_->Schedule(options_.compaction_interval, [this] { CompactionTurn(); });
  }

  void CompactionTurn() {
    const std::string k = Base64Encode(compact_etcd_key_);
    Json txn;
    txn["compare"] = Json::array({Compare("VERSION", "EQUAL", k, "version", compact_version_)});
    txn["success"] = Json::array(
        {Json{{"request_put",
               {{"key", k}, {"value", Base64Encode(std::to_string(compact_revision_))}}}}});
    txn["failure"] = Json::array({Json{{"request_range", {{"key", k}}}}});
    client_->Call("/v3/kv/txn", std::move(txn), CallKind::kWrite,
                  [this](StatusOr<Json> r) { OnCompactionSwap(std::move(r)); });
  }

  void OnCompactionSwap(StatusOr<Json> r) {
    if (!r.ok()) {
      spdlog::warn("etcd store: compaction turn failed: {}", r.status().message());
      ScheduleCompaction();
      return;
    }
    int64_t target = 0;
    try {
      const int64_t now = JsonInt(r->at("header"), "revision");
      if (!r->value("succeeded", false)) {
        const Json& range = FirstResponse(*r, "response_range");
        auto kvs = range.find("kvs");
        compact_version_ =
            (kvs == range.end() || kvs->empty()) ? 0 : JsonInt(kvs->at(0), "version");
      } else {
        ++compact_version_;
        compaction_turns_.fetch_add(1);
        target = compact_revision_;  // 0 on our first turn: nothing observed yet
      }
      compact_revision_ = now;
    } catch (const std::exception& e) {
      spdlog::warn("etcd store: malformed compaction answer: {}", e.what());
    }
    if (target == 0) {
      ScheduleCompaction();
      return;
    }
    client_->Call("/v3/kv/compaction", Json{{"revision", std::to_string(target)}}, CallKind::kWrite,
                  [this, target](StatusOr<Json> c) {
                    if (c.ok()) {
                      compactions_.fetch_add(1);
                      last_compacted_.store(target);
                      spdlog::info("etcd store: compacted etcd to revision {}", target);
                    } else if (c.status().code() != Code::kGone) {  // Gone: already further
                      spdlog::warn("etcd store: compaction to {} failed: {}", target,
                                   c.status().message());
                    }
                    ScheduleCompaction();
                  });
  }

  const EtcdOptions options_;
  const std::string compact_etcd_key_;
  std::unique_ptr<EtcdClient> client_;
  std::shared_ptr<StreamStopper> stopper_;
  std::atomic<int64_t> revision_{0};  // the highest revision seen in any answer

  // The window. Written only by the I/O thread (shared stream).
  std::mutex state_mu_;
  std::deque<Event> history_;        // guarded by state_mu_; in revision order
  int64_t history_floor_ = 0;        // guarded by state_mu_: every event after it is in history_
  int64_t last_event_revision_ = 0;  // guarded by state_mu_: the shared stream's position
  std::vector<std::shared_ptr<Watcher>> watchers_;  // guarded by state_mu_

  std::mutex created_mu_;
  std::condition_variable created_cv_;
  bool shared_created_ = false;  // guarded by created_mu_: etcd accepted the shared stream

  std::mutex dispatch_mu_;
  std::condition_variable dispatch_cv_;
  std::vector<std::shared_ptr<Watcher>> ready_;  // guarded by dispatch_mu_
  std::vector<std::function<void()>> acks_;      // guarded by dispatch_mu_
  bool dispatch_stop_ = false;                   // guarded by dispatch_mu_

  // Compaction state: I/O thread only.
  int64_t compact_version_ = 0;
  int64_t compact_revision_ = 0;

  std::atomic<int64_t> own_stream_watches_{0};
  std::atomic<int64_t> compaction_turns_{0};
  std::atomic<int64_t> compactions_{0};
  std::atomic<int64_t> last_compacted_{0};

  std::thread dispatcher_;
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenEtcd(const EtcdOptions& options) {
  try {
    return EtcdStore::Open(options);
  } catch (const std::exception& e) {
    return Internal(std::string("etcd store: ") + e.what());
  }
}

namespace internal {

std::optional<EtcdCounters> GetEtcdCounters(Store& store) {
  auto* etcd = dynamic_cast<EtcdStore*>(&store);
  if (etcd == nullptr) return std::nullopt;
  return etcd->Counters();
}

Status CompactEtcd(Store& store, int64_t revision) {
  auto* etcd = dynamic_cast<EtcdStore*>(&store);
  if (etcd == nullptr) return BadRequest("not an etcd store");
  return etcd->CompactTo(revision);
}

}  // namespace internal
}  // namespace kennel::store
