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

#include "base/thread.h"
#include "store/internal/etcd_client.h"
#include "store/internal/etcd_internal.h"
#include "store/internal/watchers.h"

namespace kennel::store {
namespace {

namespace pb = etcdserverpb;
using internal::CallKind;
using internal::EtcdClient;
using internal::HasPrefix;
using internal::PrefixEnd;
using internal::RunGuarded;
using internal::Watcher;

// Under the key prefix; hidden from Get, Range and Watch.
constexpr std::string_view kCompactKey = "/compact_rev_key";

// etcd refuses an empty key; no stored key is empty, so "\0" starts at the same place.
std::string NonEmptyKey(std::string key) { return key.empty() ? std::string(1, '\0') : key; }

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
  // stream_id: the watch's own etcd stream, or 0 when it is served from the
  // shared one.
  EtcdWatchHandle(std::shared_ptr<Watcher> watcher, uint64_t stream_id,
                  std::shared_ptr<StreamStopper> stopper)
      : w_(std::move(watcher)), stream_id_(stream_id), stopper_(std::move(stopper)) {}

  ~EtcdWatchHandle() override {
    if (stream_id_ != 0) stopper_->Stop(stream_id_);
    internal::Cancel(*w_);
  }

 private:
  std::shared_ptr<Watcher> w_;
  const uint64_t stream_id_;
  std::shared_ptr<StreamStopper> stopper_;
};

enum class Op { kCreate, kUpdate, kDelete };

// Create: "absent → put" (a failed create needs nothing read). Update/Delete:
// "mod_revision matches (or, for kAnyRevision, the key exists) → put/delete
// with prev_kv"; their failure branch reads the key, so one round trip tells
// kNotFound from kConflict.
pb::TxnRequest WriteTxn(Op op, const std::string& etcd_key, const std::string& value,
                        int64_t expected) {
  pb::TxnRequest txn;
  pb::Compare* compare = txn.add_compare();
  compare->set_key(etcd_key);
  if (op == Op::kCreate) {
    compare->set_target(pb::Compare::CREATE);
    compare->set_result(pb::Compare::EQUAL);
    compare->set_create_revision(0);
  } else if (expected == kAnyRevision) {
    compare->set_target(pb::Compare::CREATE);
    compare->set_result(pb::Compare::GREATER);
    compare->set_create_revision(0);
  } else {
    compare->set_target(pb::Compare::MOD);
    compare->set_result(pb::Compare::EQUAL);
    compare->set_mod_revision(expected);
  }
  if (op == Op::kDelete) {
    pb::DeleteRangeRequest* del = txn.add_success()->mutable_request_delete_range();
    del->set_key(etcd_key);
    del->set_prev_kv(true);
  } else {
    pb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(etcd_key);
    put->set_value(value);
    put->set_prev_kv(op != Op::kCreate);
  }
  if (op != Op::kCreate) {
    pb::RangeRequest* read = txn.add_failure()->mutable_request_range();
    read->set_key(etcd_key);
    read->set_keys_only(true);
  }
  return txn;
}

pb::RangeRequest KeyRequest(const std::string& etcd_key, bool count_only) {
  pb::RangeRequest request;
  request.set_key(etcd_key);
  request.set_count_only(count_only);
  return request;
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
    ASSIGN_OR_RETURN(pb::RangeResponse r, client_->RangeSync(KeyRequest(EtcdKey(key), false)));
    NoteRevision(r.header().revision());
    if (r.kvs_size() == 0) return NotFound("key not found");
    return StoreKv(std::move(*r.mutable_kvs(0)));
  }

  StatusOr<RangeResponse> Range(const RangeRequest& request) override {
    if (request.limit < 0) return BadRequest("range limit < 0");
    const std::string prefix = EtcdKey(request.prefix);
    const std::string from =
        request.start_key > request.prefix ? EtcdKey(request.start_key) : prefix;
    pb::RangeRequest body;
    body.set_key(NonEmptyKey(from));
    body.set_range_end(PrefixEnd(prefix));
    // One more than asked, so that dropping the hidden compaction key never
    // shortens a page, and a full page knows whether more follow.
    if (request.limit > 0) body.set_limit(request.limit + 1);
    ASSIGN_OR_RETURN(pb::RangeResponse r, client_->RangeSync(std::move(body)));
    RangeResponse response;
    response.revision = r.header().revision();
    NoteRevision(response.revision);
    response.more = r.more();
    response.kvs.reserve(r.kvs_size());
    for (pb::KeyValue& kv : *r.mutable_kvs()) {
      KeyValue item = StoreKv(std::move(kv));
      if (item.key != kCompactKey) response.kvs.push_back(std::move(item));
    }
    if (request.limit > 0 && static_cast<int64_t>(response.kvs.size()) > request.limit) {
      response.kvs.resize(request.limit);
      response.more = true;
    }
    return response;
  }

  int64_t Revision() override {
    StatusOr<pb::RangeResponse> r = client_->RangeSync(KeyRequest(compact_etcd_key_, true));
    if (r.ok()) NoteRevision(r->header().revision());
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
    pb::CompactionRequest request;
    request.set_revision(revision);
    return client_->CompactSync(std::move(request)).status();
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
    dispatcher_ = std::thread([this] {
      NameThisThread("etcd-dispatch");
      DispatchLoop();
    });
    ASSIGN_OR_RETURN(pb::RangeResponse r, client_->RangeSync(KeyRequest(compact_etcd_key_, true)));
    const int64_t revision = r.header().revision();
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

  KeyValue StoreKv(pb::KeyValue kv) const {
    KeyValue out{std::move(*kv.mutable_key()), std::move(*kv.mutable_value()), kv.create_revision(),
                 kv.mod_revision()};
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
    pb::TxnRequest txn = WriteTxn(op, EtcdKey(key), value, expected);
    client_->Txn(std::move(txn), CallKind::kWrite,
                 [this, op, key = std::move(key), value = std::move(value), expected,
                  done = std::move(done)](StatusOr<pb::TxnResponse> r) mutable {
                   StatusOr<KeyValue> result =
                       r.ok() ? WriteResult(op, std::move(key), std::move(value), expected, *r)
                              : StatusOr<KeyValue>(r.status());
                   Ack(std::move(done), std::move(result));
                 });
  }

  StatusOr<KeyValue> WriteResult(Op op, std::string key, std::string value, int64_t expected,
                                 pb::TxnResponse& r) {
    const int64_t revision = r.header().revision();
    NoteRevision(revision);
    if (!r.succeeded()) return Refused(op, expected, r);
    if (r.responses_size() != 1) return Internal("etcd store: malformed txn answer");
    pb::ResponseOp& answer = *r.mutable_responses(0);
    switch (op) {
      case Op::kCreate:
        return KeyValue{std::move(key), std::move(value), revision, revision};
      case Op::kUpdate:
        return KeyValue{std::move(key), std::move(value),
                        answer.response_put().prev_kv().create_revision(), revision};
      case Op::kDelete: {
        pb::DeleteRangeResponse& deleted = *answer.mutable_response_delete_range();
        if (deleted.prev_kvs_size() != 1) return Internal("etcd store: malformed delete answer");
        pb::KeyValue& prev = *deleted.mutable_prev_kvs(0);
        return KeyValue{std::move(key), std::move(*prev.mutable_value()), prev.create_revision(),
                        revision};
      }
    }
    return Internal("etcd store: unknown write");
  }

  static Status Refused(Op op, int64_t expected, const pb::TxnResponse& r) {
    if (op == Op::kCreate) return AlreadyExists("key already exists");
    if (r.responses_size() != 1) return Internal("etcd store: malformed txn answer");
    const pb::RangeResponse& range = r.responses(0).response_range();
    if (range.kvs_size() == 0) return NotFound("key not found");
    return Conflict("key was modified: mod_revision is " +
                    std::to_string(range.kvs(0).mod_revision()) + ", expected " +
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
    pb::RangeRequest at_from = KeyRequest(compact_etcd_key_, true);
    at_from.set_revision(from);
    StatusOr<pb::RangeResponse> probe = client_->RangeSync(std::move(at_from));
    if (probe.status().code() == Code::kGone) {
      return Gone("watch: events after revision " + std::to_string(watcher->after_revision) +
                  " have been compacted (" + probe.status().message() + ")");
    }
    if (!probe.ok()) return probe.status();
    const std::string key = EtcdKey(watcher->prefix);
    const uint64_t stream_id = client_->StartWatch(
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
    return MakeHandle(std::move(watcher), stream_id);
  }

  std::unique_ptr<WatchHandle> MakeHandle(std::shared_ptr<Watcher> watcher,
                                          uint64_t stream_id = 0) {
    return std::make_unique<EtcdWatchHandle>(std::move(watcher), stream_id, stopper_);
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
      internal::FanOut(watchers_, visible, to_deliver);
      for (Event& ev : visible) history_.push_back(std::move(ev));
      while (static_cast<int64_t>(history_.size()) > options_.history_events) {
        history_floor_ = history_.front().revision();
        history_.pop_front();
      }
    }
    NoteRevision(last);
    Schedule(to_deliver);
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
      for (const std::shared_ptr<Watcher>& w : ready) internal::Deliver(*w);
      for (std::function<void()>& ack : acks) RunGuarded(ack, "write callback");
      ready.clear();
      acks.clear();
    }
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
    pb::TxnRequest txn;
    pb::Compare* compare = txn.add_compare();
    compare->set_key(compact_etcd_key_);
    compare->set_target(pb::Compare::VERSION);
    compare->set_result(pb::Compare::EQUAL);
    compare->set_version(compact_version_);
    pb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(compact_etcd_key_);
    put->set_value(std::to_string(compact_revision_));
    txn.add_failure()->mutable_request_range()->set_key(compact_etcd_key_);
    client_->Txn(std::move(txn), CallKind::kWrite,
                 [this](StatusOr<pb::TxnResponse> r) { OnCompactionSwap(std::move(r)); });
  }

  void OnCompactionSwap(StatusOr<pb::TxnResponse> r) {
    if (!r.ok()) {
      spdlog::warn("etcd store: compaction turn failed: {}", r.status().message());
      ScheduleCompaction();
      return;
    }
    int64_t target = 0;
    const int64_t now = r->header().revision();
    if (!r->succeeded()) {
      const pb::RangeResponse& range =
          r->responses_size() > 0 ? r->responses(0).response_range() : pb::RangeResponse();
      compact_version_ = range.kvs_size() == 0 ? 0 : range.kvs(0).version();
    } else {
      ++compact_version_;
      compaction_turns_.fetch_add(1);
      target = compact_revision_;  // 0 on our first turn: nothing observed yet
    }
    compact_revision_ = now;
    if (target == 0) {
      ScheduleCompaction();
      return;
    }
    pb::CompactionRequest compaction;
    compaction.set_revision(target);
    client_->Compact(std::move(compaction), [this, target](StatusOr<pb::CompactionResponse> c) {
      if (c.ok()) {
        compactions_.fetch_add(1);
        last_compacted_.store(target);
        spdlog::info("etcd store: compacted etcd to revision {}", target);
      } else if (c.status().code() != Code::kGone) {  // Gone: already further
        spdlog::warn("etcd store: compaction to {} failed: {}", target, c.status().message());
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
