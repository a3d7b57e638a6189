#include "store/embedded.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/internal/embedded_internal.h"
#include "store/store_conformance.h"

namespace kennel::store {
namespace {

using ::kennel::store::testing::ConformanceOptions;
using ::kennel::store::testing::EventCollector;
using ::kennel::store::testing::Latch;
using ::kennel::store::testing::StoreBackend;

// A directory that exists for the lifetime of the object.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kennel-store-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

StoreBackend EmbeddedBackend() {
  return {"Embedded", [](const ConformanceOptions& o) -> std::shared_ptr<Store> {
            auto dir = std::make_shared<TempDir>();
            EmbeddedOptions options;
            options.path = dir->path() + "/store.db";
            if (o.history_events > 0) options.history_events = o.history_events;
            StatusOr<std::unique_ptr<Store>> store = OpenEmbedded(options);
            if (!store.ok()) {
              ADD_FAILURE() << store.status().ToString();
              return nullptr;
            }
            // The deleter owns the directory so it outlives the database files.
            return std::shared_ptr<Store>(store->release(), [dir](Store* s) mutable {
              delete s;
              dir.reset();
            });
          }};
}

KENNEL_INSTANTIATE_STORE_CONFORMANCE(Embedded, EmbeddedBackend());

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(int64_t history_events = 100'000) {
    EmbeddedOptions options;
    options.path = path_;
    options.history_events = history_events;
    StatusOr<std::unique_ptr<Store>> store = OpenEmbedded(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  internal::EmbeddedCounters Counters(Store& store) {
    std::optional<internal::EmbeddedCounters> c = internal::GetEmbeddedCounters(store);
    EXPECT_TRUE(c.has_value());
    return c.value_or(internal::EmbeddedCounters{});
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/store.db";
};

TEST_F(EmbeddedStoreTest, ReopenKeepsKeysRevisionsAndGlobalRevision) {
  std::vector<KeyValue> want;
  int64_t revision = 0;
  const std::string big(300'000, 'x');
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateSync(*store, "/a", "1").ok());
    ASSERT_TRUE(CreateSync(*store, std::string("/bin\0\xff", 6), std::string("\0v", 2)).ok());
    ASSERT_TRUE(CreateSync(*store, "/big", big).ok());
    ASSERT_TRUE(CreateSync(*store, "/gone", "x").ok());
    ASSERT_TRUE(UpdateSync(*store, "/a", "2", kAnyRevision).ok());
    ASSERT_TRUE(CreateSync(*store, "/empty", "").ok());
    ASSERT_TRUE(DeleteSync(*store, "/gone", kAnyRevision).ok());
    // Deletes last: the global revision must be persisted on its own, since
    // no surviving key carries it.
    ASSERT_TRUE(CreateSync(*store, "/tmp", "x").ok());
    ASSERT_TRUE(DeleteSync(*store, "/tmp", kAnyRevision).ok());
    StatusOr<RangeResponse> all = store->Range({"", "", 0});
    ASSERT_TRUE(all.ok());
    want = all->kvs;
    revision = store->Revision();
    EXPECT_EQ(revision, 10);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Revision(), revision);
  StatusOr<RangeResponse> all = store->Range({"", "", 0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->kvs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(all->kvs[i].key, want[i].key);
    EXPECT_EQ(all->kvs[i].value, want[i].value);
    EXPECT_EQ(all->kvs[i].create_revision, want[i].create_revision);
    EXPECT_EQ(all->kvs[i].mod_revision, want[i].mod_revision);
  }
  EXPECT_EQ(store->Get("/big")->value, big);
  EXPECT_EQ(store->Get("/a")->create_revision, 2);
  EXPECT_EQ(store->Get("/a")->mod_revision, 6);
  EXPECT_EQ(store->Get("/gone").status().code(), Code::kNotFound);
  // Revisions continue where they stopped, and CAS works on reloaded keys.
  StatusOr<KeyValue> next = UpdateSync(*store, "/a", "3", 6);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->mod_revision, revision + 1);
  EXPECT_EQ(CreateSync(*store, "/empty", "again").status().code(), Code::kAlreadyExists);
}

TEST_F(EmbeddedStoreTest, ReopenStartsWithEmptyHistory) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(CreateSync(*store, "/k" + std::to_string(i), "v").ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const int64_t now = store->Revision();
  ASSERT_EQ(now, 6);
  EventCollector events;
  EXPECT_EQ(store->Watch("", now - 1, events.Callback()).status().code(), Code::kGone);
  EXPECT_EQ(store->Watch("", 0, events.Callback()).status().code(), Code::kGone);
  auto handle = store->Watch("", now, events.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ASSERT_TRUE(CreateSync(*store, "/new", "v").ok());
  std::vector<Event> got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kv.key, "/new");
  EXPECT_EQ(got[0].revision(), now + 1);
}

// Keeps the writer from taking a batch, so that writes queued meanwhile all
// go into its next one.
class WriterPause {
 public:
  explicit WriterPause(Store& store) : store_(&store) { internal::PauseWriter(store, true); }
  ~WriterPause() { Release(); }
  void Release() {
    if (store_ != nullptr) internal::PauseWriter(*store_, false);
    store_ = nullptr;
  }

 private:
  Store* store_;
};

TEST_F(EmbeddedStoreTest, WritesQueuedDuringACommitShareOneTransaction) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateSync(*store, "/existing", "v").ok());
  WriterPause pause(*store);
  const internal::EmbeddedCounters before = Counters(*store);

  std::atomic<int> ok{0}, conflicts{0};
  std::atomic<int> pending{11};
  Latch all_done;
  auto count = [&](StatusOr<KeyValue> r) {
    if (r.ok()) ok++;
    if (r.status().code() == Code::kAlreadyExists) conflicts++;
    if (--pending == 0) all_done.Set();
  };
  for (int i = 0; i < 10; ++i) store->Create("/batch/" + std::to_string(i), "v", count);
  store->Create("/existing", "v", count);
  pause.Release();
  ASSERT_TRUE(all_done.Wait());
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(conflicts.load(), 1);
  const internal::EmbeddedCounters after = Counters(*store);
  EXPECT_EQ(after.transactions - before.transactions, 1);
  EXPECT_EQ(after.committed_writes - before.committed_writes, 10);
}

TEST_F(EmbeddedStoreTest, FailedCommitFailsTheWholeBatchAndPublishesNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  StatusOr<KeyValue> x = CreateSync(*store, "/x", "v1");
  ASSERT_TRUE(x.ok());
  EventCollector events;
  auto handle = store->Watch("", store->Revision(), events.Callback());
  ASSERT_TRUE(handle.ok());

  ASSERT_TRUE(CreateSync(*store, "/y", "v").ok());
  WriterPause pause(*store);
  const int64_t before = store->Revision();
  std::vector<Code> codes(3, Code::kOk);
  std::atomic<int> pending{3};
  Latch all_done;
  auto record = [&](int i) {
    return [&, i](StatusOr<KeyValue> r) {
      codes[i] = r.status().code();
      if (--pending == 0) all_done.Set();
    };
  };
  internal::InjectCommitFailures(*store, 1);
  store->Create("/a", "v", record(0));
  store->Create("/a", "v", record(1));  // would be AlreadyExists, but only because of /a above
  store->Update("/x", "v2", x->mod_revision, record(2));
  pause.Release();
  ASSERT_TRUE(all_done.Wait());
  EXPECT_THAT(codes, ::testing::Each(Code::kInternal));

  EXPECT_EQ(store->Revision(), before);
  EXPECT_EQ(store->Get("/a").status().code(), Code::kNotFound);
  EXPECT_EQ(store->Get("/x")->value, "v1");
  EXPECT_EQ(internal::GetEmbeddedCounters(*store)->failed_batches, 1);

  // The store carries on: the revision is not burned, and a watcher sees the
  // write before the batch and then this one, never the failed batch.
  StatusOr<KeyValue> a = CreateSync(*store, "/a", "v");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->mod_revision, before + 1);
  std::vector<Event> got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].kv.key, "/a");
  EXPECT_EQ(got[1].revision(), before + 1);

  handle->reset();
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Revision(), before + 1);
  EXPECT_EQ(store->Get("/x")->value, "v1");
}

TEST_F(EmbeddedStoreTest, ConcurrentWritersAreGroupCommitted) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16;
  constexpr int kWrites = 250;
  const std::string value(200, 'v');
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        std::string key = "/gc/" + std::to_string(t) + "/" + std::to_string(i);
        if (!CreateSync(*store, key, value).ok()) failures++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failures.load(), 0);
  const internal::EmbeddedCounters c = Counters(*store);
  const int writes = kThreads * kWrites;
  EXPECT_EQ(c.committed_writes, writes);
  // Every writer waits for its fsync, so a store that does not batch needs one
  // transaction per write. (Typically 8-16 writes share one here; the bound is
  // loose so that a disk with free fsyncs, e.g. tmpfs, passes too.)
  EXPECT_LT(c.transactions, writes / 2);
  std::printf(
      "[ perf     ] %d fsynced writes from %d threads in %.3f s: %.0f writes/s, %.1f per txn\n",
      writes, kThreads, seconds, writes / seconds,
      static_cast<double>(c.committed_writes) / static_cast<double>(c.transactions));
  RecordProperty("writes_per_second", static_cast<int>(writes / seconds));
}

// The API server caches an object when its write is acknowledged so that the
// watchers of that write find it decoded: that needs every write's callback
// to have run before its event reaches any watcher.
TEST_F(EmbeddedStoreTest, WritersHearBeforeWatchers) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kWrites = 400;
  std::mutex mu;
  std::set<int64_t> acknowledged;  // guarded by mu
  std::atomic<int> seen_before_ack{0};
  EventCollector events;
  WatchCallback collect = events.Callback();
  auto handle = store->Watch("", store->Revision(), [&](const std::vector<Event>& batch) {
    {
      std::lock_guard lock(mu);
      for (const Event& e : batch) {
        if (!acknowledged.count(e.revision())) seen_before_ack++;
      }
    }
    collect(batch);
  });
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  // Many writes in flight at once, so batches hold several of them.
  for (int i = 0; i < kWrites; ++i) {
    store->Create("/order/" + std::to_string(i), "v", [&](StatusOr<KeyValue> r) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::lock_guard lock(mu);
      acknowledged.insert(r->mod_revision);
    });
  }
  EXPECT_EQ(events.WaitFor(kWrites).size(), static_cast<size_t>(kWrites));
  EXPECT_EQ(seen_before_ack.load(), 0);
}

TEST_F(EmbeddedStoreTest, ShutdownFinishesQueuedWrites) {
  constexpr int kWrites = 300;
  std::atomic<int> ok{0}, calls{0};
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kWrites; ++i) {
      store->Create("/q/" + std::to_string(i), "v", [&](StatusOr<KeyValue> r) {
        calls++;
        if (r.ok()) ok++;
      });
    }
  }  // destroyed with writes still queued
  EXPECT_EQ(calls.load(), kWrites);
  EXPECT_EQ(ok.load(), kWrites);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Range({"/q/", "", 0})->kvs.size(), static_cast<size_t>(kWrites));
  EXPECT_EQ(store->Revision(), 1 + kWrites);
}

TEST_F(EmbeddedStoreTest, WritesArrivingDuringShutdownAreUnavailable) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Store* raw = store.get();
  Latch entered;
  std::atomic<bool> saw_shutdown{false};
  std::atomic<int> probes_ok{0};
  std::atomic<int> follow_up_code{-1};
  // The first write's callback, on the dispatch thread, keeps probing until a
  // write is refused on the spot, which proves the destructor has begun.
  raw->Create("/first", "v", [&](StatusOr<KeyValue>) {
    entered.Set();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      // Shared: a probe that was queued runs its callback after this loop moves on.
      auto refused = std::make_shared<std::atomic<bool>>(false);
      raw->Create("/probe/" + std::to_string(i), "v", [&, refused](StatusOr<KeyValue> r) {
        if (r.status().code() == Code::kUnavailable) {
          *refused = true;
        } else if (r.ok()) {
          probes_ok++;
        }
      });
      if (*refused) {
        saw_shutdown = true;
        return;
      }
      std::this_thread::yield();
    }
  });
  // Queued before shutdown: must commit; its callback's follow-up comes after.
  raw->Create("/second", "v", [&](StatusOr<KeyValue> r) {
    EXPECT_TRUE(r.ok());
    raw->Create("/follow-up", "v", [&](StatusOr<KeyValue> f) {
      follow_up_code = static_cast<int>(f.status().code());
    });
  });
  ASSERT_TRUE(entered.Wait());
  store.reset();
  EXPECT_TRUE(saw_shutdown);
  EXPECT_EQ(follow_up_code.load(), static_cast<int>(Code::kUnavailable));

  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Get("/second").ok());
  EXPECT_EQ(store->Get("/follow-up").status().code(), Code::kNotFound);
  EXPECT_EQ(static_cast<int>(store->Range({"/probe/", "", 0})->kvs.size()), probes_ok.load());
}

TEST_F(EmbeddedStoreTest, SecondOpenOfTheSameDatabaseFails) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateSync(*store, "/k", "v").ok());
  EmbeddedOptions options;
  options.path = path_;
  StatusOr<std::unique_ptr<Store>> second = OpenEmbedded(options);
  EXPECT_EQ(second.status().code(), Code::kUnavailable) << second.status().ToString();
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Get("/k").ok());
}

// Churn (every key created, rewritten and deleted, again and again) must not
// leave the files large: the database holds only current state, and the
// periodic checkpoint truncates the WAL.
TEST_F(EmbeddedStoreTest, ChurnLeavesWalAndDatabaseSmall) {
  EmbeddedOptions options;
  options.path = path_;
  options.checkpoint_interval = std::chrono::milliseconds(50);
  StatusOr<std::unique_ptr<Store>> opened = OpenEmbedded(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  auto size_of = [](const std::string& file) -> uintmax_t {
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(file, ec);
    return ec ? 0 : size;
  };
  const std::string value(8192, 'v');
  constexpr int kKeys = 20;
  uintmax_t max_wal = 0;
  for (int round = 0; round < 6; ++round) {  // ~840 writes, ~7 MB through the WAL
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "/churn/" + std::to_string(k);
      ASSERT_TRUE(CreateSync(store, key, value).ok());
      for (int u = 0; u < 5; ++u) ASSERT_TRUE(UpdateSync(store, key, value, kAnyRevision).ok());
      ASSERT_TRUE(DeleteSync(store, key, kAnyRevision).ok());
    }
    max_wal = std::max(max_wal, size_of(path_ + "-wal"));
  }
  // SQLite's own checkpoints (every 1000 pages) already bound the WAL while
  // writes go on; once they stop, ours truncates it.
  EXPECT_LT(max_wal, 8u << 20);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (size_of(path_ + "-wal") > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(size_of(path_ + "-wal"), 0u);
  // Live data never exceeded kKeys values (160 KB); freed pages are reused.
  EXPECT_LT(size_of(path_), 2u << 20);
  EXPECT_TRUE(store.Range({"/churn/", "", 0})->kvs.empty());
}

TEST_F(EmbeddedStoreTest, OpenReportsBadPaths) {
  EmbeddedOptions options;
  EXPECT_FALSE(OpenEmbedded(options).ok());
  options.path = dir_.path() + "/no/such/dir/store.db";
  StatusOr<std::unique_ptr<Store>> store = OpenEmbedded(options);
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(internal::GetEmbeddedCounters(*Open()).value().transactions, 0);
}

}  // namespace
}  // namespace kennel::store
