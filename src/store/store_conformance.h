// A backend-independent GoogleTest suite for the Store contract (store.h).
//
// Every backend instantiates the same tests with a factory of fresh, empty
// stores:
//
//   #include "store/store_conformance.h"
//   KENNEL_INSTANTIATE_STORE_CONFORMANCE(Embedded, kennel::store::testing::StoreBackend{
//       "embedded", [](const kennel::store::testing::ConformanceOptions& o) { ... }});
//
// Include this header in exactly one .cc of a test binary: it defines the
// TEST_P bodies. Tests only ever wait on conditions with deadlines.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace kennel::store::testing {

struct ConformanceOptions {
  // The watch history the store should keep, in events; 0 = the backend's
  // default (which must hold every event a test makes: a few thousand). Tests
  // of compaction ask for a small window, write well past it, and expect a
  // watch from the first revisions to fail with kGone while a watch from the
  // last 3 events still replays them.
  int64_t history_events = 0;
};

struct StoreBackend {
  std::string name;  // a test-name suffix: letters, digits and '_' only
  // Makes a fresh, empty store. The returned pointer's deleter may also clean
  // up after the store (e.g. remove its temporary directory).
  std::function<std::shared_ptr<Store>(const ConformanceOptions&)> make;
};

// So that failure messages name the backend instead of dumping its bytes.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

inline constexpr std::chrono::seconds kConformanceDeadline{20};

// Collects watch events; waits for them with a deadline; notices callbacks for
// one watch running concurrently, which the contract forbids.
class EventCollector {
 public:
  WatchCallback Callback() {
    return [this](const std::vector<Event>& events) {
      if (in_callback_.fetch_add(1) != 0) overlapped_ = true;
      {
        std::lock_guard lock(mu_);
        events_.insert(events_.end(), events.begin(), events.end());
        ++calls_;
        if (events.empty()) empty_batches_ = true;
        cv_.notify_all();
      }
      // Safe after the unlock: a collector outlives its watch handle, whose
      // destruction waits for this callback to return.
      in_callback_.fetch_sub(1);
    };
  }

  // Waits until at least n events arrived (or the deadline passed) and
  // returns everything received so far.
  std::vector<Event> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kConformanceDeadline, [&] { return events_.size() >= n; });
    return events_;
  }

  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool overlapped() const { return overlapped_; }
  bool empty_batches() {
    std::lock_guard lock(mu_);
    return empty_batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  int calls_ = 0;
  bool empty_batches_ = false;
  std::atomic<int> in_callback_{0};
  std::atomic<bool> overlapped_{false};
};

// A one-shot flag with a deadline-bounded wait.
class Latch {
 public:
  void Set() {
    // Notify under the lock: the waiter may destroy the latch as soon as it
    // can see set_.
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kConformanceDeadline, [&] { return set_; });
  }
  bool IsSet() {
    std::lock_guard lock(mu_);
    return set_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(ConformanceOptions{});
    ASSERT_NE(store_, nullptr);
  }

  Store& store() { return *store_; }

  KeyValue MustCreate(const std::string& key, const std::string& value) {
    StatusOr<KeyValue> kv = CreateSync(*store_, key, value);
    EXPECT_TRUE(kv.ok()) << key << ": " << kv.status().ToString();
    return kv.ok() ? *kv : KeyValue{};
  }

  std::vector<std::string> RangeKeys(const RangeRequest& request, bool* more = nullptr) {
    StatusOr<RangeResponse> r = store_->Range(request);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> keys;
    if (!r.ok()) return keys;
    for (const KeyValue& kv : r->kvs) keys.push_back(kv.key);
    if (more != nullptr) *more = r->more;
    return keys;
  }

  std::shared_ptr<Store> store_;
};

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

// Use at namespace scope; gtest pastes the suite name into identifiers, hence
// the using-declaration.
#define KENNEL_INSTANTIATE_STORE_CONFORMANCE(prefix, backend)                        \
  using ::kennel::store::testing::StoreConformanceTest;                              \
  INSTANTIATE_TEST_SUITE_P(prefix, StoreConformanceTest, ::testing::Values(backend), \
                           ::kennel::store::testing::StoreBackendName)

// ---------------------------------------------------------------- revisions

TEST_P(StoreConformanceTest, RevisionStartsAtOneAndCountsEveryWrite) {
  EXPECT_EQ(store().Revision(), 1);
  KeyValue a = MustCreate("a", "1");
  EXPECT_EQ(a.mod_revision, 2);
  EXPECT_EQ(store().Revision(), 2);
  StatusOr<KeyValue> u = UpdateSync(store(), "a", "2", kAnyRevision);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->mod_revision, 3);
  StatusOr<KeyValue> d = DeleteSync(store(), "a", kAnyRevision);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mod_revision, 4);
  EXPECT_EQ(store().Revision(), 4);
  // Failed writes do not consume a revision.
  EXPECT_EQ(DeleteSync(store(), "a", kAnyRevision).status().code(), Code::kNotFound);
  EXPECT_EQ(MustCreate("b", "1").mod_revision, 5);
}

// ---------------------------------------------------------------- writes

TEST_P(StoreConformanceTest, CreateFailsWhenKeyExists) {
  KeyValue a = MustCreate("k", "v1");
  EXPECT_EQ(a.key, "k");
  EXPECT_EQ(a.value, "v1");
  EXPECT_EQ(a.create_revision, a.mod_revision);
  EXPECT_EQ(CreateSync(store(), "k", "v2").status().code(), Code::kAlreadyExists);
  StatusOr<KeyValue> got = store().Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, "v1");
  EXPECT_EQ(got->mod_revision, a.mod_revision);
  EXPECT_EQ(store().Revision(), a.mod_revision);
}

TEST_P(StoreConformanceTest, UpdateAndDeleteOfMissingKeyAreNotFound) {
  EXPECT_EQ(UpdateSync(store(), "missing", "v", kAnyRevision).status().code(), Code::kNotFound);
  EXPECT_EQ(UpdateSync(store(), "missing", "v", 7).status().code(), Code::kNotFound);
  EXPECT_EQ(DeleteSync(store(), "missing", kAnyRevision).status().code(), Code::kNotFound);
  EXPECT_EQ(store().Get("missing").status().code(), Code::kNotFound);
  EXPECT_EQ(store().Revision(), 1);
}

TEST_P(StoreConformanceTest, CompareAndSwapOnModRevision) {
  KeyValue v1 = MustCreate("k", "v1");
  StatusOr<KeyValue> v2 = UpdateSync(store(), "k", "v2", v1.mod_revision);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->value, "v2");
  EXPECT_GT(v2->mod_revision, v1.mod_revision);

  // A writer that still holds v1's revision loses, for updates and deletes.
  EXPECT_EQ(UpdateSync(store(), "k", "v3", v1.mod_revision).status().code(), Code::kConflict);
  EXPECT_EQ(DeleteSync(store(), "k", v1.mod_revision).status().code(), Code::kConflict);
  EXPECT_EQ(store().Get("k")->value, "v2");
  EXPECT_EQ(store().Revision(), v2->mod_revision);

  // kAnyRevision matches whatever is there.
  StatusOr<KeyValue> v3 = UpdateSync(store(), "k", "v3", kAnyRevision);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->value, "v3");
  StatusOr<KeyValue> gone = DeleteSync(store(), "k", v3->mod_revision);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(store().Get("k").status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, CreateRevisionKeptAcrossUpdatesAndResetByRecreate) {
  KeyValue c = MustCreate("k", "v1");
  StatusOr<KeyValue> u1 = UpdateSync(store(), "k", "v2", kAnyRevision);
  StatusOr<KeyValue> u2 = UpdateSync(store(), "k", "v3", kAnyRevision);
  ASSERT_TRUE(u1.ok() && u2.ok());
  EXPECT_EQ(u1->create_revision, c.create_revision);
  EXPECT_EQ(u2->create_revision, c.create_revision);
  EXPECT_EQ(store().Get("k")->create_revision, c.create_revision);
  EXPECT_EQ(store().Get("k")->mod_revision, u2->mod_revision);

  ASSERT_TRUE(DeleteSync(store(), "k", kAnyRevision).ok());
  KeyValue again = MustCreate("k", "v4");
  EXPECT_GT(again.create_revision, u2->mod_revision);
  EXPECT_EQ(again.create_revision, again.mod_revision);
  EXPECT_EQ(store().Get("k")->create_revision, again.create_revision);
}

TEST_P(StoreConformanceTest, DeleteResultCarriesOldValueAndDeleteRevision) {
  KeyValue c = MustCreate("k", "old");
  StatusOr<KeyValue> d = DeleteSync(store(), "k", c.mod_revision);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->key, "k");
  EXPECT_EQ(d->value, "old");
  EXPECT_EQ(d->create_revision, c.create_revision);
  EXPECT_EQ(d->mod_revision, c.mod_revision + 1);
  EXPECT_EQ(store().Revision(), d->mod_revision);
}

TEST_P(StoreConformanceTest, KeysAndValuesAreArbitraryBytes) {
  const std::string key("bin\0\xff\x01", 6);
  const std::string value("\0\0\xfe\x80value", 9);
  MustCreate(key, value);
  MustCreate("empty-value", "");
  StatusOr<KeyValue> got = store().Get(key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key, key);
  EXPECT_EQ(got->value, value);
  ASSERT_TRUE(store().Get("empty-value").ok());
  EXPECT_EQ(store().Get("empty-value")->value, "");
  EXPECT_EQ(store().Get(std::string("bin\0", 4)).status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, AcknowledgedWriteIsVisibleToReads) {
  for (int i = 0; i < 20; ++i) {
    std::string key = std::to_string(i);
    key.insert(0, "/k");  // not "k" + ...: GCC 12 reports a bogus -Wrestrict for that
    KeyValue kv = MustCreate(key, "v");
    StatusOr<KeyValue> got = store().Get(key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->mod_revision, kv.mod_revision);
    EXPECT_GE(store().Revision(), kv.mod_revision);
    StatusOr<RangeResponse> r = store().Range({key, "", 0});
    ASSERT_TRUE(r.ok());
    EXPECT_GE(r->revision, kv.mod_revision);
  }
}

// ---------------------------------------------------------------- range

TEST_P(StoreConformanceTest, RangeReturnsPrefixInKeyOrder) {
  for (std::string k : {"/pods/b", "/pods/a", "/pods0", "/pod", "/pods/c/x", "/services/a",
                        "/pods/\xff", "/pods/\x01"}) {
    MustCreate(k, "v:" + k);
  }
  EXPECT_THAT(
      RangeKeys({"/pods/", "", 0}),
      ::testing::ElementsAre("/pods/\x01", "/pods/a", "/pods/b", "/pods/c/x", "/pods/\xff"));
  EXPECT_THAT(RangeKeys({"/services/", "", 0}), ::testing::ElementsAre("/services/a"));
  EXPECT_THAT(RangeKeys({"/nothing/", "", 0}), ::testing::IsEmpty());
  EXPECT_EQ(RangeKeys({"", "", 0}).size(), 8u);

  StatusOr<RangeResponse> r = store().Range({"/pods/a", "", 0});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "v:/pods/a");
  EXPECT_EQ(r->kvs[0].create_revision, r->kvs[0].mod_revision);
  EXPECT_EQ(r->revision, store().Revision());
  EXPECT_FALSE(r->more);
}

TEST_P(StoreConformanceTest, RangeStartKeyAndLimit) {
  for (std::string k : {"/p/a", "/p/b", "/p/c", "/p/d", "/q/a"}) MustCreate(k, "v");
  bool more = false;
  EXPECT_THAT(RangeKeys({"/p/", "/p/b", 2}, &more), ::testing::ElementsAre("/p/b", "/p/c"));
  EXPECT_TRUE(more);
  EXPECT_THAT(RangeKeys({"/p/", "/p/c", 2}, &more), ::testing::ElementsAre("/p/c", "/p/d"));
  EXPECT_FALSE(more) << "no key under the prefix follows /p/d";
  EXPECT_THAT(RangeKeys({"/p/", "/p/bb", 0}, &more), ::testing::ElementsAre("/p/c", "/p/d"));
  EXPECT_FALSE(more);
  EXPECT_THAT(RangeKeys({"/p/", "/p/e", 0}, &more), ::testing::IsEmpty());
  EXPECT_FALSE(more);
  // A start key before the prefix starts at the prefix.
  EXPECT_THAT(RangeKeys({"/p/", "/a", 1}, &more), ::testing::ElementsAre("/p/a"));
  EXPECT_TRUE(more);
  EXPECT_THAT(RangeKeys({"/p/", "", 4}, &more),
              ::testing::ElementsAre("/p/a", "/p/b", "/p/c", "/p/d"));
  EXPECT_FALSE(more);
}

TEST_P(StoreConformanceTest, RangePagingVisitsEveryKeyOnce) {
  std::set<std::string> want;
  for (int i = 0; i < 57; ++i) {
    std::string key = "/page/" + std::to_string(i * 7919 % 1000);
    want.insert(key);
    MustCreate(key, "v");
  }
  MustCreate("/pagf", "outside");
  std::vector<std::string> seen;
  std::string start;
  for (int pages = 0; pages < 100; ++pages) {
    StatusOr<RangeResponse> r = store().Range({"/page/", start, 10});
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->kvs.size(), 10u);
    for (const KeyValue& kv : r->kvs) seen.push_back(kv.key);
    if (!r->more) break;
    ASSERT_FALSE(r->kvs.empty());
    start = r->kvs.back().key + std::string(1, '\0');  // the next possible key
  }
  EXPECT_EQ(seen, std::vector<std::string>(want.begin(), want.end()));
}

// ---------------------------------------------------------------- watch

TEST_P(StoreConformanceTest, WatchReplaysHistoryThenDeliversLiveEvents) {
  MustCreate("/other", "x");
  KeyValue a1 = MustCreate("/w/a", "1");
  const int64_t from = a1.mod_revision;  // watch everything after the create
  StatusOr<KeyValue> a2 = UpdateSync(store(), "/w/a", "2", kAnyRevision);
  KeyValue b1 = MustCreate("/w/b", "1");
  ASSERT_TRUE(a2.ok());

  EventCollector events;
  auto handle = store().Watch("/w/", from, events.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();

  std::vector<Event> got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, EventType::kPut);
  EXPECT_EQ(got[0].kv.key, "/w/a");
  EXPECT_EQ(got[0].kv.value, "2");
  EXPECT_EQ(got[0].revision(), a2->mod_revision);
  EXPECT_EQ(got[0].kv.create_revision, a1.create_revision);
  ASSERT_TRUE(got[0].prev_kv.has_value());
  EXPECT_EQ(got[0].prev_kv->value, "1");
  EXPECT_EQ(got[0].prev_kv->mod_revision, a1.mod_revision);
  EXPECT_EQ(got[1].kv.key, "/w/b");
  EXPECT_EQ(got[1].revision(), b1.mod_revision);
  EXPECT_FALSE(got[1].prev_kv.has_value()) << "a create has no previous state";

  StatusOr<KeyValue> b2 = UpdateSync(store(), "/w/b", "2", b1.mod_revision);
  ASSERT_TRUE(b2.ok());
  MustCreate("/other2", "x");
  KeyValue c1 = MustCreate("/w/c", "1");
  got = events.WaitFor(4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].kv.key, "/w/b");
  EXPECT_EQ(got[2].kv.value, "2");
  EXPECT_EQ(got[2].revision(), b2->mod_revision);
  ASSERT_TRUE(got[2].prev_kv.has_value());
  EXPECT_EQ(got[2].prev_kv->value, "1");
  EXPECT_EQ(got[3].revision(), c1.mod_revision);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1].revision(), got[i].revision());
  EXPECT_FALSE(events.overlapped());
  EXPECT_FALSE(events.empty_batches());
}

TEST_P(StoreConformanceTest, WatchFromCurrentRevisionSeesOnlyNewEvents) {
  MustCreate("/w/old", "1");
  EventCollector events;
  auto handle = store().Watch("/w/", store().Revision(), events.Callback());
  ASSERT_TRUE(handle.ok());
  KeyValue n = MustCreate("/w/new", "1");
  std::vector<Event> got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kv.key, "/w/new");
  EXPECT_EQ(got[0].revision(), n.mod_revision);
}

TEST_P(StoreConformanceTest, WatchFromFutureRevisionSkipsEventsUpToIt) {
  const int64_t after = store().Revision() + 2;
  EventCollector events;
  auto handle = store().Watch("", after, events.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  MustCreate("a", "1");
  MustCreate("b", "1");
  KeyValue c = MustCreate("c", "1");
  ASSERT_EQ(c.mod_revision, after + 1);
  MustCreate("d", "1");
  // Events arrive in revision order, so if "a" or "b" had been delivered they
  // would come before "c".
  std::vector<Event> got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kv.key, "c");
  EXPECT_EQ(got[1].kv.key, "d");
}

TEST_P(StoreConformanceTest, DeleteEventCarriesOldValueAndDeleteRevision) {
  KeyValue c = MustCreate("/w/k", "last");
  EventCollector events;
  auto handle = store().Watch("/w/", c.mod_revision, events.Callback());
  ASSERT_TRUE(handle.ok());
  StatusOr<KeyValue> d = DeleteSync(store(), "/w/k", c.mod_revision);
  ASSERT_TRUE(d.ok());
  std::vector<Event> got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, EventType::kDelete);
  EXPECT_EQ(got[0].kv.key, "/w/k");
  EXPECT_EQ(got[0].kv.value, "last");
  EXPECT_EQ(got[0].kv.create_revision, c.create_revision);
  EXPECT_EQ(got[0].revision(), d->mod_revision);
  ASSERT_TRUE(got[0].prev_kv.has_value());
  EXPECT_EQ(got[0].prev_kv->value, "last");
  EXPECT_EQ(got[0].prev_kv->mod_revision, c.mod_revision);
}

TEST_P(StoreConformanceTest, WatchersOnDifferentPrefixesSeeOnlyTheirKeys) {
  EventCollector pods, services, all;
  const int64_t from = store().Revision();
  auto h1 = store().Watch("/pods/", from, pods.Callback());
  auto h2 = store().Watch("/services/", from, services.Callback());
  auto h3 = store().Watch("", from, all.Callback());
  ASSERT_TRUE(h1.ok() && h2.ok() && h3.ok());
  MustCreate("/pods/a", "1");
  MustCreate("/services/a", "1");
  MustCreate("/pods/b", "1");
  ASSERT_TRUE(DeleteSync(store(), "/services/a", kAnyRevision).ok());
  ASSERT_EQ(all.WaitFor(4).size(), 4u);
  std::vector<Event> p = pods.WaitFor(2);
  std::vector<Event> s = services.WaitFor(2);
  ASSERT_EQ(p.size(), 2u);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(p[0].kv.key, "/pods/a");
  EXPECT_EQ(p[1].kv.key, "/pods/b");
  EXPECT_EQ(s[0].kv.key, "/services/a");
  EXPECT_EQ(s[1].type, EventType::kDelete);
  // Nothing else trickles in once a later event has reached a watcher of everything.
  MustCreate("/zzz", "1");
  ASSERT_EQ(all.WaitFor(5).size(), 5u);
  EXPECT_EQ(pods.events().size(), 2u);
  EXPECT_EQ(services.events().size(), 2u);
}

TEST_P(StoreConformanceTest, WatchFromCompactedRevisionIsGone) {
  ConformanceOptions small;
  small.history_events = 8;
  std::shared_ptr<Store> store = GetParam().make(small);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(CreateSync(*store, "/c/" + std::to_string(i), "v").ok());
  }
  EventCollector ignored;
  auto old = store->Watch("/c/", 1, ignored.Callback());
  EXPECT_EQ(old.status().code(), Code::kGone);
  auto older = store->Watch("", 2, ignored.Callback());
  EXPECT_EQ(older.status().code(), Code::kGone);

  EventCollector recent;
  const int64_t now = store->Revision();
  auto handle = store->Watch("/c/", now - 3, recent.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  std::vector<Event> got = recent.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].revision(), now - 2);
  EXPECT_EQ(got[2].revision(), now);
}

TEST_P(StoreConformanceTest, DestroyedHandleGetsNoMoreCallbacks) {
  EventCollector cancelled, witness;
  const int64_t from = store().Revision();
  auto h1 = store().Watch("/x/", from, cancelled.Callback());
  ASSERT_TRUE(h1.ok());
  MustCreate("/x/1", "v");
  ASSERT_EQ(cancelled.WaitFor(1).size(), 1u);
  h1->reset();

  auto h2 = store().Watch("/x/", store().Revision(), witness.Callback());
  ASSERT_TRUE(h2.ok());
  MustCreate("/x/2", "v");
  MustCreate("/x/3", "v");
  ASSERT_EQ(witness.WaitFor(2).size(), 2u);
  EXPECT_EQ(cancelled.events().size(), 1u);
}

TEST_P(StoreConformanceTest, HandleDestructionWaitsForRunningCallback) {
  Latch entered, release;
  std::atomic<bool> released{false};
  std::atomic<bool> callback_done{false};
  auto handle = store().Watch("", store().Revision(), [&](const std::vector<Event>&) {
    if (entered.IsSet()) return;
    entered.Set();
    released = release.Wait();
    callback_done = true;
  });
  ASSERT_TRUE(handle.ok());
  // Not CreateSync: the store may acknowledge on the thread the callback blocks.
  store().Create("k", "v", [](StatusOr<KeyValue>) {});
  ASSERT_TRUE(entered.Wait());

  std::atomic<bool> done_when_destroyed{false};
  std::thread destroyer([&] {
    handle->reset();
    done_when_destroyed = callback_done.load();
  });
  // Give the destroyer a head start so that a destructor that does not wait
  // would be caught returning early; the assertion holds either way.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release.Set();
  destroyer.join();
  EXPECT_TRUE(released) << "the callback waited out its deadline instead";
  EXPECT_TRUE(done_when_destroyed);
}

TEST_P(StoreConformanceTest, HandleMayBeDestroyedFromItsOwnCallback) {
  std::unique_ptr<WatchHandle> handle;
  std::mutex mu;
  std::atomic<int> calls{0};
  Latch destroyed;
  auto h = store().Watch("/self/", store().Revision(), [&](const std::vector<Event>&) {
    calls.fetch_add(1);
    std::unique_ptr<WatchHandle> mine;
    {
      std::lock_guard lock(mu);
      mine = std::move(handle);
    }
    mine.reset();  // must not deadlock
    destroyed.Set();
  });
  ASSERT_TRUE(h.ok());
  {
    std::lock_guard lock(mu);
    handle = std::move(*h);
  }
  MustCreate("/self/1", "v");
  ASSERT_TRUE(destroyed.Wait());

  EventCollector witness;
  auto w = store().Watch("/self/", store().Revision(), witness.Callback());
  ASSERT_TRUE(w.ok());
  MustCreate("/self/2", "v");
  ASSERT_EQ(witness.WaitFor(1).size(), 1u);
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(StoreConformanceTest, ConcurrentWritersGetDistinctConsecutiveRevisions) {
  constexpr int kThreads = 8;
  constexpr int kWrites = 200;
  const int64_t base = store().Revision();
  EventCollector events;
  auto handle = store().Watch("/cc/", base, events.Callback());
  ASSERT_TRUE(handle.ok());

  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        std::string key = "/cc/" + std::to_string(t) + "/" + std::to_string(i);
        StatusOr<KeyValue> kv = CreateSync(store(), key, "v");
        if (kv.ok()) revisions[t].push_back(kv->mod_revision);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::vector<int64_t> all;
  for (const auto& per_thread : revisions) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(kWrites));
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], base + 1 + static_cast<int64_t>(i));
  EXPECT_EQ(store().Revision(), base + kThreads * kWrites);

  std::vector<Event> got = events.WaitFor(kThreads * kWrites);
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kWrites));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].revision(), base + 1 + static_cast<int64_t>(i)) << "gap or reorder at " << i;
  }
  EXPECT_FALSE(events.overlapped());
}

}  // namespace kennel::store::testing
