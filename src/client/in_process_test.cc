// The in-process client against a real Handler on an embedded store in a
// temporary directory, with the Handler's io_context running on its own
// thread as the server's would.
#include "client/in_process.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
// clang-format on
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/embedded.h"

namespace kennel::client {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

json ConfigMap(const std::string& name, const json& data = {{"k", "v"}},
               const json& labels = json::object()) {
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  cm["data"] = data;
  return cm;
}

std::string Rv(const json& obj) { return obj["metadata"].value("resourceVersion", ""); }
std::string Name(const json& obj) { return obj["metadata"].value("name", ""); }

// Watch events collected from the client's thread.
class Collector {
 public:
  WatchCallback Callback() {
    return [this](const WatchEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  std::vector<WatchEvent> WaitFor(size_t n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    return events_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
};

// "ADDED a" for each event, to compare sequences.
std::vector<std::string> Summary(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type + " " + Name(e.object));
  return out;
}

class InProcessClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-client-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store::EmbeddedOptions options;
    options.path = dir_ + "/kennel.db";
    options.fsync = false;  // durability is the store tests' business
    auto opened = store::OpenEmbedded(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    handler_ = std::make_unique<apiserver::Handler>(store_.get(), apiserver::HandlerOptions{});
    ASSERT_TRUE(handler_->Bootstrap().ok());
    io_thread_ = std::thread([this] { ioc_.run(); });
    client_ = NewInProcessClient(handler_.get(), ioc_.get_executor());
  }

  void TearDown() override {
    client_.reset();
    handler_.reset();
    store_.reset();  // acknowledges queued writes; their callbacks post to ioc_
    work_.reset();
    io_thread_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  json MustCreate(const json& obj, const std::string& ns = "default") {
    auto created = client_->Create(kConfigMaps, ns, obj);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<apiserver::Handler> handler_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::thread io_thread_;
  std::unique_ptr<Client> client_;
};

TEST_F(InProcessClientTest, CreateGetListUpdateDelete) {
  json created = MustCreate(ConfigMap("cfg"));
  EXPECT_FALSE(Rv(created).empty());
  EXPECT_FALSE(created["metadata"].value("uid", "").empty());

  auto got = client_->Get(kConfigMaps, "default", "cfg");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["k"], "v");
  EXPECT_EQ(Rv(*got), Rv(created));

  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(Name(list->items[0]), "cfg");
  EXPECT_FALSE(list->resource_version.empty());

  json changed = *got;
  changed["data"]["k"] = "v2";
  auto updated = client_->Update(kConfigMaps, "default", changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["data"]["k"], "v2");
  EXPECT_NE(Rv(*updated), Rv(created));

  // The first version's resourceVersion is stale now.
  json stale = created;
  stale["data"]["k"] = "lost";
  EXPECT_EQ(client_->Update(kConfigMaps, "default", stale).status().code(), Code::kConflict);

  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "cfg").ok());
  EXPECT_EQ(client_->Get(kConfigMaps, "default", "cfg").status().code(), Code::kNotFound);
  EXPECT_EQ(client_->Delete(kConfigMaps, "default", "cfg").code(), Code::kNotFound);
}

TEST_F(InProcessClientTest, PatchesOfAllThreeTypes) {
  MustCreate(ConfigMap("p", {{"a", "1"}, {"b", "2"}}));
  auto merged = client_->Patch(kConfigMaps, "default", "p", PatchType::kMerge,
                               {{"data", {{"a", "10"}, {"b", nullptr}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"], json({{"a", "10"}}));

  json ops = json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}}});
  auto patched = client_->Patch(kConfigMaps, "default", "p", PatchType::kJson, ops);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["data"], json({{"a", "10"}, {"c", "3"}}));

  auto strategic = client_->Patch(kConfigMaps, "default", "p", PatchType::kStrategicMerge,
                                  {{"metadata", {{"labels", {{"x", "y"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ((*strategic)["metadata"]["labels"]["x"], "y");
  EXPECT_EQ((*strategic)["data"], json({{"a", "10"}, {"c", "3"}}));

  json bad_ops = json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "nope"}}});
  auto failed = client_->Patch(kConfigMaps, "default", "p", PatchType::kJson, bad_ops);
  EXPECT_FALSE(failed.ok());
}

TEST_F(InProcessClientTest, ErrorCodes) {
  MustCreate(ConfigMap("twice"));
  EXPECT_EQ(client_->Create(kConfigMaps, "default", ConfigMap("twice")).status().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(client_->Get(kConfigMaps, "default", "missing").status().code(), Code::kNotFound);
  auto invalid = client_->Create(kConfigMaps, "default", ConfigMap("Bad_Name"));
  EXPECT_EQ(invalid.status().code(), Code::kInvalid);
  EXPECT_FALSE(invalid.status().causes().empty());
  EXPECT_EQ(client_->Get(kConfigMaps, "no-such-ns", "x").status().code(), Code::kNotFound);
  Request watch;
  watch.path = "/api/v1/configmaps";
  watch.query = "watch=1";
  EXPECT_EQ(client_->Do(watch).status().code(), Code::kBadRequest);
}

TEST_F(InProcessClientTest, ListWithSelectorsGoesThroughQueryParsing) {
  MustCreate(ConfigMap("a", {{"k", "v"}}, {{"app", "web"}}));
  MustCreate(ConfigMap("b", {{"k", "v"}}, {{"app", "db"}}));
  MustCreate(ConfigMap("c", {{"k", "v"}}, {{"app", "cache"}}));
  ListOptions o;
  o.label_selector = "app in (web,db)";
  auto list = client_->List(kConfigMaps, "default", o);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const auto& item : list->items) names.push_back(Name(item));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));

  o = {};
  o.limit = 2;
  auto page = client_->List(kConfigMaps, "default", o);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_FALSE(page->continue_token.empty());
  o.continue_token = page->continue_token;
  auto rest = client_->List(kConfigMaps, "default", o);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->items.size(), 1u);
}

TEST_F(InProcessClientTest, WatchSeesChangesInOrder) {
  MustCreate(ConfigMap("before"));
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), nullptr);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  // From "now": the current state first, as ADDED.
  ASSERT_EQ(events.WaitFor(1).size(), 1u);

  json w = MustCreate(ConfigMap("w"));
  w["data"]["k"] = "v2";
  ASSERT_TRUE(client_->Update(kConfigMaps, "default", w).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "w").ok());
  auto got = events.WaitFor(4);
  EXPECT_EQ(Summary(got),
            (std::vector<std::string>{"ADDED before", "ADDED w", "MODIFIED w", "DELETED w"}));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].object["data"]["k"], "v2");
}

TEST_F(InProcessClientTest, WatchFromResourceVersionWithSelector) {
  MustCreate(ConfigMap("old", {{"k", "v"}}, {{"app", "web"}}));
  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok());
  Collector events;
  ListOptions o;
  o.resource_version = list->resource_version;
  o.label_selector = "app=web";
  auto handle = client_->Watch(kConfigMaps, "default", o, events.Callback(), nullptr);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  MustCreate(ConfigMap("other", {{"k", "v"}}, {{"app", "db"}}));
  json matching = MustCreate(ConfigMap("new", {{"k", "v"}}, {{"app", "web"}}));
  // Stops matching: a selected watch sees it as DELETED.
  matching["metadata"]["labels"]["app"] = "db";
  ASSERT_TRUE(client_->Update(kConfigMaps, "default", matching).ok());
  EXPECT_EQ(Summary(events.WaitFor(2)), (std::vector<std::string>{"ADDED new", "DELETED new"}));
}

TEST_F(InProcessClientTest, WatchFromTooOldVersionIsGone) {
  ListOptions o;
  o.resource_version = "1";
  // A reopened store has no history: anything before its revision is gone.
  client_.reset();
  handler_.reset();
  store_.reset();
  store::EmbeddedOptions options;
  options.path = dir_ + "/kennel.db";
  options.fsync = false;
  auto reopened = store::OpenEmbedded(options);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened).value();
  handler_ = std::make_unique<apiserver::Handler>(store_.get(), apiserver::HandlerOptions{});
  client_ = NewInProcessClient(handler_.get(), ioc_.get_executor());
  auto handle = client_->Watch(
      kConfigMaps, "", o, [](const WatchEvent&) {}, nullptr);
  EXPECT_EQ(handle.status().code(), Code::kGone) << handle.status().ToString();
}

TEST_F(InProcessClientTest, DestroyingHandleInsideCallbackStopsDelivery) {
  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok());
  ListOptions from_now;
  from_now.resource_version = list->resource_version;

  std::mutex mu;
  std::unique_ptr<WatchHandle> handle;
  int calls = 0;
  auto first = client_->Watch(
      kConfigMaps, "default", from_now,
      [&](const WatchEvent&) {
        std::lock_guard<std::mutex> lock(mu);
        ++calls;
        handle.reset();  // from the client's own thread, inside the callback
      },
      nullptr);
  ASSERT_TRUE(first.ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    handle = std::move(first).value();
  }
  // A second watch on the same dispatcher tells when later events went by.
  Collector witness;
  auto second = client_->Watch(kConfigMaps, "default", from_now, witness.Callback(), nullptr);
  ASSERT_TRUE(second.ok());
  MustCreate(ConfigMap("one"));
  MustCreate(ConfigMap("two"));
  MustCreate(ConfigMap("three"));
  ASSERT_EQ(witness.WaitFor(3).size(), 3u);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(handle, nullptr);
}

TEST_F(InProcessClientTest, DestroyingHandleFromAnotherThreadWhileEventsFlow) {
  Collector events;
  std::atomic<bool> destroyed{false};
  std::atomic<bool> late_call{false};
  auto handle = client_->Watch(
      kConfigMaps, "default", {},
      [&](const WatchEvent& e) {
        if (destroyed) late_call = true;
        std::this_thread::sleep_for(milliseconds(2));  // a slow consumer
        events.Callback()(e);
      },
      nullptr);
  ASSERT_TRUE(handle.ok());
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) {
      if (!client_->Create(kConfigMaps, "default", ConfigMap("cm-" + std::to_string(i))).ok()) {
        break;
      }
    }
  });
  events.WaitFor(5);
  handle->reset();
  destroyed = true;
  writer.join();
  EXPECT_FALSE(late_call);
}

TEST_F(InProcessClientTest, HandlesMayOutliveTheClient) {
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), nullptr);
  ASSERT_TRUE(handle.ok());
  MustCreate(ConfigMap("x"));
  events.WaitFor(1);
  client_.reset();
  handle->reset();  // must neither hang nor crash
}

}  // namespace
}  // namespace kennel::client
