#include "store/etcd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "store/forwarding.h"
#include "store/internal/etcd_internal.h"
#include "store/store_conformance.h"
#include "store/testing/etcd_process.h"

namespace kennel::store {
namespace {

using ::kennel::store::testing::ConformanceOptions;
using ::kennel::store::testing::EtcdCluster;
using ::kennel::store::testing::EtcdClusterOptions;
using ::kennel::store::testing::EventCollector;
using ::kennel::store::testing::StoreBackend;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// The store's history is etcd's; the in-memory window is only a cache of it.
// A conformance test that asks for a history of N events gets etcd compacted
// to N revisions back whenever it opens a watch, as an etcd run with that
// retention would be.
class BoundedHistoryStore final : public ForwardingStore {
 public:
  BoundedHistoryStore(std::unique_ptr<Store> inner, int64_t history_events)
      : ForwardingStore(inner.get()), owned_(std::move(inner)), history_events_(history_events) {}

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               WatchCallback callback) override {
    const int64_t keep_from = inner()->Revision() - history_events_;
    if (keep_from > 1) {
      Status compacted = internal::CompactEtcd(*inner(), keep_from);
      // kGone: compacted that far already.
      if (!compacted.ok() && compacted.code() != Code::kGone) return compacted;
    }
    return ForwardingStore::Watch(prefix, after_revision, std::move(callback));
  }

 private:
  std::unique_ptr<Store> owned_;
  const int64_t history_events_;
};

StoreBackend EtcdBackend() {
  return {"Etcd", [](const ConformanceOptions& o) -> std::shared_ptr<Store> {
            StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start();
            if (!cluster.ok()) {
              ADD_FAILURE() << cluster.status().ToString();
              return nullptr;
            }
            std::shared_ptr<EtcdCluster> etcd = std::move(*cluster);
            EtcdOptions options;
            options.endpoints = etcd->client_urls();
            options.key_prefix = "/kennel";  // so that every test also checks prefix stripping
            if (o.history_events > 0) options.history_events = o.history_events;
            StatusOr<std::unique_ptr<Store>> store = OpenEtcd(options);
            if (!store.ok()) {
              ADD_FAILURE() << store.status().ToString();
              return nullptr;
            }
            Store* raw = o.history_events > 0
                             ? new BoundedHistoryStore(std::move(*store), o.history_events)
                             : store->release();
            // The deleter stops etcd after the store.
            return std::shared_ptr<Store>(raw, [etcd](Store* s) mutable {
              delete s;
              etcd.reset();
            });
          }};
}

KENNEL_INSTANTIATE_STORE_CONFORMANCE(Etcd, EtcdBackend());

// ---------------------------------------------------------------- helpers

constexpr auto kDeadline = std::chrono::seconds(20);

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// A gauge from etcd's Prometheus text, or -1.
double Metric(const std::string& text, const std::string& name) {
  size_t at = 0;
  while ((at = text.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + name.size() + 1));
    at += name.size();
  }
  return -1;
}

bool IsUnavailableOrTimeout(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kTimeout;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void StartEtcd(int members = 1) {
    EtcdClusterOptions options;
    options.members = members;
    StartEtcd(options);
  }

  void StartEtcd(const EtcdClusterOptions& options) {
    StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    etcd_ = std::move(*cluster);
  }

  EtcdOptions Options(const std::string& prefix = "/kennel") {
    EtcdOptions options;
    options.endpoints = etcd_->client_urls();
    options.key_prefix = prefix;
    options.request_timeout = std::chrono::milliseconds(3000);
    return options;
  }

  std::unique_ptr<Store> Open(const EtcdOptions& options) {
    StatusOr<std::unique_ptr<Store>> store = OpenEtcd(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  internal::EtcdCounters Counters(Store& store) {
    std::optional<internal::EtcdCounters> c = internal::GetEtcdCounters(store);
    EXPECT_TRUE(c.has_value());
    return c.value_or(internal::EtcdCounters{});
  }

  // etcd's own view of a key, bypassing the store.
  Json RawRange(const std::string& etcd_key, int64_t revision = 0, int member = 0) {
    Json body{{"key", Base64Encode(etcd_key)}};
    if (revision > 0) body["revision"] = std::to_string(revision);
    StatusOr<std::string> r = etcd_->Post(member, "/v3/kv/range", body.dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Json::parse(*r, nullptr, /*allow_exceptions=*/false) : Json();
  }

  // A fresh etcd (revision 1) lets every store serve a watch from 0 out of its
  // window; past it, a watch from before a store opened needs its own stream.
  void PastTheFirstRevision() {
    auto store = Open(Options());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(CreateSync(*store, "/s/" + std::to_string(i), "v").ok());
    }
  }

  std::unique_ptr<EtcdCluster> etcd_;
};

std::vector<std::string> Keys(const std::vector<Event>& events) {
  std::vector<std::string> keys;
  for (const Event& ev : events) keys.push_back(ev.kv.key);
  return keys;
}

bool StrictlyIncreasing(const std::vector<Event>& events) {
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i - 1].revision() >= events[i].revision()) return false;
  }
  return true;
}

// ---------------------------------------------------------------- keys

TEST_F(EtcdStoreTest, KeysLiveUnderThePrefixAndOtherPrefixesStayApart) {
  StartEtcd();
  auto a = Open(Options("/a"));
  auto b = Open(Options("/b"));
  ASSERT_TRUE(a && b);
  EventCollector b_events;
  auto watch = b->Watch("", b->Revision(), b_events.Callback());
  ASSERT_TRUE(watch.ok());

  StatusOr<KeyValue> x = CreateSync(*a, "/x", "1");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(x->key, "/x");
  Json raw = RawRange("/a/x");
  ASSERT_EQ(raw["kvs"].size(), 1u) << raw.dump();
  EXPECT_EQ(*Base64Decode(raw["kvs"][0]["value"].get<std::string>()), "1");

  EXPECT_EQ(b->Get("/x").status().code(), Code::kNotFound);
  EXPECT_TRUE(b->Range({"", "", 0})->kvs.empty());
  ASSERT_EQ(a->Range({"", "", 0})->kvs.size(), 1u);
  EXPECT_EQ(a->Range({"", "", 0})->kvs[0].key, "/x");

  ASSERT_TRUE(CreateSync(*b, "/y", "2").ok());
  std::vector<Event> got = b_events.WaitFor(1);
  EXPECT_THAT(Keys(got), ::testing::ElementsAre("/y"));
}

// ---------------------------------------------------------------- watches

TEST_F(EtcdStoreTest, ManyWatchesShareOneEtcdStream) {
  StartEtcd();
  auto store = Open(Options());
  ASSERT_NE(store, nullptr);
  constexpr int kWatches = 50;
  const int64_t from = store->Revision();
  std::vector<std::unique_ptr<EventCollector>> collectors;
  std::vector<std::unique_ptr<WatchHandle>> handles;
  for (int i = 0; i < kWatches; ++i) {
    collectors.push_back(std::make_unique<EventCollector>());
    auto h = store->Watch(i % 2 == 0 ? "/even/" : "", from, collectors.back()->Callback());
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    handles.push_back(std::move(*h));
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(CreateSync(*store, "/even/" + std::to_string(i), "v").ok());
    ASSERT_TRUE(CreateSync(*store, "/odd/" + std::to_string(i), "v").ok());
  }
  for (int i = 0; i < kWatches; ++i) {
    const size_t want = i % 2 == 0 ? 5 : 10;
    EXPECT_EQ(collectors[i]->WaitFor(want).size(), want) << "watch " << i;
  }
  // etcd's own gauges: one gateway stream, one watcher, for all fifty.
  StatusOr<std::string> metrics = etcd_->Get(0, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_EQ(Metric(*metrics, "etcd_debugging_mvcc_watch_stream_total"), 1);
  EXPECT_EQ(Metric(*metrics, "etcd_debugging_mvcc_watcher_total"), 1);
  EXPECT_EQ(Counters(*store).watch_streams_created, 1);
  EXPECT_EQ(Counters(*store).own_stream_watches, 0);
}

TEST_F(EtcdStoreTest, WatchFromBeforeTheWindowIsServedByEtcdWithoutGaps) {
  StartEtcd();
  EtcdOptions options = Options();
  options.history_events = 5;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  std::vector<int64_t> revisions;
  for (int i = 0; i < 20; ++i) {
    StatusOr<KeyValue> kv = CreateSync(*store, "/w/" + std::to_string(100 + i), "v");
    ASSERT_TRUE(kv.ok());
    revisions.push_back(kv->mod_revision);
    ASSERT_TRUE(CreateSync(*store, "/other/" + std::to_string(i), "v").ok());
  }
  // Once the shared stream has delivered a later event, the window has moved
  // past revisions[1].
  EventCollector witness;
  auto witness_watch = store->Watch("/z/", store->Revision(), witness.Callback());
  ASSERT_TRUE(witness_watch.ok());
  ASSERT_TRUE(CreateSync(*store, "/z/", "v").ok());
  ASSERT_EQ(witness.WaitFor(1).size(), 1u);

  EventCollector old;
  auto handle = store->Watch("/w/", revisions[1], old.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(Counters(*store).own_stream_watches, 1);
  for (int i = 20; i < 25; ++i) {
    StatusOr<KeyValue> kv = CreateSync(*store, "/w/" + std::to_string(100 + i), "v");
    ASSERT_TRUE(kv.ok());
    revisions.push_back(kv->mod_revision);
  }
  std::vector<Event> got = old.WaitFor(23);
  ASSERT_EQ(got.size(), 23u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].revision(), revisions[i + 2]) << i;
    EXPECT_EQ(got[i].kv.key, "/w/" + std::to_string(102 + i));
  }
  EXPECT_FALSE(old.overlapped());
  // A watch inside the window still uses the shared stream.
  EventCollector recent;
  auto shared = store->Watch("/w/", revisions[22], recent.Callback());
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(recent.WaitFor(2).size(), 2u);
  EXPECT_EQ(Counters(*store).own_stream_watches, 1);
}

TEST_F(EtcdStoreTest, WatchFromACompactedRevisionIsGone) {
  StartEtcd();
  EtcdOptions options = Options();
  options.history_events = 3;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(CreateSync(*store, "/g/" + std::to_string(i), "v").ok());
  const int64_t now = store->Revision();
  ASSERT_TRUE(internal::CompactEtcd(*store, now - 2).ok());
  EventCollector ignored;
  auto gone = store->Watch("/g/", 1, ignored.Callback());
  EXPECT_EQ(gone.status().code(), Code::kGone) << gone.status().ToString();
  // The compaction revision itself is kept, so a watch from just before it works.
  EventCollector kept;
  auto handle = store->Watch("/g/", now - 3, kept.Callback());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(kept.WaitFor(3).size(), 3u);
}

TEST_F(EtcdStoreTest, WatchHandlesMayOutliveTheStore) {
  StartEtcd();
  EtcdOptions options = Options();
  options.history_events = 1;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(CreateSync(*store, "/h/" + std::to_string(i), "v").ok());
  EventCollector shared_events, own_events;
  auto shared = store->Watch("/h/", store->Revision(), shared_events.Callback());
  auto own = store->Watch("/h/", 1, own_events.Callback());  // before the window
  ASSERT_TRUE(shared.ok() && own.ok());
  EXPECT_EQ(own_events.WaitFor(3).size(), 3u);
  store.reset();
  shared->reset();
  own->reset();
}

// ---------------------------------------------------------------- compaction

TEST_F(EtcdStoreTest, CompactionRunsEveryIntervalAndOneStoreCompactsPerTurn) {
  StartEtcd();
  EtcdOptions options = Options();
  options.compaction_interval = std::chrono::seconds(1);
  options.history_events = 1;
  auto a = Open(options);
  auto b = Open(options);  // a second server sharing etcd and prefix
  ASSERT_TRUE(a && b);
  EventCollector all;
  auto watch = a->Watch("", a->Revision(), all.Callback());
  ASSERT_TRUE(watch.ok());
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(CreateSync(*a, "/c/" + std::to_string(i), "v").ok());

  // The first turn only records a revision; the second compacts to it.
  ASSERT_TRUE(WaitUntil([&] { return Counters(*a).compactions + Counters(*b).compactions >= 2; }))
      << "no compaction ran";
  const double turns_elapsed =
      std::chrono::duration<double>(Clock::now() - start) / options.compaction_interval;
  const internal::EtcdCounters ca = Counters(*a), cb = Counters(*b);
  // Each turn is won by one store only (not one per store and interval).
  EXPECT_LE(ca.compaction_turns + cb.compaction_turns, turns_elapsed + 2);
  const int64_t compacted = std::max(ca.last_compacted_revision, cb.last_compacted_revision);
  ASSERT_GT(compacted, 2);
  Json raw = RawRange("/kennel/c/0", compacted - 1);
  EXPECT_THAT(raw.value("error", ""), ::testing::HasSubstr("compacted")) << raw.dump();
  EventCollector ignored;
  EXPECT_EQ(a->Watch("", 1, ignored.Callback()).status().code(), Code::kGone);

  // The compaction key is the store's own business.
  StatusOr<RangeResponse> everything = a->Range({"", "", 0});
  ASSERT_TRUE(everything.ok());
  for (const KeyValue& kv : everything->kvs) EXPECT_NE(kv.key, "/compact_rev_key");
  EXPECT_EQ(a->Get("/compact_rev_key").status().code(), Code::kNotFound);
  EXPECT_EQ(CreateSync(*a, "/compact_rev_key", "x").status().code(), Code::kBadRequest);
  ASSERT_TRUE(CreateSync(*a, "/c/last", "v").ok());
  std::vector<Event> got = all.WaitFor(6);
  EXPECT_THAT(Keys(got), ::testing::ElementsAre("/c/0", "/c/1", "/c/2", "/c/3", "/c/4", "/c/last"));
}

// ---------------------------------------------------------------- TLS

TEST_F(EtcdStoreTest, TlsWithAClientCertificate) {
  EtcdClusterOptions tls;
  tls.tls = true;
  StartEtcd(tls);
  ASSERT_THAT(etcd_->client_url(0), ::testing::StartsWith("https://"));
  EtcdOptions options = Options();
  options.ca_file = etcd_->ca_file();
  options.cert_file = etcd_->client_cert_file();
  options.key_file = etcd_->client_key_file();
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  EventCollector events;
  auto watch = store->Watch("", store->Revision(), events.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(CreateSync(*store, "/tls", "v").ok());
  EXPECT_EQ(store->Get("/tls")->value, "v");
  EXPECT_EQ(events.WaitFor(1).size(), 1u);

  // etcd wants a client certificate; and a CA that did not sign etcd's
  // certificate does not verify it.
  EtcdOptions anonymous = Options();
  anonymous.ca_file = etcd_->ca_file();
  anonymous.request_timeout = std::chrono::milliseconds(500);
  EXPECT_EQ(OpenEtcd(anonymous).status().code(), Code::kUnavailable);
  EtcdOptions untrusting = options;
  untrusting.ca_file = etcd_->client_cert_file();
  untrusting.request_timeout = std::chrono::milliseconds(500);
  StatusOr<std::unique_ptr<Store>> refused = OpenEtcd(untrusting);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("certificate verify failed"));
  untrusting.ca_file = "/nonexistent/ca.crt";
  EXPECT_EQ(OpenEtcd(untrusting).status().code(), Code::kBadRequest);
}

// ---------------------------------------------------------------- failures

TEST_F(EtcdStoreTest, UnreachableEtcdIsUnavailableNamingTheEndpoints) {
  EtcdOptions options;
  options.endpoints = {"http://127.0.0.1:1", "http://127.0.0.1:2"};
  options.request_timeout = std::chrono::milliseconds(500);
  const auto start = Clock::now();
  StatusOr<std::unique_ptr<Store>> store = OpenEtcd(options);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(store.status().code(), Code::kUnavailable) << store.status().ToString();
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("http://127.0.0.1:1"));
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("http://127.0.0.1:2"));
  options.endpoints = {"ftp://127.0.0.1:1"};
  EXPECT_EQ(OpenEtcd(options).status().code(), Code::kBadRequest);
}

TEST_F(EtcdStoreTest, DestroyingTheStoreCompletesOrFailsEveryPendingWrite) {
  StartEtcd();
  constexpr int kWrites = 200;
  std::mutex mu;
  std::map<std::string, Code> results;
  {
    auto store = Open(Options());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kWrites; ++i) {
      std::string key = "/p/" + std::to_string(i);
      store->Create(key, "v", [&, key](StatusOr<KeyValue> r) {
        std::lock_guard lock(mu);
        EXPECT_TRUE(results.emplace(key, r.status().code()).second) << "acked twice: " << key;
      });
    }
  }
  ASSERT_EQ(results.size(), static_cast<size_t>(kWrites));
  auto store = Open(Options());
  ASSERT_NE(store, nullptr);
  for (const auto& [key, code] : results) {
    EXPECT_TRUE(code == Code::kOk || code == Code::kUnavailable) << key << ": " << CodeName(code);
    if (code == Code::kOk) {
      EXPECT_TRUE(store->Get(key).ok()) << key;
    }
  }
}

// Writes a new key until etcd has it. A write in flight when the leader died
// fails with its outcome unknown; the retry then either writes it or finds
// that the earlier try landed (kAlreadyExists).
StatusOr<KeyValue> CreateEventually(Store& store, const std::string& key, int* failures) {
  const auto deadline = Clock::now() + kDeadline;
  for (;;) {
    StatusOr<KeyValue> kv = CreateSync(store, key, "v");
    if (kv.ok()) return kv;
    if (kv.status().code() == Code::kAlreadyExists) return store.Get(key);
    if (!IsUnavailableOrTimeout(kv.status()) || Clock::now() > deadline) return kv;
    ++*failures;
  }
}

// The members' ids, and which one leads, from /v3/maintenance/status.
struct Leadership {
  std::vector<std::string> ids;
  std::string leader;
};

Leadership GetLeadership(EtcdCluster& etcd) {
  Leadership l;
  for (int i = 0; i < etcd.size(); ++i) {
    StatusOr<std::string> r = etcd.Post(i, "/v3/maintenance/status", "{}");
    Json status = Json::parse(r.ok() ? *r : "{}", nullptr, /*allow_exceptions=*/false);
    l.ids.push_back(status.is_object() ? status["header"].value("member_id", "") : "");
    if (i == 0 && status.is_object()) l.leader = status.value("leader", "");
  }
  return l;
}

// A 3-member cluster: make member 0 the leader, then kill -9 it, so that the
// store loses its endpoint (unary calls and stream) and etcd its leader at
// once. Reads, writes and an open watch carry on, and no event is lost.
TEST_F(EtcdStoreTest, FailoverKeepsReadsWritesAndWatchGoing) {
  StartEtcd(3);
  Leadership l = GetLeadership(*etcd_);
  if (l.leader != l.ids[0]) {
    const int leader =
        static_cast<int>(std::find(l.ids.begin(), l.ids.end(), l.leader) - l.ids.begin());
    ASSERT_LT(leader, etcd_->size()) << "no leader among " << ::testing::PrintToString(l.ids);
    ASSERT_TRUE(etcd_
                    ->Post(leader, "/v3/maintenance/transfer-leadership",
                           Json{{"targetID", l.ids[0]}}.dump())
                    .ok());
    ASSERT_TRUE(WaitUntil([&] { return GetLeadership(*etcd_).leader == l.ids[0]; }));
  }
  EtcdOptions options = Options();
  options.request_timeout =
      std::chrono::milliseconds(1500);  // a write to the dead leader waits it out
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  EventCollector events;
  auto watch = store->Watch("/f/", store->Revision(), events.Callback());
  ASSERT_TRUE(watch.ok());
  std::vector<KeyValue> written;
  int failures = 0;
  for (int i = 0; i < 40; ++i) {
    if (i == 20) etcd_->Kill(0);
    StatusOr<KeyValue> kv = CreateEventually(*store, "/f/" + std::to_string(100 + i), &failures);
    ASSERT_TRUE(kv.ok()) << i << ": " << kv.status().ToString();
    written.push_back(*kv);
    StatusOr<KeyValue> got = store->Get(kv->key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->mod_revision, kv->mod_revision);
  }
  // Writes fail only while etcd elects a new leader, if at all.
  EXPECT_LE(failures, 5);
  std::printf("[ failover ] %d writes failed with an unknown outcome while the leader changed\n",
              failures);
  EXPECT_EQ(store->Range({"/f/", "", 0})->kvs.size(), 40u);
  std::vector<Event> got = events.WaitFor(40);
  ASSERT_EQ(got.size(), 40u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].kv.key, written[i].key);
    EXPECT_EQ(got[i].revision(), written[i].mod_revision);
  }
  EXPECT_GE(Counters(*store).watch_streams_created, 2) << "the stream moved to another member";
}

// Kill 2 of 3: no quorum. Writes fail within about request_timeout and none is
// reported OK; once the members are back, writes succeed again, every
// acknowledged write reads back and the watch has seen each of them.
TEST_F(EtcdStoreTest, QuorumLossFailsWritesInTimeAndRecovers) {
  StartEtcd(3);
  EtcdOptions options = Options();
  options.request_timeout = std::chrono::milliseconds(1500);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  EventCollector events;
  auto watch = store->Watch("/q/", store->Revision(), events.Callback());
  ASSERT_TRUE(watch.ok());
  std::vector<KeyValue> acked;
  int next = 0;
  auto write = [&]() -> Status {
    StatusOr<KeyValue> kv = CreateSync(*store, "/q/" + std::to_string(1000 + next++), "v");
    if (kv.ok()) acked.push_back(*kv);
    return kv.status();
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(write().ok());

  etcd_->Kill(1);
  etcd_->Kill(2);
  for (int i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    Status s = write();
    const auto took = Clock::now() - start;
    EXPECT_TRUE(IsUnavailableOrTimeout(s)) << s.ToString();
    EXPECT_LT(took, options.request_timeout + std::chrono::milliseconds(1000));
  }
  const auto start = Clock::now();
  EXPECT_TRUE(IsUnavailableOrTimeout(store->Get("/q/1000").status()));
  EXPECT_LT(Clock::now() - start, options.request_timeout + std::chrono::milliseconds(1000));

  ASSERT_TRUE(etcd_->Restart(1).ok());
  ASSERT_TRUE(etcd_->Restart(2).ok());
  Status healthy = etcd_->WaitAllHealthy(std::chrono::seconds(20));
  ASSERT_TRUE(healthy.ok()) << healthy.ToString();
  for (int i = 0; i < 10; ++i) {
    Status s = write();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  for (const KeyValue& kv : acked) {
    StatusOr<KeyValue> got = store->Get(kv.key);
    ASSERT_TRUE(got.ok()) << kv.key << ": " << got.status().ToString();
    EXPECT_EQ(got->mod_revision, kv.mod_revision);
  }
  // Every acknowledged write reaches the watch, in order, once; the failed
  // writes whose outcome was unknown may appear too.
  ASSERT_TRUE(WaitUntil([&] { return events.events().size() >= acked.size(); }));
  ASSERT_TRUE(WaitUntil([&] {
    return !events.events().empty() && events.events().back().kv.key == acked.back().key;
  }));
  std::vector<Event> got = events.events();
  EXPECT_TRUE(StrictlyIncreasing(got));
  std::set<std::string> seen;
  for (const Event& ev : got) EXPECT_TRUE(seen.insert(ev.kv.key).second) << ev.kv.key;
  for (const KeyValue& kv : acked) EXPECT_TRUE(seen.count(kv.key)) << kv.key;
}

// ---------------------------------------------------------------- shutdown

// Load to destroy a store under. Each lane keeps one write in flight: its
// acknowledgement issues the lane's next write, so writes are in flight, and
// new ones keep arriving from the dispatch thread, while the destructor runs.
// Watch callbacks read from the store (allowed from callbacks), which during
// destruction races the refusal of new calls. Counts let the test check that
// every write is acknowledged exactly once, and nothing calls back after the
// destructor returned.
class ShutdownLoad {
 public:
  ShutdownLoad(Store& store, std::string prefix) : store_(store), prefix_(std::move(prefix)) {}

  void StartWrites(int lanes) {
    for (int lane = 0; lane < lanes; ++lane) Issue(lane, 0);
  }

  WatchCallback Callback() {
    auto last = std::make_shared<int64_t>(0);  // one watch's callbacks never overlap
    return [this, last](const std::vector<Event>& events) {
      EXPECT_FALSE(destroyed_.load()) << "watch callback after the store was destroyed";
      for (const Event& ev : events) {
        EXPECT_GT(ev.revision(), *last) << ev.kv.key;
        *last = ev.revision();
      }
      if (batches_.fetch_add(1) % 4 == 0) store_.Get(prefix_ + "0").status().IgnoreError();
    };
  }

  // The store's destructor has returned.
  void MarkDestroyed() { destroyed_.store(true); }
  int64_t issued() const { return issued_.load(); }
  int64_t acked() const { return acked_.load(); }
  int64_t ok() const { return ok_.load(); }
  int64_t batches() const { return batches_.load(); }

 private:
  void Issue(int lane, int step) {
    issued_.fetch_add(1);
    const std::string key = prefix_ + std::to_string(lane);
    auto done = [this, lane, step](StatusOr<KeyValue> r) {
      EXPECT_FALSE(destroyed_.load()) << "write acknowledged after the store was destroyed";
      acked_.fetch_add(1);
      if (r.ok()) ok_.fetch_add(1);
      // Refused (the store is shutting down) or timed out: the lane ends.
      if (!IsUnavailableOrTimeout(r.status())) Issue(lane, step + 1);
    };
    switch (step % 3) {
      case 0:
        store_.Create(key, "v", std::move(done));
        break;
      case 1:
        store_.Update(key, std::to_string(step), kAnyRevision, std::move(done));
        break;
      default:
        store_.Delete(key, kAnyRevision, std::move(done));
        break;
    }
  }

  Store& store_;
  const std::string prefix_;
  std::atomic<bool> destroyed_{false};
  std::atomic<int64_t> issued_{0}, acked_{0}, ok_{0}, batches_{0};
};

// Watches on the shared stream and on etcd streams of their own (from before
// the store's window), some under the load's prefix and some over everything.
std::vector<std::unique_ptr<WatchHandle>> StartShutdownWatches(Store& store, ShutdownLoad& load,
                                                               const std::string& prefix,
                                                               int64_t opened) {
  std::vector<std::unique_ptr<WatchHandle>> handles;
  for (int i = 0; i < 6; ++i) {
    const int64_t from = i % 2 == 0 ? opened : std::max<int64_t>(1, opened - 2);
    StatusOr<std::unique_ptr<WatchHandle>> h =
        store.Watch(i % 3 == 0 ? "" : prefix, from, load.Callback());
    if (h.ok()) {
      handles.push_back(std::move(*h));
    } else {  // an earlier store's compaction may have taken opened - 2 away
      EXPECT_EQ(h.status().code(), Code::kGone) << h.status().ToString();
    }
  }
  return handles;
}

// Destroys the store with writes, reads and watches in flight; a third of
// the handles go before it, a third concurrently from another thread, the
// rest after it (handles may outlive the store).
void DestroyUnderLoad(std::unique_ptr<Store>& store, ShutdownLoad& load,
                      std::vector<std::unique_ptr<WatchHandle>> handles, std::mt19937& rng) {
  std::shuffle(handles.begin(), handles.end(), rng);
  const size_t third = handles.size() / 3;
  handles.erase(handles.begin(), handles.begin() + third);
  std::vector<std::unique_ptr<WatchHandle>> concurrent(
      std::make_move_iterator(handles.begin()), std::make_move_iterator(handles.begin() + third));
  handles.erase(handles.begin(), handles.begin() + third);
  std::thread dropper([&concurrent] { concurrent.clear(); });
  store.reset();
  load.MarkDestroyed();
  dropper.join();
  handles.clear();
  EXPECT_EQ(load.acked(), load.issued()) << "a write was not acknowledged exactly once";
}

// The API server destroys its etcd store on SIGTERM, possibly right after
// load. Run under ASan/UBSan, this is the test for lifetimes on every
// shutdown path: pooled connections (more lanes than the pool's 64
// connections, so calls also wait for one), the shared stream, per-watch
// streams (one still being created), the compactor, and handles dropped
// before, during and after the store.
TEST_F(EtcdStoreTest, DestroyUnderLoadIsClean) {
  StartEtcd();
  const unsigned seed = ::testing::UnitTest::GetInstance()->random_seed();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  ASSERT_NO_FATAL_FAILURE(PastTheFirstRevision());
  constexpr int kIterations = 12;
  int64_t writes = 0, ok = 0, batches = 0, own_streams = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    // Two runs outlive a compaction interval, so a compaction turn is
    // scheduled or in flight when they end.
    const bool compacting = iter % 6 == 5;
    EtcdOptions options = Options();
    options.history_events = 50;
    options.compaction_interval = std::chrono::seconds(compacting ? 1 : 0);
    std::unique_ptr<Store> store = Open(options);
    ASSERT_NE(store, nullptr);
    const int64_t opened = store->Revision();
    const std::string prefix = "/d" + std::to_string(iter) + "/";
    ShutdownLoad load(*store, prefix);
    std::vector<std::unique_ptr<WatchHandle>> handles =
        StartShutdownWatches(*store, load, prefix, opened);
    load.StartWrites(80);
    std::atomic<bool> stop_reads{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
      readers.emplace_back([&] {
        while (!stop_reads.load()) {
          store->Get(prefix + "1").status().IgnoreError();
          store->Range({prefix, "", 10}).status().IgnoreError();
        }
      });
    }
    const int pause_ms = compacting ? 1100 : std::uniform_int_distribution<int>(0, 60)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    // Its etcd stream is being created as the store goes.
    StatusOr<std::unique_ptr<WatchHandle>> late =
        store->Watch(prefix, std::max<int64_t>(1, opened - 1), load.Callback());
    if (late.ok()) handles.push_back(std::move(*late));
    own_streams += Counters(*store).own_stream_watches;
    stop_reads.store(true);
    for (std::thread& t : readers) t.join();
    DestroyUnderLoad(store, load, std::move(handles), rng);
    writes += load.issued();
    ok += load.ok();
    batches += load.batches();
  }
  std::printf(
      "[ shutdown ] %lld writes (%lld ok), %lld watch batches, %lld own streams over %d stores\n",
      static_cast<long long>(writes), static_cast<long long>(ok), static_cast<long long>(batches),
      static_cast<long long>(own_streams), kIterations);
  EXPECT_GT(ok, 0);
  EXPECT_GT(own_streams, 0);
}

// The same with etcd gone (killed) under the load: the streams are
// reconnecting (connect refused, backing off) and calls are retrying until
// their deadline when the stores are destroyed, at staggered times.
TEST_F(EtcdStoreTest, DestroyWhileEtcdIsDownIsClean) {
  StartEtcd();
  const unsigned seed = ::testing::UnitTest::GetInstance()->random_seed();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  ASSERT_NO_FATAL_FAILURE(PastTheFirstRevision());
  constexpr int kStores = 3;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round > 0) {
      ASSERT_TRUE(etcd_->Restart(0).ok());
      Status healthy = etcd_->WaitHealthy(0, std::chrono::seconds(20));
      ASSERT_TRUE(healthy.ok()) << healthy.ToString();
    }
    EtcdOptions options = Options();
    options.history_events = 50;
    options.compaction_interval = std::chrono::seconds(0);
    options.request_timeout = std::chrono::milliseconds(500);
    // In this order so that, should an assertion end the round early, the
    // stores go before the loads their callbacks use.
    std::vector<std::unique_ptr<ShutdownLoad>> loads;
    std::vector<std::unique_ptr<Store>> stores;
    std::vector<std::vector<std::unique_ptr<WatchHandle>>> handles;
    for (int i = 0; i < kStores; ++i) {
      stores.push_back(Open(options));
      ASSERT_NE(stores.back(), nullptr);
      const std::string prefix = "/e" + std::to_string(round) + std::to_string(i) + "/";
      loads.push_back(std::make_unique<ShutdownLoad>(*stores.back(), prefix));
      handles.push_back(
          StartShutdownWatches(*stores.back(), *loads.back(), prefix, stores.back()->Revision()));
      loads.back()->StartWrites(20);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    etcd_->Kill(0);
    // Immediately, within the first backoffs (50, 100 ms), and later.
    const int delays_ms[kStores] = {0, std::uniform_int_distribution<int>(10, 150)(rng), 300};
    auto start = Clock::now();
    for (int i = 0; i < kStores; ++i) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(delays_ms[i]));
      DestroyUnderLoad(stores[i], *loads[i], std::move(handles[i]), rng);
    }
  }
}

}  // namespace
}  // namespace kennel::store
