// In-process tests of Handler: requests go straight to Handle() and OpenWatch()
// on an embedded store in a temporary directory, with no HTTP in between.
#include "apiserver/handler.h"

// clang-format off
#include <utility>  // before Boost 1.74's asio headers, which need std::exchange
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
// clang-format on
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/registry.h"
#include "apiserver/discovery.h"
#include "apiserver/errors.h"
#include "store/embedded.h"
#include "store/forwarding.h"

namespace kennel::apiserver {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kMerge = "application/merge-patch+json";
constexpr const char* kJsonPatch = "application/json-patch+json";
constexpr const char* kStrategic = "application/strategic-merge-patch+json";
constexpr const char* kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s."
    "io,application/json";

// Percent-encodes a query value (selectors carry spaces, commas, parentheses, '!').
std::string Enc(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

json Parse(const ApiResponse& r) { return json::parse(r.body, nullptr, false); }

std::string Rv(const json& obj) { return obj["metadata"].value("resourceVersion", ""); }

json ConfigMap(const std::string& name, const json& labels = json::object(),
               const json& data = {{"k", "v"}}) {
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  if (!data.is_null()) cm["data"] = data;
  return cm;
}

json StatefulSet(const std::string& name, int replicas = 2) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"serviceName", name},
            {"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec",
               {{"containers",
                 {{{"name", "main"},
                   {"image", "host"},
                   {"ports", {{{"containerPort", 80}, {"name", "http"}}}}}}}}}}}}}};
}

json OwnerRef(const std::string& kind, const std::string& api_version, const json& owner) {
  return {{"apiVersion", api_version},
          {"kind", kind},
          {"name", owner["metadata"]["name"]},
          {"uid", owner["metadata"]["uid"]}};
}

// Names of a list's items, sorted.
std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  for (const auto& item : list["items"]) out.push_back(item["metadata"]["name"].get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

// Collects raw store events handed to a watch sink (on the store thread).
class EventCollector {
 public:
  WatchEventSink Sink() {
    return [this](const std::vector<store::Event>& events) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.insert(events_.end(), events.begin(), events.end());
      cv_.notify_all();
    };
  }
  // Waits until at least n events arrived; returns them (all so far).
  std::vector<store::Event> WaitFor(size_t n, milliseconds timeout = milliseconds(5000)) {
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
  std::vector<store::Event> events_;
};

// Every line of text (newline-terminated JSON) parsed.
std::vector<json> Lines(const std::string& text) {
  std::vector<json> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "line not newline-terminated: " << text;
    if (nl == std::string::npos) nl = text.size();
    out.push_back(json::parse(text.substr(start, nl - start), nullptr, false));
    start = nl + 1;
  }
  return out;
}

// Forwards to another store, running a hook once, on the caller's thread, just
// before the first Delete of a key under a prefix: makes a race deterministic.
class HookedStore : public store::ForwardingStore {
 public:
  HookedStore(store::Store* inner, std::string prefix, std::function<void()> hook)
      : ForwardingStore(inner), prefix_(std::move(prefix)), hook_(std::move(hook)) {}
  void Delete(std::string key, int64_t expected, store::WriteCallback done) override {
    if (hook_ && key.rfind(prefix_, 0) == 0) {
      auto hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    ForwardingStore::Delete(std::move(key), expected, std::move(done));
  }

 private:
  std::string prefix_;
  std::function<void()> hook_;
};

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-handler-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    OpenStore();
  }

  void TearDown() override {
    handler_.reset();
    store_.reset();  // acknowledges queued writes; their callbacks post to ioc_, still alive
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void OpenStore(int64_t history_events = 100'000) {
    store::EmbeddedOptions options;
    options.path = dir_ + "/kennel.db";
    options.history_events = history_events;
    options.fsync = false;  // durability is the store tests' business
    auto opened = store::OpenEmbedded(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    HandlerOptions hopts;
    hopts.server_address = "127.0.0.1:6443";
    handler_ = std::make_unique<Handler>(store_.get(), hopts);
    Status st = handler_->Bootstrap();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void CloseStore() {
    handler_.reset();
    store_.reset();
  }

  // Runs the io_context until cond holds or the deadline passes.
  bool RunUntil(const std::function<bool()>& cond, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!cond()) {
      if (Clock::now() >= deadline) return false;
      if (ioc_.stopped()) ioc_.restart();
      if (ioc_.run_one_for(milliseconds(20)) == 0 && ioc_.stopped()) {
        std::this_thread::sleep_for(milliseconds(5));  // no work at all: nothing to pump
      }
    }
    return true;
  }

  // Polls cond (which may issue requests) until it holds, pumping the
  // io_context in between so background work (namespace finalization) runs.
  bool Eventually(const std::function<bool()>& cond, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!cond()) {
      if (Clock::now() >= deadline) return false;
      auto slice = Clock::now() + milliseconds(50);
      RunUntil([&] { return Clock::now() >= slice; }, milliseconds(100));
    }
    return true;
  }

  static ApiRequest Request(const std::string& method, const std::string& path_with_query,
                            std::string body = "", std::string content_type = kJson,
                            std::string accept = kJson) {
    ApiRequest req;
    req.method = method;
    size_t q = path_with_query.find('?');
    req.path = path_with_query.substr(0, q);
    req.query = ParseQuery(q == std::string::npos ? "" : path_with_query.substr(q + 1));
    req.body = std::move(body);
    req.content_type = std::move(content_type);
    req.accept = std::move(accept);
    return req;
  }

  ApiResponse Call(const std::string& method, const std::string& path_with_query,
                   std::string body = "", std::string content_type = kJson,
                   std::string accept = kJson) {
    ApiRequest req = Request(method, path_with_query, std::move(body), std::move(content_type),
                             std::move(accept));
    std::future<ApiResponse> done = asio::co_spawn(ioc_, handler_->Handle(req), asio::use_future);
    bool finished = RunUntil(
        [&] { return done.wait_for(milliseconds(0)) == std::future_status::ready; }, seconds(20));
    EXPECT_TRUE(finished) << method << " " << path_with_query << " did not finish";
    if (!finished) return ApiResponse{599, "", "", {}};
    try {
      return done.get();
    } catch (const std::exception& e) {
      ADD_FAILURE() << method << " " << path_with_query << " threw: " << e.what();
      return ApiResponse{598, "", e.what(), {}};
    }
  }

  ApiResponse Post(const std::string& path, const json& obj) {
    return Call("POST", path, obj.dump());
  }
  ApiResponse Put(const std::string& path, const json& obj) {
    return Call("PUT", path, obj.dump());
  }
  ApiResponse Patch(const std::string& path, const std::string& type, const json& patch) {
    return Call("PATCH", path, patch.dump(), type);
  }

  // Creates and returns the object, failing the test unless 201.
  json MustCreate(const std::string& collection_path, const json& obj) {
    ApiResponse r = Post(collection_path, obj);
    EXPECT_EQ(r.code, 201) << collection_path << ": " << r.body;
    return Parse(r);
  }
  json MustGet(const std::string& path) {
    ApiResponse r = Call("GET", path);
    EXPECT_EQ(r.code, 200) << path << ": " << r.body;
    return Parse(r);
  }
  void MustCreateNamespace(const std::string& name) {
    MustCreate("/api/v1/namespaces",
               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  }
  // The revision a list of every ConfigMap was read at.
  std::string ListRevision() {
    return MustGet("/api/v1/configmaps")["metadata"]["resourceVersion"];
  }

  std::unique_ptr<WatchStream> MustWatch(const std::string& path_with_query,
                                         EventCollector& collector, std::string accept = kJson) {
    ApiRequest req = Request("GET", path_with_query, "", kJson, std::move(accept));
    EXPECT_TRUE(Handler::IsWatch(req));
    std::string content_type;
    auto stream = handler_->OpenWatch(req, collector.Sink(), &content_type);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    if (!stream.ok()) return nullptr;
    return std::move(stream).value();
  }

  // Renders the collector's events from index `from` on.
  static std::vector<json> RenderFrom(WatchStream& stream, const std::vector<store::Event>& events,
                                      size_t from) {
    std::string text;
    for (size_t i = from; i < events.size(); ++i) {
      if (WatchLine line = stream.Render(events[i])) text += *line;
    }
    return Lines(text);
  }

  static void ExpectStatus(const ApiResponse& r, int code, const std::string& reason) {
    EXPECT_EQ(r.code, code) << r.body;
    json s = Parse(r);
    ASSERT_TRUE(s.is_object()) << r.body;
    EXPECT_EQ(s["kind"], "Status") << r.body;
    EXPECT_EQ(s["apiVersion"], "v1");
    EXPECT_EQ(s["status"], "Failure");
    EXPECT_EQ(s["code"], code);
    EXPECT_EQ(s["reason"], reason) << r.body;
  }

  std::string dir_;
  asio::io_context ioc_;  // declared first: outlives the store, whose callbacks post to it
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> hooked_;  // optional decorator of store_ for one test
  std::unique_ptr<Handler> handler_;
};

constexpr const char* kCms = "/api/v1/namespaces/default/configmaps";
constexpr const char* kStss = "/apis/apps/v1/namespaces/default/statefulsets";

// ---------------------------------------------------------------------------
// Create.

TEST_F(HandlerTest, CreateFillsServerMetadataAndDefaults) {
  ApiResponse r = Post(kStss, StatefulSet("web"));
  ASSERT_EQ(r.code, 201) << r.body;
  json sts = Parse(r);
  const json& meta = sts["metadata"];
  EXPECT_EQ(sts["kind"], "StatefulSet");
  EXPECT_EQ(sts["apiVersion"], "apps/v1");
  EXPECT_EQ(meta["namespace"], "default");
  EXPECT_TRUE(std::regex_match(meta.value("uid", ""),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")))
      << meta;
  EXPECT_TRUE(std::regex_match(meta.value("creationTimestamp", ""),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")))
      << meta;
  ASSERT_TRUE(meta["resourceVersion"].is_string());
  EXPECT_GT(std::stoll(Rv(sts)), 0);
  EXPECT_EQ(meta["generation"], 1);
  // Defaults.
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(sts["spec"]["revisionHistoryLimit"], 10);
  EXPECT_EQ(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
  EXPECT_EQ(sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
  const json& c = sts["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["imagePullPolicy"], "Always");  // untagged image
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(c["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["restartPolicy"], "Always");

  // A GET returns the stored object, same resourceVersion and uid.
  json got = MustGet(std::string(kStss) + "/web");
  EXPECT_EQ(Rv(got), Rv(sts));
  EXPECT_EQ(got["metadata"]["uid"], meta["uid"]);
  EXPECT_EQ(got["spec"], sts["spec"]);
}

TEST_F(HandlerTest, CreateIgnoresClientSetServerFields) {
  json cm = ConfigMap("c");
  cm["metadata"]["uid"] = "client-uid";
  cm["metadata"]["resourceVersion"] = "12345";
  cm["metadata"]["creationTimestamp"] = "2001-01-01T00:00:00Z";
  json created = MustCreate(kCms, cm);
  EXPECT_NE(created["metadata"]["uid"], "client-uid");
  EXPECT_NE(created["metadata"]["creationTimestamp"], "2001-01-01T00:00:00Z");
  EXPECT_NE(Rv(created), "12345");
  // A ConfigMap has no spec and so no generation, as in Kubernetes.
  EXPECT_FALSE(created["metadata"].contains("generation"));
}

TEST_F(HandlerTest, GenerateNameAddsAFiveCharacterSuffix) {
  json cm = ConfigMap("");
  cm["metadata"].erase("name");
  cm["metadata"]["generateName"] = "gen-";
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) {
    json created = MustCreate(kCms, cm);
    std::string name = created["metadata"]["name"];
    EXPECT_TRUE(std::regex_match(name, std::regex("gen-[bcdfghjklmnpqrstvwxz2456789]{5}"))) << name;
    EXPECT_EQ(created["metadata"]["generateName"], "gen-");
    names.insert(name);
    EXPECT_EQ(MustGet(std::string(kCms) + "/" + name)["metadata"]["name"], name);
  }
  EXPECT_EQ(names.size(), 3u);
}

TEST_F(HandlerTest, CreateDuplicateIsAlreadyExists) {
  MustCreate(kCms, ConfigMap("dup"));
  std::string rv = ListRevision();
  ApiResponse r = Post(kCms, ConfigMap("dup", json::object(), {{"other", "x"}}));
  ExpectStatus(r, 409, "AlreadyExists");
  EXPECT_EQ(Parse(r)["message"], "configmaps \"dup\" already exists");
  EXPECT_EQ(ListRevision(), rv);
  EXPECT_EQ(MustGet(std::string(kCms) + "/dup")["data"], json({{"k", "v"}}));
}

TEST_F(HandlerTest, CreateInAMissingNamespaceIsNotFound) {
  std::string rv = ListRevision();
  ApiResponse r = Post("/api/v1/namespaces/nope/configmaps", ConfigMap("c"));
  ExpectStatus(r, 404, "NotFound");
  EXPECT_EQ(Parse(r)["message"], "namespaces \"nope\" not found");
  EXPECT_EQ(ListRevision(), rv);
}

TEST_F(HandlerTest, MalformedRequestsAreRejectedAndChangeNothing) {
  MustCreate(kCms, ConfigMap("existing"));
  const std::string rv = ListRevision();
  const int64_t revision = store_->Revision();

  // Malformed JSON.
  ApiResponse r = Call("POST", kCms, R"({"metadata": {"name": "x"})");
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("could not be decoded"));
  // A JSON array is not an object.
  r = Call("POST", kCms, R"([{"metadata":{"name":"x"}}])");
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("JSON object"));
  r = Call("PUT", std::string(kCms) + "/existing", "[]");
  ExpectStatus(r, 400, "BadRequest");
  // Kind mismatch.
  json wrong_kind = ConfigMap("x");
  wrong_kind["kind"] = "Secret";
  r = Post(kCms, wrong_kind);
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("Secret"));
  // apiVersion mismatch.
  json wrong_version = ConfigMap("x");
  wrong_version["apiVersion"] = "apps/v1";
  ExpectStatus(Post(kCms, wrong_version), 400, "BadRequest");
  // Namespace in the body differs from the URL's.
  json other_ns = ConfigMap("x");
  other_ns["metadata"]["namespace"] = "kube-system";
  r = Post(kCms, other_ns);
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("namespace"));
  r = Put(std::string(kCms) + "/existing", [&] {
    json cm = ConfigMap("existing");
    cm["metadata"]["namespace"] = "kube-system";
    return cm;
  }());
  ExpectStatus(r, 400, "BadRequest");
  // Name in the body differs from the URL's.
  r = Put(std::string(kCms) + "/existing", ConfigMap("someone-else"));
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("someone-else"));
  // Unknown resources and groups.
  ExpectStatus(Post("/api/v1/namespaces/default/widgets", ConfigMap("x")), 404, "NotFound");
  ExpectStatus(Call("GET", "/apis/example.com/v1/namespaces/default/foos"), 404, "NotFound");
  ExpectStatus(Call("GET", "/api/v1/namespaces/default/configmaps/existing/bogus"), 404,
               "NotFound");
  // Unsupported content type.
  r = Call("POST", kCms, ConfigMap("x").dump(), "text/plain");
  ExpectStatus(r, 415, "UnsupportedMediaType");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("application/json"));
  r = Call("PATCH", std::string(kCms) + "/existing", "{}", "text/plain");
  ExpectStatus(r, 415, "UnsupportedMediaType");
  // Server-side apply is refused with a message that says what to do.
  r = Call("PATCH", std::string(kCms) + "/existing?fieldManager=kubectl&force=false",
           ConfigMap("existing").dump(), "application/apply-patch+yaml");
  ExpectStatus(r, 415, "UnsupportedMediaType");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("server-side apply"));
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("client-side apply"));
  // Over 3 MiB.
  json big = ConfigMap("big", json::object(), {{"blob", std::string(3 * 1024 * 1024, 'x')}});
  r = Post(kCms, big);
  ExpectStatus(r, 413, "RequestEntityTooLarge");
  r = Call("PUT", std::string(kCms) + "/existing", std::string(3 * 1024 * 1024 + 1, ' '));
  ExpectStatus(r, 413, "RequestEntityTooLarge");

  EXPECT_EQ(ListRevision(), rv);
  EXPECT_EQ(store_->Revision(), revision);
  json list = MustGet(kCms);
  EXPECT_EQ(Names(list), std::vector<std::string>{"existing"});
}

TEST_F(HandlerTest, InvalidObjectsAre422WithFieldCauses) {
  const std::string rv = ListRevision();
  ApiResponse r = Post(kCms, ConfigMap("Bad_Name"));
  ExpectStatus(r, 422, "Invalid");
  json s = Parse(r);
  EXPECT_THAT(s["message"].get<std::string>(),
              StartsWith("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"));
  ASSERT_TRUE(s["details"]["causes"].is_array()) << s;
  ASSERT_FALSE(s["details"]["causes"].empty());
  EXPECT_EQ(s["details"]["causes"][0]["field"], "metadata.name");
  EXPECT_EQ(s["details"]["causes"][0]["reason"], "FieldValueInvalid");

  json sts = StatefulSet("web", -1);
  sts["spec"]["template"]["spec"]["containers"][0].erase("image");
  r = Post(kStss, sts);
  ExpectStatus(r, 422, "Invalid");
  std::set<std::string> fields;
  json status = Parse(r);
  for (const auto& c : status["details"]["causes"]) fields.insert(c["field"].get<std::string>());
  EXPECT_TRUE(fields.count("spec.replicas")) << r.body;
  EXPECT_TRUE(fields.count("spec.template.spec.containers[0].image")) << r.body;
  EXPECT_EQ(ListRevision(), rv);
  ExpectStatus(Call("GET", std::string(kStss) + "/web"), 404, "NotFound");
}

// BUG: Invalid responses name the resource and no object in details: a create
// of ConfigMap "Bad_Name" answers details {kind:"configmaps"} (no name), an
// update of StatefulSet "web" details {kind:"statefulsets",name:"web"}.
// Kubernetes' NewInvalid puts the Kind ("ConfigMap", "StatefulSet"), its group
// and the object's name there, and kubectl prints its Invalid message from
// them: upstream `The ConfigMap "Bad_Name" is invalid: ...`, Kennel
// `The configmaps "" is invalid: ...`. Similarly AlreadyExists on create lacks
// details.name. handler.cc Create() passes Subject(info, "") and
// Update()/Patch() Subject(info, ri.name) (resource, not kind) to Error().
TEST_F(HandlerTest, InvalidDetailsNameTheKindAndObject) {
  ApiResponse r = Post(kCms, ConfigMap("Bad_Name"));
  ASSERT_EQ(r.code, 422);
  json d = Parse(r)["details"];
  EXPECT_EQ(d.value("kind", ""), "ConfigMap") << d;
  EXPECT_EQ(d.value("name", ""), "Bad_Name") << d;

  MustCreate(kStss, StatefulSet("web"));
  r = Patch(std::string(kStss) + "/web", kMerge, {{"spec", {{"replicas", -1}}}});
  ASSERT_EQ(r.code, 422);
  d = Parse(r)["details"];
  EXPECT_EQ(d.value("kind", ""), "StatefulSet") << d;
  EXPECT_EQ(d.value("group", ""), "apps") << d;
  EXPECT_EQ(d.value("name", ""), "web") << d;

  MustCreate(kCms, ConfigMap("dup"));
  r = Post(kCms, ConfigMap("dup"));
  ASSERT_EQ(r.code, 409);
  d = Parse(r)["details"];
  EXPECT_EQ(d.value("name", ""), "dup") << d;
  EXPECT_EQ(d.value("kind", ""), "configmaps") << d;
}

// ---------------------------------------------------------------------------
// Update.

TEST_F(HandlerTest, UpdateWithStaleResourceVersionIsConflict) {
  json cm = MustCreate(kCms, ConfigMap("c"));
  json first = cm;
  first["data"]["k"] = "one";
  ApiResponse r = Put(std::string(kCms) + "/c", first);
  ASSERT_EQ(r.code, 200) << r.body;
  json updated = Parse(r);
  EXPECT_GT(std::stoll(Rv(updated)), std::stoll(Rv(cm)));

  json stale = cm;  // still carries the first resourceVersion
  stale["data"]["k"] = "two";
  r = Put(std::string(kCms) + "/c", stale);
  ExpectStatus(r, 409, "Conflict");
  EXPECT_EQ(Parse(r)["message"],
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; "
            "please apply your changes to the latest version and try again");
  json got = MustGet(std::string(kCms) + "/c");
  EXPECT_EQ(got["data"]["k"], "one");
  EXPECT_EQ(Rv(got), Rv(updated));

  // Without a resourceVersion the update is unconditional.
  json blind = ConfigMap("c", json::object(), {{"k", "three"}});
  r = Put(std::string(kCms) + "/c", blind);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(MustGet(std::string(kCms) + "/c")["data"]["k"], "three");
  // Server-owned fields survive a PUT that omits them.
  EXPECT_EQ(Parse(r)["metadata"]["uid"], cm["metadata"]["uid"]);
  EXPECT_EQ(Parse(r)["metadata"]["creationTimestamp"], cm["metadata"]["creationTimestamp"]);
}

TEST_F(HandlerTest, UpdateOfAMissingObjectIsNotFound) {
  ApiResponse r = Put(std::string(kCms) + "/ghost", ConfigMap("ghost"));
  ExpectStatus(r, 404, "NotFound");
  EXPECT_EQ(Parse(r)["message"], "configmaps \"ghost\" not found");
}

TEST_F(HandlerTest, NoOpUpdateKeepsResourceVersion) {
  json cm = MustCreate(kCms, ConfigMap("c"));
  int64_t revision = store_->Revision();
  ApiResponse r = Put(std::string(kCms) + "/c", cm);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Rv(Parse(r)), Rv(cm));
  r = Patch(std::string(kCms) + "/c", kMerge, {{"data", {{"k", "v"}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Rv(Parse(r)), Rv(cm));
  EXPECT_EQ(store_->Revision(), revision);
}

TEST_F(HandlerTest, GenerationRisesOnSpecChangesOnly) {
  json sts = MustCreate(kStss, StatefulSet("web"));
  ASSERT_EQ(sts["metadata"]["generation"], 1);
  sts["metadata"]["labels"] = {{"tier", "db"}};
  ApiResponse r = Put(std::string(kStss) + "/web", sts);
  ASSERT_EQ(r.code, 200) << r.body;
  sts = Parse(r);
  EXPECT_EQ(sts["metadata"]["labels"]["tier"], "db");
  EXPECT_EQ(sts["metadata"]["generation"], 1) << "a label change is not a spec change";

  sts["spec"]["replicas"] = 3;
  r = Put(std::string(kStss) + "/web", sts);
  ASSERT_EQ(r.code, 200) << r.body;
  sts = Parse(r);
  EXPECT_EQ(sts["metadata"]["generation"], 2);
  // Clients cannot set generation.
  sts["metadata"]["generation"] = 40;
  sts["metadata"]["annotations"] = {{"a", "b"}};
  r = Put(std::string(kStss) + "/web", sts);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["metadata"]["generation"], 2);
  EXPECT_EQ(MustGet(std::string(kStss) + "/web")["metadata"]["generation"], 2);
}

TEST_F(HandlerTest, MainResourceIgnoresStatusAndStatusSubresourceOnlyStatus) {
  json sts = MustCreate(kStss, StatefulSet("web"));
  const json status_before = sts["status"];
  sts["status"]["readyReplicas"] = 7;
  sts["metadata"]["labels"] = {{"x", "y"}};
  ApiResponse r = Put(std::string(kStss) + "/web", sts);
  ASSERT_EQ(r.code, 200) << r.body;
  json got = MustGet(std::string(kStss) + "/web");
  EXPECT_EQ(got["status"], status_before) << "PUT of the main resource must ignore status";
  EXPECT_EQ(got["metadata"]["labels"]["x"], "y");

  json desired = got;
  desired["status"]["readyReplicas"] = 2;
  desired["status"]["observedGeneration"] = 1;
  desired["spec"]["replicas"] = 9;
  desired["metadata"]["labels"] = {{"x", "changed"}};
  r = Put(std::string(kStss) + "/web/status", desired);
  ASSERT_EQ(r.code, 200) << r.body;
  json after = MustGet(std::string(kStss) + "/web");
  EXPECT_EQ(after["status"]["readyReplicas"], 2);
  EXPECT_EQ(after["status"]["observedGeneration"], 1);
  EXPECT_EQ(after["spec"]["replicas"], 2) << "PUT /status must ignore spec";
  EXPECT_EQ(after["metadata"]["labels"]["x"], "y") << "PUT /status must ignore metadata";
  EXPECT_EQ(after["metadata"]["generation"], 1);

  // A stale resourceVersion on /status conflicts too.
  r = Put(std::string(kStss) + "/web/status", desired);
  ExpectStatus(r, 409, "Conflict");
  // Subresources the kind lacks are not found.
  ExpectStatus(Put(std::string(kCms) + "/c/status", ConfigMap("c")), 404, "NotFound");
}

TEST_F(HandlerTest, ScaleSubresource) {
  json sts = MustCreate(kStss, StatefulSet("web", 2));
  json scale = MustGet(std::string(kStss) + "/web/scale");
  EXPECT_EQ(scale["kind"], "Scale");
  EXPECT_EQ(scale["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(scale["metadata"]["name"], "web");
  EXPECT_EQ(scale["metadata"]["namespace"], "default");
  EXPECT_EQ(scale["metadata"]["uid"], sts["metadata"]["uid"]);
  EXPECT_EQ(Rv(scale), Rv(sts));
  EXPECT_EQ(scale["spec"]["replicas"], 2);
  EXPECT_EQ(scale["status"]["replicas"], 0);
  EXPECT_EQ(scale["status"]["selector"], "app=web");

  // kubectl scale: a merge patch of the Scale.
  ApiResponse r = Patch(std::string(kStss) + "/web/scale", kMerge, {{"spec", {{"replicas", 4}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["kind"], "Scale");
  EXPECT_EQ(Parse(r)["spec"]["replicas"], 4);
  json after = MustGet(std::string(kStss) + "/web");
  EXPECT_EQ(after["spec"]["replicas"], 4);
  EXPECT_EQ(after["metadata"]["generation"], 2);

  // kubectl scale --current-replicas: GET then PUT the Scale with its resourceVersion.
  json stale = scale;  // resourceVersion from before the patch
  stale["spec"]["replicas"] = 1;
  r = Put(std::string(kStss) + "/web/scale", stale);
  ExpectStatus(r, 409, "Conflict");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(),
              HasSubstr("Operation cannot be fulfilled on statefulsets.apps \"web\""));
  EXPECT_EQ(MustGet(std::string(kStss) + "/web")["spec"]["replicas"], 4);

  json fresh = MustGet(std::string(kStss) + "/web/scale");
  fresh["spec"]["replicas"] = 1;
  r = Put(std::string(kStss) + "/web/scale", fresh);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["spec"]["replicas"], 1);
  EXPECT_EQ(MustGet(std::string(kStss) + "/web")["spec"]["replicas"], 1);
  // A negative count is invalid.
  r = Patch(std::string(kStss) + "/web/scale", kMerge, {{"spec", {{"replicas", -3}}}});
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(MustGet(std::string(kStss) + "/web")["spec"]["replicas"], 1);
}

// ---------------------------------------------------------------------------
// Patch.

TEST_F(HandlerTest, PatchAllThreeTypes) {
  MustCreate(kCms, ConfigMap("c", {{"a", "1"}, {"b", "2"}}, {{"k", "v"}, {"gone", "x"}}));
  const std::string path = std::string(kCms) + "/c";
  // JSON merge patch: null deletes, maps merge.
  ApiResponse r = Patch(
      path, kMerge,
      {{"metadata", {{"labels", {{"a", nullptr}, {"c", "3"}}}}}, {"data", {{"gone", nullptr}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  json cm = Parse(r);
  EXPECT_EQ(cm["metadata"]["labels"], json({{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(cm["data"], json({{"k", "v"}}));
  // JSON patch.
  r = Patch(path, kJsonPatch,
            json::array({{{"op", "add"}, {"path", "/data/new"}, {"value", "n"}},
                         {{"op", "replace"}, {"path", "/data/k"}, {"value", "w"}},
                         {{"op", "test"}, {"path", "/data/new"}, {"value", "n"}}}));
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["data"], json({{"k", "w"}, {"new", "n"}}));
  // Strategic merge patch on a ConfigMap: maps merge.
  r = Patch(path, kStrategic,
            {{"data", {{"s", "1"}}}, {"metadata", {{"labels", {{"b", nullptr}}}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  cm = Parse(r);
  EXPECT_EQ(cm["data"], json({{"k", "w"}, {"new", "n"}, {"s", "1"}}));
  EXPECT_EQ(cm["metadata"]["labels"], json({{"c", "3"}}));
  EXPECT_EQ(MustGet(path), cm);
}

TEST_F(HandlerTest, StrategicMergePatchMergesContainersByName) {
  json sts = StatefulSet("web");
  sts["spec"]["template"]["spec"]["containers"].push_back(
      {{"name", "side"}, {"image", "busybox:1"}});
  MustCreate(kStss, sts);
  ApiResponse r = Patch(
      std::string(kStss) + "/web", kStrategic,
      {{"spec",
        {{"template", {{"spec", {{"containers", {{{"name", "main"}, {"image", "host2"}}}}}}}}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  json got = MustGet(std::string(kStss) + "/web");
  const json& containers = got["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u) << containers;
  EXPECT_EQ(containers[0]["name"], "main");
  EXPECT_EQ(containers[0]["image"], "host2");
  EXPECT_EQ(containers[0]["ports"][0]["containerPort"], 80) << "other fields are kept";
  EXPECT_EQ(containers[1]["name"], "side");
  EXPECT_EQ(containers[1]["image"], "busybox:1");
  EXPECT_EQ(got["metadata"]["generation"], 2);

  // $patch: delete removes one element by its key.
  r = Patch(
      std::string(kStss) + "/web", kStrategic,
      {{"spec",
        {{"template", {{"spec", {{"containers", {{{"name", "side"}, {"$patch", "delete"}}}}}}}}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  got = Parse(r);
  ASSERT_EQ(got["spec"]["template"]["spec"]["containers"].size(), 1u);
  EXPECT_EQ(got["spec"]["template"]["spec"]["containers"][0]["name"], "main");
  EXPECT_EQ(got.dump().find("$patch"), std::string::npos) << "no directive is stored";
}

TEST_F(HandlerTest, FailedPatchesAreRejectedAndChangeNothing) {
  json cm = MustCreate(kCms, ConfigMap("c"));
  const std::string path = std::string(kCms) + "/c";
  int64_t revision = store_->Revision();
  // A JSON patch whose operation does not apply: 422 with a cause.
  ApiResponse r = Patch(path, kJsonPatch,
                        json::array({{{"op", "replace"}, {"path", "/data/nope"}, {"value", 1}}}));
  ExpectStatus(r, 422, "Invalid");
  json s = Parse(r);
  EXPECT_THAT(s["message"].get<std::string>(), HasSubstr("/data/nope"));
  ASSERT_TRUE(s["details"]["causes"].is_array()) << s;
  ASSERT_FALSE(s["details"]["causes"].empty()) << s;
  EXPECT_THAT(s["details"]["causes"][0]["message"].get<std::string>(), HasSubstr("/data/nope"));
  // A failing test operation.
  r = Patch(path, kJsonPatch,
            json::array({{{"op", "test"}, {"path", "/data/k"}, {"value", "no"}}}));
  ExpectStatus(r, 422, "Invalid");
  // Malformed patches.
  ExpectStatus(Call("PATCH", path, "{not json", kMerge), 400, "BadRequest");
  ExpectStatus(Patch(path, kJsonPatch, {{"op", "add"}}), 400, "BadRequest");
  // A patch that makes the object invalid.
  r = Patch(path, kMerge, {{"metadata", {{"labels", {{"bad key!", "v"}}}}}});
  ExpectStatus(r, 422, "Invalid");
  // A patch carrying a stale resourceVersion.
  r = Patch(path, kMerge, {{"metadata", {{"resourceVersion", "1"}}}, {"data", {{"k", "x"}}}});
  ExpectStatus(r, 409, "Conflict");
  // Patch of a missing object.
  ExpectStatus(Patch(std::string(kCms) + "/ghost", kMerge, json::object()), 404, "NotFound");
  EXPECT_EQ(store_->Revision(), revision);
  EXPECT_EQ(MustGet(path), cm);
}

// ---------------------------------------------------------------------------
// List.

class ListTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    MustCreateNamespace("sel");
    const std::string cms = "/api/v1/namespaces/sel/configmaps";
    MustCreate(cms, ConfigMap("a", {{"tier", "db"}, {"env", "prod"}}));
    MustCreate(cms, ConfigMap("b", {{"tier", "web"}, {"env", "prod"}}));
    MustCreate(cms, ConfigMap("c", {{"tier", "cache"}}));
    MustCreate(cms, ConfigMap("d"));
  }
  std::vector<std::string> Select(const std::string& param, const std::string& selector) {
    ApiResponse r = Call("GET", "/api/v1/namespaces/sel/configmaps?" + param + "=" + Enc(selector));
    EXPECT_EQ(r.code, 200) << selector << ": " << r.body;
    return Names(Parse(r));
  }
  using V = std::vector<std::string>;
};

TEST_F(ListTest, LabelSelectors) {
  EXPECT_EQ(Select("labelSelector", ""), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(Select("labelSelector", "tier=db"), (V{"a"}));
  EXPECT_EQ(Select("labelSelector", "tier==web"), (V{"b"}));
  EXPECT_EQ(Select("labelSelector", "tier!=db"), (V{"b", "c", "d"}));
  EXPECT_EQ(Select("labelSelector", "tier in (db,web)"), (V{"a", "b"}));
  EXPECT_EQ(Select("labelSelector", "tier notin (db,web)"), (V{"c", "d"}));
  EXPECT_EQ(Select("labelSelector", "env"), (V{"a", "b"}));
  EXPECT_EQ(Select("labelSelector", "!env"), (V{"c", "d"}));
  EXPECT_EQ(Select("labelSelector", "env=prod,tier!=db"), (V{"b"}));
  EXPECT_EQ(Select("labelSelector", "tier=none"), V{});
  ApiResponse r =
      Call("GET", "/api/v1/namespaces/sel/configmaps?labelSelector=" + Enc("tier in ("));
  ExpectStatus(r, 400, "BadRequest");
}

TEST_F(ListTest, FieldSelectors) {
  EXPECT_EQ(Select("fieldSelector", "metadata.name=b"), (V{"b"}));
  EXPECT_EQ(Select("fieldSelector", "metadata.name!=b"), (V{"a", "c", "d"}));
  EXPECT_EQ(Select("fieldSelector", "metadata.namespace=sel"), (V{"a", "b", "c", "d"}));
  EXPECT_EQ(Select("fieldSelector", "metadata.namespace=default"), V{});
  // Both selectors at once.
  ApiResponse r = Call("GET", "/api/v1/namespaces/sel/configmaps?labelSelector=env&fieldSelector=" +
                                  Enc("metadata.name!=a"));
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Names(Parse(r)), (V{"b"}));
  // Across namespaces, metadata.namespace narrows the list.
  MustCreate(kCms, ConfigMap("a"));
  r = Call("GET", "/api/v1/configmaps?fieldSelector=" + Enc("metadata.namespace=sel"));
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Names(Parse(r)), (V{"a", "b", "c", "d"}));
  r = Call("GET", "/api/v1/configmaps?fieldSelector=" + Enc("metadata.name=a"));
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["items"].size(), 2u);
  // Unsupported fields are refused.
  r = Call("GET", "/api/v1/namespaces/sel/configmaps?fieldSelector=" + Enc("data.k=v"));
  ExpectStatus(r, 400, "BadRequest");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("field label not supported"));
}

TEST_F(ListTest, ListAcrossAllNamespaces) {
  MustCreate(kCms, ConfigMap("in-default"));
  json list = MustGet("/api/v1/configmaps");
  EXPECT_EQ(list["kind"], "ConfigMapList");
  EXPECT_EQ(list["apiVersion"], "v1");
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& item : list["items"]) {
    seen.insert({item["metadata"]["namespace"].get<std::string>(),
                 item["metadata"]["name"].get<std::string>()});
    EXPECT_FALSE(Rv(item).empty());
  }
  EXPECT_EQ(
      seen,
      (std::set<std::pair<std::string, std::string>>{
          {"default", "in-default"}, {"sel", "a"}, {"sel", "b"}, {"sel", "c"}, {"sel", "d"}}));
  EXPECT_EQ(list["metadata"]["resourceVersion"], std::to_string(store_->Revision()));
  // Cluster-scoped: the bootstrap namespaces and "sel".
  json nss = MustGet("/api/v1/namespaces");
  EXPECT_EQ(Names(nss), (V{"default", "kube-node-lease", "kube-public", "kube-system", "sel"}));
}

TEST_F(ListTest, TableOutput) {
  ApiResponse r =
      Call("GET", "/api/v1/namespaces/sel/configmaps?limit=500", "", kJson, kTableAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;as=Table;v=v1;g=meta.k8s.io");
  json t = Parse(r);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_FALSE(t["metadata"].value("resourceVersion", "").empty());
  ASSERT_TRUE(t["columnDefinitions"].is_array());
  ASSERT_FALSE(t["columnDefinitions"].empty());
  EXPECT_EQ(t["columnDefinitions"][0]["name"], "Name");
  for (const auto& col : t["columnDefinitions"]) {
    EXPECT_TRUE(col.contains("type") && col.contains("priority")) << col;
  }
  ASSERT_EQ(t["rows"].size(), 4u);
  std::vector<std::string> names;
  for (const auto& row : t["rows"]) {
    ASSERT_EQ(row["cells"].size(), t["columnDefinitions"].size()) << row;
    names.push_back(row["cells"][0].get<std::string>());
    EXPECT_EQ(row["object"]["kind"], "PartialObjectMetadata");
    EXPECT_EQ(row["object"]["apiVersion"], "meta.k8s.io/v1");
    EXPECT_EQ(row["object"]["metadata"]["name"], row["cells"][0]);
    EXPECT_EQ(row["object"]["metadata"]["namespace"], "sel");
    EXPECT_FALSE(row["object"].contains("data")) << "only metadata in a row by default";
  }
  EXPECT_EQ(names, (V{"a", "b", "c", "d"}));
  // includeObject=Object embeds the whole object.
  r = Call("GET", "/api/v1/namespaces/sel/configmaps?includeObject=Object", "", kJson,
           kTableAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["rows"][0]["object"]["kind"], "ConfigMap");
  EXPECT_EQ(Parse(r)["rows"][0]["object"]["data"]["k"], "v");
  // One object as a Table.
  r = Call("GET", "/api/v1/namespaces/sel/configmaps/a", "", kJson, kTableAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["rows"].size(), 1u);
  EXPECT_EQ(Parse(r)["rows"][0]["cells"][0], "a");
}

TEST_F(HandlerTest, PagingReturnsEveryObjectExactlyOnce) {
  MustCreateNamespace("page");
  MustCreateNamespace("other");
  std::set<std::string> all, even;
  for (int i = 0; i < 25; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "cm-%02d", i);
    json labels = {{"parity", i % 2 == 0 ? "even" : "odd"}};
    MustCreate("/api/v1/namespaces/page/configmaps", ConfigMap(name, labels));
    all.insert(name);
    if (i % 2 == 0) even.insert(name);
    if (i % 5 == 0) MustCreate("/api/v1/namespaces/other/configmaps", ConfigMap(name, labels));
  }
  auto page_through = [&](const std::string& base, int64_t limit, std::vector<size_t>* sizes) {
    std::multiset<std::string> seen;
    std::string cont;
    std::string first_rv;
    for (int pages = 0; pages < 100; ++pages) {
      std::string url = base + (base.find('?') == std::string::npos ? "?" : "&") +
                        "limit=" + std::to_string(limit);
      if (!cont.empty()) url += "&continue=" + Enc(cont);
      ApiResponse r = Call("GET", url);
      EXPECT_EQ(r.code, 200) << r.body;
      if (r.code != 200) break;
      json page = Parse(r);
      EXPECT_LE(static_cast<int64_t>(page["items"].size()), limit);
      sizes->push_back(page["items"].size());
      for (const auto& item : page["items"]) seen.insert(item["metadata"]["name"]);
      if (first_rv.empty()) first_rv = page["metadata"]["resourceVersion"];
      EXPECT_EQ(page["metadata"]["resourceVersion"], first_rv) << "pages report the first's RV";
      cont = page["metadata"].value("continue", "");
      if (cont.empty()) break;
    }
    EXPECT_TRUE(cont.empty()) << "paging never ended";
    return seen;
  };

  std::vector<size_t> sizes;
  std::multiset<std::string> seen = page_through("/api/v1/namespaces/page/configmaps", 7, &sizes);
  EXPECT_EQ(seen, std::multiset<std::string>(all.begin(), all.end()));
  EXPECT_EQ(sizes, (std::vector<size_t>{7, 7, 7, 4}));

  sizes.clear();
  seen = page_through("/api/v1/namespaces/page/configmaps?labelSelector=" + Enc("parity=even"), 4,
                      &sizes);
  EXPECT_EQ(seen, std::multiset<std::string>(even.begin(), even.end()));
  EXPECT_GE(sizes.size(), 4u);  // 13 matches, at most 4 a page

  // Across namespaces: 25 + 5 objects.
  sizes.clear();
  seen = page_through("/api/v1/configmaps", 7, &sizes);
  EXPECT_EQ(seen.size(), 30u);
  for (const auto& name : all)
    EXPECT_EQ(seen.count(name), name.back() == '0' || name.back() == '5' ? 2u : 1u) << name;

  // A continue token is bound to its list.
  json first = MustGet("/api/v1/namespaces/page/configmaps?limit=3");
  std::string token = first["metadata"]["continue"];
  ApiResponse r = Call("GET", "/api/v1/namespaces/other/configmaps?limit=3&continue=" + Enc(token));
  ExpectStatus(r, 400, "BadRequest");
  ExpectStatus(Call("GET", "/api/v1/namespaces/page/configmaps?limit=3&continue=garbage"), 400,
               "BadRequest");
  ExpectStatus(Call("GET", "/api/v1/namespaces/page/configmaps?limit=x"), 400, "BadRequest");
}

// ---------------------------------------------------------------------------
// Delete.

TEST_F(HandlerTest, DeleteReturnsTheObjectThenNotFound) {
  json cm = MustCreate(kCms, ConfigMap("c"));
  ApiResponse r = Call("DELETE", std::string(kCms) + "/c");
  ASSERT_EQ(r.code, 200) << r.body;
  json deleted = Parse(r);
  EXPECT_EQ(deleted["kind"], "ConfigMap");
  EXPECT_EQ(deleted["metadata"]["name"], "c");
  EXPECT_EQ(deleted["metadata"]["uid"], cm["metadata"]["uid"]);
  EXPECT_EQ(deleted["data"], cm["data"]);
  r = Call("GET", std::string(kCms) + "/c");
  ExpectStatus(r, 404, "NotFound");
  json s = Parse(r);
  EXPECT_EQ(s["message"], "configmaps \"c\" not found");
  EXPECT_EQ(s["details"]["name"], "c");
  EXPECT_EQ(s["details"]["kind"], "configmaps");
  ExpectStatus(Call("DELETE", std::string(kCms) + "/c"), 404, "NotFound");
  // Re-created, it is a new object.
  json again = MustCreate(kCms, ConfigMap("c"));
  EXPECT_NE(again["metadata"]["uid"], cm["metadata"]["uid"]);
}

TEST_F(HandlerTest, DeletePreconditions) {
  json cm = MustCreate(kCms, ConfigMap("c"));
  const std::string path = std::string(kCms) + "/c";
  int64_t revision = store_->Revision();
  json wrong_uid = {{"kind", "DeleteOptions"},
                    {"apiVersion", "v1"},
                    {"preconditions", {{"uid", "00000000-0000-4000-8000-000000000000"}}}};
  ApiResponse r = Call("DELETE", path, wrong_uid.dump());
  ExpectStatus(r, 409, "Conflict");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(), HasSubstr("Precondition failed: UID"));
  json wrong_rv = {{"preconditions", {{"resourceVersion", "1"}}}};
  r = Call("DELETE", path, wrong_rv.dump());
  ExpectStatus(r, 409, "Conflict");
  EXPECT_THAT(Parse(r)["message"].get<std::string>(),
              HasSubstr("Precondition failed: ResourceVersion"));
  EXPECT_EQ(store_->Revision(), revision);
  MustGet(path);
  // Bad DeleteOptions.
  ExpectStatus(Call("DELETE", path, "{oops"), 400, "BadRequest");
  ExpectStatus(Call("DELETE", path + "?propagationPolicy=Sometimes"), 422, "Invalid");
  // Matching preconditions delete.
  json right = {{"preconditions", {{"uid", cm["metadata"]["uid"]}, {"resourceVersion", Rv(cm)}}}};
  r = Call("DELETE", path, right.dump());
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", path), 404, "NotFound");
}

TEST_F(HandlerTest, DryRunChangesNothing) {
  int64_t revision = store_->Revision();
  ApiResponse r = Call("POST", std::string(kCms) + "?dryRun=All", ConfigMap("dry").dump());
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(Parse(r)["metadata"]["name"], "dry");
  EXPECT_EQ(store_->Revision(), revision);
  ExpectStatus(Call("GET", std::string(kCms) + "/dry"), 404, "NotFound");
  MustCreate(kCms, ConfigMap("c"));
  revision = store_->Revision();
  r = Call("DELETE", std::string(kCms) + "/c?dryRun=All");
  ASSERT_EQ(r.code, 200) << r.body;
  r = Call("PATCH", std::string(kCms) + "/c?dryRun=All", R"({"data":{"k":"dry"}})", kMerge);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["data"]["k"], "dry");
  EXPECT_EQ(store_->Revision(), revision);
  EXPECT_EQ(MustGet(std::string(kCms) + "/c")["data"]["k"], "v");
}

TEST_F(HandlerTest, FinalizersHoldTheObjectUntilRemoved) {
  json cm = ConfigMap("held");
  cm["metadata"]["finalizers"] = {"example.com/hold", "example.com/other"};
  MustCreate(kCms, cm);
  const std::string path = std::string(kCms) + "/held";
  ApiResponse r = Call("DELETE", path);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_TRUE(Parse(r)["metadata"].contains("deletionTimestamp")) << r.body;
  json got = MustGet(path);
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(got["metadata"]["deletionGracePeriodSeconds"], 0);
  // A second delete changes nothing.
  std::string rv = Rv(got);
  r = Call("DELETE", path);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Rv(MustGet(path)), rv);
  // Clients cannot clear deletionTimestamp.
  json undo = got;
  undo["metadata"].erase("deletionTimestamp");
  undo["metadata"]["finalizers"] = {"example.com/hold"};
  r = Put(path, undo);
  ASSERT_EQ(r.code, 200) << r.body;
  got = Parse(r);
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(got["metadata"]["finalizers"], json({"example.com/hold"}));
  // Removing the last finalizer deletes it.
  r = Patch(path, kMerge, {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", path), 404, "NotFound");
}

TEST_F(HandlerTest, PodsOnANodeAreDeletedGracefullyByTheirAgent) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  auto pod = [](const std::string& name, const std::string& node) {
    json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}};
    if (!node.empty()) p["spec"]["nodeName"] = node;
    return p;
  };
  // Not on a node: nothing to stop, so it goes at once.
  ASSERT_EQ(Call("POST", pods, pod("loose", "").dump()).code, 201);
  ASSERT_EQ(Call("DELETE", pods + "/loose").code, 200);
  ExpectStatus(Call("GET", pods + "/loose"), 404, "NotFound");

  // On a node: marked with the pod's grace period, and kept.
  ASSERT_EQ(Call("POST", pods, pod("bound", "n1").dump()).code, 201);
  ApiResponse r = Call("DELETE", pods + "/bound");
  ASSERT_EQ(r.code, 200) << r.body;
  json got = MustGet(pods + "/bound");
  EXPECT_EQ(got["metadata"]["deletionGracePeriodSeconds"], 30) << got;
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp"));
  // A longer grace period changes nothing, a shorter one shortens it.
  std::string rv = Rv(got);
  ASSERT_EQ(Call("DELETE", pods + "/bound?gracePeriodSeconds=60").code, 200);
  EXPECT_EQ(Rv(MustGet(pods + "/bound")), rv);
  ASSERT_EQ(Call("DELETE", pods + "/bound?gracePeriodSeconds=5").code, 200);
  EXPECT_EQ(MustGet(pods + "/bound")["metadata"]["deletionGracePeriodSeconds"], 5);
  // The agent's grace-0 delete removes it.
  ASSERT_EQ(Call("DELETE", pods + "/bound", json({{"gracePeriodSeconds", 0}}).dump()).code, 200);
  ExpectStatus(Call("GET", pods + "/bound"), 404, "NotFound");

  // A finished pod has nothing to stop either.
  json done = pod("done", "n1");
  ASSERT_EQ(Call("POST", pods, done.dump()).code, 201);
  json st = MustGet(pods + "/done");
  st["status"]["phase"] = "Succeeded";
  ASSERT_EQ(Put(pods + "/done/status", st).code, 200);
  ASSERT_EQ(Call("DELETE", pods + "/done").code, 200);
  ExpectStatus(Call("GET", pods + "/done"), 404, "NotFound");
}

TEST_F(HandlerTest, BindingAssignsAPodToANodeOnce) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}};
  ASSERT_EQ(Call("POST", pods, pod.dump()).code, 201);
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "p"}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n1"}}}};
  ApiResponse r = Call("POST", pods + "/p/binding", binding.dump());
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(Parse(r)["status"], "Success");
  json got = MustGet(pods + "/p");
  EXPECT_EQ(got["spec"]["nodeName"], "n1");
  ASSERT_TRUE(got["status"]["conditions"].is_array());
  EXPECT_EQ(got["status"]["conditions"][0]["type"], "PodScheduled");
  EXPECT_EQ(got["status"]["conditions"][0]["status"], "True");
  // Once bound, for good.
  binding["target"]["name"] = "n2";
  ExpectStatus(Call("POST", pods + "/p/binding", binding.dump()), 409, "Conflict");
  EXPECT_EQ(MustGet(pods + "/p")["spec"]["nodeName"], "n1");
  // Bad input changes nothing.
  binding["target"].erase("name");
  ExpectStatus(Call("POST", pods + "/q/binding", binding.dump()), 422, "Invalid");
  binding["target"]["name"] = "n1";
  ExpectStatus(Call("POST", pods + "/missing/binding", binding.dump()), 404, "NotFound");
  ExpectStatus(Call("GET", pods + "/p/binding"), 405, "MethodNotAllowed");
}

// Cascading deletion is the garbage collector controller's
// (controllers/garbage_collector_test.cc); the delete path only sets the
// finalizers it acts on, as kube-apiserver does.
TEST_F(HandlerTest, OrphanAndForegroundOnlyMarkTheOwnerWithTheirFinalizer) {
  json owner = MustCreate(kStss, StatefulSet("web"));
  json dep = ConfigMap("dep");
  dep["metadata"]["ownerReferences"] = {OwnerRef("StatefulSet", "apps/v1", owner)};
  MustCreate(kCms, dep);
  const std::string path = std::string(kStss) + "/web";
  ApiResponse r = Call("DELETE", path, json({{"propagationPolicy", "Orphan"}}).dump());
  ASSERT_EQ(r.code, 200) << r.body;
  json got = MustGet(path);
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp")) << got;
  EXPECT_EQ(got["metadata"]["finalizers"], json({"orphan"})) << got;
  // Asked again with another policy: the finalizer follows the policy.
  r = Call("DELETE", path + "?propagationPolicy=Foreground");
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(MustGet(path)["metadata"]["finalizers"], json({"foregroundDeletion"}));
  // Without a policy the finalizers stay as they are.
  ASSERT_EQ(Call("DELETE", path).code, 200);
  EXPECT_EQ(MustGet(path)["metadata"]["finalizers"], json({"foregroundDeletion"}));
  EXPECT_EQ(MustGet(std::string(kCms) + "/dep")["metadata"]["ownerReferences"].size(), 1u);
  // Background drops them, and with none left the owner goes.
  r = Call("DELETE", path + "?propagationPolicy=Background");
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", path), 404, "NotFound");
}

TEST_F(HandlerTest, BackgroundDeletesTheOwnerAtOnceAndLeavesDependentsToTheCollector) {
  json owner = MustCreate(kStss, StatefulSet("web"));
  json dep = ConfigMap("dep-1");
  dep["metadata"]["ownerReferences"] = {OwnerRef("StatefulSet", "apps/v1", owner)};
  MustCreate(kCms, dep);
  ApiResponse r = Call("DELETE", std::string(kStss) + "/web?propagationPolicy=Background");
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", std::string(kStss) + "/web"), 404, "NotFound");
  MustGet(std::string(kCms) + "/dep-1");
}

TEST_F(HandlerTest, ForegroundKeepsOtherFinalizersAndWaitsForAll) {
  json sts = StatefulSet("web");
  sts["metadata"]["finalizers"] = {"example.com/hold"};
  MustCreate(kStss, sts);
  const std::string path = std::string(kStss) + "/web";
  ASSERT_EQ(Call("DELETE", path + "?propagationPolicy=Foreground").code, 200);
  EXPECT_EQ(MustGet(path)["metadata"]["finalizers"],
            json({"example.com/hold", "foregroundDeletion"}));
  ApiResponse r = Patch(path, kMerge, {{"metadata", {{"finalizers", {"foregroundDeletion"}}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  MustGet(path);
  r = Patch(path, kMerge, {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", path), 404, "NotFound");
}

TEST_F(HandlerTest, DeleteCollectionDeletesOnlyMatching) {
  MustCreateNamespace("dc");
  const std::string cms = "/api/v1/namespaces/dc/configmaps";
  MustCreate(cms, ConfigMap("a1", {{"app", "a"}}));
  MustCreate(cms, ConfigMap("a2", {{"app", "a"}}));
  MustCreate(cms, ConfigMap("b1", {{"app", "b"}}));
  MustCreate(kCms, ConfigMap("a-elsewhere", {{"app", "a"}}));
  ApiResponse r = Call("DELETE", cms + "?labelSelector=" + Enc("app=a"));
  ASSERT_EQ(r.code, 200) << r.body;
  json deleted = Parse(r);
  EXPECT_EQ(deleted["kind"], "ConfigMapList");
  EXPECT_EQ(Names(deleted), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(Names(MustGet(cms)), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(Names(MustGet(kCms)), (std::vector<std::string>{"a-elsewhere"}));
}

TEST_F(HandlerTest, SystemNamespacesCannotBeDeleted) {
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    ApiResponse r = Call("DELETE", std::string("/api/v1/namespaces/") + ns);
    ExpectStatus(r, 403, "Forbidden");
    EXPECT_EQ(Parse(r)["message"], std::string("namespaces \"") + ns +
                                       "\" is forbidden: this namespace may not be deleted");
    json got = MustGet(std::string("/api/v1/namespaces/") + ns);
    EXPECT_FALSE(got["metadata"].contains("deletionTimestamp"));
    EXPECT_EQ(got["status"]["phase"], "Active");
  }
}

TEST_F(HandlerTest, DeletedNamespaceTerminatesThenDisappearsWithItsContents) {
  MustCreateNamespace("doomed");
  const std::string cms = "/api/v1/namespaces/doomed/configmaps";
  MustCreate(cms, ConfigMap("one"));
  MustCreate(cms, ConfigMap("two"));
  MustCreate("/apis/apps/v1/namespaces/doomed/statefulsets", StatefulSet("web"));
  MustCreate(kCms, ConfigMap("survivor"));

  ApiResponse r = Call("DELETE", "/api/v1/namespaces/doomed");
  ASSERT_EQ(r.code, 200) << r.body;
  json ns = Parse(r);
  EXPECT_EQ(ns["status"]["phase"], "Terminating");
  EXPECT_TRUE(ns["metadata"].contains("deletionTimestamp"));
  json got = MustGet("/api/v1/namespaces/doomed");
  EXPECT_EQ(got["status"]["phase"], "Terminating");
  // No new content while terminating.
  r = Post(cms, ConfigMap("late"));
  ExpectStatus(r, 403, "Forbidden");
  EXPECT_EQ(Parse(r)["message"],
            "unable to create new content in namespace doomed because it is being terminated");

  EXPECT_TRUE(Eventually([&] { return Call("GET", "/api/v1/namespaces/doomed").code == 404; },
                         seconds(15)));
  EXPECT_TRUE(Names(MustGet(cms)).empty());
  EXPECT_TRUE(MustGet("/apis/apps/v1/namespaces/doomed/statefulsets")["items"].empty());
  EXPECT_EQ(Names(MustGet(kCms)), std::vector<std::string>{"survivor"});
  // The name is free again.
  MustCreateNamespace("doomed");
  EXPECT_EQ(MustGet("/api/v1/namespaces/doomed")["status"]["phase"], "Active");
}

// ---------------------------------------------------------------------------
// PriorityClasses and the Priority admission plugin.

constexpr const char* kPcs = "/apis/scheduling.k8s.io/v1/priorityclasses";
constexpr const char* kPods = "/api/v1/namespaces/default/pods";

json PriorityClass(const std::string& name, int64_t value, bool global_default = false) {
  json pc = {{"apiVersion", "scheduling.k8s.io/v1"},
             {"kind", "PriorityClass"},
             {"metadata", {{"name", name}}},
             {"value", value}};
  if (global_default) pc["globalDefault"] = true;
  return pc;
}

json SimplePod(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "host"}}}}}}};
}

TEST_F(HandlerTest, BuiltInPriorityClassesExistAndCannotBeDeleted) {
  json node = MustGet(std::string(kPcs) + "/system-node-critical");
  EXPECT_EQ(node["value"], 2000001000);
  EXPECT_EQ(node["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_EQ(node["description"],
            "Used for system critical pods that must not be moved from their current node.");
  EXPECT_EQ(node["metadata"]["generation"], 1);
  EXPECT_TRUE(node["metadata"].contains("uid"));
  json cluster = MustGet(std::string(kPcs) + "/system-cluster-critical");
  EXPECT_EQ(cluster["value"], 2000000000);

  for (const char* name : {"system-node-critical", "system-cluster-critical"}) {
    for (const char* query : {"", "?dryRun=All"}) {
      ApiResponse r = Call("DELETE", std::string(kPcs) + "/" + name + query);
      ExpectStatus(r, 403, "Forbidden");
      EXPECT_EQ(Parse(r)["message"],
                std::string("priorityclasses.scheduling.k8s.io \"") + name +
                    "\" is forbidden: this is a system priority class and cannot be deleted");
      EXPECT_EQ(Parse(r)["details"]["group"], "scheduling.k8s.io");
      EXPECT_EQ(Parse(r)["details"]["kind"], "priorityclasses");
    }
  }
  // A collection delete takes the user's classes and leaves the built-in ones.
  MustCreate(kPcs, PriorityClass("mine", 5));
  ASSERT_EQ(Call("DELETE", kPcs).code, 200);
  EXPECT_EQ(Names(MustGet(kPcs)),
            (std::vector<std::string>{"system-cluster-critical", "system-node-critical"}));

  // Bootstrap again (a restart) keeps what is there, changes included.
  ASSERT_EQ(Patch(std::string(kPcs) + "/system-node-critical", kMerge,
                  {{"metadata", {{"labels", {{"seen", "yes"}}}}}})
                .code,
            200);
  ASSERT_TRUE(handler_->Bootstrap().ok());
  EXPECT_EQ(MustGet(std::string(kPcs) + "/system-node-critical")["metadata"]["labels"]["seen"],
            "yes");
}

TEST_F(HandlerTest, PriorityClassesAreDefaultedValidatedAndHaveOneDefault) {
  json high = MustCreate(kPcs, PriorityClass("high", 1000));
  EXPECT_EQ(high["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_EQ(high["metadata"]["generation"], 1);
  EXPECT_FALSE(high["metadata"].contains("namespace"));

  ApiResponse r = Post(kPcs, PriorityClass("too-high", 1000000001));
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(Parse(r)["message"],
            "PriorityClass.scheduling.k8s.io \"too-high\" is invalid: value: Forbidden: maximum "
            "allowed value of a user defined priority is 1000000000");
  r = Post(kPcs, PriorityClass("system-mine", 1));
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(Parse(r)["details"]["causes"][0]["field"], "metadata.name");
  // The built-in names are taken.
  ExpectStatus(Post(kPcs, PriorityClass("system-node-critical", 2000001000)), 409, "AlreadyExists");

  MustCreate(kPcs, PriorityClass("everyone", 10, true));
  r = Post(kPcs, PriorityClass("also-default", 20, true));
  ExpectStatus(r, 403, "Forbidden");
  EXPECT_EQ(Parse(r)["message"],
            "priorityclasses.scheduling.k8s.io \"also-default\" is forbidden: PriorityClass "
            "everyone is already marked as default. Only one default can exist");
  r = Patch(std::string(kPcs) + "/high", kMerge, {{"globalDefault", true}});
  ExpectStatus(r, 403, "Forbidden");
  // The default may change its other fields; nobody may change a value.
  r = Patch(std::string(kPcs) + "/everyone", kMerge, {{"description", "the default"}});
  EXPECT_EQ(r.code, 200) << r.body;
  r = Patch(std::string(kPcs) + "/high", kMerge, {{"value", 2000}});
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(Parse(r)["message"],
            "PriorityClass.scheduling.k8s.io \"high\" is invalid: value: Forbidden: may not be "
            "changed in an update.");
  r = Patch(std::string(kPcs) + "/high", kMerge, {{"preemptionPolicy", "Never"}});
  ExpectStatus(r, 422, "Invalid");
}

TEST_F(HandlerTest, PriorityClassTableHasKubernetesColumns) {
  MustCreate(kPcs, PriorityClass("high", 1000, true));
  json t = Parse(Call("GET", kPcs, "", kJson, kTableAccept));
  std::vector<std::string> columns;
  for (const json& c : t["columnDefinitions"]) columns.push_back(c["name"]);
  EXPECT_EQ(columns, (std::vector<std::string>{"Name", "Value", "Global-Default", "Age",
                                               "PreemptionPolicy"}));
  ASSERT_EQ(t["rows"].size(), 3u);
  EXPECT_EQ(t["rows"][0]["cells"][0], "high");
  EXPECT_EQ(t["rows"][0]["cells"][1], 1000);
  EXPECT_EQ(t["rows"][0]["cells"][2], true);
  EXPECT_EQ(t["rows"][0]["cells"][4], "PreemptLowerPriority");
}

TEST_F(HandlerTest, PodPriorityComesFromItsClass) {
  json never = PriorityClass("batch", -5);
  never["preemptionPolicy"] = "Never";
  MustCreate(kPcs, never);
  json pod = SimplePod("batch-job");
  pod["spec"]["priorityClassName"] = "batch";
  json created = MustCreate(kPods, pod);
  EXPECT_EQ(created["spec"]["priority"], -5);
  EXPECT_EQ(created["spec"]["preemptionPolicy"], "Never");

  pod = SimplePod("critical");
  pod["spec"]["priorityClassName"] = "system-cluster-critical";
  EXPECT_EQ(MustCreate(kPods, pod)["spec"]["priority"], 2000000000);

  // No class and no default class: priority 0.
  created = MustCreate(kPods, SimplePod("plain"));
  EXPECT_EQ(created["spec"]["priority"], 0);
  EXPECT_EQ(created["spec"]["preemptionPolicy"], "PreemptLowerPriority");
  EXPECT_FALSE(created["spec"].contains("priorityClassName"));
}

TEST_F(HandlerTest, PodPriorityAdmissionRefusals) {
  json pod = SimplePod("x");
  pod["spec"]["priorityClassName"] = "foo";
  ApiResponse r = Post(kPods, pod);
  ExpectStatus(r, 403, "Forbidden");
  json status = Parse(r);
  EXPECT_EQ(status["message"], "pods \"x\" is forbidden: no PriorityClass with name foo was found");
  EXPECT_EQ(status["details"]["name"], "x");
  EXPECT_EQ(status["details"]["kind"], "pods");
  ExpectStatus(Call("GET", std::string(kPods) + "/x"), 404, "NotFound");
  // A dry run is admitted the same way.
  ExpectStatus(Call("POST", std::string(kPods) + "?dryRun=All", pod.dump()), 403, "Forbidden");

  pod = SimplePod("y");
  pod["spec"]["priority"] = 7;
  r = Post(kPods, pod);
  ExpectStatus(r, 403, "Forbidden");
  EXPECT_EQ(Parse(r)["message"],
            "pods \"y\" is forbidden: the integer value of priority (7) must not be provided in "
            "pod spec; priority admission controller computed 0 from the given PriorityClass "
            "name");
  // Admission comes before validation, as in Kubernetes.
  pod["spec"]["containers"][0].erase("image");
  ExpectStatus(Post(kPods, pod), 403, "Forbidden");
}

TEST_F(HandlerTest, GlobalDefaultClassAppliesToPodsWithoutOne) {
  MustCreate(kPcs, PriorityClass("normal", 100, true));
  json created = MustCreate(kPods, SimplePod("p"));
  EXPECT_EQ(created["spec"]["priorityClassName"], "normal");
  EXPECT_EQ(created["spec"]["priority"], 100);
  // Only new pods: existing ones keep what they got.
  json named = SimplePod("q");
  named["spec"]["priorityClassName"] = "system-node-critical";
  EXPECT_EQ(MustCreate(kPods, named)["spec"]["priority"], 2000001000);
}

TEST_F(HandlerTest, PodPriorityIsKeptAndImmutableOnUpdate) {
  MustCreate(kPcs, PriorityClass("high", 1000));
  json pod = SimplePod("p");
  pod["spec"]["priorityClassName"] = "high";
  json created = MustCreate(kPods, pod);
  // A replace that leaves priority out keeps it.
  json replaced = created;
  replaced["spec"].erase("priority");
  replaced["spec"].erase("preemptionPolicy");
  replaced["metadata"]["labels"] = {{"replaced", "yes"}};
  ApiResponse r = Put(std::string(kPods) + "/p", replaced);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["spec"]["priority"], 1000);
  EXPECT_EQ(Parse(r)["spec"]["preemptionPolicy"], "PreemptLowerPriority");
  // Changing it is refused like any other spec change.
  r = Patch(std::string(kPods) + "/p", kMerge, {{"spec", {{"priority", 5}}}});
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(Parse(r)["details"]["causes"][0]["field"], "spec");
  r = Patch(std::string(kPods) + "/p", kMerge, {{"spec", {{"priorityClassName", "other"}}}});
  ExpectStatus(r, 422, "Invalid");
  EXPECT_EQ(MustGet(std::string(kPods) + "/p")["spec"]["priority"], 1000);
}

// ---------------------------------------------------------------------------
// Discovery.

TEST_F(HandlerTest, LegacyDiscovery) {
  json api = MustGet("/api");
  EXPECT_EQ(api["kind"], "APIVersions");
  EXPECT_EQ(api["versions"], json({"v1"}));
  EXPECT_EQ(api["serverAddressByClientCIDRs"][0]["serverAddress"], "127.0.0.1:6443");

  json apis = MustGet("/apis");
  EXPECT_EQ(apis["kind"], "APIGroupList");
  std::set<std::string> groups;
  for (const auto& g : apis["groups"]) {
    groups.insert(g["name"].get<std::string>());
    EXPECT_EQ(g["preferredVersion"]["groupVersion"], g["name"].get<std::string>() + "/v1");
  }
  EXPECT_TRUE(groups.count("apps"));
  EXPECT_TRUE(groups.count("storage.k8s.io"));
  EXPECT_TRUE(groups.count("coordination.k8s.io"));
  EXPECT_EQ(MustGet("/apis/apps")["kind"], "APIGroup");

  json v1 = MustGet("/api/v1");
  EXPECT_EQ(v1["kind"], "APIResourceList");
  EXPECT_EQ(v1["groupVersion"], "v1");
  json pods;
  for (const auto& r : v1["resources"]) {
    EXPECT_NE(r["name"], "statefulsets") << "statefulsets are in apps/v1";
    if (r["name"] == "pods") pods = r;
  }
  ASSERT_TRUE(pods.is_object()) << v1;
  EXPECT_EQ(pods["shortNames"], json({"po"}));
  EXPECT_EQ(pods["namespaced"], true);
  EXPECT_EQ(pods["kind"], "Pod");
  EXPECT_THAT(pods["verbs"].get<std::vector<std::string>>(), ::testing::Contains("watch"));

  json apps = MustGet("/apis/apps/v1");
  EXPECT_EQ(apps["groupVersion"], "apps/v1");
  json sts, scale;
  for (const auto& r : apps["resources"]) {
    if (r["name"] == "statefulsets") sts = r;
    if (r["name"] == "statefulsets/scale") scale = r;
  }
  ASSERT_TRUE(sts.is_object()) << apps;
  EXPECT_EQ(sts["shortNames"], json({"sts"}));
  ASSERT_TRUE(scale.is_object()) << apps;
  EXPECT_EQ(scale["group"], "autoscaling");
  EXPECT_EQ(scale["version"], "v1");
  EXPECT_EQ(scale["kind"], "Scale");
  ExpectStatus(Call("GET", "/apis/nope/v1"), 404, "NotFound");
  ExpectStatus(Call("POST", "/api", "{}"), 405, "MethodNotAllowed");
}

TEST_F(HandlerTest, AggregatedDiscovery) {
  const std::string accept =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
      "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  ApiResponse r = Call("GET", "/apis", "", kJson, accept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  json list = Parse(r);
  EXPECT_EQ(list["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(list["apiVersion"], "apidiscovery.k8s.io/v2");
  json sts;
  for (const auto& item : list["items"]) {
    EXPECT_NE(item["metadata"]["name"], "") << "the core group is served at /api";
    if (item["metadata"]["name"] != "apps") continue;
    for (const auto& res : item["versions"][0]["resources"]) {
      if (res["resource"] == "statefulsets") sts = res;
    }
  }
  ASSERT_TRUE(sts.is_object()) << r.body;
  EXPECT_EQ(sts["scope"], "Namespaced");
  EXPECT_EQ(sts["responseKind"]["kind"], "StatefulSet");
  bool has_scale = false;
  for (const auto& sub : sts["subresources"]) {
    if (sub["subresource"] == "scale") {
      has_scale = true;
      EXPECT_EQ(sub["responseKind"]["group"], "autoscaling");
      EXPECT_EQ(sub["responseKind"]["kind"], "Scale");
    }
  }
  EXPECT_TRUE(has_scale);

  r = Call("GET", "/api", "", kJson, accept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.content_type, kAggregatedDiscoveryContentType);
  list = Parse(r);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "");
  bool pods = false;
  for (const auto& res : list["items"][0]["versions"][0]["resources"]) {
    if (res["resource"] == "pods") {
      pods = true;
      EXPECT_EQ(res["shortNames"], json({"po"}));
    }
  }
  EXPECT_TRUE(pods);
  // Without the Accept, the legacy documents.
  r = Call("GET", "/apis");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(Parse(r)["kind"], "APIGroupList");
}

TEST_F(HandlerTest, VersionAndOpenApi) {
  json v = MustGet("/version");
  EXPECT_EQ(v["major"], "1");
  EXPECT_EQ(v["minor"], "32");
  EXPECT_THAT(v["gitVersion"].get<std::string>(), StartsWith("v1.32."));

  json index = MustGet("/openapi/v3");
  ASSERT_TRUE(index["paths"].is_object()) << index;
  for (const auto& gv : api::ServedGroupVersions()) {
    std::string key =
        gv.group.empty() ? "api/" + gv.version : "apis/" + gv.group + "/" + gv.version;
    ASSERT_TRUE(index["paths"].contains(key)) << key << " missing from " << index;
    std::string url = index["paths"][key]["serverRelativeURL"];
    EXPECT_THAT(url, StartsWith("/openapi/v3/" + key));
    json doc = MustGet(url);
    EXPECT_TRUE(doc.contains("openapi")) << key;
    EXPECT_TRUE(doc["components"]["schemas"].is_object()) << key;
  }
  ExpectStatus(Call("GET", "/openapi/v3/apis/nope/v1"), 404, "NotFound");
}

// ---------------------------------------------------------------------------
// Watch.

TEST_F(HandlerTest, WatchFromZeroReplaysThenStreams) {
  MustCreate(kCms, ConfigMap("a"));
  MustCreate(kCms, ConfigMap("b"));
  MustCreate("/api/v1/namespaces/kube-system/configmaps", ConfigMap("elsewhere"));
  EventCollector events;
  auto stream = MustWatch(std::string(kCms) + "?watch=1&resourceVersion=0", events);
  ASSERT_NE(stream, nullptr);
  std::string initial;
  for (const auto& line : stream->TakeInitialLines()) initial += line;
  std::vector<json> lines = Lines(initial);
  ASSERT_EQ(lines.size(), 2u) << initial;
  std::vector<std::string> names;
  for (const auto& l : lines) {
    EXPECT_EQ(l["type"], "ADDED");
    EXPECT_EQ(l["object"]["kind"], "ConfigMap");
    names.push_back(l["object"]["metadata"]["name"].get<std::string>());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));

  json c = MustCreate(kCms, ConfigMap("c"));
  MustCreate("/api/v1/namespaces/kube-system/configmaps", ConfigMap("elsewhere-2"));
  MustCreate(kCms, ConfigMap("d"));
  auto got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u) << "only this namespace's events";
  lines = RenderFrom(*stream, got, 0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["type"], "ADDED");
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "c");
  EXPECT_EQ(Rv(lines[0]["object"]), Rv(c));
  EXPECT_EQ(lines[1]["object"]["metadata"]["name"], "d");
}

constexpr const char* kMetadataAccept =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
constexpr const char* kMetadataListAccept =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

// What client-go's metadata informers ask for: every object as its metadata
// alone, in gets, lists and watches.
TEST_F(HandlerTest, MetadataOnlyGetListAndWatch) {
  json a = MustCreate(kCms, ConfigMap("a", {{"app", "x"}}));
  auto expect_metadata_of = [](const json& got, const json& full) {
    EXPECT_EQ(got["kind"], "PartialObjectMetadata") << got;
    EXPECT_EQ(got["apiVersion"], "meta.k8s.io/v1") << got;
    EXPECT_EQ(got["metadata"], full["metadata"]);
    EXPECT_FALSE(got.contains("data")) << got;
  };

  ApiResponse r = Call("GET", std::string(kCms) + "/a", "", kJson, kMetadataAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
  expect_metadata_of(Parse(r), a);

  r = Call("GET", kCms, "", kJson, kMetadataListAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
  json list = Parse(r);
  EXPECT_EQ(list["kind"], "PartialObjectMetadataList");
  EXPECT_EQ(list["apiVersion"], "meta.k8s.io/v1");
  EXPECT_FALSE(list["metadata"].value("resourceVersion", "").empty());
  ASSERT_EQ(list["items"].size(), 1u) << list;
  expect_metadata_of(list["items"][0], a);

  // A list asked for as one PartialObjectMetadata: the plain JSON offered next.
  r = Call("GET", kCms, "", kJson, kMetadataAccept);
  ASSERT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(Parse(r)["kind"], "ConfigMapList");

  // A create's answer in the view asked for.
  r = Call("POST", kCms, ConfigMap("b").dump(), kJson, kMetadataAccept);
  ASSERT_EQ(r.code, 201) << r.body;
  EXPECT_EQ(Parse(r)["kind"], "PartialObjectMetadata");

  EventCollector events;
  ApiRequest req =
      Request("GET", std::string(kCms) + "?watch=1&resourceVersion=0", "", kJson, kMetadataAccept);
  std::string content_type;
  auto stream = handler_->OpenWatch(req, events.Sink(), &content_type);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(content_type, "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
  std::string initial;
  for (const auto& line : (*stream)->TakeInitialLines()) initial += line;
  std::vector<json> lines = Lines(initial);
  ASSERT_EQ(lines.size(), 2u) << initial;
  for (const json& l : lines) EXPECT_EQ(l["object"]["kind"], "PartialObjectMetadata") << l;

  json c = MustCreate(kCms, ConfigMap("c"));
  auto got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  lines = RenderFrom(**stream, got, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["type"], "ADDED");
  expect_metadata_of(lines[0]["object"], c);
  auto object = (*stream)->RenderObject(got[0]);
  ASSERT_TRUE(object.has_value());
  EXPECT_STREQ(object->type, "ADDED");
  EXPECT_EQ(object->object, lines[0]["object"]);
}

TEST_F(HandlerTest, WatchFromARevisionSendsOnlyLaterEvents) {
  json a = MustCreate(kCms, ConfigMap("a"));
  json b = MustCreate(kCms, ConfigMap("b"));
  EventCollector events;
  auto stream = MustWatch(std::string(kCms) + "?watch=true&resourceVersion=" + Rv(a), events);
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->TakeInitialLines().empty());
  ApiResponse r = Patch(std::string(kCms) + "/a", kMerge, {{"data", {{"k", "changed"}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  auto got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  std::vector<json> lines = RenderFrom(*stream, got, 0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["type"], "ADDED");
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "b");
  EXPECT_EQ(Rv(lines[0]["object"]), Rv(b));
  EXPECT_EQ(lines[1]["type"], "MODIFIED");
  EXPECT_EQ(lines[1]["object"]["metadata"]["name"], "a");
  EXPECT_EQ(lines[1]["object"]["data"]["k"], "changed");
  EXPECT_EQ(Rv(lines[1]["object"]), Rv(Parse(r)));
}

TEST_F(HandlerTest, SelectorWatchTurnsMatchChangesIntoAddedAndDeleted) {
  MustCreate(kCms, ConfigMap("leaves", {{"tier", "db"}}));
  MustCreate(kCms, ConfigMap("joins", {{"tier", "web"}}));
  EventCollector events;
  auto stream = MustWatch(
      std::string(kCms) + "?watch=1&resourceVersion=0&labelSelector=" + Enc("tier=db"), events);
  ASSERT_NE(stream, nullptr);
  std::vector<json> initial;
  for (const auto& line : stream->TakeInitialLines()) initial.push_back(json::parse(line));
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0]["object"]["metadata"]["name"], "leaves");

  ASSERT_EQ(
      Patch(std::string(kCms) + "/leaves", kMerge, {{"metadata", {{"labels", {{"tier", "web"}}}}}})
          .code,
      200);
  ASSERT_EQ(
      Patch(std::string(kCms) + "/joins", kMerge, {{"metadata", {{"labels", {{"tier", "db"}}}}}})
          .code,
      200);
  ASSERT_EQ(Patch(std::string(kCms) + "/joins", kMerge, {{"data", {{"k", "2"}}}}).code, 200);
  MustCreate(kCms, ConfigMap("never", {{"tier", "web"}}));
  auto got = events.WaitFor(4);
  ASSERT_EQ(got.size(), 4u);
  std::vector<json> lines = RenderFrom(*stream, got, 0);
  ASSERT_EQ(lines.size(), 3u) << "the non-matching create sends nothing";
  EXPECT_EQ(lines[0]["type"], "DELETED");
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "leaves");
  EXPECT_EQ(lines[1]["type"], "ADDED");
  EXPECT_EQ(lines[1]["object"]["metadata"]["name"], "joins");
  EXPECT_EQ(lines[2]["type"], "MODIFIED");
  EXPECT_EQ(lines[2]["object"]["data"]["k"], "2");
  // The in-process client's path: the same events as objects, not text.
  std::vector<json> objects;
  for (const auto& e : got) {
    if (auto o = stream->RenderObject(e)) {
      objects.push_back({{"type", o->type}, {"object", std::move(o->object)}});
    }
  }
  EXPECT_EQ(objects, lines);
}

TEST_F(HandlerTest, FieldSelectorWatchOnOneName) {
  EventCollector events;
  auto stream =
      MustWatch(std::string(kCms) + "?watch=1&fieldSelector=" + Enc("metadata.name=target") +
                    "&resourceVersion=" + std::to_string(store_->Revision()),
                events);
  ASSERT_NE(stream, nullptr);
  MustCreate(kCms, ConfigMap("noise"));
  MustCreate(kCms, ConfigMap("target"));
  auto got = events.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  std::vector<json> lines = RenderFrom(*stream, got, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "target");
}

TEST_F(HandlerTest, DeleteEventCarriesLastStateAtTheDeleteRevision) {
  MustCreate(kCms, ConfigMap("c", {{"l", "1"}}));
  json last = Parse(Patch(std::string(kCms) + "/c", kMerge, {{"data", {{"k", "final"}}}}));
  EventCollector events;
  auto stream = MustWatch(std::string(kCms) + "?watch=1&resourceVersion=" + Rv(last), events);
  ASSERT_NE(stream, nullptr);
  ApiResponse r = Call("DELETE", std::string(kCms) + "/c");
  ASSERT_EQ(r.code, 200) << r.body;
  auto got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  std::vector<json> lines = RenderFrom(*stream, got, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["type"], "DELETED");
  const json& obj = lines[0]["object"];
  EXPECT_EQ(obj["data"]["k"], "final");
  EXPECT_EQ(obj["metadata"]["labels"]["l"], "1");
  EXPECT_EQ(obj["metadata"]["uid"], last["metadata"]["uid"]);
  EXPECT_GT(std::stoll(Rv(obj)), std::stoll(Rv(last)));
  EXPECT_EQ(Rv(obj), std::to_string(store_->Revision()));
  EXPECT_EQ(Rv(obj), Rv(Parse(r))) << "the DELETE response and the event agree";
}

TEST_F(HandlerTest, BookmarksCarryTheNewestRevision) {
  json a = MustCreate(kCms, ConfigMap("a", {{"x", "y"}}));
  EventCollector events;
  auto stream = MustWatch(std::string(kCms) + "?watch=1&allowWatchBookmarks=true&labelSelector=" +
                              Enc("x=z") + "&resourceVersion=" + Rv(a),
                          events);
  ASSERT_NE(stream, nullptr);
  json b = MustCreate(kCms, ConfigMap("b"));  // does not match: no event line
  auto got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(stream->Render(got[0]), nullptr);
  std::string bookmark = stream->BookmarkLine();
  std::vector<json> lines = Lines(bookmark);
  ASSERT_EQ(lines.size(), 1u) << bookmark;
  EXPECT_EQ(lines[0]["type"], "BOOKMARK");
  EXPECT_EQ(lines[0]["object"]["kind"], "ConfigMap");
  EXPECT_EQ(lines[0]["object"]["apiVersion"], "v1");
  EXPECT_EQ(Rv(lines[0]["object"]), Rv(b));
  EXPECT_EQ(stream->BookmarkLine(), "") << "nothing new since the last bookmark";

  // Without allowWatchBookmarks, never a bookmark.
  EventCollector plain_events;
  auto plain = MustWatch(std::string(kCms) + "?watch=1&resourceVersion=" + Rv(a), plain_events);
  ASSERT_NE(plain, nullptr);
  MustCreate(kCms, ConfigMap("c"));
  auto plain_got = plain_events.WaitFor(2);
  ASSERT_EQ(plain_got.size(), 2u);
  RenderFrom(*plain, plain_got, 0);
  EXPECT_EQ(plain->BookmarkLine(), "");
}

TEST_F(HandlerTest, TableWatchSendsOneRowTables) {
  MustCreate(kCms, ConfigMap("a"));
  EventCollector events;
  ApiRequest req =
      Request("GET", std::string(kCms) + "?watch=1&resourceVersion=0", "", kJson, kTableAccept);
  std::string content_type;
  auto stream = handler_->OpenWatch(req, events.Sink(), &content_type);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(content_type, "application/json;as=Table;v=v1;g=meta.k8s.io");
  std::vector<std::string> initial = (*stream)->TakeInitialLines();
  ASSERT_EQ(initial.size(), 1u);
  json line = json::parse(initial[0]);
  EXPECT_EQ(line["type"], "ADDED");
  EXPECT_EQ(line["object"]["kind"], "Table");
  ASSERT_EQ(line["object"]["rows"].size(), 1u);
  EXPECT_EQ(line["object"]["rows"][0]["cells"][0], "a");
}

TEST_F(HandlerTest, WatchBeforeTheHistoryWindowIsGone) {
  CloseStore();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  OpenStore(/*history_events=*/5);
  json first = MustCreate(kCms, ConfigMap("first"));
  for (int i = 0; i < 10; ++i) MustCreate(kCms, ConfigMap("cm-" + std::to_string(i)));
  EventCollector events;
  ApiRequest req = Request("GET", std::string(kCms) + "?watch=1&resourceVersion=" + Rv(first));
  std::string content_type;
  auto stream = handler_->OpenWatch(req, events.Sink(), &content_type);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), Code::kGone);
  EXPECT_EQ(HttpCode(stream.status().code()), 410);
  EXPECT_THAT(stream.status().message(), StartsWith("too old resource version: " + Rv(first)));
  ApiResponse r = ErrorResponse(stream.status());
  ExpectStatus(r, 410, "Expired");
  // Within the window it works.
  req = Request("GET", std::string(kCms) +
                           "?watch=1&resourceVersion=" + std::to_string(store_->Revision() - 2));
  auto recent = handler_->OpenWatch(req, events.Sink(), &content_type);
  EXPECT_TRUE(recent.ok()) << recent.status().ToString();
}

TEST_F(HandlerTest, WatchFromBeforeARestartIsGone) {
  json a = MustCreate(kCms, ConfigMap("a"));
  MustCreate(kCms, ConfigMap("b"));
  const int64_t revision = store_->Revision();
  CloseStore();
  OpenStore();
  EXPECT_EQ(store_->Revision(), revision);
  EXPECT_EQ(Rv(MustGet(std::string(kCms) + "/a")), Rv(a)) << "resourceVersions survive";
  EventCollector events;
  ApiRequest req = Request("GET", std::string(kCms) + "?watch=1&resourceVersion=" + Rv(a));
  std::string content_type;
  auto stream = handler_->OpenWatch(req, events.Sink(), &content_type);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), Code::kGone);
  EXPECT_THAT(stream.status().message(), HasSubstr("too old resource version"));
  // From the current revision (what a relist returns) it works and streams.
  json list = MustGet(kCms);
  req = Request("GET", std::string(kCms) + "?watch=1&resourceVersion=" +
                           list["metadata"]["resourceVersion"].get<std::string>());
  auto fresh = handler_->OpenWatch(req, events.Sink(), &content_type);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  MustCreate(kCms, ConfigMap("c"));
  auto got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  std::vector<json> lines = RenderFrom(**fresh, got, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["object"]["metadata"]["name"], "c");
}

TEST_F(HandlerTest, WatchOfUnknownResourceOrBadSelectorFails) {
  EventCollector events;
  std::string content_type;
  auto r = handler_->OpenWatch(Request("GET", "/api/v1/namespaces/default/widgets?watch=1"),
                               events.Sink(), &content_type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  r = handler_->OpenWatch(
      Request("GET", std::string(kCms) + "?watch=1&fieldSelector=" + Enc("data.x=y")),
      events.Sink(), &content_type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
  r = handler_->OpenWatch(Request("GET", std::string(kCms) + "?watch=1&resourceVersion=abc"),
                          events.Sink(), &content_type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
}

// ---------------------------------------------------------------------------
// Known server bugs (disabled until fixed).

// BUG: exceptions escape Handle() for wrongly typed fields. handler.cc
// DeleteObject() reads options.value("propagationPolicy", "") and
// options.value("orphanDependents", false), which throw
// nlohmann::type_error for {"propagationPolicy":5} / {"orphanDependents":"yes"};
// PrepareForUpdate() calls meta["name"].get<std::string>() in the name-mismatch
// message, which throws for {"metadata":{"name":5}} on PUT and PATCH; and PUT
// .../statefulsets/web/status accepts {"status":{"replicas":"x"}} (status is
// never validated), after which ToScale()'s obj.value("/status/replicas"_json_pointer,
// int64_t{0}) throws on every GET/PATCH/PUT of /scale. Over HTTP the session
// coroutine dies and curl sees "Empty reply from server" (kubectl: EOF).
// Expected: 400 BadRequest (Kubernetes fails to decode such bodies) and a
// /status write with wrongly typed fields refused (422), never a throw.
TEST_F(HandlerTest, WronglyTypedFieldsAreBadRequestsNotExceptions) {
  MustCreate(kCms, ConfigMap("c"));
  const std::string path = std::string(kCms) + "/c";
  ApiResponse r = Call("DELETE", path, R"({"propagationPolicy":5})");
  EXPECT_EQ(r.code, 400) << r.body;
  r = Call("DELETE", path, R"({"orphanDependents":"yes"})");
  EXPECT_EQ(r.code, 400) << r.body;
  r = Call("PUT", path, R"({"metadata":{"name":5}})");
  EXPECT_TRUE(r.code == 400 || r.code == 422) << r.code << " " << r.body;
  r = Call("PATCH", path, R"({"metadata":{"name":5}})", kMerge);
  EXPECT_TRUE(r.code == 400 || r.code == 422) << r.code << " " << r.body;
  MustGet(path);

  MustCreate(kStss, StatefulSet("web"));
  r = Call("PUT", std::string(kStss) + "/web/status", R"({"status":{"replicas":"x"}})");
  EXPECT_TRUE(r.code == 400 || r.code == 422) << r.code << " " << r.body;
  r = Call("GET", std::string(kStss) + "/web/scale");
  EXPECT_EQ(r.code, 200) << r.body;
}

// BUG: a deeply nested JSON body kills the server process. POST of a
// ConfigMap with "extra": 200000 nested arrays (a 400 KB body, well under the
// 3 MiB limit) overflows the stack in the recursive nlohmann::json copy in
// Handler::Impl::CreateObject (EncodeForStore(obj) takes the object by value;
// dump() and operator== recurse too): SIGSEGV, `kennel server` exits (checked
// over HTTPS with curl). Kubernetes refuses JSON nested deeper than 10000
// levels with 400. Expected: DecodeBody() (and the PATCH and DeleteOptions
// parses) reject excessive nesting with 400 BadRequest. While the bug lives,
// enabling this test crashes the test binary.
TEST_F(HandlerTest, DeeplyNestedBodyIsRejected) {
  const int depth = 200'000;
  std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":)" +
                     std::string(depth, '[') + std::string(depth, ']') + "}";
  ApiResponse r = Call("POST", kCms, body);
  ExpectStatus(r, 400, "BadRequest");
  r = Call("PATCH", std::string(kCms) + "/deep",
           R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}", kMerge);
  EXPECT_EQ(r.code / 100, 4) << r.body;
}

// BUG: a watch on one object's URL (GET .../configmaps/a?watch=1, which
// Kubernetes serves as a watch with fieldSelector metadata.name=a) watches the
// whole collection: Handler::Impl::OpenWatch ignores ri.name and uses
// ListPrefix(info, ns) and the request's selectors only. Expected: only a's
// events (initial ADDED for a alone, no events for b).
TEST_F(HandlerTest, NamedWatchWatchesOnlyThatObject) {
  MustCreate(kCms, ConfigMap("a"));
  MustCreate(kCms, ConfigMap("b"));
  EventCollector events;
  auto stream = MustWatch(std::string(kCms) + "/a?watch=1&resourceVersion=0", events);
  ASSERT_NE(stream, nullptr);
  std::vector<std::string> initial = stream->TakeInitialLines();
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(json::parse(initial[0])["object"]["metadata"]["name"], "a");
  MustCreate(kCms, ConfigMap("c"));
  auto got = events.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(RenderFrom(*stream, got, 0).empty()) << "c is not a";
}

// BUG: cluster-scoped resources are served under a namespace path:
// GET /api/v1/namespaces/default/nodes answers 200 with every Node, and POST
// /api/v1/namespaces/default/nodes creates a (cluster-scoped) Node. Kubernetes
// answers 404 for both. Handler::Impl::Resource() only checks the opposite case
// (a namespaced resource named without a namespace); it should also refuse
// !info.namespaced && !ri.namespace_.empty() (for resources other than
// namespaces themselves).
TEST_F(HandlerTest, ClusterScopedResourcesAreNotFoundUnderANamespace) {
  ExpectStatus(Call("GET", "/api/v1/namespaces/default/nodes"), 404, "NotFound");
  ExpectStatus(Post("/api/v1/namespaces/default/nodes",
                    {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}}),
               404, "NotFound");
  ExpectStatus(Call("GET", "/api/v1/nodes/n1"), 404, "NotFound");
  ExpectStatus(Call("GET", "/apis/storage.k8s.io/v1/namespaces/default/storageclasses"), 404,
               "NotFound");
}

// BUG: namespace finalization leaves behind objects that change while it
// runs. Handler::Impl::DeleteNamespaceContents() deletes each object with the
// mod_revision it read and ignores kConflict ("if (... != Code::kConflict)"), so
// an object updated between the Range and its Delete (e.g. by a controller
// writing status) is skipped, and FinalizeNamespace() then deletes the
// namespace anyway: the object lives on in a namespace that no longer exists.
// Kubernetes' namespace controller keeps deleting until the namespace is empty.
// Expected: the contents re-read and deleted on conflict (or the namespace kept
// until empty).
TEST_F(HandlerTest, NamespaceFinalizationDeletesObjectsChangedMeanwhile) {
  MustCreateNamespace("doomed");
  const std::string cms = "/api/v1/namespaces/doomed/configmaps";
  MustCreate(cms, ConfigMap("a"));
  MustCreate(cms, ConfigMap("b"));
  store::Store* inner = store_.get();
  // Just before finalization deletes its first ConfigMap, "b" is rewritten.
  hooked_ = std::make_unique<HookedStore>(inner, "/registry/configmaps/doomed/", [inner] {
    auto kv = inner->Get("/registry/configmaps/doomed/b");
    ASSERT_TRUE(kv.ok());
    auto updated = store::UpdateSync(*inner, kv->key, kv->value, store::kAnyRevision);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  });
  handler_ =
      std::make_unique<Handler>(hooked_.get(), HandlerOptions{"127.0.0.1:6443", 3 * 1024 * 1024});
  ASSERT_EQ(Call("DELETE", "/api/v1/namespaces/doomed").code, 200);
  ASSERT_TRUE(Eventually([&] { return Call("GET", "/api/v1/namespaces/doomed").code == 404; },
                         seconds(15)));
  json left = MustGet("/api/v1/configmaps?fieldSelector=" + Enc("metadata.namespace=doomed"));
  EXPECT_TRUE(left["items"].empty()) << left.dump();
}

// An owner held by finalizers is deleted once the last one goes; its
// dependents are then the garbage collector's (see
// controllers/garbage_collector_test.cc, DeletesDependentsOfAnOwnerReleasedByItsFinalizers).
TEST_F(HandlerTest, RemovingTheLastFinalizerDeletesTheObject) {
  json sts = StatefulSet("web");
  sts["metadata"]["finalizers"] = {"example.com/hold"};
  MustCreate(kStss, sts);
  ASSERT_EQ(Call("DELETE", std::string(kStss) + "/web").code, 200);
  MustGet(std::string(kStss) + "/web");
  ApiResponse r =
      Patch(std::string(kStss) + "/web", kMerge, {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_EQ(r.code, 200) << r.body;
  ExpectStatus(Call("GET", std::string(kStss) + "/web"), 404, "NotFound");
}

}  // namespace
}  // namespace kennel::apiserver
