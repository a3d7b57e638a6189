// The informer over the in-process client on a real Handler and embedded store,
// and over a scripted client for the relist path.
#include "client/informer.h"

#include "client/test_cluster.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/io_context.hpp>
// clang-format on
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "apiserver/errors.h"
#include "client/test_cluster.h"
#include "store/embedded.h"

namespace kennel::client {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

json ConfigMap(const std::string& name, const std::string& value = "v",
               const json& labels = json::object()) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}}},
             {"data", {{"k", value}}}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  return cm;
}

std::string Name(const json& obj) { return obj["metadata"].value("name", ""); }

// What the handlers saw, as "add a", "update a v→v2", "delete a".
class Recorder {
 public:
  InformerHandler Handler() {
    InformerHandler h;
    h.on_add = [this](const json& o) { Record("add " + Name(o)); };
    h.on_update = [this](const json& old, const json& cur) {
      Record("update " + Name(cur) + " " + old["data"].value("k", "") + "->" +
             cur["data"].value("k", ""));
    };
    h.on_delete = [this](const json& o) { Record("delete " + Name(o)); };
    return h;
  }
  // Waits until pred holds on what was seen so far.
  bool WaitUntil(const std::function<bool(const std::vector<std::string>&)>& pred,
                 milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(seen_); });
  }
  bool WaitForCount(size_t n) {
    return WaitUntil([n](const auto& s) { return s.size() >= n; });
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Record(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(std::move(s));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    client_ = cluster_.client();
  }

  json MustCreate(const json& obj) {
    auto created = client_->Create(kConfigMaps, "default", obj);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  TestCluster cluster_;
  Client* client_ = nullptr;
};

TEST_F(InformerTest, FillsCacheAndSeesAddUpdateDelete) {
  MustCreate(ConfigMap("a"));
  MustCreate(ConfigMap("b"));
  Informer informer(client_, kConfigMaps, "default");
  Recorder rec;
  informer.AddHandler(rec.Handler());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  EXPECT_TRUE(informer.HasSynced());
  EXPECT_EQ(rec.seen(), (std::vector<std::string>{"add a", "add b"}));
  EXPECT_EQ(informer.List().size(), 2u);
  ASSERT_TRUE(informer.Get("default/a").has_value());
  EXPECT_EQ((*informer.Get("default/a"))["data"]["k"], "v");
  EXPECT_FALSE(informer.Get("default/zzz").has_value());

  json c = MustCreate(ConfigMap("c"));
  c["data"]["k"] = "v2";
  ASSERT_TRUE(client_->Update(kConfigMaps, "default", c).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "a").ok());
  ASSERT_TRUE(rec.WaitForCount(5));
  EXPECT_EQ(rec.seen(),
            (std::vector<std::string>{"add a", "add b", "add c", "update c v->v2", "delete a"}));
  EXPECT_FALSE(informer.Get("default/a").has_value());
  auto cached = informer.Get("default/c");
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ((*cached)["data"]["k"], "v2");
  informer.Stop();
}

TEST_F(InformerTest, SelectorsRestrictTheCache) {
  MustCreate(ConfigMap("web", "v", {{"app", "web"}}));
  MustCreate(ConfigMap("db", "v", {{"app", "db"}}));
  ListOptions selectors;
  selectors.label_selector = "app=web";
  Informer informer(client_, kConfigMaps, "default", selectors);
  Recorder rec;
  informer.AddHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  MustCreate(ConfigMap("web2", "v", {{"app", "web"}}));
  MustCreate(ConfigMap("db2", "v", {{"app", "db"}}));
  ASSERT_TRUE(rec.WaitForCount(2));
  // db2 went by before anything later; give it no chance to be missed silently:
  // one more matching object proves the stream moved past it.
  MustCreate(ConfigMap("web3", "v", {{"app", "web"}}));
  ASSERT_TRUE(rec.WaitForCount(3));
  EXPECT_EQ(rec.seen(), (std::vector<std::string>{"add web", "add web2", "add web3"}));
  EXPECT_EQ(informer.List().size(), 3u);
}

// A metadata informer (the garbage collector's) caches PartialObjectMetadata:
// names, uids, owner references, but no data.
TEST_F(InformerTest, MetadataOnlyCachesMetadata) {
  json a = MustCreate(ConfigMap("a"));
  ListOptions metadata_only;
  metadata_only.metadata_only = true;
  Informer informer(client_, kConfigMaps, "default", metadata_only);
  Recorder rec;
  informer.AddHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  json b = MustCreate(ConfigMap("b"));
  ASSERT_TRUE(rec.WaitForCount(2));
  EXPECT_EQ(rec.seen(), (std::vector<std::string>{"add a", "add b"}));
  for (const json& created : {a, b}) {
    auto cached = informer.Get("default/" + Name(created));
    ASSERT_TRUE(cached.has_value());
    EXPECT_EQ((*cached)["kind"], "PartialObjectMetadata");
    EXPECT_EQ((*cached)["metadata"], created["metadata"]);
    EXPECT_FALSE(cached->contains("data")) << *cached;
  }
}

// Handlers already see the change's revision as applied: a controller
// deciding under its handlers' lock whether to remember its own write relies
// on it (the volume binder's assumed claims).
TEST_F(InformerTest, AppliedRevisionRisesBeforeHandlersRun) {
  json before = MustCreate(ConfigMap("before"));
  Informer informer(client_, kConfigMaps, "default");
  EXPECT_EQ(informer.AppliedRevision(), 0);
  std::mutex mu;
  std::vector<std::string> lagging;  // handler calls that saw an older revision
  auto check = [&](const json& o) {
    int64_t rv = std::stoll(o["metadata"]["resourceVersion"].get<std::string>());
    if (informer.AppliedRevision() < rv) {
      std::lock_guard<std::mutex> lock(mu);
      lagging.push_back(Name(o));
    }
  };
  Recorder rec;
  InformerHandler h = rec.Handler();
  InformerHandler checking;
  checking.on_add = [&](const json& o) {
    check(o);
    h.on_add(o);
  };
  checking.on_update = [&](const json& old, const json& o) {
    check(o);
    h.on_update(old, o);
  };
  std::atomic<int64_t> deleted_rv{0};
  checking.on_delete = [&](const json& o) {
    deleted_rv = std::stoll(o["metadata"]["resourceVersion"].get<std::string>());
    h.on_delete(o);
  };
  informer.AddHandler(checking);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  EXPECT_GE(informer.AppliedRevision(),
            std::stoll(before["metadata"]["resourceVersion"].get<std::string>()));
  json after = MustCreate(ConfigMap("after"));
  after["data"]["k"] = "v2";
  auto updated = client_->Update(kConfigMaps, "default", after);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_TRUE(rec.WaitForCount(3));
  EXPECT_GE(informer.AppliedRevision(),
            std::stoll((*updated)["metadata"]["resourceVersion"].get<std::string>()));
  // A delete leaves nothing to compare in a handler, but raises it too.
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "after").ok());
  ASSERT_TRUE(rec.WaitForCount(4));
  EXPECT_GT(deleted_rv.load(), 0);
  EXPECT_GE(informer.AppliedRevision(), deleted_rv.load());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(lagging.empty()) << lagging.size() << " handler calls ran before their revision";
}

TEST_F(InformerTest, StopIsPromptAndFinal) {
  Informer informer(client_, kConfigMaps, "default");
  Recorder rec;
  informer.AddHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  auto start = Clock::now();
  informer.Stop();
  EXPECT_LT(Clock::now() - start, seconds(5));
  MustCreate(ConfigMap("after"));
  // The in-process client's dispatcher is shared: a witness watch shows the
  // event has been dispatched, and the stopped informer did not get it.
  Recorder witness;
  Informer other(client_, kConfigMaps, "default");
  other.AddHandler(witness.Handler());
  other.Start();
  ASSERT_TRUE(other.WaitForSync(seconds(10)));
  EXPECT_TRUE(rec.seen().empty());
}

// A client whose list and watch answers a test scripts, to drive relists.
class ScriptedClient : public Client {
 public:
  StatusOr<Response> Do(const Request& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++lists_;
    json list = {{"kind", "ConfigMapList"},
                 {"metadata", {{"resourceVersion", std::to_string(list_rv_)}}},
                 {"items", items_}};
    (void)request;
    cv_.notify_all();
    return Response{200, "application/json", list.dump()};
  }

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource&, const std::string&,
                                               const ListOptions& options, WatchCallback on_event,
                                               WatchClosedCallback on_closed) override {
    std::lock_guard<std::mutex> lock(mu_);
    watch_rvs_.push_back(options.resource_version);
    on_event_ = std::move(on_event);
    on_closed_ = std::move(on_closed);
    cv_.notify_all();
    return std::unique_ptr<WatchHandle>(std::make_unique<WatchHandle>());
  }

  void SetList(std::vector<json> items, int64_t rv) {
    std::lock_guard<std::mutex> lock(mu_);
    items_ = std::move(items);
    list_rv_ = rv;
  }
  bool WaitForWatches(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return watch_rvs_.size() >= n; });
  }
  // Plays the server's side of the current watch (from the test thread: the
  // informer only queues what it gets).
  void Send(const WatchEvent& e) {
    WatchCallback cb;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cb = on_event_;
    }
    cb(e);
  }
  void Close(const Status& s) {
    WatchClosedCallback cb;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cb = on_closed_;
    }
    cb(s);
  }
  std::vector<std::string> watch_rvs() {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_rvs_;
  }
  int lists() {
    std::lock_guard<std::mutex> lock(mu_);
    return lists_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> items_;
  int64_t list_rv_ = 1;
  int lists_ = 0;
  std::vector<std::string> watch_rvs_;
  WatchCallback on_event_;
  WatchClosedCallback on_closed_;
};

json Versioned(const std::string& name, int rv, const std::string& value) {
  json cm = ConfigMap(name, value);
  cm["metadata"]["namespace"] = "default";
  cm["metadata"]["resourceVersion"] = std::to_string(rv);
  return cm;
}

TEST(InformerRelistTest, RelistsOnGoneAndDiffs) {
  ScriptedClient client;
  client.SetList(
      {Versioned("keep", 2, "v"), Versioned("change", 3, "v"), Versioned("vanish", 4, "v")}, 10);
  Informer informer(&client, kConfigMaps, "default");
  Recorder rec;
  informer.AddHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  ASSERT_TRUE(client.WaitForWatches(1));
  EXPECT_EQ(client.watch_rvs()[0], "10");

  // A bookmark moves the resume point; a normal end resumes from it.
  client.Send({"BOOKMARK", {{"metadata", {{"resourceVersion", "15"}}}}});
  client.Close(Status::Ok());
  ASSERT_TRUE(client.WaitForWatches(2));
  EXPECT_EQ(client.watch_rvs()[1], "15");
  EXPECT_EQ(client.lists(), 1) << "a normal end must not relist";

  // Too old: relist, and the diff becomes events.
  client.SetList(
      {Versioned("keep", 2, "v"), Versioned("change", 20, "v2"), Versioned("new", 21, "v")}, 30);
  client.Close(Gone("too old resource version"));
  ASSERT_TRUE(client.WaitForWatches(3));
  EXPECT_EQ(client.watch_rvs()[2], "30");
  EXPECT_EQ(client.lists(), 2);
  ASSERT_TRUE(rec.WaitForCount(6));
  EXPECT_EQ(rec.seen(),
            (std::vector<std::string>{"add change", "add keep", "add vanish", "update change v->v2",
                                      "add new", "delete vanish"}));
  EXPECT_FALSE(informer.Get("default/vanish").has_value());
  EXPECT_TRUE(informer.Get("default/new").has_value());

  // An ERROR event carrying 410 also relists.
  client.Send({"ERROR", apiserver::StatusBody(Gone("expired"))});
  ASSERT_TRUE(client.WaitForWatches(4));
  EXPECT_EQ(client.lists(), 3);
  informer.Stop();
}

TEST(InformerRelistTest, BacksOffOnRepeatedFailures) {
  ScriptedClient client;
  Informer informer(&client, kConfigMaps, "default");
  informer.Start();
  ASSERT_TRUE(client.WaitForWatches(1));
  auto start = Clock::now();
  // Three failures without a single event: waits of 100, 200, 400 ms.
  for (size_t i = 1; i <= 3; ++i) {
    client.Close(Unavailable("connection lost"));
    ASSERT_TRUE(client.WaitForWatches(i + 1));
  }
  EXPECT_GE(Clock::now() - start, milliseconds(700));
  informer.Stop();
}

}  // namespace
}  // namespace kennel::client
