// The HTTPS client against the real API server (apiserver::Server on a temp
// data dir, a free port on 127.0.0.1), configured from the kubeconfig the
// server writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "apiserver/server.h"
#include "base/file.h"
#include "client/client.h"

namespace kennel::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

json ConfigMap(const std::string& name, const std::string& value = "v") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", {{"k", value}}}};
}

std::string Name(const json& obj) { return obj["metadata"].value("name", ""); }

class Collector {
 public:
  WatchCallback Callback() {
    return [this](const WatchEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e.type + " " + Name(e.object));
      cv_.notify_all();
    };
  }
  WatchClosedCallback Closed() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu_);
      closed_.push_back(s);
      cv_.notify_all();
    };
  }
  std::vector<std::string> WaitFor(size_t n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    return events_;
  }
  std::optional<Status> WaitClosed(milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !closed_.empty(); })) return std::nullopt;
    return closed_.front();
  }
  size_t closed_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<Status> closed_;
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-http-client-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    StartServer("127.0.0.1:0");
    auto options = HttpOptionsFromKubeconfig(server_->kubeconfig_path());
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    options_ = *options;
    options_.timeout_seconds = 10;
    auto client = NewHttpClient(options_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void StartServer(const std::string& listen) {
    apiserver::ServerOptions options;
    options.data_dir = dir_;
    options.listen = listen;
    auto server = apiserver::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  void RestartServerOnSamePort() {
    std::string listen = "127.0.0.1:" + std::to_string(server_->port());
    server_.reset();
    StartServer(listen);
  }

  json MustCreate(const json& obj) {
    auto created = client_->Create(kConfigMaps, "default", obj);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : json();
  }

  std::string WriteKubeconfig(const std::string& text) {
    std::string path = dir_ + "/test-kubeconfig";
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  std::unique_ptr<apiserver::Server> server_;
  HttpClientOptions options_;
  std::unique_ptr<Client> client_;
};

TEST_F(HttpClientTest, KubeconfigGivesServerTokenAndCa) {
  EXPECT_EQ(options_.server, server_->url());
  EXPECT_FALSE(options_.token.empty());
  EXPECT_THAT(options_.ca_data, StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(options_.ca_file.empty());
}

TEST_F(HttpClientTest, CreateGetListUpdatePatchDelete) {
  json created = MustCreate(ConfigMap("cfg"));
  auto got = client_->Get(kConfigMaps, "default", "cfg");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["k"], "v");

  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_FALSE(list->resource_version.empty());

  json changed = *got;
  changed["data"]["k"] = "v2";
  auto updated = client_->Update(kConfigMaps, "default", changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["data"]["k"], "v2");
  EXPECT_EQ(client_->Update(kConfigMaps, "default", created).status().code(), Code::kConflict);

  auto merged =
      client_->Patch(kConfigMaps, "default", "cfg", PatchType::kMerge, {{"data", {{"m", "1"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  json ops = json::array({{{"op", "replace"}, {"path", "/data/m"}, {"value", "2"}}});
  auto patched = client_->Patch(kConfigMaps, "default", "cfg", PatchType::kJson, ops);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  auto strategic = client_->Patch(kConfigMaps, "default", "cfg", PatchType::kStrategicMerge,
                                  {{"data", {{"s", "3"}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ((*strategic)["data"], json({{"k", "v2"}, {"m", "2"}, {"s", "3"}}));

  DeleteOptions stale;
  stale.precondition_resource_version = (*got)["metadata"]["resourceVersion"];
  EXPECT_EQ(client_->Delete(kConfigMaps, "default", "cfg", stale).code(), Code::kConflict);
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "cfg").ok());
  EXPECT_EQ(client_->Get(kConfigMaps, "default", "cfg").status().code(), Code::kNotFound);
}

TEST_F(HttpClientTest, ErrorCodes) {
  MustCreate(ConfigMap("twice"));
  EXPECT_EQ(client_->Create(kConfigMaps, "default", ConfigMap("twice")).status().code(),
            Code::kAlreadyExists);
  auto invalid = client_->Create(kConfigMaps, "default", ConfigMap("Bad_Name"));
  EXPECT_EQ(invalid.status().code(), Code::kInvalid);
  EXPECT_FALSE(invalid.status().causes().empty());
  EXPECT_EQ(client_->Get(kConfigMaps, "default", "missing").status().code(), Code::kNotFound);
}

TEST_F(HttpClientTest, WrongTokenIsUnauthorized) {
  HttpClientOptions bad = options_;
  bad.token = "not-the-token";
  auto client = NewHttpClient(bad);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Get(kConfigMaps, "default", "x").status().code(), Code::kUnauthorized);
  auto watch = (*client)->Watch(
      kConfigMaps, "", {}, [](const WatchEvent&) {}, nullptr);
  EXPECT_EQ(watch.status().code(), Code::kUnauthorized) << watch.status().ToString();
}

TEST_F(HttpClientTest, UnknownCaFailsTheHandshake) {
  HttpClientOptions no_ca = options_;
  no_ca.ca_data.clear();  // system roots do not know kennel's CA
  auto client = NewHttpClient(no_ca);
  ASSERT_TRUE(client.ok());
  auto got = (*client)->Get(kConfigMaps, "default", "x");
  EXPECT_EQ(got.status().code(), Code::kUnavailable) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("TLS handshake"));
}

TEST_F(HttpClientTest, CaFromFileAndHostName) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/ca.pem", options_.ca_data, 0600).ok());
  HttpClientOptions from_file = options_;
  from_file.ca_data.clear();
  from_file.ca_file = dir_ + "/ca.pem";
  // "localhost" is one of the serving certificate's SANs: verified by name.
  from_file.server = "https://localhost:" + std::to_string(server_->port());
  auto client = NewHttpClient(from_file);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto got = (*client)->List(kNamespaces, "");
  // localhost may resolve to ::1 first, where nothing listens; then 127.0.0.1.
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GE(got->items.size(), 4u);
}

TEST_F(HttpClientTest, ConcurrentCallersAndKeepAlive) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string name = "c-" + std::to_string(t) + "-" + std::to_string(i);
        if (!client_->Create(kConfigMaps, "default", ConfigMap(name)).ok()) ++failures;
        if (!client_->Get(kConfigMaps, "default", name).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), 60u);
}

TEST_F(HttpClientTest, PooledConnectionToARestartedServerIsReplaced) {
  ASSERT_TRUE(client_->Get(kNamespaces, "", "default").ok());
  RestartServerOnSamePort();
  auto got = client_->Get(kNamespaces, "", "default");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  auto created = client_->Create(kConfigMaps, "default", ConfigMap("after-restart"));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
}

TEST_F(HttpClientTest, SkipsAServerThatCannotBeReached) {
  // Port 1 on loopback refuses at once: the client moves on to the live server
  // for requests and watches alike.
  HttpClientOptions o = options_;
  o.server = "https://127.0.0.1:1," + server_->url();
  auto client = NewHttpClient(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto got = (*client)->Get(kNamespaces, "", "default");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  Collector events;
  auto watch = (*client)->Watch(kConfigMaps, "default", {}, events.Callback(), events.Closed());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  MustCreate(ConfigMap("seen"));
  EXPECT_THAT(events.WaitFor(1), ::testing::ElementsAre("ADDED seen"));
}

TEST_F(HttpClientTest, FailsOverWhenItsServerStops) {
  // A second server with the same credentials (its data dir starts with a
  // copy of the first one's pki), as servers sharing one cluster identity have.
  std::string other_dir = dir_ + "/other";
  std::filesystem::create_directories(other_dir);
  std::filesystem::copy(dir_ + "/pki", other_dir + "/pki",
                        std::filesystem::copy_options::recursive);
  apiserver::ServerOptions other_options;
  other_options.data_dir = other_dir;
  other_options.listen = "127.0.0.1:0";
  auto other = apiserver::Server::Start(other_options);
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  HttpClientOptions o = options_;
  o.server = server_->url() + "," + (*other)->url();
  auto client = NewHttpClient(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Create(kConfigMaps, "default", ConfigMap("on-first")).ok());
  server_.reset();  // the first server goes away, its pooled connection too
  auto got = (*client)->Get(kConfigMaps, "default", "on-first");
  // The second server has its own store: the object is not there, but the
  // request reached that server and was answered by it.
  EXPECT_EQ(got.status().code(), Code::kNotFound) << got.status().ToString();
  auto created = (*client)->Create(kConfigMaps, "default", ConfigMap("on-second"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto direct = client_->Get(kConfigMaps, "default", "on-second");  // the old, single-server client
  EXPECT_EQ(direct.status().code(), Code::kUnavailable);
  (*other)->Stop();
  (*other)->Wait();
}

TEST_F(HttpClientTest, WatchSeesChangesInOrder) {
  MustCreate(ConfigMap("before"));
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), events.Closed());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  ASSERT_EQ(events.WaitFor(1).size(), 1u);
  json w = MustCreate(ConfigMap("w"));
  w["data"]["k"] = "v2";
  ASSERT_TRUE(client_->Update(kConfigMaps, "default", w).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "default", "w").ok());
  EXPECT_EQ(events.WaitFor(4),
            (std::vector<std::string>{"ADDED before", "ADDED w", "MODIFIED w", "DELETED w"}));
  EXPECT_EQ(events.closed_count(), 0u);
}

// metadata_only asks the server for PartialObjectMetadata in lists and
// watches: the objects come without their data.
TEST_F(HttpClientTest, MetadataOnlyListAndWatch) {
  json created = MustCreate(ConfigMap("meta"));
  ListOptions metadata_only;
  metadata_only.metadata_only = true;
  auto list = client_->List(kConfigMaps, "default", metadata_only);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(list->items[0]["metadata"], created["metadata"]);
  EXPECT_FALSE(list->items[0].contains("data"));
  EXPECT_FALSE(list->resource_version.empty());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<json> seen;
  metadata_only.resource_version = list->resource_version;
  auto handle = client_->Watch(
      kConfigMaps, "default", metadata_only,
      [&](const WatchEvent& e) {
        if (e.type == "BOOKMARK") return;
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(e.object);
        cv.notify_all();
      },
      [](const Status&) {});
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  json later = MustCreate(ConfigMap("later"));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, milliseconds(10000), [&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(seen[0]["metadata"], later["metadata"]);
  EXPECT_FALSE(seen[0].contains("data"));
}

TEST_F(HttpClientTest, WatchFromTooOldVersionIsGone) {
  json created = MustCreate(ConfigMap("old"));
  std::string rv = created["metadata"]["resourceVersion"];
  MustCreate(ConfigMap("newer"));
  // A restarted server keeps no watch history: the event after rv is gone
  // (a watch from the newest revision would just wait for the next one).
  RestartServerOnSamePort();
  ListOptions o;
  o.resource_version = rv;
  auto handle = client_->Watch(
      kConfigMaps, "default", o, [](const WatchEvent&) {}, nullptr);
  EXPECT_EQ(handle.status().code(), Code::kGone) << handle.status().ToString();
  EXPECT_THAT(handle.status().message(), HasSubstr("too old resource version"));
}

TEST_F(HttpClientTest, DestroyingAnIdleWatchIsPrompt) {
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), events.Closed());
  ASSERT_TRUE(handle.ok());
  auto start = Clock::now();
  handle->reset();  // its thread is blocked reading a quiet stream
  EXPECT_LT(Clock::now() - start, seconds(2));
  EXPECT_EQ(events.closed_count(), 0u) << "on_closed is for ends the client did not ask for";
}

TEST_F(HttpClientTest, DestroyingHandleInsideCallback) {
  std::mutex mu;
  std::unique_ptr<WatchHandle> handle;
  int calls = 0;
  bool closed = false;
  auto list = client_->List(kConfigMaps, "default");
  ASSERT_TRUE(list.ok());
  ListOptions from_now;
  from_now.resource_version = list->resource_version;
  auto opened = client_->Watch(
      kConfigMaps, "default", from_now,
      [&](const WatchEvent&) {
        std::lock_guard<std::mutex> lock(mu);
        ++calls;
        handle.reset();  // on the watch's own thread
      },
      [&](const Status&) {
        std::lock_guard<std::mutex> lock(mu);
        closed = true;
      });
  ASSERT_TRUE(opened.ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    handle = std::move(opened).value();
  }
  Collector witness;
  auto second = client_->Watch(kConfigMaps, "default", from_now, witness.Callback(), nullptr);
  ASSERT_TRUE(second.ok());
  MustCreate(ConfigMap("one"));
  MustCreate(ConfigMap("two"));
  ASSERT_EQ(witness.WaitFor(2).size(), 2u);
  // The first stream carried both events as well; give its (detached) thread
  // the same chance to misbehave as the witness had to deliver.
  auto deadline = Clock::now() + milliseconds(200);
  while (Clock::now() < deadline) std::this_thread::yield();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(closed);
  EXPECT_EQ(handle, nullptr);
}

TEST_F(HttpClientTest, ServerGoingAwayClosesTheWatch) {
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), events.Closed());
  ASSERT_TRUE(handle.ok());
  server_.reset();
  auto closed = events.WaitClosed();
  ASSERT_TRUE(closed.has_value()) << "on_closed was not called";
  EXPECT_EQ(closed->code(), Code::kUnavailable) << closed->ToString();
}

TEST_F(HttpClientTest, WatchMayOutliveItsClient) {
  Collector events;
  auto handle = client_->Watch(kConfigMaps, "default", {}, events.Callback(), events.Closed());
  ASSERT_TRUE(handle.ok());
  client_.reset();
  auto other = NewHttpClient(options_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Create(kConfigMaps, "default", ConfigMap("late")).ok());
  EXPECT_EQ(events.WaitFor(1), (std::vector<std::string>{"ADDED late"}));
  handle->reset();
}

TEST_F(HttpClientTest, KubeconfigReaderIsStrict) {
  auto plain = ReadFile(server_->kubeconfig_path());
  ASSERT_TRUE(plain.ok());
  std::string text = *plain;

  std::string with_cert = text + "    client-certificate-data: AAAA\n";
  auto refused = HttpOptionsFromKubeconfig(WriteKubeconfig(with_cert));
  EXPECT_EQ(refused.status().code(), Code::kBadRequest);
  EXPECT_THAT(refused.status().message(), HasSubstr("client-certificate-data"));

  std::string two_clusters = text + "- name: other\n  cluster:\n    server: https://x:1\n";
  EXPECT_EQ(HttpOptionsFromKubeconfig(WriteKubeconfig(two_clusters)).status().code(),
            Code::kBadRequest);

  EXPECT_EQ(HttpOptionsFromKubeconfig(dir_ + "/absent").status().code(), Code::kNotFound);

  std::string by_file =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n"
      "    server: \"https://127.0.0.1:1\"\n    certificate-authority: ca.pem\n"
      "users:\n- name: u\n  user:\n    token: 'abc'\n";
  auto options = HttpOptionsFromKubeconfig(WriteKubeconfig(by_file));
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->server, "https://127.0.0.1:1");
  EXPECT_EQ(options->token, "abc");
  EXPECT_EQ(options->ca_file, dir_ + "/ca.pem");
  EXPECT_TRUE(options->ca_data.empty());
}

TEST(HttpClientOptionsTest, RejectsBadServerUrls) {
  for (const char* url : {"http://127.0.0.1:1", "127.0.0.1:1", "https://", "https://h:port",
                          "https://h:1/path", "https://[::1"}) {
    HttpClientOptions o;
    o.server = url;
    EXPECT_EQ(NewHttpClient(o).status().code(), Code::kBadRequest) << url;
  }
  HttpClientOptions o;
  o.server = "https://[::1]:6443";
  EXPECT_TRUE(NewHttpClient(o).ok());
  o.server = "https://127.0.0.1:1";
  o.ca_data = "not a certificate";
  EXPECT_EQ(NewHttpClient(o).status().code(), Code::kBadRequest);
}

TEST(HttpClientOptionsTest, NothingListening) {
  HttpClientOptions o;
  o.server = "https://127.0.0.1:1";
  o.timeout_seconds = 5;
  auto client = NewHttpClient(o);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Get(kPods, "default", "x").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace kennel::client
